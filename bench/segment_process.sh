#!/usr/bin/env bash
# Whole-process time of `qseg segment PHOTO` as a user runs it: exec, loading the libraries,
# reading the default model, decoding the photo, the model, writing the mask and overlay PNGs,
# exit. One process per photo, photos taken evenly from both shared folders (VOC and COCO-VOC
# JPEGs), interleaved with the same command run by qseg-train (the same code with libtorch
# linked: what `qseg` cost before the libtorch commands moved out). A benchmark, not a test: the
# machine's load changes the numbers; the ratio of the two in one run is what to quote.
#
# Usage: bench/segment_process.sh [PHOTOS] [THREADS]   (default 40 photos, 1 thread)
# Needs: scripts/build.sh done (build/qseg, build/qseg-train), ../shared (or $QSEG_SHARED).
# Target (issue 20): median <= 60 ms on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-40}
threads=${2:-1}
shared=${QSEG_SHARED:-../shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t all < <(ls "$shared"/voc2012/JPEGImages/*.jpg "$shared"/coco-voc/JPEGImages/*.jpg)
step=$(( ${#all[@]} / count ))
[ "$step" -ge 1 ] || step=1
photos=()
for ((i = 0; i < ${#all[@]} && ${#photos[@]} < count; i += step)); do photos+=("${all[i]}"); done

# Milliseconds of one run of "$@" (bash's EPOCHREALTIME: microseconds, no extra process).
run_ms() {
  local start=$EPOCHREALTIME
  "$@" >/dev/null
  local end=$EPOCHREALTIME
  echo "scale=3; (${end/./} - ${start/./}) / 1000" | bc
}

# Warm the page cache (model, libraries) so that both start alike.
build/qseg segment "${photos[0]}" --out "$work/warm" --overwrite >/dev/null
build/qseg-train segment "${photos[0]}" --out "$work/warm" --overwrite >/dev/null
: >"$work/qseg.txt"
: >"$work/qseg-train.txt"
for p in "${photos[@]}"; do
  for tool in qseg qseg-train; do
    rm -rf "$work/out"
    run_ms "build/$tool" segment "$p" --threads "$threads" --out "$work/out" --overwrite >>"$work/$tool.txt"
  done
done

stats() {  # median and 90th percentile of the numbers in a file
  sort -n "$1" | awk '{ v[NR] = $1 } END { printf "median %6.1f ms, p90 %6.1f ms", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)] }'
}
libraries() { ldd "build/$1" | wc -l; }
peak_rss() {  # MB, one more run of the first photo
  rm -rf "$work/out"
  /usr/bin/time -f %M "build/$1" segment "${photos[0]}" --threads "$threads" --out "$work/out" --overwrite 2>&1 >/dev/null |
    tail -1 | awk '{ printf "%.0f MB", $1 / 1024 }'
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "qseg segment, one photo per process, ${#photos[@]} photos, $threads thread(s):"
printf "  qseg        %s  (%s shared libraries, peak RSS %s)\n" "$(stats "$work/qseg.txt")" \
  "$(libraries qseg)" "$(peak_rss qseg)"
printf "  qseg-train  %s  (%s shared libraries, libtorch linked, peak RSS %s)\n" \
  "$(stats "$work/qseg-train.txt")" "$(libraries qseg-train)" "$(peak_rss qseg-train)"
echo "  ratio of medians: $(echo "scale=2; $(median "$work/qseg-train.txt") / $(median "$work/qseg.txt")" | bc)x"
