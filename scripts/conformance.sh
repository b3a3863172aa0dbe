#!/usr/bin/env bash
# qseg against the real TensorFlow Lite over the shared photos, for every model it is given: for
# each model, the photos compared, how many give byte-identical outputs, the worst pixel agreement
# and, for each photo that differs, the first layer that differs (qseg diff). Quantized models must
# be identical on every photo; float models must stay within 1e-5 of the output's range (of the
# scores, for a float model that ends in ArgMax) with the labels identical except near ties.
# Exits 1 when a model misses that.
#
# Usage: scripts/conformance.sh [--sample N] [--converted] [--kernels K] [--out DIR] [MODEL.tflite ...]
#   (no models: the three shared ones and the models qseg ships, models/*.tflite)
#   --sample N    N photos from each shared photo folder, evenly spread (default: every photo)
#   --converted   also the models qseg writes, made here first (scripts/conformance_models.sh):
#                 the published dm0.5 imported and converted back, quantization-aware trained
#                 (uint8 and per-channel int8), post-training uint8 and int8 of the shared float
#                 model, and that float model converted at 513
#   --kernels K   qseg's kernels (qseg diff --kernels: auto, reference, avx2, avx512-vnni, ...)
#   --out DIR     where the per-model reports (qseg diff --json and its output) go
#                 (default: build/conformance)
# Environment: QSEG (the qseg binary, default build/qseg), QSEG_SHARED (the shared folder, default
# ../shared), QSEG_TFLITE_ORACLE (the oracle, default tflite-oracle beside the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
qseg=${QSEG:-build/qseg}
shared=${QSEG_SHARED:-../shared}
sample=0
converted=0
out=build/conformance
kernels=auto
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample=${2:?--sample needs a number}; shift 2 ;;
    --converted) converted=1; shift ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --kernels) kernels=${2:?--kernels needs a name}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "conformance: error: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
case "$sample" in ''|*[!0-9]*) echo "conformance: error: --sample takes a number, got '$sample'" >&2; exit 2 ;; esac
[ -x "$qseg" ] || { echo "conformance: error: no qseg binary at $qseg (scripts/build.sh builds it)" >&2; exit 1; }
for folder in "$shared/coco-voc/JPEGImages" "$shared/voc2012/JPEGImages"; do
  [ -d "$folder" ] || { echo "conformance: error: no photo folder $folder (set QSEG_SHARED)" >&2; exit 1; }
done
oracle=${QSEG_TFLITE_ORACLE:-$(dirname "$qseg")/tflite-oracle}
if [ ! -d "$oracle/node_modules/@tensorflow/tfjs-tflite" ]; then
  echo "conformance: error: no TFLite oracle in $oracle (install it: $shared/tools/tflite-oracle/setup.sh $oracle, or set QSEG_TFLITE_ORACLE)" >&2
  exit 1
fi
mkdir -p "$out"
if [ ${#models[@]} -eq 0 ]; then
  models=("$shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite"
          "$shared/models/deeplabv3_mnv2_pascal_quant.tflite"
          "$shared/models/deeplabv3_257_mv_gpu.tflite")
  for shipped in models/*.tflite; do [ -f "$shipped" ] && models+=("$shipped"); done
fi
if [ "$converted" = 1 ]; then
  QSEG="$qseg" QSEG_SHARED="$shared" scripts/conformance_models.sh "$out/models" >&2
  models+=("$out/models"/*.tflite)
fi
for m in "${models[@]}"; do
  [ -f "$m" ] || { echo "conformance: error: no model $m" >&2; exit 1; }
done

# The photos: all of both folders, or N of each, evenly spread.
photos=()
for folder in "$shared/coco-voc/JPEGImages" "$shared/voc2012/JPEGImages"; do
  mapfile -t all < <(find "$folder" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
  if [ "$sample" -gt 0 ] && [ "$sample" -lt ${#all[@]} ]; then
    for ((k = 0; k < sample; k++)); do photos+=("${all[k * ${#all[@]} / sample]}"); done
  else
    photos+=("${all[@]}")
  fi
done

status=0
printf '%-44s %7s %15s %-26s %s\n' model photos bit-identical "worst agreement" verdict
for m in "${models[@]}"; do
  name=$(basename "$m" .tflite)
  if ! "$qseg" diff --model "$m" --kernels "$kernels" --oracle "$oracle" --json "$out/$name.json" "${photos[@]}" \
      > "$out/$name.txt" 2> "$out/$name.err"; then
    echo "conformance: error: $name: $(tail -n 1 "$out/$name.err")" >&2
    exit 1
  fi
  summary=$(grep '^summary:' "$out/$name.txt")
  n=$(sed -E 's/^summary: ([0-9]+) inputs.*/\1/' <<<"$summary")
  same=$(sed -E 's/^summary: [0-9]+ inputs, ([0-9]+) bit-identical.*/\1/' <<<"$summary")
  worst=$(sed -E 's/.*worst pixel agreement ([^,;]*).*/\1/' <<<"$summary")
  if grep -q 'differ beyond near ties' <<<"$summary"; then
    # A float model (scores, or labels of float scores): held to float rounding.
    if grep -q '(within 1e-5), 0 pixels differ beyond near ties' <<<"$summary"; then
      verdict="ok (float: $(sed -E 's/.*largest difference ([^ ]*) of.*/\1/' <<<"$summary") of the range, $(sed -E 's/.*\(([0-9]+) near ties\).*/\1/' <<<"$summary") near-tie pixels)"
    else
      verdict="FAIL (float: ${summary#*largest difference })"
      status=1
    fi
  elif [ "$same" = "$n" ]; then
    verdict="ok"
  else
    verdict="FAIL"
    status=1
  fi
  printf '%-44s %7s %15s %-26s %s\n' "$name" "$n" "$same" "$worst" "$verdict"
  # When a model fails: each photo that differs, with the first layer that differs.
  if [ "${verdict#FAIL}" != "$verdict" ]; then
    grep -E ': output differs' "$out/$name.txt" | sed 's/^/    /' | head -n 50 || true
  fi
done
echo "reports: $out (qseg diff output and --json per model)"
exit $status
