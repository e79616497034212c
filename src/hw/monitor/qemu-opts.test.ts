import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/support/qemu.js';
import { PhysMem } from '../physmem.js';
import {
  QDict,
  keyvalParse,
  parseDeviceOption,
  parseMachineConfig,
  parseObjectOption,
  parseQemuArgs,
  parseQemuOpts,
  startMachine,
  tdbHash,
} from './qemu-opts.js';

const MiB = 1024n * 1024n;
const GiB = 1024n * MiB;
const HINT =
  'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n';

describe('QemuOpts syntax', () => {
  it('the first value without "=" is the implied option; ",," is a literal comma', () => {
    expect(parseQemuOpts('virtio-mem-pci,id=vm0,memdev=a,,b', 'driver')).toEqual({
      id: 'vm0',
      opts: [
        ['driver', 'virtio-mem-pci'],
        ['memdev', 'a,b'],
      ],
    });
  });

  it('a bare key is a flag, "noKEY" turns it off', () => {
    expect(parseQemuOpts('pc-dimm,prealloc,nodump', 'driver').opts).toEqual([
      ['driver', 'pc-dimm'],
      ['prealloc', 'on'],
      ['dump', 'off'],
    ]);
  });

  it('the id must be an identifier', () => {
    const e = errorOf(() => parseQemuOpts('pc-dimm,id=0x', 'driver'));
    expect(e.message).toBe("Parameter 'id' expects an identifier");
  });

  it('options with a description are checked: unknown name, number, size', () => {
    const desc = [
      { name: 'size', type: 'size' },
      { name: 'slots', type: 'number' },
    ] as const;
    expect(errorOf(() => parseQemuOpts('1G,foo=1', 'size', desc)).message).toBe("Invalid parameter 'foo'");
    expect(errorOf(() => parseQemuOpts('1G,slots=x', 'size', desc)).message).toBe(
      "Parameter 'slots' expects a number",
    );
    const e = errorOf(() => parseQemuOpts('lots', 'size', desc));
    expect([e.message, e.hint]).toEqual(["Parameter 'size' expects a non-negative number below 2^64", HINT]);
  });
});

describe('QDict order of device properties', () => {
  it('tdb_hash as QEMU computes it', () => {
    // Values from QEMU's function compiled with gcc.
    expect(tdbHash('memdev')).toBe(3433654826);
    expect(tdbHash('requested-size')).toBe(3747823019);
    expect(tdbHash('node')).toBe(2851262311);
    expect(tdbHash('block-size')).toBe(134452479);
  });

  it('properties are applied in hash-bucket order, not as typed', () => {
    const d = parseDeviceOption(
      'virtio-mem-pci,requested-size=1G,node=0,block-size=2M,memaddr=0,memdev=m,id=v,bus=rp1',
    );
    expect(d.props.map((p) => p.name)).toEqual(['memdev', 'memaddr', 'block-size', 'node', 'requested-size']);
    expect([d.driver, d.id, d.bus]).toEqual(['virtio-mem-pci', 'v', 'rp1']);
  });

  it('so the first bad property in that order is the one reported', () => {
    const r = startMachine(
      { memory: '2G,maxmem=4G', devices: ['virtio-mem-pci,id=v,requested-size=zz,memdev=nope'] },
      new PhysMem(),
    );
    expect(r.ok ? '' : r.error).toBe(
      "qemu-system-riscv64: -device virtio-mem-pci,id=v,requested-size=zz,memdev=nope: Device 'nope' not found\n",
    );
  });

  it('a key given twice keeps its first place and its last value', () => {
    const q = new QDict();
    q.put('a', '1');
    q.put('b', '2');
    q.put('a', '3');
    expect(q.get('a')).toBe('3');
    expect(q.entries().length).toBe(2);
  });
});

describe('keyval and -object / object_add', () => {
  it('parses the implied qom-type and the members', () => {
    expect(parseObjectOption('memory-backend-ram,id=m,size=1G,merge=off,policy=bind,share=on')).toEqual({
      id: 'm',
      size: GiB,
      merge: false,
      policy: 'bind',
      share: true,
    });
    expect(parseObjectOption('qom-type=memory-backend-ram,id=m,size=512M').size).toBe(512n * MiB);
  });

  it('keyval syntax errors', () => {
    expect(errorOf(() => keyvalParse('memory-backend-ram,id', 'qom-type')).message).toBe(
      "Expected '=' after parameter 'id'",
    );
    expect(errorOf(() => keyvalParse('memory-backend-ram,=x', 'qom-type')).message).toBe(
      "Invalid parameter ''",
    );
  });

  it('QAPI errors: missing members, bad values, unexpected keys', () => {
    expect(errorOf(() => parseObjectOption('id=m,size=1G')).message).toBe("Parameter 'qom-type' is missing");
    expect(errorOf(() => parseObjectOption('memory-backend-ram,size=1G')).message).toBe(
      "Parameter 'id' is missing",
    );
    expect(errorOf(() => parseObjectOption('memory-backend-ram,id=m')).message).toBe(
      "Parameter 'size' is missing",
    );
    expect(errorOf(() => parseObjectOption('memory-backend-rom,id=m')).message).toBe(
      "Parameter 'qom-type' does not accept value 'memory-backend-rom'",
    );
    expect(errorOf(() => parseObjectOption('memory-backend-ram,id=m,size=1G,merge=maybe')).message).toBe(
      "Parameter 'merge' expects 'on' or 'off'",
    );
    expect(errorOf(() => parseObjectOption('memory-backend-ram,id=m,size=1G,policy=fast')).message).toBe(
      "Parameter 'policy' does not accept value 'fast'",
    );
    expect(errorOf(() => parseObjectOption('memory-backend-ram,id=m,size=-1')).message).toBe(
      "Parameter 'size' expects size",
    );
    expect(errorOf(() => parseObjectOption('memory-backend-ram,id=m,size=1G,colour=red')).message).toBe(
      "Parameter 'colour' is unexpected",
    );
  });

  it('real QOM types the model does not have are named as such', () => {
    expect(errorOf(() => parseObjectOption('memory-backend-file,id=m,size=1G')).message).toMatch(
      /not modelled/,
    );
  });
});

