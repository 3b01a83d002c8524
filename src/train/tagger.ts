// Training, evaluating and running a TaggerModel on tagged sentences: the
// trainer's task (softmax cross-entropy or the CRF's likelihood, per token),
// evaluation (token accuracy, the confusion matrix, and span precision,
// recall and F1 with conlleval's rules when the tags mark spans), and
// tagging (tags, their probabilities, and spans).

import { Workspace } from '../core/arena.js';
import { ValueError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { swapLeadingAxes, tensor, type ArenaTensor } from '../core/tensor.js';
import type { Sentence } from '../data/conll.js';
import { encodeTagged, makeTaggedBatch, TAGGED_LIMITS, type TaggedBatch, type TaggedExample } from '../data/tagged.js';
import type { MetricName, TrainConfig } from '../model/config.js';
import type { TagPaths, TaggerModel } from '../model/tagger.js';
import { batchIndices } from '../data/batch.js';
import { crossEntropyArena } from './losses.js';
import { checkMonitor, type Metrics } from './metrics.js';
import { SpanAccumulator, spansOf, type Span, type SpanMetrics, type SpanScheme } from './spanmetrics.js';
import { DEFAULT_TRAIN, epochOrder, type TrainingTask } from './task.js';

/** How a model's batches spell words for its character BiLSTM (null without one). */
function charsOf(model: TaggerModel): { vocabulary: string[]; maxLength: number } | null {
  const chars = model.config.input.chars;
  return chars ? { vocabulary: chars.vocabulary!, maxLength: chars.maxLength ?? TAGGED_LIMITS.charMaxLength } : null;
}

/** The span scheme of a model's tags, or null when they are not spans. */
export function schemeOf(model: TaggerModel): SpanScheme | null {
  const s = model.config.output.scheme;
  return s === undefined || s === 'none' ? null : s;
}

function emissionsOf(model: TaggerModel, batch: TaggedBatch): ArenaTensor {
  return model.forwardArena({ words: batch.words, steps: batch.steps, lengths: batch.lengths, chars: batch.chars });
}

/**
 * The loss of a tagger's emissions [T, B, K] against tags [T, B] (-1 padding), per token: cross-entropy of the
 * softmax, or the CRF's negative log-likelihood over the batch's tokens (pytorch-crf's token_mean); and its
 * gradient w.r.t. the emissions, in `ws`. The CRF's own gradients are added into its parameters'.
 */
export function taggerLoss(
  model: TaggerModel, ws: Workspace, emissions: ArenaTensor, tags: Int32Array, lengths: Int32Array,
  opts: { labelSmoothing?: number; grad?: boolean } = {},
): { loss: number; grad: ArenaTensor | undefined } {
  const [T, B, K] = emissions.shape as [number, number, number];
  const crf = model.crf;
  if (!crf) {
    const { loss, grad } = crossEntropyArena(model.backend, ws, emissions, tags, {
      labelSmoothing: opts.labelSmoothing ?? 0, ...(opts.grad === false ? { grad: false } : {}),
    });
    return { loss, grad };
  }
  const batchFirst = tensor(swapLeadingAxes(model.backend.arena.view(emissions.offset, T * B * K), T, B, K), [B, T, K]);
  const gold = new Int32Array(B * T); // [B, T], padded steps 0 (the CRF reads each sentence's length only)
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) gold[b * T + t] = Math.max(0, tags[t * B + b]!);
  if (opts.grad === false) {
    const ll = crf.logLikelihood(batchFirst, gold, { lengths });
    const tokens = lengths.reduce((a, l) => a + l, 0);
    return { loss: -ll.reduce((a, v) => a + v, 0) / tokens, grad: undefined };
  }
  const { loss, dEmissions } = crf.nll(batchFirst, gold, { lengths, reduction: 'token_mean' });
  return { loss, grad: ws.put('dEmissions', swapLeadingAxes(dEmissions.data, B, T, K), [T, B, K]) };
}

export class TaggerTask implements TrainingTask<TaggedExample, TaggedBatch> {
  private readonly ws: Workspace;
  private grad: ArenaTensor | undefined;

  constructor(readonly model: TaggerModel, readonly config: TrainConfig) {
    this.ws = new Workspace(model.backend.arena);
  }

  checkMonitor(monitor: MetricName): void {
    checkMonitor(monitor, 'tagging');
    if (monitor === 'f1' && !schemeOf(this.model)) throw new ValueError("train.monitor 'f1' needs tags that mark spans (output.scheme BIO, IOB1 or BIOES)");
  }

  startEpoch(): void {}

  epochBatches(examples: readonly TaggedExample[], rng: Rng): TaggedBatch[] {
    const missing = examples.findIndex((e) => e.tags === null);
    if (missing >= 0) throw new ValueError(`sentence ${missing} has no tags; training needs them`);
    const chars = charsOf(this.model);
    return epochOrder(examples, this.config, rng).map((g) => makeTaggedBatch(examples, g, chars, { longestFirst: true }));
  }

  forward(batch: TaggedBatch): { loss: number; size: number } {
    const emissions = emissionsOf(this.model, batch);
    const { loss, grad } = taggerLoss(this.model, this.ws, emissions, batch.tags!, batch.lengths, { labelSmoothing: this.config.labelSmoothing ?? 0 });
    this.grad = grad;
    return { loss, size: batch.size };
  }

  backward(): void {
    if (!this.grad) throw new ValueError('backward before forward');
    this.model.backwardArena(this.grad);
  }

