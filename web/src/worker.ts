// The training worker: the page posts data and settings, the worker trains
// with lstmkit's task recipes (Forecaster, TextClassifier, TextGenerator,
// Seq2Seq),
// posts the loss of every batch and epoch, then the result and the model file
// — the same bytes the Node recipes write. Training runs here so the page
// stays responsive.
//
// Backend: WebAssembly SIMD where the browser has it, else the reference
// backend. One thread: lstmkit's worker pool is built on Node's
// worker_threads, so in a browser the kernels run on this worker alone, even
// when the page is cross-origin isolated.

import singleWasmUrl from '../../dist/wasm/lstmkit-single.wasm?url';
import { readPairs } from './detect.js';
import {
  backendInfo, Forecaster, initBackend, LstmkitError, pairVocabularies, parseCsv, Rng, Seq2Seq, TextClassifier, TextGenerator,
  tokenize, type LabelledText, type Pair,
} from './lstmkit.js';
import type {
  ClassifyResult, ClassifySettings, ForecastResult, ForecastSettings, FromWorker, GenerateResult, GenerateSettings,
  Output, Result, Settings, ToWorker, Transduction, TransduceResult, TransduceSettings,
} from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
  crossOriginIsolated?: boolean;
}
const scope = self as unknown as WorkerScope;
const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

let stopRequested = false;
let generator: TextGenerator | undefined;
let classifier: TextClassifier | undefined;
let transducer: Seq2Seq | undefined;

/** Let queued messages (stop) in between epochs. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const ready = initBackend({ threads: 1, wasmUrl: new URL(singleWasmUrl, self.location.href) }).then((backend) => {
  const info = backendInfo(backend);
  post({ type: 'ready', backend: { ...info }, isolated: scope.crossOriginIsolated === true });
});

function safeName(source: string): string {
  const base = source.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '');
  return base || 'model';
}

function onBatch(log: { epoch: number; batch: number; batches: number; loss: number }): void {
  post({ type: 'batch', epoch: log.epoch, batch: log.batch, batches: log.batches, loss: log.loss });
}

async function afterEpoch(message: Omit<Extract<FromWorker, { type: 'epoch' }>, 'type'>, stop: () => void): Promise<void> {
  post({ type: 'epoch', ...message });
  await yieldToEvents();
  if (stopRequested) stop();
}

async function forecast(data: string, s: ForecastSettings): Promise<{ result: ForecastResult; bytes: Uint8Array }> {
  const table = parseCsv(data, s.source);
  const forecaster = await Forecaster.fit(table, {
    dateColumn: s.dateColumn, target: s.target, lookback: s.lookback, horizon: s.horizon, gaps: 'interpolate',
    model: { hiddenSize: s.hiddenSize },
    train: { epochs: s.epochs },
    callbacks: {
      onBatchEnd: onBatch,
      onEpochEnd: (log, trainer) => afterEpoch({
        epoch: log.epoch, epochs: log.epochs, loss: log.loss, valLoss: log.val?.loss ?? null, seconds: log.seconds,
      }, () => trainer.stop()),
    },
  });
  const evaluation = forecaster.evaluate();
  const future = forecaster.forecast();
  const { series, backtest, metrics } = evaluation;
  const result: ForecastResult = {
    task: 'forecast', target: s.target, modelName: forecaster.modelName, frequency: evaluation.frequency,
    season: evaluation.season, horizon: evaluation.horizon, filled: series.filled,
    times: series.times, values: Array.from(series.values[s.target]!), testStart: evaluation.startRow,
    backtest: {
      originRows: backtest.originRows, model: Array.from(backtest.model), naive: Array.from(backtest.naive),
      seasonalNaive: Array.from(backtest.seasonalNaive),
    },
    metrics: {
      model: { ...metrics.model }, naive: { ...metrics.naive }, seasonalNaive: { ...metrics.seasonalNaive },
    },
    future: { dates: future.dates, times: future.times, values: future.values },
  };
  return { result, bytes: forecaster.toBytes() };
}

/** The rows of a table as labelled texts. */
function labelledRows(data: string, s: ClassifySettings): LabelledText[] {
  const table = parseCsv(data, s.source);
  const text = table.header.indexOf(s.textColumn);
  const label = table.header.indexOf(s.labelColumn);
  if (text === -1 || label === -1) {
    const missing = text === -1 ? s.textColumn : s.labelColumn;
    throw new LstmkitError(`${s.source}: no column "${missing}" (the columns are ${table.header.join(', ')})`);
  }
  return table.rows.map((row) => ({ text: row[text]!, label: row[label]!.trim() }));
}

