#!/usr/bin/env bash
# Installs gander's build and test dependencies from Debian 12 packages.
# Idempotent: packages already present are skipped, so a second run does nothing.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev           # oneDNN: f32/bf16 GEMM (AMX on Sapphire Rapids)
  ocl-icd-opencl-dev    # oneDNN's CMake package file requires OpenCL (only Recommended by libdnnl-dev)
  libomp-dev            # OpenMP runtime for clang builds (gcc ships libgomp)
  nlohmann-json3-dev    # JSON (safetensors headers, config.json, CLI I/O)
  libcli11-dev          # command line parsing
  libgtest-dev          # unit tests
  libpcre2-dev          # regex (Qwen2 pre-tokenizer)
  libutf8proc-dev       # Unicode normalisation
  libedit-dev           # line editing and history in chat
  zlib1g-dev libzstd-dev  # gzip and zstd inputs of `gander data build`
  libyaml-cpp-dev       # `gander train` configurations
  libopenmpi-dev openmpi-bin  # data-parallel training (mpirun)
  libplplot-dev plplot-driver-cairo  # `gander plot` (PNG and SVG through cairo)
  clang libclang-rt-14-dev  # libFuzzer targets
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
