#!/usr/bin/env bash
# Instructions executed by one aarch64 inference, per engine, counted under the emulator:
# qemu-aarch64-static logs every translated block with its instructions and every block it runs
# (-d in_asm,exec,nochain); bench/tools/qemu_instruction_count sums them between the markers that
# `qseg run` and qseg_xnnpack_bench call around their first inference, and splits them per op. A
# proxy for device speed, honest about being one: it counts instructions, not cycles (no caches,
# no pipelines, no memory bandwidth).
#
#   scripts/count_instructions.sh [MODEL.tflite] [ENGINE...]
#
# ENGINE: reference, neon, neon-dotprod (qseg's kernels, `qseg run --kernels`) or xnnpack (native
# XNNPACK QU8 op by op, bench/xnnpack_bench.cc: Debian's arm64 library choosing its own kernels);
# default neon neon-dotprod xnnpack. The reference kernels take about 25 minutes (8 billion
# instructions): name them to count them. MODEL defaults to the published dm0.5 model; one
# thread, the bird photo at 513x513, qseg's default requantization. Prints per engine the count,
# the dot product instructions (UDOT/SDOT) among them, the emulated time, the functions that ran
# most (QSEG_COUNT_TOP, default 6) and at the end the ratios and the instructions per op type.
# Needs build-aarch64 (scripts/test_aarch64.sh; xnnpack also scripts/setup.sh's arm64 XNNPACK).
# The log is read as it is written, through a FIFO, never stored. The emulated CPU is qemu's
# default (max: it reports the dot product); QEMU_CPU=cortex-a53 emulates one without.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd "${QSEG_SHARED:-../shared}" && pwd)
model=$shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite
if [ $# -gt 0 ] && [[ "$1" == *.tflite ]]; then
  model=$1
  shift
fi
engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(neon neon-dotprod xnnpack)
top=${QSEG_COUNT_TOP:-6}
qseg=build-aarch64/qseg
xnnpack_bench=build-aarch64/bench/qseg_xnnpack_bench
fail() {
  echo "scripts/count_instructions.sh: $*" >&2
  exit 1
}
[ -x "$qseg" ] || fail "$qseg not built; run scripts/test_aarch64.sh first"
[ -f "$model" ] || fail "no model at $model"
for e in "${engines[@]}"; do
  case $e in
    reference | neon | neon-dotprod) ;;
    xnnpack)
      [ -x "$xnnpack_bench" ] || fail "$xnnpack_bench not built (scripts/setup.sh unpacks \
Debian's arm64 XNNPACK into /opt/qseg-arm64; then scripts/test_aarch64.sh)" ;;
    *) fail "unknown engine '$e' (reference, neon, neon-dotprod, xnnpack)" ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
counter=build-aarch64/qemu_instruction_count
c++ -O2 -std=c++17 -o "$counter" bench/tools/qemu_instruction_count.cc
gzip -dc "$shared/golden/bird_segmentation_513.rgb.gz" >"$work/input.rgb"
# The real TFLite's labels for this model, when the shared folder has them.
case $(basename "$model") in
  deeplabv3_mnv2_dm05_pascal_quant.tflite) golden=$shared/golden/dm05_bird_argmax.u8 ;;
  deeplabv3_mnv2_pascal_quant.tflite) golden=$shared/golden/dm10_bird_argmax.u8 ;;
  *) golden= ;;
esac
# The op types in order, for the per-op split.
qemu-aarch64-static "$qseg" inspect --model "$model" |
  awk '$1 ~ /^[0-9]+$/ && NF > 1 {print $2}' >"$work/op_types"

# Names for the blocks of the bench's shared libraries, which qemu does not name: each library's
# exported functions (nm -D) at the address the bench reports it loaded at. Addresses under the
# emulator do not move between runs; the counting run reports them again and is checked.
xnnpack_symbols() {
  qemu-aarch64-static "$xnnpack_bench" --objects >"$work/objects"
  : >"$work/symbols"
  while read -r _ path start end bias; do
    [ -f "$path" ] || continue
    printf 'object %s %s %s:unexported\n' "$start" "$end" "$(basename "$path")" >>"$work/symbols"
    aarch64-linux-gnu-nm -D --defined-only -S "$path" 2>/dev/null |
      while read -r value size type name; do
        [ -n "${name:-}" ] && [[ "$type" == [TtWi] ]] || continue
        printf 'function %x %x %s\n' $((0x$bias + 0x$value)) $((0x$bias + 0x$value + 0x$size)) \
          "$name"
      done >>"$work/symbols"
  done <"$work/objects"
}

# How many labels two files share: FILE_A BYTES_PER_LABEL_A FILE_B BYTES_PER_LABEL_B.
agreement() {
  paste <(od -An -v -tu"$2" -w"$2" "$1") <(od -An -v -tu"$4" -w"$4" "$3") |
    awk '{n++; if ($1 == $2) same++} END {printf "%d of %d pixels (%.3f%%)", same, n, 100 * same / n}'
}

