#!/usr/bin/env bash
# qseg against ONNX Runtime on qseg's ONNX export of the same model, over the shared photos: for
# each model, the photos compared (each preprocessed as qseg segment does), the mean and the worst
# per-photo ArgMax pixel agreement (over the pixels where the photo lies in the model input, the
# padding left out), the agreement over all those pixels, and the share of photos whose label maps
# (the whole 513x513 output) are bit-identical. `qseg diff --b onnxruntime` exports the
# model with the writer of `qseg export --onnx` (the same bytes) and runs it in onnxruntime-node
# (CPU provider, graph optimization level all). A measurement, not a test: it exits 0 whatever the agreement.
#
# Usage: scripts/onnx_agreement.sh [--sample N] [--out DIR] [--plain-qdq] [MODEL.tflite ...]
#   (no models: the published dm0.5 and dm1.0 uint8 models and models/qseg_dm05_qat_uint8.tflite)
#   --sample N    N photos from each of the two photo folders, evenly spread (default: all)
#   --out DIR     where the per-model qseg diff --json reports go (default: build/onnx_agreement)
#   --plain-qdq   export as qseg export --onnx-plain-qdq does (plain QDQ, rounding half to even)
# Photos: ../shared/images/bird.bmp and bird_segmentation.bmp, every photo of
# ../shared/voc2012/JPEGImages and ../shared/coco-voc/JPEGImages (880 in all).
# Environment: QSEG (the qseg binary, default build/qseg), QSEG_SHARED (default ../shared),
# QSEG_ONNXRUNTIME (ONNX Runtime, default onnxruntime beside the binary; installed there by
# tools/onnx/setup.sh when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
qseg=${QSEG:-build/qseg}
shared=${QSEG_SHARED:-../shared}
sample=0
out=build/onnx_agreement
export_flags=()
models=()
fail() {
  echo "onnx_agreement: error: $*" >&2
  exit "${2:-1}"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample=${2:?--sample needs a number}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --plain-qdq) export_flags+=(--onnx-plain-qdq); shift ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "onnx_agreement: error: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
case "$sample" in '' | *[!0-9]*) echo "onnx_agreement: error: --sample takes a number, got '$sample'" >&2; exit 2 ;; esac
[ -x "$qseg" ] || fail "no qseg binary at $qseg (scripts/build.sh builds it)"
ort=${QSEG_ONNXRUNTIME:-$(dirname "$qseg")/onnxruntime}
if [ ! -f "$ort/node_modules/onnxruntime-node/package.json" ]; then
  echo "onnx_agreement: installing ONNX Runtime into $ort" >&2
  sh tools/onnx/setup.sh "$ort" >&2
fi
if [ ${#models[@]} -eq 0 ]; then
  models=("$shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite"
          "$shared/models/deeplabv3_mnv2_pascal_quant.tflite"
          models/qseg_dm05_qat_uint8.tflite)
fi
for m in "${models[@]}"; do [ -f "$m" ] || fail "no model $m"; done

photos=()
for photo in "$shared/images/bird.bmp" "$shared/images/bird_segmentation.bmp"; do
  [ -f "$photo" ] || fail "no photo $photo (set QSEG_SHARED)"
  [ "$sample" -gt 0 ] || photos+=("$photo")
done
for folder in "$shared/voc2012/JPEGImages" "$shared/coco-voc/JPEGImages"; do
  [ -d "$folder" ] || fail "no photo folder $folder (set QSEG_SHARED)"
  mapfile -t all < <(find "$folder" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
  if [ "$sample" -gt 0 ] && [ "$sample" -lt ${#all[@]} ]; then
    for ((k = 0; k < sample; k++)); do photos+=("${all[k * ${#all[@]} / sample]}"); done
  else
    photos+=("${all[@]}")
  fi
done

mkdir -p "$out"
reports=()
for m in "${models[@]}"; do
  name=$(basename "$m" .tflite)
  echo "onnx_agreement: $name on ${#photos[@]} photos" >&2
  "$qseg" diff --model "$m" --a qseg --b onnxruntime --onnxruntime "$ort" --no-layers ${export_flags[@]+"${export_flags[@]}"} \
    --json "$out/$name.json" "${photos[@]}" >"$out/$name.log" 2>&1 ||
    fail "qseg diff failed on $m; see $out/$name.log"
  reports+=("$out/$name.json")
done

/usr/bin/python3 - "${reports[@]}" <<'EOF'
import json
import os
import sys

print("| model | photos | mean per-photo pixel agreement | worst photo | all pixels | bit-identical label maps |")
print("|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    with open(path) as f:
        doc = json.load(f)
    rows = doc["inputs"]
    # The labels where the photo lies in the 513x513 input (qseg diff's photo_pixels), padding
    # left out.
    shares = [(r["photo_pixels_agreeing"] / r["photo_pixels"], os.path.basename(r["input"]))
              for r in rows]
    mean = sum(s for s, _ in shares) / len(shares)
    worst, worst_name = min(shares)
    pixels = sum(r["photo_pixels"] for r in rows)
    agreeing = sum(r["photo_pixels_agreeing"] for r in rows)
    identical = sum(1 for r in rows if r["identical"])
    name = os.path.splitext(os.path.basename(path))[0]
    print("| %s | %d | %.3f%% | %.3f%% (%s) | %.3f%% | %d (%.1f%%) |" % (
        name, len(rows), 100 * mean, 100 * worst, worst_name, 100 * agreeing / pixels,
        identical, 100 * identical / len(rows)))
EOF