  evaluate(examples: readonly TaggedExample[]): Metrics {
    return evaluateTagger(this.model, examples, { batchSize: this.config.batchSize ?? DEFAULT_TRAIN.batchSize }).metrics;
  }
}

/**
 * The model in evaluation mode over `examples` in batches of similar length;
 * `visit` gets each batch, its emissions (valid during the call) and its decoded tags.
 */
function runTagger(model: TaggerModel, examples: readonly TaggedExample[], opts: { batchSize?: number; confidence?: boolean },
                   visit: (batch: TaggedBatch, emissions: ArenaTensor, decoded: TagPaths) => void): void {
  const chars = charsOf(model);
  const groups = batchIndices(examples, { batchSize: opts.batchSize ?? 64, shuffle: false, bucketByLength: true, rng: new Rng(0) });
  model.eval();
  try {
    for (const g of groups) {
      const batch = makeTaggedBatch(examples, g, chars, { longestFirst: true }); // rows mapped back through batch.indices
      const emissions = emissionsOf(model, batch);
      visit(batch, emissions, model.decodeArena(emissions, batch.lengths, { confidence: opts.confidence ?? false }));
    }
  } finally {
    model.train();
  }
}

/**
 * Loss (per token), token accuracy, the confusion matrix over tags, and — when
 * the tags mark spans — span precision, recall and F1 overall and per type
 * (conlleval's rules), with the count of invalid transitions in the output.
 */
export function evaluateTagger(model: TaggerModel, examples: readonly TaggedExample[], opts: { batchSize?: number } = {}): {
  metrics: Metrics; report: SpanMetrics;
} {
  const missing = examples.findIndex((e) => e.tags === null);
  if (missing >= 0) throw new ValueError(`sentence ${missing} has no tags; evaluation needs them`);
  const classes = model.classes;
  const scheme = schemeOf(model);
  const spans = new SpanAccumulator(scheme ?? 'BIO');
  const K = classes.length;
  const confusion = Array.from({ length: K }, () => Array.from({ length: K }, () => 0));
  let lossSum = 0;
  let tokens = 0;
  let correct = 0;
  const ws = new Workspace(model.backend.arena);
  runTagger(model, examples, opts, (batch, emissions, { paths }) => {
    const n = batch.lengths.reduce((a, l) => a + l, 0);
    lossSum += taggerLoss(model, ws, emissions, batch.tags!, batch.lengths, { grad: false }).loss * n;
    tokens += n;
    batch.indices.forEach((i, b) => {
      const gold = examples[i]!.tags!;
      const path = paths[b]!;
      for (let t = 0; t < gold.length; t++) {
        confusion[gold[t]!]![path[t]!]!++;
        if (gold[t] === path[t]) correct++;
      }
      if (scheme) spans.add(Array.from(gold, (k) => classes[k]!), path.map((k) => classes[k]!));
    });
  });
  ws.dispose();
  const report = spans.result();
  const metrics: Metrics = {
    loss: lossSum / tokens, accuracy: correct / tokens, confusion, count: examples.length,
    ...(scheme ? { precision: report.precision, recall: report.recall, f1: report.f1, invalidTransitions: report.invalidTransitions } : {}),
  };
  return { metrics, report };
}

/** A tagged sentence as `tag` returns it. */
export interface Tagged {
  tags: string[];
  /** The probability of each token's tag: the softmax's, or under the CRF the marginal p(y_t = tag | sentence). */
  confidence: number[];
  /** Spans, token indices [start, end), when the tags mark spans. */
  spans?: Span[];
}

/** Tag every example, in order. */
export function tagExamples(model: TaggerModel, examples: readonly TaggedExample[], opts: { batchSize?: number } = {}): Tagged[] {
  const out: Tagged[] = [];
  const classes = model.classes;
  const scheme = schemeOf(model);
  runTagger(model, examples, { ...opts, confidence: true }, (batch, _emissions, { paths, confidence }) => {
    batch.indices.forEach((i, b) => {
      const tags = paths[b]!.map((k) => classes[k]!);
      out[i] = { tags, confidence: confidence[b]!, ...(scheme ? { spans: spansOf(tags, scheme) } : {}) };
    });
  });
  return out;
}

/** A span in a sentence: its tokens [start, end), its characters [startChar, endChar) in the text, and that text. */
export interface TextSpan extends Span {
  startChar: number;
  endChar: number;
  text: string;
}

/** A sentence tagged: its tokens, their tags and confidences, and its spans with their place in the text. */
export interface TagResult {
  tokens: string[];
  tags: string[];
  confidence: number[];
  spans?: TextSpan[];
}

/** Tag sentences (tokens and the text they came from); errors name the file and line. */
export function tagSentences(model: TaggerModel, sentences: readonly Sentence[], opts: { batchSize?: number; file?: string } = {}): TagResult[] {
  const examples = encodeTagged(sentences.map((s) => ({ line: s.line, tokens: s.tokens, tags: [] })), model.config, {
    file: opts.file ?? '<input>', requireTags: false,
  });
  return tagExamples(model, examples, opts).map((tagged, i) => {
    const s = sentences[i]!;
    const spans = tagged.spans?.map((span) => {
      const startChar = s.offsets[span.start]![0];
      const endChar = s.offsets[span.end - 1]![1];
      return { ...span, startChar, endChar, text: s.text.slice(startChar, endChar) };
    });
    return { tokens: s.tokens, tags: tagged.tags, confidence: tagged.confidence, ...(spans ? { spans } : {}) };
  });
}
