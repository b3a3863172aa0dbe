// The optimized kernels as the interpreter sees them: prepare (the reference prepare, then the
// packing), and run (the chosen instruction set's micro-kernel over the thread pool).
#include <cstdint>
#include <memory>
#include <utility>

#include "kernels/hard_swish.h"
#include "kernels/logistic.h"
#include "kernels/opt/optimized.h"
#include "kernels/prepared_kernel.h"
#include "kernels/sub.h"

namespace qseg::kernels::opt {

namespace {

// The params of an op and the micro-kernel of the chosen instruction set that runs them.
template <typename Params, typename MicroKernel>
struct WithMicroKernel {
  Params params;
  MicroKernel micro_kernel;
};
// And the weights packed for it.
template <typename Params, typename Packed, typename MicroKernel>
struct PackedWithMicroKernel {
  Params params;
  Packed packed;
  MicroKernel micro_kernel;
};
using OptimizedConv =
    PackedWithMicroKernel<Conv2dParams, PackedConv, decltype(IsaKernels::conv_2d)>;
using OptimizedDepthwise = PackedWithMicroKernel<DepthwiseConv2dParams, PackedDepthwise,
                                                 decltype(IsaKernels::depthwise_conv_2d)>;
using OptimizedAdd = WithMicroKernel<AddParams, decltype(IsaKernels::add)>;
using OptimizedResize =
    WithMicroKernel<ResizeBilinearParams, decltype(IsaKernels::resize_bilinear)>;
using OptimizedPool = WithMicroKernel<AveragePool2dParams, decltype(IsaKernels::average_pool_2d)>;
using OptimizedQuantize = WithMicroKernel<QuantizeParams, decltype(IsaKernels::quantize)>;
// MUL: the XNNPACK parameters with the full operand's zero point first, and the vector length
// of the other operand (0: elementwise); `swapped` when the full operand is input 1.
struct OptimizedMul {
  MulParams params;
  quant::XnnpackMul mul;
  int64_t vector_length = 0;
  bool swapped = false;
  decltype(IsaKernels::mul) micro_kernel;
};
using OptimizedLookup = WithMicroKernel<ActivationTableParams, decltype(IsaKernels::lookup_8bit)>;
struct OptimizedHardSwishFloat {
  ActivationTableParams params;
  decltype(IsaKernels::hard_swish_float) micro_kernel;
};
struct OptimizedResizeArgMax {
  ResizeBilinearParams resize;
  ArgMaxParams arg_max;
  ResizeArgMaxPlan plan;
  decltype(IsaKernels::resize_arg_max) micro_kernel;
};

// The vector resizes compute the float interpolation rounded half away from zero: the reference
// without XNNPACK's arithmetic; with it, for uint8 only where the interpolation is exact (the two
// then agree on non-negative values; int8 rounds negative halves differently).
bool takes_optimized_resize(const ResizeBilinearParams& p) {
  if (!p.xnnpack) return true;
  return p.type == DataType::kUInt8 && p.exact_interpolation;
}

// Units: output pixels.
void run_conv(const OptimizedConv& k, const KernelIo& io, int64_t begin, int64_t end) {
  k.micro_kernel(k.params, k.packed, io.in<uint8_t>(0), io.out<uint8_t>(0), begin, end);
}
// Units: output rows.
void run_depthwise(const OptimizedDepthwise& k, const KernelIo& io, int64_t begin, int64_t end) {
  k.micro_kernel(k.params, k.packed, io.in<uint8_t>(0), io.out<uint8_t>(0), begin, end, 0);
}
void run_add(const OptimizedAdd& k, const KernelIo& io, int64_t begin, int64_t end) {
  k.micro_kernel(k.params, io.in<uint8_t>(0), io.in<uint8_t>(1), io.out<uint8_t>(0), begin, end);
}
void run_mul(const OptimizedMul& k, const KernelIo& io, int64_t begin, int64_t end) {
  const uint8_t* a = io.in<uint8_t>(k.swapped ? 1 : 0);
  const uint8_t* b = io.in<uint8_t>(k.swapped ? 0 : 1);
  k.micro_kernel(k.mul, k.params.activation_range, k.params.type == DataType::kInt8, a, b,
                 k.vector_length, io.out<uint8_t>(0), begin, end);
}
void run_hard_swish_float(const OptimizedHardSwishFloat& k, const KernelIo& io, int64_t begin,
                          int64_t end) {
  k.micro_kernel(k.params, io.in<float>(0), io.out<float>(0), begin, end);
}
// One 8-bit input -> one 8-bit output (RESIZE_BILINEAR, AVERAGE_POOL_2D, QUANTIZE).
template <typename Optimized>
void run_unary(const Optimized& k, const KernelIo& io, int64_t begin, int64_t end) {
  k.micro_kernel(k.params, io.in<uint8_t>(0), io.out<uint8_t>(0), begin, end);
}
// Input 0: the resize's input; output 0: the arg max's output.
void run_resize_arg_max(const OptimizedResizeArgMax& k, const KernelIo& io, int64_t begin,
                        int64_t end) {
  k.micro_kernel(k.resize, k.arg_max, k.plan, io.in<uint8_t>(0), io.out<void>(0), begin, end);
}

template <typename Params>
std::unique_ptr<Kernel> make(Params params, typename PreparedKernel<Params>::RunFn run,
                             int64_t units, const Op& op, std::string_view name) {
  return make_prepared_kernel(std::move(params), RunChoice<Params>{run, units}, op, name);
}

bool is_8bit(DataType type) { return type == DataType::kUInt8 || type == DataType::kInt8; }

// The constant bias of a convolution, or null when it has none; false when it is not constant.
bool constant_bias(const Graph& graph, const Op& op, const Tensor** bias) {
  *bias = nullptr;
  if (op.inputs.size() < 3 || op.inputs[2] == kNoTensor) return true;
  *bias = &graph.tensors[op.inputs[2]];
  return (*bias)->is_constant;
}

// When one operand (input 2 if `second`, else input 1) is a vector repeated along the output and
// the other is not broadcast, the vector's length: its dims are 1 up to a suffix equal to the
// output's (strides 0, then contiguous). -1 otherwise.
int64_t repeated_vector_length(const BroadcastShape& shape, bool second) {
  const auto& full = second ? shape.input1_strides : shape.input2_strides;
  const auto& vector = second ? shape.input2_strides : shape.input1_strides;
  int64_t length = 1, stride = 1;
  bool in_suffix = true;
  for (int32_t d = shape.rank - 1; d >= 0; --d) {
    const int64_t dim = shape.output_dims[d];
    if (dim != 1 && full[d] != stride) return -1;  // the full operand is contiguous
    if (dim != 1 && in_suffix && vector[d] == stride) {
      length *= dim;
    } else if (dim != 1) {
      if (vector[d] != 0) return -1;
      in_suffix = false;
    }
    stride *= dim;
  }
  return length;
}

}  // namespace

bool prepare_packed_conv(const Graph& graph, const Op& op, KernelIsa isa,
                         const KernelOptions& options, Conv2dParams* params, PackedConv* packed) {
  Result<Conv2dParams> prepared = prepare_conv_2d(graph, op, options.requantization);
  const Tensor* bias = nullptr;
  if (!prepared.is_ok() || !constant_bias(graph, op, &bias)) return false;
  const Tensor& weights = graph.tensors[op.inputs[1]];
  if (!weights.is_constant ||
      !pack_conv(prepared.value(), weights, bias, conv_layout(isa), packed)) {
    return false;
  }
  *params = std::move(prepared).value();
  return true;
}

bool prepare_packed_depthwise(const Graph& graph, const Op& op, const KernelOptions& options,
                              DepthwiseConv2dParams* params, PackedDepthwise* packed) {
  Result<DepthwiseConv2dParams> prepared =
      prepare_depthwise_conv_2d(graph, op, options.requantization);
  const Tensor* bias = nullptr;
  if (!prepared.is_ok() || !constant_bias(graph, op, &bias)) return false;
  const Tensor& weights = graph.tensors[op.inputs[1]];
  if (!weights.is_constant || !pack_depthwise(prepared.value(), weights, bias, packed)) {
    return false;
  }
  *params = std::move(prepared).value();
  return true;
}

bool only_read_by(const Graph& graph, int32_t tensor, size_t reader) {
  for (int32_t out : graph.outputs) {
    if (out == tensor) return false;
  }
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (i == reader) continue;
    for (int32_t in : graph.ops[i].inputs) {
      if (in == tensor) return false;
    }
  }
  return true;
}

