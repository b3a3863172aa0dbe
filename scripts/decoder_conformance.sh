#!/usr/bin/env bash
# DeepLabV3+ decoders and ASPP with atrous rates against the real TensorFlow Lite over the shared
# photos: trains each architecture from scratch for a few quantization-aware steps (its own
# activation ranges; the weights do not matter for agreement), converts it with --input-shape to
# uint8 and per-channel int8, and hands the models to scripts/conformance.sh, which compares qseg
# with the real TFLite photo by photo (through the Segmenter's preprocessing) and fails unless
# every output is bit-identical. Models (dm 0.5, coco-voc train, crop 129):
#   aspp_os16_257_{uint8,int8}        ASPP rates 6,12,18 at output stride 16, input 257x257
#   decoder4_os16_321_{uint8,int8}    ASPP 6,12,18 and the decoder at stride 4, input 321x321
#   decoder4_os8_257_uint8            ASPP 12,24,36 at output stride 8, decoder at 4, 257x257
#   decoder8_os16_384x640_{uint8,int8} the decoder at stride 8, input 384x640 (height x width)
#   ptq_decoder4_os16_321_uint8       the decoder trained in float, ranges calibrated on 20 photos
#
# Usage: scripts/decoder_conformance.sh [--sample N] [--out DIR]
#   --sample N  N photos of each shared photo folder, evenly spread (default: every photo)
#   --out DIR   models and reports (default: build/decoder_conformance)
# Environment: QSEG (the qseg binary, default build/qseg), QSEG_SHARED (default ../shared),
# QSEG_TFLITE_ORACLE (default tflite-oracle beside the binary), as scripts/conformance.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
qseg=${QSEG:-build/qseg}
shared=${QSEG_SHARED:-../shared}
out=build/decoder_conformance
sample=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sample) sample=${2:?--sample needs a number}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "decoder_conformance: error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$qseg" ] || { echo "decoder_conformance: error: no qseg binary at $qseg" >&2; exit 1; }
models="$out/models"
mkdir -p "$models"
threads=$(nproc)

# train NAME QUANTIZE_DELAY ARCHITECTURE_FLAGS...: a few steps from scratch into $models/NAME.
train() {
  local name=$1 delay=$2
  shift 2
  "$qseg" train --from-scratch --depth-multiplier 0.5 "$@" --data "$shared/coco-voc" \
    --split train.txt --steps 3 --batch-size 2 --crop-size 129 --quantize-delay-step "$delay" \
    --quiet --threads "$threads" --out "$models/$name" >&2
}
# convert CHECKPOINT_NAME MODEL_NAME SHAPE FLAGS...
convert() {
  local checkpoint=$1 name=$2 shape=$3
  shift 3
  "$qseg" convert --checkpoint "$models/$checkpoint/checkpoint.ckpt" --input-shape "$shape" \
    --output "$models/$name.tflite" "$@" >&2
}

train aspp_os16 0 --output-stride 16 --aspp-rates 6,12,18
convert aspp_os16 aspp_os16_257_uint8 1,257,257,3
convert aspp_os16 aspp_os16_257_int8 1,257,257,3 --per-channel-int8
train decoder4_os16 0 --output-stride 16 --aspp-rates 6,12,18 --decoder-output-stride 4
convert decoder4_os16 decoder4_os16_321_uint8 1,321,321,3
convert decoder4_os16 decoder4_os16_321_int8 1,321,321,3 --per-channel-int8
train decoder4_os8 0 --output-stride 8 --aspp-rates 12,24,36 --decoder-output-stride 4
convert decoder4_os8 decoder4_os8_257_uint8 1,257,257,3
train decoder8_os16 0 --output-stride 16 --decoder-output-stride 8
convert decoder8_os16 decoder8_os16_384x640_uint8 1,384,640,3
convert decoder8_os16 decoder8_os16_384x640_int8 1,384,640,3 --per-channel-int8
train float_decoder4_os16 -1 --output-stride 16 --aspp-rates 6,12,18 --decoder-output-stride 4
convert float_decoder4_os16 ptq_decoder4_os16_321_uint8 1,321,321,3 \
  --calibrate "$shared/coco-voc" --calibration-split train.txt --calibration-images 20 \
  --threads "$threads"
for name in aspp_os16 decoder4_os16 decoder4_os8 decoder8_os16 float_decoder4_os16; do
  rm -rf "${models:?}/$name"
done

QSEG="$qseg" QSEG_SHARED="$shared" exec scripts/conformance.sh --sample "$sample" \
  --out "$out/reports" "$models"/decoder8_os16_384x640_{uint8,int8}.tflite \
  "$models"/decoder4_os16_321_{uint8,int8}.tflite "$models"/decoder4_os8_257_uint8.tflite \
  "$models"/aspp_os16_257_{uint8,int8}.tflite "$models"/ptq_decoder4_os16_321_uint8.tflite
