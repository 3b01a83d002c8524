// Modules compose as torch.nn's do: parameter names fall out of the tree,
// a child sees its slice of the one parameter block, training mode reaches
// every child, and the containers and small modules (Sequential, Dropout,
// Activation) are checked against finite differences in Float64.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Activation, Adam, Dense, Dropout, LSTM, LstmkitError, Module, Rng, SequenceModel, Sequential, tensor,
  type ModuleOptions, type Tensor,
} from '../../src/index.js';
import { ReferenceBackend } from '../../src/internals.js';

class Encoder extends Module {
  readonly rnn: LSTM;
  readonly proj: Sequential;
  constructor(opts: ModuleOptions) {
    super(opts);
    this.rnn = this.addModule('rnn', new LSTM({ inputSize: 3, hiddenSize: 4, bidirectional: true }, opts));
    this.proj = this.addModule('proj', new Sequential([
      new Dense({ inFeatures: 8, outFeatures: 5 }, opts),
      new Activation('tanh', opts),
      new Dense({ inFeatures: 5, outFeatures: 2, bias: false }, opts),
    ], opts));
  }
}

test('state-dict names are dotted paths of the tree, in PyTorch order; a child sees its own names', () => {
  const backend = new ReferenceBackend('float32');
  const enc = new Encoder({ backend, seed: 1 });
  assert.deepEqual(Object.keys(enc.stateDict()), [
    'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0',
    'rnn.weight_ih_l0_reverse', 'rnn.weight_hh_l0_reverse', 'rnn.bias_ih_l0_reverse', 'rnn.bias_hh_l0_reverse',
    'proj.0.weight', 'proj.0.bias', 'proj.2.weight',
  ]);
  assert.deepEqual(Object.keys(enc.proj.stateDict()), ['0.weight', '0.bias', '2.weight']);
  assert.deepEqual(enc.proj.stateDict()['0.bias'], enc.stateDict()['proj.0.bias']);
  assert.equal(enc.parameterCount, enc.rnn.parameterCount + enc.proj.parameterCount);

  const model = new SequenceModel({
    input: { type: 'tokens', embeddingDim: 3, vocabulary: ['<pad>', '<unk>', 'a'] }, rnn: { cell: 'gru', hiddenSize: 2 },
    output: { mode: 'sequence', type: 'regression' },
  }, { backend, seed: 1 });
  assert.deepEqual(Object.keys(model.stateDict()), [
    'embedding.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'head.weight', 'head.bias',
  ]);
});

test('a child is a slice of the one parameter block: loading, zeroing and optimizing it touch nothing else', () => {
  const backend = new ReferenceBackend('float32');
  const enc = new Encoder({ backend, seed: 2 });
  const before = enc.stateDict();
  const rnnBlock = enc.rnn.parameters();
  assert.equal(rnnBlock.data, enc.parameters().data, 'the first child starts the block');
  assert.ok(enc.proj.parameters().data >= rnnBlock.data + rnnBlock.size, 'the next child follows it');
  // Gradients everywhere, then an optimizer over the projection only.
  const heap = backend.arena.heap;
  heap.fill(1, enc.parameters().grad, enc.parameters().grad + enc.parameters().size);
  new Adam(enc.proj, { lr: 0.1 }).step();
  const after = enc.stateDict();
  for (const name of Object.keys(before)) {
    if (name.startsWith('rnn.')) assert.deepEqual(after[name], before[name], `${name} is not the optimizer's`);
    else assert.notDeepEqual(after[name], before[name], `${name} moved`);
  }
  enc.rnn.zeroGrad();
  assert.ok(Object.values(enc.rnn.gradDict()).every((g) => g.every((v) => v === 0)));
  assert.ok(Object.values(enc.proj.gradDict()).every((g) => g.every((v) => v === 1)));
  enc.proj.loadStateDict({ '0.weight': new Float32Array(40), '0.bias': new Float32Array(5), '2.weight': new Float32Array(10) });
  assert.ok(enc.stateDict()['proj.0.weight']!.every((v) => v === 0));
  assert.deepEqual(enc.stateDict()['rnn.weight_ih_l0'], after['rnn.weight_ih_l0']);
});

