// The browser playground in a real browser: Debian's headless Chromium driven
// by playwright-core. Loads the page from a static server on 127.0.0.1 (the
// one `lstmkit playground` runs), loads the sample series, trains, checks
// that the loss falls and the forecast is drawn, downloads the model file and
// loads it in Node with loadModel and in the inference server — their
// forecasts must equal the page's — and saves screenshots under
// test-artifacts/. The generator (stopped early) and the classifier (from a
// dropped file) get a short run each: trained, shown, downloaded, loaded.
//
// Needs the built playground (npm run build:web) and /usr/bin/chromium
// (apt-get install -y chromium); fails with a clear message without either.

import { SequenceModel } from '../../src/index.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPlaygroundServer, type PlaygroundServer } from '../../src/cli/playground.js';
import { parseCsv } from '../../src/data/csv.js';
import { loadModel } from '../../src/io/modelpath.js';
import { createServer } from '../../src/server/app.js';
import { TextClassifier } from '../../src/tasks/classifier.js';
import { Forecaster } from '../../src/tasks/forecaster.js';
import { TextGenerator } from '../../src/tasks/generator.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const repo = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/web/ → the repository
const webRoot = join(repo, 'dist', 'web');
const artifacts = join(repo, 'test-artifacts');

/** What the page exposes as window.lstmkitPlayground. */
interface PageState {
  state: string;
  backend: { backend: { name: string; simd: boolean; threads: number }; isolated: boolean } | null;
  epochs: { epoch: number; loss: number; valLoss: number | null }[];
  batches: number;
  result: Record<string, unknown> & { task: string };
  model: { fileName: string; size: number } | null;
  error: string | null;
}

async function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => (window as unknown as { lstmkitPlayground: PageState }).lstmkitPlayground);
}

/** Wait for training to end; on an error, fail with the page's message. */
async function waitForTraining(page: Page, timeout: number): Promise<PageState> {
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout });
  const state = await pageState(page);
  assert.equal(state.state, 'done', `training failed in the page: ${state.error}`);
  return state;
}

/** Pixels of a canvas within `tolerance` of an RGB color. */
async function pixelsOfColor(
  page: Page, selector: string, rgb: [number, number, number], tolerance = 40,
): Promise<number> {
  return page.$eval(selector, (canvas, [color, tol]) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const distance = Math.abs(data[i]! - color[0]!) + Math.abs(data[i + 1]! - color[1]!)
        + Math.abs(data[i + 2]! - color[2]!);
      if (distance <= tol && data[i + 3]! > 200) count++;
    }
    return count;
  }, [rgb, tolerance] as const);
}

/** Click the download link, save the file under test-artifacts/, return its path. */
async function download(page: Page, name: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.equal(file.suggestedFilename(), name);
  const path = join(artifacts, name);
  await file.saveAs(path);
  return path;
}

