#!/usr/bin/env python3
"""Record the Q/K/V of a causal video model's attention calls as an lfc trace.

The trace format is docs/traces.md (normative); lfc reads it with lfc::TraceReader.

In your own Self-Forcing-style generation script:

    from dump_traces import TraceRecorder

    rec = TraceRecorder("traces/run1", heads=12, head_dim=128, tokens_per_frame=1560,
                        frames_per_chunk=3, chunks=7, passes_per_chunk=5, layers=30,
                        record_layers=[0, 10, 20])
    with rec:                 # wraps torch.nn.functional.scaled_dot_product_attention
        video = pipeline.inference(noise, text_prompts=prompts)

Calls are counted in AR order: chunk by chunk, pass by pass (denoising steps, then the
cache-refresh pass), layer by layer; call i is (chunk, pass, layer) =
(i // (P*L) + 1, i // L % P, i % L). Only self-attention calls count: q must hold
frames_per_chunk * tokens_per_frame tokens and k a whole number of frames (cross-attention
to 512 text tokens does not), or pass your own `is_self_attention(q, k, v)` ([B, S, H, D]).

If the model calls its own attention function instead of SDPA (Wan's flash_attention,
flash_attn_func), patch that one, naming its layout:

    TraceRecorder(..., sdpa=False, patch=[(wan.modules.attention, "flash_attention", "bshd")])

The owner must be where the model looks the name up (the module that calls it). An
attention module whose forward(q, k, v, ...) takes the tensors works the same way:
patch=[(attn_core_module, "forward", "bhsd")].

Each chunk is written when its last call is done, as one .safetensors shard
(c001.safetensors, ...; safetensors.torch.save_file) or, if that package is missing or
fmt="npy", as one <name>.npy per tensor (bf16 as '<u2' bit patterns); trace.json last.

Self-test (needs PyTorch): a toy 2-layer causal attention model with random weights over
the geometry given on the command line, dumped as a trace:

    python3 dump_traces.py --selftest --out /tmp/toy_trace --heads 2 --head-dim 64
"""

import argparse
import json
import os
import struct

FORMAT_VERSION = 1
_DTYPES = {"bfloat16": ("bf16", "<u2"), "float16": ("f16", "<f2"), "float32": ("f32", "<f4")}


def tensor_name(chunk, pass_, layer, role):
    return "c%03d_p%02d_l%03d_%s" % (chunk, pass_, layer, role)


def visible_frames(chunk, frames_per_chunk, kv_window_frames=0, sink_frames=0):
    """Frames of chunk's logical KV sequence (docs/policy-format.md)."""
    f = chunk * frames_per_chunk
    return min(f, sink_frames + kv_window_frames) if kv_window_frames else f


def write_npy(path, descr, shape, raw):
    """A version 1.0 .npy file of raw little-endian bytes (C order)."""
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    with open(path + ".tmp", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("ascii"))
        f.write(raw)
    os.replace(path + ".tmp", path)


