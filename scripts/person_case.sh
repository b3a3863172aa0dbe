#!/usr/bin/env bash
# Person against background, end to end, from the shared photos (the README's "A real case"):
#   1. import the published float VOC DeepLab dm0.5 (deeplabv3_257_mv_gpu) as a 513x513, output
#      stride 16 checkpoint;
#   2. transfer to 2 classes: a new logits layer, float fine-tune on VOC train + COCO train with
#      VOC's labels mapped (15 person -> 1, every other class -> 0, 255 stays ignored);
#   3. quantization-aware fine-tune of that float model;
#   4. convert to a uint8 .tflite with the class names embedded;
#   5. evaluate on VOC val and COCO val, per class: the float model of step 2 (libtorch), the QAT
#      checkpoint with fake quantization off (float, libtorch) and the 8-bit model (qseg's
#      runtime); benchmark the 8-bit model.
# Usage: scripts/person_case.sh [FLOAT_STEPS] [QAT_STEPS] [CROP]   (default 300 200 321)
# From step 5 alone (evaluation of an earlier run): FROM_STEP=5 scripts/person_case.sh
# Environment: OUT (default runs/person), QSEG_SHARED_DIR (default ../shared), THREADS (2),
# FLOAT_LR (the float transfer's base learning rate, 5e-4).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${QSEG_SHARED_DIR:-../shared}
out=${OUT:-runs/person}
threads=${THREADS:-2}
float_steps=${1:-300}
qat_steps=${2:-200}
crop=${3:-321}
float_lr=${FLOAT_LR:-5e-4}
map='15=1,255=255,*=0'
qseg=build/qseg
mkdir -p "$out"
printf 'background #000000\nperson #C08080\n' >"$out/labels.txt"
data=(--data "$shared/voc2012" --split train_available.txt --data "$shared/coco-voc" --split train.txt)

from=${FROM_STEP:-1}
if [ "$from" -le 1 ]; then
echo "== 1. import"
"$qseg" import --tflite "$shared/models/deeplabv3_257_mv_gpu.tflite" --output-stride 16 \
  --input-size 513 --out "$out/voc_dm05.ckpt"

echo "== 2. float transfer to 2 classes ($float_steps steps)"
"$qseg" train --init "$out/voc_dm05.ckpt" --num-classes 2 --labels "$out/labels.txt" \
  --label-map "$map" "${data[@]}" --steps "$float_steps" --batch-size 8 --crop-size "$crop" \
  --base-lr "$float_lr" --threads "$threads" --quiet --out "$out/float"

echo "== 3. quantization-aware fine-tune ($qat_steps steps)"
"$qseg" train --init "$out/float/checkpoint.ckpt" --label-map "$map" "${data[@]}" \
  --steps "$qat_steps" --batch-size 8 --crop-size "$crop" --base-lr 3e-5 \
  --quantize-delay-step 0 --threads "$threads" --quiet --out "$out/qat"

echo "== 4. convert to uint8"
"$qseg" convert --checkpoint "$out/qat/checkpoint.ckpt" --output "$out/person_uint8.tflite"
"$qseg" inspect "$out/person_uint8.tflite" >"$out/inspect.txt"
grep -A3 '^classes' "$out/inspect.txt"

fi

echo "== 5. evaluate and benchmark"
for set in "voc2012 val_available.txt" "coco-voc val.txt"; do
  read -r root split <<<"$set"
  name=$(basename "$root")
  "$qseg" eval --checkpoint "$out/float/checkpoint.ckpt" --precision float --data "$shared/$root" \
    --split "$split" --label-map "$map" --threads "$threads" --json "$out/eval_float_stage_$name.json"
  "$qseg" eval --checkpoint "$out/qat/checkpoint.ckpt" --precision float --data "$shared/$root" \
    --split "$split" --label-map "$map" --threads "$threads" --json "$out/eval_float_$name.json"
  "$qseg" eval --model "$out/person_uint8.tflite" --data "$shared/$root" --split "$split" \
    --label-map "$map" --threads "$threads" --json "$out/eval_uint8_$name.json"
done
"$qseg" bench --model "$out/person_uint8.tflite" --threads "$threads" --runs 20
ls -l "$out/person_uint8.tflite"
