"""PyTorch on the seq2seq workloads: the twin of bench/seq2seq.ts, for bench/torch_bench.py.

The model is lstmkit's Seq2SeqModel as test/fixtures/make_seq2seq_fixtures.py
writes it for the parity tests (TorchSeq2Seq there), copied and cut to the
bench's one configuration: token input, a bidirectional LSTM encoder, general
attention with input feeding, an untied output layer. Copied, not imported: that
module sets torch's global state when imported (deterministic algorithms, one
thread) and imports the fixture helpers; the bench must not depend on the tests.
Two readings of the same arithmetic, as lstmkit does it: the attention keys
W·Hbar are computed once per batch (lstmkit's Attention.prepare), and in training
the output layer runs once over every step's h~.

  train   one step as lstmkit's Trainer takes it: zero_grad, teacher-forced
          forward, F.cross_entropy(ignore_index=-1, label_smoothing=0.1),
          backward, clip_grad_norm_(5), Adam(lr 1e-3); sequences/s.
  decode  a batch of sources, greedily or by beam search (B*K rows, top 2K of
          K*V per source, lstmkit's stopping rule), under inference_mode; words/s.

With --weights DIR (node dist/bench/lstmkit.js --export DIR --workload W) the
model loads lstmkit's weights and checks what lstmkit computed with them: the
first step's loss, or every decoded output.
"""

import json
import os
import statistics

PAD, UNK, BOS, EOS = 0, 1, 2, 3
TRAIN_SEED, DECODE_SEED = 1234, 5678
EOS_BIAS = -100.0  # bench/seq2seq.ts: no hypothesis ends before maxLength
LABEL_SMOOTHING, CLIP_NORM, LR = 0.1, 5.0, 1e-3
LENGTH_PENALTY = 1.0  # alpha of score = logProb / length^alpha (lstmkit's default)


def seq2seq_pairs(w, count, seed):
    """The pairs of bench/seq2seq.ts's seq2seqPairs, draw for draw: [(src, tgt)] lists of ids."""
    s = seed & 0xFFFFFFFF

    def draw(lo, hi):
        nonlocal s
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        return lo + s % (hi - lo + 1)

    pairs = []
    for _ in range(count):
        S = draw(*w["srcLength"])
        T = draw(*w["tgtLength"])
        src = [draw(2, w["srcVocab"] - 1) for _ in range(S)]
        tgt = [draw(EOS + 1, w["tgtVocab"] - 1) for _ in range(T)]
        pairs.append((src, tgt))
    return pairs


