// A sequence-to-sequence model (encoder–decoder with attention, Luong et al.
// 2015), built from a config as a tree of modules a reader can follow:
//
//   src_embedding  Embedding          source tokens (index 0 is padding)
//   encoder        LSTM | GRU | RNN   reads the source; its outputs are the attention's memory
//   bridge_h/_c    Dense              the encoder's final state → the decoder's first (tanh)
//   tgt_embedding  Embedding          target tokens: <pad> <unk> <bos> <eos> …
//   decoder        LSTM               one step at a time; input [embedding; h̃ of the last step] (input feeding)
//   attention      Attention          dot / general / additive scores over the unpadded source steps
//   combine        Dense (no bias)    h̃ = tanh(combine([context; h]))
//   out            Dense              h̃ → logits over the target tokens (or tied to tgt_embedding)
//
// With output.dropout p, training drops the source and target embeddings
// and h̃ where the output projection reads it (not where the next step's
// input reads it), each unit with probability p (inverted dropout).
//
// A vector input (one-to-many: a caption from features) has no encoder,
// attention or combine: the vector is the encoder's final h and c, and the
// logits read h directly. Without attention ('none') the decoder reads only
// the embedding and h̃ = h. The state-dict names are those of the PyTorch twin
// in test/fixtures/make_seq2seq_fixtures.py, which this model matches.
//
// Training runs the decoder on the known target (teacher forcing): step t
// reads target token t-1. Each step of the decoder, attention and combine is
// a tape slot, so backward runs the steps in reverse. Decoding (greedy or
// beam search) runs one step per call through a DecodeSession.

import { Workspace } from '../core/arena.js';
import { ShapeError, ValueError, assertFinite, describeShape, positiveInt } from '../core/errors.js';
import { defaultRng, Rng } from '../core/rng.js';
import { arenaTensor, sizeOf, swapLeadingAxes, tensor, type ArenaTensor, type Indices, type Tensor } from '../core/tensor.js';
import { PAD_ID } from '../data/pairs.js';
import { gateCount, type Backend } from '../kernels/backend.js';
import { Attention } from '../layers/attention.js';
import { Dense } from '../layers/dense.js';
import { Dropout } from '../layers/dropout.js';
import { Embedding } from '../layers/embedding.js';
import { GRU } from '../layers/gru.js';
import { LSTM } from '../layers/lstm.js';
import { Module, type ModuleOptions } from '../layers/module.js';
import { uniformInit, type ParamSpec } from '../layers/params.js';
import type { Recurrent } from '../layers/recurrent.js';
import { RNN } from '../layers/rnn.js';
import { deinterleave, interleave } from './rows.js';
import { parseSeq2SeqConfig, SEQ2SEQ_DEFAULTS, type Seq2SeqConfig } from './config.js';

/** What the arena face of forward takes: a source (tokens or one vector per sequence) and the decoder's input tokens. */
export interface Seq2SeqInput {
  /** [S, B] source token indices, time-major (token input), or null. */
  src: Indices | null;
  /** [B] the true length of each source sequence (token input), or null. */
  srcLengths: Int32Array | null;
  /** [B, F] one feature vector per sequence (vector input), or null. */
  vector: ArenaTensor | null;
  /** [T, B] the decoder's input tokens, time-major: <bos> y1 … y(n) then padding (0). */
  tin: Indices;
}

/** The encoder's result for a batch: the memory attention reads and the decoder's first state. */
interface Encoded {
  B: number;
  memory: ArenaTensor | null; // [S, B, De]
  lengths: Int32Array | null;
  h0: ArenaTensor; // [Ld, B, Hd]
  c0: ArenaTensor; // [Ld, B, Hd]
}

export class Seq2SeqModel extends Module {
  readonly config: Seq2SeqConfig;
  readonly srcEmbedding: Embedding | null;
  readonly encoder: Recurrent | null;
  readonly bridgeH: Dense;
  readonly bridgeC: Dense;
  readonly tgtEmbedding: Embedding;
  readonly decoder: LSTM;
  readonly attention: Attention | null;
  readonly combine: Dense | null;
  readonly out: Dense | TiedOutput;
  private readonly dropSource: Dropout;
  private readonly dropTarget: Dropout;
  private readonly dropOutput: Dropout;
  /** Features of what the decoder starts from: the encoder's directions × hidden size, or the vector's size. */
  readonly memorySize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  private last: { T: number; B: number; S: number; encoded: Encoded; h0: ArenaTensor; c0: ArenaTensor } | undefined;
  /** The decoding session whose source the attention holds now (another forward or session makes it stale). */
  private session: DecodeSession | undefined;

