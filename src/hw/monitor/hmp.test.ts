import { describe, expect, it } from 'vitest';
import { PhysMem } from '../physmem.js';
import { Monitor, toJsonPretty } from './hmp.js';
import { startMachine, type QemuCommandLine } from './qemu-opts.js';

function monitor(cl: QemuCommandLine = {}): Monitor {
  const r = startMachine(
    {
      memory: '2G,maxmem=8G',
      smp: '2',
      objects: ['memory-backend-ram,id=vmem0,size=4G'],
      devices: [
        'virtio-mem-pci,id=vm0,memdev=vmem0,node=0',
        'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1',
      ],
      ...cl,
    },
    new PhysMem(),
  );
  if (!r.ok) throw new Error(r.error);
  return new Monitor(r.machine);
}

const ok = (output: string) => ({ output, ok: true });
const err = (output: string) => ({ output, ok: false });

describe('HMP command line parsing', () => {
  it('an empty line does nothing', () => {
    expect(monitor().execute('   ')).toEqual(ok(''));
  });

  it('unknown commands', () => {
    expect(monitor().execute('frobnicate now')).toEqual(err("unknown command: 'frobnicate'\n"));
    expect(monitor().execute('info frob')).toEqual(err("unknown command: 'info frob'\n"));
  });

  it('a missing argument: QEMU usage text', () => {
    expect(monitor().execute('device_del')).toEqual(
      err('device_del: string expected\nTry "help device_del" for more information\n'),
    );
    expect(monitor().execute('qom-set vm0 requested-size')).toEqual(
      err('qom-set: string expected\nTry "help qom-set" for more information\n'),
    );
  });

  it('extra words after the last argument', () => {
    expect(monitor().execute('object_del a b')).toEqual(
      err(
        'object_del: extraneous characters at the end of line\nTry "help object_del" for more information\n',
      ),
    );
  });

  it('quoted arguments with escapes', () => {
    expect(monitor().execute('device_del "vm\\"9"')).toEqual(err("Error: Device 'vm\"9' not found\n"));
    expect(monitor().execute('device_del "vm9')).toEqual(
      err('unterminated string\nTry "help device_del" for more information\n'),
    );
  });
});

describe('help', () => {
  it('lists the commands alphabetically, QEMU style', () => {
    const out = monitor().execute('help').output;
    expect(out.split('\n')[0]).toBe(
      'device_add driver[,prop=value][,...] -- add device, like -device on the command line',
    );
    expect(out).toContain(
      'qom-set [-j] path property value -- set QOM property.\n\t\t\t-j: the value is specified in json format.\n',
    );
    expect(monitor().execute('?').output).toBe(out);
  });

  it('help CMD and help info', () => {
    expect(monitor().execute('help object_del')).toEqual(ok('object_del id -- destroy QOM object\n'));
    expect(monitor().execute('help info memdev')).toEqual(ok('info memdev  -- show memory backends\n'));
    expect(monitor().execute('info').output).toBe(monitor().execute('help info').output);
    expect(monitor().execute('info').output.split('\n')).toContain(
      'info memory-devices  -- show memory devices',
    );
  });
});

describe('object_add / object_del', () => {
  it('succeed silently', () => {
    const m = monitor();
    expect(m.execute('object_add memory-backend-ram,id=vmem1,size=1G')).toEqual(ok(''));
    expect(m.execute('object_del vmem1')).toEqual(ok(''));
  });

  it('errors are "Error: ..." lines', () => {
    const m = monitor();
    expect(m.execute('object_add memory-backend-ram,id=vmem1')).toEqual(
      err("Error: Parameter 'size' is missing\n"),
    );
    expect(m.execute('object_add memory-backend-ram,id=vmem1,size=foo')).toEqual(
      err("Error: Parameter 'size' expects size\n"),
    );
    expect(m.execute('object_add memory-backend-ram,id=9,size=1G')).toEqual(
      err(
        "Error: Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
      ),
    );
    expect(m.execute('object_del vmem0')).toEqual(
      err("Error: object 'vmem0' is in use, can not be deleted\n"),
    );
  });
});

describe('device_add / device_del', () => {
  it('hot-add on a root port succeeds silently; device_del of an empty device too', () => {
    const m = monitor();
    m.execute('object_add memory-backend-ram,id=vmem1,size=1G');
    expect(m.execute('device_add virtio-mem-pci,id=vm1,memdev=vmem1,bus=rp1')).toEqual(ok(''));
    m.machine.setHotplugListener({ onUnplugRequest: () => true });
    expect(m.execute('device_del vm1')).toEqual(ok(''));
    expect(m.execute('device_del vm1')).toEqual(err("Error: Device 'vm1' not found\n"));
  });

  it('pc-dimm cannot be hot-added on this machine', () => {
    const m = monitor();
    m.execute('object_add memory-backend-ram,id=d,size=1G');
    expect(m.execute('device_add pc-dimm,id=dimm1,memdev=d')).toEqual(
      err("Error: Device 'pc-dimm' can not be hotplugged on this machine\n"),
    );
  });

  it('an ill-formed id is an argument error: plain message and usage', () => {
    expect(monitor().execute('device_add virtio-mem-pci,id=1x')).toEqual(
      err(
        "Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.\nTry \"help device_add\" for more information\n",
      ),
    );
  });
});

