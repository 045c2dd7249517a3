#!/usr/bin/env bash
# The Light Forcing ablation on the synthetic AR video workload, at equal FLOPs
# (docs/QUALITY.md, section "Ablation"). Four policy variants (examples/ablation/):
#   dense         every key block of every chunk
#   uniform_topk  chunk 1 dense, sparsity 0.88 for chunks 2..7, block top-k alone
#   growth_topk   + Chunk-Aware Growth (target 0.88, base 0.98), block top-k alone
#   growth_hsa    + Hierarchical Sparse Attention (= examples/policies/self_forcing_short.toml)
# The three sparse variants keep the same number of (query block, key block) pairs over the
# rollout. Each variant is compiled (lfc compile) and run (lfc_ar_video: a dense and a plan
# rollout of the synthetic model side by side); then a markdown table is printed from the
# reports.
#
#   scripts/ablation.sh [--full] [--force] [--build DIR] [--out DIR] [--seeds "1 2 3"]
#                       [--variants "v1 v2"] [--compile-only | --plans DIR] [--table-only]
#                       [-- extra lfc_ar_video args, e.g. --sample-rows 180 or --backend cuda]
#
#   --full       the full-size variants (Wan2.1-1.3B geometry, examples/ablation/<v>.toml)
#                instead of the reduced ones (<v>_reduced.toml, seconds each on the CPU).
#                A full rollout is far too slow on the CPU backend, so --full is refused
#                unless lfc_ar_video gets a GPU backend (-- --backend cuda, or no --backend /
#                --backend auto where nvidia-smi lists a GPU) or --force is given.
#   --build DIR  where bin/lfc and bin/lfc_ar_video are (default: build)
#   --out DIR    plans, reports and logs (default: DIR/ablation or DIR/ablation_full under
#                the build directory); reports go to OUT/<variant> (OUT/seed<N>/<variant>
#                with --seeds), the table to OUT/table.md
#   --seeds L    run every variant once per seed in the list (lfc_ar_video --seed N) and add
#                a table of the spread over the seeds
#   --compile-only  compile the variants into OUT/plans (plans + lfc explain --json) and stop:
#                for a GPU machine without the compiler (make build COMPILER=OFF), carry
#                OUT/plans there and run with --plans
#   --plans DIR  use plans compiled by --compile-only (DIR/<variant>/, DIR/<variant>.explain.json)
#                instead of running lfc
#   --variants L run only these variants (default: all four), e.g. to split a GPU session
#   --table-only run nothing: print the table from the reports already in OUT (same --seeds)
#
# Needs python3 (to read report.json and lfc explain --json).
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "ablation: error: $1" >&2; exit "${2:-1}"; }