  constructor(config: unknown, opts: { backend?: Backend; seed?: number } = {}) {
    const c = parseSeq2SeqConfig(config);
    if (c.input.type === 'tokens' && !c.input.vocabulary) {
      throw new ValueError('seq2seq config: input.vocabulary is missing (build it from the training data with completeSeq2SeqConfig)');
    }
    if (!c.output.vocabulary) {
      throw new ValueError('seq2seq config: output.vocabulary is missing (build it from the training data with completeSeq2SeqConfig)');
    }
    const init = opts.seed === undefined ? defaultRng() : new Rng(opts.seed);
    super({ ...(opts.backend ? { backend: opts.backend } : {}), seed: init.nextU32() });
    this.config = c;
    const module: ModuleOptions = { backend: this.backend };
    const { input, rnn, output } = c;
    const sizes = seq2seqSizes(c);
    this.memorySize = sizes.De;
    this.hiddenSize = sizes.Hd;
    this.numLayers = sizes.Ld;
    const embedding = (numEmbeddings: number, embeddingDim: number) => new Embedding({ numEmbeddings, embeddingDim, paddingIdx: PAD_ID }, module);
    this.srcEmbedding = input.type === 'tokens' ? this.addModule('src_embedding', embedding(input.vocabulary!.length, sizes.Es)) : null;
    if (input.type === 'tokens' && rnn) {
      const common = {
        inputSize: sizes.Es, hiddenSize: rnn.hiddenSize, numLayers: rnn.numLayers ?? 1,
        bidirectional: rnn.bidirectional ?? false, dropout: rnn.dropout ?? 0, recurrentDropout: rnn.recurrentDropout ?? 0,
      };
      this.encoder = this.addModule('encoder', rnn.cell === 'lstm' ? new LSTM(common, module)
        : rnn.cell === 'gru' ? new GRU(common, module)
        : new RNN({ ...common, nonlinearity: rnn.nonlinearity ?? 'tanh' }, module));
    } else this.encoder = null;
    const { De, Hd, Ld, Et, Vt } = sizes;
    this.bridgeH = this.addModule('bridge_h', new Dense({ inFeatures: De, outFeatures: Ld * Hd }, module));
    this.bridgeC = this.addModule('bridge_c', new Dense({ inFeatures: De, outFeatures: Ld * Hd }, module));
    this.tgtEmbedding = this.addModule('tgt_embedding', embedding(Vt, Et));
    const kind = sizes.attention;
    this.decoder = this.addModule('decoder', new LSTM({ inputSize: kind === 'none' ? Et : Et + Hd, hiddenSize: Hd, numLayers: Ld }, module));
    this.attention = kind === 'none' ? null : this.addModule('attention', new Attention({ kind, querySize: Hd, memorySize: De }, module));
    this.combine = kind === 'none' ? null : this.addModule('combine', new Dense({ inFeatures: De + Hd, outFeatures: Hd, bias: false }, module));
    this.out = this.addModule('out', output.tieEmbeddings
      ? new TiedOutput(this.tgtEmbedding, module)
      : new Dense({ inFeatures: Hd, outFeatures: Vt }, module));
    const p = output.dropout ?? 0;
    this.dropSource = this.addModule('dropout_source', new Dropout(p, module));
    this.dropTarget = this.addModule('dropout_target', new Dropout(p, module));
    this.dropOutput = this.addModule('dropout_output', new Dropout(p, module));
    this.initParameters(init);
  }

  /** Target tokens, <pad> <unk> <bos> <eos> first. */
  get targetVocabulary(): readonly string[] {
    return this.config.output.vocabulary!;
  }

  /** Longest output when decoding. */
  get maxLength(): number {
    return this.config.output.maxLength ?? 100;
  }

  // ---- training: teacher forcing over a batch, arena face ----------------

