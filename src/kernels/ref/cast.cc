// CAST reference kernel: one conversion loop per (input, output) type pair.
#include "kernels/cast.h"

#include <cmath>
#include <limits>
#include <type_traits>

namespace qseg::kernels::ref {

namespace {

// static_cast, made total for floats: truncation toward zero, saturation outside the target
// type, NaN to 0 (the cases TFLite leaves undefined).
template <typename To, typename From>
To convert(From value) {
  if constexpr (std::is_same_v<To, bool>) {
    return value != From{0};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (std::isnan(value)) return To{0};
    // In double: the bounds of every integer type up to int32 are exact there, and int64's
    // (-2^63, and 2^63 - 1 rounded up to 2^63) saturate the right values.
    const double truncated = std::trunc(static_cast<double>(value));
    if (truncated <= static_cast<double>(std::numeric_limits<To>::min()))
      return std::numeric_limits<To>::min();
    if (truncated >= static_cast<double>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    return static_cast<To>(truncated);
  } else {
    return static_cast<To>(value);
  }
}

template <typename From, typename To>
void cast_loop(const void* input, void* output, int64_t begin, int64_t end) {
  auto* out = static_cast<To*>(output);
  if constexpr (std::is_same_v<From, bool>) {
    // A bool's byte is read as a byte: any non-zero value is true (loading a bool that is not
    // 0 or 1 would be undefined behaviour).
    const auto* in = static_cast<const uint8_t*>(input);
    for (int64_t i = begin; i < end; ++i) out[i] = convert<To>(static_cast<uint8_t>(in[i] != 0));
  } else {
    const auto* in = static_cast<const From*>(input);
    for (int64_t i = begin; i < end; ++i) out[i] = convert<To>(in[i]);
  }
}

template <typename From>
void cast_from(DataType to, const void* input, void* output, int64_t begin, int64_t end) {
  switch (to) {
    case DataType::kFloat32:
      return cast_loop<From, float>(input, output, begin, end);
    case DataType::kInt32:
      return cast_loop<From, int32_t>(input, output, begin, end);
    case DataType::kInt64:
      return cast_loop<From, int64_t>(input, output, begin, end);
    case DataType::kInt16:
      return cast_loop<From, int16_t>(input, output, begin, end);
    case DataType::kUInt8:
      return cast_loop<From, uint8_t>(input, output, begin, end);
    case DataType::kInt8:
      return cast_loop<From, int8_t>(input, output, begin, end);
    case DataType::kBool:
      return cast_loop<From, bool>(input, output, begin, end);
  }
}

}  // namespace

void cast(const CastParams& p, const void* input, void* output, int64_t begin, int64_t end) {
  switch (p.input_type) {
    case DataType::kFloat32:
      return cast_from<float>(p.output_type, input, output, begin, end);
    case DataType::kInt32:
      return cast_from<int32_t>(p.output_type, input, output, begin, end);
    case DataType::kInt64:
      return cast_from<int64_t>(p.output_type, input, output, begin, end);
    case DataType::kInt16:
      return cast_from<int16_t>(p.output_type, input, output, begin, end);
    case DataType::kUInt8:
      return cast_from<uint8_t>(p.output_type, input, output, begin, end);
    case DataType::kInt8:
      return cast_from<int8_t>(p.output_type, input, output, begin, end);
    case DataType::kBool:
      return cast_from<bool>(p.output_type, input, output, begin, end);
  }
}

}  // namespace qseg::kernels::ref