describe('browser playground (headless Chromium)', { timeout: 150_000 }, () => {
  let server: PlaygroundServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: the playground test drives Debian's Chromium. Install it with: apt-get update && apt-get install -y chromium`,
    );
    assert.ok(
      existsSync(join(webRoot, 'index.html')),
      `${webRoot}/index.html is missing: build the playground first with npm run build:web (after npm run build)`,
    );
    await mkdir(artifacts, { recursive: true });
    server = await startPlaygroundServer({ root: webRoot });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads cross-origin isolated, with the WebAssembly SIMD backend', async () => {
    await page.goto(server!.url);
    await page.waitForSelector('body[data-state="idle"], body[data-state="error"]', { timeout: 20_000 });
    const state = await pageState(page);
    assert.equal(state.state, 'idle', `the page did not start: ${state.error}`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the server sends COOP/COEP, so the page is cross-origin isolated');
    assert.equal(state.backend?.isolated, true, 'the training worker is cross-origin isolated too');
    assert.equal(state.backend?.backend.name, 'wasm', 'Chromium has WebAssembly SIMD: the fast backend runs');
    assert.match(await page.textContent('#backend') ?? '', /WebAssembly SIMD/);
  });

  it("shows the library's error for data it cannot train on", async () => {
    await page.check('input[name="task"][value="forecast"]');
    await page.fill('#data', 'month,sales\n2024-01-01,10\n2024-02-01,12\n2024-03-01,11\n2024-04-01,15\n');
    await page.waitForFunction(() => document.querySelector('#data-info')!.textContent!.startsWith('4 rows'));
    await page.click('#train');
    await page.waitForSelector('body[data-state="error"]', { timeout: 20_000 });
    assert.match(await page.textContent('#error') ?? '', /too few rows for the window: 4 rows/);
  });

  it('trains a forecaster on the sample series: the loss falls, the forecast is drawn, the model file loads in Node and in the server', async () => {
    await page.check('input[name="task"][value="forecast"]');
    await page.click('#sample');
    await page.waitForFunction(() => (document.querySelector('#data') as HTMLTextAreaElement).value.startsWith('Date,CO2'));
    assert.equal(await page.inputValue('#date-column'), 'Date');
    assert.equal(await page.inputValue('#target'), 'CO2');
    await page.fill('#epochs', '30');
    await page.click('#train');
    const state = await waitForTraining(page, 60_000);

    // The loss fell: per batch and per epoch, on training and validation data.
    const epochs = state.epochs;
    assert.ok(epochs.length >= 5, `at least 5 epochs ran, got ${epochs.length}`);
    assert.ok(state.batches >= epochs.length, 'every batch loss reached the chart');
    const first = epochs[0]!;
    const best = Math.min(...epochs.map((e) => e.loss));
    assert.ok(best < first.loss * 0.5, `the training loss falls: first epoch ${first.loss}, best ${best}`);
    assert.ok(Math.min(...epochs.map((e) => e.valLoss!)) < first.valLoss! * 0.5, 'the validation loss falls too');
    assert.ok(await pixelsOfColor(page, '#loss-chart canvas', [0x1f, 0x77, 0xb4]) > 200, 'the loss curve is drawn');

    // The forecast: numbers in the result, the blue line on the chart, the metrics table.
    const result = state.result as unknown as {
      horizon: number; future: { dates: string[]; values: number[] };
      metrics: { model: { mae: number }; naive: { mae: number } };
    };
    assert.equal(result.horizon, 12);
    assert.equal(result.future.values.length, 12);
    assert.ok(result.future.values.every((v) => v > 300 && v < 500), `CO2 forecasts in ppm: ${result.future.values.join(', ')}`);
    assert.ok(
      result.metrics.model.mae < result.metrics.naive.mae,
      `the LSTM beats the naive forecast: MAE ${result.metrics.model.mae} vs ${result.metrics.naive.mae}`,
    );
    assert.ok(await pixelsOfColor(page, '#forecast-chart canvas', [0x1f, 0x77, 0xb4]) > 300, 'the forecast line is drawn');
    assert.equal(await page.locator('#forecast-metrics tr').count(), 4);
    await page.screenshot({ path: join(artifacts, 'playground-forecast.png'), fullPage: true });

    // The download is an lstmkit model file with the recipe's preprocessing;
    // Node loads it, and its forecast of the same data is the page's.
    const path = await download(page, 'co2-forecast.lstmkit');
    const { model, contents } = await loadModel(path);
    assert.ok(model instanceof SequenceModel);
    assert.equal(model.config.output.size, 12);
    assert.equal((contents.preprocessing as { task: string }).task, 'forecast');
    const forecaster = Forecaster.fromContents(contents);
    const csv = await readFile(join(webRoot, 'samples', 'co2.csv'), 'utf8');
    const forecast = forecaster.forecast(parseCsv(csv, 'co2.csv'));
    assert.deepEqual(forecast.dates, result.future.dates);
    const close = (values: readonly number[], who: string) => values.forEach((v, k) => {
      const shown = result.future.values[k]!;
      assert.ok(Math.abs(v - shown) <= 1e-4 * Math.abs(shown), `step ${k + 1}: ${who} forecasts ${v}, the page ${shown}`);
    });
    close(forecast.values, 'Node');

    // `lstmkit serve` loads the same file: its forecast from the last rows is the page's too.
    const app = await createServer({ model: path, defaultMetrics: false });
    try {
      const lines = csv.trim().split('\n').slice(-60).map((line) => line.split(','));
      const rows = lines.map(([date, value]) => ({ Date: date!, CO2: Number(value) }));
      const response = await app.inject({ method: 'POST', url: '/v1/predict', payload: { instances: [rows] } });
      assert.equal(response.statusCode, 200, response.body);
      const served = (response.json() as { predictions: { dates: string[]; values: number[] }[] }).predictions[0]!;
      assert.deepEqual(served.dates, result.future.dates);
      close(served.values, 'the server');
    } finally {
      await app.close();
    }
  });

  it('trains a text generator on the sample text, stops when asked, and offers its model', async () => {
    await page.check('input[name="task"][value="generate"]');
    await page.click('#sample');
    await page.waitForFunction(() => (document.querySelector('#data') as HTMLTextAreaElement).value.startsWith('CHAPTER 1'));
    await page.fill('#epochs', '100');
    await page.fill('#hidden', '64');
    await page.click('#train');
    await page.waitForFunction(
      () => (window as unknown as { lstmkitPlayground: PageState }).lstmkitPlayground.epochs.length >= 2,
      undefined,
      { timeout: 30_000 },
    );
    await page.click('#stop');
    const state = await waitForTraining(page, 30_000);
    assert.ok(state.epochs.length >= 2 && state.epochs.length < 10, `Stop ends training after the epoch under way: ${state.epochs.length} of 100 epochs ran`);
    assert.match(await page.textContent('#status') ?? '', /^stopped/);
    const sample = await page.textContent('#samples .sample');
    assert.ok(sample && sample.length > 100, `a generated text is shown: ${JSON.stringify(sample)}`);
    await page.screenshot({ path: join(artifacts, 'playground-generate.png'), fullPage: true });
    const path = await download(page, 'moby-dick-generator.lstmkit');
    const { contents } = await loadModel(path);
    const generator = TextGenerator.fromModelFile(contents);
    assert.equal(generator.sample({ length: 20, seed: 3 })[0]!.length > 0, true);
  });

  it('trains a text classifier on a dropped CSV file and predicts a typed name', async () => {
    await page.check('input[name="task"][value="classify"]');
    const names = await readFile(join(webRoot, 'samples', 'names.csv'), 'utf8');
    await page.dispatchEvent('#drop', 'drop', {
      dataTransfer: await page.evaluateHandle((text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], 'my names.csv', { type: 'text/csv' }));
        return transfer;
      }, names),
    });
    await page.waitForFunction(() => (document.querySelector('#data') as HTMLTextAreaElement).value.startsWith('name,sex'));
    assert.equal(await page.inputValue('#text-column'), 'name');
    assert.equal(await page.inputValue('#label-column'), 'sex');
    await page.fill('#epochs', '4');
    await page.click('#train');
    const state = await waitForTraining(page, 60_000);
    const accuracy = (state.result as unknown as { heldOut: { accuracy: number } }).heldOut.accuracy;
    assert.ok(accuracy > 0.6, `held-out accuracy above chance: ${accuracy}`);
    await page.fill('#try-text', 'Annabella');
    await page.waitForSelector('#prediction b');
    await page.screenshot({ path: join(artifacts, 'playground-classify.png'), fullPage: true });
    const path = await download(page, 'my-names-classifier.lstmkit');
    const classifier = TextClassifier.fromModelFile((await loadModel(path)).contents);
    assert.deepEqual(classifier.classes, ['female', 'male']);
  });

  it('makes no request off the page and logs no error', () => {
    const origin = new URL(server!.url).origin;
    const outside = requests.filter((url) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'));
    assert.deepEqual(outside, [], 'every request stays on the playground server (no CDN, no fonts)');
    assert.deepEqual(consoleErrors, []);
  });
});