  /**
   * Logits [T, B, Vt] for every step of the decoder input (step t predicts
   * target token t), and the attention weights [T, B, S] (null without
   * attention). Both are this model's buffers. Keeps what backward needs.
   */
  forwardArena(input: Seq2SeqInput): { logits: ArenaTensor; attention: ArenaTensor | null } {
    this.session = undefined;
    const encoded = this.encode(input);
    const { B } = encoded;
    const [T, B2] = input.tin.shape as [number, number];
    if (input.tin.shape.length !== 2 || B2 !== B) {
      throw new ShapeError(`seq2seq: the decoder input has shape ${describeShape(input.tin.shape)}, expected [steps, ${B}]`);
    }
    const { Hd, De } = this.sizes;
    const S = encoded.memory?.shape[0] ?? 0;
    const emb = this.dropTarget.forwardArena(this.tgtEmbedding.forwardArena(input.tin.data, [T, B]));
    const Et = this.tgtEmbedding.embeddingDim;
    const htilde = this.ws.tensor('htilde', [T, B, Hd]);
    const weights = this.attention ? this.ws.tensor('attention', [T, B, S]) : null;
    const b = this.backend;
    let h = encoded.h0;
    let c = encoded.c0;
    for (let t = 0; t < T; t++) {
      let x = arenaTensor(emb.offset + t * B * Et, [1, B, Et]);
      if (this.attention) {
        // Input feeding: [embedding; h̃ of the last step] (zeros before the first).
        x = this.ws.tensor(`x@${t}`, [1, B, Et + Hd]);
        interleave(b, B, emb.offset + t * B * Et, Et, t === 0 ? -1 : htilde.offset + (t - 1) * B * Hd, Hd, x.offset);
      }
      const ran = this.decoder.forwardArena(x, { h0: h, c0: c, slot: t });
      h = ran.h;
      c = ran.c!;
      const top = arenaTensor(ran.output.offset, [B, Hd]);
      const ht = htilde.offset + t * B * Hd;
      if (!this.attention) {
        b.copy(B * Hd, top.offset, ht);
        continue;
      }
      const { context, weights: a } = this.attention.forwardStep(top, t);
      b.copy(B * S, a.offset, weights!.offset + t * B * S);
      const cat = this.ws.tensor(`cat@${t}`, [B, De + Hd]);
      interleave(b, B, context.offset, De, top.offset, Hd, cat.offset);
      const pre = this.combine!.forwardArena(cat, t);
      b.tanh(B * Hd, pre.offset, ht);
    }
    const logits = this.out.forwardArena(this.dropOutput.forwardArena(htilde));
    this.last = { T, B, S, encoded, h0: encoded.h0, c0: encoded.c0 };
    return { logits, attention: weights };
  }

  /** Back-propagate dLoss/dlogits [T, B, Vt] into the parameter gradients (added). */
  backwardArena(dLogits: ArenaTensor): void {
    const last = this.last;
    if (!last) throw new ValueError('Seq2SeqModel.backward called before forward');
    const { T, B, encoded } = last;
    const { Hd, De } = this.sizes;
    const Et = this.tgtEmbedding.embeddingDim;
    const b = this.backend;
    const dHtilde = this.dropOutput.backwardArena(this.out.backwardArena(dLogits)!)!; // [T, B, Hd]
    const dEmb = this.ws.tensor('dEmb', [T, B, Et]);
    const dFeed = this.attention ? this.ws.tensor('dFeed', [B, Hd]) : null; // dLoss/dh̃ through the next step's input
    const g = this.ws.tensor('dStep', [B, Hd]);
    const dTop = this.ws.tensor('dTop', [1, B, Hd]);
    const dContext = this.ws.tensor('dContext', [B, De]);
    let dh: ArenaTensor | undefined;
    let dc: ArenaTensor | undefined;
    for (let t = T - 1; t >= 0; t--) {
      b.copy(B * Hd, dHtilde.offset + t * B * Hd, g.offset);
      if (dFeed && t < T - 1) b.axpy(B * Hd, 1, dFeed.offset, g.offset);
      if (this.attention) {
        tanhBackward(b, B * Hd, this.ws.get('htilde', 0) + t * B * Hd, g.offset, g.offset);
        const dCat = this.combine!.backwardArena(arenaTensor(g.offset, [B, Hd]), true, t)!; // [B, De + Hd]
        deinterleave(b, B, dCat.offset, De, dContext.offset, Hd, dTop.offset);
        const dQuery = this.attention.backwardStep(dContext, t);
        b.axpy(B * Hd, 1, dQuery.offset, dTop.offset);
      } else b.copy(B * Hd, g.offset, dTop.offset);
      const r = this.decoder.backwardArena({ dOutput: dTop, dh, dc }, true, t);
      if (dFeed) deinterleave(b, B, r.dx!.offset, Et, dEmb.offset + t * B * Et, Hd, dFeed.offset);
      else b.copy(B * Et, r.dx!.offset, dEmb.offset + t * B * Et);
      dh = r.dh0;
      dc = r.dc0;
    }
    this.tgtEmbedding.backwardArena(this.dropTarget.backwardArena(dEmb)!);
    this.backwardEncoder(encoded, last, dh!, dc!);
  }

  // ---- the encoder and the bridge ----------------------------------------

