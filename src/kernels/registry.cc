// The kernel registry: create_kernel() prepares an op's params and wraps them, with the op's
// tensor indices, in a small Kernel that calls the reference kernel on the interpreter's buffers.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/add.h"
#include "kernels/arg_max.h"
#include "kernels/average_pool_2d.h"
#include "kernels/concatenation.h"
#include "kernels/conv_2d.h"
#include "kernels/depthwise_conv_2d.h"
#include "kernels/kernel.h"
#include "kernels/opt/optimized.h"
#include "kernels/quantize.h"
#include "kernels/reshape.h"
#include "kernels/resize_bilinear.h"

namespace qseg {

namespace {

using kernels::AddParams;
using kernels::ArgMaxParams;
using kernels::AveragePool2dParams;
using kernels::ConcatenationParams;
using kernels::Conv2dParams;
using kernels::DepthwiseConv2dParams;
using kernels::DequantizeParams;
using kernels::QuantizeParams;
using kernels::ReshapeParams;
using kernels::ResizeBilinearParams;

template <typename T>
const T* in(const KernelContext& context, int32_t tensor) {
  return static_cast<const T*>(context.tensors[tensor]);
}
template <typename T>
T* out(const KernelContext& context, int32_t tensor) {
  return static_cast<T*>(context.tensors[tensor]);
}
// An optional input: null when the op has none.
template <typename T>
const T* optional_in(const KernelContext& context, int32_t tensor) {
  return tensor == kNoTensor ? nullptr : in<T>(context, tensor);
}

int32_t optional_input(const Op& op, size_t index) {
  return index < op.inputs.size() ? op.inputs[index] : kNoTensor;
}

// The parts every kernel keeps: its params and the op's tensor indices.
template <typename Params>
class OpKernel : public Kernel {
 public:
  OpKernel(Params params, const Op& op)
      : params_(std::move(params)), inputs_(op.inputs), outputs_(op.outputs) {}

 protected:
  Params params_;
  std::vector<int32_t> inputs_;
  std::vector<int32_t> outputs_;
};

class Conv2dKernel final : public OpKernel<Conv2dParams> {
 public:
  Conv2dKernel(Conv2dParams params, const Op& op)
      : OpKernel(std::move(params), op), bias_(optional_input(op, 2)) {}
  void run(const KernelContext& c) const override {
    const int32_t x = inputs_[0], w = inputs_[1], y = outputs_[0];
    c.pool->parallel_for(params_.rows(), [&](int64_t begin, int64_t end) {
      switch (params_.type) {
        case DataType::kUInt8:
          return kernels::ref::conv_2d_uint8(params_, in<uint8_t>(c, x), in<uint8_t>(c, w),
                                             optional_in<int32_t>(c, bias_), out<uint8_t>(c, y),
                                             begin, end);
        case DataType::kInt8:
          return kernels::ref::conv_2d_int8(params_, in<int8_t>(c, x), in<int8_t>(c, w),
                                            optional_in<int32_t>(c, bias_), out<int8_t>(c, y),
                                            begin, end);
        default:
          return kernels::ref::conv_2d_float(params_, in<float>(c, x), in<float>(c, w),
                                             optional_in<float>(c, bias_), out<float>(c, y), begin,
                                             end);
      }
    });
  }

 private:
  int32_t bias_;
};

class DepthwiseConv2dKernel final : public OpKernel<DepthwiseConv2dParams> {
 public:
  DepthwiseConv2dKernel(DepthwiseConv2dParams params, const Op& op)
      : OpKernel(std::move(params), op), bias_(optional_input(op, 2)) {}
  void run(const KernelContext& c) const override {
    const int32_t x = inputs_[0], w = inputs_[1], y = outputs_[0];
    c.pool->parallel_for(params_.rows(), [&](int64_t begin, int64_t end) {
      switch (params_.type) {
        case DataType::kUInt8:
          return kernels::ref::depthwise_conv_2d_uint8(
              params_, in<uint8_t>(c, x), in<uint8_t>(c, w), optional_in<int32_t>(c, bias_),
              out<uint8_t>(c, y), begin, end);
        case DataType::kInt8:
          return kernels::ref::depthwise_conv_2d_int8(params_, in<int8_t>(c, x), in<int8_t>(c, w),
                                                      optional_in<int32_t>(c, bias_),
                                                      out<int8_t>(c, y), begin, end);
        default:
          return kernels::ref::depthwise_conv_2d_float(params_, in<float>(c, x), in<float>(c, w),
                                                       optional_in<float>(c, bias_),
                                                       out<float>(c, y), begin, end);
      }
    });
  }

