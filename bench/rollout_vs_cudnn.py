#!/usr/bin/env python3
"""Issue 6's end-to-end target in one run: the full synthetic AR rollout's attention time under
a compiled plan (lfc_ar_video, CUDA events per call) against cuDNN dense attention (PyTorch SDPA,
SDPBackend.CUDNN_ATTENTION) on exactly the loop's shapes, timed right after on the same GPU.

  rollout_vs_cudnn.py [--bench-dir BUILD/bin | --bin BUILD/bin/lfc_ar_video]
                      [--plan .deps/plans/self_forcing_short] [--report-dir DIR] [--reuse-report]
                      [--reps 20] [--warmup 3] [--loop-reps 3] [--idle-start]
                      [--out rollout.md] [--json rollout.json] [--self-check]

1. Runs `lfc_ar_video --backend cuda --plan PLAN --report DIR` and sums report.json's per-call
   selection_ms, attention_ms (the plan's session) and dense_attention_ms (lfc's own dense
   kernel in the same loop) per chunk (schema: docs/QUALITY.md, runtime/quality/Report.cpp).
2. For every chunk of plan.toml: q [1, Lq, H, D], k/v [1, Lk, H, D] in lfc's BSHD layout,
   passed to SDPA as [B, H, S, D] transpose views. Two timings of cuDNN dense attention:
   - per call: median of --reps CUDA-event timings after --warmup calls; each timed call is
     queued behind a GPU spin (torch.cuda._sleep) so that the events hold the GPU work only,
     not Python's launch time (--idle-start: time from an idle GPU instead, like
     bench/peers.py). Loop total = sum over chunks of median x passes x layers.
   - loop: the chunk's passes x layers calls back to back (every layer its own q/k/v, like
     the cache), one pair of events around them; median of --loop-reps.
3. Prints a markdown table per chunk and the totals (ratio cuDNN / (lfc selection +
   attention), target >= 3.5x; the mission's 0.32 s), writes it to --out and the numbers to
   --json (default: --out with .json).
4. Checks cuDNN's output in this layout against PyTorch's math SDPA in fp32 (relative L2 <
   1e-2) before timing.

--self-check: everything except the CUDA timing, on any machine (no torch, no GPU): runs the
binary with --backend cpu (or reads --report-dir with --reuse-report), parses report.json and
plan.toml, and fills the cuDNN columns with lfc's dense times marked as placeholders.
"""
import argparse
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

TARGET_RATIO = 3.5       # issue 6: attention time at least 3.5x lower than cuDNN dense
TARGET_ROLLOUT_S = 0.32  # the mission: the rollout's attention under 0.32 s
REFERENCE = "cuDNN dense 1.12 s, FlexAttention sparse 0.54 s (issue 6, a whole rollout's attention)"
CHECK_TOL = 1e-2
SPIN_CYCLES = 2_000_000  # ~1 ms at H200 clocks: covers Python + cuDNN launch time


class Failure(Exception):
    """An error with a message for the user (no traceback)."""


# ---------------------------------------------------------------------------------------------
# plan.toml


def _toml_value(text, where):
    text = text.strip()
    if text.startswith('"'):
        end = text.find('"', 1)
        while end > 0 and text[end - 1] == "\\":
            end = text.find('"', end + 1)
        if end < 0:
            raise Failure(f"{where}: unterminated string")
        return text[1:end].replace('\\"', '"').replace("\\\\", "\\")
    if text.startswith("["):
        inner = text[1:text.rindex("]")] if "]" in text else None
        if inner is None:
            raise Failure(f"{where}: unterminated array (multi-line arrays are not supported)")
        return [_toml_value(p, where) for p in _split_top(inner) if p.strip()]
    if "#" in text:
        text = text[: text.index("#")].strip()
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text.replace("_", ""))
    except ValueError:
        pass
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise Failure(f"{where}: cannot read value {text!r}") from None


