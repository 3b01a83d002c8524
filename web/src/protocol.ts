// The messages between the page (main.ts) and the training worker (worker.ts).

export type Task = 'forecast' | 'classify' | 'generate' | 'transduce';

interface Common {
  /** The file the data came from (or the sample's name): names errors and the model file. */
  source: string;
  epochs: number;
  hiddenSize: number;
}

export interface ForecastSettings extends Common {
  task: 'forecast';
  dateColumn: string;
  target: string;
  lookback: number;
  horizon: number;
}

export interface ClassifySettings extends Common {
  task: 'classify';
  textColumn: string;
  labelColumn: string;
  tokenizer: 'char' | 'word';
}

export interface GenerateSettings extends Common {
  task: 'generate';
  /** 'text': one stream; 'lines': every line its own sequence (names, titles). */
  unit: 'text' | 'lines';
}

export interface TransduceSettings extends Common {
  task: 'transduce';
  /** How each side is split: characters (a word's letters) or space-separated words (phonemes). */
  sourceTokens: 'char' | 'word';
  targetTokens: 'char' | 'word';
}

export type Settings = ForecastSettings | ClassifySettings | GenerateSettings | TransduceSettings;

export interface ErrorMetrics {
  mae: number;
  rmse: number;
  mase: number;
}

export interface ForecastResult {
  task: 'forecast';
  target: string;
  modelName: string;
  frequency: string;
  season: number;
  horizon: number;
  /** Rows filled in by interpolation (missing dates). */
  filled: number;
  /** [rows] milliseconds since 1970 (UTC) and the target, one step apart. */
  times: number[];
  values: number[];
  /** First row of the test period. */
  testStart: number;
  /** Rolling forecasts over the test period: per origin row, `horizon` values. */
  backtest: { originRows: number[]; model: number[]; naive: number[]; seasonalNaive: number[] };
  metrics: { model: ErrorMetrics; naive: ErrorMetrics; seasonalNaive: ErrorMetrics };
  /** The forecast past the last row. */
  future: { dates: string[]; times: number[]; values: number[] };
}

export interface ClassifyResult {
  task: 'classify';
  classes: string[];
  /** On the held-out fifth of the rows. */
  heldOut: { count: number; accuracy: number; macroF1: number; confusion: number[][] };
  /** A few held-out rows with their predictions. */
  examples: { text: string; label: string; predicted: string; probability: number }[];
  vocabularySize: number;
}

export interface GenerateResult {
  task: 'generate';
  unit: 'text' | 'lines';
  /** Held-out bits per character (or word); null without held-out text. */
  bitsPerToken: number | null;
  tokenName: string;
  vocabularySize: number;
  samples: string[];
}

export interface TransduceResult {
  task: 'transduce';
  pairs: number;
  /** On the held-out tenth of the sources (all pairs of a source on one side); null when there are too few. */
  heldOut: { count: number; tokenErrorRate: number; sequenceErrorRate: number } | null;
  /** A few held-out (or training) pairs with their greedy outputs. */
  examples: { x: string; y: string; predicted: string }[];
  /** The source tokens the model knows (reserved ones left out), and the number of target tokens. */
  sourceVocabulary: string[];
  targetVocabularySize: number;
  sourceTokens: 'char' | 'word';
  targetTokens: 'char' | 'word';
  parameters: number;
}

export type Result = ForecastResult | ClassifyResult | GenerateResult | TransduceResult;

/** One output of the transducer: the text, its tokens and its score (log-probability / length). */
export interface Output {
  y: string;
  tokens: string[];
  score: number;
}

/** The transducer's answer for a typed source. */
export interface Transduction {
  id: number;
  text: string;
  beam: number;
  /** The source as the model reads it, and the tokens it lacks (read as <unk>). */
  sourceTokens: string[];
  unknown: string[];
  best: Output;
  /** Best first, `beam` of them; empty for greedy decoding. */
  nbest: Output[];
  /** [output tokens + <eos>][source tokens]: where the decoder looked for each output token. */
  attention: number[][];
}

export type ToWorker =
  | { type: 'train'; data: string; settings: Settings }
  | { type: 'stop' }
  | { type: 'sample'; prime: string; temperature: number; length: number; seed: number }
  | { type: 'predict'; text: string }
  | { type: 'transduce'; id: number; text: string; beam: number };

export interface EpochMessage {
  type: 'epoch';
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number | null;
  /** Transduction: the validation token error rate (PER for phonemes). */
  valTokenErrorRate?: number;
  seconds: number;
}

export type FromWorker =
  | { type: 'ready'; backend: { name: string; simd: boolean; threads: number; fallback?: string }; isolated: boolean }
  | { type: 'status'; text: string }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number }
  | EpochMessage
  | { type: 'done'; result: Result; model: { bytes: Uint8Array; fileName: string }; stopped: boolean; seconds: number }
  | { type: 'samples'; samples: string[] }
  | { type: 'prediction'; text: string; label: string; probabilities: Record<string, number> }
  | ({ type: 'transduction' } & Transduction)
  | { type: 'transduction-error'; id: number; text: string; message: string }
  | { type: 'error'; message: string };