declare -A count dot ms
qseg_first=
for e in "${engines[@]}"; do
  counter_args=(qseg_inference_begin qseg_inference_end "$top" --split qseg_op_end)
  if [ "$e" = xnnpack ]; then
    xnnpack_symbols
    counter_args+=(--symbols "$work/symbols")
    program=("$xnnpack_bench" --model "$model" --input "$work/input.rgb" --threads 1 --warmup 0
      --runs 1 --objects --output-raw "$work/out_$e")
  else
    program=("$qseg" run --model "$model" --input "$work/input.rgb" --output "$work/out_$e"
      --kernels "$e" --threads 1)
  fi
  mkfifo "$work/log"
  "$counter" "$work/log" "${counter_args[@]}" >"$work/count_$e" &
  counter_pid=$!
  nice -n 10 qemu-aarch64-static -d in_asm,exec,nochain -D "$work/log" "${program[@]}" \
    >"$work/run_$e"
  wait "$counter_pid" || fail "$e: counting failed: $(cat "$work/count_$e")"
  rm "$work/log"
  if [ "$e" = xnnpack ] && ! diff -q <(grep '^object ' "$work/run_$e") "$work/objects" >/dev/null; then
    echo "note: the libraries moved between runs; XNNPACK's function names are not reliable"
  fi
  count[$e]=$(awk '/^instructions/ {print $2}' "$work/count_$e")
  dot[$e]=$(awk '/^dot_product_instructions/ {print $2}' "$work/count_$e")
  # Emulated time, without the log: a second proxy, labelled as such (median of 3 inferences).
  if [ "$e" = xnnpack ]; then
    nice -n 10 qemu-aarch64-static "$xnnpack_bench" --model "$model" --input "$work/input.rgb" \
      --threads 1 --warmup 0 --runs 3 --output-raw "$work/time_out" >"$work/time_$e"
    ms[$e]=$(sed -n 's/^whole: median \([0-9.]*\) ms.*/\1/p' "$work/time_$e")
  else
    nice -n 10 qemu-aarch64-static "$qseg" run --model "$model" --input "$work/input.rgb" \
      --output "$work/time_out" --kernels "$e" --threads 1 --repeat 3 >"$work/time_$e"
    ms[$e]=$(sed -n 's/.* in \([0-9.]*\) ms.*/\1/p' "$work/time_$e")
  fi
  printf '%-14s %15s instructions (%s dot product)   %9s ms emulated (median of 3)\n' "$e" \
    "${count[$e]}" "${dot[$e]}" "${ms[$e]}"
  grep '^  ' "$work/count_$e" || true
  if [ "$e" != xnnpack ]; then
    if [ -z "$qseg_first" ]; then
      qseg_first=$e
    elif ! cmp -s "$work/out_$qseg_first" "$work/out_$e"; then
      fail "$e's output differs from $qseg_first's"
    fi
  fi
  width=$(($(stat -c %s "$work/out_$e") * 3 / $(stat -c %s "$work/input.rgb")))  # int64 or int32
  if [ -n "$golden" ]; then
    echo "  labels equal to the real TFLite's: $(agreement "$work/out_$e" "$width" "$golden" 1)"
  fi
done
if [ -n "$qseg_first" ] && [ -n "${count[xnnpack]:-}" ]; then
  echo "XNNPACK's labels equal to qseg's: $(agreement "$work/out_xnnpack" "$width" \
    "$work/out_$qseg_first" "$width")"
fi

echo
if [ -n "${count[reference]:-}" ]; then
  for e in "${engines[@]}"; do
    [ "$e" = reference ] && continue
    awk -v a="${count[reference]}" -v b="${count[$e]}" -v n="$e" \
      'BEGIN { printf "reference / %s: %.2fx the instructions\n", n, a / b }'
  done
fi
if [ -n "${count[xnnpack]:-}" ]; then
  for e in "${engines[@]}"; do
    [ "$e" = xnnpack ] && continue
    awk -v a="${count[$e]}" -v b="${count[xnnpack]}" -v n="$e" \
      'BEGIN { printf "%s / xnnpack: %.3fx the instructions\n", n, a / b }'
  done
fi

# Per op type: segment i of a run is op i; (rest) is what ran after the last op.
echo
printf '%-22s' "op type (ops)"
for e in "${engines[@]}"; do printf ' %14s %11s' "$e" "(dot)"; done
echo
for e in "${engines[@]}"; do
  awk -v types="$work/op_types" '
    BEGIN { while ((getline t < types) > 0) type[n++] = t }
    /^segment / {
      name = ($2 < n) ? type[$2] : "(rest)"
      sum[name] += $3; dots[name] += $4; ops[name]++
    }
    END { for (t in sum) printf "%s %d %d %d\n", t, ops[t], sum[t], dots[t] }' "$work/count_$e" |
    sort >"$work/by_type_$e"
done
cut -d' ' -f1,2 "$work/by_type_${engines[0]}" | while read -r type ops; do
  printf '%-22s' "$type ($ops)"
  for e in "${engines[@]}"; do
    printf ' %14s %11s' $(awk -v t="$type" '$1 == t {print $3, $4}' "$work/by_type_$e")
  done
  echo
done
