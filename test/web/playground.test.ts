// The browser playground in a real browser: Debian's headless Chromium driven
// by playwright-core. Loads the page from a static server on 127.0.0.1 (the
// one `lstmkit playground` runs), loads the sample series, trains, checks
// that the loss falls and the forecast is drawn, downloads the model file and
// loads it in Node with loadModel and in the inference server — their
// forecasts must equal the page's — and saves screenshots under
// test-artifacts/. The generator (stopped early) and the classifier (from a
// dropped file) get a short run each: trained, shown, downloaded, loaded.
// The transducer trains a few epochs on the G2P sample (stopped), answers a
// typed word with its attention drawn and n-best by beam width, names bad
// input in the page, and its model file predicts in Node what the page shows.
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
import { Seq2Seq } from '../../src/tasks/seq2seq.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const repo = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/web/ → the repository
const webRoot = join(repo, 'dist', 'web');
const artifacts = join(repo, 'test-artifacts');

/** What the page exposes as window.lstmkitPlayground. */
interface PageState {
  state: string;
  backend: { backend: { name: string; simd: boolean; threads: number }; isolated: boolean } | null;
  epochs: { epoch: number; loss: number; valLoss: number | null; valTokenErrorRate?: number }[];
  batches: number;
  result: Record<string, unknown> & { task: string };
  model: { fileName: string; size: number } | null;
  error: string | null;
  transduction: Transduction | null;
  transductionError: string | null;
}

/** The page's answer for a typed source (web/src/protocol.ts). */
interface Transduction {
  text: string;
  beam: number;
  sourceTokens: string[];
  unknown: string[];
  best: { y: string; tokens: string[]; score: number };
  nbest: { y: string; tokens: string[]; score: number }[];
  attention: number[][];
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

