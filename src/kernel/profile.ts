/**
 * The kernel profile: facts of one kernel build that shape memory (where the
 * image is linked and loaded, its section boundaries, what the firmware
 * keeps). A plain JSON file so another build can be described without code.
 */
import oracleProfile from './profiles/linux-6.12.117-virt.json' with { type: 'json' };
import virtioProfile from './profiles/linux-6.12.117-virt-virtio.json' with { type: 'json' };
import zdevProfile from './profiles/linux-6.12.117-virt-zdev.json' with { type: 'json' };

export interface KernelSymbols {
  readonly _start: bigint;
  readonly _text: bigint;
  readonly _stext: bigint;
  readonly _etext: bigint;
  readonly __init_begin: bigint;
  readonly __init_text_begin: bigint;
  readonly __init_data_begin: bigint;
  readonly __init_end: bigint;
  readonly _sdata: bigint;
  readonly __start_rodata: bigint;
  readonly __end_rodata: bigint;
  readonly _data: bigint;
  readonly _edata: bigint;
  readonly __bss_start: bigint;
  readonly __bss_stop: bigint;
  readonly swapper_pg_dir: bigint;
  readonly trampoline_pg_dir: bigint;
  readonly _end: bigint;
}

export interface KernelProfile {
  readonly name: string;
  readonly release: string;
  readonly version: string;
  readonly nrCpus: number;
  readonly kernelLinkAddr: bigint;
  readonly loadPhys: bigint;
  readonly symbols: KernelSymbols;
  readonly firmware: { readonly reservedBase: bigint; readonly reservedSize: bigint; readonly name: string };
  readonly bootRuntimeFootprint: BootRuntimeFootprint;
  readonly meminfoRuntimeKb: MeminfoRuntime;
  readonly bootEnvironment: BootEnvironment;
  readonly config: KernelConfig;
}

/** How QEMU and the firmware hand the kernel its initrd and device tree (QEMU 7.2 values when absent). */
export interface BootEnvironment {
  readonly qemu: string;
  /** The initrd sits at the kernel + min(ram / 2, this). */
  readonly initrdOffsetCap: bigint;
  /** 'below3GiB' (QEMU 7.2) or 'ramEnd' (QEMU 10: packed, at the end of RAM). */
  readonly fdtPlacement: 'below3GiB' | 'ramEnd';
  /** fdt_totalsize(), or undefined to estimate it from the CPU count. */
  readonly fdtTotalSize: bigint | undefined;
  readonly dtUnflattenedBase: number;
  readonly dtUnflattenedPerCpu: number;
  /** /aliases stems the kernel allocates an alias_prop for. */
  readonly dtAliasStems: readonly string[];
  /** The CPU has Zicbom: dma_cache_alignment stays small and swiotlb is set up whatever the RAM size. */
  readonly cpuZicbom: boolean;
  readonly pciHostEcam: boolean;
}

/** Kernel options that make drivers create resources the model reproduces. */
export interface KernelConfig {
  readonly PCI: boolean;
  readonly PCI_HOST_GENERIC: boolean;
  readonly PCIEPORTBUS: boolean;
  readonly HOTPLUG_PCI_PCIE: boolean;
  readonly VIRTIO_PCI: boolean;
  readonly VIRTIO_MEM: boolean;
  /** ZONE_DEVICE: memremap_pages() and the oracle driver's memremap files. */
  readonly ZONE_DEVICE: boolean;
  /** DEVICE_PRIVATE: MEMORY_DEVICE_PRIVATE pgmaps (not in the recorded ZONE_DEVICE build). */
  readonly DEVICE_PRIVATE: boolean;
}

export interface BootRuntimeFootprint {
  readonly unmovablePagesBeforePgtableCacheInit: number;
  readonly usedBytes: bigint;
  readonly unmovablePageblocksOffset: bigint;
  readonly unmovablePageblocksSize: bigint;
  /** The -smp of the machine the footprint was measured on; other CPU counts add or take per-CPU parts. */
  readonly measuredSmp: number;
  /** Order-0 pages a CPU's pcp lists hold when /init runs (the recordings' zoneinfo "count" of a CPU not running /init). */
  readonly pcpPagesPerCpu: number;
}

