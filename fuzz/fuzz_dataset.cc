// libFuzzer entry point of the dataset target; the body is qseg::fuzz::fuzz_dataset
// (fuzz_bodies.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qseg::fuzz::fuzz_dataset({data, size});
  return 0;
}
