#!/usr/bin/env python3
"""Side-by-side with peers on the exact problem lfc_kernel_bench exported: cuDNN SDPA (dense)
and FlexAttention with a BlockMask built from lfc's kept lists. Checks the outputs agree with
lfc's and prints one table.

usage: peers.py --bench build/bin/lfc_kernel_bench [--dir /tmp/lfc_bench] [--reps 30]
(runs the lfc benchmark first, in this process's GPU session, then the peers)
"""
import argparse
import math
import os
import subprocess
import sys

import numpy as np
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.flex_attention import BlockMask, flex_attention


def median_ms(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def load_bf16(path, shape):
    raw = np.fromfile(path, dtype=np.uint16).astype(np.int16)
    return torch.from_numpy(raw).view(torch.bfloat16).reshape(shape).cuda()


def compare(name, ours, ref):
    ours, ref = ours.float(), ref.float()
    rel = ((ours - ref).norm() / ref.norm()).item()
    worst = (ours - ref).abs().max().item()
    ok = rel < 1e-2 and not torch.isnan(ours).any().item()
    print(f"  check {name}: rel L2 {rel:.2e}, max abs {worst:.2e} -> {'OK' if ok else 'MISMATCH'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", help="lfc_kernel_bench binary (run first); omit to reuse --dir")
    ap.add_argument("--dir", default="/tmp/lfc_bench")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--bench-args", default="",
                    help="extra lfc_kernel_bench arguments, e.g. '--tokens-per-frame 1536 --head-dim 64'")
    args = ap.parse_args()

    if args.bench:
        cmd = [args.bench, "--export", args.dir, "--reps", str(args.reps)] + args.bench_args.split()
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)

    meta = {}
    densities = {}
    with open(os.path.join(args.dir, "meta.txt")) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "density":
                densities[parts[1]] = dict(kept=int(parts[2]), ms=float(parts[3]), flops=float(parts[4]))
            elif parts[0] == "dense":
                meta["dense_ms"], meta["dense_flops"] = float(parts[1]), float(parts[2])
            else:
                meta[parts[0]] = int(parts[1])
    B, Lq, Lk, H, D, blk = (meta[k] for k in ("B", "Lq", "Lk", "H", "D", "block"))
    nqb, nkb = meta["qblocks"], meta["kblocks"]
    q = load_bf16(os.path.join(args.dir, "q.bin"), (B, Lq, H, D)).transpose(1, 2)
    k = load_bf16(os.path.join(args.dir, "k.bin"), (B, Lk, H, D)).transpose(1, 2)
    v = load_bf16(os.path.join(args.dir, "v.bin"), (B, Lk, H, D)).transpose(1, 2)
    scale = 1.0 / math.sqrt(D)
    dense_flops = 4.0 * D * Lq * Lk * H * B
    rows = []
    all_ok = True

    print(f"\npeers on {torch.cuda.get_device_name()} (torch {torch.__version__})")
    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
        sdpa = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=scale)
        ref_dense = sdpa()
        sdpa_ms = median_ms(sdpa, args.reps)
    rows.append(("cuDNN SDPA", "1.00 (dense)", sdpa_ms, dense_flops / sdpa_ms / 1e9))
    if "dense_ms" in meta:
        ours = load_bf16(os.path.join(args.dir, "out_dense.bin"), (B, Lq, H, D)).transpose(1, 2)
        all_ok &= compare("lfc dense vs cuDNN SDPA", ours, ref_dense)
        rows.append(("lfc dense kernel", "1.00 (dense)", meta["dense_ms"], meta["dense_flops"] / meta["dense_ms"] / 1e9))

    flex = torch.compile(flex_attention, dynamic=False)
    # The ragged tail (Lk not a multiple of the block) is masked at token level by mask_mod;
    # blocks wholly inside the sequence are passed as full blocks (no mask_mod evaluated).
    def tail_mask(b, h, q_idx, kv_idx):
        return kv_idx < Lk

    flex_dense_ms = None
    for tag, d in sorted(densities.items(), key=lambda kv: -float(kv[0])):
        kept = d["kept"]
        idx = np.fromfile(os.path.join(args.dir, f"kept_idx_{tag}.bin"), dtype=np.int32).reshape(B, H, nqb, kept)
        cnt = np.fromfile(os.path.join(args.dir, f"kept_cnt_{tag}.bin"), dtype=np.int32).reshape(B, H, nqb)
        last = nkb - 1
        ragged = Lk % blk != 0
        full_idx = np.zeros((B, H, nqb, nkb), dtype=np.int32)
        full_cnt = np.zeros((B, H, nqb), dtype=np.int32)
        part_idx = np.zeros((B, H, nqb, nkb), dtype=np.int32)
        part_cnt = np.zeros((B, H, nqb), dtype=np.int32)
        for b in range(B):
            for h in range(H):
                for i in range(nqb):
                    sel = idx[b, h, i, : cnt[b, h, i]]
                    tail = sel[sel == last] if ragged else sel[:0]
                    body = sel[sel != last] if ragged else sel
                    full_idx[b, h, i, : len(body)] = body
                    full_cnt[b, h, i] = len(body)
                    part_idx[b, h, i, : len(tail)] = tail
                    part_cnt[b, h, i] = len(tail)
        t = lambda a: torch.from_numpy(a).cuda()
        mask = BlockMask.from_kv_blocks(t(part_cnt), t(part_idx), t(full_cnt), t(full_idx),
                                        BLOCK_SIZE=blk, mask_mod=tail_mask, seq_lengths=(Lq, Lk))
        run = lambda: flex(q, k, v, block_mask=mask, scale=scale)
        ref = run()
        ms = median_ms(run, args.reps)
        ours = load_bf16(os.path.join(args.dir, f"out_{tag}.bin"), (B, Lq, H, D)).transpose(1, 2)
        all_ok &= compare(f"lfc vs FlexAttention at density {tag}", ours, ref)
        if float(tag) == 1.0:
            all_ok &= compare("FlexAttention full mask vs cuDNN SDPA", ref, ref_dense)
            flex_dense_ms = ms
        rows.append((f"FlexAttention", tag, ms, d["flops"] / ms / 1e9))
        rows.append((f"lfc", tag, d["ms"], d["flops"] / d["ms"] / 1e9))

    print(f"\n{'kernel':<18} {'density':<14} {'ms':>8} {'TFLOP/s':>9}   (kept work only)")
    for name, dens, ms, tf in rows:
        print(f"{name:<18} {dens:<14} {ms:>8.3f} {tf:>9.1f}")
    if "0.20" in densities:
        flex20 = [r for r in rows if r[0] == "FlexAttention" and r[1] == "0.20"][0][2]
        print(f"\nlfc speedup over FlexAttention at density 0.20: {flex20 / densities['0.20']['ms']:.2f}x (target >= 2x)")
    if "dense_ms" in meta:
        best = min(meta["dense_ms"], densities.get("1.00", {}).get("ms", 1e9))
        print(f"lfc dense TFLOP/s as a fraction of cuDNN: {sdpa_ms / best:.2f} (target >= 0.60)")
    print("outputs agree" if all_ok else "OUTPUT MISMATCH")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
