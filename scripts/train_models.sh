#!/usr/bin/env bash
# Makes qseg's own dm0.5 models from the shared data (issue 23; models/README.md is their card):
#
#   1. parent:  the published uint8 dm0.5 (trained on PASCAL train_aug, which holds no val photo)
#               imported, its weights dequantized, fine-tuned in float at 513 on VOC train +
#               coco-voc train (FLOAT_STEPS steps at FLOAT_LR)       -> WORK/float
#   2. qat:     recipe (a): the parent fine-tuned with fake quantization from the first step at
#               3e-5 (QAT_STEPS steps)                                -> WORK/qat
#   3. delayed: recipe (b): float training from the same start as the parent with quantization
#               for the last DELAYED_QAT_STEPS steps (FLOAT_STEPS + DELAYED_QAT_STEPS in all)
#                                                                     -> WORK/delayed
#   4. files:   models/qseg_dm05_float.tflite (float32, 513x513, ArgMax), qseg_dm05_qat_uint8 and
#               qseg_dm05_ptq_uint8 (the parent calibrated on 100 VOC train photos), uint8 by the
#               seed's flags (input uint8 mean 128 std 128, concat inputs sharing one range, ArgMax)
#   5. table:   qseg eval of every model on VOC val (198 photos) and coco-voc val (156), the float
#               parent also at scales 0.5..1.75 with flips, each quantized file's loss against the
#               parent and the per-photo change; JSON in WORK/eval (a row is evaluated again only
#               when its model is newer), the table printed.
#
#   scripts/train_models.sh [STAGE...]     STAGE: parent qat delayed files table (default: all)
#
# Every training stage runs as 2 replicas (qseg launch; 4 photos each, 8 per step) and writes a
# checkpoint every 100 steps: a stage that was stopped (Ctrl-C, the end of a session) resumes
# where it stopped when the script runs again; a finished stage (WORK/NAME/complete) is skipped.
# Environment: QSEG_SHARED (../shared), WORK (runs/models), FLOAT_STEPS (500), FLOAT_LR (3e-5),
# QAT_STEPS (2000), DELAYED_QAT_STEPS (1000), MODELS (models).
set -euo pipefail
cd "$(dirname "$0")/.."
S=$(cd "${QSEG_SHARED:-../shared}" && pwd)
WORK=${WORK:-runs/models}
MODELS=${MODELS:-models}
FLOAT_STEPS=${FLOAT_STEPS:-500}
FLOAT_LR=${FLOAT_LR:-3e-5}
QAT_STEPS=${QAT_STEPS:-2000}
DELAYED_QAT_STEPS=${DELAYED_QAT_STEPS:-1000}
QSEG=build/qseg
[ -x "$QSEG" ] || { echo "train_models.sh: build first (scripts/build.sh)" >&2; exit 1; }
stages=${*:-parent qat delayed files table}
mkdir -p "$WORK"
TRAIN_DATA=(--data "$S/coco-voc" --data "$S/voc2012" --split train.txt --split train_available.txt)
COMMON=(--batch-size 4 --crop-size 513 --threads 1 --checkpoint-every 100 --seed 1 --quiet)

# train NAME INIT FLAGS...: one training stage, resumed if it was stopped, skipped if complete.
train() {
  local name=$1 init=$2
  shift 2
  local out=$WORK/$name
  if [ -f "$out/complete" ]; then
    echo "== $name: complete ($out/checkpoint.ckpt)"
    return 0
  fi
  local start=(--init "$init")
  if [ -f "$out/checkpoint.ckpt" ]; then
    start=(--resume)
    echo "== $name: resuming $out/checkpoint.ckpt"
  else
    echo "== $name: from $init"
  fi
  local began=$SECONDS
  "$QSEG" launch --nproc 2 train "${start[@]}" "${TRAIN_DATA[@]}" "${COMMON[@]}" "$@" --out "$out"
  echo "$((SECONDS - began)) s this run" >>"$out/run_seconds.txt"
  touch "$out/complete"
  echo "== $name: done in $((SECONDS - began)) s (all runs: $(awk '{ s += $1 } END { print s }' "$out/run_seconds.txt") s)"
}

# report LABEL ROOT: the eval JSON of a table row on one dataset.
report() { echo "$WORK/eval/$(echo "$1" | tr -c 'a-zA-Z0-9.\n' '_')_$2.json"; }

# per_photo_change PARENT.json MODEL.json: the mean change of the photos' own mIoU from the parent
# to the model, in points, with its standard error (the photos in the same order in both reports).
per_photo_change() {
  awk '
    FNR == 1 { file++; n = 0; k = 0; in_photos = 0 }
    /^  "per_photo": \[/ { in_photos = 1; next }
    /^  \]/ { in_photos = 0 }
    in_photos && /^      "name": / { names[file, ++n] = $2 }
    in_photos && /^      "miou": / { v = $2; sub(/,$/, "", v); m[file, ++k] = v }
    END {
      if (n == 0 || k != n) { print "no per-photo figures"; exit }
      for (i = 1; i <= n; i++) {
        if (names[1, i] != names[2, i]) { print "photos in another order"; exit }
        d = 100 * (m[2, i] - m[1, i]); s += d; ss += d * d
      }
      mean = s / n; var = (ss - n * mean * mean) / (n - 1)
      printf "%+.2f +- %.2f points over %d photos", mean, sqrt(var / n), n
    }' "$1" "$2"
}

