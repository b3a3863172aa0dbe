#!/usr/bin/env bash
# Builds and runs every test: first the Release build, then a sample of the conformance run
# against the real TFLite (scripts/conformance.sh; QSEG_CONFORMANCE_SAMPLE photos per folder),
# then the suite again under AddressSanitizer + UndefinedBehaviorSanitizer (clang; all but its
# slowest suites, see below), then
# each libFuzzer target for 40 seconds (scripts/fuzz.sh, in the same clang tree as the
# sanitizer tests; QSEG_FUZZ_SECONDS sets the time),
# with the aarch64 device build and its tests under emulation (scripts/test_aarch64.sh) before
# the fuzzing. Set
# QSEG_SKIP_SANITIZERS=1, QSEG_SKIP_AARCH64=1 or QSEG_SKIP_FUZZ=1 to leave those out while
# iterating.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

# Each phase's wall time, printed as it ends and all together at the end (CI's budget is 60 min).
phase_name="" phase_start=$SECONDS timings=""
phase() {  # NAME: ends the phase running, starts NAME ("" ends the last)
  if [ -n "$phase_name" ]; then
    local took=$((SECONDS - phase_start))
    echo "== $phase_name: ${took} s"
    timings="$timings$(printf '%6d s  %s' "$took" "$phase_name")"$'\n'
  fi
  phase_name=$1 phase_start=$SECONDS
  if [ -n "$phase_name" ]; then echo "== $phase_name"; fi
}
trap 'phase ""; printf "== phase times\n%s== total %d s\n" "$timings" "$SECONDS"' EXIT

phase "Release build"
scripts/build.sh "$@"
phase "Release tests"
ctest --test-dir build --output-on-failure --parallel "$jobs"

# The shared folder given to CMake is the conformance run's and the fuzzers' too.
for arg in "$@"; do
  case "$arg" in -DQSEG_SHARED_DIR=*) export QSEG_SHARED="${arg#-DQSEG_SHARED_DIR=}" ;; esac
done

phase "qseg against the real TFLite: ${QSEG_CONFORMANCE_SAMPLE:-10} photos of each shared folder, every shared and converted model"
# (ctest installed the oracle into build/tflite-oracle; scripts/conformance.sh without --sample
# runs every photo.)
scripts/conformance.sh --sample "${QSEG_CONFORMANCE_SAMPLE:-10}" --converted

# One clang tree serves the sanitizer tests and the fuzzers: built with ASan + UBSan and the
# fuzzers' coverage instrumentation (QSEG_FUZZ), it holds the tests and the fuzz targets, so the
# libraries are compiled once for both (a separate fuzz tree took about 500 s of CI to build).
# Line tables only as debug information: stack traces keep file and line, the build is ~10%
# faster.
clang_tree=build-asan
if [ "${QSEG_SKIP_SANITIZERS:-0}" != 1 ] || [ "${QSEG_SKIP_FUZZ:-0}" != 1 ]; then
  phase "ASan + UBSan build (with the fuzz targets)"
  CC=clang CXX=clang++ cmake -S . -B "$clang_tree" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
    -DQSEG_SANITIZE=ON -DQSEG_FUZZ=ON "$@" >/dev/null
  cmake --build "$clang_tree" --parallel "$jobs"
fi

if [ "${QSEG_SKIP_SANITIZERS:-0}" != 1 ]; then
  phase "ASan + UBSan tests"
  # The 11 slowest tests are left out here (QSEG_ASAN_ALL=1 runs them): under ASan on a 2-core
  # AMD EPYC the first nine took 1095 of the suite's 2033 test-seconds (1175 s of wall time),
  # spent in libtorch and the real TFLite more than in qseg's code, whose paths the Release run above and
  # the faster suites here (Replicas*, KillResume*, RealTflite.*, ConvertTest.*) go through
  # under the sanitizers too. TrainerTest.TinyDeepLabLearns... 371 s,
  # DistributedTrainingTest.{TwoReplicas..., ResumesWithAnotherWorldSize, Transfer...} 130, 106,
  # 100 s, RealTfliteDecoder.* 56-130 s each; ShippedModels.CardsVocValNumbersReproduce (two
  # evaluations of 198 photos, the eval path every eval test runs) 133 s;
  # RealTflite.ConvertedModelsAgreeWithQseg (trains, converts and runs five models) 1002 s in the
  # tree that also carries the fuzzers' coverage, on a loaded 2-core Xeon (184 s in Release),
  # alone at the end of the phase; ConvertTest.* and ConvertCliTest.* take its path here.
  asan_exclude="^(DistributedTrainingTest\.(TwoReplicasWithBatchBEqualOneProcessWithBatch2B|ResumesWithAnotherWorldSize|TransferToNewClassesWithReplicasEqualsOneProcess)|RealTfliteDecoder\..*|TrainerTest\.TinyDeepLabLearnsFloatAndQuantizationAware|ShippedModels\.CardsVocValNumbersReproduce|RealTflite\.ConvertedModelsAgreeWithQseg)$"
  [ "${QSEG_ASAN_ALL:-0}" = 1 ] && asan_exclude="^$"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$clang_tree" --output-on-failure --parallel "$jobs" -E "$asan_exclude"
fi

if [ "${QSEG_SKIP_AARCH64:-0}" != 1 ]; then
  phase "aarch64 device build and tests (cross-built, tests under qemu-aarch64-static)"
  scripts/test_aarch64.sh "$@"
fi

if [ "${QSEG_SKIP_FUZZ:-0}" != 1 ]; then
  phase "Fuzz targets (scripts/fuzz.sh): build, then ${QSEG_FUZZ_SECONDS:-40} s each"
  QSEG_FUZZ_BUILD_JOBS=$jobs scripts/fuzz.sh all "${QSEG_FUZZ_SECONDS:-40}" "$clang_tree"
fi
