/**
 * A session: one booted guest with its shell and (when devices are modelled)
 * the QEMU monitor, executing script lines one at a time. The command line,
 * the interactive prompt and the web view all drive a model through this.
 */
import { GuestSystem, MachineStartError } from '../kernel/system.js';
import { Monitor } from '../hw/monitor/hmp.js';
import { PCDIMMDevice } from '../hw/devices/pc-dimm.js';
import { gva2gpa, infoMem } from '../hw/monitor/info-mem.js';
import { PAGING_MODES, type PagingMode } from '../hw/paging.js';
import { KernelBug, KernelOops } from '../kernel/errno.js';
import { strategyByName } from '../kernel/arch/strategies.js';
import { AccessFault } from '../hw/physmem.js';
import { Printk } from '../kernel/kernel/printk.js';
import { newShellState, runShell, type ShellState } from './shell.js';
import { UsageError, type MachineOptions } from './options.js';
import { KERNEL_PROFILES, type KernelProfile } from '../kernel/profile.js';
import { bootFault, deviceWindowNotes, resolveMachine } from './machine-check.js';
import { forgetAllocations, workloadCommands } from './workload-cmd.js';
import { ptwalkCommand } from './ptwalk-cmd.js';
import { explainOffline, explainVirtioMem, parseOfflineFailure } from './explain.js';
import type { CommandFn } from './shell.js';
import { raceCommand } from './race-cmd.js';
import { NthAllocationFails } from '../check/faults.js';
import type { FailAlloc } from './options.js';

export interface LineResult {
  cmd: string;
  stdout: string;
  stderr: string;
  errno: number;
  /** The exit status of a guest command (0 when it worked); 1 for a monitor command that failed. */
  status: number;
  /** Kernel log lines the command caused, as the serial console shows them. */
  kmsg: string[];
}

export interface MonitorLike {
  execute(line: string): { output: string; ok: boolean };
}

export class KernelPanic extends Error {}

export class Session {
  readonly system: GuestSystem;
  monitor: MonitorLike | undefined;
  /** How the guest kernel died (the machine runs nothing after), or undefined while it lives. */
  death: 'panic' | 'oops' | 'BUG' | undefined;

  get dead(): boolean {
    return this.death !== undefined;
  }
  /** The monitor's quit ended QEMU: nothing after it runs. */
  quit = false;
  /** The guest shell's working directory and variables, kept from line to line. */
  readonly shell: ShellState = newShellState();
  /** Things the user should know about the machine (printed once at start). */
  readonly notes: string[] = [];

  /**
   * Only the size of -initrd matters to the model; whoever can read files (the command line)
   * finds it, so the session itself needs no file system and runs in a browser too.
   */
  /** The machine as QEMU understood the options (e.g. -m 0 is QEMU's default size). */
  readonly machine: MachineOptions;

  constructor(
    given: MachineOptions,
    initrdSize = 0,
    /** The kernel build when the caller loaded one from a file; else -kernel names one (or the machine implies it). */
    profile?: KernelProfile,
    /**
     * A guest already booted (or restored to just after boot) from these options: the session runs
     * on it instead of booting its own, and starts with no workload allocations of its own.
     */
    booted?: GuestSystem,
  ) {
    const machine = resolveMachine(given, this.notes);
    this.machine = machine;
    if (!profile && machine.kernel !== undefined) {
      const named = KERNEL_PROFILES[machine.kernel];
      if (!named)
        throw new UsageError(
          `riscv-hotplug: -kernel ${machine.kernel}: not a kernel profile (${Object.keys(KERNEL_PROFILES).join(', ')}, or a profile file)`,
        );
      profile = named();
    }
    if (booted) {
      this.system = booted;
      forgetAllocations(booted);
    } else
      try {
        this.system = new GuestSystem({
          profile,
          ramBytes: machine.ramBytes,
          smp: machine.smp,
          append: machine.append,
          initrdSize,
          arch: strategyByName(machine.strategy),
          qemu: {
            memory: machine.memText,
            smp: machine.smpText,
            objects: machine.objects,
            devices: machine.devices,
          },
        });
      } catch (e) {
        if (e instanceof MachineStartError) throw new UsageError(e.message, 1);
        if (e instanceof AccessFault) throw bootFault(machine, e);
        throw e;
      }
    this.notes.push(...deviceWindowNotes(this.system));
    for (const d of this.system.devices?.devices() ?? []) {
      if (d instanceof PCDIMMDevice && !d.guestVisible) {
        this.notes.push(
          `riscv-hotplug: note: pc-dimm '${d.id ?? '(anonymous)'}' is not visible to the guest: the RISC-V virt board has no ACPI, so Linux never learns ` +
            'about DIMMs. Use -device virtio-mem-pci (or the test driver: echo START SIZE > /sys/kernel/debug/hotplug_oracle/add).',
        );
      }
    }
    if (this.system.devices) {
      const board = this.system.board;
      const hart0 = (): { mode: PagingMode | undefined; ppn: number } => {
        const satp = board.hart(0).satp;
        return { mode: satp.mode === 0 ? undefined : PAGING_MODES[satp.mode - 8], ppn: satp.ppn };
      };
      this.monitor = new Monitor(this.system.devices, {
        gva2gpa: (va) => {
          const h = hart0();
          return gva2gpa(board.mem, h.mode, h.ppn, va);
        },
        memInfo: () => {
          const h = hart0();
          return infoMem(board.mem, h.mode, h.ppn);
        },
      });
    }
    this.commands = { ...workloadCommands(this.system), ptwalk: ptwalkCommand, race: raceCommand(this.system) };
    this.system.kernel.log.takeNew();
  }

  /** The model's own guest commands (workload, memhog, ptwalk). */
  private readonly commands: Record<string, CommandFn>;

