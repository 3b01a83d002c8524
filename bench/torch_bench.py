"""PyTorch on one workload, as a child of bench/run.ts (Debian's python3-torch).

    /usr/bin/python3 bench/torch_bench.py --workload train-medium --threads 2 [--quick]
        train: torch.nn.LSTM -> nn.Linear on h_n[-1], MSE, backward,
        clip_grad_norm_(5), Adam: sequences/s. infer: batch-1 forward in
        eval mode under torch.inference_mode(): ms per sequence. With
        --weights DIR (written by `node dist/bench/lstmkit.js --export DIR`)
        the inference model loads lstmkit's weights and its output is checked
        against lstmkit's.
    /usr/bin/python3 bench/torch_bench.py --export-onnx DIR
        Loads DIR's weights into the same model and writes DIR/model.onnx with
        torch.onnx.export (opset 14), for bench/onnxruntime.ts.
    /usr/bin/python3 bench/torch_bench.py --peak --threads N
        GFLOP/s of torch.mm on 512x512x512 (native OpenBLAS), for reference.
    /usr/bin/python3 bench/torch_bench.py --workload seq2seq-beam5-64 --threads 2 [--quick] [--weights DIR]
        The seq2seq workloads (training: sequences/s; decoding: words/s), in
        bench/torch_seq2seq.py; --weights DIR as lstmkit.js --export writes it.
    /usr/bin/python3 bench/torch_bench.py --workload tagger-train-45 --threads 2 [--quick] --weights DIR
        The tagger workloads (training: sentences/s; tagging: tokens/s), in
        bench/torch_tagger.py; DIR (lstmkit.js --export) holds the batches too.

Prints each result as one line `@@bench {json}` (the record of bench/common.ts).
The runner starts it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so
OpenBLAS picks its own kernel for this processor; the kernel is reported.
"""

import argparse
import ctypes
import json
import os
import resource
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_WORKLOADS = os.path.join(ROOT, "bench", "workloads.json")
PEER = "pytorch"


def emit(record):
    sys.stdout.write("@@bench " + json.dumps(record) + "\n")
    sys.stdout.flush()


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_workload(name, path):
    with open(path) as f:
        raw = json.load(f)
    w = raw.get(name)
    if not isinstance(w, dict):
        raise SystemExit(f"no workload named {name} in {path}")
    if w["kind"].startswith("seq2seq"):
        return dict(w, name=name, beam=w.get("beam", 1))
    if w["kind"].startswith("tagger"):
        return dict(w, name=name)
    return dict(name=name, kind=w["kind"], input=w["input"], hidden=w["hidden"], seq=w["seq"],
                batch=w["batch"], output=w["output"], layers=w.get("layers", 1))


def timing_options(quick):
    if quick:
        return dict(warmup_iters=1, warmup_seconds=0.2, min_iters=2, min_seconds=0.5, max_iters=50, max_seconds=3)
    return dict(warmup_iters=2, warmup_seconds=2, min_iters=5, min_seconds=5, max_iters=500, max_seconds=40)


def time_iterations(fn, o):
    """Seconds of each timed iteration of fn after warm-up (the loop of bench/common.ts)."""
    now = time.perf_counter
    start = now()
    i = 0
    slowest = 0.0
    while i < o["warmup_iters"] or now() - start < o["warmup_seconds"]:
        t0 = now()
        fn()
        slowest = max(slowest, now() - t0)
        i += 1
        if slowest > o["max_seconds"] / 2:
            break
    min_iters = o["min_iters"]
    if slowest > o["max_seconds"]:  # as minItersFor in bench/common.ts
        min_iters = 1 if min_iters <= 2 or slowest > 4 * o["max_seconds"] else min(min_iters, 3)
    samples = []
    start = now()
    while len(samples) < min_iters or (now() - start < o["min_seconds"] and len(samples) < o["max_iters"]):
        t0 = now()
        fn()
        samples.append(now() - t0)
        if len(samples) >= min_iters and now() - start > o["max_seconds"]:
            break
    return samples


