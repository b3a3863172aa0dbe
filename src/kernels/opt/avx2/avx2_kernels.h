// The AVX2 micro-kernels, declared for the dispatch table; their files are compiled with AVX2
// enabled and must be called only when the CPU reports it.
#pragma once

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt::avx2 {

void conv_2d(const Conv2dParams& params, const PackedConv& packed, const uint8_t* input,
             uint8_t* output, int64_t pixel_begin, int64_t pixel_end);
void depthwise_conv_2d(const DepthwiseConv2dParams& params, const PackedDepthwise& packed,
                       const uint8_t* input, uint8_t* output, int64_t row_begin, int64_t row_end,
                       int64_t output_row_base);
void add(const AddParams& params, const uint8_t* input1, const uint8_t* input2, uint8_t* output,
         int64_t begin, int64_t end);
void resize_bilinear(const ResizeBilinearParams& params, const uint8_t* input, uint8_t* output,
                     int64_t row_begin, int64_t row_end);
void resize_arg_max(const ResizeBilinearParams& resize, const ArgMaxParams& arg_max,
                    const ResizeArgMaxPlan& plan, const uint8_t* input, void* output,
                    int64_t row_begin, int64_t row_end);
void quantize(const QuantizeParams& params, const uint8_t* input, uint8_t* output, int64_t begin,
              int64_t end);

void mul(const quant::XnnpackMul& mul, quant::QuantizedRange range, bool is_signed,
         const uint8_t* a, const uint8_t* b, int64_t vector_length, uint8_t* output, int64_t begin,
         int64_t end);
void lookup_8bit(const ActivationTableParams& params, const uint8_t* input, uint8_t* output,
                 int64_t begin, int64_t end);
void hard_swish_float(const ActivationTableParams& params, const float* input, float* output,
                      int64_t begin, int64_t end);

}  // namespace qseg::kernels::opt::avx2
