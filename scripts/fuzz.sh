#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; CMake option QSEG_FUZZ) and runs one of them,
# or each in turn, for SECONDS, then prints per target the run time, executions and final
# coverage (libFuzzer's cov/ft) and the corpus size.
#
#   scripts/fuzz.sh TARGET SECONDS [BUILD_DIR]    TARGET: tflite image dataset checkpoint cli | all
#
# The corpus grows in BUILD_DIR/fuzz-corpus/TARGET (kept between runs); seeds from the shared
# folder ($QSEG_SHARED, else ../shared) and from fuzz_seeds go to BUILD_DIR/fuzz-seeds/TARGET.
# A crash, leak, timeout or out-of-memory leaves its input in BUILD_DIR/fuzz-artifacts/TARGET/;
# copy it into tests/fuzz_regressions/TARGET/ with the fix. One job, one build thread: the
# machine is shared (QSEG_FUZZ_BUILD_JOBS overrides the build's).
#
# QSEG_FUZZ_FLAGS adds libFuzzer flags. For tflite, whose corpus is dominated by whole DeepLab
# models, "-max_len=4096" fuzzes only the small models (the one-op seeds) about 100 times faster
# per input; "-fork=2 -ignore_crashes=1" uses two cores and keeps going after a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

targets_all="tflite image dataset checkpoint cli"
if [ $# -lt 2 ]; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS [BUILD_DIR]   (targets: $targets_all)" >&2
  exit 2
fi
target=$1
seconds=$2
build=${3:-build-fuzz}
shared=$(cd "${QSEG_SHARED:-../shared}" && pwd)
case "$target" in
  all) targets=$targets_all ;;
  tflite | image | dataset | checkpoint | cli) targets=$target ;;
  *) echo "scripts/fuzz.sh: unknown target '$target' (targets: $targets_all, all)" >&2; exit 2 ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "scripts/fuzz.sh: SECONDS must be a positive whole number, got '$seconds'" >&2
  exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQSEG_FUZZ=ON -DQSEG_BUILD_TESTS=OFF -DQSEG_SHARED_DIR="$shared" >/dev/null
fi
build_targets="fuzz_seeds"
for t in $targets; do build_targets="$build_targets fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" --parallel "${QSEG_FUZZ_BUILD_JOBS:-1}" --target $build_targets

