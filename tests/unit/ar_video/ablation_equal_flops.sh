#!/usr/bin/env bash
# The ablation variants (examples/ablation/, scripts/ablation.sh, docs/QUALITY.md "Ablation")
# are what they claim to be, at equal FLOPs:
#   - every variant compiles (the reduced ones; the full ones are explained only) and its
#     geometry is the reference's (reduced: examples/ar_video/self_forcing_short_reduced.toml,
#     full: examples/policies/self_forcing_short.toml);
#   - dense keeps every block of every chunk (density 1, every plan chunk dense);
#   - the three sparse variants keep the same number of (query block, key block) pairs over
#     the rollout, within 1%, counted from the compiled plan.toml and from lfc explain --json
#     (which must agree), and the same total sparse FLOPs within 1%;
#   - uniform_topk has one sparsity for chunks 2..n and no frame stage; growth_topk has the
#     growing schedule and no frame stage; growth_hsa has the same budgets as growth_topk plus
#     the frame stage (frames_top_k 6, sink 1, near 2).
# Usage: ablation_equal_flops.sh LFC ABLATION_DIR REDUCED_REFERENCE FULL_REFERENCE
set -euo pipefail
lfc=$1 dir=$2 reduced_ref=$3 full_ref=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
variants=(dense uniform_topk growth_topk growth_hsa)
"$lfc" explain --json "$reduced_ref" >"$work/ref_reduced.json"
"$lfc" explain --json "$full_ref" >"$work/ref_full.json"
for v in "${variants[@]}"; do
  "$lfc" explain --json "$dir/${v}_reduced.toml" >"$work/${v}_reduced.json"
  "$lfc" explain --json "$dir/$v.toml" >"$work/${v}_full.json"
  "$lfc" compile "$dir/${v}_reduced.toml" -o "$work/plan_$v" >/dev/null
done
python3 - "$work" "${variants[@]}" <<'PY'
import json, os, re, sys

work, variants = sys.argv[1], sys.argv[2:]
sparse = [v for v in variants if v != "dense"]

def load(name):
    with open(os.path.join(work, name + ".json")) as f:
        return json.load(f)

def plan_chunks(v):
    """[[chunks]] of plan.toml as dicts (a line parser: no tomllib needed)."""
    chunks, cur = [], None
    with open(os.path.join(work, "plan_" + v, "plan.toml")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line.startswith("["):
                cur = {} if line == "[[chunks]]" else None
                if cur is not None:
                    chunks.append(cur)
                continue
            m = re.match(r'(\w+)\s*=\s*(.+)$', line)
            if cur is not None and m:
                val = m.group(2).strip()
                cur[m.group(1)] = (val == "true") if val in ("true", "false") else val.strip('"')
    return chunks

def explain_pairs(e):
    return sum(c["query_blocks"] * c["mean_kept_key_blocks"] for c in e["chunks"])

def within(values, tol, what):
    lo, hi = min(values.values()), max(values.values())
    assert lo > 0 and hi / lo - 1 <= tol, f"{what} differ by more than {100 * tol:g}%: {values}"

report = []
for size in ("reduced", "full"):
    ref = load("ref_" + size)
    ex = {v: load(f"{v}_{size}") for v in variants}
    for v, e in ex.items():
        assert e["geometry"] == ref["geometry"], (size, v, e["geometry"], ref["geometry"])
        assert e["select"]["block_q"] == ref["select"]["block_q"] and \
            e["select"]["block_k"] == ref["select"]["block_k"], (size, v, e["select"])
    d = ex["dense"]
    not_dense = [c["index"] for c in d["chunks"] if not (
        c["dense"] and c["density"] == 1 and c["mean_kept_key_blocks"] == c["key_blocks"])]
    assert not not_dense, f"{size}: dense is not dense in chunks {not_dense}"
    assert d["total_sparse_flops"] == d["total_dense_flops"], (size, "dense FLOPs")
    pairs = {v: explain_pairs(ex[v]) for v in sparse}
    within(pairs, 0.01, f"{size}: kept block pairs of the sparse variants")
    within({v: ex[v]["total_sparse_flops"] for v in sparse}, 0.01,
           f"{size}: total sparse FLOPs of the sparse variants")
    for v in sparse:
        cs = ex[v]["chunks"]
        assert cs[0]["dense"] and all(not c["dense"] and c["density"] < 0.5 for c in cs[1:]), (size, v)
    # The schedules and stages the names promise.
    uni = [c["sparsity"] for c in ex["uniform_topk"]["chunks"][1:]]
    assert max(uni) - min(uni) < 1e-12, (size, "uniform_topk: not one sparsity", uni)
    grow = [c["sparsity"] for c in ex["growth_topk"]["chunks"][1:]]
    assert all(a < b for a, b in zip(grow, grow[1:])), (size, "growth_topk: not growing", grow)
    assert grow == [c["sparsity"] for c in ex["growth_hsa"]["chunks"][1:]], (size, "growth schedules differ")
    assert [c["kept_key_blocks"] for c in ex["growth_topk"]["chunks"]] == \
        [c["kept_key_blocks"] for c in ex["growth_hsa"]["chunks"]], (size, "budgets differ")
    report.append(f"{size}: sparse variants keep {', '.join(f'{v} {p:g}' for v, p in pairs.items())} "
                  f"block pairs of {explain_pairs(d):g}")

# The compiled reduced plans: the same counts, dense chunks, and the frame stage.
plan_pairs = {}
for v in variants:
    chunks = plan_chunks(v)
    e = load(f"{v}_reduced")
    assert len(chunks) == len(e["chunks"]), v
    total = 0
    for c, ec in zip(chunks, e["chunks"]):
        kept = int(c["key_blocks"]) if c["dense"] else int(c["kept_key_blocks"])
        total += int(c["query_blocks"]) * kept
        assert c["dense"] == ec["dense"], (v, c["index"])
        if v == "dense":
            assert c["dense"] is True, (v, "plan chunk not dense", c["index"])
        elif c["dense"] is False:
            want = ("6", "1", "2") if v == "growth_hsa" else ("0", "0", "0")
            got = (c["frames_top_k"], c["sink_frames"], c["near_frames"])
            assert got == want, (v, c["index"], "frame stage (top_k, sink, near)", got, want)
    assert total == explain_pairs(e), (v, "plan.toml and lfc explain disagree", total, explain_pairs(e))
    plan_pairs[v] = total
within({v: plan_pairs[v] for v in sparse}, 0.01, "reduced plans: kept block pairs")
print("ok: " + "; ".join(report) + "; plans agree")
PY
