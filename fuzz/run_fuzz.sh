#!/usr/bin/env bash
# Runs one fuzz target over a fresh seed corpus and fails on any crash, leak, timeout or sanitizer
# report, then prints its figures. Usage:
#   run_fuzz.sh FUZZER SEED_MAKER NAME SECONDS CORPUS_ROOT MAX_LEN [libFuzzer options...]
# SECONDS 0 means no time limit (give -runs=N among the options for a long run). The log stays in
# CORPUS_ROOT/NAME.log, crash inputs in CORPUS_ROOT/crash-NAME-*.
set -euo pipefail
fuzzer=$1 seeds=$2 name=$3 seconds=$4 root=$5 max_len=$6
shift 6
corpus="$root/$name"
rm -rf "$corpus" && mkdir -p "$corpus"
"$seeds" "$root" "$name"
# A real tokenizer.json reaches deeper than any hand-written seed: copied at run time (never
# committed) when the shared test data is there.
if [ "$name" = tokenizer ]; then
  testdata=${GANDER_TESTDATA:-$(dirname "$0")/../../shared/testdata}
  real="$testdata/qwen2/qwen2-small/tokenizer.json"
  if [ -f "$real" ]; then cp "$real" "$corpus/qwen2-small-tokenizer.json"; fi
fi
# The shipped recipes, as the yaml target reads a recipe (first byte odd).
if [ "$name" = yaml ]; then
  for recipe in "$(dirname "$0")"/../recipes/*.yaml; do
    { printf '\001'; cat "$recipe"; } >"$corpus/$(basename "$recipe")"
  done
fi
log="$root/$name.log"
limits=(-max_len="$max_len" -timeout=10 -rss_limit_mb=2048)
if [ "$seconds" -gt 0 ]; then limits+=(-max_total_time="$seconds"); fi
start=$(date +%s)
status=0
"$fuzzer" "${limits[@]}" -print_final_stats=1 -artifact_prefix="$root/crash-$name-" "$@" "$corpus" >"$log" 2>&1 ||
  status=$?
elapsed=$(($(date +%s) - start))
# Second line of defence: a report from code built to recover leaves the exit status at 0.
reports='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|ERROR: UndefinedBehaviorSanitizer|ERROR: libFuzzer|SUMMARY: [A-Za-z]+Sanitizer'
if [ "$status" -ne 0 ]; then
  tail -n 60 "$log"
  echo "fuzz_$name: FAILED: the fuzzer exited with status $status (crash, leak, timeout or sanitizer report above)"
  exit 1
fi
if grep -qE "$reports" "$log"; then
  grep -E -m 10 -B 2 -A 8 "$reports" "$log"
  echo "fuzz_$name: FAILED: sanitizer report in the log of a run that exited 0"
  exit 1
fi
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
final=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
cov=$(echo "$final" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
ft=$(echo "$final" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
echo "fuzz_$name: $runs executions in ${elapsed}s, cov $cov, ft $ft, max_len $max_len: ran clean"
