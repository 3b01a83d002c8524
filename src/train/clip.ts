// Gradient clipping over the flat gradient buffers (torch.nn.utils).

import { storesOf, type Parameterized } from './optimizers.js';

/**
 * Scale all gradients so their global L2 norm is at most maxNorm (PyTorch:
 * coefficient maxNorm / (norm + 1e-6), applied when below 1). Returns the norm
 * before clipping.
 */
export function clipGradNorm(params: Parameterized | readonly Parameterized[], maxNorm: number): number {
  const stores = storesOf(params);
  let sumSquares = 0;
  for (const s of stores) sumSquares += s.backend.sumSquares(s.size, s.grad);
  const norm = Math.sqrt(sumSquares);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const s of stores) s.backend.scale(s.size, s.grad, coef);
  return norm;
}

/** Clamp every gradient to [-clipValue, clipValue]. */
export function clipGradValue(params: Parameterized | readonly Parameterized[], clipValue: number): void {
  for (const s of storesOf(params)) s.backend.clamp(s.size, s.grad, clipValue);
}
