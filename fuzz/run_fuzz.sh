#!/usr/bin/env bash
# Runs one fuzz target for N seconds over a fresh seed corpus and reports the executions.
# Usage: run_fuzz.sh FUZZER SEED_MAKER NAME SECONDS CORPUS_ROOT
set -euo pipefail
fuzzer=$1 seeds=$2 name=$3 seconds=$4 root=$5
corpus="$root/$name"
rm -rf "$corpus" && mkdir -p "$corpus"
"$seeds" "$root"
log=$(mktemp)
if ! "$fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/crash-$name-" "$corpus" >"$log" 2>&1; then
  tail -n 60 "$log"
  echo "fuzz_$name: FAILED (crash or sanitizer report above)"
  exit 1
fi
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
echo "fuzz_$name: $runs executions in ${seconds}s ran clean"
