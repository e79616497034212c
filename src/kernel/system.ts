/**
 * A booted guest on a virt board: the hardware (board, physical memory,
 * harts) and the Linux memory model running on it, with its files.
 */
import { VirtBoard } from '../hw/board.js';
import { modeVpn } from '../hw/mmu.js';
import { SV39, SV48, SV57, type PagingMode } from '../hw/paging.js';
import { Kernel, type Machine } from './kernel.js';
import { defaultKernelProfile, virtioKernelProfile, type KernelProfile } from './profile.js';
import { parseCmdline } from './kernel/cmdline.js';
import { startKernel } from './init/main.js';
import { riscv612 } from './arch/riscv/index.js';
import type { ArchOps } from './arch/arch_ops.js';
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
  /** The architecture code the kernel is built with (default: riscv 6.12 as recorded). */
  arch?: ArchOps;
}

/** set_satp_mode(): the highest mode the CPU offers unless no5lvl / no4lvl say otherwise. */
export function pagingModeFor(append: string): PagingMode {
  const cl = parseCmdline(append);
  if (cl.no4lvl) return SV39;
  if (cl.no5lvl) return SV48;
  return SV57;
}

/** fdt_totalsize() of the virt device tree after OpenSBI's fixups: the profile's, or QEMU 7.2's estimate per CPU. */
export function fdtTotalSize(profile: KernelProfile, smp: number): number {
  const given = profile.bootEnvironment.fdtTotalSize;
  return given !== undefined ? Number(given) : 5403 + 368 * (smp - 1);
}

/**
 * The kernel build and QEMU a machine implies: memory devices (-object/-device, or maxmem above
 * the RAM size) need QEMU 10 with the RISC-V memory-device hotplug patch and a kernel with PCI and
 * virtio-mem; otherwise it is the QEMU 7.2 machine and the plain build the recordings used.
 */
export function profileForMachine(qemu: QemuCommandLine | undefined, ramBytes: bigint): KernelProfile {
  if (!qemu) return defaultKernelProfile();
  const hasDevices = (qemu.objects?.length ?? 0) > 0 || (qemu.devices?.length ?? 0) > 0;
  const maxmem = /(?:^|,)maxmem=([^,]+)/.exec(qemu.memory ?? '');
  let hotplugWindow = false;
  if (maxmem) {
    try {
      hotplugWindow = parseSizeLoose(maxmem[1]!) > ramBytes;
    } catch {
      hotplugWindow = false;
    }
  }
  return hasDevices || hotplugWindow ? virtioKernelProfile() : defaultKernelProfile();
}

function parseSizeLoose(text: string): bigint {
  const m = /^(\d+)([kmgtpe]?)$/i.exec(text.trim());
  if (!m) throw new Error('size');
  const shift: Record<string, bigint> = { '': 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };
  return BigInt(m[1]!) << shift[m[2]!.toLowerCase()]!;
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
      flushTlbRange: (startVpn, endVpn) => {
        // A leaf is dropped by an sfence.vma of any address in it; a range this long is a full flush.
        if (endVpn - startVpn > 512) board.flushAllTlbs();
        else for (let vpn = startVpn; vpn < endVpn; vpn++) board.sfenceVmaAll(modeVpn(mode, vpn));
      },
    };
    const profile = opts.profile ?? profileForMachine(opts.qemu, opts.ramBytes);
    this.kernel = new Kernel(machine, profile, mode, parseCmdline(opts.append), opts.arch ?? riscv612);
    startKernel(this.kernel, { initrdSize: opts.initrdSize, fdtSize: fdtTotalSize(profile, opts.smp) });
    this.oracle = new HotplugOracle(this.kernel);
    if (this.devices) {
      this.virtio = new VirtioBus(this.kernel, this.devices, opts.ramBytes);
      this.virtio.probeAll();
    }
    const virtio = this.virtio;
    this.vfs = buildVfs(this.kernel, this.oracle, virtio ? { sysBus: () => virtio.sysBus() } : opts.tree);
  }
}