  /** The memory and the decoder's first state for a batch. */
  private encode(input: Seq2SeqInput): Encoded {
    const { De, Hd, Ld } = this.sizes;
    let hN: ArenaTensor;
    let cN: ArenaTensor;
    let memory: ArenaTensor | null = null;
    let lengths: Int32Array | null = null;
    if (this.encoder) {
      const src = input.src;
      if (!src) throw new ValueError('this seq2seq model reads source tokens; the input has none');
      if (src.shape.length !== 2) throw new ShapeError(`seq2seq: the source has shape ${describeShape(src.shape)}, expected [steps, batch]`);
      const [S, B] = src.shape as [number, number];
      lengths = input.srcLengths ?? new Int32Array(B).fill(S);
      if (lengths.length !== B || lengths.some((l) => l < 1 || l > S)) {
        throw new ValueError(`seq2seq: source lengths must be ${B} integers in [1, ${S}], got [${Array.from(lengths).join(', ')}]`);
      }
      const x = this.dropSource.forwardArena(this.srcEmbedding!.forwardArena(src.data, [S, B]));
      const ran = this.encoder.forwardArena(x, { lengths: lengths.every((l) => l === S) ? null : lengths });
      memory = ran.output;
      hN = this.lastLayer(ran.h, B, 'hN');
      cN = ran.c ? this.lastLayer(ran.c, B, 'cN') : hN;
    } else {
      const v = input.vector;
      if (!v) throw new ValueError('this seq2seq model reads one feature vector per sequence; the input has none');
      if (v.shape.length !== 2 || v.shape[1] !== De) {
        throw new ShapeError(`seq2seq: the input vectors have shape ${describeShape(v.shape)}, expected [batch, ${De}]`);
      }
      hN = cN = v;
    }
    const B = hN.shape[0]!;
    const h0 = this.ws.tensor('h0', [Ld, B, Hd]);
    const c0 = this.ws.tensor('c0', [Ld, B, Hd]);
    bridgeForward(this.backend, this.bridgeH.forwardArena(hN), B, Ld, Hd, h0.offset);
    bridgeForward(this.backend, this.bridgeC.forwardArena(cN), B, Ld, Hd, c0.offset);
    if (this.attention) this.attention.prepare(memory!, lengths!);
    return { B, memory, lengths, h0, c0 };
  }

  /** The last layer's final state of every direction, side by side: [L·D, B, He] → [B, D·He]. */
  private lastLayer(state: ArenaTensor, B: number, name: string): ArenaTensor {
    const enc = this.encoder!;
    const D = enc.numDirections;
    const He = enc.stateSize;
    const out = this.ws.tensor(name, [B, D * He]);
    const first = (enc.numLayers - 1) * D;
    for (let d = 0; d < D; d++) {
      for (let r = 0; r < B; r++) this.backend.copy(He, state.offset + ((first + d) * B + r) * He, out.offset + r * D * He + d * He);
    }
    return out;
  }

  private backwardEncoder(encoded: Encoded, last: { h0: ArenaTensor; c0: ArenaTensor }, dh0: ArenaTensor, dc0: ArenaTensor): void {
    const { Ld, Hd } = this.sizes;
    const B = encoded.B;
    const dhN = this.bridgeH.backwardArena(bridgeBackward(this.backend, this.ws, 'dBridgeH', last.h0, dh0, B, Ld, Hd))!;
    const dcN = this.bridgeC.backwardArena(bridgeBackward(this.backend, this.ws, 'dBridgeC', last.c0, dc0, B, Ld, Hd))!;
    const dMemory = this.attention ? this.attention.finishBackward() : undefined;
    const enc = this.encoder;
    if (!enc) return; // a vector input is data: it needs no gradient
    const D = enc.numDirections;
    const He = enc.stateSize;
    const L = enc.numLayers;
    const dh = this.ws.tensor('dhn', [L * D, B, He]);
    this.backend.fill(L * D * B * He, dh.offset, 0);
    let dc: ArenaTensor | undefined;
    if (enc.hasCellState) {
      dc = this.ws.tensor('dcn', [L * D, B, He]);
      this.backend.fill(L * D * B * He, dc.offset, 0);
    }
    const first = (L - 1) * D;
    for (let d = 0; d < D; d++) {
      for (let r = 0; r < B; r++) {
        const from = r * D * He + d * He;
        const to = ((first + d) * B + r) * He;
        this.backend.axpy(He, 1, dhN.offset + from, dh.offset + to);
        // Without a cell state the encoder's h is also what bridge_c read.
        this.backend.axpy(He, 1, dcN.offset + from, (dc ?? dh).offset + to);
      }
    }
    const { dx } = enc.backwardArena({ dOutput: dMemory, dh, dc }, true);
    this.srcEmbedding!.backwardArena(this.dropSource.backwardArena(dx!)!);
  }

  /** The sizes the model was built with. */
  get sizes(): Seq2SeqSizes {
    return seq2seqSizes(this.config);
  }

  // ---- decoding, one step at a time --------------------------------------

  /**
   * Start decoding a batch: encodes the source (token input: `src` [B, S]
   * rows of indices with `lengths`; vector input: `vector` [B, F]) and
   * returns a session of B · `beams` rows, each source row repeated `beams`
   * times (row r·beams + k reads source r). The model runs in eval mode
   * until the session is disposed. A model decodes one session at a time: a
   * forward or a newer session makes this one stale (its steps then throw).
   */
  startDecoding(source: { src: Indices; lengths: Int32Array } | { vector: Tensor }, opts: { beams?: number } = {}): DecodeSession {
    const K = positiveInt(opts.beams ?? 1, 'beams', 'startDecoding');
    const input = this.stageSource(source);
    const wasTraining = this.training;
    this.eval();
    try {
      // Each source is encoded once; its K rows (a beam's hypotheses) start from copies.
      const encoded = this.encode(input);
      this.session = new DecodeSession(this, K > 1 ? this.repeatEncoded(encoded, K) : encoded, K, wasTraining);
    } catch (e) {
      this.train(wasTraining);
      throw e;
    }
    return this.session;
  }