async function classify(data: string, s: ClassifySettings): Promise<{ result: ClassifyResult; bytes: Uint8Array }> {
  const rows = labelledRows(data, s);
  // A seeded fifth held out, to measure the model on rows it never saw.
  const order = new Rng(7).shuffle(rows.map((_, i) => i));
  const cut = Math.round(rows.length * 0.8);
  const train = order.slice(0, cut).map((i) => rows[i]!);
  const heldOut = order.slice(cut).map((i) => rows[i]!);
  classifier = new TextClassifier({
    tokenizer: s.tokenizer, hiddenSize: s.hiddenSize, embeddingDim: s.tokenizer === 'char' ? 16 : 64,
    train: { epochs: s.epochs, earlyStopping: { patience: 3 } },
  });
  const model = classifier;
  await model.fit(train, {
    ...(heldOut.length ? { validation: heldOut } : {}),
    callbacks: {
      onBatchEnd: onBatch,
      onEpochEnd: (log, trainer) => afterEpoch({
        epoch: log.epoch, epochs: log.epochs, loss: log.loss, valLoss: log.val?.loss ?? null, seconds: log.seconds,
      }, () => trainer.stop()),
    },
  });
  const metrics = heldOut.length ? model.evaluate(heldOut) : model.evaluate(train);
  const shown = heldOut.slice(0, 12);
  const predictions = model.predict(shown.map((r) => r.text));
  const result: ClassifyResult = {
    task: 'classify', classes: metrics.classes, vocabularySize: model.vocabulary.length,
    heldOut: {
      count: metrics.count, accuracy: metrics.accuracy, macroF1: metrics.macroF1, confusion: metrics.confusion,
    },
    examples: shown.map((r, i) => ({
      text: r.text, label: String(r.label), predicted: predictions[i]!.label,
      probability: predictions[i]!.probabilities[predictions[i]!.label]!,
    })),
  };
  const training = {
    source: s.source, rows: rows.length, heldOut: result.heldOut, epochs: model.history.length,
    madeBy: 'lstmkit playground', savedAt: new Date().toISOString(),
  };
  return { result, bytes: model.toModelFile({ training }) };
}

async function generate(data: string, s: GenerateSettings): Promise<{ result: GenerateResult; bytes: Uint8Array }> {
  generator = new TextGenerator({
    unit: s.unit, tokenizer: 'char', hiddenSize: s.hiddenSize, embeddingDim: 32, tbptt: 64,
    train: { epochs: s.epochs, batchSize: 16, optimizer: { name: 'adam', lr: 0.003 } },
  });
  const model = generator;
  await model.fit(data, {
    validationSplit: 0.1,
    callbacks: {
      onBatchEnd: onBatch,
      onEpochEnd: (log) => afterEpoch({
        epoch: log.epoch, epochs: log.epochs, loss: log.loss, valLoss: log.val?.loss ?? null, seconds: log.seconds,
      }, () => model.stop()),
    },
  });
  const last = model.history[model.history.length - 1];
  const result: GenerateResult = {
    task: 'generate', unit: s.unit, tokenName: model.tokenName, vocabularySize: model.vocabulary.length,
    bitsPerToken: last?.val ? Math.min(...model.history.map((h) => h.val!.bitsPerToken)) : null,
    samples: model.sample({ temperature: 0.7, count: s.unit === 'lines' ? 8 : 1, length: s.unit === 'lines' ? 40 : 400, seed: 1 }),
  };
  const training = {
    source: s.source, characters: data.length, epochs: model.history.length, bitsPerToken: result.bitsPerToken,
    madeBy: 'lstmkit playground', savedAt: new Date().toISOString(),
  };
  return { result, bytes: model.toModelFile({ training }) };
}