def _split_top(s):
    parts, depth, cur, quoted = [], 0, "", False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "[":
            depth += 1
        elif not quoted and ch == "]":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def tiny_toml(text, name="plan.toml"):
    """The subset of TOML that lfc compile writes: [table], [[array]], [[a.b]] sub-tables,
    key = scalar or one-line array. Fallback for Pythons without tomllib."""
    root = {}
    cur = root
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{n}"
        if line.startswith("[["):
            path = line[2:line.index("]]")].strip().split(".")
            parent = root
            for p in path[:-1]:
                parent = parent[p][-1] if isinstance(parent.get(p), list) else parent.setdefault(p, {})
            cur = {}
            parent.setdefault(path[-1], []).append(cur)
        elif line.startswith("["):
            path = line[1:line.index("]")].strip().split(".")
            cur = root
            for p in path:
                cur = cur[p][-1] if isinstance(cur.get(p), list) else cur.setdefault(p, {})
        elif "=" in line:
            key, value = line.split("=", 1)
            cur[key.strip().strip('"')] = _toml_value(value, where)
        else:
            raise Failure(f"{where}: cannot read line {raw!r}")
    return root


def load_plan(plan_dir):
    path = os.path.join(plan_dir, "plan.toml")
    if not os.path.isfile(path):
        raise Failure(f"no plan at {plan_dir}: {path} is missing (compile one with `lfc compile "
                      f"POLICY -o DIR`, or scripts/compile-example-plans.sh build/bin/lfc .deps/plans)")
    with open(path, "rb") as f:
        data = f.read()
    try:
        import tomllib
        plan = tomllib.loads(data.decode())
    except ModuleNotFoundError:
        plan = tiny_toml(data.decode(), path)
    g = plan.get("geometry")
    chunks = plan.get("chunks")
    if not isinstance(g, dict) or not isinstance(chunks, list) or not chunks:
        raise Failure(f"{path}: no [geometry] or no [[chunks]]")
    for key in ("layers", "heads", "head_dim", "dtype", "tokens_per_frame", "frames_per_chunk",
                "chunks", "passes_per_chunk"):
        if key not in g:
            raise Failure(f"{path}: [geometry] has no {key}")
    if len(chunks) != g["chunks"]:
        raise Failure(f"{path}: geometry.chunks = {g['chunks']} but {len(chunks)} [[chunks]] tables")
    out = []
    for c in chunks:
        for key in ("index", "visible_frames"):
            if key not in c:
                raise Failure(f"{path}: a [[chunks]] table has no {key}")
        out.append(dict(index=int(c["index"]), visible_frames=int(c["visible_frames"]),
                        dense=bool(c.get("dense", False)),
                        kept_key_blocks=c.get("kept_key_blocks"), key_blocks=c.get("key_blocks"),
                        lq=int(g["frames_per_chunk"]) * int(g["tokens_per_frame"]),
                        lk=int(c["visible_frames"]) * int(g["tokens_per_frame"])))
    out.sort(key=lambda c: c["index"])
    name = plan.get("plan", {}).get("name", os.path.basename(os.path.normpath(plan_dir)))
    return dict(name=name, path=path, geometry=g, chunks=out)


# ---------------------------------------------------------------------------------------------
# lfc_ar_video and its report


def run_lfc(binary, plan_dir, report_dir, backend, timeout):
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        raise Failure(f"no lfc_ar_video binary at {binary} (build it: ninja -C BUILD lfc_ar_video, "
                      f"or pass --bin / --bench-dir)")
    stale = os.path.join(report_dir, "report.json")
    if os.path.exists(stale):
        os.remove(stale)  # never read a previous run's report by mistake
    cmd = [binary, "--backend", backend, "--plan", plan_dir, "--report", report_dir]
    print("$", shlex.join(cmd), flush=True)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"lfc_ar_video ran past {timeout} s") from None
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise Failure(f"lfc_ar_video exited with {proc.returncode}")
    return cmd, wall


