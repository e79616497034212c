/**
 * `riscv-hotplug web [--port N]`: serves the built browser view (web/dist) on 127.0.0.1 only and
 * prints its URL. The model runs in the page; this server only hands out files.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../session/options.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** web/dist of this checkout: dist/src/cli/web.js sits three levels below the package root. */
export function defaultWebRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');
}

export function parseWebArgs(argv: string[]): { port: number } {
  let port = 8080;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--port' || a === '-p') {
      const v = argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 0 || n > 65535)
        throw new UsageError(`riscv-hotplug web: --port needs a number from 0 to 65535 (got '${v ?? ''}')`);
      port = n;
    } else {
      throw new UsageError(
        `riscv-hotplug web: unknown argument '${a}' (usage: riscv-hotplug web [--port N])`,
      );
    }
  }
  return { port };
}

/** Starts serving `root`; resolves with the server once it listens (port 0 picks a free one). */
export function serveWeb(root: string, port: number): Promise<Server> {
  if (!existsSync(join(root, 'index.html')))
    throw new UsageError(
      `riscv-hotplug web: the page is not built (${root} is missing); run npm run web:build`,
    );
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    } catch {
      // A malformed %-escape: the request's fault, not a reason to stop serving.
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad request\n');
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? path + 'index.html' : path));
    // Only files under root, and only reads.
    const inside = file === root || file.startsWith(root.endsWith(sep) ? root : root + sep);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new UsageError(
              `riscv-hotplug web: port ${port} on 127.0.0.1 is in use; try --port N (0 picks a free one)`,
              1,
            )
          : e,
      );
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

export async function webCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { port } = parseWebArgs(argv);
  const server = await serveWeb(defaultWebRoot(), port);
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  out.write(`riscv-hotplug web: serving the browser view at http://127.0.0.1:${actual}/ (Ctrl-C stops)\n`);
  // Serve until the process is stopped.
  await new Promise<void>((resolve) => server.once('close', () => resolve()));
  return 0;
}