/** A side of a pair as shown: a text, or its tokens joined by spaces. */
const shown = (side: Pair['x']): string => (typeof side === 'string' ? side : side.join(' '));

/**
 * A seeded tenth of the sources held out, every pair of a source on the same
 * side (a word's pronunciations stay together); none below 20 sources.
 */
function holdOut(pairs: Pair[]): { train: Pair[]; heldOut: Pair[] } {
  const key = (p: Pair) => JSON.stringify(p.x);
  const sources = [...new Set(pairs.map(key))];
  if (sources.length < 20) return { train: pairs, heldOut: [] };
  const held = new Set(new Rng(7).shuffle(sources).slice(0, Math.round(sources.length / 10)));
  return { train: pairs.filter((p) => !held.has(key(p))), heldOut: pairs.filter((p) => held.has(key(p))) };
}

async function transduce(data: string, s: TransduceSettings): Promise<{ result: TransduceResult; bytes: Uint8Array }> {
  const { records } = readPairs(data, s.source);
  if (records.length === 0) throw new LstmkitError(`${s.source}: no pairs (one per line: source<TAB>target, or a JSON object {"x": …, "y": …})`);
  // Every pair checked here, so an error names its line in the file (fit names the index in the training list).
  const spec = { input: { type: 'tokens', tokenizer: s.sourceTokens }, output: { tokenizer: s.targetTokens } } as const;
  pairVocabularies(records, spec, s.source);
  const pairs = records.map((r): Pair => ({ x: r.value.x as Pair['x'], y: r.value.y as Pair['y'] }));
  const { train, heldOut } = holdOut(pairs);
  const longest = train.reduce((n, p) => Math.max(n, (typeof p.y === 'string' ? tokenize(p.y, s.targetTokens) : p.y).length), 0);
  transducer = new Seq2Seq({
    source: s.sourceTokens, target: s.targetTokens, embeddingDim: 32, hiddenSize: s.hiddenSize,
    // An output twice the longest target is a decoder that lost its way: stop it there, not at 100 tokens.
    maxOutputLength: 2 * longest + 2,
    train: {
      // Cosine decay to 0 over the epochs: the last epochs settle instead of jumping about (measured on the G2P sample).
      epochs: s.epochs, batchSize: 32, optimizer: { name: 'adam', lr: 0.004 }, schedule: { name: 'cosine' },
      ...(heldOut.length ? { monitor: 'tokenErrorRate' } : {}),
    },
  });
  const model = transducer;
  await model.fit(train, {
    ...(heldOut.length ? { validation: heldOut } : {}),
    callbacks: {
      onBatchEnd: onBatch,
      onEpochEnd: (log, trainer) => afterEpoch({
        epoch: log.epoch, epochs: log.epochs, loss: log.loss, valLoss: log.val?.loss ?? null,
        ...(log.val?.tokenErrorRate !== undefined ? { valTokenErrorRate: log.val.tokenErrorRate } : {}),
        seconds: log.seconds,
      }, () => trainer.stop()),
    },
  });
  const metrics = heldOut.length ? model.evaluate(heldOut) : null;
  const examplePairs = (heldOut.length ? heldOut : train).slice(0, 12);
  const outputs = model.predict(examplePairs.map((p) => p.x));
  const config = model.model.config;
  const vocabulary = config.input.type === 'tokens' ? config.input.vocabulary ?? [] : [];
  const result: TransduceResult = {
    task: 'transduce', pairs: pairs.length,
    heldOut: metrics
      ? { count: heldOut.length, tokenErrorRate: metrics.tokenErrorRate!, sequenceErrorRate: metrics.sequenceErrorRate! }
      : null,
    examples: examplePairs.map((p, i) => ({ x: shown(p.x), y: shown(p.y), predicted: shown(outputs[i]!.y) })),
    sourceVocabulary: vocabulary.slice(2), targetVocabularySize: model.model.targetVocabulary.length - 4,
    sourceTokens: s.sourceTokens, targetTokens: s.targetTokens, parameters: model.model.parameterCount,
  };
  const training = {
    source: s.source, pairs: pairs.length, heldOut: result.heldOut, epochs: model.history.length,
    madeBy: 'lstmkit playground', savedAt: new Date().toISOString(),
  };
  return { result, bytes: model.toModelFile({ training }) };
}

