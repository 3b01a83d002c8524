// lstmkit quickstart: the README's main job. Trains a forecaster on monthly
// CO2 at Mauna Loa (vega-datasets), saves it, serves it over HTTP and serves
// the browser playground, then prints the URLs and a ready curl line.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, ValueError } from '../core/errors.js';
import { readCsvFile } from '../data/csvfile.js';
import { backendInfo } from '../kernels/index.js';
import { formatEvaluation } from '../report/forecast.js';
import { createServer } from '../server/index.js';
import { Forecaster } from '../tasks/forecaster.js';
import { startPlaygroundServer, type PlaygroundServer } from './playground.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CO2 = join(ROOT, 'node_modules', 'vega-datasets', 'data', 'co2-concentration.csv');

export interface QuickstartArgs {
  out: string;
  port: number;
  playgroundPort: number;
  host: string;
  /** Start everything, ask the server once, print the answer, and stop (for tests and CI). */
  check?: boolean;
}

export async function quickstartCommand(args: QuickstartArgs): Promise<void> {
  const started = Date.now();
  const table = await readCsvFile(CO2).catch((e: unknown) => {
    throw e instanceof DataError
      ? new DataError('the bundled CO2 series is missing; run `npm ci` first (it comes with the vega-datasets dev dependency)', CO2)
      : e;
  });
  const info = backendInfo();
  console.log(
    `1/3  training an LSTM forecaster on monthly CO2 at Mauna Loa (${table.rows.length} months; ` +
    `${info.name} backend, ${info.threads} thread${info.threads > 1 ? 's' : ''})`,
  );
  const forecaster = await Forecaster.fit(table, {
    dateColumn: 'Date', target: 'CO2', lookback: 24, horizon: 12, transform: 'drift', gaps: 'interpolate',
  });
  console.log(formatEvaluation(forecaster.evaluate()).split('\n').map((l) => `     ${l}`).join('\n'));
  await mkdir(args.out, { recursive: true });
  const modelPath = join(args.out, 'co2.lstmkit');
  await forecaster.save(modelPath);
  const recent = table.rows.slice(-36).map((row) => Object.fromEntries(table.header.map((c, i) => [c, c === 'Date' ? row[i] : Number(row[i])])));
  const requestPath = join(args.out, 'request.json');
  await writeFile(requestPath, JSON.stringify({ instances: [recent] }) + '\n');
  console.log(`     saved ${modelPath} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  console.log('2/3  starting the inference server');
  const app = await createServer({ model: modelPath });
  let address: string;
  try {
    address = await app.listen({ port: args.port, host: args.host });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ValueError(`quickstart: port ${args.port} is in use; pick another with --port`);
    throw e;
  }
  console.log('3/3  starting the playground');
  let playground: PlaygroundServer | undefined;
  try {
    playground = await startPlaygroundServer({ port: args.playgroundPort, host: args.host });
  } catch (e) {
    console.log(`     (not started: ${(e as Error).message})`);
  }
  const curl = `curl -s ${address}/v1/predict -H 'content-type: application/json' -d @${requestPath}`;
  console.log(`
  server      ${address}   (GET /v1/model, POST /v1/predict, /metrics, /openapi.json)
  playground  ${playground?.url ?? '(build it with npm run build:web)'}

  the next 12 months of CO2 after the last 36 months of data:
    ${curl}
`);
  const stop = async (): Promise<void> => {
    await app.close();
    await playground?.close();
  };
  if (args.check) {
    const res = await fetch(`${address}/v1/predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [recent] }),
    });
    console.log(`POST /v1/predict → ${res.status} ${await res.text()}`);
    await stop();
    if (!res.ok) throw new ValueError(`quickstart: the server answered ${res.status}`);
    return;
  }
  console.log('Ctrl-C stops both.');
  const onSignal = (): void => void stop().then(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
