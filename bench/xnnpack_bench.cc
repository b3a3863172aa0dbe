// qseg_xnnpack_bench: a native XNNPACK QU8 op-by-op baseline for qseg's benchmarks (not part of
// qseg's runtime). It reads a uint8 DeepLab .tflite through qseg's reader, creates one XNNPACK
// operator per TFLite op (Debian 12's libxnnpack-dev, a 2022 snapshot), preallocates every tensor
// once, and times W warm-up + K runs on one input:
//
//   qseg_xnnpack_bench --model FILE.tflite [--threads N] [--runs K] [--warmup W] [--input RAW]
//                      [--json OUT] [--output-raw OUT] [--objects]
//
//   CONV_2D            xnn_create_convolution2d_nhwc_qu8 (TF SAME padding made explicit)
//   DEPTHWISE_CONV_2D  the same, groups = input channels, XNN_FLAG_DEPTHWISE_CONVOLUTION
//   ADD                xnn_create_add_nd_qu8
//   AVERAGE_POOL_2D    xnn_create_global_average_pooling_nwc_qu8 when the window is the whole
//                      input, else xnn_create_average_pooling2d_nhwc_qu8
//   RESIZE_BILINEAR    xnn_create_resize_bilinear2d_nhwc_u8 (align_corners / legacy / half pixel)
//   CONCATENATION      xnn_create_copy_nc_x8 per input (strided into the output); an input whose
//                      scale or zero point differs from the output's is requantized by a scalar
//                      loop instead (this snapshot has no qu8 -> qu8 convert operator)
//   QUANTIZE u8 -> u8  scalar loop: XNNPACK's convert arithmetic (quant::float_convert), since
//                      this snapshot has no xnn_create_convert_nc_qu8
//   ARG_MAX            scalar loop over the last axis (XNNPACK has no uint8 argmax)
//
// Fused activations become output_min/output_max in quantized units, as TFLite computes them
// (quant::activation_range). "body" is every op before the last RESIZE_BILINEAR (the upsampling
// of the 33x33 logits to the input size) and the ARG_MAX after it.
//
// Under the emulator (scripts/count_instructions.sh, aarch64): the first inference runs between
// the calls of qseg_inference_begin and qseg_inference_end, as in `qseg run`, with
// qseg_op_end after each op; --objects prints where each loaded library lies, to name their
// functions in the emulator's log.
#include <fmt/format.h>
#include <link.h>
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "qseg/graph.h"
#include "qseg/status.h"
#include "qseg/tflite.h"
#include "quant/quant.h"

// Empty functions around the first inference and after each of its ops, named in the emulator's
// log (see tools/qseg/run_command.cc, which calls the same around its first inference). Not
// inlined, each with its own side effect so they are not merged.
extern "C" {
[[gnu::noinline]] void qseg_inference_begin() {
  static volatile int calls = 0;
  calls = calls + 1;
}
[[gnu::noinline]] void qseg_inference_end() {
  static volatile int calls = 0;
  calls = calls + 1;
}
[[gnu::noinline]] void qseg_op_end() {
  static volatile int calls = 0;
  calls = calls + 1;
}
}

namespace qseg::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::string model, input, json, output_raw;
  int threads = 1;
  int runs = 10;
  int warmup = 2;
  bool objects = false;
};

// `object NAME START END BIAS` for the program and every library loaded (hex; END exclusive, BIAS
// what the library's symbol values are relative to): scripts/count_instructions.sh names the
// emulator's unnamed blocks with them.
void print_loaded_objects() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        uint64_t start = UINT64_MAX, end = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_LOAD) continue;
          start = std::min<uint64_t>(start, info->dlpi_addr + segment.p_vaddr);
          end = std::max<uint64_t>(end, info->dlpi_addr + segment.p_vaddr + segment.p_memsz);
        }
        const char* name = info->dlpi_name[0] != '\0' ? info->dlpi_name : "(program)";
        if (end > start)
          fmt::print("object {} {:x} {:x} {:x}\n", name, start, end, info->dlpi_addr);
        return 0;
      },
      nullptr);
}

