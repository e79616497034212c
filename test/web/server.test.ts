/** `riscv-hotplug web`: argument parsing, the missing-build and port-in-use messages, and what it serves. */
import { afterAll, describe, expect, test } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Server } from 'node:http';
import { parseWebArgs, serveWeb } from '../../src/cli/web.js';

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

function port(s: Server): number {
  const a = s.address();
  if (typeof a !== 'object' || !a) throw new Error('not listening');
  return a.port;
}

/** A GET with the path sent as written (fetch would normalise away the '..'). */
function rawStatus(p: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('riscv-hotplug web', () => {
  test('--port N, default 8080, and one-line usage errors', () => {
    expect(parseWebArgs([])).toEqual({ port: 8080 });
    expect(parseWebArgs(['--port', '0'])).toEqual({ port: 0 });
    expect(() => parseWebArgs(['--port', 'x'])).toThrow(/--port needs a number/);
    expect(() => parseWebArgs(['--host', '0.0.0.0'])).toThrow(/unknown argument '--host'/);
  });

  test('a missing build says to run npm run web:build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rh-web-'));
    expect(() => serveWeb(dir, 0)).toThrow(/run npm run web:build/);
  });

  test('serves files under the root on 127.0.0.1 only, nothing outside it; a taken port is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rh-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'assets', 'a.js'), 'export {};');
    writeFileSync(join(tmpdir(), 'rh-secret.txt'), 'secret');
    const s = await serveWeb(dir, 0);
    servers.push(s);
    const addr = s.address();
    expect(typeof addr === 'object' && addr?.address).toBe('127.0.0.1');
    const base = `http://127.0.0.1:${port(s)}`;
    const index = await fetch(base + '/?example=partial-leaf');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const js = await fetch(base + '/assets/a.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await rawStatus(port(s), '/assets/a.js')).toBe(200);
    expect(await rawStatus(port(s), '/../rh-secret.txt')).toBe(404);
    expect(await rawStatus(port(s), '/assets/%2e%2e/%2e%2e/rh-secret.txt')).toBe(404);
    expect(await rawStatus(port(s), '/%E0%A4%A')).toBe(400);
    expect((await fetch(base + '/', { method: 'POST' })).status).toBe(405);
    await expect(serveWeb(dir, port(s))).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is in use/);
  });
});
