// The README's first example: lstmkit's layers feel like torch.nn.
// Run: npm run build && node dist/examples/torch-like.js

import { Adam, Dense, LSTM, clipGradNorm, manualSeed, mseLoss, tensor } from 'lstmkit';

manualSeed(0);
const lstm = new LSTM({ inputSize: 8, hiddenSize: 16, numLayers: 2, bidirectional: true, batchFirst: true });
const head = new Dense({ inFeatures: 32, outFeatures: 1 });
const optimizer = new Adam([lstm, head], { lr: 0.01 });

// A batch of 4 sequences, 10 steps, 8 features; the target is the mean of the first feature.
const x = tensor(Float32Array.from({ length: 4 * 10 * 8 }, (_, i) => Math.sin(i * 0.37)), [4, 10, 8]);
const target = tensor([0.1, -0.2, 0.3, 0.05], [4, 1]);

for (let step = 1; step <= 50; step++) {
  optimizer.zeroGrad();
  const { output, h, c } = lstm.forward(x);                    // output [4, 10, 32], h and c [4, 4, 16]
  const features = new Float32Array(4 * 32);                   // the last step of every sequence
  for (let b = 0; b < 4; b++) features.set(output.data.subarray((b * 10 + 9) * 32, (b * 10 + 10) * 32), b * 32);
  const prediction = head.forward(tensor(features, [4, 32]));
  const { loss, grad } = mseLoss(prediction, target);
  const dFeatures = head.backward(grad);
  const dOutput = new Float32Array(4 * 10 * 32);
  for (let b = 0; b < 4; b++) dOutput.set(dFeatures.data.subarray(b * 32, (b + 1) * 32), (b * 10 + 9) * 32);
  lstm.backward(tensor(dOutput, output.shape));                // gradients accumulate, as in PyTorch
  clipGradNorm([lstm, head], 1);
  optimizer.step();
  if (step % 10 === 0) console.log(`step ${step}  loss ${loss.toFixed(5)}  |h| ${h.shape}  |c| ${c.shape}`);
}
console.log(Object.keys(lstm.stateDict()).slice(0, 4).join(', '), '…'); // PyTorch names