// One TFLite op as run here: XNNPACK operators (several for a concatenation) or a scalar loop.
struct Step {
  OpType type = OpType::kAdd;
  std::vector<xnn_operator_t> operators;
  std::function<void()> scalar;  // runs after the operators; empty when there is none
};

// Everything a run touches, created once: tensors, operators, the thread pool.
struct Plan {
  std::vector<std::vector<uint8_t>> buffers;  // one per tensor the ops read or write
  std::vector<Step> steps;
  pthreadpool_t pool = nullptr;

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    for (Step& step : steps)
      for (xnn_operator_t op : step.operators) xnn_delete_operator(op);
    if (pool) pthreadpool_destroy(pool);
  }
  uint8_t* data(int32_t tensor) { return buffers[tensor].data(); }
};

Status xnn_check(xnn_status status, int op_index, const Op& op, const char* what) {
  if (status == xnn_status_success) return Status::ok();
  return Status::error(fmt::format("op {} ({}): {} failed with xnn_status {}", op_index,
                                   op_type_name(op.type), what, static_cast<int>(status)));
}

// A uint8 per-tensor quantized tensor's zero point and scale, or an error naming it.
struct Quant8 {
  uint8_t zero_point = 0;
  float scale = 1.0f;
};
Result<Quant8> quant8(const Tensor& t) {
  if (t.type != DataType::kUInt8 || !t.quant.per_tensor() || t.quant.zero_point.empty() ||
      t.quant.zero_point[0] < 0 || t.quant.zero_point[0] > 255) {
    return Status::error(
        fmt::format("tensor '{}' is not uint8 with one scale and zero point", t.name));
  }
  return Quant8{static_cast<uint8_t>(t.quant.zero_point[0]), t.quant.scale[0]};
}

// Output clamp of a fused activation, in the output's quantized units.
std::pair<uint8_t, uint8_t> output_clamp(Activation activation, Quant8 out) {
  const auto r = quant::activation_range(activation, out.scale, out.zero_point, 0, 255);
  return {static_cast<uint8_t>(r.min), static_cast<uint8_t>(r.max)};
}

// TensorFlow's padding before/after for one spatial dimension.
std::pair<uint32_t, uint32_t> tf_padding(Padding padding, int in, int out, int kernel, int stride,
                                         int dilation) {
  if (padding == Padding::kValid) return {0, 0};
  const int total = std::max((out - 1) * stride + (kernel - 1) * dilation + 1 - in, 0);
  return {static_cast<uint32_t>(total / 2), static_cast<uint32_t>(total - total / 2)};
}

Status require_rank4(const Tensor& t) {
  if (t.shape.size() != 4) return Status::error(fmt::format("tensor '{}' is not 4-D NHWC", t.name));
  return Status::ok();
}

