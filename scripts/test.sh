#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite: unit and golden tests (ctest),
# then every libFuzzer target for GANDER_FUZZ_SECONDS (default 20) over a generated seed corpus.
# Golden tests read ../shared/testdata (or $GANDER_TESTDATA) and skip, saying so, where it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j 2)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DGANDER_FUZZ=ON -DGANDER_BUILD_TESTS=OFF -DGANDER_FUZZ_SECONDS="${GANDER_FUZZ_SECONDS:-20}" >/dev/null
fuzz_targets=(safetensors pth tokenizer rwkv_state qwen2_kv npy config vocab shard yaml)
cmake --build build-fuzz -j "$(nproc)" --target fuzz_make_seeds fuzz_canary_library fuzz_canary_recovering "${fuzz_targets[@]/#/fuzz_}"
# The canaries first (a sanitizer report must fail a run), then every target for GANDER_FUZZ_SECONDS.
(cd build-fuzz && ctest --output-on-failure -V | grep -E "ran clean|FAILED|canary:|tests passed|tests failed")
