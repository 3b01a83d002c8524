// Span (chunk) metrics for sequence labelling, as conlleval (CoNLL-2000/2003)
// computes them: chunks read from tag sequences by conlleval's startOfChunk and
// endOfChunk, exact matches of type, start and end, micro-averaged precision,
// recall and F1 overall and per type, token accuracy; and a confusion matrix
// over tags, and a count of transitions the scheme forbids.

import { ValueError } from '../core/errors.js';
import { sortLabels } from '../data/vocabulary.js';

/**
 * BIO (IOB2): every chunk opens with B-. IOB1: I- throughout, B- only to
 * separate a chunk from an adjacent one of the same type (CoNLL-2003's
 * original files). BIOES: B-, I-, E- for longer chunks, S- for a single token.
 */
export type SpanScheme = 'BIO' | 'IOB1' | 'BIOES';

/** A chunk: its type and its tokens [start, end), end exclusive. */
export interface Span {
  type: string;
  start: number;
  end: number;
}

interface Tag {
  prefix: 'O' | 'B' | 'I' | 'E' | 'S';
  type: string;
}

const OUTSIDE: Tag = { prefix: 'O', type: '' };
const FORMS: Record<SpanScheme, string> = { BIO: 'B-X, I-X', IOB1: 'I-X, B-X', BIOES: 'B-X, I-X, E-X, S-X' };

function checkScheme(scheme: unknown, where: string): SpanScheme {
  if (scheme !== 'BIO' && scheme !== 'IOB1' && scheme !== 'BIOES') {
    throw new ValueError(`${where}: scheme must be 'BIO', 'IOB1' or 'BIOES', got ${JSON.stringify(scheme) ?? String(scheme)}`);
  }
  return scheme;
}

/** 'O', or a prefix the scheme has, a hyphen and a type (the type may hold hyphens too). */
function parseTags(tags: readonly string[], scheme: SpanScheme, where: string): Tag[] {
  return tags.map((tag, i) => {
    if (tag === 'O') return OUTSIDE;
    const m = /^([BIES])-(.+)$/s.exec(tag);
    if (!m || (scheme !== 'BIOES' && (m[1] === 'E' || m[1] === 'S'))) {
      throw new ValueError(`${where}[${i}] is ${JSON.stringify(tag)}; a ${scheme} tag is 'O' or ${FORMS[scheme]}`);
    }
    return { prefix: m[1] as Tag['prefix'], type: m[2]! };
  });
}

// conlleval.pl (2004-01-26), on the tags before and at a position (the
// sentence starts and ends as O):
//   endOfChunk: B→B, B→O, I→B, I→O, E→E, E→I, E→O; or the previous tag is not
//     O and its type differs from this one's (O's type is '').
//   startOfChunk: B→B, I→B, O→B, O→I, E→E, E→I, O→E; or this tag is not O and
//     its type differs from the previous one's.
// So an I- after O, or after a chunk of another type, opens a chunk (conlleval
// keeps invalid I- tags rather than dropping them), and a B- after I- of the
// same type opens one: BIO and IOB1 read alike. conlleval knows no S-, and its
// E- is IOE's, where B- does not occur (E-X B-X reads as one chunk), so for
// BIOES the rules are those conlleval ports add (seqeval's default mode):
// a chunk also ends after every E- or S-, and B- and S- always open one, and
// E- or I- after S- opens one.

function endOfChunk(prev: Tag, tag: Tag): boolean {
  const p = prev.prefix;
  const t = tag.prefix;
  if (p === 'E' || p === 'S') return true;
  if ((p === 'B' || p === 'I') && (t === 'B' || t === 'S' || t === 'O')) return true;
  return p !== 'O' && prev.type !== tag.type;
}

function startOfChunk(prev: Tag, tag: Tag): boolean {
  const p = prev.prefix;
  const t = tag.prefix;
  if (t === 'B' || t === 'S') return true;
  if ((t === 'I' || t === 'E') && (p === 'O' || p === 'E' || p === 'S')) return true;
  return t !== 'O' && prev.type !== tag.type;
}

function spansOfParsed(tags: readonly Tag[]): Span[] {
  const spans: Span[] = [];
  let prev = OUTSIDE;
  let start = -1; // the open chunk's first token, or -1
  for (let i = 0; i <= tags.length; i++) {
    const tag = i < tags.length ? tags[i]! : OUTSIDE;
    if (start >= 0 && endOfChunk(prev, tag)) {
      spans.push({ type: prev.type, start, end: i });
      start = -1;
    }
    if (startOfChunk(prev, tag)) start = i;
    prev = tag;
  }
  return spans;
}

