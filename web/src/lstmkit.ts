// Everything the playground takes from lstmkit, in one place. `lstmkit` is
// the library build Node runs (dist/src of `npm run build`, aliased in
// vite.config.ts). The task recipes are not in the public API
// (src/index.ts) yet, so they come from their modules; once they are, this
// file becomes one import from 'lstmkit'.

export { LstmkitError } from 'lstmkit/core/errors.js';
export { Rng } from 'lstmkit/core/rng.js';
export { backendInfo, initBackend, type BackendInfo } from 'lstmkit/kernels/index.js';
export { parseCsv, type CsvTable } from 'lstmkit/data/csv.js';
export { parseDate } from 'lstmkit/data/dates.js';
export { Forecaster } from 'lstmkit/tasks/forecaster.js';
export { TextClassifier, type LabelledText } from 'lstmkit/tasks/classifier.js';
export { TextGenerator } from 'lstmkit/tasks/generator.js';
