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
  libjpeg-turbo-progs                 # djpeg: bench/phone_photo.sh times a plain decode beside qseg segment
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

# XNNPACK for arm64 (bench/xnnpack_bench.cc in the aarch64 build, the ARM peer that
# scripts/count_instructions.sh counts): Debian's libxnnpack0 and libpthreadpool0 are not
# Multi-Arch: same, so installing their arm64 packages removes the host's, and libtorch with them.
# Their arm64 packages are downloaded with apt-get and unpacked into a prefix of their own instead
# (the aarch64 build looks there, bench/CMakeLists.txt); nothing is installed.
arm64_xnnpack=/opt/qseg-arm64
arm64_xnnpack_packages=(libxnnpack0 libxnnpack-dev libpthreadpool0 libpthreadpool-dev libcpuinfo0)
stamp="$arm64_xnnpack/packages.txt"
wanted=$(apt-cache policy "${arm64_xnnpack_packages[@]/%/:arm64}" |
  awk '/^[^ ]/ {name = $1} /Candidate:/ {print name, $2}')
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: unpacking the arm64 XNNPACK packages into $arm64_xnnpack"
  download=$(mktemp -d)
  chmod 777 "$download"  # apt-get downloads as its own user, _apt
  (cd "$download" && apt-get download -qq "${arm64_xnnpack_packages[@]/%/:arm64}")
  "${sudo_cmd[@]}" rm -rf "$arm64_xnnpack"
  for deb in "$download"/*.deb; do "${sudo_cmd[@]}" dpkg-deb -x "$deb" "$arm64_xnnpack"; done
  echo "$wanted" | "${sudo_cmd[@]}" tee "$stamp" >/dev/null
  rm -rf "$download"
fi