// CONV_2D and DEPTHWISE_CONV_2D: XNNPACK's kernel layouts are TFLite's ([OC,KH,KW,IC], and
// [1,KH,KW,C*M] with the depthwise flag), so the weights go in as they are.
Status plan_convolution(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const bool depthwise = op.type == OpType::kDepthwiseConv2d;
  const Tensor& in = g.tensors[op.inputs[0]];
  const Tensor& filter = g.tensors[op.inputs[1]];
  const Tensor& out = g.tensors[op.outputs[0]];
  QSEG_RETURN_IF_ERROR(require_rank4(in));
  QSEG_RETURN_IF_ERROR(require_rank4(filter));
  QSEG_RETURN_IF_ERROR(require_rank4(out));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qi, quant8(in));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qf, quant8(filter));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qo, quant8(out));
  const int32_t bias_index = op.inputs.size() > 2 ? op.inputs[2] : kNoTensor;
  const int32_t* bias =
      bias_index == kNoTensor ? nullptr : g.tensors[bias_index].data_as<int32_t>();
  Padding padding;
  int stride_h, stride_w, dilation_h, dilation_w;
  Activation activation;
  if (depthwise) {
    const auto& o = op.options_as<DepthwiseConv2dOptions>();
    padding = o.padding, stride_h = o.stride_h, stride_w = o.stride_w;
    dilation_h = o.dilation_h, dilation_w = o.dilation_w, activation = o.activation;
  } else {
    const auto& o = op.options_as<Conv2dOptions>();
    padding = o.padding, stride_h = o.stride_h, stride_w = o.stride_w;
    dilation_h = o.dilation_h, dilation_w = o.dilation_w, activation = o.activation;
  }
  const int kh = filter.shape[1], kw = filter.shape[2];
  const auto [top, bottom] =
      tf_padding(padding, in.shape[1], out.shape[1], kh, stride_h, dilation_h);
  const auto [left, right] =
      tf_padding(padding, in.shape[2], out.shape[2], kw, stride_w, dilation_w);
  const size_t in_c = in.shape[3], out_c = out.shape[3];
  const uint32_t groups = depthwise ? in_c : 1;
  const size_t group_in = depthwise ? 1 : in_c;
  const size_t group_out = depthwise ? out_c / in_c : out_c;
  const auto [lo, hi] = output_clamp(activation, qo);
  xnn_operator_t x = nullptr;
  QSEG_RETURN_IF_ERROR(xnn_check(
      xnn_create_convolution2d_nhwc_qu8(top, right, bottom, left, kh, kw, stride_h, stride_w,
                                        dilation_h, dilation_w, groups, group_in, group_out, in_c,
                                        out_c, qi.zero_point, qi.scale, qf.zero_point, qf.scale,
                                        filter.data.data(), bias, qo.zero_point, qo.scale, lo, hi,
                                        depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &x),
      index, op, "xnn_create_convolution2d_nhwc_qu8"));
  step.operators.push_back(x);
  return xnn_check(xnn_setup_convolution2d_nhwc_qu8(x, in.shape[0], in.shape[1], in.shape[2],
                                                    plan.data(op.inputs[0]),
                                                    plan.data(op.outputs[0]), plan.pool),
                   index, op, "xnn_setup_convolution2d_nhwc_qu8");
}

Status plan_add(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const Tensor& a = g.tensors[op.inputs[0]];
  const Tensor& b = g.tensors[op.inputs[1]];
  const Tensor& out = g.tensors[op.outputs[0]];
  QSEG_ASSIGN_OR_RETURN(const Quant8 qa, quant8(a));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qb, quant8(b));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qo, quant8(out));
  const auto [lo, hi] = output_clamp(op.options_as<AddOptions>().activation, qo);
  xnn_operator_t x = nullptr;
  QSEG_RETURN_IF_ERROR(
      xnn_check(xnn_create_add_nd_qu8(qa.zero_point, qa.scale, qb.zero_point, qb.scale,
                                      qo.zero_point, qo.scale, lo, hi, 0, &x),
                index, op, "xnn_create_add_nd_qu8"));
  step.operators.push_back(x);
  const std::vector<size_t> sa(a.shape.begin(), a.shape.end()), sb(b.shape.begin(), b.shape.end());
  return xnn_check(
      xnn_setup_add_nd_qu8(x, sa.size(), sa.data(), sb.size(), sb.data(), plan.data(op.inputs[0]),
                           plan.data(op.inputs[1]), plan.data(op.outputs[0]), plan.pool),
      index, op, "xnn_setup_add_nd_qu8");
}