export interface MeminfoRuntime {
  readonly Cached: number;
  readonly Unevictable: number;
  readonly Mapped: number;
  readonly Slab: number;
  readonly KernelStack: number;
  readonly Committed_AS: number;
  readonly VmallocUsed: number;
  readonly Percpu: number;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function hex(v: Json | undefined, what: string): bigint {
  if (typeof v !== 'string' || !/^0x[0-9a-f]+$/i.test(v))
    throw new Error(`kernel profile: ${what} must be a hex string`);
  return BigInt(v);
}

function obj(v: Json | undefined, what: string): { [key: string]: Json } {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`kernel profile: ${what} must be an object`);
  return v;
}

function str(v: Json | undefined, what: string): string {
  if (typeof v !== 'string') throw new Error(`kernel profile: ${what} must be a string`);
  return v;
}

function num(v: Json | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new Error(`kernel profile: ${what} must be a whole number`);
  return v;
}

function meminfoRuntime(o: { [key: string]: Json }): MeminfoRuntime {
  const f = (n: keyof MeminfoRuntime): number => num(o[n], `meminfoRuntimeKb.${n}`);
  return {
    Cached: f('Cached'),
    Unevictable: f('Unevictable'),
    Mapped: f('Mapped'),
    Slab: f('Slab'),
    KernelStack: f('KernelStack'),
    Committed_AS: f('Committed_AS'),
    VmallocUsed: f('VmallocUsed'),
    Percpu: f('Percpu'),
  };
}

function bootEnvironment(v: Json | undefined): BootEnvironment {
  const o = v === undefined ? {} : obj(v, 'bootEnvironment');
  const placement = o['fdtPlacement'] ?? 'below3GiB';
  if (placement !== 'below3GiB' && placement !== 'ramEnd')
    throw new Error('kernel profile: bootEnvironment.fdtPlacement must be below3GiB or ramEnd');
  const stems = o['dtAliasStems'] ?? [];
  if (!Array.isArray(stems) || stems.some((x) => typeof x !== 'string'))
    throw new Error('kernel profile: bootEnvironment.dtAliasStems must be a list of strings');
  const bool = (key: string): boolean => {
    const b = o[key] ?? false;
    if (typeof b !== 'boolean')
      throw new Error(`kernel profile: bootEnvironment.${key} must be true or false`);
    return b;
  };
  return {
    qemu: o['qemu'] === undefined ? '7.2' : str(o['qemu'], 'bootEnvironment.qemu'),
    initrdOffsetCap:
      o['initrdOffsetCap'] === undefined
        ? 0x8000000n
        : hex(o['initrdOffsetCap'], 'bootEnvironment.initrdOffsetCap'),
    fdtPlacement: placement,
    fdtTotalSize:
      o['fdtTotalSize'] === undefined ? undefined : hex(o['fdtTotalSize'], 'bootEnvironment.fdtTotalSize'),
    dtUnflattenedBase:
      o['dtUnflattenedBase'] === undefined
        ? 21104
        : num(o['dtUnflattenedBase'], 'bootEnvironment.dtUnflattenedBase'),
    dtUnflattenedPerCpu:
      o['dtUnflattenedPerCpu'] === undefined
        ? 2264
        : num(o['dtUnflattenedPerCpu'], 'bootEnvironment.dtUnflattenedPerCpu'),
    dtAliasStems: stems as string[],
    cpuZicbom: bool('cpuZicbom'),
    pciHostEcam: bool('pciHostEcam'),
  };
}

function kernelConfig(v: Json | undefined): KernelConfig {
  const o = v === undefined ? {} : obj(v, 'config');
  const b = (key: keyof KernelConfig): boolean => {
    const x = o[key] ?? false;
    if (typeof x !== 'boolean') throw new Error(`kernel profile: config.${key} must be true or false`);
    return x;
  };
  return {
    PCI: b('PCI'),
    PCI_HOST_GENERIC: b('PCI_HOST_GENERIC'),
    PCIEPORTBUS: b('PCIEPORTBUS'),
    HOTPLUG_PCI_PCIE: b('HOTPLUG_PCI_PCIE'),
    VIRTIO_PCI: b('VIRTIO_PCI'),
    VIRTIO_MEM: b('VIRTIO_MEM'),
    ZONE_DEVICE: b('ZONE_DEVICE'),
    DEVICE_PRIVATE: b('DEVICE_PRIVATE'),
  };
}

