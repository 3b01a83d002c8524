"""PyTorch on the tagger workloads: the twin of bench/tagger.ts, for bench/torch_bench.py.

The model is lstmkit's TaggerModel for the bench's configuration, its attribute
names lstmkit's state-dict names: word embedding (padding 0) joined to a
character BiLSTM's two final states (run once per distinct word of a batch, as
lstmkit does: the batch file spells each once and says which word each token is),
a bidirectional LSTM encoder over packed sentences, a Linear head to emissions,
and a linear-chain CRF with pytorch-crf's parameters. No pytorch-crf package
here: the CRF is written below in PyTorch, as pytorch-crf computes it —
log Z by the log-sum-exp forward recursion, the gold path's score, Viterbi.

  train   per batch: zero_grad, forward, CRF negative log-likelihood averaged
          over the batch's tokens (pytorch-crf's token_mean), backward,
          Adam(lr 1e-3); sentences/s.
  tag     per batch, under inference_mode in eval mode: forward and Viterbi;
          tokens/s.

--weights DIR (node dist/bench/lstmkit.js --export DIR --workload W) is
required: it holds the batches, lstmkit's weights, its parameter count (this
model must have as many) and what lstmkit computed (the first step's loss, or
every sentence's tags), checked here.
"""

import json
import os
import statistics

LR = 1e-3


def make_model(torch, w):
    nn = torch.nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class CRF(nn.Module):
        """pytorch-crf's parameters; transitions[i, j] scores tag i followed by tag j. Time-major inputs."""

        def __init__(self, K):
            super().__init__()
            self.start_transitions = nn.Parameter(torch.empty(K).uniform_(-0.1, 0.1))
            self.end_transitions = nn.Parameter(torch.empty(K).uniform_(-0.1, 0.1))
            self.transitions = nn.Parameter(torch.empty(K, K).uniform_(-0.1, 0.1))

        def log_partition(self, em, mask):
            """log Z [B] of emissions [T, B, K] by the forward recursion in log space."""
            alpha = self.start_transitions + em[0]
            for t in range(1, em.shape[0]):
                nxt = torch.logsumexp(alpha[:, :, None] + self.transitions + em[t][:, None, :], dim=1)
                alpha = torch.where(mask[t][:, None], nxt, alpha)
            return torch.logsumexp(alpha + self.end_transitions, dim=1)

        def gold_score(self, em, tags, mask, lengths):
            """The score [B] of tags [T, B] (0 at padded steps, masked out)."""
            B = em.shape[1]
            m = mask.to(em.dtype)
            score = self.start_transitions[tags[0]]
            score = score + (em.gather(2, tags[:, :, None])[:, :, 0] * m).sum(0)
            score = score + (self.transitions[tags[:-1], tags[1:]] * m[1:]).sum(0)
            last = tags[lengths - 1, torch.arange(B)]
            return score + self.end_transitions[last]

        def nll_token_mean(self, em, tags, mask, lengths):
            return (self.log_partition(em, mask) - self.gold_score(em, tags, mask, lengths)).sum() / mask.sum()

        def decode(self, em, mask, lengths):
            """Viterbi: each sentence's best tags, as long as the sentence."""
            score = self.start_transitions + em[0]
            history = []
            for t in range(1, em.shape[0]):
                best, idx = (score[:, :, None] + self.transitions + em[t][:, None, :]).max(dim=1)
                score = torch.where(mask[t][:, None], best, score)
                history.append(idx)
            score = score + self.end_transitions
            last = score.argmax(dim=1).tolist()
            back = torch.stack(history).tolist() if history else []  # [T-1, B, K]
            paths = []
            for b, L in enumerate(lengths.tolist()):
                path = [last[b]]
                for t in range(L - 2, -1, -1):
                    path.append(back[t][b][path[-1]])
                paths.append(path[::-1])
            return paths

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(w["vocab"], w["embedding"], padding_idx=0)
            self.char_embedding = nn.Embedding(w["chars"], w["charEmbedding"], padding_idx=0)
            self.char_rnn = nn.LSTM(w["charEmbedding"], w["charHidden"], bidirectional=True)  # time-major, as lstmkit
            self.rnn = nn.LSTM(w["embedding"] + 2 * w["charHidden"], w["hidden"], bidirectional=True)
            self.head = nn.Linear(2 * w["hidden"], w["tags"])
            self.crf = CRF(w["tags"])

        def forward(self, b):
            """Emissions [T, B, K] of one batch (the tensors of batch_tensors)."""
            T, B = b["words"].shape
            packed = pack_padded_sequence(self.char_embedding(b["char_ids"]), b["char_lengths"], enforce_sorted=False)
            _, (h_n, _c) = self.char_rnn(packed)
            per_word = torch.cat([h_n[0], h_n[1]], dim=1)  # [N, 2Hc]: [-> final; <- final] of each distinct word
            # Row N is zeros: padded tokens (index -1) point at it.
            per_word = torch.cat([per_word, per_word.new_zeros(1, per_word.shape[1])], dim=0)
            chars = per_word[b["char_index"]]  # [T, B, 2Hc]
            x = torch.cat([self.embedding(b["words"]), chars], dim=2)
            y, _ = self.rnn(pack_padded_sequence(x, b["lengths"], enforce_sorted=False))
            y, _ = pad_packed_sequence(y, total_length=T)
            return self.head(y)

    return Tagger()


