// The kernel registry: create_kernel() prepares an op's params and wraps them, with the op's
// tensor indices, in a PreparedKernel that runs the reference kernel of the op's data types.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/validate.h"
#include "kernels/add.h"
#include "kernels/arg_max.h"
#include "kernels/average_pool_2d.h"
#include "kernels/batch_to_space_nd.h"
#include "kernels/cast.h"
#include "kernels/concatenation.h"
#include "kernels/conv_2d.h"
#include "kernels/depthwise_conv_2d.h"
#include "kernels/hard_swish.h"
#include "kernels/kernel.h"
#include "kernels/logistic.h"
#include "kernels/mean.h"
#include "kernels/mul.h"
#include "kernels/opt/optimized.h"
#include "kernels/pad.h"
#include "kernels/prepared_kernel.h"
#include "kernels/quantize.h"
#include "kernels/reshape.h"
#include "kernels/resize_bilinear.h"
#include "kernels/resize_nearest_neighbor.h"
#include "kernels/space_to_batch_nd.h"
#include "kernels/tile.h"
#include "kernels/sub.h"

namespace qseg {

namespace {

using kernels::ActivationTableParams;
using kernels::AddParams;
using kernels::ArgMaxParams;
using kernels::AveragePool2dParams;
using kernels::BatchToSpaceNdParams;
using kernels::CastParams;
using kernels::ConcatenationParams;
using kernels::Conv2dParams;
using kernels::DepthwiseConv2dParams;
using kernels::DequantizeParams;
using kernels::MeanParams;
using kernels::MulParams;
using kernels::PadParams;
using kernels::QuantizeParams;
using kernels::ReshapeParams;
using kernels::ResizeBilinearParams;
using kernels::ResizeNearestNeighborParams;
using kernels::SpaceToBatchNdParams;
using kernels::SubParams;
using kernels::TileParams;

using kernels::KernelIo;
using kernels::RunChoice;
template <typename Params>
using RunFn = typename kernels::PreparedKernel<Params>::RunFn;

// The run function of the params' data type: uint8, int8, else float32.
template <typename Params>
RunFn<Params> for_type(DataType type, RunFn<Params> uint8, RunFn<Params> int8,
                       RunFn<Params> float32) {
  if (type == DataType::kUInt8) return uint8;
  return type == DataType::kInt8 ? int8 : float32;
}

// CONV_2D and DEPTHWISE_CONV_2D: input, weights, optional bias -> output.
template <typename Params, typename T, typename Bias, auto Fn>
void run_convolution(const Params& p, const KernelIo& io, int64_t begin, int64_t end) {
  Fn(p, io.in<T>(0), io.in<T>(1), io.optional_in<Bias>(2), io.out<T>(0), begin, end);
}
template <typename Params, auto U8, auto I8, auto F32>
RunChoice<Params> convolution(const Params& p) {
  return {for_type<Params>(p.type, &run_convolution<Params, uint8_t, int32_t, U8>,
                           &run_convolution<Params, int8_t, int32_t, I8>,
                           &run_convolution<Params, float, float, F32>),
          p.rows()};
}

// One input -> one output of the same type (AVERAGE_POOL_2D, RESIZE_BILINEAR).
template <typename Params, typename T, auto Fn>
void run_unary(const Params& p, const KernelIo& io, int64_t begin, int64_t end) {
  Fn(p, io.in<T>(0), io.out<T>(0), begin, end);
}
template <typename Params, auto U8, auto I8, auto F32>
RunFn<Params> unary(DataType type) {
  return for_type<Params>(type, &run_unary<Params, uint8_t, U8>, &run_unary<Params, int8_t, I8>,
                          &run_unary<Params, float, F32>);
}

// Two inputs -> one output of the same type (ADD, MUL, SUB).
template <typename Params, typename T, auto Fn>
void run_binary(const Params& p, const KernelIo& io, int64_t begin, int64_t end) {
  Fn(p, io.in<T>(0), io.in<T>(1), io.out<T>(0), begin, end);
}
template <typename Params, auto U8, auto I8, auto F32>
RunChoice<Params> binary(const Params& p) {
  return {for_type<Params>(p.type, &run_binary<Params, uint8_t, U8>,
                           &run_binary<Params, int8_t, I8>, &run_binary<Params, float, F32>),
          p.size};
}

// Every input copied (or requantized) into its slice of the output.
template <typename T, auto Fn>
void run_concatenation(const ConcatenationParams& p, const KernelIo& io, int64_t begin,
                       int64_t end) {
  for (size_t i = 0; i < io.inputs.size(); ++i) {
    Fn(p, static_cast<int>(i), io.in<T>(i), io.out<T>(0), begin, end);
  }
}

// The ops whose kernels take untyped data (they dispatch on the params' types themselves).
void run_quantize(const QuantizeParams& p, const KernelIo& io, int64_t begin, int64_t end) {
  kernels::ref::quantize(p, io.in<void>(0), io.out<void>(0), begin, end);
}
void run_dequantize(const DequantizeParams& p, const KernelIo& io, int64_t begin, int64_t end) {
  kernels::ref::dequantize(p, io.in<void>(0), io.out<float>(0), begin, end);
}
void run_arg_max(const ArgMaxParams& p, const KernelIo& io, int64_t begin, int64_t end) {
  kernels::ref::arg_max(p, io.in<void>(0), io.out<void>(0), begin, end);
}
// One unit: a copy (or nothing, when the output aliases the input).
void run_reshape(const ReshapeParams& p, const KernelIo& io, int64_t, int64_t) {
  kernels::ref::reshape(p, io.in<void>(0), io.out<void>(0));
}

// Data movement (TILE, PAD, ...): untyped bytes in, untyped bytes out, over units of rows.
template <typename Params, auto Fn>
void run_bytes(const Params& p, const KernelIo& io, int64_t begin, int64_t end) {
  Fn(p, io.in<void>(0), io.out<void>(0), begin, end);
}
RunChoice<TileParams> reference_tile(const TileParams& p) {
  return {&run_bytes<TileParams, &kernels::ref::tile>, p.rows};
}
RunChoice<PadParams> reference_pad(const PadParams& p) {
  return {&run_bytes<PadParams, &kernels::ref::pad>, p.rows};
}
RunChoice<SpaceToBatchNdParams> reference_space_to_batch_nd(const SpaceToBatchNdParams& p) {
  return {&run_bytes<SpaceToBatchNdParams, &kernels::ref::space_to_batch_nd>, p.output_rows()};
}
RunChoice<BatchToSpaceNdParams> reference_batch_to_space_nd(const BatchToSpaceNdParams& p) {
  return {&run_bytes<BatchToSpaceNdParams, &kernels::ref::batch_to_space_nd>, p.output_rows()};
}
RunChoice<ResizeNearestNeighborParams> reference_resize_nearest_neighbor(
    const ResizeNearestNeighborParams& p) {
  return {&run_bytes<ResizeNearestNeighborParams, &kernels::ref::resize_nearest_neighbor>,
          p.output_rows()};
}
RunChoice<CastParams> reference_cast(const CastParams& p) {
  return {&run_bytes<CastParams, &kernels::ref::cast>, p.size};
}

RunChoice<MeanParams> reference_mean(const MeanParams& p) {
  return {unary<MeanParams, &kernels::ref::mean_uint8, &kernels::ref::mean_int8,
                &kernels::ref::mean_float>(p.type),
          p.outputs};
}
// HARD_SWISH and LOGISTIC: 8-bit types (as bytes) look their table up, float32 computes `Float`.
template <auto Float>
RunChoice<ActivationTableParams> reference_activation(const ActivationTableParams& p) {
  using P = ActivationTableParams;
  constexpr auto lookup = &run_unary<P, uint8_t, &kernels::ref::lookup_8bit>;
  return {for_type<P>(p.type, lookup, lookup, &run_unary<P, float, Float>), p.size};
}
RunChoice<AveragePool2dParams> reference_average_pool_2d(const AveragePool2dParams& p) {
  return {unary<AveragePool2dParams, &kernels::ref::average_pool_2d_uint8,
                &kernels::ref::average_pool_2d_int8, &kernels::ref::average_pool_2d_float>(p.type),
          p.rows()};
}
RunChoice<ResizeBilinearParams> reference_resize_bilinear(const ResizeBilinearParams& p) {
  return {unary<ResizeBilinearParams, &kernels::ref::resize_bilinear_uint8,
                &kernels::ref::resize_bilinear_int8, &kernels::ref::resize_bilinear_float>(p.type),
          p.output_rows()};
}
RunChoice<ConcatenationParams> reference_concatenation(const ConcatenationParams& p) {
  return {for_type<ConcatenationParams>(
              p.type, &run_concatenation<uint8_t, &kernels::ref::concatenation_uint8>,
              &run_concatenation<int8_t, &kernels::ref::concatenation_int8>,
              &run_concatenation<void, &kernels::ref::concatenation_copy>),
          p.outer};
}

RunChoice<QuantizeParams> reference_quantize(const QuantizeParams& p) {
  return {&run_quantize, p.size};
}
RunChoice<DequantizeParams> reference_dequantize(const DequantizeParams& p) {
  return {&run_dequantize, p.size};
}
RunChoice<ArgMaxParams> reference_arg_max(const ArgMaxParams& p) { return {&run_arg_max, p.outer}; }
RunChoice<ReshapeParams> reference_reshape(const ReshapeParams&) { return {&run_reshape, 1}; }

// The reference kernel of `op` with its prepared params, or the prepare's error.
template <typename Params>
Result<std::unique_ptr<Kernel>> make(Result<Params> prepared, const Op& op,
                                     RunChoice<Params> (*choose)(const Params&)) {
  if (!prepared.is_ok()) return prepared.status();
  Params params = std::move(prepared).value();
  const RunChoice<Params> choice = choose(params);
  return kernels::make_prepared_kernel(std::move(params), choice, op, "reference");
}

Result<std::unique_ptr<Kernel>> create_for_op(const Graph& graph, const Op& op,
                                              const KernelOptions& options) {
  const Requantization r = options.requantization;
  switch (op.type) {
    case OpType::kConv2d:
      return make(kernels::prepare_conv_2d(graph, op, r), op,
                  &convolution<Conv2dParams, &kernels::ref::conv_2d_uint8,
                               &kernels::ref::conv_2d_int8, &kernels::ref::conv_2d_float>);
    case OpType::kDepthwiseConv2d:
      return make(kernels::prepare_depthwise_conv_2d(graph, op, r), op,
                  &convolution<DepthwiseConv2dParams, &kernels::ref::depthwise_conv_2d_uint8,
                               &kernels::ref::depthwise_conv_2d_int8,
                               &kernels::ref::depthwise_conv_2d_float>);
    case OpType::kAdd:
      return make(kernels::prepare_add(graph, op, r), op,
                  &binary<AddParams, &kernels::ref::add_uint8, &kernels::ref::add_int8,
                          &kernels::ref::add_float>);
    case OpType::kMul:
      return make(kernels::prepare_mul(graph, op, r), op,
                  &binary<MulParams, &kernels::ref::mul_uint8, &kernels::ref::mul_int8,
                          &kernels::ref::mul_float>);
    case OpType::kSub:
      return make(kernels::prepare_sub(graph, op, r), op,
                  &binary<SubParams, &kernels::ref::sub_uint8, &kernels::ref::sub_int8,
                          &kernels::ref::sub_float>);
    case OpType::kMean:
      return make(kernels::prepare_mean(graph, op, r), op, &reference_mean);
    case OpType::kHardSwish:
      return make(kernels::prepare_hard_swish(graph, op, r), op,
                  &reference_activation<&kernels::ref::hard_swish_float>);
    case OpType::kLogistic:
      return make(kernels::prepare_logistic(graph, op, r), op,
                  &reference_activation<&kernels::ref::logistic_float>);
    case OpType::kAveragePool2d:
      return make(kernels::prepare_average_pool_2d(graph, op), op, &reference_average_pool_2d);
    case OpType::kResizeBilinear:
      return make(kernels::prepare_resize_bilinear(graph, op, r), op, &reference_resize_bilinear);
    case OpType::kQuantize:
      return make(kernels::prepare_quantize(graph, op, r), op, &reference_quantize);
    case OpType::kDequantize:
      return make(kernels::prepare_dequantize(graph, op), op, &reference_dequantize);
    case OpType::kConcatenation:
      return make(kernels::prepare_concatenation(graph, op), op, &reference_concatenation);
    case OpType::kArgMax:
      return make(kernels::prepare_arg_max(graph, op), op, &reference_arg_max);
    case OpType::kReshape:
      return make(kernels::prepare_reshape(graph, op), op, &reference_reshape);
    case OpType::kTile:
      return make(kernels::prepare_tile(graph, op), op, &reference_tile);
    case OpType::kPad:
    case OpType::kPadV2:
      return make(kernels::prepare_pad(graph, op), op, &reference_pad);
    case OpType::kSpaceToBatchNd:
      return make(kernels::prepare_space_to_batch_nd(graph, op), op, &reference_space_to_batch_nd);
    case OpType::kBatchToSpaceNd:
      return make(kernels::prepare_batch_to_space_nd(graph, op), op, &reference_batch_to_space_nd);
    case OpType::kResizeNearestNeighbor:
      return make(kernels::prepare_resize_nearest_neighbor(graph, op), op,
                  &reference_resize_nearest_neighbor);
    case OpType::kCast:
      return make(kernels::prepare_cast(graph, op), op, &reference_cast);
    case OpType::kUnsupported:
      return unsupported_op_error(op);
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
    return kernel.status().with_context("op " + std::to_string(op_index) + " (" + op_name(op) +
                                        ")");
  }
  return kernel;
}

}  // namespace qseg
