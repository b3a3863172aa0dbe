// The optimized kernels: weights and quantization parameters packed once at prepare time in the
// layouts the SIMD micro-kernels read, the table of micro-kernels of each instruction set, and
// the entry points the kernel registry and the interpreter's fusion pass call.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/activation_table.h"
#include "kernels/add.h"
#include "kernels/arg_max.h"
#include "kernels/average_pool_2d.h"
#include "kernels/conv_2d.h"
#include "kernels/depthwise_conv_2d.h"
#include "kernels/kernel.h"
#include "kernels/mul.h"
#include "kernels/quantize.h"
#include "kernels/resize_bilinear.h"
#include "qseg/graph.h"
#include "qseg/kernel_isa.h"
#include "qseg/status.h"

namespace qseg::kernels::opt {

bool cpu_has_avx2();
bool cpu_has_avx512_vnni();
bool amx_usable();  // the CPU has AMX-INT8 and the OS lets this process use the tiles
bool cpu_has_neon();
bool cpu_has_neon_dotprod();  // the CPU reports the dot product instructions (SDOT, UDOT)
bool avx2_built();
bool avx512_built();
bool neon_built();

// The taps of a filter axis whose input index origin + tap * dilation falls in [0, size).
struct TapRange {
  int32_t first = 0, last = 0;  // [first, last)
};
inline TapRange valid_taps(int32_t origin, int32_t dilation, int32_t filter, int32_t size) {
  TapRange r{0, filter};
  while (r.first < filter && origin + r.first * dilation < 0) ++r.first;
  while (r.last > r.first && origin + (r.last - 1) * dilation >= size) --r.last;
  return r;
}

// Channels are processed in blocks of this many (one 512-bit vector of int32).
inline constexpr int32_t kChannelBlock = 16;
inline int32_t round_up(int32_t v, int32_t multiple) {
  return (v + multiple - 1) / multiple * multiple;
}

// Requantization of int32 accumulators, per output channel, padded to whole channel blocks
// (padding lanes hold harmless values). Vector kernels use it only when every shift is a right
// shift (shift <= 0, the case of every convolution whose multiplier is below 1); otherwise the
// op runs the reference kernel.
//
// TFLite's fixed-point path rounds twice; quant::single_rounding_shift nests both floors into
// one 64-bit floor. Per 64-bit lane the kernels need the multiplier and its nudge, shift and
// correction, stored per block of 16 channels as 8 even channels then 8 odd ones.
struct ChannelRequantization {
  bool fixed_point = true;              // Requantization::kFixedPoint, else kXnnpack
  std::vector<int32_t> multiplier;      // quantized multiplier, [2^30, 2^31) or 0
  std::vector<int32_t> right_shift;     // >= 0
  std::vector<int32_t> negative_shift;  // -right_shift (NEON's rounding shift takes -e)
  std::vector<float> scale;             // kXnnpack
  int32_t output_offset = 0;            // output zero point
  int32_t min = 0, max = 0;             // activation range, in output units
  // The 64-bit lane constants above for vectors of 16 channels ([block][even 8, odd 8]) and of
  // 8 channels ([block][even 4, odd 4]). sign_bias = 2^(63 - shift) lets a logical shift stand
  // in for the arithmetic one AVX2 lacks: x >> s = ((x ^ 2^63) >>> s) - 2^(63 - s).
  struct LaneConstants {
    std::vector<int64_t> multiplier, nudge, shift, correction, sign_bias;
  };
  LaneConstants lanes16, lanes8;
  // min - output_offset >= 0: every negative y ends clamped to min, so the correction for
  // negative values cannot change the output and is skipped.
  bool clamps_negatives = false;
  // min and max are the whole range of the 8-bit type: saturating packs clamp by themselves.
  bool full_range = false;
};
// From the reference kernels' ConvQuantization; false when a multiplier needs a left shift.
bool make_channel_requantization(const ConvQuantization& q, int32_t channels,
                                 ChannelRequantization* out);

// CONV_2D as a GEMM: rows are output pixels, the depth is k = KH * KW * I in the order
// (fy, fx, ic) of an im2col row, the columns are the output channels.
//   uint8:  sum (a - za)(w - zw) = sum a (w - 128) + (128 - zw) sum a - za sum (w - zw)
//   int8:   sum (a - za) w       = sum (a ^ 0x80) w - (128 + za) sum w
// so the micro-kernel multiplies unsigned input bytes by signed weight bytes (VNNI's
// VPDPBUSD) and the terms that do not depend on the input are folded into the bias. The
// arithmetic is int32 and wraps; prepare accepts only shapes whose exact sum fits in int32
// whatever the data, so the wrapped result is the exact one and equals the reference.
// The weight layouts of the convolution micro-kernels.
enum class ConvLayout : uint8_t {
  kVnni,         // AVX-512 VNNI, AMX: bytes in groups of 4 along k, unsigned input by signed weight
  kWidePairs,    // AVX2: int16 pairs along k (VPMADDWD)
  kWideColumns,  // NEON: int16, 16 channels per k (SMLAL by lane)
  kDot,          // NEON dot product: bytes in groups of 4 along k, both of the op's signedness
};
struct PackedConv {
  int32_t k = 0;
  int32_t k_padded = 0;  // multiple of 4
  int32_t n = 0;         // output channels
  int32_t n_blocks = 0;  // ceil(n / 16)
  bool direct = false;   // 1x1, stride 1, no padding, k % 4 == 0: an input pixel is a row
  // kVnni: [n_blocks][k_padded / 4][16][4], w - 128 (uint8) or w (int8), zero beyond n and k.
  // kDot: the same with the weight bytes as they are (UDOT for uint8, SDOT for int8).
  std::vector<int8_t> weights;
  std::vector<int32_t> bias;  // [n_blocks * 16], the folded terms included
  // Times the byte sum of the row (uint8 only): 128 - zw for kVnni, -zw for kDot; int8: 0.
  int32_t rowsum_coefficient = 0;
  uint32_t input_xor = 0;  // kVnni int8: 0x80808080 turns signed bytes into a + 128
  uint8_t pad_byte = 0;    // the input zero point: an out-of-image tap
  bool is_signed = false;
  ChannelRequantization requant;
  // The int16 layouts: sum (a - za)(w - zw) = sum a (w - zw) - za sum (w - zw), the inputs widened
  // to int16 (exact products: 255 * 255 < 2^31).
  int32_t wide_k_padded = 0;  // kWidePairs: multiple of 2; kWideColumns: multiple of 4
  // kWidePairs: [n_blocks * 2][wide_k_padded / 2][8][2]; kWideColumns: [n_blocks][wide_k_padded]
  // [16]; w - zw.
  std::vector<int16_t> wide_weights;
  std::vector<int32_t> wide_bias;  // [n_blocks * 16], bias - za sum (w - zw)
};
// Packs an 8-bit convolution in `layout`; false (the reference kernel runs) when it is not
// covered.
bool pack_conv(const Conv2dParams& params, const Tensor& weights, const Tensor* bias,
               ConvLayout layout, PackedConv* out);
// An output pixel of a convolution as (batch, y, x), stepped through consecutive pixels without
// the divisions of a flat index.
struct OutputPosition {
  int32_t batch = 0, y = 0, x = 0;
  OutputPosition(int64_t pixel, const Nhwc& output)
      : batch(static_cast<int32_t>(pixel / (int64_t{output.height} * output.width))),
        y(static_cast<int32_t>(pixel / output.width % output.height)),
        x(static_cast<int32_t>(pixel % output.width)) {}
  void next(const Nhwc& output) {
    if (++x < output.width) return;
    x = 0;
    if (++y < output.height) return;
    y = 0;
    ++batch;
  }
};
// The im2col rows of `count` consecutive output pixels from *at (advanced past them), row i at
// rows + i * row_stride: taps in (fy, fx, ic) order, out-of-image taps at the input zero point,
// zeros from k to padded_depth.
void im2col_rows(const Conv2dParams& params, const PackedConv& packed, const uint8_t* input,
                 OutputPosition* at, int count, int32_t padded_depth, uint8_t* rows,
                 int64_t row_stride);
// The reference requantization of one accumulator of `channel` (tails of vector loops).
int32_t requantize_scalar(const ChannelRequantization& r, int32_t accumulator, int32_t channel);
// The largest im2col row the micro-kernels keep on the stack.
inline constexpr int32_t kMaxIm2colDepth = 4096;

// DEPTHWISE_CONV_2D with depth multiplier 1: per tap, one int32 vector of weights with the
// weight offset applied; the input offset is applied to the input in the kernel.
struct PackedDepthwise {
  int32_t channels_padded = 0;
  int32_t taps = 0;
  std::vector<int32_t> weights;         // [taps][channels_padded], w + weights_offset
  std::vector<int16_t> narrow_weights;  // the same as int16 (|w + weights_offset| <= 255)
  std::vector<int32_t> bias;            // [channels_padded]
  // bias + input_offset * sum over taps of the weights: for outputs whose taps are all inside
  // the image, the kernel then multiplies the raw input (no offset per tap).
  std::vector<int32_t> interior_bias;
  // The same weights as int16 pairs of consecutive taps (t, t + 1) per channel, the last pair
  // of an odd tap count padded with 0: [pairs][channels_padded][2], for VPDPWSSD.
  std::vector<int16_t> pair_weights;
  // 3x3 filters: the taps paired down the columns instead, for a window that slides along the
  // row: [fx][channels_padded][2] holds (w(0, fx), w(1, fx)), and the third row (w(2, fx), 0).
  std::vector<int16_t> column_pair_weights, last_row_weights;
  int32_t input_offset = 0;
  bool is_signed = false;
  ChannelRequantization requant;
};
bool pack_depthwise(const DepthwiseConv2dParams& params, const Tensor& weights, const Tensor* bias,
                    PackedDepthwise* out);

// RESIZE_BILINEAR followed by ARG_MAX over the channels, without the resized tensor: blocks of
// `width` output columns (the vector width) read their input columns from a window of `width`
// starting at `base`.
struct ResizeArgMaxPlan {
  int32_t width = 16;
  // uint8 values with every interpolation weight in [0, 1]: each interpolated value lies in
  // [0, qmax + 1/2), so the kernel need not clamp nor round negative halves.
  bool non_negative = false;
  std::vector<int32_t> block_base;   // per block of 16 output columns
  std::vector<int32_t> lower_index;  // [out_w padded], lower - base of the column's block
  std::vector<int32_t> upper_index;
  std::vector<float> one_minus_fraction;  // 1 - dx
  std::vector<float> fraction;            // dx
  int32_t row_length = 0;                 // input width + 16: planar row stride in floats
};
// The average pool kernel keeps one int32 sum per channel on the stack.
inline constexpr int32_t kMaxPoolChannels = 4096;
// The fused kernel keeps its two planar rows on the stack, at most this many floats in all.
inline constexpr int64_t kResizeArgMaxPlaneFloats = 16384;
bool plan_resize_arg_max(const ResizeBilinearParams& resize, const ArgMaxParams& arg_max,
                         int32_t width, ResizeArgMaxPlan* out);

// Scalar pieces the vector kernels share (scalar.cc, built for the baseline CPU):
// One channel of a depthwise output pixel whose window starts at `origin` (tail channels).
uint8_t depthwise_channel(const DepthwiseConv2dParams& params, const PackedDepthwise& packed,
                          const uint8_t* origin, TapRange ty, TapRange tx, int32_t channel);
// One channel of a resized output pixel, the reference's expression (tail channels).
uint8_t resize_channel(const ResizeBilinearParams& params, const uint8_t* row0, const uint8_t* row1,
                       const InterpolationTap& ty, const InterpolationTap& tx, int32_t channel);
// The fused resize's planar rows: a0[c][x] = in(row0, x, c) * (1 - dy), a1[c][x] = in(row1, x, c)
// * dy (the first product of each term of the reference expression), rows plan.row_length apart.
void fill_planar_rows(const ResizeBilinearParams& params, const ResizeArgMaxPlan& plan,
                      const uint8_t* row0, const uint8_t* row1, float dy, float* a0, float* a1);

// One instruction set's micro-kernels; null entries fall back to the reference kernels. All
// 8-bit data pass as bytes; PackedConv/PackedDepthwise know whether they are signed.
struct IsaKernels {
  void (*conv_2d)(const Conv2dParams& params, const PackedConv& packed, const uint8_t* input,
                  uint8_t* output, int64_t pixel_begin, int64_t pixel_end) = nullptr;
  // `output` holds output rows from output_row_base on (0: the whole tensor).
  void (*depthwise_conv_2d)(const DepthwiseConv2dParams& params, const PackedDepthwise& packed,
                            const uint8_t* input, uint8_t* output, int64_t row_begin,
                            int64_t row_end, int64_t output_row_base) = nullptr;
  // ADD without broadcasting: XNNPACK's arithmetic, or fixed point with every multiplier a
  // right shift.
  void (*add)(const AddParams& params, const uint8_t* input1, const uint8_t* input2,
              uint8_t* output, int64_t begin, int64_t end) = nullptr;
  void (*resize_bilinear)(const ResizeBilinearParams& params, const uint8_t* input, uint8_t* output,
                          int64_t row_begin, int64_t row_end) = nullptr;
  // AVERAGE_POOL_2D over at most kMaxPoolChannels channels and windows whose sum fits int32.
  void (*average_pool_2d)(const AveragePool2dParams& params, const uint8_t* input, uint8_t* output,
                          int64_t row_begin, int64_t row_end) = nullptr;
  // QUANTIZE between 8-bit types whose left shift is at most 23 bits.
  void (*quantize)(const QuantizeParams& params, const uint8_t* input, uint8_t* output,
                   int64_t begin, int64_t end) = nullptr;
  void (*resize_arg_max)(const ResizeBilinearParams& resize, const ArgMaxParams& arg_max,
                         const ResizeArgMaxPlan& plan, const uint8_t* input, void* output,
                         int64_t row_begin, int64_t row_end) = nullptr;
  // 8-bit MUL in XNNPACK's arithmetic (quant::mul_xnnpack) of output elements [begin, end):
  // a[i] times b[i] (vector_length 0), or times b[i % vector_length] (a per-channel vector over
  // H and W, as squeeze-excite multiplies). `mul` holds a's zero point first.
  void (*mul)(const quant::XnnpackMul& mul, quant::QuantizedRange range, bool is_signed,
              const uint8_t* a, const uint8_t* b, int64_t vector_length, uint8_t* output,
              int64_t begin, int64_t end) = nullptr;
  // HARD_SWISH and LOGISTIC of 8-bit types: params.table looked up (ref::lookup_8bit).
  void (*lookup_8bit)(const ActivationTableParams& params, const uint8_t* input, uint8_t* output,
                      int64_t begin, int64_t end) = nullptr;
  // float32 HARD_SWISH in XNNPACK's formula (ref::hard_swish_float under kXnnpack).
  void (*hard_swish_float)(const ActivationTableParams& params, const float* input, float* output,
                           int64_t begin, int64_t end) = nullptr;
};
const IsaKernels* avx512_kernels();            // null when the build has no AVX-512 files
const IsaKernels* avx2_kernels();              // null when the build has no AVX2 files
const IsaKernels* neon_kernels();              // null when the build has no NEON files
const IsaKernels* kernels_for(KernelIsa isa);  // kAuto must be resolved first

// The convolution weight layout and the fused resize + arg max block width of `isa`'s kernels.
ConvLayout conv_layout(KernelIsa isa);
int32_t resize_arg_max_width(KernelIsa isa);

// An op's params (the reference prepare, options' requantization) and its weights packed for
// `isa`; false when weights or bias are not constant or the packing does not cover the op.
bool prepare_packed_conv(const Graph& graph, const Op& op, KernelIsa isa,
                         const KernelOptions& options, Conv2dParams* params, PackedConv* packed);
bool prepare_packed_depthwise(const Graph& graph, const Op& op, const KernelOptions& options,
                              DepthwiseConv2dParams* params, PackedDepthwise* packed);
// Whether `tensor` is read by op `reader` alone and is not a graph output (fusion may then
// skip it).
bool only_read_by(const Graph& graph, int32_t tensor, size_t reader);

// The optimized kernel of op `op_index` for `isa`, or null when the op (type, data type,
// configuration) is not covered and the reference kernel should run.
std::unique_ptr<Kernel> create_optimized_kernel(const Graph& graph, int op_index, KernelIsa isa,
                                                const KernelOptions& options);

// Whether ops `resize_index` (RESIZE_BILINEAR) and `resize_index + 1` (ARG_MAX over the last
// axis of the resized tensor, its only reader) can run as one kernel, and that kernel; null
// when they cannot. The resized tensor is then never written. A kernel is made only when both
// ops pass their own prepare (the fusion pass relies on it).
std::unique_ptr<Kernel> create_fused_resize_arg_max(const Graph& graph, int resize_index,
                                                    KernelIsa isa, Requantization requantization);

// Whether ops first..first+2 (1x1 CONV_2D, DEPTHWISE_CONV_2D, 1x1 CONV_2D, batch 1, each
// intermediate read only by the next op) can run as one kernel in bands of rows, and that
// kernel; null when they cannot. The two intermediate tensors are then never written. A kernel
// is made only when the three ops pass their own prepare (the fusion pass relies on it).
std::unique_ptr<Kernel> create_fused_inverted_residual(const Graph& graph, int first, KernelIsa isa,
                                                       const KernelOptions& options);

}  // namespace qseg::kernels::opt