describe('qom-set / qom-get', () => {
  it('qom-set requested-size takes QEMU sizes; qom-get prints JSON', () => {
    const m = monitor();
    expect(m.execute('qom-set vm0 requested-size 1.5G')).toEqual(ok(''));
    expect(m.execute('qom-get vm0 requested-size')).toEqual(ok('1610612736\n'));
    expect(m.execute('qom-get vm0 memdev')).toEqual(ok('"/objects/vmem0"\n'));
    expect(m.execute('qom-get vmem0 merge')).toEqual(ok('true\n'));
    expect(m.execute('qom-get vmem0 host-nodes')).toEqual(ok('[\n]\n'));
  });

  it('qom-set -j takes JSON', () => {
    const m = monitor();
    expect(m.execute('qom-set -j vm0 requested-size 1073741824')).toEqual(ok(''));
    expect(m.execute('qom-get vm0 requested-size').output).toBe('1073741824\n');
    expect(m.execute('qom-set -j vm0 requested-size "1G"')).toEqual(
      err("Error: Parameter 'requested-size' expects uint64\n"),
    );
  });

  it('qom-get errors', () => {
    const m = monitor();
    expect(m.execute('qom-get vm0 nope')).toEqual(err("Error: Property 'virtio-mem-pci.nope' not found\n"));
    expect(m.execute('qom-get vm9 size')).toEqual(err("Error: Device 'vm9' not found\n"));
  });

  it('pretty JSON of lists', () => {
    expect(toJsonPretty([1n, 'a'], 0)).toBe('[\n    1,\n    "a"\n]');
  });
});

describe('info', () => {
  it('info memory-devices: one block per device, by address', () => {
    const m = monitor({
      objects: ['memory-backend-ram,id=vmem0,size=4G', 'memory-backend-ram,id=d,size=1G'],
      devices: ['virtio-mem-pci,id=vm0,memdev=vmem0,node=0', 'pc-dimm,id=dimm0,memdev=d'],
    });
    expect(m.execute('info memory-devices')).toEqual(
      ok(
        'Memory device [dimm]: "dimm0"\n  addr: 0x0\n  slot: -1\n  node: 0\n  size: 1073741824\n  memdev: /objects/d\n' +
          '  hotplugged: false\n  hotpluggable: true\n' +
          'Memory device [virtio-mem]: "vm0"\n  memaddr: 0x100000000\n  node: 0\n  requested-size: 0\n  size: 0\n' +
          '  max-size: 4294967296\n  block-size: 2097152\n  memdev: /objects/vmem0\n',
      ),
    );
  });

  it('info memory-devices with none prints nothing', () => {
    expect(monitor({ objects: [], devices: [] }).execute('info memory-devices')).toEqual(ok(''));
  });

  it('info memory_size_summary: plugged memory only with device memory (maxmem)', () => {
    expect(monitor().execute('info memory_size_summary')).toEqual(
      ok('base memory: 2147483648\nplugged memory: 0\n'),
    );
    expect(monitor({ memory: '1G', objects: [], devices: [] }).execute('info memory_size_summary')).toEqual(
      ok('base memory: 1073741824\n'),
    );
  });

  it('info memdev: every backend, the machine RAM included, then a blank line', () => {
    const out = monitor().execute('info memdev').output;
    expect(out).toBe(
      'memory backend: vmem0\n  size:  4294967296\n  merge: true\n  dump: true\n  prealloc: false\n  share: false\n' +
        '  reserve: true\n  policy: default\n  host nodes: \n' +
        'memory backend: riscv_virt_board.ram\n  size:  2147483648\n  merge: true\n  dump: true\n  prealloc: false\n' +
        '  share: false\n  reserve: true\n  policy: default\n  host nodes: \n\n',
    );
  });

  it('info mtree: RAM and the device-memory container with the mapped backends', () => {
    expect(monitor().execute('info mtree')).toEqual(
      ok(
        'address-space: cpu-memory-0\naddress-space: cpu-memory-1\naddress-space: memory\n' +
          '  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n' +
          '    0000000080000000-00000000ffffffff (prio 0, ram): riscv_virt_board.ram\n' +
          '    0000000100000000-000000027fffffff (prio 0, i/o): device-memory\n' +
          '      0000000100000000-00000001ffffffff (prio 0, ram): vmem0\n\n' +
          'address-space: device-memory\n' +
          '  0000000000000000-000000017fffffff (prio 0, i/o): device-memory\n' +
          '    0000000000000000-00000000ffffffff (prio 0, ram): vmem0\n\n',
      ),
    );
  });
});