  it('trains a G2P transducer on the sample: a typed word\'s phonemes, n-best and attention; its model file predicts the same in Node', async () => {
    if (!page.url().startsWith(server!.url)) {
      // Run on its own (--test-name-pattern): open the page first.
      await page.goto(server!.url);
      await page.waitForSelector('body[data-state="idle"]', { timeout: 20_000 });
    }
    await page.check('input[name="task"][value="transduce"]');
    assert.match(await page.textContent('#sample') ?? '', /grapheme to phoneme \(CMUdict\)/);
    await page.click('#sample');
    await page.waitForFunction(() => document.querySelector('#data-info')!.textContent!.startsWith('4,000 pairs (TSV)'));
    assert.equal(await page.inputValue('#source-tokens'), 'char', 'a word is read letter by letter');
    assert.equal(await page.inputValue('#target-tokens'), 'word', 'its phonemes are space-separated');

    // A short run: Stop after the third epoch (the default is 12, about a minute).
    await page.click('#train');
    await page.waitForFunction(
      () => (window as unknown as { lstmkitPlayground: PageState }).lstmkitPlayground.epochs.length >= 3,
      undefined,
      { timeout: 40_000 },
    );
    await page.click('#stop');
    const state = await waitForTraining(page, 20_000);
    const rates = state.epochs.map((e) => e.valTokenErrorRate!);
    assert.ok(rates.length >= 3 && rates.length <= 5, `Stop ends training after the epoch under way: ${rates.length} epochs ran`);
    assert.ok(rates.every((r) => r >= 0 && r <= 1.5), `a validation token error rate every epoch: ${rates.join(', ')}`);
    assert.ok(rates[rates.length - 1]! < rates[0]!, `the token error rate falls: ${rates.join(', ')}`);
    const heldOut = (state.result as unknown as { heldOut: { count: number; tokenErrorRate: number } }).heldOut;
    assert.equal(heldOut.count, 400, 'a tenth of the 4000 words held out');
    assert.ok(heldOut.tokenErrorRate < 0.4, `phoneme error rate after ${rates.length} epochs: ${heldOut.tokenErrorRate}`);
    assert.ok(await pixelsOfColor(page, '#loss-chart canvas', [0x2c, 0xa0, 0x2c]) > 30, 'the error rate is drawn on the loss chart');

    /** Type a source (or pick a beam width) and wait for the page's answer to it. */
    const ask = async (text: string, beam: number): Promise<Transduction | string> => {
      await page.selectOption('#beam', String(beam));
      await page.fill('#try-source', text);
      const answer = await page.waitForFunction(([t, b]) => {
        const p = (window as unknown as { lstmkitPlayground: PageState }).lstmkitPlayground;
        if (p.transduction?.text === t && p.transduction.beam === b) return p.transduction;
        return t.trim() === '' && p.transductionError !== null ? p.transductionError : null;
      }, [text, beam] as const, { timeout: 10_000 });
      return await answer.jsonValue() as Transduction | string;
    };

    // Greedy: the phonemes, and a heat map of output tokens (and <eos>) by input letters.
    const greedy = await ask('ship', 1) as Transduction;
    assert.ok(greedy.best.tokens.length > 0, 'an output for "ship"');
    assert.equal(await page.textContent('#output'), greedy.best.y);
    assert.equal(await page.locator('#nbest').count(), 0, 'no n-best list for greedy decoding');
    const rows = greedy.best.tokens.length + 1;
    const map = page.locator('#attention svg');
    assert.equal(await map.getAttribute('data-rows'), String(rows));
    assert.equal(await map.getAttribute('data-cols'), '4');
    assert.equal(await map.locator('rect.cell').count(), rows * 4);
    assert.deepEqual(await map.locator('text.row-label').allTextContents(), [...greedy.best.tokens, '<eos>']);
    assert.deepEqual(await map.locator('text.col-label').allTextContents(), ['s', 'h', 'i', 'p']);
    for (const row of greedy.attention) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'each row of attention sums to 1');

    // The beam width changes the n-best list: 3, then 5 outputs, best first.
    const beam3 = await ask('ship', 3) as Transduction;
    assert.equal(beam3.nbest.length, 3);
    assert.equal(await page.locator('#nbest tr').count(), 1 + 3);
    assert.equal(beam3.nbest[0]!.y, beam3.best.y);
    assert.ok(beam3.nbest.every((o, k) => k === 0 || o.score <= beam3.nbest[k - 1]!.score), 'best first');
    const beam5 = await ask('ship', 5) as Transduction;
    assert.equal(await page.locator('#nbest tr').count(), 1 + 5);
    assert.deepEqual(beam5.nbest.slice(0, 3).map((o) => o.y), beam3.nbest.map((o) => o.y), 'a wider beam keeps the best three here');
    await page.screenshot({ path: join(artifacts, 'playground-transduce.png'), fullPage: true });

    // Bad input is answered in the page: an empty word, and letters the model never saw (read as <unk>).
    assert.match(await ask('  ', 1) as string, /empty/);
    assert.match(await page.textContent('#transduce-error') ?? '', /type a word/);
    const odd = await ask('Ship!', 1) as Transduction;
    assert.deepEqual(odd.unknown, ['S', '!']);
    assert.match(await page.textContent('#unknown') ?? '', /read as <unk>: “S”, “!”/);
    assert.equal(await page.locator('#attention svg text.col-label.unknown').count(), 2);
    assert.equal(await page.locator('#attention svg').getAttribute('data-cols'), '5');
    assert.equal(await pageState(page).then((s) => s.state), 'done', 'still a trained page, not an error');

    // The downloaded file predicts in Node what the page showed.
    const info = await page.textContent('#download-info') ?? '';
    assert.match(info, /lstmkit serve cmudict-g2p-seq2seq\.lstmkit.*lstmkit predict cmudict-g2p-seq2seq\.lstmkit/, 'the server and the CLI run it');
    const path = await download(page, 'cmudict-g2p-seq2seq.lstmkit');
    const node = Seq2Seq.fromModelFile(await readFile(path), { source: path });
    const [again] = node.predict(['ship'], { beam: 3, nbest: 3, attention: true });
    assert.equal(again!.y, beam3.best.y);
    assert.deepEqual(again!.nbest!.map((o) => o.y), beam3.nbest.map((o) => o.y));
    again!.nbest!.forEach((o, k) => assert.ok(Math.abs(o.score - beam3.nbest[k]!.score) < 1e-4, `score ${k}: Node ${o.score}, page ${beam3.nbest[k]!.score}`));
    const [greedyAgain] = node.predict(['ship'], { attention: true });
    assert.equal(greedyAgain!.y, greedy.best.y);
    greedyAgain!.attention!.forEach((row, i) => row.forEach((w, j) => assert.ok(Math.abs(w - greedy.attention[i]![j]!) < 1e-4)));

    // An uploaded JSONL file: read as pairs; a record without y is named by its line.
    await page.dispatchEvent('#drop', 'drop', {
      dataTransfer: await page.evaluateHandle(() => {
        const transfer = new DataTransfer();
        const lines = ['{"x": "cat", "y": ["K", "AE1", "T"]}', '{"x": "dog", "y": "D AO1 G"}', '', '{"x": "cow"}'];
        transfer.items.add(new File([lines.join('\n')], 'pairs.jsonl', { type: 'application/jsonl' }));
        return transfer;
      }),
    });
    await page.waitForFunction(() => document.querySelector('#data-info')!.textContent!.startsWith('3 pairs (JSONL)'));
    await page.click('#train');
    await page.waitForSelector('body[data-state="error"]', { timeout: 10_000 });
    assert.match(await page.textContent('#error') ?? '', /pairs\.jsonl.*4.*y must be a text or an array of token strings, got nothing/);
  });

  it('makes no request off the page and logs no error', () => {
    const origin = new URL(server!.url).origin;
    const outside = requests.filter((url) => !url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:'));
    assert.deepEqual(outside, [], 'every request stays on the playground server (no CDN, no fonts)');
    assert.deepEqual(consoleErrors, []);
  });
});