class TraceRecorder:
    """Context manager that records attention calls into a trace directory."""

    def __init__(self, out, *, heads, head_dim, tokens_per_frame, frames_per_chunk, chunks,
                 passes_per_chunk, layers, kv_window_frames=0, sink_frames=0,
                 record_chunks=None, record_passes=None, record_layers=None, outputs=False,
                 sdpa=True, patch=(), is_self_attention=None, fmt="auto", model=""):
        self.out = out
        self.geom = dict(heads=heads, head_dim=head_dim, tokens_per_frame=tokens_per_frame,
                         frames_per_chunk=frames_per_chunk, chunks=chunks,
                         passes_per_chunk=passes_per_chunk, layers=layers,
                         kv_window_frames=kv_window_frames, sink_frames=sink_frames)
        self.rec_chunks = sorted(record_chunks or range(1, chunks + 1))
        self.rec_passes = sorted(record_passes or range(passes_per_chunk))
        self.rec_layers = sorted(record_layers or range(layers))
        self.outputs = outputs
        self.patches = ([("torch.nn.functional", "scaled_dot_product_attention", "bhsd")]
                        if sdpa else []) + list(patch)
        self.is_self_attention = is_self_attention or self._default_filter
        self.fmt = fmt
        self.model = model
        self.calls = 0          # self-attention calls seen
        self.skipped = 0        # other attention calls (cross-attention, ...)
        self.done_chunks = []   # chunks written
        self.pending = {}       # name -> CPU tensor [B, S, H, D] of the current chunk
        self.batch = self.dtype = None
        self._saved = []

    # -- patching ---------------------------------------------------------------------------
    def __enter__(self):
        import importlib
        os.makedirs(self.out, exist_ok=True)
        if self.fmt == "auto":
            try:
                import safetensors.torch  # noqa: F401
                self.fmt = "safetensors"
            except ImportError:
                self.fmt = "npy"
        for owner, attr, layout in self.patches:
            if isinstance(owner, str):
                owner = importlib.import_module(owner)
            original = getattr(owner, attr)
            setattr(owner, attr, self._wrap(original, layout))
            self._saved.append((owner, attr, original))
        return self

    def __exit__(self, *exc):
        for owner, attr, original in reversed(self._saved):
            setattr(owner, attr, original)
        self._saved.clear()
        if self.pending:
            print("dump_traces: warning: chunk %d is incomplete (%d calls seen in all); "
                  "its tensors are dropped" % (self._call(self.calls - 1)[0], self.calls))
            self.pending.clear()
        self._write_json()
        return False

    def _wrap(self, fn, layout):
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            qkv = list(args[:3])
            for names in (("query", "key", "value"), ("q", "k", "v")):
                qkv += [kwargs[n] for n in names[len(qkv):] if n in kwargs]
            o = out[0] if isinstance(out, (tuple, list)) else out  # (out, lse) forms
            if len(qkv) == 3:
                self.record(*qkv, o=o if self.outputs else None, layout=layout)
            return out
        return wrapper

    # -- recording --------------------------------------------------------------------------
    def _default_filter(self, q, k, v):
        g = self.geom
        return (q.dim() == 4 and q.shape[2] == g["heads"] and q.shape[3] == g["head_dim"]
                and q.shape[1] == g["frames_per_chunk"] * g["tokens_per_frame"]
                and k.shape[1] % g["tokens_per_frame"] == 0)

    def _call(self, i):
        p, l = self.geom["passes_per_chunk"], self.geom["layers"]
        return i // (p * l) + 1, i // l % p, i % l

    def record(self, q, k, v, o=None, layout="bshd"):
        """Records one call's tensors, given in `layout` ("bshd" or "bhsd")."""
        if layout == "bhsd":  # the model's [B, H, S, D] -> the trace's [B, S, H, D]
            q, k, v = (t.transpose(1, 2) for t in (q, k, v))
            o = o.transpose(1, 2) if o is not None else None
        if not self.is_self_attention(q, k, v):
            self.skipped += 1
            return
        g = self.geom
        chunk, pass_, layer = self._call(self.calls)
        self.calls += 1
        if chunk > g["chunks"]:
            raise RuntimeError("dump_traces: call %d is past the last chunk (%d chunks x %d "
                               "passes x %d layers): check the geometry"
                               % (self.calls, g["chunks"], g["passes_per_chunk"], g["layers"]))
        lk = visible_frames(chunk, g["frames_per_chunk"], g["kv_window_frames"],
                            g["sink_frames"]) * g["tokens_per_frame"]
        if k.shape[1] != lk:
            raise RuntimeError("dump_traces: (chunk %d, pass %d, layer %d): k has %d tokens, "
                               "the geometry says %d; check frames_per_chunk, passes_per_chunk, "
                               "layers and the window" % (chunk, pass_, layer, k.shape[1], lk))
        if (chunk in self.rec_chunks and pass_ in self.rec_passes
                and layer in self.rec_layers):
            if self.dtype is None:
                self.batch, self.dtype = q.shape[0], str(q.dtype).replace("torch.", "")
                if self.dtype not in _DTYPES:
                    raise RuntimeError("dump_traces: dtype %s (supported: %s)"
                                       % (self.dtype, ", ".join(_DTYPES)))
            for role, t in zip("qkvo", (q, k, v, o)):
                if t is not None:
                    # A copy: the model may overwrite its KV cache in place later.
                    self.pending[tensor_name(chunk, pass_, layer, role)] = (
                        t.detach().to("cpu", copy=True).contiguous())
        if self.calls % (g["passes_per_chunk"] * g["layers"]) == 0:
            self._flush(chunk)

    def _flush(self, chunk):
        if chunk not in self.rec_chunks:
            return
        if self.fmt == "safetensors":
            from safetensors.torch import save_file
            save_file(self.pending, os.path.join(self.out, "c%03d.safetensors" % chunk),
                      metadata={"format": "pt"})
        else:
            import torch
            for name, t in self.pending.items():
                flat = t.reshape(-1)
                if flat.dtype in (torch.bfloat16, torch.float16):
                    flat = flat.view(torch.int16)  # NumPy has no bf16: raw bits
                descr = _DTYPES[str(t.dtype).replace("torch.", "")][1]
                write_npy(os.path.join(self.out, name + ".npy"), descr, tuple(t.shape),
                          flat.numpy().tobytes())
        self.pending.clear()
        self.done_chunks.append(chunk)

    def trace_json(self):
        """trace.json's object (docs/traces.md): geometry plus what was recorded."""
        d = {"format": "lfc-trace", "version": FORMAT_VERSION,
             "dtype": _DTYPES[self.dtype][0] if self.dtype else "bf16",
             "batch": self.batch or 1}
        d.update(self.geom)
        d["recorded"] = {"chunks": self.done_chunks, "passes": self.rec_passes,
                         "layers": self.rec_layers, "outputs": self.outputs}
        if self.model:
            d["model"] = self.model
        return d

    def _write_json(self):
        if not self.done_chunks:
            print("dump_traces: warning: nothing recorded (%d self-attention calls, %d other)"
                  % (self.calls, self.skipped))
            return
        with open(os.path.join(self.out, "trace.json"), "w") as f:
            json.dump(self.trace_json(), f, indent=2)
            f.write("\n")


