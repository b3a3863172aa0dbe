// libFuzzer entry point of the cli target; the body is qseg::fuzz::fuzz_cli (fuzz_bodies.h).
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qseg::fuzz::fuzz_cli({data, size});
  return 0;
}
