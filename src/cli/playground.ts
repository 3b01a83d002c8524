// lstmkit playground: serves the browser playground (dist/web, built by
// `npm run build:web`) on localhost. Every response carries
// Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy:
// require-corp, so the page is cross-origin isolated (SharedArrayBuffer,
// shared WebAssembly memory). The files are static and few; node:http serves
// them without a framework.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, ValueError } from '../core/errors.js';

/** dist/web beside this file's dist/src/cli/. */
export const PLAYGROUND_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.csv': 'text/csv; charset=utf-8',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export interface PlaygroundServer {
  /** http://host:port/ */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface PlaygroundOptions {
  /** The built playground (default: the package's dist/web). */
  root?: string;
  /** Default 127.0.0.1: the playground is for this machine. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

/** The file a URL path names under root, or null when it leaves root. */
function fileFor(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

/** Serve the built playground; resolves once listening. */
export async function startPlaygroundServer(opts: PlaygroundOptions = {}): Promise<PlaygroundServer> {
  const root = resolve(opts.root ?? PLAYGROUND_ROOT);
  try {
    await stat(join(root, 'index.html'));
  } catch {
    throw new DataError('the playground is not built (no index.html); run `npm run build:web`', root);
  }
  const server = createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    const file = fileFor(root, req.url ?? '/');
    if (!file) return send(404, 'not found\n');
    stat(file).then((info) => {
      if (!info.isFile()) return send(404, 'not found\n');
      res.writeHead(200, {
        ...ISOLATION_HEADERS,
        'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': info.size,
        'Cache-Control': 'no-cache',
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    }, () => send(404, 'not found\n'));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port ?? 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

/** `lstmkit playground`: serve until interrupted (Ctrl-C). */
export async function playgroundCommand(opts: { port: number; host: string }): Promise<void> {
  let playground: PlaygroundServer;
  try {
    playground = await startPlaygroundServer({ port: opts.port, host: opts.host });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ValueError(`playground: port ${opts.port} on ${opts.host} is in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ValueError(`playground: cannot listen on ${opts.host}: no such local address`);
    throw e;
  }
  console.log(`lstmkit playground: ${playground.url}\nOpen it in a browser; Ctrl-C stops it.`);
  const stop = () => void playground.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