/**
 * The chunks of a tag sequence as conlleval reads them (see above), in order.
 * A tag is 'O' or a scheme prefix, '-' and a type; anything else is a ValueError.
 */
export function spansOf(tags: readonly string[], scheme: SpanScheme = 'BIO'): Span[] {
  return spansOfParsed(parseTags(tags, checkScheme(scheme, 'spansOf'), 'spansOf: tags'));
}

/** May `tag` follow `prev` (null: the sentence's start) under the scheme? `tag` null: may the sentence end after `prev`? */
function allowed(prev: Tag | null, tag: Tag | null, scheme: SpanScheme): boolean {
  const open = prev !== null && (prev.prefix === 'B' || prev.prefix === 'I'); // a chunk continues past prev
  const sameType = prev !== null && tag !== null && prev.type === tag.type;
  if (scheme === 'BIO') return tag?.prefix !== 'I' || (open && sameType);
  if (scheme === 'IOB1') return tag?.prefix !== 'B' || (open && sameType);
  if (tag === null) return !open;
  const continues = tag.prefix === 'I' || tag.prefix === 'E';
  return open ? continues && sameType : !continues;
}

/**
 * How many transitions in a tag sequence the scheme forbids, the sentence's
 * start and end counted as transitions too (as a constrained CRF forbids them):
 *  - BIO: I-X not after B-X or I-X (first in the sentence, after O, after another type);
 *  - IOB1: B-X not after B-X or I-X (B- only separates two chunks of one type);
 *  - BIOES: after B-X or I-X anything but I-X or E-X (the end of the sentence
 *    included); I- or E- after O, E-, S- or first.
 * conlleval still reads such sequences (see spansOf); this says how often a
 * model's per-token choices break the scheme.
 */
export function invalidTransitions(tags: readonly string[], scheme: SpanScheme = 'BIO'): number {
  return countInvalid(parseTags(tags, checkScheme(scheme, 'invalidTransitions'), 'invalidTransitions: tags'), scheme);
}

function countInvalid(tags: readonly Tag[], scheme: SpanScheme): number {
  let count = 0;
  for (let i = 0; i <= tags.length; i++) {
    if (!allowed(i > 0 ? tags[i - 1]! : null, i < tags.length ? tags[i]! : null, scheme)) count++;
  }
  return count;
}

/** Precision, recall and F1 of one chunk type (or of all), on the 0–1 scale. */
export interface SpanScores {
  precision: number;
  recall: number;
  f1: number;
  /** Gold chunks. */
  support: number;
  /** Predicted chunks. */
  predicted: number;
  /** Predicted chunks that match a gold chunk exactly: type, start and end. */
  correct: number;
}

export interface TypeScores extends SpanScores {
  type: string;
}

export interface SpanMetrics extends SpanScores {
  /** Tokens whose predicted tag is the gold tag, of all tokens (O included, as conlleval). */
  accuracy: number;
  tokens: number;
  correctTokens: number;
  sentences: number;
  /** Per chunk type seen in the gold or the predicted tags, sorted by type (code units, as conlleval's Perl sort). */
  types: TypeScores[];
  /** counts[g][p]: tokens with gold tag labels[g] and predicted tag labels[p]; labels sorted, gold and predicted alike. */
  confusion: { labels: string[]; counts: number[][] };
  /** Transitions the scheme forbids in the predicted tags (see invalidTransitions), and the sentences with any. */
  invalidTransitions: number;
  invalidSentences: number;
  scheme: SpanScheme;
}

/** conlleval's figures: 0 where a denominator is 0. */
function scores(support: number, predicted: number, correct: number): SpanScores {
  const precision = predicted > 0 ? correct / predicted : 0;
  const recall = support > 0 ? correct / support : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support, predicted, correct };
}

/**
 * conlleval's evaluation, one sentence at a time: chunks from the gold and the
 * predicted tags (spansOf), a predicted chunk correct when a gold chunk has its
 * type, start and end. Precision, recall and F1 are micro-averaged (summed
 * over the corpus, then divided) and 0 when their denominator is; accuracy
 * too is 0 when no tokens were added, as conlleval prints.
 */
export class SpanAccumulator {
  readonly scheme: SpanScheme;
  private tokens = 0;
  private correctTokens = 0;
  private sentences = 0;
  private invalid = 0;
  private invalidSentences = 0;
  /** Per type: [gold, predicted, correct]. */
  private readonly counts = new Map<string, [number, number, number]>();
  /** gold tag → predicted tag → tokens. */
  private readonly pairs = new Map<string, Map<string, number>>();