 private:
  int32_t bias_;
};

class AddKernel final : public OpKernel<AddParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    const int32_t a = inputs_[0], b = inputs_[1], y = outputs_[0];
    c.pool->parallel_for(params_.size, [&](int64_t begin, int64_t end) {
      switch (params_.type) {
        case DataType::kUInt8:
          return kernels::ref::add_uint8(params_, in<uint8_t>(c, a), in<uint8_t>(c, b),
                                         out<uint8_t>(c, y), begin, end);
        case DataType::kInt8:
          return kernels::ref::add_int8(params_, in<int8_t>(c, a), in<int8_t>(c, b),
                                        out<int8_t>(c, y), begin, end);
        default:
          return kernels::ref::add_float(params_, in<float>(c, a), in<float>(c, b),
                                         out<float>(c, y), begin, end);
      }
    });
  }
};

class AveragePool2dKernel final : public OpKernel<AveragePool2dParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    const int32_t x = inputs_[0], y = outputs_[0];
    c.pool->parallel_for(params_.rows(), [&](int64_t begin, int64_t end) {
      switch (params_.type) {
        case DataType::kUInt8:
          return kernels::ref::average_pool_2d_uint8(params_, in<uint8_t>(c, x), out<uint8_t>(c, y),
                                                     begin, end);
        case DataType::kInt8:
          return kernels::ref::average_pool_2d_int8(params_, in<int8_t>(c, x), out<int8_t>(c, y),
                                                    begin, end);
        default:
          return kernels::ref::average_pool_2d_float(params_, in<float>(c, x), out<float>(c, y),
                                                     begin, end);
      }
    });
  }
};

class ResizeBilinearKernel final : public OpKernel<ResizeBilinearParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    const int32_t x = inputs_[0], y = outputs_[0];
    c.pool->parallel_for(params_.output_rows(), [&](int64_t begin, int64_t end) {
      switch (params_.type) {
        case DataType::kUInt8:
          return kernels::ref::resize_bilinear_uint8(params_, in<uint8_t>(c, x), out<uint8_t>(c, y),
                                                     begin, end);
        case DataType::kInt8:
          return kernels::ref::resize_bilinear_int8(params_, in<int8_t>(c, x), out<int8_t>(c, y),
                                                    begin, end);
        default:
          return kernels::ref::resize_bilinear_float(params_, in<float>(c, x), out<float>(c, y),
                                                     begin, end);
      }
    });
  }
};

class QuantizeKernel final : public OpKernel<QuantizeParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    const void* x = c.tensors[inputs_[0]];
    void* y = c.tensors[outputs_[0]];
    c.pool->parallel_for(params_.size, [&](int64_t begin, int64_t end) {
      kernels::ref::quantize(params_, x, y, begin, end);
    });
  }
};

class DequantizeKernel final : public OpKernel<DequantizeParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    const void* x = c.tensors[inputs_[0]];
    auto* y = out<float>(c, outputs_[0]);
    c.pool->parallel_for(params_.size, [&](int64_t begin, int64_t end) {
      kernels::ref::dequantize(params_, x, y, begin, end);
    });
  }
};

