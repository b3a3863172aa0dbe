#include "tflite_mutator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "qseg/tflite.h"

namespace qseg::fuzz {
namespace {

// Constant data is regenerated after a shape or type change only up to this size, so one mutated
// model stays small and fast to run.
constexpr int64_t kMaxMutatedDataBytes = int64_t{64} << 10;
constexpr int kTries = 4;

using Rng = std::minstd_rand;

uint32_t below(Rng& rng, uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng() % n); }
bool one_in(Rng& rng, uint32_t n) { return below(rng, n) == 0; }

template <typename T, size_t N>
T pick(Rng& rng, const T (&values)[N]) {
  return values[below(rng, N)];
}

// Sizes, strides, dilations, axes: mostly small, sometimes at the edges of int32.
int32_t interesting_int(Rng& rng, int32_t current) {
  static constexpr int32_t kValues[] = {0,
                                        1,
                                        2,
                                        3,
                                        4,
                                        5,
                                        7,
                                        8,
                                        16,
                                        33,
                                        -1,
                                        -2,
                                        255,
                                        256,
                                        65535,
                                        65536,
                                        1 << 20,
                                        1 << 28,
                                        1 << 30,
                                        std::numeric_limits<int32_t>::max(),
                                        std::numeric_limits<int32_t>::min()};
  switch (below(rng, 4)) {
    case 0: {
      const int64_t next = int64_t{current} + (one_in(rng, 2) ? 1 : -1);
      return static_cast<int32_t>(std::clamp<int64_t>(next, std::numeric_limits<int32_t>::min(),
                                                      std::numeric_limits<int32_t>::max()));
    }
    case 1:
      return static_cast<int32_t>(below(rng, 10));
    default:
      return pick(rng, kValues);
  }
}

float interesting_scale(Rng& rng) {
  static constexpr float kValues[] = {1e-45f,     1e-38f,     1e-20f, 1e-10f, 1e-6f, 1.0f / 256,
                                      1.0f / 128, 0.0078125f, 0.02f,  0.5f,   1.0f,  2.0f,
                                      255.0f,     65536.0f,   1e10f,  1e20f,  3e38f};
  if (one_in(rng, 3))
    return std::ldexp(1.0f + static_cast<float>(below(rng, 1000)) / 1000.0f,
                      static_cast<int>(below(rng, 60)) - 30);
  return pick(rng, kValues);
}

int64_t interesting_zero_point(Rng& rng) {
  static constexpr int64_t kValues[] = {0,   1,   -1,     127,   128,   -128, -129, 255,
                                        256, 100, -32768, 32767, 65535, 64,   200};
  return pick(rng, kValues);
}

DataType random_type(Rng& rng) {
  static constexpr DataType kTypes[] = {DataType::kFloat32, DataType::kInt32, DataType::kUInt8,
                                        DataType::kInt64,   DataType::kInt8,  DataType::kInt16,
                                        DataType::kBool};
  return pick(rng, kTypes);
}

// Bytes that, read as any type, include the edge values: 0x00, 0xFF, 0x80, 0x7F patterns, NaN
// and infinity for floats.
void fill_random(std::vector<uint8_t>& data, Rng& rng) {
  static constexpr uint8_t kBytes[] = {0x00, 0xFF, 0x80, 0x7F, 0x01, 0x7F, 0xC0, 0x3F};
  for (uint8_t& byte : data)
    byte = one_in(rng, 2) ? pick(rng, kBytes) : static_cast<uint8_t>(rng());
}

// Makes a constant's data fit its (new) shape and type again, when that is small enough.
void refit_data(Tensor& t, Rng& rng) {
  if (!t.is_constant && t.data.empty()) return;
  int64_t elements = 1;
  for (int32_t d : t.shape) {
    if (d < 0) return;
    if (d > 0 && elements > kMaxMutatedDataBytes / d) return;
    elements *= d;
  }
  const int64_t bytes = elements * static_cast<int64_t>(data_type_size(t.type));
  if (bytes > kMaxMutatedDataBytes) return;
  const size_t old_size = t.data.size();
  t.data.resize(static_cast<size_t>(bytes));
  if (t.data.size() > old_size) {
    std::vector<uint8_t> tail(t.data.size() - old_size);
    fill_random(tail, rng);
    std::copy(tail.begin(), tail.end(), t.data.begin() + static_cast<std::ptrdiff_t>(old_size));
  }
}

void mutate_shape(Tensor& t, Rng& rng) {
  switch (below(rng, 5)) {
    case 0:
      if (t.shape.size() < 9)
        t.shape.insert(t.shape.begin() + below(rng, static_cast<uint32_t>(t.shape.size() + 1)),
                       static_cast<int32_t>(below(rng, 4)));
      break;
    case 1:
      if (!t.shape.empty()) t.shape.erase(t.shape.begin() + below(rng, t.shape.size()));
      break;
    default:
      if (!t.shape.empty()) {
        int32_t& d = t.shape[below(rng, t.shape.size())];
        d = interesting_int(rng, d);
      }
      break;
  }
  refit_data(t, rng);
}

void mutate_quant(Tensor& t, Rng& rng) {
  Quantization& q = t.quant;
  switch (below(rng, 7)) {
    case 0:
      q = {};
      break;
    case 1:  // per tensor
      q.scale = {interesting_scale(rng)};
      q.zero_point = {interesting_zero_point(rng)};
      q.quantized_dimension = 0;
      break;
    case 2:
      if (!q.scale.empty()) q.scale[below(rng, q.scale.size())] = interesting_scale(rng);
      break;
    case 3:
      if (!q.zero_point.empty())
        q.zero_point[below(rng, q.zero_point.size())] = interesting_zero_point(rng);
      break;
    case 4: {  // per channel along a dimension
      if (t.shape.empty()) break;
      const uint32_t dim = below(rng, t.shape.size());
      const int32_t channels = t.shape[dim];
      if (channels <= 1 || channels > 4096) break;
      q.quantized_dimension = static_cast<int32_t>(dim);
      q.scale.assign(static_cast<size_t>(channels), interesting_scale(rng));
      q.zero_point.assign(static_cast<size_t>(channels),
                          one_in(rng, 2) ? 0 : interesting_zero_point(rng));
      for (float& s : q.scale)
        if (one_in(rng, 4)) s = interesting_scale(rng);
      break;
    }
    case 5:
      q.quantized_dimension = interesting_int(rng, q.quantized_dimension);
      break;
    default:  // the range a frozen float graph carries
      if (q.min.empty() || one_in(rng, 2)) {
        const float lo = -interesting_scale(rng), hi = interesting_scale(rng);
        q.min = {one_in(rng, 4) ? 0.0f : lo};
        q.max = {one_in(rng, 4) ? q.min[0] : hi};
      } else {
        q.min.clear();
        q.max.clear();
      }
      break;
  }
}

void mutate_data(Tensor& t, Rng& rng) {
  if (t.data.empty()) return;
  const size_t width = data_type_size(t.type);
  const size_t count = 1 + below(rng, 8);
  for (size_t n = 0; n < count; ++n) {
    const size_t element = below(rng, static_cast<uint32_t>(t.data.size() / width));
    uint8_t* p = t.data.data() + element * width;
    if (t.type == DataType::kFloat32 && one_in(rng, 2)) {
      static constexpr float kFloats[] = {0.0f,
                                          -0.0f,
                                          1e-45f,
                                          1e38f,
                                          -1e38f,
                                          std::numeric_limits<float>::infinity(),
                                          -std::numeric_limits<float>::infinity(),
                                          std::numeric_limits<float>::quiet_NaN()};
      const float value = pick(rng, kFloats);
      std::memcpy(p, &value, sizeof value);
    } else if (t.type == DataType::kInt32 && one_in(rng, 2)) {
      static constexpr int32_t kInts[] = {0,
                                          -1,
                                          std::numeric_limits<int32_t>::max(),
                                          std::numeric_limits<int32_t>::min(),
                                          1 << 30,
                                          -(1 << 30)};
      const int32_t value = pick(rng, kInts);
      std::memcpy(p, &value, sizeof value);
    } else {
      std::vector<uint8_t> bytes(width);
      fill_random(bytes, rng);
      std::memcpy(p, bytes.data(), width);
    }
  }
}

void mutate_tensor(Graph& graph, Rng& rng) {
  if (graph.tensors.empty()) return;
  Tensor& t = graph.tensors[below(rng, graph.tensors.size())];
  switch (below(rng, 8)) {
    case 0:
    case 1:
      mutate_shape(t, rng);
      break;
    case 2:
      t.type = random_type(rng);
      refit_data(t, rng);
      break;
    case 3:
    case 4:
      mutate_quant(t, rng);
      break;
    case 5:
    case 6:
      mutate_data(t, rng);
      break;
    default:  // constant <-> activation
      if (t.is_constant) {
        t.is_constant = false;
        t.data.clear();
      } else {
        t.is_constant = true;
        refit_data(t, rng);
      }
      break;
  }
}

template <typename Options>
void mutate_window(Options& o, Rng& rng) {
  switch (below(rng, 5)) {
    case 0:
      o.padding = o.padding == Padding::kSame ? Padding::kValid : Padding::kSame;
      break;
    case 1:
      o.stride_w = interesting_int(rng, o.stride_w);
      break;
    case 2:
      o.stride_h = interesting_int(rng, o.stride_h);
      break;
    default:
      o.activation = static_cast<Activation>(below(rng, 4));
      break;
  }
}

template <typename Options>
void mutate_dilation(Options& o, Rng& rng) {
  if (one_in(rng, 2))
    o.dilation_w = interesting_int(rng, o.dilation_w);
  else
    o.dilation_h = interesting_int(rng, o.dilation_h);
}

void mutate_options(Op& op, Rng& rng) {
  if (auto* o = std::get_if<Conv2dOptions>(&op.options)) {
    one_in(rng, 3) ? mutate_dilation(*o, rng) : mutate_window(*o, rng);
  } else if (auto* o = std::get_if<DepthwiseConv2dOptions>(&op.options)) {
    switch (below(rng, 3)) {
      case 0:
        mutate_dilation(*o, rng);
        break;
      case 1:
        o->depth_multiplier = interesting_int(rng, o->depth_multiplier);
        break;
      default:
        mutate_window(*o, rng);
        break;
    }
  } else if (auto* o = std::get_if<Pool2dOptions>(&op.options)) {
    if (one_in(rng, 2)) {
      mutate_window(*o, rng);
    } else if (one_in(rng, 2)) {
      o->filter_w = interesting_int(rng, o->filter_w);
    } else {
      o->filter_h = interesting_int(rng, o->filter_h);
    }
  } else if (auto* o = std::get_if<AddOptions>(&op.options)) {
    o->activation = static_cast<Activation>(below(rng, 4));
  } else if (auto* o = std::get_if<ConcatenationOptions>(&op.options)) {
    if (one_in(rng, 3))
      o->activation = static_cast<Activation>(below(rng, 4));
    else
      o->axis =
          one_in(rng, 4) ? interesting_int(rng, o->axis) : static_cast<int32_t>(below(rng, 11)) - 5;
  } else if (auto* o = std::get_if<ResizeBilinearOptions>(&op.options)) {
    if (one_in(rng, 2))
      o->align_corners = !o->align_corners;
    else
      o->half_pixel_centers = !o->half_pixel_centers;
  } else if (auto* o = std::get_if<ResizeNearestNeighborOptions>(&op.options)) {
    if (one_in(rng, 2))
      o->align_corners = !o->align_corners;
    else
      o->half_pixel_centers = !o->half_pixel_centers;
  } else if (auto* o = std::get_if<ReshapeOptions>(&op.options)) {
    std::vector<int32_t>& s = o->new_shape;
    switch (below(rng, 4)) {
      case 0:
        s.clear();
        break;
      case 1:
        if (s.size() < 9) s.push_back(one_in(rng, 3) ? -1 : static_cast<int32_t>(below(rng, 5)));
        break;
      case 2:
        if (!s.empty()) s.erase(s.begin() + below(rng, s.size()));
        break;
      default:
        if (!s.empty()) s[below(rng, s.size())] = interesting_int(rng, 0);
        break;
    }
  } else if (auto* o = std::get_if<ArgMaxOptions>(&op.options)) {
    o->output_type = o->output_type == DataType::kInt32 ? DataType::kInt64 : DataType::kInt32;
  } else if (auto* o = std::get_if<MeanOptions>(&op.options)) {
    o->keep_dims = !o->keep_dims;
  } else if (auto* o = std::get_if<MulOptions>(&op.options)) {
    o->activation = static_cast<Activation>(below(rng, 4));
  } else if (auto* o = std::get_if<SubOptions>(&op.options)) {
    o->activation = static_cast<Activation>(below(rng, 4));
  }
}

OpOptions default_options(OpType type) {
  switch (type) {
    case OpType::kAdd:
      return AddOptions{};
    case OpType::kAveragePool2d:
      return Pool2dOptions{};
    case OpType::kConcatenation:
      return ConcatenationOptions{};
    case OpType::kConv2d:
      return Conv2dOptions{};
    case OpType::kDepthwiseConv2d:
      return DepthwiseConv2dOptions{};
    case OpType::kResizeBilinear:
      return ResizeBilinearOptions{};
    case OpType::kReshape:
      return ReshapeOptions{};
    case OpType::kArgMax:
      return ArgMaxOptions{};
    case OpType::kResizeNearestNeighbor:
      return ResizeNearestNeighborOptions{};
    case OpType::kMean:
      return MeanOptions{};
    case OpType::kMul:
      return MulOptions{};
    case OpType::kSub:
      return SubOptions{};
    case OpType::kDequantize:
    case OpType::kQuantize:
    case OpType::kTile:
    case OpType::kPad:
    case OpType::kPadV2:
    case OpType::kSpaceToBatchNd:
    case OpType::kBatchToSpaceNd:
    case OpType::kCast:
    case OpType::kHardSwish:
    case OpType::kLogistic:
      break;
    case OpType::kUnsupported:
      return UnsupportedOptions{};
  }
  return std::monostate{};
}

// Any op qseg runs (the writer refuses kUnsupported, the last OpType).
OpType random_op_type(Rng& rng) {
  return static_cast<OpType>(below(rng, static_cast<uint32_t>(OpType::kUnsupported)));
}

int32_t random_tensor(const Graph& graph, Rng& rng) {
  return static_cast<int32_t>(below(rng, static_cast<uint32_t>(graph.tensors.size())));
}

// Rewires one index in a list: to another tensor, to "absent", or adds or drops one.
void mutate_indices(std::vector<int32_t>& indices, const Graph& graph, bool allow_absent,
                    Rng& rng) {
  switch (below(rng, 5)) {
    case 0:
      if (indices.size() < 8) indices.push_back(random_tensor(graph, rng));
      break;
    case 1:
      if (indices.size() > 1) indices.erase(indices.begin() + below(rng, indices.size()));
      break;
    default:
      if (!indices.empty()) {
        indices[below(rng, indices.size())] =
            allow_absent && one_in(rng, 4) ? kNoTensor : random_tensor(graph, rng);
      }
      break;
  }
}

void mutate_op(Graph& graph, Rng& rng) {
  if (graph.ops.empty()) return;
  Op& op = graph.ops[below(rng, graph.ops.size())];
  switch (below(rng, 8)) {
    case 0:
    case 1:
    case 2:
      mutate_options(op, rng);
      break;
    case 3:
      op.type = random_op_type(rng);
      op.options = default_options(op.type);
      break;
    case 4:
    case 5:
      mutate_indices(op.inputs, graph, true, rng);
      break;
    case 6:
      mutate_indices(op.outputs, graph, false, rng);
      break;
    default:
      op.version = one_in(rng, 2) ? 1 + static_cast<int32_t>(below(rng, 8))
                                  : interesting_int(rng, op.version);
      break;
  }
}

// Adds, copies, drops or reorders ops and tensors.
void mutate_structure(Graph& graph, Rng& rng) {
  switch (below(rng, 6)) {
    case 0:
      if (!graph.ops.empty() && graph.ops.size() < 64)
        graph.ops.insert(graph.ops.begin() + below(rng, graph.ops.size() + 1),
                         graph.ops[below(rng, graph.ops.size())]);
      break;
    case 1:
      if (graph.ops.size() > 1) graph.ops.erase(graph.ops.begin() + below(rng, graph.ops.size()));
      break;
    case 2:
      if (graph.ops.size() > 1)
        std::swap(graph.ops[below(rng, graph.ops.size())], graph.ops[below(rng, graph.ops.size())]);
      break;
    case 3: {  // a new op reading existing tensors into a copy of one of them
      if (graph.tensors.empty() || graph.tensors.size() > 256 || graph.ops.size() >= 64) break;
      Tensor out = graph.tensors[below(rng, graph.tensors.size())];
      out.name += "_m";
      out.is_constant = false;
      out.data.clear();
      Op op;
      op.type = random_op_type(rng);
      op.options = default_options(op.type);
      const uint32_t inputs = 1 + below(rng, 3);
      for (uint32_t i = 0; i < inputs; ++i) op.inputs.push_back(random_tensor(graph, rng));
      graph.tensors.push_back(std::move(out));
      const auto added = static_cast<int32_t>(graph.tensors.size() - 1);
      op.outputs = {added};
      graph.ops.push_back(std::move(op));
      if (one_in(rng, 2)) graph.outputs.push_back(added);
      break;
    }
    case 4:
      mutate_indices(graph.inputs, graph, false, rng);
      break;
    default:
      mutate_indices(graph.outputs, graph, false, rng);
      break;
  }
}

}  // namespace

