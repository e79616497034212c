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
import { KernelBug } from '../kernel/errno.js';
import { AccessFault } from '../hw/physmem.js';
import { Printk } from '../kernel/kernel/printk.js';
import { runShell } from './shell.js';
import { UsageError, type MachineOptions } from './options.js';
import { KERNEL_PROFILES, type KernelProfile } from '../kernel/profile.js';

export interface LineResult {
  cmd: string;
  stdout: string;
  stderr: string;
  errno: number;
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
  dead = false;
  /** Things the user should know about the machine (printed once at start). */
  readonly notes: string[] = [];

  /**
   * Only the size of -initrd matters to the model; whoever can read files (the command line)
   * finds it, so the session itself needs no file system and runs in a browser too.
   */
  constructor(
    readonly machine: MachineOptions,
    initrdSize = 0,
    /** The kernel build when the caller loaded one from a file; else -kernel names one (or the machine implies it). */
    profile?: KernelProfile,
  ) {
    if (!profile && machine.kernel !== undefined) {
      const named = KERNEL_PROFILES[machine.kernel];
      if (!named)
        throw new UsageError(
          `riscv-hotplug: -kernel ${machine.kernel}: not a kernel profile (${Object.keys(KERNEL_PROFILES).join(', ')}, or a profile file)`,
        );
      profile = named();
    }
    try {
      this.system = new GuestSystem({
        profile,
        ramBytes: machine.ramBytes,
        smp: machine.smp,
        append: machine.append,
        initrdSize,
        qemu: {
          memory: machine.memText,
          smp: machine.smpText,
          objects: machine.objects,
          devices: machine.devices,
        },
      });
    } catch (e) {
      if (e instanceof MachineStartError) throw new UsageError(e.message, 1);
      throw e;
    }
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
    this.system.kernel.log.takeNew();
  }

  /** Executes one script line. Blank and comment-only lines give undefined. */
  execute(line: string): LineResult | undefined {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return undefined;
    const res: LineResult = { cmd: trimmed, stdout: '', stderr: '', errno: 0, kmsg: [] };
    // The model's clock: each command takes a millisecond, so the log's time stamps move on.
    this.system.kernel.log.tick(1_000_000);
    if (this.dead) {
      res.stderr = 'riscv-hotplug: the guest kernel has crashed (see the BUG above); nothing runs any more\n';
      return res;
    }
    try {
      if (trimmed.startsWith('(qemu)')) {
        const cmd = trimmed.slice('(qemu)'.length).trim();
        if (!this.monitor) {
          res.stderr = 'riscv-hotplug: the QEMU monitor is not available in this build\n';
        } else {
          const r = this.monitor.execute(cmd);
          res.stdout = r.output;
          if (/^device_add\s+(driver=)?pc-dimm\b/.test(cmd)) {
            res.stderr =
              'riscv-hotplug: note: QEMU has no DIMM hotplug on RISC-V virt, and without ACPI Linux could not see one anyway; ' +
              'use device_add virtio-mem-pci,...,bus=<a pcie-root-port> or qom-set on an existing virtio-mem device.\n';
          }
        }
      } else {
        const k = this.system.kernel;
        const r = runShell({ vfs: this.system.vfs, dmesg: () => k.log.dmesg() }, trimmed);
        res.stdout = r.stdout;
        res.stderr = r.stderr;
        res.errno = r.errno;
      }
    } catch (e) {
      if (e instanceof AccessFault) {
        // The kernel touched physical memory that does not exist (e.g. onlined memory QEMU never
        // backed): a store/load access fault in S-mode, which the real kernel does not survive.
        this.dead = true;
        const pa = '0x' + (BigInt(e.pfn) << 12n).toString(16).padStart(16, '0');
        this.system.kernel.log.log(
          1,
          `Unable to handle kernel access to physical address ${pa} (access fault): no memory there`,
        );
        this.system.kernel.log.log(0, 'Kernel panic - not syncing: Fatal exception');
        res.stderr = `kernel panic: the kernel accessed physical address ${pa}, where the machine has no memory\n`;
      } else if (e instanceof KernelBug) {
        this.dead = true;
        res.stderr = `kernel BUG: ${e.where}\n`;
      } else {
        throw e;
      }
    }
    // Deferred driver work (virtio-mem retries) finishes before the next command, as the scripts wait for it.
    if (!this.dead) this.system.virtio?.tick();
    res.kmsg = this.system.kernel.log.takeNew().map((r) => Printk.format(r));
    return res;
  }
}