/** The output for a typed source: best, n-best (beam > 1), and where the decoder looked. */
function transduceText(id: number, text: string, beam: number): Transduction {
  if (!transducer) throw new LstmkitError('train a transducer first');
  const input = transducer.model.config.input;
  if (input.type !== 'tokens') throw new LstmkitError('this model reads a vector, not a text');
  if (text.trim() === '') throw new LstmkitError('type a word: the source is empty');
  const sourceTokens = tokenize(text, input.tokenizer ?? 'char');
  const known = new Set(input.vocabulary);
  const unknown = [...new Set(sourceTokens.filter((t) => !known.has(t)))];
  const [r] = transducer.predict([text], { beam, nbest: beam, attention: true });
  const output = (o: { y: Pair['y']; tokens: string[]; score: number }): Output => ({ y: shown(o.y), tokens: o.tokens, score: o.score });
  return {
    id, text, beam, sourceTokens, unknown, best: output(r!), nbest: beam > 1 ? (r!.nbest ?? []).map(output) : [],
    attention: r!.attention ?? [],
  };
}

const FILE_SUFFIX: Record<Settings['task'], string> = { forecast: 'forecast', classify: 'classifier', generate: 'generator', transduce: 'seq2seq' };

async function train(data: string, settings: Settings): Promise<void> {
  stopRequested = false;
  generator = undefined;
  classifier = undefined;
  transducer = undefined;
  const started = performance.now();
  post({ type: 'status', text: 'preparing the data…' });
  let out: { result: Result; bytes: Uint8Array };
  if (settings.task === 'forecast') out = await forecast(data, settings);
  else if (settings.task === 'classify') out = await classify(data, settings);
  else if (settings.task === 'generate') out = await generate(data, settings);
  else out = await transduce(data, settings);
  const fileName = `${safeName(settings.source)}-${FILE_SUFFIX[settings.task]}.lstmkit`;
  const bytes = out.bytes;
  post({ type: 'done', result: out.result, model: { bytes, fileName }, stopped: stopRequested, seconds: (performance.now() - started) / 1000 }, [bytes.buffer]);
}

function describe(error: unknown): string {
  if (error instanceof LstmkitError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type === 'stop') {
    stopRequested = true;
    return;
  }
  if (message.type === 'transduce') {
    // Its errors (an empty word, no model yet) belong to the output box, not the page's error line.
    void ready.then(() => {
      try {
        post({ type: 'transduction', ...transduceText(message.id, message.text, message.beam) });
      } catch (error) {
        post({ type: 'transduction-error', id: message.id, text: message.text, message: describe(error) });
      }
    });
    return;
  }
  void (async () => {
    try {
      await ready;
      if (message.type === 'train') await train(message.data, message.settings);
      else if (message.type === 'sample') {
        if (!generator) throw new LstmkitError('train a generator first');
        const samples = generator.sample({
          prime: message.prime, temperature: message.temperature, length: message.length, seed: message.seed,
          count: generator.unit === 'lines' ? 8 : 1,
        });
        post({ type: 'samples', samples });
      } else if (message.type === 'predict') {
        if (!classifier) throw new LstmkitError('train a classifier first');
        const [prediction] = classifier.predict([message.text]);
        post({ type: 'prediction', text: message.text, label: prediction!.label, probabilities: prediction!.probabilities });
      }
    } catch (error) {
      post({ type: 'error', message: describe(error) });
    }
  })();
});

ready.catch((error: unknown) => post({ type: 'error', message: `the compute backend did not start: ${describe(error)}` }));