Status plan_average_pool(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const Tensor& in = g.tensors[op.inputs[0]];
  const Tensor& out = g.tensors[op.outputs[0]];
  QSEG_RETURN_IF_ERROR(require_rank4(in));
  QSEG_RETURN_IF_ERROR(require_rank4(out));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qi, quant8(in));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qo, quant8(out));
  const auto& o = op.options_as<Pool2dOptions>();
  const auto [lo, hi] = output_clamp(o.activation, qo);
  const size_t channels = in.shape[3];
  const uint8_t* input = plan.data(op.inputs[0]);
  uint8_t* output = plan.data(op.outputs[0]);
  xnn_operator_t x = nullptr;
  if (o.filter_h == in.shape[1] && o.filter_w == in.shape[2] && out.shape[1] == 1 &&
      out.shape[2] == 1) {
    // The window is the whole image (DeepLab's image pooling): a global average over H*W pixels.
    QSEG_RETURN_IF_ERROR(xnn_check(
        xnn_create_global_average_pooling_nwc_qu8(channels, channels, channels, qi.zero_point,
                                                  qi.scale, qo.zero_point, qo.scale, lo, hi, 0, &x),
        index, op, "xnn_create_global_average_pooling_nwc_qu8"));
    step.operators.push_back(x);
    return xnn_check(xnn_setup_global_average_pooling_nwc_qu8(
                         x, in.shape[0], static_cast<size_t>(in.shape[1]) * in.shape[2], input,
                         output, plan.pool),
                     index, op, "xnn_setup_global_average_pooling_nwc_qu8");
  }
  const auto [top, bottom] =
      tf_padding(o.padding, in.shape[1], out.shape[1], o.filter_h, o.stride_h, 1);
  const auto [left, right] =
      tf_padding(o.padding, in.shape[2], out.shape[2], o.filter_w, o.stride_w, 1);
  QSEG_RETURN_IF_ERROR(xnn_check(
      xnn_create_average_pooling2d_nhwc_qu8(
          top, right, bottom, left, o.filter_h, o.filter_w, o.stride_h, o.stride_w, channels,
          channels, channels, qi.zero_point, qi.scale, qo.zero_point, qo.scale, lo, hi, 0, &x),
      index, op, "xnn_create_average_pooling2d_nhwc_qu8"));
  step.operators.push_back(x);
  return xnn_check(xnn_setup_average_pooling2d_nhwc_qu8(x, in.shape[0], in.shape[1], in.shape[2],
                                                        input, output, plan.pool),
                   index, op, "xnn_setup_average_pooling2d_nhwc_qu8");
}

// RESIZE_BILINEAR on uint8 does not requantize (TFLite keeps the input's scale and zero point).
Status plan_resize(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const Tensor& in = g.tensors[op.inputs[0]];
  const Tensor& out = g.tensors[op.outputs[0]];
  QSEG_RETURN_IF_ERROR(require_rank4(in));
  QSEG_RETURN_IF_ERROR(require_rank4(out));
  if (in.type != DataType::kUInt8 || out.type != DataType::kUInt8)
    return Status::error(fmt::format("op {} (RESIZE_BILINEAR): only uint8 is supported", index));
  const auto& o = op.options_as<ResizeBilinearOptions>();
  const uint32_t flags = o.align_corners        ? XNN_FLAG_ALIGN_CORNERS
                         : o.half_pixel_centers ? 0
                                                : XNN_FLAG_TENSORFLOW_LEGACY_MODE;
  const size_t channels = in.shape[3];
  xnn_operator_t x = nullptr;
  QSEG_RETURN_IF_ERROR(
      xnn_check(xnn_create_resize_bilinear2d_nhwc_u8(channels, channels, channels, flags, &x),
                index, op, "xnn_create_resize_bilinear2d_nhwc_u8"));
  step.operators.push_back(x);
  return xnn_check(xnn_setup_resize_bilinear2d_nhwc_u8(
                       x, in.shape[0], in.shape[1], in.shape[2], out.shape[1], out.shape[2],
                       plan.data(op.inputs[0]), plan.data(op.outputs[0]), plan.pool),
                   index, op, "xnn_setup_resize_bilinear2d_nhwc_u8");
}

// Scalar requantization uint8 -> uint8 with XNNPACK's convert arithmetic (8 fractional bits),
// which is what TFLite's XNNPACK delegate runs for QUANTIZE; rows of `count` values, strided.
Result<std::function<void()>> requantize_rows(const uint8_t* in, size_t in_stride, uint8_t* out,
                                              size_t out_stride, size_t rows, size_t count,
                                              Quant8 qi, Quant8 qo) {
  const std::optional<quant::FloatConvert> convert =
      quant::float_convert_params(qi.scale, qi.zero_point, qo.scale, qo.zero_point);
  if (!convert) {
    return Status::error("scales " + std::to_string(qi.scale) + " -> " + std::to_string(qo.scale) +
                         " are outside the range of XNNPACK's 8-bit conversion");
  }
  const quant::FloatConvert params = *convert;
  return std::function<void()>([=] {
    const quant::QuantizedRange range{0, 255};
    for (size_t r = 0; r < rows; ++r)
      for (size_t i = 0; i < count; ++i)
        out[r * out_stride + i] =
            static_cast<uint8_t>(quant::float_convert(in[r * in_stride + i], params, range));
  });
}