  constructor(scheme: SpanScheme = 'BIO') {
    this.scheme = checkScheme(scheme, 'SpanAccumulator');
  }

  /** Adds one sentence: its gold tags and the predicted ones, one per token. */
  add(goldTags: readonly string[], predictedTags: readonly string[]): void {
    const s = this.sentences;
    if (goldTags.length !== predictedTags.length) {
      throw new ValueError(
        `SpanAccumulator.add: sentence ${s} has ${goldTags.length} gold tags but ${predictedTags.length} predicted; expected one predicted tag per token`,
      );
    }
    const gold = parseTags(goldTags, this.scheme, `SpanAccumulator.add: sentence ${s}, gold tags`);
    const predicted = parseTags(predictedTags, this.scheme, `SpanAccumulator.add: sentence ${s}, predicted tags`);
    const count = (type: string, k: 0 | 1 | 2) => {
      const c = this.counts.get(type) ?? [0, 0, 0];
      c[k]++;
      this.counts.set(type, c);
    };
    const goldSpans = new Set<string>();
    for (const span of spansOfParsed(gold)) {
      count(span.type, 0);
      goldSpans.add(`${span.start} ${span.end} ${span.type}`);
    }
    for (const span of spansOfParsed(predicted)) {
      count(span.type, 1);
      if (goldSpans.has(`${span.start} ${span.end} ${span.type}`)) count(span.type, 2);
    }
    goldTags.forEach((g, i) => {
      const p = predictedTags[i]!;
      if (g === p) this.correctTokens++;
      const row = this.pairs.get(g) ?? new Map<string, number>();
      row.set(p, (row.get(p) ?? 0) + 1);
      this.pairs.set(g, row);
    });
    const invalid = countInvalid(predicted, this.scheme);
    this.invalid += invalid;
    if (invalid > 0) this.invalidSentences++;
    this.tokens += goldTags.length;
    this.sentences++;
  }

  result(): SpanMetrics {
    let support = 0;
    let predicted = 0;
    let correct = 0;
    const types = [...this.counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((type) => {
      const [g, p, c] = this.counts.get(type)!;
      support += g;
      predicted += p;
      correct += c;
      return { type, ...scores(g, p, c) };
    });
    const labels = sortLabels([...this.pairs.keys(), ...[...this.pairs.values()].flatMap((row) => [...row.keys()])]);
    const counts = labels.map((g) => labels.map((p) => this.pairs.get(g)?.get(p) ?? 0));
    return {
      ...scores(support, predicted, correct),
      accuracy: this.tokens > 0 ? this.correctTokens / this.tokens : 0,
      tokens: this.tokens,
      correctTokens: this.correctTokens,
      sentences: this.sentences,
      types,
      confusion: { labels, counts },
      invalidTransitions: this.invalid,
      invalidSentences: this.invalidSentences,
      scheme: this.scheme,
    };
  }
}

/** C's printf("%6.2f"): the value's exact binary rounded to 2 decimals, an exact tie to even (toFixed takes it up). */
function fixed(x: number): string {
  const scaled = x * 100;
  if (Number.isInteger(x * 8) && scaled - Math.floor(scaled) === 0.5) {
    const down = Math.floor(scaled);
    return ((down % 2 === 0 ? down : down + 1) / 100).toFixed(2).padStart(6);
  }
  return x.toFixed(2).padStart(6);
}

/** Precision, recall and FB1 as conlleval computes them, in per cent first: the last digit it prints depends on that order. */
function percents(s: SpanScores): string {
  const precision = s.predicted > 0 ? (100 * s.correct) / s.predicted : 0;
  const recall = s.support > 0 ? (100 * s.correct) / s.support : 0;
  const fb1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return `precision: ${fixed(precision)}%; recall: ${fixed(recall)}%; FB1: ${fixed(fb1)}`;
}

/**
 * conlleval's summary, character for character: tokens and chunks, then
 * accuracy, precision, recall and FB1 overall, then per type (sorted) ending
 * with the number of predicted chunks of the type, as conlleval prints it (not
 * the support).
 */
export function formatSpanReport(m: SpanMetrics): string {
  const lines = [`processed ${m.tokens} tokens with ${m.support} phrases; found: ${m.predicted} phrases; correct: ${m.correct}.`];
  if (m.tokens > 0) lines.push(`accuracy: ${fixed((100 * m.correctTokens) / m.tokens)}%; ${percents(m)}`);
  for (const s of m.types) lines.push(`${s.type.padStart(17)}: ${percents(s)}  ${s.predicted}`);
  return lines.join('\n') + '\n';
}
