// The playground page: data in (dropped, chosen, pasted or a sample), a task
// and a few settings, training in a Web Worker with the loss drawn as it
// falls, then the result and the model file to download.
//
// For tests and the console, window.lstmkitPlayground holds the state, the
// epoch losses, the result and the last transduction; <body data-state> is
// loading, idle, training, done or error.

import { attentionMap, forecastChart, LossChart } from './charts.js';
import { forecastColumns, pairTokenizers, readPairs, textColumns } from './detect.js';
import { parseCsv } from './lstmkit.js';
import type {
  ClassifyResult, EpochMessage, ErrorMetrics, ForecastResult, FromWorker, GenerateResult,
  Result, Settings, Task, ToWorker, Transduction, TransduceResult,
} from './protocol.js';
import './style.css';

type State = 'loading' | 'idle' | 'training' | 'done' | 'error';

interface Sample {
  file: string;
  title: string;
}

const SAMPLES: Record<Task, Sample> = {
  forecast: { file: 'co2.csv', title: 'CO₂ at Mauna Loa, monthly' },
  classify: { file: 'names.csv', title: 'first names, female or male' },
  generate: { file: 'moby-dick.txt', title: 'Moby-Dick, chapters 1–3' },
  transduce: { file: 'cmudict-g2p.tsv', title: 'grapheme to phoneme (CMUdict)' },
};

const DEFAULTS: Record<Task, { epochs: number; hidden: number; loss: string }> = {
  forecast: { epochs: 40, hidden: 32, loss: 'mean squared error of the scaled changes' },
  classify: { epochs: 10, hidden: 32, loss: 'cross-entropy' },
  generate: { epochs: 10, hidden: 128, loss: 'cross-entropy per character (nats)' },
  transduce: { epochs: 12, hidden: 64, loss: 'cross-entropy per output token (training: label-smoothed)' },
};

interface Playground {
  state: State;
  backend: Extract<FromWorker, { type: 'ready' }> | null;
  epochs: EpochMessage[];
  batches: number;
  result: Result | null;
  model: { fileName: string; size: number } | null;
  error: string | null;
  /** The transducer's answer for the typed source, or why there is none. */
  transduction: Transduction | null;
  transductionError: string | null;
}