def load_report(report_dir, plan, allow_host_times):
    path = os.path.join(report_dir, "report.json")
    if not os.path.isfile(path):
        raise Failure(f"no report at {path}")
    with open(path) as f:
        try:
            r = json.load(f)
        except json.JSONDecodeError as e:
            raise Failure(f"{path}: not JSON ({e})") from None
    if r.get("format") != "lfc-quality-report" or r.get("version") != 1:
        raise Failure(f"{path}: not an lfc quality report version 1 "
                      f"(format {r.get('format')!r}, version {r.get('version')!r})")
    backend = str(r.get("backend", ""))
    if not backend.startswith("cuda") and not allow_host_times:
        raise Failure(f"{path}: backend is {backend!r}; its times are host wall clock, not CUDA "
                      f"events: run lfc_ar_video with --backend cuda (or use --self-check)")
    rg, pg = r.get("geometry", {}), plan["geometry"]
    for key in ("layers", "heads", "head_dim", "tokens_per_frame", "frames_per_chunk", "chunks",
                "passes_per_chunk", "dtype"):
        if str(rg.get(key)) != str(pg.get(key)):
            raise Failure(f"{path}: geometry.{key} = {rg.get(key)!r} but {plan['path']} says "
                          f"{pg.get(key)!r}: the report is not this plan's")
    rec = r.get("records", {})
    fields = ("chunk", "pass", "layer", "selection_ms", "attention_ms", "dense_attention_ms")
    for key in fields:
        if not isinstance(rec.get(key), list):
            raise Failure(f"{path}: records.{key} is missing")
    n = rec.get("count")
    if any(len(rec[k]) != n for k in fields):
        raise Failure(f"{path}: records arrays disagree with records.count = {n}")
    per_call = int(pg["passes_per_chunk"]) * int(pg["layers"])
    if n != per_call * int(pg["chunks"]):
        raise Failure(f"{path}: {n} records, expected chunks x passes x layers = "
                      f"{int(pg['chunks'])} x {per_call}")
    chunks = {}
    missing_sel = 0
    for i in range(n):
        c = chunks.setdefault(rec["chunk"][i], dict(calls=0, selection_ms=0.0, attention_ms=0.0,
                                                     dense_ms=0.0, attention_calls=[],
                                                     dense_calls=[]))
        sel, att, den = (rec[k][i] for k in ("selection_ms", "attention_ms", "dense_attention_ms"))
        if att is None or den is None:
            raise Failure(f"{path}: record {i} (chunk {rec['chunk'][i]}, pass {rec['pass'][i]}, "
                          f"layer {rec['layer'][i]}) has no attention time: the run was not timed")
        if sel is None:
            missing_sel += 1
            sel = 0.0
        c["calls"] += 1
        c["selection_ms"] += sel
        c["attention_ms"] += att
        c["dense_ms"] += den
        c["attention_calls"].append(sel + att)
        c["dense_calls"].append(den)
    for idx in (c["index"] for c in plan["chunks"]):
        if chunks.get(idx, {}).get("calls") != per_call:
            raise Failure(f"{path}: chunk {idx} has {chunks.get(idx, {}).get('calls', 0)} records, "
                          f"expected passes x layers = {per_call}")
    # Cross-check with the report's own totals (sums over every record).
    t = r.get("totals", {})
    for ours, key in ((sum(c["attention_ms"] for c in chunks.values()), "attention_ms"),
                      (sum(c["dense_ms"] for c in chunks.values()), "dense_attention_ms")):
        theirs = t.get(key)
        if theirs is not None and abs(theirs - ours) > 1e-6 * max(1.0, abs(ours)) + 1e-3:
            raise Failure(f"{path}: totals.{key} = {theirs} but the records sum to {ours}")
    return dict(path=path, backend=backend, plan=r.get("plan"), policy=r.get("policy"),
                softmax_scale=rg.get("softmax_scale"), chunks=chunks,
                missing_selection=missing_sel, totals=t)


# ---------------------------------------------------------------------------------------------
# the GPU


