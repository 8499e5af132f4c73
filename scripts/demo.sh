#!/usr/bin/env bash
# Installs dependencies, builds, and runs the self-contained demonstration (no downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/gander demo