def make_model(torch, w):
    nn = torch.nn
    F = torch.nn.functional
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class StackedLSTMCell(nn.Module):
        """One nn.LSTMCell per layer, its parameters under nn.LSTM's names (as the fixture's)."""

        def __init__(self, input_size, hidden_size, num_layers):
            super().__init__()
            cells = []
            for layer in range(num_layers):
                cell = nn.LSTMCell(input_size if layer == 0 else hidden_size, hidden_size)
                for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    setattr(self, f"{kind}_l{layer}", getattr(cell, kind))
                cells.append(cell)
            self.cells = cells  # a list, not an nn.ModuleList: no second set of names

        def forward(self, x, state):
            new = []
            for cell, hc in zip(self.cells, state):
                h, c = cell(x, hc)
                new.append((h, c))
                x = h
            return x, new

    class Seq2Seq(nn.Module):
        """lstmkit's Seq2SeqModel for this workload; attribute names = lstmkit's state-dict prefixes."""

        def __init__(self):
            super().__init__()
            E, He, Hd = w["embedding"], w["encoderHidden"], w["decoderHidden"]
            De = 2 * He
            self.Hd = Hd
            self.src_embedding = nn.Embedding(w["srcVocab"], E, padding_idx=PAD)
            self.encoder = nn.LSTM(E, He, bidirectional=True, batch_first=True)
            self.bridge_h = nn.Linear(De, Hd)
            self.bridge_c = nn.Linear(De, Hd)
            self.tgt_embedding = nn.Embedding(w["tgtVocab"], E, padding_idx=PAD)
            self.decoder = StackedLSTMCell(E + Hd, Hd, 1)
            self.attention = nn.Linear(De, Hd, bias=False)  # attention.weight [Hd, De]
            self.combine = nn.Linear(De + Hd, Hd, bias=False)
            self.out = nn.Linear(Hd, w["tgtVocab"])

        def encode(self, src, lengths):
            """src [B, S], lengths [B] -> (Hbar [B, S, De], keys [B, S, Hd], valid [B, S], decoder state)."""
            S = src.shape[1]
            packed = pack_padded_sequence(self.src_embedding(src), lengths, batch_first=True, enforce_sorted=False)
            y, (h_n, c_n) = self.encoder(packed)
            Hbar, _ = pad_packed_sequence(y, batch_first=True, total_length=S)
            hN = torch.cat([h_n[-2], h_n[-1]], dim=1)  # [fwd; bwd]
            cN = torch.cat([c_n[-2], c_n[-1]], dim=1)
            keys = self.attention(Hbar)  # once per batch: score_s = h . (W Hbar_s)
            valid = torch.arange(S)[None, :] < lengths[:, None]
            return Hbar, keys, valid, [(torch.tanh(self.bridge_h(hN)), torch.tanh(self.bridge_c(cN)))]

        def step(self, tok, state, htilde, Hbar, keys, valid):
            """One decoder step: tok [N] -> (new state, new h~ [N, Hd])."""
            h, state = self.decoder(torch.cat([self.tgt_embedding(tok), htilde], dim=1), state)
            score = torch.bmm(keys, h[:, :, None])[:, :, 0].masked_fill(~valid, float("-inf"))
            a = torch.softmax(score, dim=1)
            ctx = torch.bmm(a[:, None, :], Hbar)[:, 0, :]
            return state, torch.tanh(self.combine(torch.cat([ctx, h], dim=1)))

        def forward(self, src, lengths, tin):
            """Teacher forcing: tin [B, T] (<bos> y1 ...) -> logits [B, T, Vt]."""
            Hbar, keys, valid, state = self.encode(src, lengths)
            htilde = torch.zeros(src.shape[0], self.Hd)
            steps = []
            for t in range(tin.shape[1]):
                state, htilde = self.step(tin[:, t], state, htilde, Hbar, keys, valid)
                steps.append(htilde)
            return self.out(torch.stack(steps, dim=1))

    return Seq2Seq(), F


def load_weights(torch, net, directory):
    """lstmkit's weights into net; returns what lstmkit computed with them (model.json's `expected`)."""
    import numpy as np

    with open(os.path.join(directory, "model.json")) as f:
        meta = json.load(f)
    flat = np.fromfile(os.path.join(directory, "weights.bin"), dtype="<f4")
    state = {}
    for t in meta["tensors"]:
        n = int(np.prod(t["shape"]))
        state[t["name"]] = torch.from_numpy(flat[t["offset"]:t["offset"] + n].copy()).reshape(t["shape"])
    net.load_state_dict(state)
    return meta["expected"]


def batch_of(torch, pairs):
    """Padded batch-first tensors: src [B, S] (0-padded), lengths [B], tin [B, T], tout [B, T] (-1-padded)."""
    B = len(pairs)
    S = max(len(s) for s, _ in pairs)
    T = max(len(t) for _, t in pairs) + 1
    src = torch.zeros(B, S, dtype=torch.int64)
    tin = torch.zeros(B, T, dtype=torch.int64)
    tout = torch.full((B, T), -1, dtype=torch.int64)
    for b, (s, t) in enumerate(pairs):
        src[b, :len(s)] = torch.tensor(s)
        tin[b, 0] = BOS
        tin[b, 1:len(t) + 1] = torch.tensor(t)
        tout[b, :len(t)] = torch.tensor(t)
        tout[b, len(t)] = EOS
    lengths = torch.tensor([len(s) for s, _ in pairs], dtype=torch.int64)
    return src, lengths, tin, tout


