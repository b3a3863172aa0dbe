// Comparing two copies of a tensor, and two final outputs pixel by pixel (tensor_diff.h).
#include "tensor_diff.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace qseg::cli {
namespace {

template <typename T>
TensorDiff diff_values(const uint8_t* a_bytes, const uint8_t* b_bytes, int64_t n) {
  TensorDiff d;
  d.elements = n;
  const auto* a = reinterpret_cast<const T*>(a_bytes);
  const auto* b = reinterpret_cast<const T*>(b_bytes);
  double max_difference = 0, max_magnitude = 0;
  for (int64_t i = 0; i < n; ++i) {
    T x, y;
    std::memcpy(&x, a + i, sizeof(T));
    std::memcpy(&y, b + i, sizeof(T));
    if constexpr (std::is_floating_point_v<T>) {
      d.is_float = true;
      const bool same = x == y || (std::isnan(x) && std::isnan(y));
      d.equal += same;
      max_magnitude = std::max({max_magnitude, std::fabs(double{x}), std::fabs(double{y})});
      if (!same) {
        const double difference = std::fabs(double{x} - double{y});
        max_difference = std::isnan(difference) ? std::numeric_limits<double>::infinity()
                                                : std::max(max_difference, difference);
      }
    } else {
      const double steps = std::fabs(static_cast<double>(x) - static_cast<double>(y));
      d.equal += steps == 0;
      d.within_one += steps <= 1;
      d.max_steps = std::max(d.max_steps, steps);
    }
  }
  if (d.is_float) {
    d.within_one = d.equal;
    d.max_relative = max_difference == 0 ? 0
                     : max_magnitude > 0 ? max_difference / max_magnitude
                                         : std::numeric_limits<double>::infinity();
  }
  return d;
}

// Float rounding's bound for two score tensors of n values: 1e-5 of the largest magnitude in
// either.
double tie_tolerance(const float* a, const float* b, int64_t n) {
  double magnitude = 0;
  for (int64_t i = 0; i < n; ++i)
    magnitude = std::max({magnitude, std::fabs(double{a[i]}), std::fabs(double{b[i]})});
  return kFloatTolerance * magnitude;
}

// One pixel's scores on both sides, whose labels la and lb differ: a near tie when the two
// classes score within the tolerance on either side.
bool near_tie(const float* sa, const float* sb, int64_t la, int64_t lb, double tolerance) {
  auto tie = [tolerance](float x, float y) { return std::fabs(double{x} - y) <= tolerance; };
  return tie(sa[la], sa[lb]) || tie(sb[la], sb[lb]);
}

template <typename T>
LabelAgreement score_agreement(const T* a, const T* b, int64_t pixels, int classes) {
  LabelAgreement r;
  r.pixels = pixels;
  double tolerance = 0;
  if constexpr (std::is_floating_point_v<T>) tolerance = tie_tolerance(a, b, pixels * classes);
  for (int64_t p = 0; p < pixels; ++p) {
    const T* sa = a + p * classes;
    const T* sb = b + p * classes;
    const int la = static_cast<int>(std::max_element(sa, sa + classes) - sa);
    const int lb = static_cast<int>(std::max_element(sb, sb + classes) - sb);
    if (la == lb) {
      ++r.same;
    } else if constexpr (std::is_floating_point_v<T>) {
      r.near_ties += near_tie(sa, sb, la, lb, tolerance);
    }
  }
  return r;
}

}  // namespace

TensorDiff diff_tensor(const Tensor& t, std::span<const uint8_t> a, std::span<const uint8_t> b) {
  const int64_t n = t.num_elements();
  switch (t.type) {
    case DataType::kUInt8:
      return diff_values<uint8_t>(a.data(), b.data(), n);
    case DataType::kInt8:
      return diff_values<int8_t>(a.data(), b.data(), n);
    case DataType::kInt16:
      return diff_values<int16_t>(a.data(), b.data(), n);
    case DataType::kInt32:
      return diff_values<int32_t>(a.data(), b.data(), n);
    case DataType::kInt64:
      return diff_values<int64_t>(a.data(), b.data(), n);
    case DataType::kFloat32:
      return diff_values<float>(a.data(), b.data(), n);
    case DataType::kBool:
      return diff_values<uint8_t>(a.data(), b.data(), n);
  }
  return {};
}

