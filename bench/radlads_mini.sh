#!/usr/bin/env bash
# The miniature RADLADS reproduction of bench/RESULTS.md: the qwen2-small golden teacher
# (6 layers, D256, head_dim 128, GQA 2x; validation perplexity 54.82) converted into a RAD-RWKV7
# student with `gander train` steps, on ../shared/data/corpus/train in the teacher's tokenizer,
# for a total token budget split like the paper's steps (100M : 500M : 100M):
#   Step 1  align    1/7 of the tokens, seq 512, only the mixers, quarter-cosine 1e-3 -> 1e-5
#   Step 2  distill  5/7, seq 512, every parameter, flat LR2 (default 1e-4: the paper's 1e-5 is for 7B)
#   Step 3  lm       1/7, seq 1024, every parameter, flat LR3 (default 3e-5)
# all with Adam (0.9, 0.95, 1e-8), no weight decay, clip 1.0, warmup from 1 % over WARMUP steps (10).
# Then the teacher's and the student's perplexity on the whole validation shard (windows of 512, `gander perplexity`)
# and their ratio; the loss curves as a picture.
# Usage: bench/radlads_mini.sh OUTDIR [TOTAL_TOKENS] [LR2] [LR3] [EXTRA]   (EXTRA: model.convert
#        options after rad_rwkv7, e.g. ":G" for the GroupNorm form or ":A1" for a hybrid)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/radlads_mini.sh OUTDIR [TOTAL_TOKENS] [LR2] [LR3] [EXTRA]}
total=${2:-3300000}
lr2=${3:-1e-4}
lr3=${4:-3e-5}
extra=${5:-}
# The paper warms up over 50 of its ~6,000 steps; these runs have a few hundred.
warmup=${WARMUP:-10}
gander=$PWD/build/gander
[ -x "$gander" ] || { echo "build gander first (bash scripts/build.sh)" >&2; exit 2; }
data=$(realpath ../shared/data)
teacher=$(realpath ../shared/testdata/qwen2/qwen2-small)
mkdir -p "$out"
cd "$out"
[ -f train.bin ] || "$gander" data build --tokenizer "$teacher" "$data"/corpus/train/*.txt -o train >/dev/null
[ -f valid.bin ] || "$gander" data build --tokenizer "$teacher" "$data"/corpus/valid/*.txt -o valid >/dev/null

step() {  # NAME TOKENS SEQ BATCH SCHEDULE LR LR_FINAL MODEL_YAML
  cat >"$1.yaml" <<YAML
run:
  out: $1
  tokens: $2
model:
$8
data:
  train: train
  valid: valid
  seq: $3
  batch: $4
optimizer:
  schedule: $5
  lr: $6
  lr_final: $7
  beta2: 0.95
  weight_decay: 0
  warmup_steps: $warmup
  warmup_from: 0.01
eval:
  every: 50
  tokens: 32768
checkpoint:
  every: 100
YAML
  local t0=$(date +%s.%N)
  [ -d "$1/final" ] || "$gander" train "$1.yaml" >"$1.log" 2>&1 || { tail -5 "$1.log" >&2; exit 1; }
  echo "$1: $2 tokens, $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s" | tee -a times.txt
}
t1=$((total / 7)); t2=$((total * 5 / 7)); t3=$((total - t1 - t2))
step step1 "$t1" 512 8 quarter_cosine 1e-3 1e-5 "  from: $teacher
  convert: rad_rwkv7$extra
  objective: align
  train: [\"model.layers.*.self_attn.*\"]"
step step2 "$t2" 512 8 constant "$lr2" "$lr2" "  from: step1/final
  teacher: $teacher
  objective: distill"
step step3 "$t3" 1024 4 constant "$lr3" "$lr3" "  from: step2/final"
ppl() { "$gander" perplexity "$1" --shards valid --ctx 512 --batch 4 --json | tail -n 1 |
  python3 -c "import json,sys; print(json.load(sys.stdin)['perplexity'])"; }
tp=$(ppl "$teacher"); s1=$(ppl step1/final); s2=$(ppl step2/final); s3=$(ppl step3/final)
python3 - "$total" "$tp" "$s1" "$s2" "$s3" <<'PY' | tee summary.txt
import sys
total, tp, s1, s2, s3 = int(sys.argv[1]), *map(float, sys.argv[2:])
print(f"{total} tokens: teacher perplexity {tp:.2f}; student after step 1 {s1:.2f} ({s1/tp:.3f}x), "
      f"step 2 {s2:.2f} ({s2/tp:.3f}x), step 3 {s3:.2f} ({s3/tp:.3f}x)")
PY
"$gander" plot step1/metrics.jsonl step2/metrics.jsonl step3/metrics.jsonl -o radlads-curves.png >/dev/null
