// The NEON micro-kernels (aarch64), declared for the dispatch table. conv_2d_dotprod's file is
// compiled for ARMv8.2-A with the dot product extension and must be called only when the CPU
// reports it; the others need only the Advanced SIMD every ARMv8-A CPU has.
#pragma once

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::neon {

// ConvLayout::kWideColumns.
void conv_2d(const Conv2dParams& params, const PackedConv& packed, const uint8_t* input,
             uint8_t* output, int64_t pixel_begin, int64_t pixel_end);
// ConvLayout::kDot.
void conv_2d_dotprod(const Conv2dParams& params, const PackedConv& packed, const uint8_t* input,
                     uint8_t* output, int64_t pixel_begin, int64_t pixel_end);
void depthwise_conv_2d(const DepthwiseConv2dParams& params, const PackedDepthwise& packed,
                       const uint8_t* input, uint8_t* output, int64_t row_begin, int64_t row_end,
                       int64_t output_row_base);
void add(const AddParams& params, const uint8_t* input1, const uint8_t* input2, uint8_t* output,
         int64_t begin, int64_t end);
void quantize(const QuantizeParams& params, const uint8_t* input, uint8_t* output, int64_t begin,
              int64_t end);
void resize_bilinear(const ResizeBilinearParams& params, const uint8_t* input, uint8_t* output,
                     int64_t row_begin, int64_t row_end);
// ResizeArgMaxPlan of width 8.
void resize_arg_max(const ResizeBilinearParams& resize, const ArgMaxParams& arg_max,
                    const ResizeArgMaxPlan& plan, const uint8_t* input, void* output,
                    int64_t row_begin, int64_t row_end);

}  // namespace qseg::kernels::opt::neon