const playground: Playground = {
  state: 'loading', backend: null, epochs: [], batches: 0, result: null, model: null, error: null, transduction: null, transductionError: null,
};
(window as unknown as { lstmkitPlayground: Playground }).lstmkitPlayground = playground;

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** A DOM element with text content only: data never becomes markup. */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const ui = {
  backend: $('backend'),
  data: $<HTMLTextAreaElement>('data'),
  drop: $('drop'),
  file: $<HTMLInputElement>('file'),
  sample: $<HTMLButtonElement>('sample'),
  sampleName: $('sample-name'),
  dataInfo: $('data-info'),
  dateColumn: $<HTMLSelectElement>('date-column'),
  target: $<HTMLSelectElement>('target'),
  lookback: $<HTMLInputElement>('lookback'),
  horizon: $<HTMLInputElement>('horizon'),
  textColumn: $<HTMLSelectElement>('text-column'),
  labelColumn: $<HTMLSelectElement>('label-column'),
  tokenizer: $<HTMLSelectElement>('tokenizer'),
  unit: $<HTMLSelectElement>('unit'),
  sourceTokens: $<HTMLSelectElement>('source-tokens'),
  targetTokens: $<HTMLSelectElement>('target-tokens'),
  epochs: $<HTMLInputElement>('epochs'),
  hidden: $<HTMLInputElement>('hidden'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  status: $('status'),
  error: $('error'),
  lossUnit: $('loss-unit'),
  lossChart: $('loss-chart'),
  resultCard: $('result-card'),
  result: $('result'),
  download: $<HTMLAnchorElement>('download'),
  downloadInfo: $('download-info'),
};

let source = '';
let lossChart: LossChart | undefined;
let resultCharts: { destroy(): void }[] = [];
let downloadUrl: string | undefined;
let sampleSeed = 1;

function setState(state: State): void {
  playground.state = state;
  document.body.dataset.state = state;
  const busy = state === 'training' || state === 'loading';
  ui.train.disabled = busy;
  ui.stop.disabled = state !== 'training';
  ui.sample.disabled = state === 'training';
}

function showError(message: string | null): void {
  playground.error = message;
  ui.error.hidden = message === null;
  ui.error.textContent = message ?? '';
}

function task(): Task {
  return (document.querySelector<HTMLInputElement>('input[name="task"]:checked')?.value ?? 'forecast') as Task;
}

function fillSelect(select: HTMLSelectElement, options: readonly string[], chosen: string | undefined): void {
  const keep = options.includes(select.value) ? select.value : chosen;
  select.replaceChildren(...options.map((o) => h('option', { value: o }, o)));
  if (keep !== undefined) select.value = keep;
}

/** Look at the data: columns for the drop-downs, a one-line summary. */
function analyze(): void {
  const text = ui.data.value;
  const t = task();
  ui.dataInfo.textContent = '';
  if (text.trim() === '') return;
  if (t === 'generate') {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').length;
    ui.dataInfo.textContent = `${text.length.toLocaleString('en')} characters, ${lines.toLocaleString('en')} lines`;
    return;
  }
  if (t === 'transduce') {
    try {
      const { format, records } = readPairs(text, source || 'pasted data');
      const guess = pairTokenizers(records);
      ui.sourceTokens.value = guess.source;
      ui.targetTokens.value = guess.target;
      const sources = new Set(records.map((r) => JSON.stringify(r.value.x))).size;
      ui.dataInfo.textContent = `${records.length.toLocaleString('en')} pairs (${format}) · ${sources.toLocaleString('en')} distinct sources`;
    } catch (e) {
      ui.dataInfo.textContent = `not pairs yet: ${(e as Error).message}`;
    }
    return;
  }
  try {
    const table = parseCsv(text, source || 'pasted data');
    if (t === 'forecast') {
      const c = forecastColumns(table);
      fillSelect(ui.dateColumn, c.dates.length ? c.dates : table.header, c.dateColumn);
      fillSelect(ui.target, c.numbers.length ? c.numbers : table.header, c.target);
      const dates = c.dates.length ? `dates in ${c.dates.join(', ')}` : 'no date column found';
      ui.dataInfo.textContent = `${table.rows.length.toLocaleString('en')} rows · ${dates} · numbers in ${c.numbers.join(', ') || 'none'}`;
    } else {
      const c = textColumns(table);
      fillSelect(ui.textColumn, c.columns, c.textColumn);
      fillSelect(ui.labelColumn, c.columns, c.labelColumn);
      ui.tokenizer.value = c.tokenizer;
      ui.dataInfo.textContent = `${table.rows.length.toLocaleString('en')} rows · columns ${table.header.join(', ')}`;
    }
  } catch (e) {
    ui.dataInfo.textContent = `not a table yet: ${(e as Error).message}`;
  }
}

function onTaskChange(): void {
  const t = task();
  for (const el of document.querySelectorAll<HTMLElement>('[data-task]')) el.hidden = el.dataset.task !== t;
  ui.sampleName.textContent = SAMPLES[t].title;
  ui.epochs.value = String(DEFAULTS[t].epochs);
  ui.hidden.value = String(DEFAULTS[t].hidden);
  analyze();
}

function setData(text: string, name: string): void {
  ui.data.value = text;
  source = name;
  analyze();
}

async function loadSample(): Promise<void> {
  const sample = SAMPLES[task()];
  const response = await fetch(new URL(`samples/${sample.file}`, document.baseURI));
  if (!response.ok) throw new Error(`the sample ${sample.file} did not load (HTTP ${response.status})`);
  setData(await response.text(), sample.file);
}

async function loadFile(file: File): Promise<void> {
  if (file.size > 20 * 2 ** 20) {
    showError(`${file.name} is ${(file.size / 2 ** 20).toFixed(0)} MB; the playground takes files up to 20 MB (train bigger data with the lstmkit command)`);
    return;
  }
  showError(null);
  setData(await file.text(), file.name);
  if (/\.(txt|md)$/i.test(file.name) && task() !== 'generate') document.querySelector<HTMLInputElement>('input[value="generate"]')!.click();
  if (/\.jsonl$/i.test(file.name) && task() !== 'transduce') document.querySelector<HTMLInputElement>('input[value="transduce"]')!.click();
}

function positiveInt(input: HTMLInputElement, name: string): number {
  const value = Number(input.value);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, got "${input.value}"`);
  return value;
}

function settings(): Settings {
  const t = task();
  const common = { source: source || 'pasted data', epochs: positiveInt(ui.epochs, 'epochs'), hiddenSize: positiveInt(ui.hidden, 'hidden units') };
  if (t === 'forecast') {
    if (!ui.dateColumn.value || !ui.target.value) throw new Error('the data needs a date column and a column of numbers to forecast');
    return {
      ...common, task: t, dateColumn: ui.dateColumn.value, target: ui.target.value,
      lookback: positiveInt(ui.lookback, 'look back'), horizon: positiveInt(ui.horizon, 'horizon'),
    };
  }
  if (t === 'classify') {
    if (!ui.textColumn.value || !ui.labelColumn.value) throw new Error('the data needs a text column and a label column');
    if (ui.textColumn.value === ui.labelColumn.value) throw new Error('the text column and the label column must differ');
    return {
      ...common, task: t, textColumn: ui.textColumn.value, labelColumn: ui.labelColumn.value,
      tokenizer: ui.tokenizer.value === 'word' ? 'word' : 'char',
    };
  }
  if (t === 'transduce') {
    const side = (select: HTMLSelectElement) => (select.value === 'word' ? 'word' : 'char');
    return { ...common, task: t, sourceTokens: side(ui.sourceTokens), targetTokens: side(ui.targetTokens) };
  }
  return { ...common, task: t, unit: ui.unit.value === 'lines' ? 'lines' : 'text' };
}

// ---- the worker ----

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'lstmkit-training' });
const send = (message: ToWorker) => worker.postMessage(message);

function startTraining(): void {
  showError(null);
  let s: Settings;
  try {
    if (ui.data.value.trim() === '') throw new Error('no data yet: drop a file, paste some, or load the sample');
    s = settings();
  } catch (e) {
    showError((e as Error).message);
    return;
  }
  for (const chart of resultCharts) chart.destroy();
  resultCharts = [];
  ui.resultCard.hidden = true;
  ui.result.replaceChildren();
  playground.epochs = [];
  playground.batches = 0;
  playground.result = null;
  playground.model = null;
  playground.transduction = null;
  playground.transductionError = null;
  lossChart?.destroy();
  ui.lossChart.replaceChildren();
  lossChart = new LossChart(ui.lossChart, 'loss', 240, s.task === 'transduce' ? 'validation token error rate' : undefined);
  ui.lossUnit.textContent = `· ${DEFAULTS[s.task].loss}`;
  ui.status.textContent = 'starting…';
  setState('training');
  send({ type: 'train', data: ui.data.value, settings: s });
}

worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready': {
      playground.backend = m;
      const b = m.backend;
      const fast = b.name === 'wasm';
      ui.backend.textContent = fast
        ? `WebAssembly SIMD · ${b.threads} thread${b.threads === 1 ? '' : 's'}${m.isolated ? ' · cross-origin isolated' : ''}`
        : `plain JavaScript kernels (slower)${b.fallback ? `: ${b.fallback}` : ''}`;
      ui.backend.classList.toggle('slow', !fast);
      setState('idle');
      return;
    }
    case 'status':
      ui.status.textContent = m.text;
      return;
    case 'batch':
      playground.batches++;
      lossChart?.addBatch(m.epoch, m.batch, m.batches, m.loss);
      return;
    case 'epoch': {
      playground.epochs.push(m);
      lossChart?.addEpoch(m.epoch, m.loss, m.valLoss, m.valTokenErrorRate ?? null);
      const validation = m.valLoss === null ? '' : ` · validation ${m.valLoss.toPrecision(4)}`;
      const rate = m.valTokenErrorRate === undefined ? '' : ` · token error rate ${percent(m.valTokenErrorRate)}`;
      ui.status.textContent = `epoch ${m.epoch} of ${m.epochs} · loss ${m.loss.toPrecision(4)}${validation}${rate} · ${m.seconds.toFixed(2)} s`;
      return;
    }
    case 'done':
      showResult(m.result);
      offerDownload(m.model.bytes, m.model.fileName, m.result.task);
      ui.status.textContent = `${m.stopped ? 'stopped' : 'trained'} in ${m.seconds.toFixed(1)} s · ${playground.epochs.length} epochs`;
      setState('done');
      return;
    case 'samples':
      renderSamples(m.samples);
      return;
    case 'prediction':
      renderPrediction(m.label, m.probabilities);
      return;
    case 'transduction':
      if (m.id === transduceId) renderTransduction(m);
      return;
    case 'transduction-error':
      if (m.id === transduceId) renderTransductionError(m.message);
      return;
    case 'error':
      showError(m.message);
      if (playground.state === 'training' || playground.state === 'loading') {
        ui.status.textContent = '';
        setState('error');
      }
      return;
  }
});

worker.addEventListener('error', (event) => {
  showError(`the training worker failed: ${event.message}`);
  setState('error');
});

function offerDownload(bytes: Uint8Array, fileName: string, task: Task): void {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  ui.download.href = downloadUrl;
  ui.download.download = fileName;
  ui.download.textContent = `Download ${fileName}`;
  ui.downloadInfo.textContent = task === 'transduce'
    ? `${(bytes.length / 1024).toFixed(1)} KB · weights, config and vocabularies: serve it with lstmkit serve ${fileName}, ` +
      `run it with lstmkit predict ${fileName} --data words.txt --beam 5, or load it in Node with Seq2Seq.fromModelFile`
    : `${(bytes.length / 1024).toFixed(1)} KB · weights, config and preprocessing: serve it with lstmkit serve ${fileName}`;
  playground.model = { fileName, size: bytes.length };
}

// ---- results ----

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(2) : v.toPrecision(4);
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function showResult(result: Result): void {
  playground.result = result;
  ui.resultCard.hidden = false;
  if (result.task === 'forecast') renderForecast(result);
  else if (result.task === 'classify') renderClassify(result);
  else if (result.task === 'generate') renderGenerate(result);
  else renderTransduce(result);
}

function renderForecast(r: ForecastResult): void {
  const box = h('div', { class: 'chart', id: 'forecast-chart' });
  const rows: [string, ErrorMetrics][] = [
    [`${r.modelName} (this model)`, r.metrics.model],
    ['naive: the last value', r.metrics.naive],
    [`seasonal naive: the value ${r.season} steps before`, r.metrics.seasonalNaive],
  ];
  const best = Math.min(...rows.map(([, m]) => m.mae));
  const table = h('table', { id: 'forecast-metrics' },
    h('tr', {}, h('th', {}, 'method'), h('th', { class: 'num' }, 'MAE'), h('th', { class: 'num' }, 'RMSE'), h('th', { class: 'num' }, 'MASE')),
    ...rows.map(([name, m]) => h('tr', m.mae === best ? { class: 'best' } : {},
      h('td', {}, name), h('td', { class: 'num' }, fmt(m.mae)), h('td', { class: 'num' }, fmt(m.rmse)), h('td', { class: 'num' }, m.mase.toFixed(3)))),
  );
  const model = r.metrics.model.mae;
  const seasonal = r.metrics.seasonalNaive.mae;
  const verdict = model < seasonal
    ? `${r.modelName} beats the seasonal-naive forecast: its mean absolute error is ${Math.round((1 - model / seasonal) * 100)}% lower.`
    : `${r.modelName} does not beat the seasonal-naive forecast yet (MAE ${fmt(model)} vs ${fmt(seasonal)}): try more epochs or a longer look back.`;
  const origins = r.backtest.originRows.length;
  const future = h('details', {},
    h('summary', {}, `The next ${r.horizon} steps: ${r.future.dates[0]} … ${r.future.dates[r.future.dates.length - 1]}`),
    h('table', { id: 'future' }, h('tr', {}, h('th', {}, 'date'), h('th', { class: 'num' }, r.target)),
      ...r.future.dates.map((d, k) => h('tr', {}, h('td', {}, d), h('td', { class: 'num' }, fmt(r.future.values[k]!))))),
  );
  const filled = r.filled ? ` (${r.filled} missing step${r.filled === 1 ? '' : 's'} filled in)` : '';
  ui.result.replaceChildren(
    h('p', { class: 'muted' },
      `${r.target}, ${r.frequency}${filled}. The test period is the last ${r.times.length - r.testStart} rows, never seen in training: ` +
      `${origins} forecasts of ${r.horizon} steps, one from each of its origins; the chart shows every ${r.horizon}th.`),
    box,
    h('h3', {}, 'Errors over the test period'),
    table,
    h('p', { class: 'verdict' }, verdict),
    future,
  );
  resultCharts.push(forecastChart(box, r));
}

function renderClassify(r: ClassifyResult): void {
  const m = r.heldOut;
  const confusion = h('table', { id: 'confusion' },
    h('tr', {}, h('th', {}, 'actual \\ predicted'), ...r.classes.map((c) => h('th', { class: 'num' }, c))),
    ...m.confusion.map((row, i) => h('tr', {}, h('td', {}, r.classes[i]!), ...row.map((n) => h('td', { class: 'num' }, String(n))))),
  );
  const examples = h('table', {},
    h('tr', {}, h('th', {}, 'text'), h('th', {}, 'label'), h('th', {}, 'predicted')),
    ...r.examples.map((e) => h('tr', {}, h('td', {}, e.text.length > 60 ? `${e.text.slice(0, 60)}…` : e.text), h('td', {}, e.label),
      h('td', {}, `${e.predicted === e.label ? '✓' : '✗'} ${e.predicted} (${Math.round(e.probability * 100)}%)`))),
  );
  const input = h('input', { type: 'text', id: 'try-text', placeholder: 'type a text', 'aria-label': 'text to classify' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => input.value.trim() && send({ type: 'predict', text: input.value }), 150);
  });
  const mostCommon = Math.max(...m.confusion.map((row) => row.reduce((a, b) => a + b, 0)));
  ui.result.replaceChildren(
    h('p', {}, h('b', { id: 'accuracy' }, `${(m.accuracy * 100).toFixed(1)}% accuracy`),
      ` on ${m.count} held-out rows (macro-F1 ${m.macroF1.toFixed(3)}; ` +
      `guessing the most common label: ${(mostCommon / Math.max(1, m.count) * 100).toFixed(1)}%). Vocabulary: ${r.vocabularySize} tokens.`),
    h('div', { class: 'columns' },
      h('div', {}, h('h3', {}, 'Confusion on the held-out rows'), confusion),
      h('div', {}, h('h3', {}, 'Try it'), input, h('div', { id: 'prediction' }))),
    h('h3', {}, 'Held-out examples'),
    examples,
  );
}

function renderPrediction(label: string, probabilities: Record<string, number>): void {
  const box = document.getElementById('prediction');
  if (!box) return;
  const sorted = Object.entries(probabilities).sort((a, b) => b[1] - a[1]).slice(0, 6);
  box.replaceChildren(
    h('p', {}, h('b', {}, label)),
    ...sorted.map(([c, p]) => h('div', { class: 'muted' },
      h('span', { class: 'bar', style: `width:${Math.max(2, p * 160)}px` }), `${c} ${(p * 100).toFixed(1)}%`)),
  );
}

function renderGenerate(r: GenerateResult): void {
  const prime = h('input', {
    type: 'text', id: 'prime', placeholder: r.unit === 'lines' ? 'the start of a line (optional)' : 'a start, like “Call me”',
    'aria-label': 'start of the text',
  });
  const temperature = h('input', { type: 'number', id: 'temperature', min: '0', max: '2', step: '0.1', value: '0.7', 'aria-label': 'temperature' });
  const again = h('button', { type: 'button', id: 'generate' }, 'Generate');
  again.addEventListener('click', () => {
    sampleSeed++;
    send({ type: 'sample', prime: prime.value, temperature: Number(temperature.value) || 0, length: r.unit === 'lines' ? 40 : 400, seed: sampleSeed });
  });
  ui.result.replaceChildren(
    h('p', { class: 'muted' }, r.bitsPerToken === null
      ? `Vocabulary: ${r.vocabularySize} ${r.tokenName}s.`
      : `${r.bitsPerToken.toFixed(3)} bits per ${r.tokenName} on the held-out tenth of the text ` +
        `(a uniform guess over the ${r.vocabularySize - 2} ${r.tokenName}s costs ${Math.log2(Math.max(2, r.vocabularySize - 2)).toFixed(2)}).`),
    h('div', { id: 'samples' }),
    h('div', { class: 'row' }, h('label', { class: 'muted' }, 'Start with ', prime), h('label', { class: 'muted' }, 'temperature ', temperature), again),
  );
  renderSamples(r.samples);
}

function renderSamples(samples: string[]): void {
  const box = document.getElementById('samples');
  if (box) box.replaceChildren(...samples.map((s) => h('div', { class: 'sample' }, s)));
}

/** The id of the last source sent: answers to older ones are dropped. */
let transduceId = 0;

function renderTransduce(r: TransduceResult): void {
  const m = r.heldOut;
  const sides = (kind: 'char' | 'word') => (kind === 'char' ? 'characters' : 'words');
  const summary = m
    ? [h('b', { id: 'token-error' }, `${percent(m.tokenErrorRate)} token error rate`),
      ` on ${m.count.toLocaleString('en')} held-out pairs (edit distance per reference token: the phoneme error rate for phonemes); ` +
      `${percent(m.sequenceErrorRate)} of the outputs match no reference. `]
    : ['Too few distinct sources to hold any out, so there is no error rate to show. '];
  const examples = h('table', { id: 'transduce-examples' },
    h('tr', {}, h('th', {}, 'source'), h('th', {}, 'reference'), h('th', {}, 'output')),
    ...r.examples.map((e) => h('tr', {}, h('td', {}, e.x), h('td', {}, e.y), h('td', {}, `${e.predicted === e.y ? '✓' : '✗'} ${e.predicted}`))),
  );
  const input = h('input', {
    type: 'text', id: 'try-source', maxlength: '60', placeholder: r.sourceTokens === 'char' ? 'type a word' : 'type a text',
    'aria-label': 'source to transduce', autocomplete: 'off', spellcheck: 'false',
  });
  const beam = h('select', { id: 'beam', 'aria-label': 'beam width' },
    h('option', { value: '1' }, '1 (greedy)'), h('option', { value: '3' }, '3'), h('option', { value: '5' }, '5'));
  const run = () => {
    transduceId++;
    send({ type: 'transduce', id: transduceId, text: input.value.trim(), beam: Number(beam.value) });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
  beam.addEventListener('change', run);
  ui.result.replaceChildren(
    h('p', {}, ...summary,
      `${r.parameters.toLocaleString('en')} parameters; sources in ${sides(r.sourceTokens)} (${r.sourceVocabulary.length} known), ` +
      `targets in ${sides(r.targetTokens)} (${r.targetVocabularySize}).`),
    h('h3', {}, 'Try it'),
    h('div', { class: 'row' }, h('label', { class: 'muted' }, 'Source ', input), h('label', { class: 'muted' }, 'Beam width ', beam)),
    h('div', { id: 'transduction' }),
    h('h3', {}, r.heldOut ? 'Held-out examples' : 'Training examples'),
    examples,
  );
  const first = r.examples[0];
  if (first && !/\s/.test(first.x)) {
    input.value = first.x;
    run();
  }
}

/** Shown in place of a space in the heat map's labels. */
const visible = (token: string) => (token.trim() === '' ? '␣' : token);

function renderTransduction(m: Transduction): void {
  playground.transduction = m;
  playground.transductionError = null;
  const box = document.getElementById('transduction');
  if (!box) return;
  const rows = m.attention.map((_, i) => m.best.tokens[i] ?? '<eos>');
  const unknown = new Set(m.sourceTokens.flatMap((t, j) => (m.unknown.includes(t) ? [j] : [])));
  const parts: Node[] = [
    h('p', {}, h('span', { id: 'output', class: 'output' }, m.best.y === '' ? '(empty: the model ends at once)' : m.best.y),
      h('span', { class: 'muted' }, `  score ${m.best.score.toFixed(3)} (log-probability per token)`)),
  ];
  if (m.unknown.length) {
    parts.push(h('p', { class: 'note', id: 'unknown' },
      `Not among the model's source tokens, so read as <unk>: ${m.unknown.map((t) => `“${visible(t)}”`).join(', ')}. ` +
      'The output for them is a guess.'));
  }
  if (m.nbest.length) {
    parts.push(h('table', { id: 'nbest' },
      h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, `${m.beam}-best`), h('th', { class: 'num' }, 'score')),
      ...m.nbest.map((o, k) => h('tr', k === 0 ? { class: 'best' } : {},
        h('td', { class: 'num' }, String(k + 1)), h('td', { class: 'output' }, o.y || '(empty)'), h('td', { class: 'num' }, o.score.toFixed(3))))));
  }
  parts.push(
    h('p', { class: 'muted' }, 'Attention: for each output token (rows), how much the decoder read each source token (columns).'),
    h('div', { id: 'attention' }),
  );
  box.replaceChildren(...parts);
  document.getElementById('attention')!.append(attentionMap({ rows, cols: m.sourceTokens.map(visible), weights: m.attention, unknown }));
}

