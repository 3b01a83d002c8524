// onnxruntime-node on an inference workload, as a child of bench/run.ts.
//
//   node dist/bench/onnxruntime.js --workload infer-latency --onnx DIR --threads 1|2 [--quick]
//
// DIR holds model.onnx, the same weights lstmkit runs (written by
// `lstmkit.js --export DIR`, exported to ONNX by torch_bench.py
// --export-onnx until src/io/onnx has an exporter), x.bin and lstmkit's
// output in model.json: the run checks that onnxruntime computes the same
// numbers before timing session.run on one sequence.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  childArgs, emit, figureOf, lstmWorkload, peakRssMiB, runChild, timeIterationsAsync, timingOptions, unavailable, unitOf,
} from './common.js';

// The slice of onnxruntime-node's API used here, typed locally so the bench
// builds when the package is not installed.
interface OrtTensor {
  readonly data: ArrayLike<number>;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}
interface Ort {
  InferenceSession: {
    create(path: string, options: {
      intraOpNumThreads: number; interOpNumThreads: number; executionMode: 'sequential';
      graphOptimizationLevel: 'all';
    }): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

const require = createRequire(import.meta.url);
const PEER = 'onnxruntime';

runChild(PEER, async () => {
  const { workload, threads, quick, values } = childArgs();
  const w = lstmWorkload(workload, PEER);
  const variant = threads === 1 ? '1 thread' : `${threads} threads`;
  if (w.kind !== 'infer') {
    emit(unavailable(PEER, w, variant, 'n/a', 'inference only'));
    return;
  }
  let ort: Ort;
  try {
    const name = 'onnxruntime-node';
    ort = (await import(name)) as Ort;
  } catch (err) {
    emit(unavailable(PEER, w, variant, 'not installed', `${(err as Error).message.split('\n')[0]}; npm install -D onnxruntime-node`));
    return;
  }
  const dir = values.get('onnx');
  if (!dir || !existsSync(join(dir, 'model.onnx'))) {
    emit(unavailable(
      PEER, w, variant, 'not installed',
      'no ONNX model of the lstmkit weights: exporting needs PyTorch (python3-torch) until src/io/onnx has an exporter',
    ));
    return;
  }
  const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { x: { shape: number[] }; y: { data: number[] } };
  const raw = readFileSync(join(dir, 'x.bin'));
  const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const feeds = { [input]: new ort.Tensor('float32', x, meta.x.shape) };
  const first = (await session.run(feeds))[output]!.data;
  let maxDiff = 0;
  meta.y.data.forEach((v, i) => {
    maxDiff = Math.max(maxDiff, Math.abs(v - first[i]!));
  });
  if (!(maxDiff < 1e-4)) throw new Error(`onnxruntime's output differs from lstmkit's by ${maxDiff}: the exported model is not the same`);
  const samples = await timeIterationsAsync(async () => {
    await session.run(feeds);
  }, timingOptions(quick));
  let version: string | undefined;
  try {
    version = (JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    version = undefined;
  }
  emit({
    peer: PEER, workload: w.name, variant, threads, status: 'ok', figure: figureOf(w, samples, 1), unit: unitOf(w),
    samples, sequencesPerIteration: 1, peakRssMiB: peakRssMiB(),
    extra: { onnxruntimeNode: version, maxAbsDiffVsLstmkit: maxDiff, model: 'torch.onnx.export, opset 14 (LSTM op + Gemm head)' },
  });
});
