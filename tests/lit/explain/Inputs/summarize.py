# Prints the fields of `lfc explain --json` one per line, so FileCheck can match them; also
# fails if the output is not one valid JSON object with the documented keys.
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)
geometry = report["geometry"]
print("geometry", " ".join(f"{k}={geometry[k]}" for k in sorted(geometry)))
for chunk in report["chunks"]:
    print(
        f"chunk {chunk['index']} sparsity {chunk['sparsity']:.3f} density {chunk['density']:.4f}"
        f" frames {chunk['visible_frames']} kv {chunk['kv_tokens']}"
        f" qb {chunk['query_blocks']} kb {chunk['key_blocks']} kept {chunk['kept_key_blocks']}"
        f" dense_flops {chunk['dense_flops']} sparse_flops {chunk['sparse_flops']}"
        f" mean_kept {chunk['mean_kept_key_blocks']:.4f}"
        f" mask {chunk['static_mask'] if chunk['static_mask'] is not None else 'none'}"
        f" counted {str(chunk['static_mask_counted']).lower()}"
    )
print("total_dense_flops", report["total_dense_flops"])
print("total_sparse_flops", report["total_sparse_flops"])
print("speedup %.4f" % report["attention_speedup_bound"])
