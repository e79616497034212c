/**
 * A booted guest on a virt board: the hardware (board, physical memory,
 * harts) and the Linux memory model running on it, with its files.
 */
import { VirtBoard } from '../hw/board.js';
import { SV39, SV48, SV57, type PagingMode } from '../hw/paging.js';
import { Kernel, type Machine } from './kernel.js';
import { defaultKernelProfile, type KernelProfile } from './profile.js';
import { parseCmdline } from './kernel/cmdline.js';
import { startKernel } from './arch/riscv/setup.js';
import { buildVfs, type TreeExtensions } from './fs/tree.js';
import { HotplugOracle } from './drivers/oracle/hotplug_oracle.js';
import type { Vfs } from './fs/vfs.js';
import { startMachine, type QemuCommandLine } from '../hw/monitor/qemu-opts.js';
import type { MachineDevices } from '../hw/devices/machine.js';
import { VirtioBus } from './drivers/virtio/virtio_bus.js';

/** QEMU refused the machine options: `message` is what qemu-system-riscv64 prints. */
export class MachineStartError extends Error {}

export interface SystemOptions {
  /** -m: boot RAM in bytes. */
  ramBytes: bigint;
  /** -smp. */
  smp: number;
  /** -append: the kernel command line. */
  append: string;
  /** -initrd: only its size matters. */
  initrdSize: number;
  profile?: KernelProfile;
  /** Extra entries under /sys/bus (drivers). */
  tree?: TreeExtensions;
  /** QEMU's memory-device options (-m with slots/maxmem, -object, -device), as typed. */
  qemu?: QemuCommandLine;
}

/** set_satp_mode(): the highest mode the CPU offers unless no5lvl / no4lvl say otherwise. */
export function pagingModeFor(append: string): PagingMode {
  const cl = parseCmdline(append);
  if (cl.no4lvl) return SV39;
  if (cl.no5lvl) return SV48;
  return SV57;
}

/** fdt_totalsize() of QEMU 7.2's virt device tree after OpenSBI's fixups (estimate per CPU). */
export function fdtTotalSize(smp: number): number {
  return 5403 + 368 * (smp - 1);
}

export class GuestSystem {
  readonly board: VirtBoard;
  readonly kernel: Kernel;
  readonly vfs: Vfs;
  readonly oracle: HotplugOracle;
  /** QEMU's device side (backends, memory devices, PCIe), when the machine has memory-device options. */
  readonly devices: MachineDevices | undefined;
  readonly virtio: VirtioBus | undefined;

  constructor(opts: SystemOptions) {
    const board = new VirtBoard({ ramBytes: opts.ramBytes, smp: opts.smp });
    this.board = board;
    if (opts.qemu) {
      const started = startMachine(opts.qemu, board.mem);
      if (!started.ok) throw new MachineStartError(started.error.replace(/\n$/, ''));
      this.devices = started.machine;
    }
    const mode = pagingModeFor(opts.append);
    const machine: Machine = {
      mem: board.mem,
      dramBase: BigInt(board.dramBasePfn) << 12n,
      dramSize: opts.ramBytes,
      smp: board.smp,
      setSatpAll: (m, rootPfn) => {
        for (const h of board.harts) h.satp = { mode: m.satpMode, asid: 0, ppn: rootPfn };
      },
      flushTlbAll: () => board.flushAllTlbs(),
    };
    this.kernel = new Kernel(machine, opts.profile ?? defaultKernelProfile(), mode, parseCmdline(opts.append));
    startKernel(this.kernel, { initrdSize: opts.initrdSize, fdtSize: fdtTotalSize(opts.smp) });
    this.oracle = new HotplugOracle(this.kernel);
    if (this.devices) {
      this.virtio = new VirtioBus(this.kernel, this.devices);
      this.virtio.probeAll();
    }
    const virtio = this.virtio;
    this.vfs = buildVfs(this.kernel, this.oracle, virtio ? { sysBus: () => virtio.sysBus() } : opts.tree);
  }
}
