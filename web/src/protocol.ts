// The messages between the page (main.ts) and the training worker (worker.ts).

export type Task = 'forecast' | 'classify' | 'generate';

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

export type Settings = ForecastSettings | ClassifySettings | GenerateSettings;

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

export type Result = ForecastResult | ClassifyResult | GenerateResult;

export type ToWorker =
  | { type: 'train'; data: string; settings: Settings }
  | { type: 'stop' }
  | { type: 'sample'; prime: string; temperature: number; length: number; seed: number }
  | { type: 'predict'; text: string };

export interface EpochMessage {
  type: 'epoch';
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number | null;
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
  | { type: 'error'; message: string };