describe('the command line (-m, -smp, -object, -device)', () => {
  it('-m SIZE[,slots=N,maxmem=MAX]; a bare number means MiB; rounded to 8 KiB', () => {
    const cfg = (memory: string) => {
      const r = parseMachineConfig({ memory });
      if (!r.ok) throw new Error(r.error);
      return [r.config.ramSize, r.config.maxRamSize, r.config.ramSlots];
    };
    expect(cfg('2G,slots=3,maxmem=8G')).toEqual([2n * GiB, 8n * GiB, 3]);
    expect(cfg('2048')).toEqual([2n * GiB, 2n * GiB, 0]);
    expect(cfg('1.5G')).toEqual([1536n * MiB, 1536n * MiB, 0]);
    expect(cfg('size=4097K')).toEqual([4104n * 1024n, 4104n * 1024n, 0]);
  });

  it('-m errors, with and without location as QEMU prints them', () => {
    const err = (memory: string) => {
      const r = parseMachineConfig({ memory });
      return r.ok ? '' : r.error;
    };
    expect(err('2G,maxmem=1G')).toBe(
      'qemu-system-riscv64: invalid value of maxmem: maximum memory size (0x40000000) must be at least the initial memory size (0x80000000)\n',
    );
    expect(err('2G,slots=2')).toBe('qemu-system-riscv64: slots specified but no max-size\n');
    expect(err('2G,slots=2,maxmem=2G')).toBe(
      'qemu-system-riscv64: invalid value of maxmem: memory slots were specified but maximum memory size (0x80000000) is equal to the initial memory size (0x80000000)\n',
    );
    expect(err('-1')).toBe("qemu-system-riscv64: -m -1: Value '-1' is out of range for parameter 'size'\n");
    expect(err('2G,maxmem=lots')).toBe(
      `qemu-system-riscv64: -m 2G,maxmem=lots: Parameter 'maxmem' expects a non-negative number below 2^64\n${HINT}`,
    );
  });

  it('-smp N, or a topology', () => {
    const smp = (s: string) => {
      const r = parseMachineConfig({ smp: s });
      return r.ok ? r.config.smp : r.error;
    };
    expect(smp('2')).toBe(2);
    expect(smp('sockets=2,cores=2')).toBe(4);
    expect(smp('513')).toBe(
      "qemu-system-riscv64: Invalid SMP CPUs 513. The max CPUs supported by machine 'virt' is 512\n",
    );
    expect(smp('two')).toBe("qemu-system-riscv64: -smp two: Parameter 'cpus' expects a number\n");
  });

  it('-smp refuses what QEMU refuses: zeros (10.2) and a topology that does not multiply out', () => {
    const r10 = (s: string) => {
      const r = parseMachineConfig({ smp: s, memory: '2G,maxmem=4G' });
      return r.ok ? r.config.smp : r.error;
    };
    expect(r10('0')).toBe(
      'qemu-system-riscv64: Invalid CPU topology: CPU topology parameters must be greater than zero\n',
    );
    expect(r10('3,sockets=2')).toBe(
      'qemu-system-riscv64: Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * cores (1) * threads (1) != maxcpus (3)\n',
    );
    expect(r10('4,maxcpus=2')).toMatch(/maxcpus must be equal to or greater than smp/);
    expect(r10('2,dies=2')).toBe(
      "qemu-system-riscv64: dies > 1 not supported by this machine's CPU topology\n",
    );
    // QEMU 7.2 (no memory devices) only warns about a zero and takes it as omitted: one CPU.
    const r72 = parseMachineConfig({ smp: '0' });
    expect(r72.ok && r72.config.smp).toBe(1);
    expect(r72.ok && r72.warnings).toEqual([
      'qemu-system-riscv64: warning: Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero',
    ]);
    const bad72 = parseMachineConfig({ smp: '3,sockets=2' });
    expect(bad72.ok).toBe(false);
  });

  it('picks its options out of a qemu-system argument list', () => {
    const r = parseQemuArgs([
      '-M',
      'virt',
      '-m',
      '2G,maxmem=8G',
      '-smp',
      '2',
      '-append',
      'console=ttyS0',
      '-object',
      'memory-backend-ram,id=vmem0,size=4G',
      '-device',
      'virtio-mem-pci,id=vm0,memdev=vmem0,node=0',
    ]);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.objects.map((o) => o.options.id)).toEqual(['vmem0']);
      expect(r.config.devices.map((d) => [d.driver, d.id])).toEqual([['virtio-mem-pci', 'vm0']]);
    }
  });

  it('an -object syntax error is reported with its location before any machine error', () => {
    const r = parseMachineConfig({ memory: '2G,maxmem=1G', objects: ['memory-backend-ram,id=x'] });
    expect(r.ok ? '' : r.error).toBe(
      "qemu-system-riscv64: -object memory-backend-ram,id=x: Parameter 'size' is missing\n",
    );
  });
});
