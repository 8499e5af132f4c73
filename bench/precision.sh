#!/usr/bin/env bash
# Mixed precision against exact f32: the same random RWKV-7 model trained for STEPS steps on the
# same text windows (a book of ../shared/data/corpus, RWKV World tokenizer), once with f32 matrix
# products and once with bf16 ones (f32 accumulation, master weights and optimizer state), then
# the two loss curves side by side: the mean of the last 10 steps of each and their relative gap.
# Usage: bench/precision.sh [STEPS] [SHAPE] [BATCH] [SEQ]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-200} shape=${2:-rwkv7:L4,D256,V65536} batch=${3:-4} seq=${4:-128}
data=${GANDER_DATA:-../shared/data}
text=$data/corpus/train/en_pg02638_the-idiot.txt  # a long English novel
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for p in f32 bf16; do
  ./build/gander bench-train --random "$shape" --batch "$batch" --seq "$seq" --steps "$steps" --warmup 0 \
    --precision "$p" --lr 1e-3 --text "$text" --tokenizer "$data/rwkv_vocab_v20230424.txt" \
    --losses-out "$out/$p.txt" --json-out "$out/$p.json" >/dev/null
done
python3 - "$out" "$text" "$shape" "$batch" "$seq" <<'EOF'
import json, sys
out, text, shape, batch, seq = sys.argv[1:]
f = [float(x) for x in open(f"{out}/f32.txt")]
b = [float(x) for x in open(f"{out}/bf16.txt")]
tail = lambda xs: sum(xs[-10:]) / len(xs[-10:])
worst = max(abs(x - y) / x for x, y in zip(f, b))
print(f"{shape}, {batch} x {seq} tokens per step, {len(f)} steps on {text}:")
for s in sorted({0, 1, 9, 49, 99, len(f) - 1} & set(range(len(f)))):
    print(f"  step {s + 1:4d}: f32 {f[s]:.4f}  bf16 {b[s]:.4f}")
gap = (tail(b) - tail(f)) / tail(f)
print(f"  mean of the last 10: f32 {tail(f):.4f}, bf16 {tail(b):.4f}: bf16 is {100 * gap:+.2f} % "
      f"(largest gap at any step {100 * worst:.2f} %)")
for p in ("f32", "bf16"):
    j = json.load(open(f"{out}/{p}.json"))
    print(f"  {p}: {j['tokens_per_s']:.0f} tokens/s, {100 * j['fraction_of_matmul_peak']:.0f} % of the {p} peak")
EOF
