/**
 * What QEMU decides about the machine before the guest runs, and what the
 * user should hear about it: the RAM size and CPU count as QEMU's own parser
 * reads -m and -smp (with its warnings and refusals), whether the kernel
 * image fits in RAM, and device memory that collides with the PCIe window.
 */
import { parseMachineConfig } from '../hw/monitor/qemu-opts.js';
import type { AccessFault } from '../hw/physmem.js';
import { VIRT_DRAM_BASE } from '../hw/board.js';
import { profileForMachine, type GuestSystem } from '../kernel/system.js';
import { UsageError, type MachineOptions } from './options.js';

const GiB = 1n << 30n;
/** VIRT64_HIGH_PCIE_MMIO_SIZE: the virt board's 64-bit PCIe window. */
const HIGH_PCIE_MMIO_SIZE = 16n * GiB;

const hex = (v: bigint): string => v.toString(16);

/**
 * The options as QEMU reads them. QEMU's parser has the last word: `-m 0` is
 * its default RAM size, `-smp 0` a warning (7.2) or an error (10.2). A refusal
 * is QEMU's message with exit status 1; warnings go to `notes`.
 */
export function resolveMachine(given: MachineOptions, notes: string[]): MachineOptions {
  const parsed = parseMachineConfig({
    memory: given.memText,
    smp: given.smpText,
    objects: given.objects,
    devices: given.devices,
  });
  if (!parsed.ok) throw new UsageError(parsed.error.replace(/\n$/, ''), 1);
  notes.push(...parsed.warnings);
  const c = parsed.config;
  const machine: MachineOptions = {
    ...given,
    ramBytes: c.ramSize,
    maxmem: c.maxRamSize,
    slots: c.ramSlots,
    smp: c.smp,
  };
  const profile = profileForMachine(
    { memory: given.memText, smp: given.smpText, objects: given.objects, devices: given.devices },
    machine.ramBytes,
  );
  // riscv_load_kernel(): a raw Image loads only if the file fits in ram_size (its .bss is not in the file).
  const imageFile = profile.symbols.__bss_start - profile.symbols._start;
  if (imageFile > machine.ramBytes)
    throw new UsageError("qemu-system-riscv64: could not load kernel 'Image'", 1);
  return machine;
}

/**
 * The kernel touched memory that is not there while booting: with RAM smaller
 * than the image and its .bss, the first thing it does (clearing .bss) faults
 * before any message, and the real guest hangs silently.
 */
export function bootFault(machine: MachineOptions, e: AccessFault): UsageError {
  const ramEnd = VIRT_DRAM_BASE + machine.ramBytes;
  const pa = BigInt(e.pfn) << 12n;
  return new UsageError(
    `riscv-hotplug: the guest kernel dies before its first message: it needs memory at 0x${hex(pa)} (its image and .bss), ` +
      `beyond the end of RAM at 0x${hex(ramEnd)}; the real guest hangs silently. Give it more RAM (-m 64M or more).`,
    3,
  );
}

/**
 * QEMU's virt board puts its 64-bit PCIe window at the first 16 GiB boundary
 * above boot RAM (virt_machine_init), and the 2024 memory-hotplug patch does
 * not move it when device memory (maxmem - RAM, from the next 1 GiB boundary)
 * reaches past it. The window's alias is mapped over that RAM, and Linux's
 * host bridge claims the window first, so virtio-mem cannot reserve a region
 * that reaches into it. Say so for each such device (QEMU does not).
 */
export function deviceWindowNotes(system: GuestSystem, only?: ReadonlySet<string | undefined>): string[] {
  const devs = system.devices;
  if (!devs?.deviceMemory) return [];
  const ramEnd = VIRT_DRAM_BASE + devs.ramSize;
  const window = ((ramEnd + HIGH_PCIE_MMIO_SIZE - 1n) / HIGH_PCIE_MMIO_SIZE) * HIGH_PCIE_MMIO_SIZE;
  const notes: string[] = [];
  for (const d of devs.virtioMemDevices()) {
    if (only && !only.has(d.id)) continue;
    const info = d.fillDeviceInfo();
    if (info.type !== 'virtio-mem') continue;
    const end = info.data.memaddr + info.data.maxSize;
    if (end <= window) continue;
    const err = system.virtio?.probeError(d) ?? 0;
    notes.push(
      `riscv-hotplug: note: virtio-mem device '${d.id ?? '(anonymous)'}' at 0x${hex(info.data.memaddr)}-0x${hex(end - 1n)} reaches into ` +
        `the 64-bit PCIe window 0x${hex(window)}-0x${hex(window + HIGH_PCIE_MMIO_SIZE - 1n)}, which QEMU's virt board places at the first ` +
        `16 GiB boundary above RAM whatever the device memory: the window hides that RAM, and Linux cannot reserve the device's region` +
        (err
          ? ` (its probe failed with ${err}; qom-set requested-size is accepted by QEMU but nothing will be plugged)`
          : '') +
        `. Keep device memory below 0x${hex(window)} (smaller backends, or more -m).`,
    );
  }
  return notes;
}