Status plan_quantize(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const Tensor& in = g.tensors[op.inputs[0]];
  QSEG_ASSIGN_OR_RETURN(const Quant8 qi, quant8(in));
  QSEG_ASSIGN_OR_RETURN(const Quant8 qo, quant8(g.tensors[op.outputs[0]]));
  const size_t n = in.num_elements();
  QSEG_ASSIGN_OR_RETURN(step.scalar, requantize_rows(plan.data(op.inputs[0]), n,
                                                     plan.data(op.outputs[0]), n, 1, n, qi, qo));
  return Status::ok();
}

// CONCATENATION as outer x inner blocks: input k's rows of inner_k bytes go to column offset
// sum(inner_j, j < k) of the output's rows.
Status plan_concatenation(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const Tensor& out = g.tensors[op.outputs[0]];
  QSEG_ASSIGN_OR_RETURN(const Quant8 qo, quant8(out));
  const int rank = static_cast<int>(out.shape.size());
  int axis = op.options_as<ConcatenationOptions>().axis;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return Status::error(fmt::format("op {}: bad axis", index));
  if (op.options_as<ConcatenationOptions>().activation != Activation::kNone)
    return Status::error(fmt::format("op {}: fused activation on CONCATENATION", index));
  size_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out.shape[d];
  const size_t out_inner = out.num_elements() / std::max<size_t>(outer, 1);
  size_t offset = 0;
  std::vector<std::function<void()>> requantizers;
  for (int32_t input : op.inputs) {
    const Tensor& in = g.tensors[input];
    QSEG_ASSIGN_OR_RETURN(const Quant8 qi, quant8(in));
    const size_t inner = in.num_elements() / std::max<size_t>(outer, 1);
    uint8_t* destination = plan.data(op.outputs[0]) + offset;
    if (qi.scale == qo.scale && qi.zero_point == qo.zero_point) {
      xnn_operator_t x = nullptr;
      QSEG_RETURN_IF_ERROR(xnn_check(xnn_create_copy_nc_x8(inner, inner, out_inner, 0, &x), index,
                                     op, "xnn_create_copy_nc_x8"));
      step.operators.push_back(x);
      QSEG_RETURN_IF_ERROR(
          xnn_check(xnn_setup_copy_nc_x8(x, outer, plan.data(input), destination, plan.pool), index,
                    op, "xnn_setup_copy_nc_x8"));
    } else {
      QSEG_ASSIGN_OR_RETURN(
          std::function<void()> requantizer,
          requantize_rows(plan.data(input), inner, destination, out_inner, outer, inner, qi, qo));
      requantizers.push_back(std::move(requantizer));
    }
    offset += inner;
  }
  if (!requantizers.empty()) {
    step.scalar = [requantizers = std::move(requantizers)] {
      for (const auto& r : requantizers) r();
    };
  }
  return Status::ok();
}

