#!/usr/bin/env bash
# Stripped sizes of what ships on a device, for x86-64 and aarch64: the C API library (libqseg.so:
# the whole runtime behind the qseg_* functions) and a static `qseg` with the device commands
# (segment, run, inspect; QSEG_RUNTIME_ONLY), linked with libjpeg, libpng, zlib and the C and C++
# runtimes. Builds build-device-x86_64 (host) and build-aarch64 (cross, as scripts/test_aarch64.sh
# does) with those targets only, then prints one line per file.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
host_libs=/usr/lib/x86_64-linux-gnu
cmake -S . -B build-device-x86_64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DQSEG_RUNTIME_ONLY=ON \
  -DCMAKE_EXE_LINKER_FLAGS=-static -DJPEG_LIBRARY_RELEASE=$host_libs/libjpeg.a \
  -DPNG_LIBRARY_RELEASE=$host_libs/libpng.a -DZLIB_LIBRARY_RELEASE=$host_libs/libz.a \
  -DQSEG_BUILD_TESTS=OFF "$@" >/dev/null
cmake -S . -B build-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DQSEG_RUNTIME_ONLY=ON "$@" >/dev/null
cmake --build build-device-x86_64 --parallel "$jobs" --target qseg qseg_c >/dev/null
cmake --build build-aarch64 --parallel "$jobs" --target qseg qseg_c >/dev/null
report() {  # ARCH STRIP FILE WHAT
  local stripped
  stripped=$(mktemp)
  "$2" -o "$stripped" "$3"
  printf '%-8s %-26s %10d bytes stripped\n' "$1" "$4" "$(stat -c %s "$stripped")"
  rm -f "$stripped"
}
report x86-64 strip build-device-x86_64/libqseg.so "libqseg.so (C API)"
report x86-64 strip build-device-x86_64/qseg "qseg (static, device)"
report aarch64 aarch64-linux-gnu-strip build-aarch64/libqseg.so "libqseg.so (C API)"
report aarch64 aarch64-linux-gnu-strip build-aarch64/qseg "qseg (static, device)"