def gpu_query():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return "nvidia-smi not found"
    q = "name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu"
    try:
        out = subprocess.run([smi, f"--query-gpu={q}", "--format=csv"], capture_output=True,
                             text=True, timeout=30)
        return (out.stdout or out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"nvidia-smi failed: {e}"


def import_torch():
    try:
        import torch
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError as e:
        raise Failure(f"PyTorch with torch.nn.attention is needed for the cuDNN timing ({e}); "
                      f"--self-check runs without it") from None
    if not torch.cuda.is_available():
        raise Failure(f"torch {torch.__version__} sees no CUDA device")
    if not torch.backends.cudnn.is_available():
        raise Failure(f"torch {torch.__version__} has no cuDNN")
    if hasattr(SDPBackend, "CUDNN_ATTENTION") is False:
        raise Failure(f"torch {torch.__version__} has no SDPBackend.CUDNN_ATTENTION")
    return torch, SDPBackend, sdpa_kernel


class CudnnTimer:
    def __init__(self, torch, SDPBackend, sdpa_kernel, dtype, scale, idle_start):
        self.torch, self.B, self.kernel = torch, SDPBackend, sdpa_kernel
        self.dtype, self.scale = dtype, scale
        self.spin = None if idle_start else getattr(torch.cuda, "_sleep", None)
        self.gen = torch.Generator(device="cuda")
        self.gen.manual_seed(1)

    def bshd(self, s, h, d):
        """A [1, S, H, D] tensor (lfc's layout) seen as [1, H, S, D]."""
        t = self.torch.randn((1, s, h, d), generator=self.gen, device="cuda", dtype=self.torch.float32)
        return t.to(self.dtype).transpose(1, 2)

    def sdpa(self, q, k, v):
        return self.torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=self.scale)

    def cudnn(self, q, k, v):
        try:
            with self.kernel([self.B.CUDNN_ATTENTION]):
                return self.sdpa(q, k, v)
        except RuntimeError as e:
            raise Failure(f"cuDNN SDPA refused q {tuple(q.shape)} stride {q.stride()}, "
                          f"k {tuple(k.shape)}, {q.dtype}: {str(e).splitlines()[0]}") from None

    def check(self, lq, lk, h, d, label):
        """cuDNN in this layout vs PyTorch's math SDPA in fp32."""
        q, k, v = self.bshd(lq, h, d), self.bshd(lk, h, d), self.bshd(lk, h, d)
        ours = self.cudnn(q, k, v).float()
        with self.kernel([self.B.MATH]):
            ref = self.sdpa(q.float(), k.float(), v.float())
        rel = ((ours - ref).norm() / ref.norm()).item()
        ok = rel < CHECK_TOL and not self.torch.isnan(ours).any().item()
        print(f"  check cuDNN vs math SDPA (fp32) {label}: q {lq} x k {lk}, rel L2 {rel:.2e} -> "
              f"{'OK' if ok else 'MISMATCH'}", flush=True)
        return dict(label=label, lq=lq, lk=lk, rel_l2=rel, ok=ok)

    def per_call(self, q, k, v, reps, warmup):
        torch = self.torch
        for _ in range(warmup):
            self.cudnn(q, k, v)
        torch.cuda.synchronize()
        times = []
        with self.kernel([self.B.CUDNN_ATTENTION]):
            for _ in range(reps):
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                if self.spin:
                    self.spin(SPIN_CYCLES)
                a.record()
                self.sdpa(q, k, v)
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
        return statistics.median(times), times

    def loop(self, lq, lk, h, d, passes, layers, reps):
        """passes x layers calls back to back, each layer its own q/k/v; ms per repetition."""
        torch = self.torch
        qs = [self.bshd(lq, h, d) for _ in range(layers)]
        ks = [self.bshd(lk, h, d) for _ in range(layers)]
        vs = [self.bshd(lk, h, d) for _ in range(layers)]
        for l in range(layers):  # warm: every tensor once (cuDNN's plan for the shape is cached)
            self.cudnn(qs[l], ks[l], vs[l])
        torch.cuda.synchronize()
        times = []
        with self.kernel([self.B.CUDNN_ATTENTION]):
            for _ in range(reps):
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                a.record()
                for _p in range(passes):
                    for l in range(layers):
                        self.sdpa(qs[l], ks[l], vs[l])
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
        del qs, ks, vs
        torch.cuda.empty_cache()
        return statistics.median(times), times


