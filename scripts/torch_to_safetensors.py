#!/usr/bin/env python3
"""Save a PyTorch state_dict as a safetensors file that lstmkit can load.

Needs only PyTorch (no `safetensors` package): the format is simple enough to
write with struct and json, following https://github.com/huggingface/safetensors

    8 bytes   N, the header length, little-endian u64
    N bytes   JSON: {"__metadata__": {str: str},
                     name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
              padded with spaces to a multiple of 8
    the rest  the tensors' bytes, little-endian, row-major, back to back

Usage:

    python3 torch_to_safetensors.py model.pt model.safetensors
    python3 torch_to_safetensors.py checkpoint.pt out.safetensors --key model_state_dict
    python3 torch_to_safetensors.py whole_module.pt out.safetensors --allow-pickle

`model.pt` is what `torch.save(model.state_dict(), "model.pt")` writes (or a
checkpoint dict holding one). By default it is loaded with
`torch.load(weights_only=True)`, which runs no code from the file; a whole
pickled module (`torch.save(model, ...)`) needs --allow-pickle, which does, so
use it only on files you trust.

From Python:

    from torch_to_safetensors import save_safetensors
    save_safetensors(model.state_dict(), "model.safetensors", {"format": "pt"})

and `load_safetensors(path)` reads a safetensors file (for example one lstmkit
wrote) back into a dict of tensors, for `model.load_state_dict(...)`.
"""

import argparse
import json
import os
import pickle
import struct
import sys

import torch

# torch dtype -> (safetensors dtype, bytes per element)
DTYPES = {
    torch.float64: ("F64", 8),
    torch.float32: ("F32", 4),
    torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2),
    torch.int64: ("I64", 8),
    torch.int32: ("I32", 4),
    torch.int16: ("I16", 2),
    torch.int8: ("I8", 1),
    torch.uint8: ("U8", 1),
    torch.bool: ("BOOL", 1),
}
TORCH_DTYPES = {name: dtype for dtype, (name, _) in DTYPES.items()}
SIZES = {name: size for name, size in DTYPES.values()}
MAX_HEADER_BYTES = 100_000_000


def _raw_bytes(tensor):
    """The tensor's elements as little-endian, row-major bytes."""
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def save_safetensors(state_dict, path, metadata=None):
    """Write a dict of name -> tensor to `path` in the safetensors format.

    Tensors are laid out largest element size first, then by name, so each
    one is aligned to its element size in the file (as the reference
    implementation does). Shared or non-contiguous tensors are copied.
    """
    if sys.byteorder != "little":
        raise SystemExit("torch_to_safetensors: this script writes raw memory and needs a little-endian machine")
    entries = []
    for name, tensor in state_dict.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"tensor name {name!r} is not allowed")
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{name} is a {type(tensor).__name__}, not a tensor")
        if tensor.dtype not in DTYPES:
            raise ValueError(f"{name} has dtype {tensor.dtype}; safetensors here supports {', '.join(str(d) for d in DTYPES)}")
        dtype, size = DTYPES[tensor.dtype]
        entries.append((size, name, dtype, list(tensor.shape), _raw_bytes(tensor)))
    entries.sort(key=lambda e: (-e[0], e[1]))

    header = {}
    if metadata is not None:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError(f"metadata {key!r}: {value!r}; keys and values must be strings")
        header["__metadata__"] = dict(metadata)
    offset = 0
    for _, name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)

    # Write beside the target and rename over it, so a crash never leaves half a file.
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for entry in entries:
                f.write(entry[4])
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def load_safetensors(path):
    """Read a safetensors file into (dict of name -> tensor, metadata dict), checking it as lstmkit does."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} does not fit the file ({len(blob)} bytes)")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{path}: duplicate keys in the header")
        return dict(pairs)

    header = json.loads(blob[8 : 8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    data = memoryview(blob)[8 + n :]
    metadata = header.pop("__metadata__", {})
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        numel = 1
        for d in info["shape"]:
            numel *= d
        if begin != covered or end - begin != numel * SIZES[info["dtype"]]:
            raise ValueError(f"{path}: tensor {name}: data_offsets {info['data_offsets']} do not fit")
        covered = end
        raw = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.uint8) if end > begin else torch.empty(0, dtype=torch.uint8)
        tensors[name] = raw.view(TORCH_DTYPES[info["dtype"]]).reshape(info["shape"])
    if covered != len(data):
        raise ValueError(f"{path}: {len(data) - covered} bytes after the last tensor")
    return tensors, metadata


def state_dict_of(obj, key=None):
    """The state_dict inside what torch.load returned: a state_dict, a module, or a checkpoint dict."""
    if key is not None:
        for part in key.split("."):
            if not isinstance(obj, dict) or part not in obj:
                raise SystemExit(f"torch_to_safetensors: no key {part!r} in the loaded object")
            obj = obj[part]
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
        for candidate in ("state_dict", "model_state_dict", "model"):
            if candidate in obj:
                return state_dict_of(obj[candidate])
        keys = ", ".join(map(str, list(obj)[:10]))
        raise SystemExit(f"torch_to_safetensors: the file holds a dict with keys {keys}; name the one holding the weights with --key")
    raise SystemExit(f"torch_to_safetensors: the file holds a {type(obj).__name__}, not a state_dict or module")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Save a PyTorch state_dict (.pt) as safetensors for lstmkit.")
    parser.add_argument("input", help="a .pt file: a state_dict, a checkpoint dict, or (with --allow-pickle) a module")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--key", help="dotted key of the state_dict inside a checkpoint dict, e.g. model_state_dict")
    parser.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE", help="a metadata entry (repeatable)")
    parser.add_argument("--allow-pickle", action="store_true", help="load with full pickle (runs code from the file; trusted files only)")
    args = parser.parse_args(argv)

    try:
        obj = torch.load(args.input, map_location="cpu", weights_only=not args.allow_pickle)
    except pickle.UnpicklingError as err:
        # weights_only refuses modules and (in torch 1.x) some plain values such as floats.
        raise SystemExit(
            f"torch_to_safetensors: {args.input} holds more than tensors and plain containers ({err}).\n"
            "Save model.state_dict() instead, or, if you trust the file, pass --allow-pickle."
        ) from None
    state_dict = state_dict_of(obj, args.key)
    metadata = {"format": "pt"}
    for item in args.metadata:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"torch_to_safetensors: --metadata {item!r} is not KEY=VALUE")
        metadata[key] = value
    save_safetensors(state_dict, args.output, metadata)
    total = sum(t.numel() for t in state_dict.values())
    print(f"wrote {args.output}: {len(state_dict)} tensors, {total} values")


if __name__ == "__main__":
    main()