def greedy(torch, net, src, lengths, max_length):
    """lstmkit's greedyDecode, batched: each row feeds back its argmax (ties to the lower id; a finished
    row feeds <pad>) until every row has emitted <eos> or max_length steps. Returns (tokens per row, steps)."""
    Hbar, keys, valid, state = net.encode(src, lengths)
    B = src.shape[0]
    htilde = torch.zeros(B, net.Hd)
    tok = torch.full((B,), BOS, dtype=torch.int64)
    done = torch.zeros(B, dtype=torch.bool)
    log_prob = torch.zeros(B, dtype=torch.float64)
    emitted = []
    steps = 0
    for _ in range(max_length):
        state, htilde = net.step(tok, state, htilde, Hbar, keys, valid)
        lp = torch.log_softmax(net.out(htilde).double(), dim=1)  # float64, as lstmkit's DecodeSession.step
        best = lp.argmax(dim=1)
        log_prob += torch.where(done, 0.0, lp.gather(1, best[:, None])[:, 0])
        emitted.append(torch.where(done, -1, best))
        done = done | (best == EOS)
        tok = torch.where(done, PAD, best)
        steps += 1
        if bool(done.all()):
            break
    rows = torch.stack(emitted, dim=1).tolist()
    return [[v for v in r if v >= 0] for r in rows], steps


