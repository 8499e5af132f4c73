#!/usr/bin/env bash
# The fuzz setup's self-test: runs run_fuzz.sh (the arguments after EXPECT) on a canary input that
# reaches undefined behaviour, and succeeds only if the run failed the way EXPECT says: "exited"
# (the report stopped the fuzzer) or "report" (it ran on, and run_fuzz.sh's log scan caught it).
set -uo pipefail
expect=$1
shift
out=$("$@" 2>&1)
status=$?
echo "$out" | tail -n 3
if [ "$status" -eq 0 ]; then
  echo "canary: the run passed as clean, so sanitizer reports would go unnoticed"
  exit 1
fi
case $expect in
  exited) pattern="FAILED: the fuzzer exited" ;;
  report) pattern="FAILED: sanitizer report" ;;
  *) echo "canary: unknown expectation '$expect'"; exit 2 ;;
esac
if ! echo "$out" | grep -q "$pattern"; then
  echo "canary: the run failed, but not with '$pattern'"
  exit 1
fi
echo "canary: caught as expected ($expect)"
