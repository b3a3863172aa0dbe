// The operator half of the .tflite reader: types, operator codes and options tables -> IR.
#include "tflite/read_ops.h"

#include <string>

namespace qseg::tflite_read {

namespace {

Result<Activation> map_activation(::tflite::ActivationFunctionType a) {
  switch (a) {
    case ::tflite::ActivationFunctionType::NONE:
      return Activation::kNone;
    case ::tflite::ActivationFunctionType::RELU:
      return Activation::kRelu;
    case ::tflite::ActivationFunctionType::RELU_N1_TO_1:
      return Activation::kReluN1To1;
    case ::tflite::ActivationFunctionType::RELU6:
      return Activation::kRelu6;
    default:
      break;
  }
  return Status::error("fused activation " + std::to_string(static_cast<int>(a)) +
                       " is not supported");
}

Result<Padding> map_padding(::tflite::Padding p) {
  switch (p) {
    case ::tflite::Padding::SAME:
      return Padding::kSame;
    case ::tflite::Padding::VALID:
      return Padding::kValid;
  }
  return Status::error("padding " + std::to_string(static_cast<int>(p)) + " is not valid");
}

Status check_positive(int32_t value, const char* what) {
  if (value < 1)
    return Status::error(std::string(what) + " must be >= 1, got " + std::to_string(value));
  return Status::ok();
}

// Each op expects one options table; a file may leave it out, meaning all defaults.
template <typename Options>
const Options* options_or_null(const ::tflite::Operator* op, ::tflite::BuiltinOptions expected,
                               Status* status) {
  if (op->builtin_options_type() == ::tflite::BuiltinOptions::NONE) return nullptr;
  if (op->builtin_options_type() != expected) {
    *status = Status::error(std::string("options are ") +
                            ::tflite::EnumNameBuiltinOptions(op->builtin_options_type()) +
                            ", expected " + ::tflite::EnumNameBuiltinOptions(expected));
    return nullptr;
  }
  return static_cast<const Options*>(op->builtin_options());
}

// The fields CONV_2D and DEPTHWISE_CONV_2D share: padding, activation, strides and dilations
// (from `f`; the defaults when it is null), each stride and dilation >= 1.
template <typename Flat, typename Options>
Status read_convolution_options(const Flat* f, Options* o) {
  if (f) {
    QSEG_ASSIGN_OR_RETURN(o->padding, map_padding(f->padding()));
    QSEG_ASSIGN_OR_RETURN(o->activation, map_activation(f->fused_activation_function()));
    o->stride_w = f->stride_w();
    o->stride_h = f->stride_h();
    o->dilation_w = f->dilation_w_factor();
    o->dilation_h = f->dilation_h_factor();
  }
  QSEG_RETURN_IF_ERROR(check_positive(o->stride_w, "stride_w"));
  QSEG_RETURN_IF_ERROR(check_positive(o->stride_h, "stride_h"));
  QSEG_RETURN_IF_ERROR(check_positive(o->dilation_w, "dilation_w_factor"));
  QSEG_RETURN_IF_ERROR(check_positive(o->dilation_h, "dilation_h_factor"));
  return Status::ok();
}

}  // namespace

Result<DataType> map_type(::tflite::TensorType type) {
  switch (type) {
    case ::tflite::TensorType::FLOAT32:
      return DataType::kFloat32;
    case ::tflite::TensorType::INT32:
      return DataType::kInt32;
    case ::tflite::TensorType::UINT8:
      return DataType::kUInt8;
    case ::tflite::TensorType::INT64:
      return DataType::kInt64;
    case ::tflite::TensorType::INT8:
      return DataType::kInt8;
    case ::tflite::TensorType::INT16:
      return DataType::kInt16;
    case ::tflite::TensorType::BOOL:
      return DataType::kBool;
    default:
      break;
  }
  const char* name = ::tflite::EnumNameTensorType(type);
  return Status::error(std::string("type ") +
                       (name && *name ? name : std::to_string(static_cast<int>(type))) +
                       " is not supported");
}

OpType map_op_type(::tflite::BuiltinOperator code) {
  using B = ::tflite::BuiltinOperator;
  switch (code) {
    case B::ADD:
      return OpType::kAdd;
    case B::AVERAGE_POOL_2D:
      return OpType::kAveragePool2d;
    case B::CONCATENATION:
      return OpType::kConcatenation;
    case B::CONV_2D:
      return OpType::kConv2d;
    case B::DEPTHWISE_CONV_2D:
      return OpType::kDepthwiseConv2d;
    case B::DEQUANTIZE:
      return OpType::kDequantize;
    case B::QUANTIZE:
      return OpType::kQuantize;
    case B::RESIZE_BILINEAR:
      return OpType::kResizeBilinear;
    case B::RESHAPE:
      return OpType::kReshape;
    case B::ARG_MAX:
      return OpType::kArgMax;
    case B::TILE:
      return OpType::kTile;
    case B::PAD:
      return OpType::kPad;
    case B::PADV2:
      return OpType::kPadV2;
    case B::SPACE_TO_BATCH_ND:
      return OpType::kSpaceToBatchNd;
    case B::BATCH_TO_SPACE_ND:
      return OpType::kBatchToSpaceNd;
    case B::RESIZE_NEAREST_NEIGHBOR:
      return OpType::kResizeNearestNeighbor;
    case B::CAST:
      return OpType::kCast;
    case B::MEAN:
      return OpType::kMean;
    case B::MUL:
      return OpType::kMul;
    case B::SUB:
      return OpType::kSub;
    case B::HARD_SWISH:
      return OpType::kHardSwish;
    case B::LOGISTIC:
      return OpType::kLogistic;
    default:
      break;
  }
  return OpType::kUnsupported;
}

UnsupportedOptions unsupported_options(::tflite::BuiltinOperator code,
                                       const ::tflite::OperatorCode* oc) {
  UnsupportedOptions o;
  o.builtin_code = static_cast<int32_t>(code);
  const char* name = ::tflite::EnumNameBuiltinOperator(code);
  o.tflite_name = name && *name ? name : "BUILTIN_" + std::to_string(o.builtin_code);
  if (code == ::tflite::BuiltinOperator::CUSTOM) {
    o.custom_code = oc->custom_code() ? oc->custom_code()->str() : std::string();
    if (o.custom_code.empty()) o.custom_code = "?";
  }
  return o;
}

Result<OpOptions> read_options(OpType type, const ::tflite::Operator* op) {
  using BO = ::tflite::BuiltinOptions;
  Status status;
  switch (type) {
    case OpType::kConv2d: {
      Conv2dOptions o;
      const auto* f = options_or_null<::tflite::Conv2DOptions>(op, BO::Conv2DOptions, &status);
      QSEG_RETURN_IF_ERROR(status);
      QSEG_RETURN_IF_ERROR(read_convolution_options(f, &o));
      return OpOptions(o);
    }
    case OpType::kDepthwiseConv2d: {
      DepthwiseConv2dOptions o;
      const auto* f = options_or_null<::tflite::DepthwiseConv2DOptions>(
          op, BO::DepthwiseConv2DOptions, &status);
      QSEG_RETURN_IF_ERROR(status);
      QSEG_RETURN_IF_ERROR(read_convolution_options(f, &o));
      if (f) o.depth_multiplier = f->depth_multiplier();
      QSEG_RETURN_IF_ERROR(check_positive(o.depth_multiplier, "depth_multiplier"));
      return OpOptions(o);
    }
    case OpType::kAveragePool2d: {
      Pool2dOptions o;
      if (const auto* f =
              options_or_null<::tflite::Pool2DOptions>(op, BO::Pool2DOptions, &status)) {
        QSEG_ASSIGN_OR_RETURN(o.padding, map_padding(f->padding()));
        QSEG_ASSIGN_OR_RETURN(o.activation, map_activation(f->fused_activation_function()));
        o.stride_w = f->stride_w();
        o.stride_h = f->stride_h();
        o.filter_w = f->filter_width();
        o.filter_h = f->filter_height();
      }
      QSEG_RETURN_IF_ERROR(status);
      QSEG_RETURN_IF_ERROR(check_positive(o.stride_w, "stride_w"));
      QSEG_RETURN_IF_ERROR(check_positive(o.stride_h, "stride_h"));
      QSEG_RETURN_IF_ERROR(check_positive(o.filter_w, "filter_width"));
      QSEG_RETURN_IF_ERROR(check_positive(o.filter_h, "filter_height"));
      return OpOptions(o);
    }
    case OpType::kAdd: {
      AddOptions o;
      if (const auto* f = options_or_null<::tflite::AddOptions>(op, BO::AddOptions, &status)) {
        QSEG_ASSIGN_OR_RETURN(o.activation, map_activation(f->fused_activation_function()));
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kConcatenation: {
      ConcatenationOptions o;
      if (const auto* f = options_or_null<::tflite::ConcatenationOptions>(
              op, BO::ConcatenationOptions, &status)) {
        QSEG_ASSIGN_OR_RETURN(o.activation, map_activation(f->fused_activation_function()));
        o.axis = f->axis();
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kResizeBilinear: {
      ResizeBilinearOptions o;
      if (const auto* f = options_or_null<::tflite::ResizeBilinearOptions>(
              op, BO::ResizeBilinearOptions, &status)) {
        o.align_corners = f->align_corners();
        o.half_pixel_centers = f->half_pixel_centers();
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kReshape: {
      ReshapeOptions o;
      if (const auto* f =
              options_or_null<::tflite::ReshapeOptions>(op, BO::ReshapeOptions, &status)) {
        if (f->new_shape()) o.new_shape.assign(f->new_shape()->begin(), f->new_shape()->end());
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kArgMax: {
      ArgMaxOptions o;
      if (const auto* f =
              options_or_null<::tflite::ArgMaxOptions>(op, BO::ArgMaxOptions, &status)) {
        QSEG_ASSIGN_OR_RETURN(o.output_type, map_type(f->output_type()));
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kResizeNearestNeighbor: {
      ResizeNearestNeighborOptions o;
      if (const auto* f = options_or_null<::tflite::ResizeNearestNeighborOptions>(
              op, BO::ResizeNearestNeighborOptions, &status)) {
        o.align_corners = f->align_corners();
        o.half_pixel_centers = f->half_pixel_centers();
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kMean: {
      MeanOptions o;
      if (const auto* f =
              options_or_null<::tflite::ReducerOptions>(op, BO::ReducerOptions, &status)) {
        o.keep_dims = f->keep_dims();
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kMul: {
      MulOptions o;
      if (const auto* f = options_or_null<::tflite::MulOptions>(op, BO::MulOptions, &status)) {
        QSEG_ASSIGN_OR_RETURN(o.activation, map_activation(f->fused_activation_function()));
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kSub: {
      // pot_scale_int16 concerns int16 kernels only, which qseg does not run.
      SubOptions o;
      if (const auto* f = options_or_null<::tflite::SubOptions>(op, BO::SubOptions, &status)) {
        QSEG_ASSIGN_OR_RETURN(o.activation, map_activation(f->fused_activation_function()));
      }
      QSEG_RETURN_IF_ERROR(status);
      return OpOptions(o);
    }
    case OpType::kDequantize:
    case OpType::kQuantize:
    case OpType::kTile:
    case OpType::kPad:
    case OpType::kPadV2:
    case OpType::kSpaceToBatchNd:
    case OpType::kBatchToSpaceNd:
    case OpType::kCast:
      return OpOptions();  // TFLite's options tables of these are empty or repeat tensor types
    case OpType::kUnsupported:
      break;  // the reader fills UnsupportedOptions from the operator code
    case OpType::kHardSwish:
    case OpType::kLogistic:
      return OpOptions();
  }
  return OpOptions();
}

}  // namespace qseg::tflite_read