function renderTransductionError(message: string): void {
  playground.transduction = null;
  playground.transductionError = message;
  document.getElementById('transduction')?.replaceChildren(h('p', { class: 'error', id: 'transduce-error' }, message));
}

// ---- wiring ----

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="task"]')) radio.addEventListener('change', onTaskChange);
let typing: ReturnType<typeof setTimeout> | undefined;
ui.data.addEventListener('input', () => {
  source = 'pasted data';
  clearTimeout(typing);
  typing = setTimeout(analyze, 250);
});
ui.sample.addEventListener('click', () => loadSample().catch((e: Error) => showError(e.message)));
ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  if (file) void loadFile(file);
  ui.file.value = '';
});
// A file dropped anywhere on the page is the data (the browser would otherwise open it).
window.addEventListener('dragover', (event) => {
  event.preventDefault();
  ui.drop.classList.add('over');
});
window.addEventListener('dragleave', (event) => {
  if (event.relatedTarget === null) ui.drop.classList.remove('over');
});
window.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.drop.classList.remove('over');
  const file = event.dataTransfer?.files[0];
  if (file && playground.state !== 'training') void loadFile(file);
});
ui.train.addEventListener('click', startTraining);
ui.stop.addEventListener('click', () => {
  send({ type: 'stop' });
  ui.status.textContent = 'stopping after this epoch…';
});

onTaskChange();
lossChart = new LossChart(ui.lossChart, 'loss');
setState('loading');