LabelAgreement label_agreement(const Tensor& t, std::span<const uint8_t> a,
                               std::span<const uint8_t> b) {
  if (t.type == DataType::kInt64 || t.type == DataType::kInt32) {
    const TensorDiff d = diff_tensor(t, a, b);
    return {d.elements, d.equal, 0};
  }
  const int classes = t.shape.empty() ? 1 : std::max(1, t.shape.back());
  const int64_t pixels = t.num_elements() / classes;
  switch (t.type) {
    case DataType::kFloat32:
      return score_agreement(reinterpret_cast<const float*>(a.data()),
                             reinterpret_cast<const float*>(b.data()), pixels, classes);
    case DataType::kUInt8:
      return score_agreement(a.data(), b.data(), pixels, classes);
    case DataType::kInt8:
      return score_agreement(reinterpret_cast<const int8_t*>(a.data()),
                             reinterpret_cast<const int8_t*>(b.data()), pixels, classes);
    default:
      return {pixels, diff_tensor(t, a, b).equal, 0};
  }
}

LabelAgreement label_agreement_in_region(const Tensor& t, std::span<const uint8_t> a,
                                         std::span<const uint8_t> b, int rows, int cols) {
  LabelAgreement r;
  const bool labels = t.type == DataType::kInt64 || t.type == DataType::kInt32;
  if (!labels || t.shape.size() != 3 || t.shape[0] != 1 || rows > t.shape[1] || cols > t.shape[2])
    return r;
  const size_t element = data_type_size(t.type);
  for (int y = 0; y < rows; ++y) {
    const size_t row = static_cast<size_t>(y) * static_cast<size_t>(t.shape[2]) * element;
    const size_t bytes = static_cast<size_t>(cols) * element;
    for (size_t x = 0; x < bytes; x += element)
      r.same += std::memcmp(a.data() + row + x, b.data() + row + x, element) == 0;
  }
  r.pixels = static_cast<int64_t>(rows) * cols;
  return r;
}

LabelAgreement label_agreement_with_scores(const Tensor& labels, std::span<const uint8_t> a_labels,
                                           std::span<const uint8_t> b_labels,
                                           std::span<const float> a_scores,
                                           std::span<const float> b_scores, int classes) {
  const int64_t pixels = labels.num_elements();
  auto label_at = [&labels](std::span<const uint8_t> bytes, int64_t p) -> int64_t {
    if (labels.type == DataType::kInt64) {
      int64_t v;
      std::memcpy(&v, bytes.data() + p * sizeof(int64_t), sizeof v);
      return v;
    }
    int32_t v;
    std::memcpy(&v, bytes.data() + p * sizeof(int32_t), sizeof v);
    return v;
  };
  LabelAgreement r;
  r.pixels = pixels;
  const bool scored =
      classes > 0 &&
      a_scores.size() == static_cast<size_t>(pixels) * static_cast<size_t>(classes) &&
      b_scores.size() == a_scores.size();
  const double tolerance =
      scored ? tie_tolerance(a_scores.data(), b_scores.data(), pixels * classes) : 0;
  for (int64_t p = 0; p < pixels; ++p) {
    const int64_t la = label_at(a_labels, p);
    const int64_t lb = label_at(b_labels, p);
    if (la == lb) {
      ++r.same;
    } else if (scored && la >= 0 && lb >= 0 && la < classes && lb < classes) {
      r.near_ties +=
          near_tie(a_scores.data() + p * classes, b_scores.data() + p * classes, la, lb, tolerance);
    }
  }
  return r;
}

nlohmann::json diff_json(const TensorDiff& d) {
  nlohmann::json j = {{"elements", d.elements}, {"equal", d.equal}};
  if (d.is_float) {
    j["max_relative_difference"] = d.max_relative;
  } else {
    j["within_one_step"] = d.within_one;
    j["max_steps"] = d.max_steps;
  }
  return j;
}

}  // namespace qseg::cli
