#!/usr/bin/env bash
# Reproduces the op and tokenizer tables of bench/RESULTS.md (build first: scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${GANDER_DATA:-../shared/data}
./build/gander bench-ops --json-out bench/ops.json
./build/gander bench-tokenizer --tokenizer "$data/rwkv_vocab_v20230424.txt" --text "$data"/corpus/valid/en_*.txt