# Seeds: real files of the formats each target reads, plus the small generated ones.
seeds=$build/fuzz-seeds
add_seeds() {  # DIR FILE...: copies the files that exist
  local dir=$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -f "$f" "$dir/"; done
  return 0
}
make_seeds() {
  local t=$1 dir=$seeds/$1
  mkdir -p "$dir"
  case "$t" in
    tflite)
      add_seeds "$dir" "$shared"/models/*.tflite "$seeds/generated/tflite"/*.tflite ;;
    image)
      add_seeds "$dir" "$shared"/images/*.bmp "$seeds/generated/image"/*
      add_seeds "$dir" $(ls "$shared"/voc2012/JPEGImages/*.jpg | head -3) \
        $(ls "$shared"/coco-voc/JPEGImages/*.jpg | head -2) \
        $(ls "$shared"/voc2012/SegmentationClass/*.png | head -3) \
        $(ls "$shared"/coco-voc/SegmentationClass/*.png | head -2) ;;
    dataset)
      add_seeds "$dir" "$shared"/voc2012/ImageSets/Segmentation/*_available.txt \
        "$shared"/coco-voc/ImageSets/Segmentation/val.txt "$shared"/images/bird_segmentation_mask.bmp \
        $(ls "$shared"/voc2012/SegmentationClass/*.png | head -3) \
        "$seeds/generated/image"/small_palette*.png "$seeds/generated/image"/small_gray8.png
      printf 'a\n  b  \n\nc\r\n' >"$dir/blank_lines.txt"
      printf '2007_000033\n../etc/passwd\n' >"$dir/dotdot.txt"
      printf 'x\nx\n' >"$dir/twice.txt" ;;
    checkpoint)
      add_seeds "$dir" "$seeds/generated/checkpoint"/*.ckpt
      # The real import of a published model, when a normal build exists (large: a few MB).
      if [ -x build/qseg ] && [ ! -f "$dir/dm05_import.ckpt" ]; then
        build/qseg import --tflite "$shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite" \
          --out "$dir/dm05_import.ckpt" --no-check >/dev/null 2>&1 || rm -f "$dir/dm05_import.ckpt"
      fi ;;
    cli)
      printf 'steps = 2000\nthreads = 2\nout = "masks"\nkernels = "reference"\n' >"$dir/config.toml"
      printf 'model = "m.tflite"\ndata = ["a", "b"]\nrequantization = "float"\n# c\n[section]\nx=1\n' \
        >"$dir/sections.toml"
      printf 'data = "root"\nsplit = "val.txt"\nlimit = 5\nskip-bad = true\nprecision = "float"\n' \
        >"$dir/eval.toml"
      printf 'segment\n--model\nm.tflite\n--threads\n4\n--kernels\navx2\n--fuse-blocks\na.jpg\nb.png\n' \
        >"$dir/segment.args"
      printf 'eval\n--data\nroot\n--split\nval.txt\n--limit=3\n--json\nout.json\n--checkpoint\nc\n' \
        >"$dir/eval.args"
      printf 'compare\n--help-all\n' >"$dir/help.args"
      printf 'run\n--requantization=float\nm.tflite\n--\n-x\n' >"$dir/run.args"
      printf 'inspect\n-h\n' >"$dir/inspect.args"
      printf 'train\n--init\na.ckpt\n--data\nd\n--split\nt.txt\n--steps\n3\n--quantize-delay-step\n1\n--world-size\n2\n--rank\n1\n--master\n127.0.0.1:29500\n--max-image-mp=2\n' \
        >"$dir/train.args"
      printf 'launch\n--nproc\n2\n--grace\n5\ntrain\n--from-scratch\n--data\nd\n' >"$dir/launch.args"
      printf 'import\n--tflite\nm.tflite\n--out\nc.ckpt\n--output-stride\n8\n--no-check\n' >"$dir/import.args"
      printf 'convert\n--checkpoint\nc.ckpt\n--output\nm.tflite\n--inference-input-type\nQUANTIZED_UINT8\n--calibrate\nd\n' \
        >"$dir/convert.args"
      printf 'export\n--checkpoint\nc.ckpt\n--output\ng.tflite\n' >"$dir/export.args"
      printf 'steps = 3\nbase-lr = 3e-5\ndata = ["a", "b"]\nquantize-delay-step = 1\nquiet = true\n' \
        >"$dir/train.toml" ;;
  esac
}

# What a failed run found: the sanitizer's or libFuzzer's report (at most 40 lines, without the
# seconds prefix), the input it left, and that input as gzip + base64 when that is short, so a
# finding on a machine that is gone (CI) can be replayed:
#   base64 -d <<<'...' | gunzip >crash && build-fuzz/fuzz/fuzz_TARGET crash
finding_report() {  # TARGET LOG ARTIFACTS_DIR
  local t=$1 log=$2 artifacts=$3 input encoded
  echo "-- fuzz_$t"
  sed -E 's/^[0-9]+ //' "$log" |
    awk '/ERROR: |runtime error:|WARNING: |==[0-9]+==|SUMMARY: |Test unit written/ { on = 1 }
         on && n < 40 { print; n++ }'
  input=$(ls -t "$artifacts" 2>/dev/null | head -n 1 || true)
  if [ -n "$input" ]; then
    encoded=$(gzip -9c "$artifacts/$input" | base64 -w 0)
    echo "input: $artifacts/$input ($(stat -c %s "$artifacts/$input") bytes)"
    if [ ${#encoded} -le 8192 ]; then
      echo "input as gzip + base64: $encoded"
    else
      echo "input too large to print (${#encoded} characters as gzip + base64)"
    fi
  fi
}

"$build/fuzz/fuzz_seeds" "$seeds/generated" >/dev/null
status=0
summary=""
findings=""
for t in $targets; do
  make_seeds "$t"
  corpus=$build/fuzz-corpus/$t
  artifacts=$build/fuzz-artifacts/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  echo "== fuzz_$t for ${seconds}s (log $log)"
  # -rss_limit_mb: a target must not need more than 2 GB whatever the input (limits are set
  # small in fuzz/); -timeout: one input taking over 10 s is a hang.
  started=$SECONDS
  set +e
  # Each log line starts with the second of the run it was printed in, so the log shows when
  # coverage last grew (the plateau). QSEG_FUZZ_FLAGS is split into words on purpose.
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/" ${QSEG_FUZZ_FLAGS:-} "$corpus" "$seeds/$t" 2>&1 |
    while IFS= read -r l; do printf '%d %s\n' $((SECONDS - started)) "$l"; done >"$log"
  rc=${PIPESTATUS[0]}
  set -e
  took=$((SECONDS - started))  # wall time, also when the run stopped early at a finding
  final=$(grep -E '^[0-9]+ #[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$final")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$final")
  # The last second at which an input added coverage (cov, not only features).
  grown=$(awk '$2 ~ /^#[0-9]+$/ && / cov: / { c = $0; sub(/.* cov: /, "", c); sub(/ .*/, "", c);
                 if (c + 0 > best) { best = c + 0; at = $1 } } END { print at + 0 }' "$log")
  runs=$(sed -nE 's/^[0-9]+ stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  # Totals over every run kept in this build folder (a run appends one line).
  echo "$took ${runs:-0} ${cov:-0} ${ft:-0}" >>"$build/fuzz-logs/$t.runs"
  total=$(awk '{ s += $1; n += $2 } END { print s "s, " n " executions" }' "$build/fuzz-logs/$t.runs")
  line="fuzz_$t: ${took}s, ${runs:-?} executions, cov ${cov:-?} (last grew at ${grown}s), ft ${ft:-?}, corpus $files files ($bytes bytes); all runs here: $total"
  if [ $rc -ne 0 ]; then
    line="$line; FAILED (exit $rc), see $log and $artifacts/"
    status=1
    findings="$findings$(finding_report "$t" "$log" "$artifacts")"$'\n'
  fi
  echo "$line"
  summary="$summary$line"$'\n'
done
if [ "$target" = all ]; then
  echo "== summary"
  printf '%s' "$summary"
fi
# Last, so that a CI log cut to its end still shows what was found and how to replay it.
if [ -n "$findings" ]; then
  echo "== findings"
  printf '%s' "$findings"
fi
exit $status