full=0 force=0 build=build out= seeds= compile_only=0 plans= table_only=0 only=
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --full) full=1 ;;
    --force) force=1 ;;
    --build) [[ $# -ge 2 ]] || usage; build=$2; shift ;;
    --build=*) build=${1#*=} ;;
    --out) [[ $# -ge 2 ]] || usage; out=$2; shift ;;
    --out=*) out=${1#*=} ;;
    --seeds) [[ $# -ge 2 ]] || usage; seeds=$2; shift ;;
    --seeds=*) seeds=${1#*=} ;;
    --compile-only) compile_only=1 ;;
    --table-only) table_only=1 ;;
    --variants) [[ $# -ge 2 ]] || usage; only=$2; shift ;;
    --variants=*) only=${1#*=} ;;
    --plans) [[ $# -ge 2 ]] || usage; plans=$2; shift ;;
    --plans=*) plans=${1#*=} ;;
    -h|--help) usage ;;
    --) shift; extra=("$@"); break ;;
    *) echo "ablation: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lfc=$build/bin/lfc
arvideo=$build/bin/lfc_ar_video
[[ $compile_only == 0 || -z $plans ]] || die "--compile-only and --plans exclude each other" 2
if [[ -z $plans ]] && ((!table_only)); then
  [[ -x $lfc ]] || die "$lfc not found; build it (ninja -C $build lfc), pass --build DIR, or use plans compiled elsewhere (--plans DIR, written by --compile-only)"
fi
if ((!compile_only && !table_only)); then
  [[ -x $arvideo ]] || die "$arvideo not found; build it (ninja -C $build lfc_ar_video) or pass --build DIR"
fi
command -v python3 >/dev/null || die "python3 is needed to read the reports"

# The backend the extra arguments select, if any.
backend=
for ((i = 0; i < ${#extra[@]}; ++i)); do
  case ${extra[i]} in
    --backend) backend=${extra[i + 1]:-} ;;
    --backend=*) backend=${extra[i]#*=} ;;
    --seed|--seed=*) [[ -z $seeds ]] || die "give the seeds with --seeds or with -- --seed, not both" 2 ;;
  esac
done
# lfc_ar_video's default (auto) takes the GPU when there is one.
gpu=0
if [[ $backend == cuda ]]; then
  gpu=1
elif [[ -z $backend || $backend == auto ]] && command -v nvidia-smi >/dev/null &&
  nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  gpu=1
fi
if ((full && !force && !compile_only && !table_only && !gpu)); then
  die "--full runs 7 chunks x 5 passes x 30 layers at 1560 tokens per frame (twice: dense and
  sparse), which takes many hours on the CPU backend, and no GPU backend is selected
  (${backend:-auto} without a GPU that nvidia-smi lists). Pass a GPU backend to lfc_ar_video
  (scripts/ablation.sh --full -- --backend cuda) or add --force to run it anyway." 2
fi

variants=(dense uniform_topk growth_topk growth_hsa)
if [[ -n $only ]]; then
  for v in $only; do
    [[ " ${variants[*]} " == *" $v "* ]] || die "unknown variant '$v' (known: ${variants[*]})" 2
  done
  read -r -a variants <<<"$only"
fi
suffix=_reduced
((full)) && suffix=
if [[ -z $out ]]; then
  out=$build/ablation
  ((full)) && out=$build/ablation_full
fi
mkdir -p "$out/logs"
precompiled=0
if [[ -n $plans ]]; then precompiled=1; else plans=$out/plans; fi
((table_only)) && precompiled=1

size=reduced
((full)) && size=full
echo "ablation: $size geometry, ${#variants[@]} variants, seeds: ${seeds:-default}," \
  "lfc_ar_video args: ${extra[*]:-(none)}; output in $out" >&2

# Compile every variant once and keep its lfc explain --json (kept blocks, FLOPs), unless
# the plans come from elsewhere (--plans).
n=${#variants[@]}
for ((i = 0; i < n; ++i)); do
  v=${variants[i]}
  policy=$root/examples/ablation/$v$suffix.toml
  if ((precompiled)); then
    [[ -f $plans/$v/plan.toml && -f $plans/$v.explain.json ]] ||
      die "$plans: no $v/plan.toml or $v.explain.json (write them with --compile-only, or run without --table-only first)"
    want=$(basename "$policy" .toml)
    grep -q "^name = \"$want\"" "$plans/$v/plan.toml" ||
      die "$plans/$v/plan.toml is not the plan of $want (--full must match the plans' geometry)"
    echo "ablation: [$((i + 1))/$n] $v: precompiled plan $plans/$v" >&2
    continue
  fi
  mkdir -p "$plans"
  [[ -f $policy ]] || die "missing policy $policy"
  "$lfc" explain --json "$policy" >"$plans/$v.explain.json" 2>"$out/logs/$v.explain.log" ||
    { cat "$out/logs/$v.explain.log" >&2; die "lfc explain $policy failed"; }
  "$lfc" compile "$policy" -o "$plans/$v" --force >"$out/logs/$v.compile.log" 2>&1 ||
    { cat "$out/logs/$v.compile.log" >&2; die "lfc compile $policy failed"; }
  echo "ablation: [$((i + 1))/$n] $v: compiled $(basename "$policy") -> $plans/$v" >&2
done
if ((compile_only)); then
  flag=
  ((full)) && flag=" --full"
  echo "ablation: plans in $plans; run them with scripts/ablation.sh$flag --plans DIR" >&2
  exit 0
fi

# Run every variant (once per seed).
runs=()        # triples: seed (or -), report dir, variant
for seed in ${seeds:--}; do
  for ((i = 0; i < n; ++i)); do
    v=${variants[i]}
    args=("${extra[@]}")
    report=$out/$v
    log=$out/logs/$v.log
    label="[$((i + 1))/$n] $v"
    if [[ $seed != - ]]; then
      args+=(--seed "$seed")
      report=$out/seed$seed/$v
      log=$out/logs/seed$seed.$v.log
      label="$label, seed $seed"
      ((table_only)) || mkdir -p "$out/seed$seed"
    fi
    if ((table_only)); then
      [[ -f $report/report.json ]] || die "--table-only: no $report/report.json"
      runs+=("$seed" "$report" "$v")
      continue
    fi
    echo "ablation: $label: rollout (dense + plan) ..." >&2
    start=${EPOCHREALTIME/,/.}
    if ! "$arvideo" --plan "$plans/$v" --report "$report" "${args[@]}" >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      die "lfc_ar_video failed for $v (log: $log)"
    fi
    [[ -f $report/report.json ]] || die "no $report/report.json (log: $log)"
    echo "ablation: $label: done in $(python3 -c "print(f'{${EPOCHREALTIME/,/.} - $start:.1f}')") s ($(grep -m1 '^carried error' "$log" || echo 'no summary'))" >&2
    runs+=("$seed" "$report" "$v")
  done
done

# The table(s), from lfc explain --json and each report.json.
python3 - "$plans" "$size" "${runs[@]}" <<'PY' | tee "$out/table.md"
import json, math, os, sys

plans, size, runs = sys.argv[1], sys.argv[2], sys.argv[3:]

def explain(v):
    with open(os.path.join(plans, v + ".explain.json")) as f:
        e = json.load(f)
    pairs = sum(c["query_blocks"] * c["mean_kept_key_blocks"] for c in e["chunks"])
    dense_pairs = sum(c["query_blocks"] * c["key_blocks"] for c in e["chunks"])
    return pairs, dense_pairs, e["total_sparse_flops"] / e["total_dense_flops"], e

def num(x, fmt):
    return "-" if x is None else format(x, fmt)

seeds, rows = [], {}
for k in range(0, len(runs), 3):
    seed, report, v = runs[k:k + 3]
    with open(os.path.join(report, "report.json")) as f:
        r = json.load(f)
    if seed not in seeds:
        seeds.append(seed)
    rows.setdefault(seed, []).append((v, r))

info = {}
for seed in seeds:
    for v, _ in rows[seed]:
        if v not in info:
            info[v] = explain(v)
variants = [v for v, _ in rows[seeds[0]]]
geo = rows[seeds[0]][0][1]["geometry"]
sample = rows[seeds[0]][0][1]["sample"]["description"]

print(f"Ablation, {size} geometry: {geo['layers']} layers, {geo['heads']} heads x {geo['head_dim']}, "
      f"{geo['tokens_per_frame']} tokens/frame, {geo['chunks']} chunks x {geo['frames_per_chunk']} frames, "
      f"{geo['passes_per_chunk']} passes; backend {rows[seeds[0]][0][1]['backend']}; sample: {sample}")
print()
print("kept block pairs: sum over chunks of query blocks x kept key blocks (per layer and pass; "
      "lfc explain). Mass, rel L2, cosine: kept blocks vs dense attention over all evaluated calls "
      "(chunk 1 included, dense in every variant). Carried: rel L2 of the last layer's hidden "
      "state, plan rollout vs dense rollout, at the last chunk. Worst chunk: highest rel L2.")

for seed in seeds:
    print()
    if seed != "-":
        print(f"Seed {seed}:")
        print()
    print("| variant | kept block pairs | FLOPs vs dense | mass mean | mass p10 | rel L2 | cosine | carried rel L2 (chunk {}) | worst chunk |".format(geo["chunks"]))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for v, r in rows[seed]:
        pairs, dense_pairs, flops, _ = info[v]
        t = r["totals"]
        sparse_chunks = [c for c in r["chunks"] if c.get("rel_l2") not in (None, 0)]
        if sparse_chunks:
            w = max(sparse_chunks, key=lambda c: c["rel_l2"])
            worst = f"{w['chunk']} (rel L2 {w['rel_l2']:.3f}, mass {w['mass_mean']:.3f})"
        else:
            worst = "-"
        print(f"| {v} | {pairs:g} / {dense_pairs:g} | {flops:.4f} | {num(t['mass_mean'], '.4f')} | "
              f"{num(t['mass_p10'], '.4f')} | {num(t['rel_l2'], '.4f')} | {num(t['cosine'], '.4f')} | "
              f"{num(t['carried_rel_l2'], '.4f')} | {worst} |")
        short = [c["chunk"] for c in r["chunks"]
                 if c.get("planned_density") is not None and c["density"] < c["planned_density"] - 1e-9]
        if short:
            print(f"\n(note: {v} kept fewer blocks than its budget in chunks {short}: its FLOPs are below the "
                  f"bound in this row)\n")

sparse = [v for v in variants if v != "dense"]
if sparse:
    p = [info[v][0] for v in sparse]
    spread = max(p) / min(p) - 1
    print()
    print(f"Equal FLOPs: the sparse variants keep {', '.join(f'{v} {info[v][0]:g}' for v in sparse)} "
          f"block pairs (max/min - 1 = {100 * spread:.2f}%).")
    if spread > 0.01:
        print(f"\nWARNING: the sparse variants differ by more than 1% in kept block pairs: not an "
              f"equal-FLOPs comparison.")

def per_chunk(v, key):
    vals = {}
    for s in seeds:
        for vv, r in rows[s]:
            if vv == v:
                for c in r["chunks"]:
                    if c.get(key) is not None:
                        vals.setdefault(c["chunk"], []).append(c[key])
    return {c: sum(x) / len(x) for c, x in vals.items()}

chunks = [c["chunk"] for c in rows[seeds[0]][0][1]["chunks"]]
over = f" (mean over seeds {', '.join(seeds)})" if len(seeds) > 1 else ""
for key, title in (("mass_mean", "Captured mass per chunk"), ("rel_l2", "Rel L2 per chunk"),
                   ("carried_rel_l2", "Carried rel L2 per chunk")):
    print()
    print(f"{title}{over}:")
    print()
    print("| variant | " + " | ".join(f"c{c}" for c in chunks) + " |")
    print("| --- | " + " | ".join("---:" for _ in chunks) + " |")
    for v in variants:
        m = per_chunk(v, key)
        print(f"| {v} | " + " | ".join(num(m.get(c), ".3f") for c in chunks) + " |")
print()
print("Kept key blocks per query block, per chunk (the budget; lfc explain):")
print()
print("| variant | " + " | ".join(f"c{c}" for c in chunks) + " |")
print("| --- | " + " | ".join("---:" for _ in chunks) + " |")
for v in variants:
    e = info[v][3]
    print(f"| {v} | " + " | ".join(f"{c['mean_kept_key_blocks']:g}/{c['key_blocks']}" for c in e["chunks"]) + " |")

if len(seeds) > 1:
    print()
    print(f"Spread over seeds {', '.join(seeds)} (mean [min, max]):")
    print()
    print("| variant | mass mean | rel L2 | cosine | carried rel L2 |")
    print("| --- | --- | --- | --- | --- |")
    for v in variants:
        cells = []
        for key, fmt in (("mass_mean", ".4f"), ("rel_l2", ".4f"), ("cosine", ".4f"), ("carried_rel_l2", ".4f")):
            vals = [r["totals"][key] for s in seeds for vv, r in rows[s] if vv == v]
            if any(x is None for x in vals):
                cells.append("-")
                continue
            m = sum(vals) / len(vals)
            cells.append(f"{m:{fmt}} [{min(vals):{fmt}}, {max(vals):{fmt}}]")
        print(f"| {v} | " + " | ".join(cells) + " |")
PY
echo "ablation: table written to $out/table.md" >&2