def time_cudnn(plan, scale, args):
    torch, SDPBackend, sdpa_kernel = import_torch()
    g = plan["geometry"]
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "f16": torch.float16}
    if g["dtype"] not in dtypes:
        raise Failure(f"plan dtype {g['dtype']!r}: cuDNN SDPA takes bf16 or fp16")
    H, D = int(g["heads"]), int(g["head_dim"])
    passes, layers = int(g["passes_per_chunk"]), int(g["layers"])
    t = CudnnTimer(torch, SDPBackend, sdpa_kernel, dtypes[g["dtype"]], scale, args.idle_start)
    info = dict(device=torch.cuda.get_device_name(), torch=torch.__version__,
                cudnn=torch.backends.cudnn.version(), cuda=torch.version.cuda,
                timing=("idle start (Python launch time included)" if t.spin is None
                        else f"each call queued behind torch.cuda._sleep({SPIN_CYCLES}) (GPU time only)"))
    if not args.idle_start and t.spin is None:
        print("  note: torch.cuda._sleep is missing: per-call times start on an idle GPU", flush=True)
    print(f"\ncuDNN SDPA on {info['device']} (torch {info['torch']}, cuDNN {info['cudnn']}, "
          f"CUDA {info['cuda']}), {g['dtype']}, H {H}, D {D}, BSHD as [B, H, S, D] views", flush=True)
    first, last = plan["chunks"][0], plan["chunks"][-1]
    checks = [t.check(first["lq"], first["lk"], H, D, f"chunk {first['index']} (whole)"),
              t.check(min(256, last["lq"]), last["lk"], H, D,
                      f"chunk {last['index']} (first {min(256, last['lq'])} query rows)")]
    if not all(c["ok"] for c in checks):
        raise Failure("cuDNN SDPA disagrees with math SDPA in this layout: times not taken")
    out = {}
    for c in plan["chunks"]:
        q, k, v = t.bshd(c["lq"], H, D), t.bshd(c["lk"], H, D), t.bshd(c["lk"], H, D)
        med, samples = t.per_call(q, k, v, args.reps, args.warmup)
        del q, k, v
        loop_ms, loop_samples = (None, [])
        if args.loop_reps > 0:
            loop_ms, loop_samples = t.loop(c["lq"], c["lk"], H, D, passes, layers, args.loop_reps)
        out[c["index"]] = dict(per_call_ms=med, per_call_samples=samples, loop_ms=loop_ms,
                               loop_samples=loop_samples)
        print(f"  chunk {c['index']}: Lk {c['lk']}: {med:.3f} ms per call (median of {args.reps})"
              + (f", loop of {passes * layers} calls {loop_ms:.1f} ms" if loop_ms is not None else ""),
              flush=True)
    return info, checks, out


# ---------------------------------------------------------------------------------------------
# the table


def fmt(v, nd=2):
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{nd}f}"


def ratio(a, b):
    return a / b if a is not None and b and b > 0 else None


