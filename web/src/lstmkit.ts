// Everything the playground takes from lstmkit, in one place: the public
// API of the library build Node runs (dist/src of `npm run build`, aliased
// as `lstmkit` in vite.config.ts).

export {
  LstmkitError, Rng, backendInfo, initBackend, parseCsv, parseDate, parseJsonl, parseTsvPairs, pairVocabularies, tokenize,
  Forecaster, TextClassifier, TextGenerator, Seq2Seq,
  type BackendInfo, type CsvTable, type JsonlRecord, type LabelledText, type Pair,
} from 'lstmkit';
