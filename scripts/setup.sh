#!/usr/bin/env bash
# Installs every build and test dependency of qseg from Debian's packages (idempotent).
# Usage: scripts/setup.sh            (run as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev            # sanitizer builds
  libflatbuffers-dev flatbuffers-compiler
  libjpeg62-turbo-dev libpng-dev zlib1g-dev libwebp-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libtorch-dev libopenblas0-openmp python3-torch   # training (src/train) and its benchmark
  libgloo-dev                         # headers of libtorch's c10d Gloo process groups (qseg launch)
  chromium                            # the eval report test renders the HTML report headless
  libxnnpack-dev libpthreadpool-dev   # bench/xnnpack_bench.cc: native XNNPACK QU8 baseline
  libonnx-dev libprotobuf-dev         # qseg export --onnx (src/onnx): ONNX's protobuf types, checker
  # The aarch64 device build (cmake/aarch64-linux-gnu.cmake, scripts/test_aarch64.sh): the cross
  # compiler, the emulator its tests run in, and the target's libraries (Debian multiarch).
  g++-aarch64-linux-gnu qemu-user-static
  libgtest-dev:arm64 libjpeg62-turbo-dev:arm64 libpng-dev:arm64 zlib1g-dev:arm64 libwebp-dev:arm64
)
# The real TFLite oracle (tools/tflite-oracle) needs Node.js and npm; a machine may already carry a
# Node.js build that bundles npm (and conflicts with Debian's npm package). ctest installs the
# oracle itself into the build tree with npm (test tflite_oracle_setup).
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

# arm64 packages install beside the host's (multiarch) once dpkg knows the architecture.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present"
fi
