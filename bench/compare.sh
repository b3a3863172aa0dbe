#!/usr/bin/env bash
# The comparison table: DeepLabV3 MobileNetV2 dm0.5 and dm1.0 (the published uint8 models, 513x513
# image in, 513x513 label map out) at 1 and 2 threads, in every engine we have:
#   qseg int8         qseg bench on the uint8 .tflite
#   TFLite            the real TensorFlow Lite (WebAssembly + XNNPACK, the oracle), in the same
#                     qseg bench run
#   XNNPACK           qseg_xnnpack_bench (bench/xnnpack), skipped with a note when not built
#   libtorch float32  qseg_torch_float_bench (bench/torch): the .tflite imported into src/train's
#                     model, float inference (forward, bilinear resize, ArgMax); also the forward
#                     alone
#   qseg float        qseg bench on the model converted to float by qseg convert (reference float
#                     kernels: slow by design)
# then prints a Markdown table with each median beside qseg int8's at the same thread count. A
# benchmark, not a test: the machine's load changes the numbers; run it on an idle machine.
#
# Usage: bench/compare.sh [BUILD_DIR] [RUNS]   (default build and 5; qseg float runs min(RUNS, 3))
# BUILD_DIR is relative to the repository root; binaries are taken from it (qseg, and
# qseg_torch_float_bench, qseg_xnnpack_bench at its top or under bench/). Figures go to
# BUILD_DIR/bench_compare/*.json, the table also to BUILD_DIR/bench_compare/table.md.
# The machine may be shared: a run during which other processes used more than 0.2 of a core is
# run again, up to $RETRIES times (default 2), and the least disturbed kept; the table marks those
# that stayed disturbed.
# Needs: qseg built in BUILD_DIR (scripts/build.sh), ../shared (or $QSEG_SHARED), node for the
# oracle ($QSEG_ORACLE, default BUILD_DIR/tflite-oracle, installed there by
# ../shared/tools/tflite-oracle/setup.sh when missing; without it the TFLite rows are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-5}
shared=${QSEG_SHARED:-../shared}
float_runs=$((runs < 3 ? runs : 3))
work=$build/bench_compare
manifest=$work/manifest.tsv
retries=${RETRIES:-2}
max_other=0.2
hz=$(getconf CLK_TCK)

fail() {
  echo "compare.sh: error: $*" >&2
  exit 1
}
note() { echo "compare.sh: $*" >&2; }

case $runs in
  '' | *[!0-9]* | 0) fail "RUNS must be a positive whole number, got '$runs'" ;;
esac
case $retries in
  '' | *[!0-9]*) fail "RETRIES must be a whole number, got '$retries'" ;;
esac
[ -x "$build/qseg" ] || fail "no $build/qseg (build first: scripts/build.sh, or give BUILD_DIR)"
[ -d "$shared/models" ] || fail "no $shared/models (set QSEG_SHARED)"

# A binary of BUILD_DIR: at its top or in the bench folders; empty when not built.
find_binary() {
  local name=$1 path
  for path in "$build/$name" "$build/bench/$name" "$build/bench/torch/$name" \
    "$build/bench/xnnpack/$name"; do
    if [ -x "$path" ]; then
      echo "$path"
      return
    fi
  done
}
torch_bench=$(find_binary qseg_torch_float_bench)
xnnpack_bench=$(find_binary qseg_xnnpack_bench)
[ -n "$torch_bench" ] || note "no qseg_torch_float_bench in $build: libtorch rows skipped"
[ -n "$xnnpack_bench" ] || note "no qseg_xnnpack_bench in $build: XNNPACK rows skipped"

oracle=${QSEG_ORACLE:-$build/tflite-oracle}
if [ ! -f "$oracle/tflite_run.js" ]; then
  note "installing the TFLite oracle into $oracle"
  sh "$shared/tools/tflite-oracle/setup.sh" "$oracle" >&2 || true
fi
against=()
if [ -f "$oracle/tflite_run.js" ] && command -v node >/dev/null; then
  against=(--against tflite --oracle "$oracle")
else
  note "no TFLite oracle (node and $oracle/tflite_run.js): TFLite rows skipped"
fi

mkdir -p "$work"
: >"$manifest"
load_before=$(cut -d' ' -f1 /proc/loadavg)

# CPU seconds: the whole machine's busy time so far, and what this script's finished children
# used (`times`, run in this shell: a subshell would report its own).
machine_busy_s() {
  awk -v hz="$hz" 'NR == 1 { printf "%.3f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
children_cpu_s() {
  times >"$work/times.txt"
  # Line 2 of `times`: the children's user and system time, as "1m2.345s 0m0.100s".
  children_s=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; ++i) { split($i, p, "m");
    sub("s", "", p[2]); t += p[1] * 60 + p[2] } printf "%.3f", t }' "$work/times.txt")
}

