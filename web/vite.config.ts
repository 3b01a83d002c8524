// The playground's build: web/ is the root, dist/web the output. The page
// uses the library exactly as Node does — the compiled dist/src of
// `npm run build` — through the `lstmkit` alias, and the kernels of
// dist/wasm. Every response (dev server and `vite preview`) is cross-origin
// isolated, as `lstmkit playground` serves it.

import { fileURLToPath } from 'node:url';
import { defineConfig, type Rolldown } from 'vite';
import { samples } from './samples.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/**
 * The recipes' save()/load() and the trainer's checkpoints import lstmkit's
 * Node file layer (io/modelpath, io/atomic, train/rundir) on demand; the page never calls them, so Vite's notes that their
 * node: imports are stubbed out in the browser are expected. Others pass.
 */
const onLog: NonNullable<Rolldown.RolldownOptions['onLog']> = (level, log, handler) => {
  if (/externalized for browser compatibility, imported by ".*dist\/src\/(io\/modelpath|io\/atomic|train\/rundir)\.js"/.test(log.message)) return;
  handler(level, log);
};

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: false,
  resolve: {
    alias: [
      { find: /^lstmkit$/, replacement: `${repo}dist/src/index.js` },
      { find: /^lstmkit\/(.*)$/, replacement: `${repo}dist/src/$1` },
    ],
  },
  plugins: [samples()],
  worker: { format: 'es', rolldownOptions: { onLog } },
  build: {
    outDir: `${repo}dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    rolldownOptions: { onLog },
  },
  server: { headers: isolation, fs: { allow: [repo] } },
  preview: { headers: isolation, port: 5178 },
});
