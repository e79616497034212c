/**
 * Replays the monitor commands of the virtio-mem oracle recordings and
 * compares every reply byte for byte. Where a reply depends on the guest
 * (how much the driver plugged), a stand-in driver does what Linux's
 * virtio_mem driver achieves: plug towards requested-size inside the usable
 * region, unplug from the top when it shrinks.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VIRT_DRAM_BASE_PFN, VIRT_RAM_REGION } from '../board.js';
import { QemuError } from '../devices/qemu-error.js';
import type { MachineDevices } from '../devices/machine.js';
import type { VirtioMem } from '../devices/virtio-mem.js';
import { PhysMem } from '../physmem.js';
import { Monitor } from './hmp.js';
import { startMachine } from './qemu-opts.js';
import { JsonVisitor, parseJson } from './visitors.js';

interface Block {
  readonly kind: 'hmp' | 'qmp';
  readonly cmd: string;
  readonly reply: string;
  readonly rc: number;
}

interface Fixture {
  readonly args: string[];
  readonly blocks: Block[];
}

function shellSplit(s: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2]!);
  return out;
}

function loadFixture(name: string): Fixture {
  const path = fileURLToPath(new URL(`../../../test/fixtures/hmp/${name}.txt`, import.meta.url));
  const lines = readFileSync(path, 'utf8').split('\n');
  const command = lines.find((l) => l.startsWith('### command: '))!;
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const b = /^=== BEGIN (hmp|qmp) (.*) ===$/.exec(lines[i]!);
    if (!b) continue;
    const body: string[] = [];
    let j = i + 1;
    let end: RegExpExecArray | null = null;
    for (; j < lines.length; j++) {
      end = /^=== END (hmp|qmp) (.*) rc=(\d+) ===$/.exec(lines[j]!);
      if (end && end[2] === b[2]) break;
      body.push(lines[j]!);
    }
    blocks.push({
      kind: b[1] as 'hmp' | 'qmp',
      cmd: b[2]!,
      reply: body.length ? `${body.join('\n')}\n` : '',
      rc: Number(end![3]),
    });
    i = j;
  }
  return { args: shellSplit(command.slice('### command: '.length)), blocks };
}

/** The outcome of Linux's virtio_mem driver, block by block. */
function attachGreedyDriver(machine: MachineDevices): void {
  const sync = (vm: VirtioMem) => {
    const bs = vm.blockSize;
    const blocks = vm.bitmapSize;
    while (vm.size < vm.requestedSize) {
      let i = 0;
      while (i < blocks && vm.isBlockPlugged(i)) i++;
      if (i >= blocks) break;
      if (vm.request({ type: 'plug', addr: vm.addr + BigInt(i) * bs, nbBlocks: 1 }).type !== 'ack') break;
    }
    for (let i = blocks - 1; i >= 0 && vm.size > vm.requestedSize; i--) {
      if (vm.isBlockPlugged(i)) vm.request({ type: 'unplug', addr: vm.addr + BigInt(i) * bs, nbBlocks: 1 });
    }
  };
  const attach = (vm: VirtioMem) => {
    vm.onConfigChange(sync);
    sync(vm);
  };
  for (const d of machine.virtioMemDevices()) attach(d.vdev);
  machine.setHotplugListener({ onDeviceAdded: (d) => attach(d.vdev) });
}

function boot(f: Fixture): { machine: MachineDevices; monitor: Monitor } {
  const arg = (flag: string) => f.args.flatMap((a, i) => (a === flag ? [f.args[i + 1]!] : []));
  const physmem = new PhysMem();
  const memory = arg('-m')[0]!;
  const r = startMachine(
    { memory, smp: arg('-smp')[0], objects: arg('-object'), devices: arg('-device') },
    physmem,
  );
  if (!r.ok) throw new Error(r.error);
  physmem.addRegion({
    name: VIRT_RAM_REGION,
    kind: 'ram',
    basePfn: VIRT_DRAM_BASE_PFN,
    pages: Number(r.config.ramSize >> 12n),
  });
  attachGreedyDriver(r.machine);
  return { machine: r.machine, monitor: new Monitor(r.machine) };
}

/** QMP qom-set/qom-get as the recordings show them (the monitor only speaks HMP). */
function qmp(machine: MachineDevices, cmd: string): string {
  const req = JSON.parse(cmd) as {
    execute: string;
    arguments: { path: string; property: string; value?: unknown };
  };
  const a = req.arguments;
  try {
    if (req.execute === 'qom-set') {
      machine.qomSet(a.path, a.property, new JsonVisitor(parseJson(JSON.stringify(a.value))));
      return '{"return": {}}';
    }
    return `{"return": ${String(machine.qomGet(a.path, a.property))}}`;
  } catch (e) {
    if (!(e instanceof QemuError)) throw e;
    return `{"error": {"class": "${e.errorClass}", "desc": "${e.message}"}}`;
  }
}

/** Monitor commands the model does not implement (their replies depend on PCI BARs the guest assigned). */
const NOT_MODELLED = new Set(['info pci']);

for (const name of ['vmem-d-bad-inputs.sv48', 'vmem-a-movable.sv57']) {
  describe(`monitor replies of ${name}`, () => {
    const fixture = loadFixture(name);
    const { machine, monitor } = boot(fixture);
    fixture.blocks.forEach((b, n) => {
      const skip = b.kind === 'hmp' ? NOT_MODELLED.has(b.cmd) : !/"execute":"qom-(set|get)"/.test(b.cmd);
      it.skipIf(skip)(`#${n + 1} ${b.kind} ${b.cmd}`, () => {
        if (b.kind === 'hmp') {
          const r = monitor.execute(b.cmd);
          expect(r.output).toBe(b.reply);
          expect(r.ok).toBe(b.rc === 0);
        } else {
          expect(`${qmp(machine, b.cmd)}\n`).toBe(b.reply);
        }
      });
    });
  });
}