  /** An encoded batch with each row repeated K times in a row: the memory, lengths and first states of B·K rows. */
  private repeatEncoded(e: Encoded, K: number): Encoded {
    this.attention?.repeatRows(K);
    return {
      B: e.B * K,
      memory: e.memory && this.ws.repeatRows('repeatedMemory', e.memory, K),
      lengths: e.lengths && Int32Array.from({ length: e.B * K }, (_, r) => e.lengths![Math.floor(r / K)]!),
      h0: this.ws.repeatRows('repeatedH0', e.h0, K),
      c0: this.ws.repeatRows('repeatedC0', e.c0, K),
    };
  }

  /** The source of a decoding batch in the arena, time-major. */
  private stageSource(source: { src: Indices; lengths: Int32Array } | { vector: Tensor }): Seq2SeqInput {
    const none = { data: new Int32Array(0), shape: [0, 0] };
    if ('vector' in source) {
      const [B, F] = source.vector.shape as [number, number];
      if (source.vector.shape.length !== 2 || F !== this.memorySize) {
        throw new ShapeError(`seq2seq: the input vectors have shape ${describeShape(source.vector.shape)}, expected [batch, ${this.memorySize}]`);
      }
      assertFinite(source.vector.data, 'seq2seq input vector');
      return { src: null, srcLengths: null, vector: this.ws.put('vectors', source.vector.data, [B, F]), tin: none };
    }
    const [B, S] = source.src.shape as [number, number];
    if (source.src.shape.length !== 2 || source.src.data.length !== B * S) {
      const got = `${describeShape(source.src.shape)} and ${source.src.data.length} indices`;
      throw new ShapeError(`startDecoding: src has shape ${got}; expected [batch, steps], every entry given`);
    }
    if (source.lengths.length !== B || source.lengths.some((l) => !Number.isInteger(l) || l < 1 || l > S)) {
      throw new ValueError(`startDecoding: lengths must be ${B} integers in [1, ${S}], got [${Array.from(source.lengths).join(', ')}]`);
    }
    const data = new Int32Array(S * B);
    for (let r = 0; r < B; r++) for (let s = 0; s < S; s++) data[s * B + r] = source.src.data[r * S + s]!;
    return { src: { data, shape: [S, B] }, srcLengths: Int32Array.from(source.lengths), vector: null, tin: none };
  }

  /** @internal One decoding step for a session: tokens [N] → logits [N, Vt] and attention [N, S]. */
  step(session: DecodeSession, tokens: Int32Array): { logits: ArenaTensor; attention: ArenaTensor | null } {
    if (this.session !== session) {
      throw new ValueError('DecodeSession: stale — the model ran a forward or started another session since; a model decodes one session at a time');
    }
    const N = tokens.length;
    const { Hd, De } = this.sizes;
    const Et = this.tgtEmbedding.embeddingDim;
    const b = this.backend;
    const emb = this.tgtEmbedding.forwardArena(tokens, [1, N]);
    let x = emb;
    if (this.attention) {
      x = this.ws.tensor('stepX', [1, N, Et + Hd]);
      interleave(b, N, emb.offset, Et, session.feed.offset, Hd, x.offset);
    }
    const ran = this.decoder.forwardArena(x, { h0: session.h, c0: session.c });
    b.copy(sizeOf(session.h.shape), ran.h.offset, session.h.offset);
    b.copy(sizeOf(session.c.shape), ran.c!.offset, session.c.offset);
    const top = arenaTensor(ran.output.offset, [N, Hd]);
    let weights: ArenaTensor | null = null;
    if (this.attention) {
      const { context, weights: a } = this.attention.forwardStep(top, 0);
      weights = a;
      const cat = this.ws.tensor('stepCat', [N, De + Hd]);
      interleave(b, N, context.offset, De, top.offset, Hd, cat.offset);
      b.tanh(N * Hd, this.combine!.forwardArena(cat).offset, session.feed.offset);
    } else b.copy(N * Hd, top.offset, session.feed.offset);
    return { logits: this.out.forwardArena(arenaTensor(session.feed.offset, [N, Hd])), attention: weights };
  }

  /** @internal The decoder's first state, for a session. */
  firstState(encoded: Encoded): { h: ArenaTensor; c: ArenaTensor } {
    return { h: encoded.h0, c: encoded.c0 };
  }

  // ---- plain tensors, batch first ----------------------------------------

