#!/usr/bin/env bash
# Configures and builds qseg (Release) into build/. Extra arguments go to CMake's configure step,
# e.g. scripts/build.sh -DQSEG_SHARED_DIR=/data/shared
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build --parallel "$(nproc)"