test('train() and eval() reach every child; a module has one parent, added before its parameters exist', () => {
  const backend = new ReferenceBackend('float32');
  const enc = new Encoder({ backend, seed: 3 });
  enc.eval();
  assert.equal(enc.rnn.training, false);
  assert.equal(enc.proj.layers[1]!.training, false);
  enc.train();
  assert.equal(enc.proj.layers[2]!.training, true);
  class Twice extends Module {
    constructor(child: Dense) {
      super({ backend });
      this.addModule('a', child);
      this.addModule('b', child);
    }
  }
  assert.throws(
    () => new Twice(new Dense({ inFeatures: 1, outFeatures: 1 }, { backend })),
    (e: unknown) => e instanceof LstmkitError && /one parent/.test(e.message),
  );
  const used = new Dense({ inFeatures: 1, outFeatures: 1 }, { backend });
  used.stateDict();
  assert.throws(() => new Sequential([used], { backend }), /already has parameters/);
  assert.throws(
    () => new Sequential([new Dense({ inFeatures: 1, outFeatures: 1 }, { backend })], { backend: new ReferenceBackend('float32') }),
    /another backend/,
  );
});

/** Float64 central differences of sum(y ⊙ r) for a one-tensor module, w.r.t. its input and every parameter. */
function gradcheck(
  make: (backend: ReferenceBackend) => Sequential | Dense | Activation | Dropout,
  shape: number[],
  replay?: (m: Dropout | Sequential | Dense | Activation) => () => void,
): void {
  const backend = new ReferenceBackend('float64');
  const module = make(backend);
  const rng = new Rng(5);
  const rand = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  const size = shape.reduce((a, b) => a * b, 1);
  const x = tensor(rand(size), shape);
  const outSize = module.forward(x).data.length;
  const r = rand(outSize);
  const reset = replay?.(module) ?? (() => {});
  const loss = (input: Tensor): number => {
    reset();
    const y = module.forward(input).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
    return s;
  };
  reset();
  const y = module.forward(x);
  module.zeroGrad();
  const dx = module.backward(tensor(r, y.shape)).data;
  const grads = module.gradDict();
  const eps = 1e-6;
  const close = (what: string, analytic: number, numeric: number) => assert.ok(
    Math.abs(analytic - numeric) <= 1e-7 + 1e-6 * Math.abs(numeric),
    `${what}: analytic ${analytic}, numeric ${numeric}`,
  );
  for (let i = 0; i < size; i++) {
    const v = x.data[i]!;
    x.data[i] = v + eps;
    const up = loss(x);
    x.data[i] = v - eps;
    const down = loss(x);
    x.data[i] = v;
    close(`dx[${i}]`, dx[i]!, (up - down) / (2 * eps));
  }
  const params = module.parameters();
  const heap = backend.arena.heap;
  for (const name of params.names()) {
    const at = params.offset(name);
    const n = params.shape(name).reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) {
      const v = heap[at + i]!;
      heap[at + i] = v + eps;
      const up = loss(x);
      heap[at + i] = v - eps;
      const down = loss(x);
      heap[at + i] = v;
      close(`${name}[${i}]`, grads[name]![i]!, (up - down) / (2 * eps));
    }
  }
}

test('gradient check: Sequential(Dense, tanh, Dense, relu, Dense, sigmoid) over [batch, steps, features]', () => {
  gradcheck((backend) => new Sequential([
    new Dense({ inFeatures: 3, outFeatures: 5 }, { backend, seed: 1 }), new Activation('tanh', { backend }),
    new Dense({ inFeatures: 5, outFeatures: 4 }, { backend }), new Activation('relu', { backend }),
    new Dense({ inFeatures: 4, outFeatures: 2 }, { backend }), new Activation('sigmoid', { backend }),
  ], { backend, seed: 1 }), [2, 3, 3]);
});

test('gradient check: Dropout in training mode (the same mask replayed) and the identity in eval mode', () => {
  const replay = (m: Dropout | Sequential | Dense | Activation) => {
    const state = m.getRngState();
    return () => m.setRngState(state);
  };
  gradcheck((backend) => new Sequential(
    [new Dense({ inFeatures: 4, outFeatures: 6 }, { backend }), new Dropout(0.4, { backend })],
    { backend, seed: 2 },
  ), [5, 4], replay);
  const backend = new ReferenceBackend('float32');
  const drop = new Dropout(0.5, { backend, seed: 3 });
  const x = tensor(Float32Array.from({ length: 400 }, (_, i) => i + 1), [400]);
  const y = drop.forward(x).data;
  const zeros = y.filter((v) => v === 0).length;
  assert.ok(zeros > 150 && zeros < 250, `${zeros} of 400 dropped at p = 0.5`);
  assert.ok(y.every((v, i) => v === 0 || v === 2 * x.data[i]!), 'kept values are scaled by 1/(1-p)');
  drop.eval();
  assert.deepEqual(drop.forward(x).data, x.data);
  assert.throws(() => new Dropout(1), /p must be in \[0, 1\)/);
});