class ConcatenationKernel final : public OpKernel<ConcatenationParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    void* y = c.tensors[outputs_[0]];
    c.pool->parallel_for(params_.outer, [&](int64_t begin, int64_t end) {
      for (size_t i = 0; i < inputs_.size(); ++i) {
        const int index = static_cast<int>(i);
        const void* x = c.tensors[inputs_[i]];
        if (params_.type == DataType::kUInt8) {
          kernels::ref::concatenation_uint8(params_, index, static_cast<const uint8_t*>(x),
                                            static_cast<uint8_t*>(y), begin, end);
        } else if (params_.type == DataType::kInt8) {
          kernels::ref::concatenation_int8(params_, index, static_cast<const int8_t*>(x),
                                           static_cast<int8_t*>(y), begin, end);
        } else {
          kernels::ref::concatenation_copy(params_, index, x, y, begin, end);
        }
      }
    });
  }
};

class ArgMaxKernel final : public OpKernel<ArgMaxParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    const void* x = c.tensors[inputs_[0]];
    void* y = c.tensors[outputs_[0]];
    c.pool->parallel_for(params_.outer, [&](int64_t begin, int64_t end) {
      kernels::ref::arg_max(params_, x, y, begin, end);
    });
  }
};

class ReshapeKernel final : public OpKernel<ReshapeParams> {
 public:
  using OpKernel::OpKernel;
  void run(const KernelContext& c) const override {
    kernels::ref::reshape(params_, c.tensors[inputs_[0]], c.tensors[outputs_[0]]);
  }
};

template <typename K, typename Params>
Result<std::unique_ptr<Kernel>> make(Result<Params> params, const Op& op) {
  if (!params.is_ok()) return params.status();
  return std::unique_ptr<Kernel>(std::make_unique<K>(std::move(params).value(), op));
}

Result<std::unique_ptr<Kernel>> create_for_op(const Graph& graph, const Op& op,
                                              const KernelOptions& options) {
  switch (op.type) {
    case OpType::kConv2d:
      return make<Conv2dKernel>(kernels::prepare_conv_2d(graph, op, options.requantization), op);
    case OpType::kDepthwiseConv2d:
      return make<DepthwiseConv2dKernel>(
          kernels::prepare_depthwise_conv_2d(graph, op, options.requantization), op);
    case OpType::kAdd:
      return make<AddKernel>(kernels::prepare_add(graph, op, options.requantization), op);
    case OpType::kAveragePool2d:
      return make<AveragePool2dKernel>(kernels::prepare_average_pool_2d(graph, op), op);
    case OpType::kResizeBilinear:
      return make<ResizeBilinearKernel>(
          kernels::prepare_resize_bilinear(graph, op, options.requantization), op);
    case OpType::kQuantize:
      return make<QuantizeKernel>(kernels::prepare_quantize(graph, op, options.requantization), op);
    case OpType::kDequantize:
      return make<DequantizeKernel>(kernels::prepare_dequantize(graph, op), op);
    case OpType::kConcatenation:
      return make<ConcatenationKernel>(kernels::prepare_concatenation(graph, op), op);
    case OpType::kArgMax:
      return make<ArgMaxKernel>(kernels::prepare_arg_max(graph, op), op);
    case OpType::kReshape:
      return make<ReshapeKernel>(kernels::prepare_reshape(graph, op), op);
  }
  return Status::error("no kernel for op type " + std::to_string(static_cast<int>(op.type)));
}

}  // namespace

Result<std::unique_ptr<Kernel>> create_kernel(const Graph& graph, int op_index,
                                              const KernelOptions& options) {
  if (op_index < 0 || static_cast<size_t>(op_index) >= graph.ops.size()) {
    return Status::error("op index " + std::to_string(op_index) +
                         " is out of range: the graph has " + std::to_string(graph.ops.size()) +
                         " ops");
  }
  const Op& op = graph.ops[op_index];
  if (options.isa != KernelIsa::kReference && options.isa != KernelIsa::kAuto) {
    std::unique_ptr<Kernel> optimized =
        kernels::opt::create_optimized_kernel(graph, op_index, options.isa, options);
    if (optimized != nullptr) return optimized;
  }
  Result<std::unique_ptr<Kernel>> kernel = create_for_op(graph, op, options);
  if (!kernel.is_ok()) {
    return kernel.status().with_context("op " + std::to_string(op_index) + " (" +
                                        std::string(op_type_name(op.type)) + ")");
  }
  return kernel;
}

}  // namespace qseg