const SYMBOL_NAMES: readonly (keyof KernelSymbols)[] = [
  '_start',
  '_text',
  '_stext',
  '_etext',
  '__init_begin',
  '__init_text_begin',
  '__init_data_begin',
  '__init_end',
  '_sdata',
  '__start_rodata',
  '__end_rodata',
  '_data',
  '_edata',
  '__bss_start',
  '__bss_stop',
  'swapper_pg_dir',
  'trampoline_pg_dir',
  '_end',
];

export function parseKernelProfile(json: unknown): KernelProfile {
  const root = obj(json as Json, 'the file');
  const symsJson = obj(root['symbols'], 'symbols');
  const symbols = {} as Record<keyof KernelSymbols, bigint>;
  for (const name of SYMBOL_NAMES) symbols[name] = hex(symsJson[name], `symbols.${name}`);
  const fw = obj(root['firmware'], 'firmware');
  const foot = obj(root['bootRuntimeFootprint'], 'bootRuntimeFootprint');
  const nrCpus = root['nrCpus'];
  if (typeof nrCpus !== 'number') throw new Error('kernel profile: nrCpus must be a number');
  return {
    name: str(root['name'], 'name'),
    release: str(root['release'], 'release'),
    version: str(root['version'], 'version'),
    nrCpus,
    kernelLinkAddr: hex(root['kernelLinkAddr'], 'kernelLinkAddr'),
    loadPhys: hex(root['loadPhys'], 'loadPhys'),
    symbols,
    firmware: {
      reservedBase: hex(fw['reservedBase'], 'firmware.reservedBase'),
      reservedSize: hex(fw['reservedSize'], 'firmware.reservedSize'),
      name: str(fw['name'], 'firmware.name'),
    },
    bootRuntimeFootprint: {
      unmovablePagesBeforePgtableCacheInit: num(
        foot['unmovablePagesBeforePgtableCacheInit'],
        'bootRuntimeFootprint.unmovablePagesBeforePgtableCacheInit',
      ),
      usedBytes: hex(foot['usedBytes'], 'bootRuntimeFootprint.usedBytes'),
      unmovablePageblocksOffset: hex(
        foot['unmovablePageblocksOffset'],
        'bootRuntimeFootprint.unmovablePageblocksOffset',
      ),
      unmovablePageblocksSize: hex(
        foot['unmovablePageblocksSize'],
        'bootRuntimeFootprint.unmovablePageblocksSize',
      ),
      measuredSmp:
        foot['measuredSmp'] === undefined ? 2 : num(foot['measuredSmp'], 'bootRuntimeFootprint.measuredSmp'),
      pcpPagesPerCpu:
        foot['pcpPagesPerCpu'] === undefined
          ? 0
          : num(foot['pcpPagesPerCpu'], 'bootRuntimeFootprint.pcpPagesPerCpu'),
    },
    meminfoRuntimeKb: meminfoRuntime(obj(root['meminfoRuntimeKb'], 'meminfoRuntimeKb')),
    bootEnvironment: bootEnvironment(root['bootEnvironment']),
    config: kernelConfig(root['config']),
  };
}

/** The profile of the kernel the oracle recordings were made with (QEMU 7.2, no PCI). */
export function defaultKernelProfile(): KernelProfile {
  return parseKernelProfile(oracleProfile);
}

/** The same kernel built with PCI and virtio-mem, on QEMU 10.2 with memory-device hotplug. */
export function virtioKernelProfile(): KernelProfile {
  return parseKernelProfile(virtioProfile);
}

/** The oracle kernel built with CONFIG_ZONE_DEVICE (build_zdev.sh): memremap_pages and sub-section hotplug. */
export function zdevKernelProfile(): KernelProfile {
  return parseKernelProfile(zdevProfile);
}

export const KERNEL_PROFILES: Record<string, () => KernelProfile> = {
  'linux-6.12.117-virt': defaultKernelProfile,
  'linux-6.12.117-virt-virtio': virtioKernelProfile,
  'linux-6.12.117-virt-zdev': zdevKernelProfile,
};