std::unique_ptr<Kernel> create_optimized_kernel(const Graph& graph, int op_index, KernelIsa isa,
                                                const KernelOptions& options) {
  const IsaKernels* table = kernels_for(isa);
  if (table == nullptr) return nullptr;
  const std::string_view name = kernel_isa_name(isa);
  const Op& op = graph.ops[op_index];
  switch (op.type) {
    case OpType::kConv2d: {
      Conv2dParams params;
      PackedConv packed;
      if (table->conv_2d == nullptr ||
          !prepare_packed_conv(graph, op, isa, options, &params, &packed)) {
        return nullptr;
      }
      const int64_t pixels =
          int64_t{params.output.batch} * params.output.height * params.output.width;
      return make(OptimizedConv{std::move(params), std::move(packed), table->conv_2d}, &run_conv,
                  pixels, op, name);
    }
    case OpType::kDepthwiseConv2d: {
      DepthwiseConv2dParams params;
      PackedDepthwise packed;
      if (table->depthwise_conv_2d == nullptr ||
          !prepare_packed_depthwise(graph, op, options, &params, &packed)) {
        return nullptr;
      }
      const int64_t rows = params.rows();
      return make(
          OptimizedDepthwise{std::move(params), std::move(packed), table->depthwise_conv_2d},
          &run_depthwise, rows, op, name);
    }
    case OpType::kAdd: {
      if (table->add == nullptr) return nullptr;
      Result<AddParams> params = prepare_add(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().type) || params.value().broadcast) {
        return nullptr;
      }
      const quant::AddQuantization& q = params.value().quantization;
      for (const quant::FixedPointMultiplier& m :
           {q.input1_multiplier, q.input2_multiplier, q.output_multiplier}) {
        if (params.value().xnnpack) break;  // XNNPACK's arithmetic has no such multipliers
        if (m.shift > 0 || m.shift < -31) return nullptr;  // the vector path shifts right only
      }
      const int64_t size = params.value().size;
      return make(OptimizedAdd{std::move(params).value(), table->add}, &run_add, size, op, name);
    }
    case OpType::kMul: {
      if (table->mul == nullptr) return nullptr;
      Result<MulParams> params = prepare_mul(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().type) || !params.value().xnnpack) {
        return nullptr;  // float32 and TFLite's built-in arithmetic: the reference kernel
      }
      OptimizedMul k{std::move(params).value(), {}, 0, false, table->mul};
      k.mul = *k.params.xnnpack;
      if (k.params.broadcast) {
        k.vector_length = repeated_vector_length(k.params, true);
        if (k.vector_length < 0) {
          k.vector_length = repeated_vector_length(k.params, false);
          k.swapped = true;
          std::swap(k.mul.input1_zero_point, k.mul.input2_zero_point);
        }
        if (k.vector_length < 0) return nullptr;
      }
      const int64_t size = k.params.size;
      return make(std::move(k), &run_mul, size, op, name);
    }
    case OpType::kSub: {
      // XNNPACK's SUB is its ADD with a negative second multiplier: ADD's micro-kernel runs it.
      if (table->add == nullptr) return nullptr;
      Result<SubParams> params = prepare_sub(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().type) || params.value().broadcast ||
          !params.value().xnnpack) {
        return nullptr;
      }
      AddParams add;
      add.type = params.value().type;
      add.size = params.value().size;
      add.xnnpack = params.value().xnnpack;
      add.activation_range = params.value().activation_range;
      const int64_t size = add.size;
      return make(OptimizedAdd{std::move(add), table->add}, &run_add, size, op, name);
    }
    case OpType::kHardSwish:
    case OpType::kLogistic: {
      Result<ActivationTableParams> params =
          op.type == OpType::kHardSwish ? prepare_hard_swish(graph, op, options.requantization)
                                        : prepare_logistic(graph, op, options.requantization);
      if (!params.is_ok()) return nullptr;
      const int64_t size = params.value().size;
      if (is_8bit(params.value().type)) {
        if (table->lookup_8bit == nullptr) return nullptr;
        return make(OptimizedLookup{std::move(params).value(), table->lookup_8bit},
                    &run_unary<OptimizedLookup>, size, op, name);
      }
      if (op.type != OpType::kHardSwish || table->hard_swish_float == nullptr ||
          params.value().requantization != Requantization::kXnnpack) {
        return nullptr;
      }
      return make(OptimizedHardSwishFloat{std::move(params).value(), table->hard_swish_float},
                  &run_hard_swish_float, size, op, name);
    }
    case OpType::kResizeBilinear: {
      if (table->resize_bilinear == nullptr) return nullptr;
      Result<ResizeBilinearParams> params =
          prepare_resize_bilinear(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().type)) return nullptr;
      if (!takes_optimized_resize(params.value())) return nullptr;
      const int64_t rows = params.value().output_rows();
      return make(OptimizedResize{std::move(params).value(), table->resize_bilinear},
                  &run_unary<OptimizedResize>, rows, op, name);
    }
    case OpType::kAveragePool2d: {
      if (table->average_pool_2d == nullptr) return nullptr;
      Result<AveragePool2dParams> params = prepare_average_pool_2d(graph, op);
      if (!params.is_ok() || !is_8bit(params.value().type)) return nullptr;
      const AveragePool2dParams& p = params.value();
      if (p.input.channels > kMaxPoolChannels) return nullptr;
      // Sums stay exact in int32: at most 255 per element in magnitude, window elements. (The
      // window's area fits int64; times 255 it might not, so the bound is divided instead.)
      if (int64_t{p.window.filter_h} * p.window.filter_w > INT32_MAX / 255) return nullptr;
      return make(OptimizedPool{p, table->average_pool_2d}, &run_unary<OptimizedPool>, p.rows(), op,
                  name);
    }
    case OpType::kQuantize: {
      if (table->quantize == nullptr) return nullptr;
      Result<QuantizeParams> params = prepare_quantize(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().input_type)) return nullptr;
      const quant::FixedPointMultiplier m = params.value().multiplier;
      if (m.shift > 23 || m.shift < -31) return nullptr;  // the vector path's exact range
      const int64_t size = params.value().size;
      return make(OptimizedQuantize{std::move(params).value(), table->quantize},
                  &run_unary<OptimizedQuantize>, size, op, name);
    }
    default:
      return nullptr;
  }
}