def build_tables(plan, report, cudnn, calls_per_chunk, placeholder):
    g = plan["geometry"]
    H, D = int(g["heads"]), int(g["head_dim"])
    rows = []
    for c in plan["chunks"]:
        r = report["chunks"][c["index"]]
        cd = cudnn[c["index"]]
        lfc = r["selection_ms"] + r["attention_ms"]
        cud = cd["per_call_ms"] * calls_per_chunk
        loop = cd["loop_ms"]
        flops = 4.0 * D * c["lq"] * c["lk"] * H * calls_per_chunk
        rows.append(dict(chunk=c["index"], lk=c["lk"], dense=c["dense"],
                         kept=c["kept_key_blocks"], key_blocks=c["key_blocks"], calls=r["calls"],
                         lfc_selection_ms=r["selection_ms"], lfc_attention_ms=r["attention_ms"],
                         lfc_total_ms=lfc, lfc_dense_ms=r["dense_ms"],
                         cudnn_per_call_ms=cd["per_call_ms"], cudnn_ms=cud, cudnn_loop_ms=loop,
                         cudnn_tflops=flops / cud / 1e9 if cud > 0 else None,
                         speedup=ratio(cud, lfc), speedup_loop=ratio(loop, lfc)))
    tot = {k: sum(r[k] for r in rows) for k in ("lfc_selection_ms", "lfc_attention_ms",
                                                "lfc_total_ms", "lfc_dense_ms", "cudnn_ms")}
    tot["cudnn_loop_ms"] = (None if any(r["cudnn_loop_ms"] is None for r in rows)
                            else sum(r["cudnn_loop_ms"] for r in rows))
    tot["speedup"] = ratio(tot["cudnn_ms"], tot["lfc_total_ms"])
    tot["speedup_loop"] = ratio(tot["cudnn_loop_ms"], tot["lfc_total_ms"])
    tot["lfc_dense_vs_cudnn"] = ratio(tot["cudnn_ms"], tot["lfc_dense_ms"])
    tot["lfc_dense_speedup"] = ratio(tot["lfc_dense_ms"], tot["lfc_total_ms"])
    tot["selection_share"] = ratio(tot["lfc_selection_ms"], tot["lfc_total_ms"])

    tag = " (PLACEHOLDER: lfc dense, self-check)" if placeholder else ""
    lines = [
        f"| chunk | Lk | kept / key blocks | lfc selection ms | lfc attention ms | lfc sel + attn ms "
        f"| lfc dense ms | cuDNN ms/call{tag} | cuDNN dense ms (median x {calls_per_chunk}) "
        f"| cuDNN loop ms | cuDNN TFLOP/s | speed-up vs cuDNN | (loop) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        kept = "dense" if r["dense"] else f"{r['kept']} / {r['key_blocks']}"
        lines.append(
            f"| {r['chunk']} | {r['lk']} | {kept} | {fmt(r['lfc_selection_ms'])} "
            f"| {fmt(r['lfc_attention_ms'])} | {fmt(r['lfc_total_ms'])} | {fmt(r['lfc_dense_ms'])} "
            f"| {fmt(r['cudnn_per_call_ms'], 3)} | {fmt(r['cudnn_ms'])} | {fmt(r['cudnn_loop_ms'])} "
            f"| {fmt(r['cudnn_tflops'], 1)} | {fmt(r['speedup'])}x | {fmt(r['speedup_loop'])}x |")
    lines.append(
        f"| **total** | | | {fmt(tot['lfc_selection_ms'])} | {fmt(tot['lfc_attention_ms'])} "
        f"| **{fmt(tot['lfc_total_ms'])}** | {fmt(tot['lfc_dense_ms'])} | | **{fmt(tot['cudnn_ms'])}** "
        f"| {fmt(tot['cudnn_loop_ms'])} | | **{fmt(tot['speedup'])}x** | {fmt(tot['speedup_loop'])}x |")
    return rows, tot, lines


def verdict_lines(tot, placeholder):
    def met(x, ok):
        return "—" if x is None else ("**met**" if ok else "**NOT met**")
    s, sl = tot["speedup"], tot["speedup_loop"]
    lfc_s = tot["lfc_total_ms"] / 1e3
    out = [
        f"- cuDNN dense / lfc (selection + attention): **{fmt(s)}x** with per-call medians "
        f"({fmt(tot['cudnn_ms'] / 1e3, 3)} s vs {fmt(lfc_s, 3)} s), {fmt(sl)}x against the "
        f"back-to-back loop ({fmt(tot['cudnn_loop_ms'] / 1e3 if tot['cudnn_loop_ms'] else None, 3)} s). "
        f"Target >= {TARGET_RATIO}x: {met(s, s is not None and s >= TARGET_RATIO)} (medians), "
        f"{met(sl, sl is not None and sl >= TARGET_RATIO)} (loop).",
        f"- lfc's rollout attention (selection + attention, all calls): {fmt(lfc_s, 3)} s; mission "
        f"goal < {TARGET_ROLLOUT_S} s: {met(lfc_s, lfc_s < TARGET_ROLLOUT_S)}. Selection is "
        f"{fmt(100 * tot['selection_share'] if tot['selection_share'] is not None else None, 1)}% of it.",
        f"- lfc's own dense kernel in the same loop: {fmt(tot['lfc_dense_ms'] / 1e3, 3)} s "
        f"(cuDNN / lfc dense {fmt(tot['lfc_dense_vs_cudnn'])}x; lfc dense / lfc sparse "
        f"{fmt(tot['lfc_dense_speedup'])}x).",
        f"- Reference: {REFERENCE}.",
    ]
    if placeholder:
        out.insert(0, "- **SELF-CHECK: no cuDNN measured; the cuDNN columns repeat lfc's dense "
                      "times as placeholders.**")
    return out


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="lfc_ar_video binary (default: BENCH_DIR/lfc_ar_video)")
    ap.add_argument("--bench-dir", default="build/bin", help="directory holding lfc_ar_video")
    ap.add_argument("--plan", default=".deps/plans/self_forcing_short", help="compiled plan directory")
    ap.add_argument("--report-dir", default="/tmp/lfc-rollout-report",
                    help="where lfc_ar_video writes report.json")
    ap.add_argument("--reuse-report", action="store_true",
                    help="do not run lfc_ar_video: read REPORT_DIR/report.json as it is")
    ap.add_argument("--reps", type=int, default=20, help="timed cuDNN calls per chunk (median)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed cuDNN calls per chunk first")
    ap.add_argument("--loop-reps", type=int, default=3,
                    help="repetitions of each chunk's back-to-back loop (0: skip the loop timing)")
    ap.add_argument("--idle-start", action="store_true",
                    help="per-call timing from an idle GPU (Python launch time included), like peers.py")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for lfc_ar_video")
    ap.add_argument("--out", help="markdown file for the table")
    ap.add_argument("--json", help="JSON file for the numbers (default: --out with .json)")
    ap.add_argument("--self-check", action="store_true",
                    help="no GPU: CPU backend run (or --reuse-report), parse, tables; cuDNN placeholders")
    args = ap.parse_args()
    if args.reps < 1 or args.warmup < 0 or args.loop_reps < 0:
        raise Failure("--reps must be >= 1, --warmup and --loop-reps >= 0")

    command = shlex.join([sys.executable] + sys.argv)
    print(f"command: {command}\ncwd: {os.getcwd()}", flush=True)
    if not args.self_check:
        import_torch()  # fail before the rollout, not after it
    binary = args.bin or os.path.join(args.bench_dir, "lfc_ar_video")
    plan = load_plan(args.plan)
    g = plan["geometry"]
    print(f"plan {plan['name']} ({plan['path']}): {g['layers']} layers x {g['chunks']} chunks x "
          f"{g['passes_per_chunk']} passes, {g['heads']} heads, d{g['head_dim']}, {g['dtype']}, "
          f"{g['tokens_per_frame']} tokens/frame x {g['frames_per_chunk']} frames/chunk", flush=True)
    gpu_before = gpu_query()
    print(f"GPU (before):\n{gpu_before}", flush=True)

    lfc_cmd, lfc_wall = None, None
    if not args.reuse_report:
        lfc_cmd, lfc_wall = run_lfc(binary, args.plan, args.report_dir,
                                    "cpu" if args.self_check else "cuda", args.timeout)
        print(f"lfc_ar_video: {lfc_wall:.1f} s wall (both rollouts, quality, JIT, report)", flush=True)
    report = load_report(args.report_dir, plan, allow_host_times=args.self_check)
    print(f"report {report['path']}: backend {report['backend']}, plan {report['plan']}", flush=True)
    if report["missing_selection"]:
        print(f"  note: {report['missing_selection']} records have no selection time (counted as 0)")
    scale = report["softmax_scale"] or g.get("softmax_scale") or 1.0 / math.sqrt(int(g["head_dim"]))
    calls_per_chunk = int(g["passes_per_chunk"]) * int(g["layers"])

    if args.self_check:
        cudnn_info = dict(device="none (self-check)", torch=None, cudnn=None, cuda=None,
                          timing="placeholder: lfc's dense per-call median")
        checks = []
        cudnn = {}
        for c in plan["chunks"]:
            d = report["chunks"][c["index"]]["dense_calls"]
            cudnn[c["index"]] = dict(per_call_ms=statistics.median(d), per_call_samples=[],
                                     loop_ms=sum(d), loop_samples=[])
    else:
        cudnn_info, checks, cudnn = time_cudnn(plan, scale, args)
    gpu_after = gpu_query()

    rows, tot, table = build_tables(plan, report, cudnn, calls_per_chunk, args.self_check)
    verdict = verdict_lines(tot, args.self_check)
    md = [
        f"## {plan['name']}: the AR rollout's attention, lfc vs cuDNN dense",
        "",
        f"- command: `{command}`",
        f"- lfc: `{shlex.join(lfc_cmd) if lfc_cmd else '(reused ' + report['path'] + ')'}`; backend "
        f"{report['backend']}; times: sums over {calls_per_chunk} calls per chunk of report.json's "
        f"per-call {'CUDA-event' if report['backend'].startswith('cuda') else 'HOST WALL-CLOCK'} "
        f"times (selection_ms, attention_ms, dense_attention_ms)",
        f"- cuDNN: SDPBackend.CUDNN_ATTENTION, torch {cudnn_info['torch']}, cuDNN {cudnn_info['cudnn']}, "
        f"CUDA {cudnn_info['cuda']}, {cudnn_info['device']}; q [1, Lq, H, D], k/v [1, Lk, H, D] "
        f"{g['dtype']} (BSHD, passed as [B, H, S, D] views), Lq = {plan['chunks'][0]['lq']}, "
        f"scale {scale:.6g}; per call: median of {args.reps} after {args.warmup} warm-ups, "
        f"{cudnn_info['timing']}; loop: {calls_per_chunk} calls back to back (q/k/v per layer), "
        f"median of {args.loop_reps}",
        "- GPU (nvidia-smi, before / after):",
        "",
        "```",
        gpu_before,
        gpu_after,
        "```",
        "",
    ] + table + [""] + verdict
    if checks:
        md += ["", "Layout check (cuDNN vs math SDPA in fp32): " + "; ".join(
            f"{c['label']} rel L2 {c['rel_l2']:.2e} {'OK' if c['ok'] else 'MISMATCH'}" for c in checks)]
    text = "\n".join(md) + "\n"
    print("\n" + text, flush=True)

    out_json = args.json or (os.path.splitext(args.out)[0] + ".json" if args.out else None)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
        print(f"wrote {args.out}")
    if out_json:
        doc = dict(command=command, self_check=args.self_check, plan=plan["name"],
                   plan_path=plan["path"], geometry=g, lfc_command=lfc_cmd, lfc_wall_s=lfc_wall,
                   report=report["path"], backend=report["backend"], gpu_before=gpu_before,
                   gpu_after=gpu_after, cudnn=cudnn_info, checks=checks, softmax_scale=scale,
                   calls_per_chunk=calls_per_chunk, reps=args.reps, warmup=args.warmup,
                   loop_reps=args.loop_reps, chunks=rows, totals=tot,
                   cudnn_samples={str(k): v for k, v in cudnn.items()},
                   targets=dict(ratio=TARGET_RATIO, rollout_s=TARGET_ROLLOUT_S,
                                ratio_met=tot["speedup"] is not None and tot["speedup"] >= TARGET_RATIO,
                                ratio_loop_met=tot["speedup_loop"] is not None
                                and tot["speedup_loop"] >= TARGET_RATIO,
                                rollout_met=tot["lfc_total_ms"] / 1e3 < TARGET_ROLLOUT_S),
                   reference=REFERENCE)
        os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
        with open(out_json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"wrote {out_json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        print(f"rollout_vs_cudnn: {e}", file=sys.stderr)
        sys.exit(1)
