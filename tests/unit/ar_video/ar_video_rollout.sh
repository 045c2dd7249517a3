#!/usr/bin/env bash
# The reduced CPU AR loop end to end: lfc compile, then lfc_ar_video, then checks on its
# report against closed-form facts: chunk 1 is dense (every block kept: captured mass 1,
# relative error 0, no carried error yet), every later chunk keeps exactly its budget (the
# HSA selection keeps K blocks whenever more are eligible), and sparse chunks lose mass.
# Then `lfc replay` of the rollout's dumped trace must reproduce every chunk's numbers: an
# independent path (TraceReader, selection from scratch, no PlanRunner, no pooled keys).
set -euo pipefail
lfc=$1 arvideo=$2 policy=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$lfc" compile "$policy" -o "$work/plan" >/dev/null 2>&1
"$arvideo" --plan "$work/plan" --report "$work/report" --dump-trace "$work/trace" \
  >"$work/out.txt" 2>"$work/err.txt"
"$lfc" replay "$work/trace" --plan "$work/plan" --report "$work/replay" >/dev/null 2>&1
python3 - "$work/report/report.json" "$work/replay/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
replay = json.load(open(sys.argv[2]))
for a, b in zip(r["chunks"], replay["chunks"]):
    for key in ("density", "mass_mean", "mass_min", "rel_l2", "cosine"):
        assert a[key] == b[key], (a["chunk"], key, a[key], b[key])
assert len(replay["chunks"]) == 7
chunks = r["chunks"]
assert len(chunks) == 7, len(chunks)
c1 = chunks[0]
assert c1["mass_mean"] == 1 and c1["rel_l2"] == 0 and c1["carried_rel_l2"] == 0, c1
for c in chunks[1:]:
    assert abs(c["density"] - c["planned_density"]) < 1e-12, c
    assert 0 < c["mass_mean"] < 1 and c["rel_l2"] > 0, c
assert len(r["records"]["chunk"]) == 7 * 5 * 4
print("ok: 7 chunks, 140 calls; chunk 1 exact; later chunks at their budget; replay identical")
PY
grep -q "^report: " "$work/out.txt"
# A global-cache trace that records no sink frames (a model without a window need not) replays
# on the same plan; a trace whose window differs from the plan's is refused, naming the field.
sed -i 's/"sink_frames": 1/"sink_frames": 0/' "$work/trace/trace.json"
grep -q '"sink_frames": 0' "$work/trace/trace.json"
"$lfc" replay "$work/trace" --plan "$work/plan" --report "$work/replay0" >/dev/null 2>&1
sed -i 's/"kv_window_frames": 0/"kv_window_frames": 21/' "$work/trace/trace.json"
if "$lfc" replay "$work/trace" --plan "$work/plan" --report "$work/replay21" >"$work/r21.txt" 2>&1; then
  echo "replay accepted a trace with another KV window" >&2; exit 1
fi
grep -q "kv_window_frames: trace 21, plan 0" "$work/r21.txt"