std::unique_ptr<Kernel> create_fused_resize_arg_max(const Graph& graph, int resize_index,
                                                    KernelIsa isa, Requantization requantization) {
  const IsaKernels* table = kernels_for(isa);
  if (table == nullptr || table->resize_arg_max == nullptr) return nullptr;
  if (resize_index < 0 || static_cast<size_t>(resize_index) + 1 >= graph.ops.size()) {
    return nullptr;
  }
  const Op& resize_op = graph.ops[resize_index];
  const Op& arg_max_op = graph.ops[resize_index + 1];
  if (resize_op.type != OpType::kResizeBilinear || arg_max_op.type != OpType::kArgMax) {
    return nullptr;
  }
  if (resize_op.outputs.size() != 1 || arg_max_op.inputs.empty() ||
      arg_max_op.outputs.size() != 1) {
    return nullptr;
  }
  const int32_t resized = resize_op.outputs[0];
  if (arg_max_op.inputs[0] != resized) return nullptr;
  if (!only_read_by(graph, resized, resize_index + 1)) return nullptr;
  Result<ResizeBilinearParams> resize = prepare_resize_bilinear(graph, resize_op, requantization);
  Result<ArgMaxParams> arg_max = prepare_arg_max(graph, arg_max_op);
  if (!resize.is_ok() || !arg_max.is_ok()) return nullptr;
  if (!takes_optimized_resize(resize.value())) return nullptr;  // the reference computes it
  ResizeArgMaxPlan plan;
  if (!plan_resize_arg_max(resize.value(), arg_max.value(), resize_arg_max_width(isa), &plan)) {
    return nullptr;
  }
  const int64_t rows = resize.value().output_rows();
  Op fused;  // reads the resize's input, writes the arg max's output
  fused.inputs = {resize_op.inputs[0]};
  fused.outputs = {arg_max_op.outputs[0]};
  return make(OptimizedResizeArgMax{std::move(resize).value(), arg_max.value(), std::move(plan),
                                    table->resize_arg_max},
              &run_resize_arg_max, rows, fused, kernel_isa_name(isa));
}

}  // namespace qseg::kernels::opt
