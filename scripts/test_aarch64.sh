#!/usr/bin/env bash
# The device build for 64-bit ARM: cross-builds the runtime, the C API library, image files and
# their tests with Debian's g++-aarch64-linux-gnu (cmake/aarch64-linux-gnu.cmake, QSEG_RUNTIME_ONLY)
# into build-aarch64/, then runs the tests under qemu-aarch64-static. Extra arguments go to CMake's
# configure step (e.g. -DQSEG_SHARED_DIR=...). scripts/setup.sh installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DQSEG_RUNTIME_ONLY=ON "$@" >/dev/null
cmake --build build-aarch64 --parallel "$jobs"
ctest --test-dir build-aarch64 --output-on-failure --parallel "$jobs" --timeout 600