# -- self-test: a toy causal video model ------------------------------------------------------
def selftest(a):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[a.dtype]
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    H, D, T, Fc = a.heads, a.head_dim, a.tokens_per_frame, a.frames_per_chunk
    E, Lq = H * D, Fc * T

    class Layer(torch.nn.Module):
        """Self-attention over [past frames of the KV cache, the chunk's own frames]."""

        def __init__(self):
            super().__init__()
            self.qkv = torch.nn.Linear(E, 3 * E)
            self.out = torch.nn.Linear(E, E)
            self.frames_k, self.frames_v = [], []   # committed frames, [B, T, H, D] each

        def past(self, frames, chunk):
            n = visible_frames(chunk, Fc, a.window, a.sink) - Fc
            if n >= len(frames):
                return frames
            return frames[:a.sink] + frames[len(frames) - (n - a.sink):]  # sinks + window

        def forward(self, x, chunk, commit):
            q, k, v = self.qkv(x).view(x.shape[0], Lq, 3, H, D).unbind(2)
            ks = torch.cat(self.past(self.frames_k, chunk) + [k], 1)
            vs = torch.cat(self.past(self.frames_v, chunk) + [v], 1)
            o = F.scaled_dot_product_attention(q.transpose(1, 2), ks.transpose(1, 2),
                                               vs.transpose(1, 2))
            if commit:  # the cache-refresh pass
                self.frames_k += list(k.split(T, 1))
                self.frames_v += list(v.split(T, 1))
            return x + self.out(o.transpose(1, 2).reshape(x.shape))

    layers = [Layer().to(dev, dtype) for _ in range(a.layers)]
    rec = TraceRecorder(a.out, heads=H, head_dim=D, tokens_per_frame=T, frames_per_chunk=Fc,
                        chunks=a.chunks, passes_per_chunk=a.passes, layers=a.layers,
                        kv_window_frames=a.window, sink_frames=a.sink, outputs=a.outputs,
                        record_layers=a.record_layers, fmt=a.format, model="dump_traces selftest")
    with rec, torch.no_grad():
        for chunk in range(1, a.chunks + 1):
            for p in range(a.passes):
                x = torch.randn(a.batch, Lq, E, device=dev, dtype=dtype)
                for layer in layers:
                    x = layer(x, chunk, commit=(p == a.passes - 1))
    print("dump_traces: wrote %s (%s, %d calls, chunks %s)" % (a.out, rec.fmt, rec.calls,
                                                             rec.done_chunks))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--selftest", action="store_true", help="dump a toy model's trace")
    ap.add_argument("--out", default="toy_trace")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--tokens-per-frame", type=int, default=32)
    ap.add_argument("--frames-per-chunk", type=int, default=2)
    ap.add_argument("--chunks", type=int, default=3)
    ap.add_argument("--passes", type=int, default=3, help="passes per chunk (last: refresh)")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--window", type=int, default=0, help="kv_window_frames (0: global)")
    ap.add_argument("--sink", type=int, default=0, help="sink_frames")
    ap.add_argument("--dtype", choices=("bf16", "f16", "f32"), default="bf16")
    ap.add_argument("--format", choices=("auto", "safetensors", "npy"), default="auto")
    ap.add_argument("--outputs", action="store_true", help="also record o")
    ap.add_argument("--record-layers", type=lambda s: [int(x) for x in s.split(",")],
                    help="comma-separated layers to record (default: all)")
    a = ap.parse_args()
    if not a.selftest:
        ap.error("import TraceRecorder from this file in your model's script, or run --selftest")
    selftest(a)


if __name__ == "__main__":
    main()
