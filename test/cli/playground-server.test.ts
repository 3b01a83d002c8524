// The playground's static server (`lstmkit playground`): files from its root
// with the cross-origin isolation headers and the right types, nothing from
// outside the root, and a clear error when the playground is not built.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPlaygroundServer, type PlaygroundServer } from '../../src/cli/playground.js';

/** A raw GET (the path is sent as written: fetch() would normalize `..` away). */
function get(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('playground server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lstmkit-playground-'));
  const root = join(dir, 'web');
  let server: PlaygroundServer;

  before(async () => {
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>playground</title>');
    writeFileSync(join(root, 'assets', 'kernels.wasm'), new Uint8Array([0, 97, 115, 109]));
    writeFileSync(join(dir, 'secret.txt'), 'outside the root');
    server = await startPlaygroundServer({ root });
  });

  after(() => server.close());

  it('listens on 127.0.0.1 on a free port', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves index.html for / with the cross-origin isolation headers', async () => {
    const res = await get(server.url, '/');
    assert.equal(res.status, 200);
    assert.equal(res.body, '<!doctype html><title>playground</title>');
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(res.headers['cross-origin-embedder-policy'], 'require-corp');
  });

  it('serves WebAssembly as application/wasm; HEAD gives headers only', async () => {
    const res = await get(server.url, '/assets/kernels.wasm?v=1', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/wasm');
    assert.equal(res.headers['content-length'], '4');
    assert.equal(res.body, '');
  });

  it('answers 404 for missing files, directories and anything outside the root', async () => {
    for (const path of ['/nope.js', '/assets', '/../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/%00']) {
      const res = await get(server.url, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /outside the root/);
      assert.equal(res.headers['cross-origin-embedder-policy'], 'require-corp', `${path}: errors are isolated too`);
    }
  });

  it('refuses methods other than GET and HEAD', async () => {
    assert.equal((await get(server.url, '/', 'POST')).status, 405);
  });

  it('says how to build the playground when it is not built', async () => {
    await assert.rejects(startPlaygroundServer({ root: join(dir, 'missing') }), /not built.*npm run build:web/);
  });
});
