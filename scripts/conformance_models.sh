#!/usr/bin/env bash
# Makes the models qseg writes that scripts/conformance.sh --converted checks against the real
# TFLite, into DIR (default build/conformance/models):
#   roundtrip_dm05_uint8.tflite         the published dm0.5 imported and converted back with the
#                                       flags it was made with (uint8, mean 128, std 128, ArgMax)
#   roundtrip_dm05_concat_uint8.tflite  the same with --change-concat-input-ranges
#   qat_dm05_uint8.tflite               the imported dm0.5 after 20 quantization-aware steps
#                                       (coco-voc train, batch 2, crop 257, 3e-5), converted
#   qat_dm05_int8.tflite                the same, TFLite's per-channel int8 scheme
#   ptq_dm05_uint8.tflite               post-training uint8 of the shared float model (imported at
#                                       513, output stride 16), ranges from 20 coco-voc train photos
#   ptq_dm05_int8.tflite                the same, TFLite's per-channel int8 scheme
#   float_dm05_logits.tflite            the shared float model converted at 513, logits output
# Usage: scripts/conformance_models.sh [DIR]   (QSEG: the qseg binary; QSEG_SHARED: shared folder)
set -euo pipefail
cd "$(dirname "$0")/.."
qseg=${QSEG:-build/qseg}
shared=${QSEG_SHARED:-../shared}
dir=${1:-build/conformance/models}
mkdir -p "$dir"
[ -x "$qseg" ] || { echo "conformance_models: error: no qseg binary at $qseg" >&2; exit 1; }
m="$shared/models"
"$qseg" import --tflite "$m/deeplabv3_mnv2_dm05_pascal_quant.tflite" --out "$dir/dm05.ckpt" --no-check
"$qseg" import --tflite "$m/deeplabv3_257_mv_gpu.tflite" --out "$dir/float.ckpt" --no-check
"$qseg" convert --checkpoint "$dir/dm05.ckpt" --output "$dir/roundtrip_dm05_uint8.tflite"
"$qseg" convert --checkpoint "$dir/dm05.ckpt" --output "$dir/roundtrip_dm05_concat_uint8.tflite" \
  --change-concat-input-ranges
"$qseg" train --init "$dir/dm05.ckpt" --data "$shared/coco-voc" --split train.txt --steps 20 \
  --batch-size 2 --crop-size 257 --base-lr 3e-5 --quantize-delay-step 0 --out "$dir/qat" \
  --threads "$(nproc)" --quiet
"$qseg" convert --checkpoint "$dir/qat/checkpoint.ckpt" --output "$dir/qat_dm05_uint8.tflite"
"$qseg" convert --checkpoint "$dir/qat/checkpoint.ckpt" --output "$dir/qat_dm05_int8.tflite" \
  --per-channel-int8
calibration=(--calibrate "$shared/coco-voc" --calibration-split train.txt --calibration-images 20
             --threads "$(nproc)")
"$qseg" convert --checkpoint "$dir/float.ckpt" --output "$dir/ptq_dm05_uint8.tflite" "${calibration[@]}"
"$qseg" convert --checkpoint "$dir/float.ckpt" --output "$dir/ptq_dm05_int8.tflite" \
  --per-channel-int8 "${calibration[@]}"
"$qseg" convert --checkpoint "$dir/float.ckpt" --output "$dir/float_dm05_logits.tflite" \
  --inference-type FLOAT --output-arrays logits
rm -rf "$dir/dm05.ckpt" "$dir/float.ckpt" "$dir/qat"