  /**
   * Teacher-forced forward over plain tensors, batch first: the source
   * (`src` [B, S] token indices with `srcLengths`, or `vector` [B, F]) and
   * the decoder input `tin` [B, T] (<bos> y1 …). Returns logits [B, T, Vt]
   * and attention weights [B, T, S] (null without attention), fresh.
   */
  forward(
    source: { src: Tensor; srcLengths?: ArrayLike<number> } | { vector: Tensor }, tin: Tensor,
  ): { logits: Tensor; attention: Tensor | null } {
    if (tin.shape.length !== 2) throw new ShapeError(`seq2seq: tin has shape ${describeShape(tin.shape)}, expected [batch, steps]`);
    const [B, T] = tin.shape as [number, number];
    const tinData = checkTokens(tin.data, 'tin', T);
    let input: Seq2SeqInput;
    const tinIdx = { data: Int32Array.from(swapLeadingAxes(tinData, B, T)), shape: [T, B] };
    if ('vector' in source) {
      if (source.vector.shape[0] !== B) throw new ShapeError(`seq2seq: ${source.vector.shape[0]} input vectors for ${B} target rows`);
      assertFinite(source.vector.data, 'seq2seq input vector');
      input = { src: null, srcLengths: null, vector: this.ws.put('vectors', source.vector.data, source.vector.shape), tin: tinIdx };
    } else {
      const { src } = source;
      if (src.shape.length !== 2 || src.shape[0] !== B) throw new ShapeError(`seq2seq: src has shape ${describeShape(src.shape)}, expected [${B}, steps]`);
      const S = src.shape[1]!;
      const srcData = checkTokens(src.data, 'src', S);
      const lengths = Int32Array.from(source.srcLengths ?? Array.from({ length: B }, () => S));
      input = { src: { data: Int32Array.from(swapLeadingAxes(srcData, B, S)), shape: [S, B] }, srcLengths: lengths, vector: null, tin: tinIdx };
    }
    const { logits, attention } = this.forwardArena(input);
    const Vt = this.tgtEmbedding.numEmbeddings;
    const batchFirst = (t: ArenaTensor, F: number): Tensor => tensor(swapLeadingAxes(this.backend.arena.read(t).data, T, B, F), [B, T, F]);
    return { logits: batchFirst(logits, Vt), attention: attention ? batchFirst(attention, attention.shape[2]!) : null };
  }

  /** dLoss/dlogits [B, T, Vt] (the shape forward returned). */
  backward(dLogits: Tensor): void {
    const last = this.last;
    if (!last) throw new ValueError('Seq2SeqModel.backward called before forward');
    const { T, B } = last;
    const Vt = this.tgtEmbedding.numEmbeddings;
    if (dLogits.shape.length !== 3 || dLogits.shape[0] !== B || dLogits.shape[1] !== T || dLogits.shape[2] !== Vt) {
      throw new ShapeError(`Seq2SeqModel: the logits' gradient has shape ${describeShape(dLogits.shape)}, expected [${B}, ${T}, ${Vt}]`);
    }
    const d = this.ws.put('dLogits', swapLeadingAxes(dLogits.data, B, T, Vt), [T, B, Vt]);
    this.backwardArena(d);
  }
}

/**
 * A decoding in progress: the decoder's state for N rows (hypotheses), the
 * last h̃ (what input feeding reads), and the model's prepared memory. Made
 * by Seq2SeqModel.startDecoding; `step` feeds one token per row, `reorder`
 * moves rows (beam search keeps the best hypotheses of each source).
 */
export class DecodeSession {
  readonly rows: number;
  /** Rows per source (beam width): row r reads source ⌊r / beams⌋. */
  readonly beams: number;
  /** @internal */ readonly h: ArenaTensor;
  /** @internal */ readonly c: ArenaTensor;
  /** @internal */ readonly feed: ArenaTensor;
  private readonly ws: Workspace;

  /** @internal */
  constructor(private readonly model: Seq2SeqModel, encoded: Encoded, beams: number, private readonly wasTraining: boolean) {
    const { Ld, Hd } = model.sizes;
    const N = encoded.B;
    this.rows = N;
    this.beams = beams;
    this.ws = new Workspace(model.backend.arena);
    this.h = this.ws.tensor('h', [Ld, N, Hd]);
    this.c = this.ws.tensor('c', [Ld, N, Hd]);
    this.feed = this.ws.tensor('feed', [N, Hd]);
    const first = model.firstState(encoded);
    model.backend.copy(Ld * N * Hd, first.h.offset, this.h.offset);
    model.backend.copy(Ld * N * Hd, first.c.offset, this.c.offset);
    model.backend.fill(N * Hd, this.feed.offset, 0);
  }

