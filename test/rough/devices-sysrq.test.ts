/**
 * device_del of a virtio-mem device that still has memory plugged (QEMU 10.2's
 * refusal), and /proc/sysrq-trigger.
 */
import { describe, expect, test } from 'vitest';
import { sessionFor } from '../support/guest.js';
import { Session } from '../../src/session/session.js';
import { parseRunArgs } from '../../src/session/options.js';

describe('device_del of a virtio-mem device with memory plugged', () => {
  test('QEMU 10.2 refuses with "some of its memory is still plugged"; after shrinking to 0 it goes', () => {
    const s = sessionFor(
      '-m 2G,maxmem=8G -object memory-backend-ram,id=m0,size=1G -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1',
    );
    expect(
      s.execute('(qemu) device_add virtio-mem-pci,id=vm0,memdev=m0,bus=rp1,requested-size=256M')?.stdout,
    ).toBe('');
    expect(s.execute('(qemu) device_del vm0')?.stdout).toBe(
      'Error: virtio-mem device cannot get unplugged while some of its memory is still plugged\n',
    );
    s.execute('(qemu) qom-set vm0 requested-size 0');
    expect(s.execute('(qemu) info memory-devices')?.stdout).toContain('  size: 0\n');
    expect(s.execute('(qemu) device_del vm0')?.stdout).toBe('');
  });
});

describe('/proc/sysrq-trigger', () => {
  const s = new Session(parseRunArgs(['-m', '2G']));
  test('exists and is write-only, as in Linux', () => {
    expect(s.execute('ls /proc')?.stdout).toContain('sysrq-trigger\n');
    expect(s.execute('cat /proc/sysrq-trigger')?.stderr).toBe(
      'cat: /proc/sysrq-trigger: Input/output error\n',
    );
  });

  test('m shows memory, t and w the (modelled) tasks, in the kernel log', () => {
    const m = s.execute('echo m > /proc/sysrq-trigger')!;
    expect(m.kmsg.join('\n')).toContain('sysrq: Show Memory');
    expect(m.kmsg.join('\n')).toMatch(/Node 0 DMA32 free:\d+kB/);
    const t = s.execute('echo t > /proc/sysrq-trigger')!;
    expect(t.kmsg.join('\n')).toContain('sysrq: Show State');
    const w = s.execute('echo w > /proc/sysrq-trigger')!;
    expect(w.kmsg.join('\n')).toContain('sysrq: Show Blocked State');
    const h = s.execute('echo x > /proc/sysrq-trigger')!;
    expect(h.kmsg.join('\n')).toMatch(/sysrq: HELP : /);
  });
});

describe('sysrq c', () => {
  test('crashes the guest as panic() does; nothing runs after it', () => {
    const s = new Session(parseRunArgs(['-m', '2G']));
    const r = s.execute('echo c > /proc/sysrq-trigger')!;
    expect(r.kmsg.join('\n')).toContain('Kernel panic - not syncing: sysrq triggered crash');
    expect(s.dead).toBe(true);
  });
});
