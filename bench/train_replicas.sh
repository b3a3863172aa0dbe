#!/usr/bin/env bash
# Data-parallel training throughput on this machine: the same quantization-aware fine-tune of the
# imported float dm0.5 (output stride 16, crop CROP, 4 images per step) as 1 process x 1 thread,
# 1 process x 2 threads and `qseg launch --nproc 2` x 1 thread each (2 replicas x 2 images), one
# after the other. A benchmark, not a test: run it on an idle machine.
#
# Usage: bench/train_replicas.sh [STEPS] [CROP]   (defaults 20 and 321; steps 1-4 are warm-up)
# Needs: scripts/build.sh done (build/qseg), ../shared (or $QSEG_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-20}
crop=${2:-321}
shared=${QSEG_SHARED:-../shared}
work=build/bench_replicas
mkdir -p "$work"
if [ ! -f "$work/float_dm05.ckpt" ]; then
  build/qseg import --tflite "$shared/models/deeplabv3_257_mv_gpu.tflite" --out "$work/float_dm05.ckpt" \
    --output-stride 16 --input-size "$crop" --no-check >/dev/null
fi
common=(--init "$work/float_dm05.ckpt" --data "$shared/coco-voc" --split train.txt --crop-size "$crop"
  --steps "$steps" --base-lr 3e-5 --quantize-delay-step 0 --seed 1 --quiet --checkpoint-every 100000)

# Mean seconds per step over steps 5..N, from the log's cumulative seconds.
per_step() {
  awk -F, -v n="$steps" 'NR == 5 { a = $5 } NR == n + 1 { b = $5 } END { printf "%.3f", (b - a) / (n - 4) }' "$1"
}
report() {
  local name=$1 log=$2 base=${3:-}
  local s
  s=$(per_step "$log")
  if [ -n "$base" ]; then
    awk -v n="$name" -v s="$s" -v b="$base" 'BEGIN { printf "%-32s %.3f s/step  %5.2f images/s  %.2fx\n", n, s, 4 / s, b / s }'
  else
    awk -v n="$name" -v s="$s" 'BEGIN { printf "%-32s %.3f s/step  %5.2f images/s  1.00x\n", n, s, 4 / s }'
  fi
}

rm -rf "$work"/one1 "$work"/one2 "$work"/two1
build/qseg train "${common[@]}" --batch-size 4 --threads 1 --out "$work/one1" >/dev/null
build/qseg train "${common[@]}" --batch-size 4 --threads 2 --out "$work/one2" >/dev/null
build/qseg launch --nproc 2 train "${common[@]}" --batch-size 2 --threads 1 --out "$work/two1" >/dev/null
echo "QAT fine-tune, dm0.5, crop $crop, 4 images per step, steps 5..$steps:"
base=$(per_step "$work/one1/train_log.csv")
report "1 process x 1 thread" "$work/one1/train_log.csv"
report "1 process x 2 threads" "$work/one2/train_log.csv" "$base"
report "2 processes x 1 thread (launch)" "$work/two1/train_log.csv" "$base"
