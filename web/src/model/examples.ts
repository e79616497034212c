/** Scripts to load: each is a machine (QEMU options) and the lines to run on it. */
import type { MachineForm } from './spec.js';

export interface Example {
  id: string;
  title: string;
  about: string;
  machine: MachineForm;
  script: string;
  /** A link to show under the description: the page with a query (e.g. the strategy comparison). */
  link?: { query: string; text: string };
  /** An address worth walking in this example (its mode's __va of an interesting frame). */
  walkVa: string;
}

export const EXAMPLES: readonly Example[] = [
  {
    id: 'virtio-mem',
    title: 'virtio-mem: grow to 1 GiB, shrink to 0',
    about:
      'The guest driver plugs 128 MiB memory blocks, adds and onlines them movable; the linear map grows by 2 MiB ' +
      'leaves and the vmemmap by one 2 MiB leaf per section. Shrinking offlines, unplugs and removes them again.',
    machine: {
      m: '4G,slots=4,maxmem=16G',
      smp: '2',
      append: 'memhp_default_state=online_movable',
      objects: ['memory-backend-ram,id=mem0,size=2G'],
      devices: ['virtio-mem-pci,id=vm0,memdev=mem0'],
    },
    script: [
      '(qemu) qom-set vm0 requested-size 1G',
      '(qemu) info memory-devices',
      'grep MemTotal /proc/meminfo',
      'cat /sys/devices/system/memory/memory48/state',
      '(qemu) qom-set vm0 requested-size 0',
      'grep MemTotal /proc/meminfo',
    ].join('\n'),
    walkVa: '0xff60000100000000', // __va(0x180000000): the first virtio-mem block, Sv57
  },
  {
    id: 'partial-leaf',
    title: 'Removing part of a 1 GiB leaf (finding F1, Sv48)',
    about:
      'add_memory() of an aligned 1 GiB of the RAM above mem=2G maps it with one PUD leaf. Removing the first 128 MiB clears the whole ' +
      'leaf, so memory33, still online, loses its linear mapping: the checker says so, and the hardware walk of its ' +
      "address faults. The next kernel allocation lands there (ZONE_NORMAL comes first): the last step's read " +
      'buffer oopses in clear_page. This is Linux 6.12 as it is; the model does not fix it.',
    // mem=2G leaves RAM above it for the test driver to add, as on the machine of the real-kernel recordings.
    machine: { m: '8G', smp: '2', append: 'mem=2G no5lvl', objects: [], devices: [] },
    script: [
      'echo 0x100000000 0x40000000 > /sys/kernel/debug/hotplug_oracle/add',
      'echo 1 > /sys/devices/system/memory/memory33/online',
      'echo 0x100000000 0x8000000 > /sys/kernel/debug/hotplug_oracle/remove',
      'cat /sys/devices/system/memory/memory33/state',
    ].join('\n'),
    walkVa: '0xffffaf8088000000', // __va(0x108000000): memory33, Sv48
    link: {
      query: '?example=partial-leaf&compare=riscv-6.12,riscv-split,arm64-6.12,x86-6.12',
      text:
        'Compare strategies on this script: riscv-6.12 loses 896 MiB of mappings, riscv-split and arm64-6.12 ' +
        'none, x86-6.12 oopses inside the remove',
    },
  },
  {
    id: 'hotadd-1t',
    title: '1 TiB hot-add (8,192 memory blocks, Sv48)',
    about:
      'add_memory() of 1 TiB through the test driver, onlined movable by memhp_default_state: the linear map takes ' +
      '1 GiB leaves, the vmemmap 16 GiB of 2 MiB leaves from boot RAM. Then offline and remove it all.',
    machine: {
      m: '64G',
      smp: '2',
      append: 'no5lvl memhp_default_state=online_movable',
      objects: [],
      devices: [],
    },
    script: [
      'echo 0x10000000000 0x10000000000 > /sys/kernel/debug/hotplug_oracle/add',
      'grep MemTotal /proc/meminfo',
      'echo 0x10000000000 0x10000000000 > /sys/kernel/debug/hotplug_oracle/offline_and_remove',
      'grep MemTotal /proc/meminfo',
    ].join('\n'),
    walkVa: '0xffffb07f80000000', // __va(0x10000000000): the first hot-added block, Sv48
  },
];

export function exampleById(id: string): Example | undefined {
  return EXAMPLES.find((e) => e.id === id);
}
