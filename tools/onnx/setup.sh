#!/bin/sh
# Installs ONNX Runtime for Node (onnxruntime-node, the version pinned in package-lock.json, CPU
# only) and qseg's runners beside it into a writable folder (idempotent). ctest runs it as the
# fixture onnxruntime_setup into BUILD/onnxruntime; bench/compare.sh when it is missing.
# Usage: tools/onnx/setup.sh DEST    then: node DEST/ort_batch.js DEST MODEL.onnx
set -eu
dest=${1:?usage: setup.sh DEST}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$here/ort_batch.js" "$here/ort_bench.js" "$dest/"
chmod u+w "$dest"/*
cd "$dest"
# The CUDA provider's download (onnxruntime-node's install script, on linux x64) is skipped: the
# CPU provider ships inside the package.
if [ ! -f node_modules/onnxruntime-node/package.json ]; then
  npm ci --no-audit --no-fund --silent --onnxruntime-node-install-cuda=skip >/dev/null
fi
node -e "require('./node_modules/onnxruntime-node')" ||
  { echo "setup.sh: onnxruntime-node does not load in $dest" >&2; exit 1; }
echo "onnxruntime ready in $dest"