// ARG_MAX over the last axis, first maximum wins (TFLite's order); int32 or int64 output.
Status plan_arg_max(const Graph& g, int index, Plan& plan, Step& step) {
  const Op& op = g.ops[index];
  const Tensor& in = g.tensors[op.inputs[0]];
  const Tensor& axis_tensor = g.tensors[op.inputs[1]];
  const Tensor& out = g.tensors[op.outputs[0]];
  if (in.type != DataType::kUInt8 || !axis_tensor.is_constant || axis_tensor.num_elements() != 1)
    return Status::error(fmt::format("op {} (ARG_MAX): needs uint8 input, constant axis", index));
  int64_t axis = axis_tensor.type == DataType::kInt64 ? *axis_tensor.data_as<int64_t>()
                                                      : *axis_tensor.data_as<int32_t>();
  if (axis < 0) axis += static_cast<int64_t>(in.shape.size());
  if (axis != static_cast<int64_t>(in.shape.size()) - 1)
    return Status::error(fmt::format("op {} (ARG_MAX): only the last axis is supported", index));
  if (out.type != DataType::kInt64 && out.type != DataType::kInt32)
    return Status::error(fmt::format("op {} (ARG_MAX): output must be int32 or int64", index));
  const size_t channels = in.shape.back();
  const size_t pixels = in.num_elements() / channels;
  const uint8_t* input = plan.data(op.inputs[0]);
  uint8_t* output = plan.data(op.outputs[0]);
  const bool wide = out.type == DataType::kInt64;
  step.scalar = [=] {
    for (size_t p = 0; p < pixels; ++p) {
      const uint8_t* v = input + p * channels;
      size_t best = 0;
      for (size_t c = 1; c < channels; ++c)
        if (v[c] > v[best]) best = c;
      if (wide) {
        const int64_t b = static_cast<int64_t>(best);
        std::memcpy(output + p * 8, &b, 8);
      } else {
        const int32_t b = static_cast<int32_t>(best);
        std::memcpy(output + p * 4, &b, 4);
      }
    }
  };
  return Status::ok();
}

// Buffers for every tensor an op reads or writes (constant ones filled once), XNN_EXTRA_BYTES
// past the end since XNNPACK's micro-kernels may read beyond the last element; then one step
// per op, set up once on those fixed addresses so a run only calls xnn_run_operator.
Status build_plan(const Graph& g, int threads, Plan& plan) {
  plan.pool = pthreadpool_create(static_cast<size_t>(threads));
  if (!plan.pool) return Status::error("pthreadpool_create failed");
  plan.buffers.resize(g.tensors.size());
  auto allocate = [&](int32_t t) {
    if (t == kNoTensor || !plan.buffers[t].empty()) return;
    const Tensor& tensor = g.tensors[t];
    plan.buffers[t].assign(static_cast<size_t>(tensor.byte_size()) + XNN_EXTRA_BYTES, 0);
    if (tensor.is_constant)
      std::copy(tensor.data.begin(), tensor.data.end(), plan.buffers[t].begin());
  };
  for (int32_t t : g.inputs) allocate(t);
  for (const Op& op : g.ops) {
    const bool weights = op.type == OpType::kConv2d || op.type == OpType::kDepthwiseConv2d ||
                         op.type == OpType::kArgMax;
    allocate(op.inputs[0]);  // filters, biases and the axis stay in the Graph
    if (!weights)
      for (int32_t t : op.inputs) allocate(t);
    for (int32_t t : op.outputs) allocate(t);
  }
  for (int i = 0; i < static_cast<int>(g.ops.size()); ++i) {
    const Op& op = g.ops[i];
    Step& step = plan.steps.emplace_back();
    step.type = op.type;
    Status status;
    switch (op.type) {
      case OpType::kConv2d:
      case OpType::kDepthwiseConv2d:
        status = plan_convolution(g, i, plan, step);
        break;
      case OpType::kAdd:
        status = plan_add(g, i, plan, step);
        break;
      case OpType::kAveragePool2d:
        status = plan_average_pool(g, i, plan, step);
        break;
      case OpType::kResizeBilinear:
        status = plan_resize(g, i, plan, step);
        break;
      case OpType::kQuantize:
        status = plan_quantize(g, i, plan, step);
        break;
      case OpType::kConcatenation:
        status = plan_concatenation(g, i, plan, step);
        break;
      case OpType::kArgMax:
        status = plan_arg_max(g, i, plan, step);
        break;
      default:
        status = Status::error(
            fmt::format("op {}: {} is not supported by this baseline", i, op_type_name(op.type)));
    }
    QSEG_RETURN_IF_ERROR(status);
  }
  return Status::ok();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Status write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) return Status::error("cannot write " + path);
  return Status::ok();
}

