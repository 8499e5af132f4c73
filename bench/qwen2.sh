#!/usr/bin/env bash
# Reproduces the Qwen2 table of bench/RESULTS.md: random-initialised models of the Qwen2.5-0.5B
# and 1.5B shapes (tied embeddings, vocab 151936), bf16 and f32 weights, 512-token prefill and 64
# decoded tokens, 5 repetitions (shares are medians of per-repetition ratios to the limits probed
# beside each). Usage: bench/qwen2.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "| model | weights | prefill tok/s | of matmul peak | decode tok/s | ceiling tok/s | of ceiling | read GB/s | RSS / weights MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for shape in L24,D896,H14,KV2,I4864,V151936,T L28,D1536,H12,KV2,I8960,V151936,T; do
  for dtype in bf16 f32; do
    ./build/gander bench --random "qwen2:$shape" --dtype "$dtype" --prompt-tokens 512 --gen-tokens 64 --reps 5 --markdown-row "$@"
  done
done