published=$WORK/published_dm05.ckpt
for stage in $stages; do
  case "$stage" in
    parent)
      [ -f "$published" ] ||
        "$QSEG" import --tflite "$S/models/deeplabv3_mnv2_dm05_pascal_quant.tflite" --out "$published"
      train float "$published" --steps "$FLOAT_STEPS" --base-lr "$FLOAT_LR" --quantize-delay-step -1 ;;
    qat)
      train qat "$WORK/float/checkpoint.ckpt" --steps "$QAT_STEPS" --base-lr 3e-5 \
        --quantize-delay-step 0 ;;
    delayed)
      [ -f "$published" ] ||
        "$QSEG" import --tflite "$S/models/deeplabv3_mnv2_dm05_pascal_quant.tflite" --out "$published"
      train delayed "$published" --steps $((FLOAT_STEPS + DELAYED_QAT_STEPS)) \
        --base-lr "$FLOAT_LR" --quantize-delay-step "$FLOAT_STEPS" ;;
    files)
      mkdir -p "$MODELS"
      seed_flags=(--inference-type QUANTIZED_UINT8 --inference-input-type QUANTIZED_UINT8 --mean 128
        --std 128 --change-concat-input-ranges --output-arrays ArgMax)
      "$QSEG" convert --checkpoint "$WORK/float/checkpoint.ckpt" --output "$MODELS/qseg_dm05_float.tflite" \
        --inference-type FLOAT --inference-input-type FLOAT --output-arrays ArgMax
      "$QSEG" convert --checkpoint "$WORK/qat/checkpoint.ckpt" --output "$MODELS/qseg_dm05_qat_uint8.tflite" \
        "${seed_flags[@]}"
      "$QSEG" convert --checkpoint "$WORK/float/checkpoint.ckpt" --output "$MODELS/qseg_dm05_ptq_uint8.tflite" \
        "${seed_flags[@]}" --calibrate "$S/voc2012" --calibration-split train_available.txt \
        --calibration-images 100 --threads 2
      if [ -f "$WORK/delayed/complete" ]; then
        "$QSEG" convert --checkpoint "$WORK/delayed/checkpoint.ckpt" \
          --output "$WORK/qseg_dm05_delayed_uint8.tflite" "${seed_flags[@]}"
      fi ;;
    table)
      mkdir -p "$WORK/eval"
      # label|model|eval flags|parent: a quantized model's loss is its mIoU against the parent row's.
      models=("float single scale|$WORK/float/checkpoint.ckpt|--precision float|"
        "float 0.5-1.75 + flip|$WORK/float/checkpoint.ckpt|--precision float --scales 0.5,0.75,1.0,1.25,1.5,1.75 --flip|"
        "float .tflite|$MODELS/qseg_dm05_float.tflite||"
        "QAT uint8|$MODELS/qseg_dm05_qat_uint8.tflite||float single scale"
        "PTQ uint8|$MODELS/qseg_dm05_ptq_uint8.tflite||float single scale"
        "delayed-QAT uint8|$WORK/qseg_dm05_delayed_uint8.tflite||float single scale"
        "published dm0.5 in float (the parent's start)|$published|--precision float|"
        "published dm0.5 uint8|$S/models/deeplabv3_mnv2_dm05_pascal_quant.tflite||"
        "published dm1.0 uint8|$S/models/deeplabv3_mnv2_pascal_quant.tflite||")
      sets=("voc2012 val_available.txt" "coco-voc val.txt")
      printf '| model | VOC val (198) | loss | coco-voc val (156) | loss |\n|---|---|---|---|---|\n'
      declare -A miou=()
      paired=()
      for entry in "${models[@]}"; do
        IFS='|' read -r label model flags parent <<<"$entry"
        [ -f "$model" ] || continue
        row="| $label |"
        for set in "${sets[@]}"; do
          read -r root split <<<"$set"
          json=$(report "$label" "$root")
          if [ ! "$json" -nt "$model" ]; then  # evaluated again when the model is newer
            # shellcheck disable=SC2086
            "$QSEG" eval --model "$model" $flags --data "$S/$root" --split "$split" --threads 2 \
              --json "$json" >/dev/null
          fi
          m=$(sed -nE 's/^  "miou": ([0-9.eE+-]+),?$/\1/p' "$json")
          miou["$label $root"]=$m
          loss=
          if [ -n "$parent" ] && [ -n "${miou["$parent $root"]:-}" ]; then
            loss=$(awk -v m="$m" -v p="${miou["$parent $root"]}" 'BEGIN { printf "%+.2f", 100 * (m - p) }')
            paired+=("$label, $root: $(per_photo_change "$(report "$parent" "$root")" "$json")")
          fi
          row="$row $(awk -v m="$m" 'BEGIN { printf "%.2f%%", 100 * m }') | $loss |"
        done
        echo "$row"
      done
      echo
      echo "Per-photo mIoU change against the parent (mean and standard error over the photos):"
      for line in "${paired[@]}"; do echo "  $line"; done ;;
    *) echo "train_models.sh: unknown stage '$stage' (parent qat delayed files table)" >&2; exit 2 ;;
  esac
done