Status run_bench(const BenchArgs& args) {
  if (args.objects) print_loaded_objects();
  if (!std::filesystem::is_regular_file(args.model))
    return Status::error("no model file " + args.model);
  QSEG_ASSIGN_OR_RETURN(const Graph g, read_tflite_file(args.model));
  if (g.inputs.size() != 1 || g.outputs.empty())
    return Status::error(args.model + ": needs one input and at least one output");
  if (xnn_initialize(nullptr) != xnn_status_success)
    return Status::error("xnn_initialize failed (unsupported CPU?)");
  Plan plan;
  {
    const Status status = build_plan(g, args.threads, plan);
    if (!status.is_ok()) return status.with_context(args.model);
  }

  // The input: the raw file, else mt19937(1) bytes (the same as qseg bench's default input).
  const Tensor& input_tensor = g.tensors[g.inputs[0]];
  const size_t input_bytes = input_tensor.byte_size();
  uint8_t* input = plan.data(g.inputs[0]);
  if (!args.input.empty()) {
    std::ifstream in(args.input, std::ios::binary);
    if (!in) return Status::error("cannot open " + args.input);
    in.read(reinterpret_cast<char*>(input), static_cast<std::streamsize>(input_bytes));
    if (in.gcount() != static_cast<std::streamsize>(input_bytes) || in.peek() != EOF)
      return Status::error(
          fmt::format("{}: the model's input takes exactly {} bytes", args.input, input_bytes));
  } else {
    std::mt19937 random(1);
    for (size_t i = 0; i < input_bytes; ++i) input[i] = static_cast<uint8_t>(random());
  }

  // Body: the ops before the last RESIZE_BILINEAR.
  size_t body_end = plan.steps.size();
  for (size_t i = 0; i < plan.steps.size(); ++i)
    if (plan.steps[i].type == OpType::kResizeBilinear) body_end = i;

  const size_t ops = plan.steps.size();
  std::vector<double> total_ms, body_ms;
  total_ms.reserve(args.runs);
  body_ms.reserve(args.runs);
  std::vector<std::vector<double>> op_ms(ops, std::vector<double>(args.runs));
  const int warmup = args.warmup;
  for (int r = 0; r < warmup + args.runs; ++r) {
    if (r == 0) qseg_inference_begin();
    const auto start = Clock::now();
    auto last = start, body_done = start;
    for (size_t i = 0; i < ops; ++i) {
      const Step& step = plan.steps[i];
      for (xnn_operator_t x : step.operators) {
        if (xnn_run_operator(x, plan.pool) != xnn_status_success)
          return Status::error(fmt::format("op {}: xnn_run_operator failed", i));
      }
      if (step.scalar) step.scalar();
      if (r == 0) qseg_op_end();
      const auto now = Clock::now();
      if (r >= warmup)
        op_ms[i][r - warmup] = std::chrono::duration<double, std::milli>(now - last).count();
      last = now;
      if (i + 1 == body_end) body_done = now;
    }
    if (r == 0) qseg_inference_end();
    if (r < warmup) continue;
    total_ms.push_back(std::chrono::duration<double, std::milli>(last - start).count());
    body_ms.push_back(std::chrono::duration<double, std::milli>(body_done - start).count());
  }

  const double med = median(total_ms), body_med = median(body_ms);
  const double lo = *std::min_element(total_ms.begin(), total_ms.end());
  const double hi = *std::max_element(total_ms.begin(), total_ms.end());
  fmt::print("model {} ({} ops), XNNPACK QU8 op by op, {} thread(s), {} runs after {} warm-up\n",
             args.model, ops, args.threads, args.runs, warmup);
  fmt::print("whole: median {:.2f} ms, min {:.2f}, max {:.2f}\n", med, lo, hi);
  fmt::print(
      "body (ops 0-{}, up to the last RESIZE_BILINEAR): median {:.2f} ms, min {:.2f}, "
      "max {:.2f}\n\n",
      body_end - 1, body_med, *std::min_element(body_ms.begin(), body_ms.end()),
      *std::max_element(body_ms.begin(), body_ms.end()));
  struct TypeRow {
    int count = 0;
    double ms = 0;
    bool scalar = false;
  };
  std::map<std::string, TypeRow> by_type;
  for (size_t i = 0; i < ops; ++i) {
    TypeRow& row = by_type[std::string(op_type_name(plan.steps[i].type))];
    ++row.count;
    row.ms += median(op_ms[i]);
    row.scalar |= static_cast<bool>(plan.steps[i].scalar);
  }
  fmt::print("{:<20} {:>5} {:>10} {:>7}  {}\n", "op type", "ops", "ms", "share", "engine");
  for (const auto& [type, row] : by_type) {
    fmt::print("{:<20} {:>5} {:>10.2f} {:>6.1f}%  {}\n", type, row.count, row.ms,
               100.0 * row.ms / med,
               row.scalar ? "scalar C++ loop (no XNNPACK operator)" : "XNNPACK");
  }

  if (!args.output_raw.empty()) {
    const int32_t t = g.outputs[0];
    QSEG_RETURN_IF_ERROR(write_file(args.output_raw, plan.data(t), g.tensors[t].byte_size()));
  }
  if (!args.json.empty()) {
    const nlohmann::json out = {{"engine", "xnnpack-qu8-op-by-op"},
                                {"model", args.model},
                                {"threads", args.threads},
                                {"median_ms", med},
                                {"min_ms", lo},
                                {"max_ms", hi},
                                {"body_median_ms", body_med},
                                {"runs", args.runs},
                                {"warmup_runs", warmup},
                                {"input", args.input.empty() ? "mt19937(1) bytes" : args.input}};
    const std::string text = out.dump(2) + "\n";
    QSEG_RETURN_IF_ERROR(write_file(args.json, text.data(), text.size()));
  }
  return Status::ok();
}