  /**
   * Feed one token per row; returns each row's next-token log-probabilities
   * [N · Vt] (row-major) and, with attention, its attention weights [N · S].
   */
  step(tokens: Int32Array): { logProbs: Float64Array; attention: Float32Array | null } {
    if (tokens.length !== this.rows) throw new ShapeError(`DecodeSession: ${tokens.length} tokens for ${this.rows} rows`);
    const { logits, attention } = this.model.step(this, tokens);
    const heap = this.model.backend.arena.heap;
    const V = logits.shape[1]!;
    const logProbs = new Float64Array(this.rows * V);
    for (let r = 0; r < this.rows; r++) {
      const at = logits.offset + r * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, heap[at + v]!);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(heap[at + v]! - max);
      const lse = max + Math.log(sum);
      for (let v = 0; v < V; v++) logProbs[r * V + v] = heap[at + v]! - lse;
    }
    const weights = attention ? Float32Array.from(heap.subarray(attention.offset, attention.offset + sizeOf(attention.shape))) : null;
    return { logProbs, attention: weights };
  }

  /**
   * Row r continues from row from[r] (beam search). A row may only take the
   * state of a row that reads the same source (the session's groups of `beams` rows).
   */
  reorder(from: Int32Array): void {
    const groupSize = this.beams;
    const N = this.rows;
    if (from.length !== N) throw new ShapeError(`DecodeSession.reorder: ${from.length} entries for ${N} rows`);
    for (let r = 0; r < N; r++) {
      const f = from[r]!;
      if (!Number.isInteger(f) || f < 0 || f >= N || Math.floor(f / groupSize) !== Math.floor(r / groupSize)) {
        throw new ValueError(`DecodeSession.reorder: row ${r} cannot continue row ${f} (another source, or no such row)`);
      }
    }
    const { Ld, Hd } = this.model.sizes;
    for (const t of [this.h, this.c]) for (let l = 0; l < Ld; l++) this.gather(t.offset + l * N * Hd, Hd, from);
    this.gather(this.feed.offset, Hd, from);
  }

  private gather(at: number, width: number, from: Int32Array): void {
    const b = this.model.backend;
    const tmp = this.ws.get('gather', from.length * width);
    b.copy(from.length * width, at, tmp);
    for (let r = 0; r < from.length; r++) b.copy(width, tmp + from[r]! * width, at + r * width);
  }

  /** Release the session's buffers; the model goes back to the mode it was in. */
  dispose(): void {
    this.ws.dispose();
    this.model.train(this.wasTraining);
  }
}

/**
 * An output projection that shares the target embedding's table [Vt, E]
 * (Press & Wolf 2017): logits = h · Eᵀ + bias. Its one parameter is the bias.
 */
export class TiedOutput extends Module {
  private lastInput: ArenaTensor | undefined;

  constructor(private readonly embedding: Embedding, module: ModuleOptions = {}) {
    super(module);
  }

  get outFeatures(): number {
    return this.embedding.numEmbeddings;
  }

  override paramSpecs(): ParamSpec[] {
    return [{ name: 'bias', shape: [this.embedding.numEmbeddings], init: uniformInit(1 / Math.sqrt(this.embedding.embeddingDim)) }];
  }

  forwardArena(x: ArenaTensor): ArenaTensor {
    const E = this.embedding.embeddingDim;
    const V = this.embedding.numEmbeddings;
    if (x.shape[x.shape.length - 1] !== E) throw new ShapeError(`TiedOutput: input has shape ${describeShape(x.shape)}, expected last dimension ${E}`);
    const rows = sizeOf(x.shape) / E;
    const y = this.ws.tensor('y', [...x.shape.slice(0, -1), V]);
    const table = this.embedding.parameters().offset('weight');
    this.backend.gemm(false, true, rows, V, E, x.offset, E, table, E, y.offset, V, false);
    this.backend.addBias(rows, V, y.offset, V, this.param('bias'));
    this.lastInput = x;
    return y;
  }

  backwardArena(dy: ArenaTensor): ArenaTensor {
    const x = this.lastInput;
    if (!x) throw new ValueError('TiedOutput.backward called before forward');
    const E = this.embedding.embeddingDim;
    const V = this.embedding.numEmbeddings;
    const rows = sizeOf(x.shape) / E;
    const store = this.embedding.parameters();
    const b = this.backend;
    b.gemm(true, false, V, E, rows, dy.offset, V, x.offset, E, store.gradOffset('weight'), E, true);
    b.sumRows(rows, V, dy.offset, V, this.grad('bias'));
    const dx = this.ws.tensor('dx', x.shape);
    b.gemm(false, false, rows, E, V, dy.offset, V, store.offset('weight'), E, dx.offset, E, false);
    return dx;
  }
}

/** The sizes of a seq2seq config's model. */
export interface Seq2SeqSizes {
  /** Features of the memory and of the encoder's final state (directions × hidden, or the vector's size). */
  De: number;
  Hd: number;
  Ld: number;
  /** The source embedding's size (0 for vector input). */
  Es: number;
  Et: number;
  Vt: number;
  attention: 'dot' | 'general' | 'additive' | 'none';
}

