// What each fuzz target does with one input, as plain functions: the libFuzzer entry points in
// fuzz/fuzz_*.cc and the regression test (tests/fuzz_regression_test.cc) call the same code, so
// an input that once crashed a target is replayed exactly in the normal test suite.
//
// Every function accepts any bytes: errors are expected and ignored; only a crash, a sanitizer
// report, a hang or an out-of-memory is a finding. Nothing touches the disk.
#pragma once

#include <cstdint>
#include <span>

namespace qseg::fuzz {

// read_tflite with small limits, Interpreter::create, and invoke() when the inputs are small;
// the last byte's low bit picks the reference or the optimized kernels.
void fuzz_tflite(std::span<const uint8_t> bytes);
// decode_image and decode_label_image with small limits; small label maps are re-encoded as
// palette PNGs and must decode to the same ids.
void fuzz_image(std::span<const uint8_t> bytes);
// parse_split on the bytes as a split file's text; decode_label_image then check_labels.
void fuzz_dataset(std::span<const uint8_t> bytes);
// decode_checkpoint on the bytes as given and with the trailing hash made right (to get past
// it), then the model config and the export of the frozen graph when the header allows.
void fuzz_checkpoint(std::span<const uint8_t> bytes);
// The bytes as a TOML flag file applied to `qseg segment` and `qseg eval`, then as a command
// line (one argument per line) parsed by the qseg app's torch-free subcommands. No action runs.
void fuzz_cli(std::span<const uint8_t> bytes);

}  // namespace qseg::fuzz