def beam_search(torch, net, src, lengths, K, max_length, alpha=LENGTH_PENALTY):
    """lstmkit's beamSearch, batched: B*K rows (rows s*K .. s*K+K-1 hold source s's hypotheses).

    Per step and source, the best 2K of the K*V extensions by log-probability; an <eos> among the first K
    finishes its hypothesis, the first K others are the next step's alive rows. A source stops at max_length
    (its alive rows finish as they stand) or once K are finished and the best alive one, scored at its
    current length, is no better than the worst kept. Finished ones rank by logProb / length^alpha.
    Returns (the best tokens per source, steps)."""
    B = src.shape[0]
    N = B * K
    Hbar, keys, valid, state = net.encode(src, lengths)  # once per source, then repeated per hypothesis
    rep = torch.arange(B).repeat_interleave(K)
    Hbar, keys, valid = Hbar[rep], keys[rep], valid[rep]
    state = [(h[rep], c[rep]) for h, c in state]
    htilde = torch.zeros(N, net.Hd)
    tok = torch.full((N,), BOS, dtype=torch.int64)
    alive = torch.full((B, K), float("-inf"), dtype=torch.float64)
    alive[:, 0] = 0.0  # the K rows start the same: extend one
    base = (torch.arange(B) * K)[:, None]
    rank = torch.arange(2 * K)[None, :]
    finished = [[] for _ in range(B)]  # (score, logProb, tokens), best first, at most K
    done = [False] * B
    history = []  # per step: (token [N], parent [N])

    def path(rows):
        """Tokens of the hypotheses the given rows hold after the steps so far: [len(rows), steps]."""
        out = []
        for token, parent in reversed(history):
            out.append(token[rows])
            rows = parent[rows]
        return torch.stack(out[::-1], dim=1).tolist()

    def keep(s, log_prob, tokens):
        fin = finished[s]
        score = log_prob / len(tokens) ** alpha
        at = len(fin)
        while at > 0 and fin[at - 1][0] < score:
            at -= 1
        if at < K:
            fin.insert(at, (score, log_prob, tokens))
            del fin[K:]

    steps = 0
    for t in range(max_length):
        state, htilde = net.step(tok, state, htilde, Hbar, keys, valid)
        lp = torch.log_softmax(net.out(htilde).double(), dim=1)  # [N, V], in float64 as lstmkit's
        V = lp.shape[1]
        cand = (alive.reshape(N, 1) + lp).reshape(B, K * V)
        top_score, top_index = cand.topk(2 * K, dim=1)  # best first
        is_eos = top_index % V == EOS
        # <eos> among the first K: finished hypotheses (rows and scores read before this step's reorder).
        ended = (is_eos[:, :K] & (top_score[:, :K] > float("-inf"))).nonzero().tolist()
        for s, c in ended:
            if not done[s]:
                row = s * K + int(top_index[s, c]) // V
                keep(s, float(top_score[s, c]), (path(torch.tensor([row]))[0] if history else []) + [EOS])
        # The first K extensions that are not <eos>: the next alive rows, best first.
        order = (is_eos.long() * 2 * K + rank).argsort(dim=1)[:, :K]
        next_alive = top_score.gather(1, order)
        chosen = top_index.gather(1, order)
        parent = (base + chosen // V).reshape(N)
        token = (chosen % V).reshape(N)
        history.append((token, parent))
        steps += 1
        best = next_alive[:, 0].tolist()
        last = t + 1 == max_length
        finishing = [s for s in range(B) if not done[s] and (last or best[s] == float("-inf"))]
        if finishing:
            rows = torch.tensor([s * K + k for s in finishing for k in range(K)])
            scores = next_alive[finishing].reshape(-1).tolist()
            for i, tokens in enumerate(path(rows)):
                if scores[i] > float("-inf"):
                    keep(finishing[i // K], scores[i], tokens)
            for s in finishing:
                done[s] = True
        for s in range(B):
            if not done[s] and len(finished[s]) == K and best[s] / (t + 1) ** alpha <= finished[s][K - 1][0]:
                done[s] = True
        if all(done):
            break
        next_alive[torch.tensor(done)] = float("-inf")
        state = [(h[parent], c[parent]) for h, c in state]
        htilde = htilde[parent]
        alive = next_alive
        tok = token
    return [fin[0][2] for fin in finished], steps


def bench(torch, w, args, time_iterations, o, extra):
    """The figure of one seq2seq workload: (figure, samples, per iteration); extra gets the checks."""
    torch.manual_seed(1)
    net, F = make_model(torch, w)
    expected = load_weights(torch, net, args.weights) if args.weights else None
    if w["kind"] == "seq2seq-train":
        src, lengths, tin, tout = batch_of(torch, seq2seq_pairs(w, w["batch"], TRAIN_SEED))
        opt = torch.optim.Adam(net.parameters(), lr=LR)
        params = list(net.parameters())
        V = w["tgtVocab"]
        losses = []

        def step():
            opt.zero_grad()
            logits = net(src, lengths, tin)
            loss = F.cross_entropy(logits.reshape(-1, V), tout.reshape(-1), ignore_index=-1,
                                   label_smoothing=LABEL_SMOOTHING)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, CLIP_NORM)
            opt.step()
            losses.append(loss.item())

        samples = time_iterations(step, o)
        extra.update(srcSteps=src.shape[1], tgtSteps=tin.shape[1], firstLoss=losses[0], lastLoss=losses[-1])
        if expected is not None:
            extra["firstLossDiffVsLstmkit"] = abs(losses[0] - expected["loss"])
        per = w["batch"]
        return per / statistics.median(samples), samples, per
    with torch.no_grad():
        if expected is None:
            net.out.bias[EOS] = EOS_BIAS
    net.eval()
    sources = seq2seq_pairs(w, w["batch"], DECODE_SEED)
    src, lengths, _, _ = batch_of(torch, sources)
    result = {}

    def decode():
        with torch.inference_mode():
            if w["beam"] == 1:
                result["tokens"], result["steps"] = greedy(torch, net, src, lengths, w["maxLength"])
            else:
                result["tokens"], result["steps"] = beam_search(torch, net, src, lengths, w["beam"], w["maxLength"])

    samples = time_iterations(decode, o)
    extra.update(steps=result["steps"], beam=w["beam"])
    if expected is not None:
        same = sum(a == b for a, b in zip(result["tokens"], expected["tokens"]))
        extra["outputsAsLstmkit"] = f"{same}/{len(sources)}"
    per = w["batch"]
    return per / statistics.median(samples), samples, per