def openblas_kernel():
    """The OpenBLAS kernel in use (its core name), or None when it cannot be asked."""
    for name in ("libopenblas.so.0", "libopenblasp.so.0", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def make_net(torch, w):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(w["input"], w["hidden"], w["layers"])  # time-major, as lstmkit
            self.head = nn.Linear(w["hidden"], w["output"])

        def forward(self, x):
            _, (h, _c) = self.rnn(x)
            return self.head(h[-1])

    return Net()


def load_weights(torch, net, directory):
    import numpy as np

    with open(os.path.join(directory, "model.json")) as f:
        meta = json.load(f)
    flat = np.fromfile(os.path.join(directory, "weights.bin"), dtype="<f4")
    state = {}
    for t in meta["tensors"]:
        n = 1
        for d in t["shape"]:
            n *= d
        state[t["name"]] = torch.from_numpy(flat[t["offset"]:t["offset"] + n].copy()).reshape(t["shape"])
    net.load_state_dict(state)
    x = torch.from_numpy(np.fromfile(os.path.join(directory, "x.bin"), dtype="<f4").copy()).reshape(meta["x"]["shape"])
    y = torch.tensor(meta["y"]["data"], dtype=torch.float32).reshape(meta["y"]["shape"])
    return x, y


def versions(torch):
    return {"torch": torch.__version__, "openblasKernel": openblas_kernel(),
            "mkldnn": bool(torch.backends.mkldnn.is_available()),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}


def bench(args):
    w = load_workload(args.workload, args.workloads)
    unit = {"infer": "ms", "seq2seq-decode": "words/s", "tagger-train": "sent/s", "tagger-tag": "tokens/s"}.get(w["kind"], "seq/s")
    variant = "1 thread" if args.threads == 1 else f"{args.threads} threads"
    try:
        import torch
    except ImportError as err:
        emit(dict(peer=PEER, workload=w["name"], variant=variant, threads=None, status="not installed",
                  figure=None, unit=unit, samples=[], sequencesPerIteration=w["batch"], peakRssMiB=None,
                  note=f"import torch failed ({err}); apt-get install python3-torch libopenblas0-pthread"))
        return
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    o = timing_options(args.quick)
    extra = versions(torch)
    extra["threadsInUse"] = torch.get_num_threads()
    if extra["openblasKernel"] is None:  # printed as log by bench/run.ts
        print("warning: torch does not run on OpenBLAS here (libblas.so.3 is another BLAS, maybe the reference one):"
              " its figures are not representative; apt-get install libopenblas0-pthread")
    if w["kind"].startswith("seq2seq") or w["kind"].startswith("tagger"):
        import torch_seq2seq  # beside this file
        import torch_tagger

        twin = torch_tagger if w["kind"].startswith("tagger") else torch_seq2seq
        figure, samples, per = twin.bench(torch, w, args, time_iterations, o, extra)
        emit(dict(peer=PEER, workload=w["name"], variant=variant, threads=args.threads, status="ok", figure=figure,
                  unit=unit, samples=samples, sequencesPerIteration=per, peakRssMiB=peak_rss_mib(), extra=extra))
        return
    net = make_net(torch, w)
    T, I = w["seq"], w["input"]
    if w["kind"] == "train":
        B = w["batch"]
        x = torch.rand(T, B, I) * 2 - 1
        y = torch.rand(B, w["output"]) * 2 - 1
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        params = list(net.parameters())
        loss_fn = torch.nn.functional.mse_loss

        def step():
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()

        samples = time_iterations(step, o)
        per = B
        figure = per / statistics.median(samples)
    else:
        net.eval()
        if args.weights:
            x, y_ref = load_weights(torch, net, args.weights)
            with torch.inference_mode():
                extra["maxAbsDiffVsLstmkit"] = float((net(x) - y_ref).abs().max())
        else:
            x = torch.rand(T, 1, I) * 2 - 1

        def infer():
            with torch.inference_mode():
                net(x)

        samples = time_iterations(infer, o)
        per = 1
        figure = statistics.median(samples) * 1000
    emit(dict(peer=PEER, workload=w["name"], variant=variant, threads=args.threads, status="ok", figure=figure,
              unit=unit, samples=samples, sequencesPerIteration=per, peakRssMiB=peak_rss_mib(), extra=extra))


def peak(args):
    """GFLOP/s of torch.mm 512x512x512 (OpenBLAS sgemm): the native peak of this machine, for reference."""
    import torch

    torch.set_num_threads(args.threads)
    a = torch.rand(512, 512)
    b = torch.rand(512, 512)
    c = torch.empty(512, 512)
    seconds = 0.3 if args.quick else 2
    o = dict(warmup_iters=3, warmup_seconds=0.3, min_iters=5, min_seconds=seconds, max_iters=5000, max_seconds=2 * seconds)
    samples = time_iterations(lambda: torch.mm(a, b, out=c), o)
    variant = "1 thread" if args.threads == 1 else f"{args.threads} threads"
    emit(dict(peer=PEER, workload="peak gemm 512\u00d7512\u00d7512", variant=variant, threads=args.threads, status="ok",
              figure=2 * 512 ** 3 / statistics.median(samples) / 1e9, unit="GFLOP/s", samples=[],
              sequencesPerIteration=0, peakRssMiB=peak_rss_mib(), extra=versions(torch)))


def export_onnx(args):
    import torch

    with open(os.path.join(args.export_onnx, "model.json")) as f:
        w = json.load(f)["workload"]
    torch.set_num_threads(1)
    net = make_net(torch, w).eval()
    x, y_ref = load_weights(torch, net, args.export_onnx)
    with torch.inference_mode():
        diff = float((net(x) - y_ref).abs().max())
    path = os.path.join(args.export_onnx, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(net, (x,), path, opset_version=14, input_names=["x"], output_names=["y"],
                          do_constant_folding=True)
    print(json.dumps({"onnx": path, "torchMaxAbsDiffVsLstmkit": diff, "torch": torch.__version__}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload")
    p.add_argument("--workloads", default=DEFAULT_WORKLOADS)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--weights")
    p.add_argument("--export-onnx")
    p.add_argument("--peak", action="store_true")
    args = p.parse_args()
    if args.peak:
        peak(args)
    elif args.export_onnx:
        export_onnx(args)
    elif args.workload:
        bench(args)
    else:
        p.error("--workload or --export-onnx is required")


if __name__ == "__main__":
    main()