void mutate_graph(Graph& graph, Rng& rng) {
  const uint32_t count = 1 + below(rng, 3);
  for (uint32_t i = 0; i < count; ++i) {
    switch (below(rng, 10)) {
      case 0:
      case 1:
      case 2:
      case 3:
        mutate_tensor(graph, rng);
        break;
      case 4:
      case 5:
      case 6:
      case 7:
        mutate_op(graph, rng);
        break;
      default:
        mutate_structure(graph, rng);
        break;
    }
  }
}

std::optional<std::vector<uint8_t>> mutate_tflite(std::span<const uint8_t> bytes, size_t max_size,
                                                  uint32_t seed) {
  Result<Graph> original = read_tflite(bytes, "mutator");
  if (!original.is_ok()) return std::nullopt;
  Rng rng(seed == 0 ? 1 : seed);
  for (int attempt = 0; attempt < kTries; ++attempt) {
    Graph graph = original.value();
    mutate_graph(graph, rng);
    Result<std::vector<uint8_t>> written = write_tflite(graph);
    if (!written.is_ok()) continue;
    std::vector<uint8_t> out = std::move(written).value();
    // The writer checks indices and sizes, the reader also the dataflow (one writer per tensor,
    // inputs defined before use): what it refuses is left to byte mutations, which reach it too.
    const bool unchanged =
        out.size() <= bytes.size() && std::equal(out.begin(), out.end(), bytes.begin());
    if (unchanged || out.size() + 1 > max_size || !read_tflite(out, "mutated").is_ok()) continue;
    // The kernel selector: keep the original's most of the time, so a structure found on one
    // kernel path keeps being explored there.
    out.push_back(one_in(rng, 4) || bytes.empty() ? static_cast<uint8_t>(rng()) : bytes.back());
    return out;
  }
  return std::nullopt;
}

}  // namespace qseg::fuzz
