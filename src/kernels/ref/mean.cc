// MEAN reference kernels (uint8, int8, float32): each output element sums its reduced elements.
#include "kernels/mean.h"

#include <array>

namespace qseg::kernels::ref {

namespace {

// The input offset of output element `o`'s first reduced element.
int64_t base_offset(const MeanParams& p, int64_t o) {
  int64_t base = 0;
  for (int32_t d = p.kept_rank - 1; d >= 0; --d) {
    base += (o % p.kept_dims[d]) * p.kept_strides[d];
    o /= p.kept_dims[d];
  }
  return base;
}

// The offset from the base of the n-th reduced element (in input order).
int64_t reduced_offset(const MeanParams& p, int64_t n) {
  int64_t offset = 0;
  for (int32_t d = p.reduced_rank - 1; d >= 0; --d) {
    offset += (n % p.reduced_dims[d]) * p.reduced_strides[d];
    n /= p.reduced_dims[d];
  }
  return offset;
}

// Calls f(input_index) for every input element of output element `o`, in input order.
template <typename F>
void for_each_reduced(const MeanParams& p, int64_t o, F f) {
  const int64_t base = base_offset(p, o);
  std::array<int64_t, MeanParams::kMaxRank> index{};
  for (int64_t n = 0; n < p.count; ++n) {
    int64_t offset = base;
    for (int32_t d = 0; d < p.reduced_rank; ++d) offset += index[d] * p.reduced_strides[d];
    f(offset);
    for (int32_t d = p.reduced_rank - 1; d >= 0; --d) {
      if (++index[d] < p.reduced_dims[d]) break;
      index[d] = 0;
    }
  }
}

template <typename T>
void mean_quantized(const MeanParams& p, const T* input, T* output, int64_t begin, int64_t end) {
  for (int64_t o = begin; o < end; ++o) {
    int64_t sum = 0;
    for_each_reduced(p, o, [&](int64_t i) { sum += input[i]; });
    const int32_t v = p.xnnpack
                          ? quant::mean_xnnpack(static_cast<int32_t>(sum), *p.xnnpack, p.range)
                          : quant::mean_quantized(sum, p.quantization, p.range);
    output[o] = static_cast<T>(v);
  }
}

// XNNPACK's float sum of `count` values read by value(n): rows 7 at a time, each group added as a
// tree ((v0 + v1) + v6) + ((v2 + v3) + (v4 + v5)) for the first seven and
// ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + sum so far)) after them; missing rows of the last
// group are 0.
template <typename F>
float xnnpack_sum(int64_t count, F value) {
  auto at = [&](int64_t n) { return n < count ? value(n) : 0.0f; };
  float sum = ((at(0) + at(1)) + at(6)) + ((at(2) + at(3)) + (at(4) + at(5)));
  for (int64_t n = 7; n < count; n += 7) {
    sum = ((at(n) + at(n + 1)) + (at(n + 2) + at(n + 3))) +
          ((at(n + 4) + at(n + 5)) + (at(n + 6) + sum));
  }
  return sum;
}

}  // namespace

void mean_uint8(const MeanParams& params, const uint8_t* input, uint8_t* output, int64_t begin,
                int64_t end) {
  mean_quantized(params, input, output, begin, end);
}

void mean_int8(const MeanParams& params, const int8_t* input, int8_t* output, int64_t begin,
               int64_t end) {
  mean_quantized(params, input, output, begin, end);
}

void mean_float(const MeanParams& p, const float* input, float* output, int64_t begin,
                int64_t end) {
  if (p.xnnpack_float) {
    const float scale = 1.0f / static_cast<float>(p.count);
    for (int64_t o = begin; o < end; ++o) {
      const float* base = input + base_offset(p, o);
      output[o] =
          xnnpack_sum(p.count, [&](int64_t n) { return base[reduced_offset(p, n)]; }) * scale;
    }
    return;
  }
  for (int64_t o = begin; o < end; ++o) {
    float sum = 0.0f;
    for_each_reduced(p, o, [&](int64_t i) { sum += input[i]; });
    output[o] = sum / static_cast<float>(p.count);
  }
}

}  // namespace qseg::kernels::ref
