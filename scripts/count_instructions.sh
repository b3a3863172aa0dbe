#!/usr/bin/env bash
# Instructions executed by one aarch64 inference, per kernel variant, counted under the emulator:
# qemu-aarch64-static logs every translated block with its instructions and every block it runs
# (-d in_asm,exec,nochain); bench/tools/qemu_instruction_count sums them between the markers
# `qseg run` calls around its first inference. A proxy for device speed, honest about being one:
# it counts instructions, not cycles (no caches, no pipelines, no memory bandwidth).
#
#   scripts/count_instructions.sh [MODEL] [KERNELS...]
#
# MODEL defaults to the published dm0.5 model, KERNELS to reference neon neon-dotprod; one thread,
# the bird photo at 513x513. Needs build-aarch64 (scripts/test_aarch64.sh). The reference run takes
# about 25 minutes (8 billion instructions): the log is read as it is written, through a FIFO,
# never stored.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd "${QSEG_SHARED:-../shared}" && pwd)
model=${1:-$shared/models/deeplabv3_mnv2_dm05_pascal_quant.tflite}
shift || true
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(reference neon neon-dotprod)
qseg=build-aarch64/qseg
if [ ! -x "$qseg" ]; then
  echo "scripts/count_instructions.sh: $qseg not built; run scripts/test_aarch64.sh first" >&2
  exit 1
fi
if [ ! -f "$model" ]; then
  echo "scripts/count_instructions.sh: no model at $model" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
counter=build-aarch64/qemu_instruction_count
c++ -O2 -std=c++17 -o "$counter" bench/tools/qemu_instruction_count.cc
gzip -dc "$shared/golden/bird_segmentation_513.rgb.gz" >"$work/input.rgb"

declare -A count
for k in "${kernels[@]}"; do
  mkfifo "$work/log"
  "$counter" "$work/log" qseg_inference_begin qseg_inference_end >"$work/count" &
  counter_pid=$!
  qemu-aarch64-static -d in_asm,exec,nochain -D "$work/log" "$qseg" run --model "$model" \
    --input "$work/input.rgb" --output "$work/out_$k" --kernels "$k" --threads 1 >/dev/null
  wait "$counter_pid"
  rm "$work/log"
  count[$k]=$(awk '/^instructions/ {print $2}' "$work/count")
  # Emulated time, without the log: a second proxy, labelled as such.
  start=$(date +%s.%N)
  qemu-aarch64-static "$qseg" run --model "$model" --input "$work/input.rgb" \
    --output "$work/out_$k" --kernels "$k" --threads 1 --repeat 3 >"$work/run"
  ms=$(sed -n 's/.* in \([0-9.]*\) ms.*/\1/p' "$work/run")
  printf '%-14s %15s instructions   %9s ms emulated (median of 3)\n' "$k" "${count[$k]}" "$ms"
  if [ "$k" != "${kernels[0]}" ] && ! cmp -s "$work/out_${kernels[0]}" "$work/out_$k"; then
    echo "scripts/count_instructions.sh: $k's output differs from ${kernels[0]}'s" >&2
    exit 1
  fi
done
first=${kernels[0]}
for k in "${kernels[@]:1}"; do
  awk -v a="${count[$first]}" -v b="${count[$k]}" -v n="$k" -v f="$first" \
    'BEGIN { printf "%s / %s: %.2fx the instructions\n", f, n, a / b }'
done
