#!/usr/bin/env bash
# Training speed: one quantization-aware step of `qseg train` (libtorch, C++) beside the same step in
# PyTorch eager mode (bench/pytorch_qat_step.py, Debian's python3-torch: the same libtorch build).
# Both: DeepLabV3 MobileNetV2 dm0.5 (the imported float model, folded), output stride 16, crop 513,
# batch 8, 2 threads, fake quantization from the first step. A benchmark, not a test: the machine's
# load changes the numbers; run it on an idle machine.
#
# Usage: bench/train_speed.sh [STEPS]   (default 6; the first step is warm-up and not counted)
# Needs: scripts/build.sh done (build/qseg), ../shared (or $QSEG_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-6}
shared=${QSEG_SHARED:-../shared}
work=build/bench_train
mkdir -p "$work"
if [ ! -f "$work/float_dm05_513.ckpt" ]; then
  build/qseg import --tflite "$shared/models/deeplabv3_257_mv_gpu.tflite" --out "$work/float_dm05_513.ckpt" \
    --output-stride 16 --input-size 513 --no-check >/dev/null
fi
rm -rf "$work/run"
build/qseg train --init "$work/float_dm05_513.ckpt" --data "$shared/coco-voc" --split train.txt \
  --steps 2000 --stop-at-step "$steps" --batch-size 8 --crop-size 513 --base-lr 3e-5 \
  --quantize-delay-step 0 --threads 2 --quiet --out "$work/run" >/dev/null
# Mean step time of steps 2..N from the log's cumulative seconds.
awk -F, -v n="$steps" 'NR == 2 { t1 = $5 } NR == n + 1 { tn = $5 }
  END { s = (tn - t1) / (n - 1); printf "qseg train (libtorch C++) QAT: batch 8, crop 513, 2 threads: %.2f s/step, %.3f images/s\n", s, 8 / s }' \
  "$work/run/train_log.csv"
/usr/bin/python3 bench/pytorch_qat_step.py --threads 2 --batch 8 --crop 513 --steps $((steps - 1)) --warmup 1 \
  --channels-last
