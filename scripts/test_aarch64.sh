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
# Run-time choice of the NEON kernels: an emulated Cortex-A53 (ARMv8.0, no dot product) must get
# the plain NEON kernels, which must match the reference there too; the default emulated CPU
# reports the dot product extension.
runtime_tests=build-aarch64/tests/qseg_runtime_tests
QEMU_CPU=cortex-a53 QSEG_EXPECT_AUTO_KERNELS=neon qemu-aarch64-static "$runtime_tests" \
  --gtest_filter='KernelIsaDetection.*:OptimizedModel.UnavailableKernelsAreAnError'
QEMU_CPU=cortex-a53 qemu-aarch64-static build-aarch64/tests/qseg_kernels_tests \
  --gtest_filter='Isas/OptimizedKernelTest.*'
QSEG_EXPECT_AUTO_KERNELS=neon-dotprod qemu-aarch64-static "$runtime_tests" \
  --gtest_filter='KernelIsaDetection.*'
