// The optimized kernels as the interpreter sees them: prepare (the reference prepare, then the
// packing), and run (the chosen instruction set's micro-kernel over the thread pool).
#include <cstdint>
#include <memory>
#include <utility>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt {

namespace {

const uint8_t* bytes_in(const KernelContext& c, int32_t tensor) {
  return static_cast<const uint8_t*>(c.tensors[tensor]);
}
uint8_t* bytes_out(const KernelContext& c, int32_t tensor) {
  return static_cast<uint8_t*>(c.tensors[tensor]);
}

class Conv2dKernel final : public Kernel {
 public:
  Conv2dKernel(Conv2dParams params, PackedConv packed, const IsaKernels& isa, std::string_view name,
               const Op& op)
      : params_(std::move(params)),
        packed_(std::move(packed)),
        fn_(isa.conv_2d),
        name_(name),
        input_(op.inputs[0]),
        output_(op.outputs[0]) {}
  void run(const KernelContext& c) const override {
    const int64_t pixels =
        int64_t{params_.output.batch} * params_.output.height * params_.output.width;
    c.pool->parallel_for(pixels, [&](int64_t begin, int64_t end) {
      fn_(params_, packed_, bytes_in(c, input_), bytes_out(c, output_), begin, end);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  Conv2dParams params_;
  PackedConv packed_;
  decltype(IsaKernels::conv_2d) fn_;
  std::string_view name_;
  int32_t input_, output_;
};

class DepthwiseConv2dKernel final : public Kernel {
 public:
  DepthwiseConv2dKernel(DepthwiseConv2dParams params, PackedDepthwise packed, const IsaKernels& isa,
                        std::string_view name, const Op& op)
      : params_(std::move(params)),
        packed_(std::move(packed)),
        fn_(isa.depthwise_conv_2d),
        name_(name),
        input_(op.inputs[0]),
        output_(op.outputs[0]) {}
  void run(const KernelContext& c) const override {
    c.pool->parallel_for(params_.rows(), [&](int64_t begin, int64_t end) {
      fn_(params_, packed_, bytes_in(c, input_), bytes_out(c, output_), begin, end, 0);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  DepthwiseConv2dParams params_;
  PackedDepthwise packed_;
  decltype(IsaKernels::depthwise_conv_2d) fn_;
  std::string_view name_;
  int32_t input_, output_;
};

class AddKernel final : public Kernel {
 public:
  AddKernel(AddParams params, const IsaKernels& isa, std::string_view name, const Op& op)
      : params_(std::move(params)),
        fn_(isa.add),
        name_(name),
        input1_(op.inputs[0]),
        input2_(op.inputs[1]),
        output_(op.outputs[0]) {}
  void run(const KernelContext& c) const override {
    c.pool->parallel_for(params_.size, [&](int64_t begin, int64_t end) {
      fn_(params_, bytes_in(c, input1_), bytes_in(c, input2_), bytes_out(c, output_), begin, end);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  AddParams params_;
  decltype(IsaKernels::add) fn_;
  std::string_view name_;
  int32_t input1_, input2_, output_;
};

class ResizeBilinearKernel final : public Kernel {
 public:
  ResizeBilinearKernel(ResizeBilinearParams params, const IsaKernels& isa, std::string_view name,
                       const Op& op)
      : params_(std::move(params)),
        fn_(isa.resize_bilinear),
        name_(name),
        input_(op.inputs[0]),
        output_(op.outputs[0]) {}
  void run(const KernelContext& c) const override {
    c.pool->parallel_for(params_.output_rows(), [&](int64_t begin, int64_t end) {
      fn_(params_, bytes_in(c, input_), bytes_out(c, output_), begin, end);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  ResizeBilinearParams params_;
  decltype(IsaKernels::resize_bilinear) fn_;
  std::string_view name_;
  int32_t input_, output_;
};

class AveragePool2dKernel final : public Kernel {
 public:
  AveragePool2dKernel(AveragePool2dParams params, const IsaKernels& isa, std::string_view name,
                      const Op& op)
      : params_(params),
        fn_(isa.average_pool_2d),
        name_(name),
        input_(op.inputs[0]),
        output_(op.outputs[0]) {}
  void run(const KernelContext& c) const override {
    c.pool->parallel_for(params_.rows(), [&](int64_t begin, int64_t end) {
      fn_(params_, bytes_in(c, input_), bytes_out(c, output_), begin, end);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  AveragePool2dParams params_;
  decltype(IsaKernels::average_pool_2d) fn_;
  std::string_view name_;
  int32_t input_, output_;
};

class QuantizeKernel final : public Kernel {
 public:
  QuantizeKernel(QuantizeParams params, const IsaKernels& isa, std::string_view name, const Op& op)
      : params_(params),
        fn_(isa.quantize),
        name_(name),
        input_(op.inputs[0]),
        output_(op.outputs[0]) {}
  void run(const KernelContext& c) const override {
    c.pool->parallel_for(params_.size, [&](int64_t begin, int64_t end) {
      fn_(params_, bytes_in(c, input_), bytes_out(c, output_), begin, end);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  QuantizeParams params_;
  decltype(IsaKernels::quantize) fn_;
  std::string_view name_;
  int32_t input_, output_;
};

class ResizeArgMaxKernel final : public Kernel {
 public:
  ResizeArgMaxKernel(ResizeBilinearParams resize, ArgMaxParams arg_max, ResizeArgMaxPlan plan,
                     const IsaKernels& isa, std::string_view name, int32_t input, int32_t output)
      : resize_(std::move(resize)),
        arg_max_(arg_max),
        plan_(std::move(plan)),
        fn_(isa.resize_arg_max),
        name_(name),
        input_(input),
        output_(output) {}
  void run(const KernelContext& c) const override {
    c.pool->parallel_for(resize_.output_rows(), [&](int64_t begin, int64_t end) {
      fn_(resize_, arg_max_, plan_, bytes_in(c, input_), c.tensors[output_], begin, end);
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  ResizeBilinearParams resize_;
  ArgMaxParams arg_max_;
  ResizeArgMaxPlan plan_;
  decltype(IsaKernels::resize_arg_max) fn_;
  std::string_view name_;
  int32_t input_, output_;
};

bool is_8bit(DataType type) { return type == DataType::kUInt8 || type == DataType::kInt8; }

// The constant bias of a convolution, or null when it has none; false when it is not constant.
bool constant_bias(const Graph& graph, const Op& op, const Tensor** bias) {
  *bias = nullptr;
  if (op.inputs.size() < 3 || op.inputs[2] == kNoTensor) return true;
  *bias = &graph.tensors[op.inputs[2]];
  return (*bias)->is_constant;
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
      return std::make_unique<Conv2dKernel>(std::move(params), std::move(packed), *table, name, op);
    }
    case OpType::kDepthwiseConv2d: {
      DepthwiseConv2dParams params;
      PackedDepthwise packed;
      if (table->depthwise_conv_2d == nullptr ||
          !prepare_packed_depthwise(graph, op, options, &params, &packed)) {
        return nullptr;
      }
      return std::make_unique<DepthwiseConv2dKernel>(std::move(params), std::move(packed), *table,
                                                     name, op);
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
      return std::make_unique<AddKernel>(std::move(params).value(), *table, name, op);
    }
    case OpType::kResizeBilinear: {
      if (table->resize_bilinear == nullptr) return nullptr;
      Result<ResizeBilinearParams> params =
          prepare_resize_bilinear(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().type)) return nullptr;
      if (params.value().xnnpack_int8) return nullptr;  // the reference kernel computes it
      return std::make_unique<ResizeBilinearKernel>(std::move(params).value(), *table, name, op);
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
      return std::make_unique<AveragePool2dKernel>(std::move(params).value(), *table, name, op);
    }
    case OpType::kQuantize: {
      if (table->quantize == nullptr) return nullptr;
      Result<QuantizeParams> params = prepare_quantize(graph, op, options.requantization);
      if (!params.is_ok() || !is_8bit(params.value().input_type)) return nullptr;
      const quant::FixedPointMultiplier m = params.value().multiplier;
      if (m.shift > 23 || m.shift < -31) return nullptr;  // the vector path's exact range
      return std::make_unique<QuantizeKernel>(std::move(params).value(), *table, name, op);
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
  if (resize.value().xnnpack_int8) return nullptr;  // unfused: the reference kernel computes it
  ResizeArgMaxPlan plan;
  if (!plan_resize_arg_max(resize.value(), arg_max.value(), resize_arg_max_width(isa), &plan)) {
    return nullptr;
  }
  return std::make_unique<ResizeArgMaxKernel>(std::move(resize).value(), arg_max.value(),
                                              std::move(plan), *table, kernel_isa_name(isa),
                                              resize_op.inputs[0], arg_max_op.outputs[0]);
}

}  // namespace qseg::kernels::opt
