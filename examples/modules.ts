// The README's "Models are modules" example: a module tree of your own, a
// config model trained by hand (tensors in and out, a loss function,
// backward), then by the Trainer with checkpoints, and resumed.
// Run: npm run build && node dist/examples/modules.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Activation, Adam, addingProblem, clipGradNorm, Dense, Dropout, encodeRecords, LSTM, Module, mseLoss, parseJsonl,
  Rng, SequenceModel, Sequential, tensor, Trainer, type ModuleOptions,
} from 'lstmkit';

class Encoder extends Module {
  readonly rnn: LSTM;
  readonly proj: Sequential;
  constructor(opts: ModuleOptions = {}) {
    super(opts);
    this.rnn = this.addModule('rnn', new LSTM({ inputSize: 8, hiddenSize: 32, bidirectional: true }, opts));
    this.proj = this.addModule('proj', new Sequential([
      new Dense({ inFeatures: 64, outFeatures: 32 }, opts), new Activation('tanh', opts), new Dropout(0.1, opts),
    ], opts));
  }
}
console.log('an Encoder of your own:', Object.keys(new Encoder({ seed: 1 }).stateDict()).join(', '));

// The adding problem (two marked numbers among T steps; the target is their sum), batch first.
const B = 64;
const T = 20;
const records = parseJsonl(addingProblem(B * 8, T, new Rng(1)).map((r) => JSON.stringify(r)).join('\n'), 'adding');
const config = {
  input: { type: 'features', size: 2 },
  rnn: { cell: 'lstm', hiddenSize: 32, bidirectional: true },
  output: { mode: 'sequence', type: 'regression', pooling: 'mean' },
} as const;

const model = new SequenceModel(config, { seed: 1 });
console.log('a config model:', Object.keys(model.stateDict()).join(', '));
const optimizer = new Adam(model, { lr: 0.005 });
const xs = records.map((r) => (r.value.x as number[][]).flat());
const ys = records.map((r) => r.value.y as number);
for (let step = 1; step <= 40; step++) {
  const at = ((step - 1) % 8) * B;
  const x = tensor(xs.slice(at, at + B).flat(), [B, T, 2]);
  const target = tensor(ys.slice(at, at + B), [B, 1]);
  const y = model.forward({ x }, { lengths: Array.from({ length: B }, () => T) });
  const { loss, grad } = mseLoss(y, target);
  model.zeroGrad();
  model.backward(grad);
  clipGradNorm(model, 5);
  optimizer.step();
  if (step % 10 === 0) console.log(`by hand, step ${step}  loss ${loss.toFixed(5)}`);
}

// The same model by the Trainer: early stopping, best weights, checkpoints in a run directory; then resumed.
const run = mkdtempSync(join(tmpdir(), 'lstmkit-modules-'));
const examples = encodeRecords(records, config, { file: 'adding', requireTarget: true });
const train = { epochs: 3, batchSize: 32, optimizer: { name: 'adam', lr: 0.005 }, clipNorm: 5, validationSplit: 0.2, earlyStopping: { patience: 3 } } as const;
const trainer = new Trainer(new SequenceModel(config, { seed: 1 }), train);
for (const log of await trainer.fit(examples, { checkpoint: { dir: run } })) {
  console.log(`trainer, epoch ${log.epoch}  loss ${log.loss.toFixed(5)}  val ${log.val!.loss.toFixed(5)}`);
}
const resumed = await Trainer.resume(join(run, 'last.lstmkit'), { ...train, epochs: 5 });
const more = await resumed.fit(examples, { checkpoint: { dir: run } });
const epochs = more.slice(3).map((l) => l.epoch).join(', ');
console.log(`resumed after epoch 3: epochs ${epochs}, val ${more[4]!.val!.loss.toFixed(5)}; best epoch ${resumed.bestEpoch}`);
rmSync(run, { recursive: true, force: true });
