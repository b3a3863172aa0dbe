// What qseg accepts from the files it reads, checked before it allocates: model files (the
// .tflite reader) and images (the decoders). Kept C++17 and free of other headers so that every
// part of qseg, training included, can carry them.
#pragma once

#include <cstdint>

namespace qseg {

// What a model file may declare, checked by the .tflite reader. Defaults fit a device (the
// published DeepLab models are 0.8-2.2 MB with about 100 ops); the command line raises them
// (--max-model-mb, --max-tensor-mb, --max-ops, --max-tensors).
struct ModelLimits {
  int64_t max_file_bytes = int64_t{256} << 20;  // 256 MiB (FlatBuffers itself stops at 2 GiB)
  int64_t max_tensors = 50000;
  int64_t max_ops = 10000;
  int32_t max_rank = 8;
  int64_t max_tensor_bytes = int64_t{256} << 20;  // per tensor
};

// What an image file may declare, checked before decoding (src/imgproc/image_io.h), so a crafted
// header cannot make qseg reserve gigabytes. Defaults fit a device (64 Mi pixels is an 8192 x 8192
// photo); --max-image-mp raises them.
struct ImageLimits {
  int64_t max_pixels = int64_t{1} << 26;  // width * height
  int max_side = 65535;                   // width and height each
  int64_t max_file_bytes = int64_t{256} << 20;
};

}  // namespace qseg
