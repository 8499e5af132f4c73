#!/usr/bin/env bash
# Reproduces the RWKV-7 table of bench/RESULTS.md: random-initialised models of the released
# shapes (0.1B, 0.4B, 1.5B; vocab 65536), weights in bf16 and f32, 512-token prefill and 64
# decoded tokens, 5 repetitions, each against the memory bandwidth and matrix peak probed beside
# it (shares are medians of per-repetition ratios).
# Usage: bench/rwkv7.sh [extra gander bench flags]   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
gander=./build/gander
echo "| model | weights | prefill tok/s | of matmul peak | decode tok/s | ceiling tok/s | of ceiling | read GB/s | RSS / weights MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for shape in L12,D768,V65536 L24,D1024,V65536 L24,D2048,V65536; do
  for dtype in bf16 f32; do
    "$gander" bench --random "rwkv7:$shape" --dtype "$dtype" --prompt-tokens 512 --gen-tokens 64 --reps 5 --markdown-row "$@"
  done
done
