#!/usr/bin/env bash
# RAD-RWKV7 students against their Qwen2 teachers at 512 and 4096 tokens of context: prefill
# tokens/s of the whole prompt, then decode tokens/s of 64 tokens after it (the teacher's KV cache
# holds the prompt; the student's state is the same size whatever the context). Random weights of
# the same shapes (speed does not depend on the values): qwen2-small's (L6 D256, 2 x 128 heads,
# 1 KV head, V8256) and Qwen2.5-0.5B's, f32 and bf16 weights, teacher and student interleaved,
# REPS repetitions each (medians). Usage: bench/radlads_speed.sh [REPS]   (build first)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
row() {  # ARCH SHAPE DTYPE CTX
  ./build/gander bench --random "$1:$2" --dtype "$3" --prompt-tokens "$4" --gen-tokens 64 --reps "$reps" --json 2>/dev/null |
    python3 -c "import json,sys; j=json.load(sys.stdin); print(f\"| $1 | $2 | $3 | $4 | {j['prefill_tokens_per_s']:.0f} | {j['decode_tokens_per_s']:.1f} | {j['peak_rss_mib']:.0f} |\")"
}
echo "| model | shape | weights | context | prefill tok/s | decode tok/s after it | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for shape in L6,D256,H2,KV1,I768,V8256 L24,D896,H14,KV2,I4864,V151936; do
  for dtype in f32 bf16; do
    for ctx in 512 4096; do
      row qwen2 "$shape,T" "$dtype" "$ctx"
      row rad_rwkv7 "$shape" "$dtype" "$ctx"
    done
  done
done
