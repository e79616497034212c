/**
 * The guest's file tree: /proc, /sys/devices/system/{memory,node},
 * /sys/module/memory_hotplug/parameters and /sys/kernel/debug.
 */
import type { Kernel } from '../kernel.js';
import { EINVAL } from '../errno.js';
import { Vfs, dynamicDir, file, link, staticDir, type DirNode, type VNode } from './vfs.js';
import { nodeMeminfo, procBuddyinfo, procIomem, procMeminfo, procVmstat, procZoneinfo } from './procfs.js';
import { sysrqTrigger } from '../drivers/tty/sysrq.js';
import {
  memoryBlockSizeBytes,
  onlineStore,
  onlineTypeFromStr,
  stateShow,
  stateStore,
  validZonesShow,
  type MemoryBlock,
} from '../drivers/base/memory.js';
import { ptdumpShow } from '../arch/riscv/ptdump.js';
import { HotplugOracle } from '../drivers/oracle/hotplug_oracle.js';
import { ZONE_MOVABLE, ZONE_NORMAL } from '../mm/zone.js';
import { kernelVfsHooks } from './kernfs.js';

/** Extra directories other parts of the model (drivers) hang into the tree. */
export interface TreeExtensions {
  sysBus?: () => Array<[string, VNode]>;
}

function memoryBlockDir(k: Kernel, mem: MemoryBlock, nodeDir: () => VNode | undefined): DirNode {
  return staticDir({
    node0: link('../../node/node0', nodeDir),
    online: file(
      () => (mem.devOffline ? '0\n' : '1\n'),
      (d) => onlineStore(k, mem, d),
    ),
    phys_device: file(() => '0\n'),
    phys_index: file(() => mem.id.toString(16).padStart(8, '0') + '\n'),
    removable: file(() => '1\n'),
    state: file(
      () => stateShow(mem),
      (d) => stateStore(k, mem, d),
    ),
    subsystem: link('../../../../bus/memory', () => undefined),
    uevent: file(() => ''),
    valid_zones: file(() => validZonesShow(k, mem)),
  });
}

function blocksSorted(k: Kernel): MemoryBlock[] {
  return [...k.memoryBlocks.values()].sort((a, b) => a.id - b.id);
}