constexpr const char* kUsage =
    "usage: qseg_xnnpack_bench --model FILE.tflite [--threads N] [--runs K] [--warmup W]\n"
    "                          [--input RAW] [--json OUT] [--output-raw OUT] [--objects]\n"
    "Runs a uint8 .tflite op by op through XNNPACK's QU8 operators: W (default 2) warm-up + K\n"
    "(default 10) timed runs; prints median/min/max ms for the whole model and the body (before\n"
    "the final RESIZE_BILINEAR). --output-raw writes the model's output 0 bytes after the last\n"
    "run. --objects first prints the address range of the program and each loaded library\n"
    "(`object NAME START END BIAS`, hex), and only that without --model.\n";

Status parse_int(const std::string& flag, const std::string& text, int lo, int hi, int& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < lo || value > hi)
    return Status::error(
        fmt::format("{} must be an integer in [{}, {}], got '{}'", flag, lo, hi, text));
  return Status::ok();
}

Status parse_args(int argc, char** argv, BenchArgs& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--objects") {
      args.objects = true;
      continue;
    }
    static const char* const kFlags[] = {"--model",   "--input", "--json",  "--output-raw",
                                         "--threads", "--runs",  "--warmup"};
    if (std::find(std::begin(kFlags), std::end(kFlags), flag) == std::end(kFlags))
      return Status::error("unknown flag '" + flag + "' (see --help)");
    if (i + 1 >= argc) return Status::error(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--model") {
      args.model = value;
    } else if (flag == "--input") {
      args.input = value;
    } else if (flag == "--json") {
      args.json = value;
    } else if (flag == "--output-raw") {
      args.output_raw = value;
    } else if (flag == "--threads") {
      QSEG_RETURN_IF_ERROR(parse_int(flag, value, 1, 256, args.threads));
    } else if (flag == "--runs") {
      QSEG_RETURN_IF_ERROR(parse_int(flag, value, 1, 100000, args.runs));
    } else if (flag == "--warmup") {
      QSEG_RETURN_IF_ERROR(parse_int(flag, value, 0, 100000, args.warmup));
    }
  }
  if (args.model.empty() && !args.objects) return Status::error("--model is required (see --help)");
  return Status::ok();
}

}  // namespace
}  // namespace qseg::bench

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(qseg::bench::kUsage, stdout);
      return 0;
    }
  }
  qseg::bench::BenchArgs args;
  qseg::Status status = qseg::bench::parse_args(argc, argv, args);
  if (status.is_ok() && args.model.empty()) {  // --objects alone
    qseg::bench::print_loaded_objects();
    return 0;
  }
  if (status.is_ok()) status = qseg::bench::run_bench(args);
  if (!status.is_ok()) {
    std::fprintf(stderr, "qseg_xnnpack_bench: error: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
