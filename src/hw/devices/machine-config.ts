/**
 * The machine configuration that the QEMU command line describes: memory
 * sizes from `-m`, harts from `-smp`, memory backends from `-object` and
 * devices from `-device`, in command-line order.
 *
 * Device properties stay as the user wrote them, each with the visitor that
 * parses it the way QEMU does, because QEMU parses a property only when it
 * sets it, in an order that decides which error the user sees first.
 */

import type { MemoryBackendOptions } from './hostmem.js';
import type { Visitor } from './qom.js';

export interface ObjectOption {
  readonly qomType: 'memory-backend-ram';
  readonly options: MemoryBackendOptions;
  /** The option's argument as typed, for error locations ("-object TEXT: ..."). */
  readonly text: string;
}

export interface DeviceProp {
  readonly name: string;
  readonly value: string;
  readonly visitor: Visitor;
}

export interface DeviceOption {
  readonly driver: string | undefined;
  readonly id: string | undefined;
  readonly bus: string | undefined;
  /** The remaining properties in the order QEMU applies them (its QDict's order). */
  readonly props: readonly DeviceProp[];
  /** The option's argument as typed ("-device TEXT: ..."). */
  readonly text: string;
}

export interface MachineConfig {
  /** -m size, rounded up to 8 KiB as QEMU does. */
  readonly ramSize: bigint;
  /** -m maxmem (equal to ramSize without maxmem). */
  readonly maxRamSize: bigint;
  /** -m slots (0 without). */
  readonly ramSlots: number;
  readonly smp: number;
  /** NUMA nodes from -numa (the model takes none: 0, as QEMU without -numa). */
  readonly numaNodes: number;
  readonly objects: readonly ObjectOption[];
  readonly devices: readonly DeviceOption[];
}

/** QEMU's default for the RISC-V virt machine: 128 MiB, one hart. */
export const VIRT_DEFAULT_RAM_SIZE = 128n * 1024n * 1024n;

export function defaultMachineConfig(): MachineConfig {
  return {
    ramSize: VIRT_DEFAULT_RAM_SIZE,
    maxRamSize: VIRT_DEFAULT_RAM_SIZE,
    ramSlots: 0,
    smp: 1,
    numaNodes: 0,
    objects: [],
    devices: [],
  };
}
