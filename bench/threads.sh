#!/usr/bin/env bash
# Reproduces "Threads on a busy machine" in bench/RESULTS.md: decode tokens/s with every thread
# (fixed), one thread, and --threads auto (the ThreadGovernor), on a quiet machine and with one
# busy process competing for a core; the settings interleaved within each repetition.
# Usage: bench/threads.sh [REPS]   (build first: scripts/build.sh; uses ../shared/testdata when present)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
all=$(nproc)
models=("--random rwkv7:L12,D768,V65536")
[ -d ../shared/testdata/qwen2/qwen2-small ] && models=("../shared/testdata/qwen2/qwen2-small" "${models[@]}")
decode() {  # model args, thread setting -> decode tokens/s
  ./build/gander bench $1 -t "$2" --prompt-tokens 16 --gen-tokens 400 --reps 1 --json |
    python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["decode_tokens_per_s"])'
}
echo "| model | machine | rep | -t $all | -t 1 | -t auto |"
echo "|---|---|---|---|---|---|"
for rep in $(seq "$reps"); do
  for busy in quiet busy; do
    hog=""
    # The competing process: bounded by timeout so that an interrupted run leaves no spinner behind.
    if [ "$busy" = busy ]; then timeout 600 bash -c 'while :; do :; done' & hog=$!; fi
    for m in "${models[@]}"; do
      a=$(decode "$m" "$all"); b=$(decode "$m" 1); c=$(decode "$m" auto)
      echo "| ${m##*/} | $busy | $rep | $a | $b | $c |"
    done
    [ -n "$hog" ] && { kill "$hog"; wait "$hog" 2>/dev/null || true; }
  done
done
