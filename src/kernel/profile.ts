/**
 * The kernel profile: facts of one kernel build that shape memory (where the
 * image is linked and loaded, its section boundaries, what the firmware
 * keeps). A plain JSON file so another build can be described without code.
 */
import oracleProfile from './profiles/linux-6.12.117-virt.json' with { type: 'json' };

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
}

export interface BootRuntimeFootprint {
  readonly unmovablePagesBeforePgtableCacheInit: number;
  readonly usedBytes: bigint;
  readonly unmovablePageblocksOffset: bigint;
  readonly unmovablePageblocksSize: bigint;
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
  if (typeof v !== 'string' || !/^0x[0-9a-f]+$/i.test(v)) throw new Error(`kernel profile: ${what} must be a hex string`);
  return BigInt(v);
}

function obj(v: Json | undefined, what: string): { [key: string]: Json } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`kernel profile: ${what} must be an object`);
  return v;
}

function str(v: Json | undefined, what: string): string {
  if (typeof v !== 'string') throw new Error(`kernel profile: ${what} must be a string`);
  return v;
}

function num(v: Json | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`kernel profile: ${what} must be a whole number`);
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
      unmovablePagesBeforePgtableCacheInit: num(foot['unmovablePagesBeforePgtableCacheInit'], 'bootRuntimeFootprint.unmovablePagesBeforePgtableCacheInit'),
      usedBytes: hex(foot['usedBytes'], 'bootRuntimeFootprint.usedBytes'),
      unmovablePageblocksOffset: hex(foot['unmovablePageblocksOffset'], 'bootRuntimeFootprint.unmovablePageblocksOffset'),
      unmovablePageblocksSize: hex(foot['unmovablePageblocksSize'], 'bootRuntimeFootprint.unmovablePageblocksSize'),
    },
    meminfoRuntimeKb: meminfoRuntime(obj(root['meminfoRuntimeKb'], 'meminfoRuntimeKb')),
  };
}

/** The profile of the kernel the oracle recordings were made with. */
export function defaultKernelProfile(): KernelProfile {
  return parseKernelProfile(oracleProfile);
}