# run_engine ENGINE MODEL THREADS JSON COMMAND...: runs COMMAND (output to JSON's .log) and
# records the JSON for the table, or a note when it fails. The machine is shared: when other
# processes used more than $max_other of a core meanwhile, it runs again (up to $retries times)
# and keeps the least disturbed run; the table marks runs that stayed disturbed.
run_engine() {
  local engine=$1 model=$2 threads=$3 json=$4 attempt busy0 busy1 cpu0 t0 t1 other best=""
  shift 4
  for ((attempt = 0; attempt <= retries; ++attempt)); do
    note "$model, $threads thread(s): $engine"
    rm -f "$json"
    children_cpu_s
    cpu0=$children_s
    busy0=$(machine_busy_s)
    t0=$(date +%s.%N)
    if ! "$@" >"${json%.json}.log" 2>&1 || [ ! -f "$json" ]; then
      note "$engine failed on $model, $threads thread(s); see ${json%.json}.log"
      printf '%s\t%s\t%s\t-\t-\n' "$engine" "$model" "$threads" >>"$manifest"
      rm -f "$json.best"
      return
    fi
    t1=$(date +%s.%N)
    busy1=$(machine_busy_s)
    children_cpu_s
    other=$(awk -v b="$busy1" -v a="$busy0" -v c="$children_s" -v d="$cpu0" -v t="$t1" -v s="$t0" \
      'BEGIN { o = (b - a - (c - d)) / (t - s); printf "%.2f", o < 0 ? 0 : o }')
    if [ -z "$best" ] || awk -v o="$other" -v b="$best" 'BEGIN { exit !(o < b) }'; then
      mv "$json" "$json.best"
      best=$other
    fi
    awk -v o="$other" -v m="$max_other" 'BEGIN { exit !(o > m) }' || break
    [ "$attempt" -lt "$retries" ] &&
      note "other processes used $other of a core meanwhile: running it again"
  done
  mv "$json.best" "$json"
  printf '%s\t%s\t%s\t%s\t%s\n' "$engine" "$model" "$threads" "$json" "$best" >>"$manifest"
}

for model in dm05 dm10; do
  case $model in
    dm05) name=dm0.5 file=$shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite ;;
    dm10) name=dm1.0 file=$shared/models/deeplabv3_mnv2_pascal_quant.tflite ;;
  esac
  [ -f "$file" ] || fail "no $file"
  float_model=$work/${model}_float.tflite
  if ! "$build/qseg" convert --tflite "$file" --inference-type FLOAT --output "$float_model" \
    >"$work/${model}_convert.log" 2>&1; then
    note "qseg convert to float failed on $file; see $work/${model}_convert.log"
    rm -f "$float_model"
  fi
  for threads in 1 2; do
    out=$work/${model}_t${threads}
    run_engine qseg-int8 "$name" "$threads" "${out}_qseg_int8.json" \
      "$build/qseg" bench --model "$file" --threads "$threads" --runs "$runs" "${against[@]}" \
      --json "${out}_qseg_int8.json"
    if [ -n "$xnnpack_bench" ]; then
      run_engine xnnpack "$name" "$threads" "${out}_xnnpack.json" \
        "$xnnpack_bench" --model "$file" --threads "$threads" --runs "$runs" \
        --json "${out}_xnnpack.json"
    fi
    if [ -n "$torch_bench" ]; then
      run_engine libtorch-float32 "$name" "$threads" "${out}_libtorch.json" \
        "$torch_bench" --tflite "$file" --threads "$threads" --runs "$runs" \
        --json "${out}_libtorch.json"
    fi
    if [ -f "$float_model" ]; then
      run_engine qseg-float "$name" "$threads" "${out}_qseg_float.json" \
        "$build/qseg" bench --model "$float_model" --threads "$threads" --runs "$float_runs" \
        --json "${out}_qseg_float.json"
    fi
  done
done

# The table, from the manifest and the JSON files.
load_after=$(cut -d' ' -f1 /proc/loadavg)
table_args=("$manifest" "$runs" "$float_runs" "$load_before" "$load_after" "$max_other")
/usr/bin/python3 - "${table_args[@]}" <<'EOF' | tee "$work/table.md"
import json
import sys

manifest, runs, float_runs, load_before, load_after = sys.argv[1:6]
max_other = float(sys.argv[6])
rows = []  # (engine label, model, threads, median ms or None, mark or note)
int8 = {}  # (model, threads) -> qseg int8 median
disturbed = False
with open(manifest) as f:
    entries = [line.rstrip("\n").split("\t") for line in f if line.strip()]
for engine, model, threads, path, other in entries:
    if path == "-":
        rows.append((engine, model, threads, None, "failed (see its .log)"))
        continue
    try:
        with open(path) as f:
            figures = json.load(f)
        median = float(figures["median_ms"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        rows.append((engine, model, threads, None, "unreadable %s (%s)" % (path, e)))
        continue
    mark = ""
    if float(other) > max_other:
        mark = " *"
        disturbed = True
    if engine == "qseg-int8":
        int8[(model, threads)] = median
        rows.append(("qseg int8", model, threads, median, mark))
        if "tflite_median_ms" in figures:
            rows.append(("TFLite (WASM + XNNPACK)", model, threads,
                         float(figures["tflite_median_ms"]), mark))
    elif engine == "xnnpack":
        rows.append(("XNNPACK (qseg_xnnpack_bench)", model, threads, median, mark))
    elif engine == "libtorch-float32":
        layout = figures.get("memory_format", "?")
        rows.append(("libtorch float32 (%s)" % layout, model, threads, median, mark))
        rows.append(("libtorch float32, forward only", model, threads,
                     float(figures["body_median_ms"]), mark))
    elif engine == "qseg-float":
        rows.append(("qseg float (reference kernels)", model, threads, median, mark))

print("| engine | model | threads | median ms | ratio to qseg int8 (same threads) |")
print("|---|---|---|---|---|")
for label, model, threads, ms, note in rows:
    if ms is None:
        print("| %s | %s | %s | %s | - |" % (label, model, threads, note))
        continue
    base = int8.get((model, threads))
    ratio = "%.2fx" % (ms / base) if base else "-"
    print("| %s | %s | %s | %.1f%s | %s |" % (label, model, threads, ms, note, ratio))
print()
print("Medians of %s runs after warm-up (qseg float: %s); ratio = median / qseg int8's median "
      "(below 1: faster than qseg int8). Load average %s before, %s after."
      % (runs, float_runs, load_before, load_after))
if disturbed:
    print("* other processes used more than %.1f of a core during that run, even after "
          "retries: not a clean figure." % max_other)
EOF
