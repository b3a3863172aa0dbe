#!/usr/bin/env bash
# `qseg segment` of 12 MP phone photos against a plain decode of the same files (djpeg, from
# libjpeg-turbo-progs): whole-process wall time, one process per photo, medians and their ratio
# measured in one run. The photos are made from shared VOC and COCO-VOC photos by
# qseg_phone_photo (4032x3024, fine texture, quality 92; every other one stored sideways with
# EXIF orientation 6, as a phone held upright writes it). A benchmark, not a test.
#
# Usage: bench/phone_photo.sh [PHOTOS] [-- SEGMENT FLAGS...]   (default 10 photos; defaults of
#        qseg segment, 1 thread)
# Needs: scripts/build.sh done (build/qseg, build/bench/qseg_phone_photo), djpeg, ../shared.
# Target (issue 24): the median of qseg segment <= 3x the median of djpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10}
shift || true
[ "${1:-}" = "--" ] && shift
flags=("$@")
shared=${QSEG_SHARED:-../shared}
command -v djpeg >/dev/null || { echo "phone_photo.sh: djpeg missing (apt-get install libjpeg-turbo-progs)" >&2; exit 1; }
[ -x build/bench/qseg_phone_photo ] || { echo "phone_photo.sh: build/bench/qseg_phone_photo missing (scripts/build.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t all < <(ls "$shared"/voc2012/JPEGImages/*.jpg "$shared"/coco-voc/JPEGImages/*.jpg)
step=$(( ${#all[@]} / count ))
[ "$step" -ge 1 ] || step=1
photos=()
for ((i = 0; i < ${#all[@]} && ${#photos[@]} < count; i += step)); do
  out=$work/phone$(printf '%02d' ${#photos[@]}).jpg
  side=(); [ $(( ${#photos[@]} % 2 )) = 1 ] && side=(--sideways)
  build/bench/qseg_phone_photo "${all[i]}" "$out" "${side[@]}"
  photos+=("$out")
done
echo "photos: ${#photos[@]} of 4032x3024 (every other sideways), $(du -cb "${photos[@]}" | tail -1 | cut -f1) bytes"

run_ms() {  # milliseconds of one run of "$@"
  local start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1
  local end=$EPOCHREALTIME
  echo "scale=3; (${end/./} - ${start/./}) / 1000" | bc
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

build/qseg segment "${flags[@]}" --out "$work/warm" "${photos[0]}" >/dev/null  # page cache, model
djpeg -outfile /dev/null "${photos[0]}"
: >"$work/djpeg.txt"
: >"$work/qseg.txt"
for p in "${photos[@]}"; do  # interleaved, so that both see the same machine
  run_ms djpeg -outfile /dev/null "$p" >>"$work/djpeg.txt"
  rm -rf "$work/out"
  run_ms build/qseg segment "${flags[@]}" --out "$work/out" "$p" >>"$work/qseg.txt"
done
# All photos in one process: the next photo is decoded while the current one is segmented.
all_ms=$(run_ms build/qseg segment "${flags[@]}" --out "$work/split" --json "$work/split.json" "${photos[@]}")
d=$(median <"$work/djpeg.txt")
q=$(median <"$work/qseg.txt")
echo "djpeg (decode to PPM, /dev/null): median $d ms"
echo "qseg segment ${flags[*]}: median $q ms  ($(echo "scale=2; $q / $d" | bc)x djpeg)"
echo "qseg segment ${flags[*]} of all ${#photos[@]} in one process: $(echo "scale=1; $all_ms / ${#photos[@]}" | bc) ms per photo"
# The steps inside qseg (its --json), medians over the photos.
for step in decode preprocess model postprocess write total; do
  m=$(grep -o "\"$step\": *[0-9.e+-]*" "$work/split.json" | awk -F: '{ print $2 + 0 }' | median)
  printf '  %-11s %8.1f ms\n' "$step" "$m"
done