/** The sizes a config's defaults work out to. */
export function seq2seqSizes(c: Seq2SeqConfig): Seq2SeqSizes {
  const { input, rnn, output } = c;
  const De = input.type === 'vector' ? input.size : (rnn!.bidirectional ? 2 : 1) * rnn!.hiddenSize;
  const Hd = output.hiddenSize ?? De;
  const Es = input.type === 'tokens' ? input.embeddingDim ?? SEQ2SEQ_DEFAULTS.embeddingDim : 0;
  const Et = output.embeddingDim ?? (input.type === 'tokens' ? Es : Hd);
  const attention = output.attention ?? (input.type === 'vector' ? 'none' : 'general');
  if (output.tieEmbeddings && Et !== Hd) {
    throw new ValueError(`seq2seq config: tieEmbeddings needs output.embeddingDim (${Et}) == output.hiddenSize (${Hd})`);
  }
  if (attention === 'dot' && De !== Hd) {
    throw new ValueError(`seq2seq config: 'dot' attention needs the decoder's hiddenSize (${Hd}) == the encoder's output features (${De}); use 'general'`);
  }
  return { De, Hd, Ld: output.numLayers ?? 1, Es, Et, Vt: output.vocabulary?.length ?? 0, attention };
}

/** The number of parameter values a seq2seq config's model has, from the config alone (nothing is allocated). */
export function seq2seqParameterCount(c: Seq2SeqConfig): number {
  const { De, Hd, Ld, Es, Et, Vt, attention } = seq2seqSizes(c);
  const { input, rnn } = c;
  let n = 0;
  if (input.type === 'tokens' && rnn) {
    const D = rnn.bidirectional ? 2 : 1;
    const GH = gateCount(rnn.cell) * rnn.hiddenSize;
    const layer = (inSize: number): number => D * (GH * inSize + GH * rnn.hiddenSize + 2 * GH);
    n += (input.vocabulary?.length ?? 0) * Es + layer(Es) + ((rnn.numLayers ?? 1) - 1) * layer(De);
  }
  n += 2 * (Ld * Hd * De + Ld * Hd); // the bridges
  n += Vt * Et;
  const G = 4 * Hd;
  n += G * (attention === 'none' ? Et : Et + Hd) + G * Hd + 2 * G + (Ld - 1) * (2 * G * Hd + 2 * G);
  if (attention === 'general') n += Hd * De;
  if (attention === 'additive') n += Hd * Hd + Hd * De + Hd;
  if (attention !== 'none') n += Hd * (De + Hd);
  n += (c.output.tieEmbeddings ? 0 : Vt * Hd) + Vt;
  return n;
}

// ---- small kernels over arena rows ----------------------------------------

/** dx = dy ⊙ (1 − y²), where y = tanh(x) (dx may be dy). */
function tanhBackward(be: Backend, n: number, y: number, dy: number, dx: number): void {
  const heap = be.arena.heap;
  for (let i = 0; i < n; i++) {
    const v = heap[y + i]!;
    heap[dx + i] = heap[dy + i]! * (1 - v * v);
  }
}

/** The bridge's output [B, Ld·Hd] through tanh into the decoder's layout [Ld, B, Hd]. */
function bridgeForward(be: Backend, y: ArenaTensor, B: number, Ld: number, Hd: number, out: number): void {
  if (Ld === 1) {
    be.tanh(B * Hd, y.offset, out);
    return;
  }
  for (let r = 0; r < B; r++) for (let l = 0; l < Ld; l++) be.tanh(Hd, y.offset + r * Ld * Hd + l * Hd, out + (l * B + r) * Hd);
}

/** dLoss/d(bridge output) [B, Ld·Hd] from dLoss/d(decoder's first state) [Ld, B, Hd] and that state (tanh's output). */
function bridgeBackward(
  be: Backend, ws: Workspace, name: string, state: ArenaTensor, dState: ArenaTensor, B: number, Ld: number, Hd: number,
): ArenaTensor {
  const d = ws.tensor(name, [B, Ld * Hd]);
  const heap = be.arena.heap;
  for (let r = 0; r < B; r++) {
    for (let l = 0; l < Ld; l++) {
      for (let j = 0; j < Hd; j++) {
        const at = (l * B + r) * Hd + j;
        const v = heap[state.offset + at]!;
        heap[d.offset + r * Ld * Hd + l * Hd + j] = heap[dState.offset + at]! * (1 - v * v);
      }
    }
  }
  return d;
}

/** Checks token indices are integers; returns them as Int32. */
function checkTokens(data: ArrayLike<number>, what: string, cols: number): Int32Array {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`seq2seq: ${what}[${Math.floor(i / cols)}][${i % cols}] is ${v}, expected a token index`);
  }
  return Int32Array.from(data);
}
