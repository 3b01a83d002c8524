// TensorFlow.js on one workload, as a child of bench/run.ts.
//
//   node dist/bench/tfjs.js --workload train-medium --backend wasm|cpu [--quick]
//
// The same model as lstmkit's: tf.layers.lstm (recurrentActivation 'sigmoid',
// so the cell is PyTorch's and lstmkit's, not Keras's default hard sigmoid),
// stacked with returnSequences on all but the last, then a dense head on the
// last step's hidden state. A training step is what Keras's fit would do with
// clipnorm, written out because tf.train.adam has no clipping: gradients of
// the MSE by tf.variableGrads, scaled to a global norm of at most 5, then
// Adam's applyGradients. Inference is model.predict on one sequence.
//
// @tensorflow/tfjs-backend-wasm runs single-threaded in Node: its threaded
// build starts Emscripten pthreads from blob: URLs, which Node's Worker rejects.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  childArgs, emit, figureOf, lstmWorkload, peakRssMiB, randomFloats, runChild, timeIterations, timingOptions,
  unavailable, unitOf, type Measurement,
} from './common.js';

// The slice of the TensorFlow.js API used here, typed locally so the bench
// builds when the package is not installed.
interface TfTensor {
  dataSync(): ArrayLike<number>;
  dispose(): void;
}
type TfLayer = object;
interface TfModel {
  add(layer: TfLayer): void;
  apply(x: TfTensor, kwargs?: { training?: boolean }): TfTensor | TfTensor[];
  predict(x: TfTensor): TfTensor | TfTensor[];
  countParams(): number;
}
interface TfOptimizer {
  applyGradients(grads: Record<string, TfTensor>): void;
}
interface Tf {
  version: Record<string, string>;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  sequential(): TfModel;
  layers: {
    lstm(o: { units: number; recurrentActivation: string; returnSequences: boolean; inputShape?: number[] }): TfLayer;
    dense(o: { units: number }): TfLayer;
  };
  train: { adam(learningRate: number): TfOptimizer };
  tidy<T extends TfTensor | void>(fn: () => T): T;
  variableGrads(f: () => TfTensor): { value: TfTensor; grads: Record<string, TfTensor> };
  losses: { meanSquaredError(labels: TfTensor, predictions: TfTensor): TfTensor };
  tensor3d(values: Float32Array, shape: [number, number, number]): TfTensor;
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  scalar(value: number): TfTensor;
  square(x: TfTensor): TfTensor;
  sum(x: TfTensor): TfTensor;
  addN(xs: TfTensor[]): TfTensor;
  sqrt(x: TfTensor): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  div(a: TfTensor, b: TfTensor): TfTensor;
  mul(a: TfTensor, b: TfTensor): TfTensor;
  minimum(a: TfTensor, b: TfTensor): TfTensor;
  memory(): { numTensors: number; numBytes: number };
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function single(t: TfTensor | TfTensor[]): TfTensor {
  return Array.isArray(t) ? t[0]! : t;
}

runChild('tfjs', async () => {
  const { workload, quick, values } = childArgs();
  const w = lstmWorkload(workload, 'tfjs');
  const backendName = values.get('backend') ?? 'wasm';
  const peer = `tfjs-${backendName}`;
  const variant = backendName === 'wasm' ? 'wasm SIMD, 1 thread' : 'cpu (plain JS), 1 thread';
  let tf: Tf;
  try {
    const tfName = '@tensorflow/tfjs';
    tf = (await import(tfName)) as Tf;
    if (backendName === 'wasm') {
      const wasmName = '@tensorflow/tfjs-backend-wasm';
      await import(wasmName);
    }
  } catch (err) {
    const reason = `${(err as Error).message.split('\n')[0]}; npm install -D @tensorflow/tfjs @tensorflow/tfjs-backend-wasm`;
    emit(unavailable(peer, w, variant, 'not installed', reason));
    return;
  }
  // TF.js prints a hint about tfjs-node on first use; it is not a result.
  const log = console.log;
  console.log = (...args: unknown[]) => process.stderr.write(args.map(String).join(' ') + '\n');
  const ok = await tf.setBackend(backendName);
  await tf.ready();
  console.log = log;
  if (!ok || tf.getBackend() !== backendName) throw new Error(`tf.setBackend('${backendName}') failed (backend is ${tf.getBackend()})`);

  const model = tf.sequential();
  for (let l = 0; l < w.layers; l++) {
    model.add(tf.layers.lstm({
      units: w.hidden, recurrentActivation: 'sigmoid', returnSequences: l < w.layers - 1,
      ...(l === 0 ? { inputShape: [w.seq, w.input] } : {}),
    }));
  }
  model.add(tf.layers.dense({ units: w.output }));
  const extra: Record<string, unknown> = {
    tfjs: packageVersion('@tensorflow/tfjs'), backend: tf.getBackend(), parameters: model.countParams(),
  };
  if (backendName === 'wasm') extra.tfjsBackendWasm = packageVersion('@tensorflow/tfjs-backend-wasm');

  let samples: number[];
  let perIteration: number;
  if (w.kind === 'train') {
    const B = w.batch;
    const x = tf.tensor3d(randomFloats(B * w.seq * w.input, 11), [B, w.seq, w.input]); // batch-first, as TF.js wants
    const y = tf.tensor2d(randomFloats(B * w.output, 12), [B, w.output]);
    const optimizer = tf.train.adam(1e-3);
    const maxNorm = tf.scalar(5);
    const one = tf.scalar(1);
    const eps = tf.scalar(1e-6);
    const step = (): void => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => (
          tf.losses.meanSquaredError(y, single(model.apply(x, { training: true })))
        ));
        const names = Object.keys(grads);
        const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]!)))));
        const coef = tf.minimum(one, tf.div(maxNorm, tf.add(norm, eps)));
        const clipped: Record<string, TfTensor> = {};
        for (const n of names) clipped[n] = tf.mul(grads[n]!, coef);
        optimizer.applyGradients(clipped);
        return value;
      });
      loss.dataSync();
      loss.dispose();
    };
    samples = timeIterations(step, timingOptions(quick));
    perIteration = B;
  } else {
    const x = tf.tensor3d(randomFloats(w.seq * w.input, 11), [1, w.seq, w.input]);
    samples = timeIterations(() => {
      const out = single(model.predict(x));
      out.dataSync();
      out.dispose();
    }, timingOptions(quick));
    perIteration = 1;
  }
  extra.tensorsAfter = tf.memory().numTensors;
  const m: Measurement = {
    peer, workload: w.name, variant, threads: 1, status: 'ok', figure: figureOf(w, samples, perIteration),
    unit: unitOf(w), samples, sequencesPerIteration: perIteration, peakRssMiB: peakRssMiB(), extra,
  };
  if (w.kind === 'train') m.note = 'Adam; global-norm clip 5 written out (tf.train.adam has no clipnorm)';
  emit(m);
});
