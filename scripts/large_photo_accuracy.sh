#!/usr/bin/env bash
# What decoding large photos reduced costs in accuracy: a dataset split enlarged SCALE times
# (photos by qseg_phone_photo: bilinear, fine texture, JPEG quality 92; labels nearest), scored by
# qseg eval twice: as qseg segment and eval decode photos by default (a large JPEG decoded only as
# far as the model input needs, at 1/2, 1/4 or 1/8 of its sides), and with --full-decode (whole,
# then resized bilinearly to the model input). Prints both mIoU lines.
#
#   scripts/large_photo_accuracy.sh [ROOT] [SPLIT] [SCALE] [MODEL]
#   (default ../shared/voc2012, val_available.txt, 4, the default model)
# Needs build/qseg and build/bench/qseg_phone_photo (scripts/build.sh). Writes into a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-${QSEG_SHARED:-../shared}/voc2012}
split=${2:-val_available.txt}
scale=${3:-4}
model=()
[ $# -ge 4 ] && model=(--model "$4")
split_file=$root/ImageSets/Segmentation/$split
[ -f "$split_file" ] || split_file=$split
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/JPEGImages" "$work/SegmentationClass"
cp "$split_file" "$work/split.txt"
count=0
while read -r name; do
  [ -n "$name" ] || continue
  build/bench/qseg_phone_photo --scale "$scale" "$root/JPEGImages/$name.jpg" "$work/JPEGImages/$name.jpg"
  build/bench/qseg_phone_photo --scale "$scale" --label "$root/SegmentationClass/$name.png" \
    "$work/SegmentationClass/$name.png"
  count=$((count + 1))
done <"$work/split.txt"
echo "$count photos of $root ($split) enlarged ${scale}x, $(du -sb "$work/JPEGImages" | cut -f1) bytes of JPEG"
for mode in reduced full; do
  flags=()
  [ "$mode" = full ] && flags=(--full-decode)
  build/qseg eval "${model[@]}" --data "$work" --split "$work/split.txt" --threads 2 \
    "${flags[@]}" --json "$work/$mode.json" >"$work/$mode.txt" 2>&1
  printf '%-8s decode: %s; %s\n' "$mode" "$(grep -m1 -E '^mIoU' "$work/$mode.txt" || true)" \
    "$(grep -m1 -E '^speed' "$work/$mode.txt" || true)"
done
