// libFuzzer entry point of the tflite target; the body is qseg::fuzz::fuzz_tflite (fuzz_bodies.h).
// Most mutations are structural (tflite_mutator.h); the rest, and every input the reader refuses,
// go through libFuzzer's byte mutations, which test the reader itself.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_bodies.h"
#include "tflite_mutator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qseg::fuzz::fuzz_tflite({data, size});
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  if (seed % 3 != 0) {
    if (auto mutated = qseg::fuzz::mutate_tflite({data, size}, max_size, seed / 3)) {
      std::memcpy(data, mutated->data(), mutated->size());
      return mutated->size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