  private injector: NthAllocationFails | undefined;
  private reportedFailures = 0;
  /** Lines executed so far (blank ones too), to say where an injected failure hit. */
  private lineNo = 0;

  /** Arms fault injection: run-time page allocations from now on are counted, and fail as asked. */
  failAllocations(f: FailAlloc): void {
    this.injector = new NthAllocationFails(f.n, f.fromThenOn);
    this.system.kernel.faults = this.injector;
  }

  /** Executes one script line. Blank and comment-only lines give undefined. */
  execute(line: string): LineResult | undefined {
    this.lineNo++;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return undefined;
    const res: LineResult = { cmd: trimmed, stdout: '', stderr: '', errno: 0, status: 0, kmsg: [] };
    /** Plain-words reasons for a failure this line caused, printed after its own output. */
    const why: string[] = [];
    // The model's clock: each command takes a millisecond, so the log's time stamps move on.
    this.system.kernel.log.tick(1_000_000);
    // The checker explains violations with the leaves this command's teardowns cleared.
    this.system.kernel.clearedLeaves = [];
    this.system.kernel.raceFindings = [];
    if (this.dead) {
      res.stderr =
        'riscv-hotplug: the guest kernel has crashed (see the oops or BUG above); nothing runs any more\n';
      return res;
    }
    // offline_pages() records why it failed; a fresh record means this line (or the driver work it
    // started) failed to offline something.
    const kernel = this.system.kernel;
    const failureBefore = kernel.lastOfflineFailure;
    kernel.lastOfflineFailure = '';
    try {
      if (trimmed.startsWith('(qemu)')) {
        const cmd = trimmed.slice('(qemu)'.length).trim();
        if (/^(quit|q)$/.test(cmd)) {
          this.quit = true;
        } else if (!this.monitor) {
          res.stderr = 'riscv-hotplug: the QEMU monitor is not available in this build\n';
        } else {
          const r = this.monitor.execute(cmd);
          res.stdout = r.output;
          const added = /^device_add\s.*\bid=([^,\s]+)/.exec(cmd);
          if (added && r.ok) why.push(...deviceWindowNotes(this.system, new Set([added[1]])));
          res.status = r.ok ? 0 : 1;
          if (/^device_add\s+(driver=)?pc-dimm\b/.test(cmd)) {
            res.stderr =
              'riscv-hotplug: note: QEMU has no DIMM hotplug on RISC-V virt, and without ACPI Linux could not see one anyway; ' +
              'use device_add virtio-mem-pci,...,bus=<a pcie-root-port> or qom-set on an existing virtio-mem device.\n';
          }
        }
      } else {
        const k = this.system.kernel;
        const r = runShell(
          { vfs: this.system.vfs, dmesg: () => k.log.dmesg(), state: this.shell, commands: this.commands },
          trimmed,
        );
        res.stdout = r.stdout;
        res.stderr = r.stderr;
        res.errno = r.errno;
        res.status = r.status;
      }
    } catch (e) {
      res.stderr = this.crash(e);
    }
    // Deferred driver work (virtio-mem retries) finishes before the next command, as the scripts wait for it.
    if (!this.dead) this.system.virtio?.tick();
    const failure = parseOfflineFailure(kernel.lastOfflineFailure);
    if (failure && !this.dead)
      why.push(...explainOffline(this.system, failure.start, failure.end, failure.reason));
    else if (kernel.lastOfflineFailure === '') kernel.lastOfflineFailure = failureBefore;
    if (!this.dead && /^\(qemu\)\s*qom-set\s+\S+\s+requested-size\b/.test(trimmed))
      why.push(...explainVirtioMem(this.system));
    if (why.length) res.stderr += why.join('\n') + '\n';
    const inj = this.injector;
    if (inj && inj.count >= inj.n && this.reportedFailures === 0) {
      this.reportedFailures++;
      const flag = inj.fromThenOn ? '--fail-alloc-after' : '--fail-alloc';
      res.stderr += `riscv-hotplug: ${flag}: page allocation #${inj.n} failed (line ${this.lineNo}: ${trimmed})${inj.fromThenOn ? ', and every later one fails' : ''}\n`;
    }
    res.kmsg = this.system.kernel.log.takeNew().map((r) => Printk.format(r));
    return res;
  }

  /**
   * What an exception out of the model does to the machine: an access fault or a kernel BUG kills
   * the guest (the log says why) and gives the console's text; anything else is the model's own
   * bug and is rethrown. Shared by script lines and the FUSE mount's writes.
   */
  crash(e: unknown): string {
    if (e instanceof AccessFault) {
      // The kernel touched physical memory that does not exist (e.g. onlined memory QEMU never
      // backed): a store/load access fault in S-mode, which the real kernel does not survive.
      this.death = 'panic';
      const pa = '0x' + (BigInt(e.pfn) << 12n).toString(16).padStart(16, '0');
      this.system.kernel.log.log(
        1,
        `Unable to handle kernel access to physical address ${pa} (access fault): no memory there`,
      );
      this.system.kernel.log.log(0, 'Kernel panic - not syncing: Fatal exception');
      return `kernel panic: the kernel accessed physical address ${pa}, where the machine has no memory\n`;
    }
    if (e instanceof KernelOops) {
      // A kernel-mode page fault: the oops, then the panic, as the real kernel prints them.
      this.death = 'oops';
      for (const l of e.logLines()) this.system.kernel.log.log(l.startsWith('Kernel panic') ? 0 : 1, l);
      return `kernel oops: ${e.where}\n`;
    }
    if (e instanceof KernelBug) {
      this.death = 'BUG';
      return `kernel BUG: ${e.where}\n`;
    }
    throw e;
  }
}
