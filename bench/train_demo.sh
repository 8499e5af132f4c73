#!/usr/bin/env bash
# The training demonstration of bench/RESULTS.md: on ../shared/data/corpus, from data building to
# the trained model, for a fixed token budget on this machine.
#   1. RWKV-7 L4 D256 (RWKV World vocabulary) from the official init;
#   2. a Qwen2 of the qwen2-small shape (6 layers, D256, 2 heads of 128, 1 KV head, I768, its
#      8,256-token tokenizer, tied embeddings) from the usual N(0, 0.02) init;
#   3. state tuning: only the initial WKV state of model 1 trains on the first 80 % of one narrow
#      text from corpus/valid (never seen in training); perplexity on that part and on the
#      held-out last 20 %, before and after.
# Each command runs under /usr/bin/time -v (peak memory, wall time); every number the summary
# prints is read back from the commands' own JSON output.
# Usage: bench/train_demo.sh OUTDIR [TOKENS]   (default 1,000,000 training tokens per model)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/train_demo.sh OUTDIR [TOKENS]}
tokens=${2:-1000000}
gander=$PWD/build/gander
[ -x "$gander" ] || { echo "build gander first (bash scripts/build.sh)" >&2; exit 2; }
data=$(realpath ../shared/data)
qwen_tok=$(realpath ../shared/testdata/qwen2/qwen2-small/tokenizer.json)
rwkv_tok=$data/rwkv_vocab_v20230424.txt
narrow=$data/corpus/valid/en_pg19722_a-child-s-garden-of-verses.txt
mkdir -p "$out"
cd "$out"

# timed NAME CMD...: runs CMD with its stdout in NAME.json, stderr and time -v's report in NAME.err.
timed() {
  local name=$1
  shift
  /usr/bin/time -v -o "$name.time" "$@" >"$name.json" 2>"$name.err"
}
peak_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1.time"; }
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s}' "$1.time"
}

config() {  # NAME SHAPE TOKENIZER SHARDS LR LR_FINAL
  cat >"$1.yaml" <<EOF
run:
  out: $1
  tokens: $tokens
model:
  shape: $2
data:
  train: $4-train
  valid: $4-valid
  tokenizer: $3
  seq: 512
  batch: 8
optimizer:
  lr: $5
  lr_final: $6
  weight_decay: 0.001
  warmup_steps: 10
eval:
  every: 40
  tokens: 32768
checkpoint:
  every: 100
EOF
}

summary() {  # NAME DATA_NAME
  local n=$1 d=$2
  python3 - "$n" "$d" "$(peak_mb "$n")" "$(wall_s "$n")" "$(wall_s "$d-train")" "$(wall_s "$d-valid")" <<'EOF'
import json, sys
name, data, peak, wall, build_train, build_valid = sys.argv[1:]
rows = [json.loads(l) for l in open(f"{name}/metrics.jsonl") if l.strip()]
val = [r for r in rows if "valid_perplexity" in r]
train = [r for r in rows if "tokens_per_s" in r]
tps = sorted(r["tokens_per_s"] for r in train[5:]) or [0]
print(f"{name}: tokens {val[-1]['tokens']}, validation perplexity {val[0]['valid_perplexity']:.0f} -> "
      f"{val[-1]['valid_perplexity']:.2f} ({val[-1].get('valid_bits_per_byte', float('nan')):.3f} bits/byte), "
      f"tokens/s median {tps[len(tps) // 2]:.0f} [{tps[0]:.0f}, {tps[-1]:.0f}], peak {peak} MB, "
      f"train {wall} s + data build {float(build_train) + float(build_valid):.1f} s")
EOF
}

echo "== data"
timed rwkv-train "$gander" data build --json --tokenizer "$rwkv_tok" "$data"/corpus/train/*.txt -o rwkv-train
timed rwkv-valid "$gander" data build --json --tokenizer "$rwkv_tok" "$data"/corpus/valid/*.txt -o rwkv-valid
timed qwen-train "$gander" data build --json --tokenizer "$qwen_tok" "$data"/corpus/train/*.txt -o qwen-train
timed qwen-valid "$gander" data build --json --tokenizer "$qwen_tok" "$data"/corpus/valid/*.txt -o qwen-valid

echo "== RWKV-7 L4 D256"
config rwkv7-l4-d256 rwkv7:L4,D256,V65536 "$rwkv_tok" rwkv 2e-3 2e-4
timed rwkv7-l4-d256 "$gander" train rwkv7-l4-d256.yaml --json
echo "== Qwen2 qwen2-small shape"
config qwen2-small-shape qwen2:L6,D256,H2,KV1,I768,V8256,T "$qwen_tok" qwen 6e-4 6e-5
timed qwen2-small-shape "$gander" train qwen2-small-shape.yaml --json

echo "== state tuning"
bytes=$(stat -c %s "$narrow")
head -c $((bytes * 8 / 10)) "$narrow" >narrow-tune.txt
tail -c +$((bytes * 8 / 10 + 1)) "$narrow" >narrow-held.txt
timed narrow "$gander" data build --json --tokenizer "$rwkv_tok" narrow-tune.txt -o narrow
cat >state.yaml <<EOF
run:
  out: state
  steps: 60
model:
  from: rwkv7-l4-d256/final
  state_tuning: true
data:
  train: narrow
  valid_tokens: 4096
  seq: 512
  batch: 4
optimizer:
  lr: 1.0
  lr_final: 0.01
  warmup_steps: 5
eval:
  every: 20
  tokens: 4096
checkpoint:
  every: 0
EOF
timed state "$gander" train state.yaml --json
for part in tune held; do
  before=$("$gander" perplexity rwkv7-l4-d256/final narrow-$part.txt --ctx 512 --json | tail -n 1)
  after=$("$gander" perplexity rwkv7-l4-d256/final narrow-$part.txt --ctx 512 --json \
    --time-state state/time_state.safetensors | tail -n 1)
  python3 -c "import json,sys; b,a=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print(f'narrow text, {sys.argv[3]} part ({b[\"tokens\"]} tokens): perplexity {b[\"perplexity\"]:.2f} -> {a[\"perplexity\"]:.2f}')" \
    "$before" "$after" "$part" | tee -a state-summary.txt
done

echo "== summary"
summary rwkv7-l4-d256 rwkv | tee summary.txt
summary qwen2-small-shape qwen | tee -a summary.txt
echo "state tuning: $(wall_s state) s, peak $(peak_mb state) MB" | tee -a summary.txt
cat state-summary.txt >>summary.txt
"$gander" plot rwkv7-l4-d256/metrics.jsonl qwen2-small-shape/metrics.jsonl -o train-demo.png
"$gander" plot state/metrics.jsonl -o state-tuning.png