export function buildVfs(k: Kernel, oracle: HotplugOracle, ext: TreeExtensions = {}): Vfs {
  // Links resolve through the finished tree, which does not exist yet while it is being built.
  const built: { vfs?: Vfs } = {};
  const nodeDirRef = (): VNode | undefined => built.vfs?.resolveQuietly('/sys/devices/system/node/node0');

  const memoryDir = dynamicDir(
    () => {
      const entries: Array<[string, VNode]> = [
        ['auto_online_blocks', autoOnline],
        ['block_size_bytes', blockSize],
      ];
      for (const mem of blocksSorted(k))
        entries.push([`memory${mem.id}`, memoryBlockDir(k, mem, nodeDirRef)]);
      entries.push(['uevent', file(() => '')]);
      return entries;
    },
    (name) => {
      if (name === 'auto_online_blocks') return autoOnline;
      if (name === 'block_size_bytes') return blockSize;
      if (name === 'uevent') return file(() => '');
      const m = /^memory(0|[1-9]\d*)$/.exec(name);
      if (!m) return undefined;
      const mem = k.memoryBlocks.get(Number(m[1]));
      return mem ? memoryBlockDir(k, mem, nodeDirRef) : undefined;
    },
  );
  const autoOnline = file(
    () => k.params.defaultOnlineType + '\n',
    (d) => {
      const t = onlineTypeFromStr(d);
      if (t === undefined) return -EINVAL;
      k.params.defaultOnlineType = t;
      return 0;
    },
  );
  const blockSize = file(() => memoryBlockSizeBytes().toString(16) + '\n');

  const hasMemory = (): boolean => k.pgdat.nodePresentPages > 0;
  const hasNormal = (): boolean => k.pgdat.zones.some((z) => z.idx <= ZONE_NORMAL && z.isPopulated());
  const node0 = dynamicDir(() => {
    const entries: Array<[string, VNode]> = [];
    for (let c = 0; c < k.machine.smp; c++)
      entries.push([`cpu${c}`, link(`../../cpu/cpu${c}`, () => undefined)]);
    entries.push(['cpulist', file(() => cpuList(k.machine.smp) + '\n')]);
    entries.push(['meminfo', file(() => nodeMeminfo(k))]);
    for (const mem of blocksSorted(k))
      entries.push([
        `memory${mem.id}`,
        link(`../../memory/memory${mem.id}`, () =>
          built.vfs?.resolveQuietly(`/sys/devices/system/memory/memory${mem.id}`),
        ),
      ]);
    entries.push(['uevent', file(() => '')]);
    return entries;
  });
  const nodeDir = staticDir({
    has_cpu: file(() => cpuList(k.machine.smp).replace(/.*/, '0') + '\n'),
    has_generic_initiator: file(() => '\n'),
    has_memory: file(() => (hasMemory() ? '0\n' : '\n')),
    has_normal_memory: file(() => (hasNormal() ? '0\n' : '\n')),
    node0,
    online: file(() => '0\n'),
    possible: file(() => '0\n'),
    uevent: file(() => ''),
  });

  const oracleDir: Record<string, VNode> = {};
  for (const op of oracle.ops) oracleDir[op] = file(undefined, (d) => oracle.op(op, d), 'debugfs');
  if (oracle.zoneDevice) oracleDir['page'] = file(undefined, (d) => oracle.page(d), 'debugfs');
  oracleDir['info'] = file(() => oracle.info(), undefined, 'debugfs');
  oracleDir['last'] = file(() => oracle.last, undefined, 'debugfs');
  oracleDir['ptwalk'] = file(
    () => oracle.ptwalk(),
    (d) => oracle.setWalk(d),
    'debugfs',
  );

  const params = staticDir({
    auto_movable_numa_aware: file(() => (k.params.autoMovableNumaAware ? 'Y\n' : 'N\n')),
    auto_movable_ratio: file(() => `${k.params.autoMovableRatio}\n`),
    // get_memmap_mode(): force mode reads back as "force", the others as a bool.
    memmap_on_memory: file(() =>
      k.params.memmapMode === 'force' ? 'force\n' : k.params.memmapMode === 'on' ? 'Y\n' : 'N\n',
    ),
    online_policy: file(() => k.params.onlinePolicy + '\n'),
  });

  const root = staticDir({
    // Where shell redirections send what nobody wants to see (2>/dev/null).
    dev: staticDir({
      null: file(
        () => '',
        () => 0,
      ),
    }),
    proc: staticDir({
      buddyinfo: file(() => procBuddyinfo(k), undefined, 'procfs'),
      cmdline: file(() => k.cmdline.raw + '\n', undefined, 'procfs'),
      iomem: file(() => procIomem(k), undefined, 'procfs'),
      meminfo: file(() => procMeminfo(k), undefined, 'procfs'),
      // 0200 and no proc_read: root may open it, a read gives procfs's EIO.
      'sysrq-trigger': file(undefined, (d) => sysrqTrigger(k, d), 'procfs'),
      version: file(() => k.profile.version + '\n', undefined, 'procfs'),
      vmstat: file(() => procVmstat(k), undefined, 'procfs'),
      zoneinfo: file(() => procZoneinfo(k), undefined, 'procfs'),
    }),
    sys: staticDir({
      bus: dynamicDir(() => (ext.sysBus ? ext.sysBus() : [])),
      devices: staticDir({
        system: staticDir({
          memory: memoryDir,
          node: nodeDir,
        }),
      }),
      kernel: staticDir({
        debug: staticDir({
          hotplug_oracle: staticDir(oracleDir),
          kernel_page_tables: file(() => ptdumpShow(k), undefined, 'debugfs'),
        }),
      }),
      module: staticDir({
        memory_hotplug: staticDir({ parameters: params }),
      }),
    }),
  });
  built.vfs = new Vfs(root, kernelVfsHooks(k));
  return built.vfs;
}

function cpuList(n: number): string {
  return n <= 1 ? '0' : `0-${n - 1}`;
}

void ZONE_MOVABLE;
