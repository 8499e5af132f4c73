#!/usr/bin/env bash
# A/B of two gander binaries on the same benchmark, interleaved so that the host's drift (memory
# bandwidth and matrix throughput move 15-100 % over minutes here) falls on both alike: for each
# pair the two run back to back, in alternating order, and the report gives each side's median
# and range of prefill and decode tokens/s and the median (and range) of the per-pair ratios B/A.
# Usage: bench/ab.sh BASE_BINARY NEW_BINARY PAIRS [gander bench flags...]
#   e.g. bench/ab.sh /tmp/base/build/gander ./build/gander 4 --random rwkv7:L12,D768,V65536 --dtype bf16
# Prints one Markdown row: | flags | pairs | prefill A | prefill B | ratio | decode A | decode B | ratio |
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 BASE NEW PAIRS bench-flags..." >&2; exit 2; }
base=$1 new=$2 pairs=$3
shift 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((i = 0; i < pairs; i++)); do
  if ((i % 2 == 0)); then order="a b"; else order="b a"; fi
  for side in $order; do
    bin=$base
    [ "$side" = b ] && bin=$new
    "$bin" bench "$@" --json-out "$out/$side.$i.json" >/dev/null 2>&1
  done
done
python3 - "$out" "$pairs" "$*" <<'EOF'
import json, statistics, sys
out, pairs, flags = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(side, i): return json.load(open(f"{out}/{side}.{i}.json"))
cells = []
for key in ("prefill_tokens_per_s", "decode_tokens_per_s"):
    a = [load("a", i)[key] for i in range(pairs)]
    b = [load("b", i)[key] for i in range(pairs)]
    r = [y / x for x, y in zip(a, b)]
    fmt = lambda v: f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"
    cells += [fmt(a), fmt(b), f"{statistics.median(r):.3f} ({min(r):.2f}-{max(r):.2f})"]
print(f"| `{flags}` | {pairs} | " + " | ".join(cells) + " |")
EOF