def batch_tensors(torch, raw):
    """One batch of bench/tagger.ts's file as tensors, time-major."""
    T, B = raw["steps"], raw["size"]
    c = raw["chars"]
    index = torch.tensor(c["index"], dtype=torch.int64).reshape(T, B)
    index[index < 0] = c["words"]  # the zero row
    lengths = torch.tensor(raw["lengths"], dtype=torch.int64)
    tags = torch.tensor(raw["tags"], dtype=torch.int64).reshape(T, B)
    return {
        "words": torch.tensor(raw["words"], dtype=torch.int64).reshape(T, B),
        "lengths": lengths,
        "mask": torch.arange(T)[:, None] < lengths[None, :],
        "tags": tags.clamp(min=0),
        "char_ids": torch.tensor(c["ids"], dtype=torch.int64).reshape(c["steps"], c["words"]),
        "char_lengths": torch.tensor(c["lengths"], dtype=torch.int64),
        "char_index": index,
    }


def load(torch, net, directory):
    """lstmkit's weights into net; returns (model.json, the batches)."""
    import numpy as np

    with open(os.path.join(directory, "model.json")) as f:
        meta = json.load(f)
    with open(os.path.join(directory, "batches.json")) as f:
        batches = [batch_tensors(torch, b) for b in json.load(f)]
    flat = np.fromfile(os.path.join(directory, "weights.bin"), dtype="<f4")
    state = {}
    for t in meta["tensors"]:
        n = int(np.prod(t["shape"]))
        state[t["name"]] = torch.from_numpy(flat[t["offset"]:t["offset"] + n].copy()).reshape(t["shape"])
    net.load_state_dict(state)
    return meta, batches


def bench(torch, w, args, time_iterations, o, extra):
    """The figure of one tagger workload: (figure, samples, per iteration); extra gets the checks."""
    if not args.weights:
        raise SystemExit("the tagger workloads need --weights DIR (the batches and lstmkit's weights): run them through bench/run.ts")
    torch.manual_seed(1)
    net = make_model(torch, w)
    meta, batches = load(torch, net, args.weights)
    parameters = sum(p.numel() for p in net.parameters())
    if parameters != meta["parameters"]:
        raise SystemExit(f"the PyTorch tagger has {parameters} parameters, lstmkit's {meta['parameters']}: not the same model")
    tokens = sum(int(b["lengths"].sum()) for b in batches)
    distinct = sum(b["char_lengths"].shape[0] for b in batches)
    extra.update(parameters=parameters, tokens=tokens, distinctWords=distinct, batches=len(batches),
                 maxSteps=max(b["words"].shape[0] for b in batches))
    if w["kind"] == "tagger-train":
        opt = torch.optim.Adam(net.parameters(), lr=LR)
        losses = []

        def train():
            for b in batches:
                opt.zero_grad()
                em = net(b)
                loss = net.crf.nll_token_mean(em, b["tags"], b["mask"], b["lengths"])
                loss.backward()
                opt.step()
                losses.append(loss.item())

        samples = time_iterations(train, o)
        extra.update(firstLoss=losses[0], lastLoss=losses[-1], firstLossDiffVsLstmkit=abs(losses[0] - meta["expected"]["loss"]))
        per = w["sentences"]
        return per / statistics.median(samples), samples, per
    net.eval()
    result = {}

    def tag():
        with torch.inference_mode():
            paths = []
            for b in batches:
                paths.extend(net.crf.decode(net(b), b["mask"], b["lengths"]))
            result["paths"] = paths

    samples = time_iterations(tag, o)
    same = sum(a == b for a, b in zip(result["paths"], meta["expected"]["paths"]))
    extra["outputsAsLstmkit"] = f"{same}/{len(result['paths'])}"
    per = tokens
    return per / statistics.median(samples), samples, per
