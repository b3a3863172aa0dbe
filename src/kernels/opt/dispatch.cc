// The table of micro-kernels of each instruction set the build contains.
#include "kernels/opt/optimized.h"

#if defined(QSEG_HAVE_AVX512_KERNELS)
#include "kernels/opt/avx512/avx512_kernels.h"
#endif
#if defined(QSEG_HAVE_AVX2_KERNELS)
#include "kernels/opt/avx2/avx2_kernels.h"
#endif
#if defined(QSEG_HAVE_NEON_KERNELS)
#include "kernels/opt/neon/neon_kernels.h"
#endif

namespace qseg::kernels::opt {

#if defined(QSEG_HAVE_AVX512_KERNELS)
bool avx512_built() { return true; }
const IsaKernels* avx512_kernels() {
  static const IsaKernels table = [] {
    IsaKernels t;
    t.conv_2d = &avx512::conv_2d;
    t.depthwise_conv_2d = &avx512::depthwise_conv_2d;
    t.add = &avx512::add;
    t.resize_bilinear = &avx512::resize_bilinear;
    t.average_pool_2d = &avx512::average_pool_2d;
    t.quantize = &avx512::quantize;
    t.resize_arg_max = &avx512::resize_arg_max;
    t.mul = &avx512::mul;
    t.lookup_8bit = &avx512::lookup_8bit;
    t.hard_swish_float = &avx512::hard_swish_float;
    return t;
  }();
  return &table;
}
const IsaKernels* amx_kernels() {
  static const IsaKernels table = [] {
    IsaKernels t = *avx512_kernels();
    t.conv_2d = &avx512::conv_2d_amx;
    return t;
  }();
  return &table;
}
#else
bool avx512_built() { return false; }
const IsaKernels* avx512_kernels() { return nullptr; }
const IsaKernels* amx_kernels() { return nullptr; }
#endif

#if defined(QSEG_HAVE_AVX2_KERNELS)
bool avx2_built() { return true; }
const IsaKernels* avx2_kernels() {
  static const IsaKernels table = [] {  // no average pool: the reference runs it
    IsaKernels t;
    t.conv_2d = &avx2::conv_2d;
    t.depthwise_conv_2d = &avx2::depthwise_conv_2d;
    t.add = &avx2::add;
    t.resize_bilinear = &avx2::resize_bilinear;
    t.quantize = &avx2::quantize;
    t.resize_arg_max = &avx2::resize_arg_max;
    t.mul = &avx2::mul;
    t.lookup_8bit = &avx2::lookup_8bit;
    t.hard_swish_float = &avx2::hard_swish_float;
    return t;
  }();
  return &table;
}
#else
bool avx2_built() { return false; }
const IsaKernels* avx2_kernels() { return nullptr; }
#endif

#if defined(QSEG_HAVE_NEON_KERNELS)
bool neon_built() { return true; }
const IsaKernels* neon_kernels() {
  static const IsaKernels table = [] {  // no average pool: the reference runs it
    IsaKernels t;
    t.conv_2d = &neon::conv_2d;
    t.depthwise_conv_2d = &neon::depthwise_conv_2d;
    t.add = &neon::add;
    t.resize_bilinear = &neon::resize_bilinear;
    t.quantize = &neon::quantize;
    t.resize_arg_max = &neon::resize_arg_max;
    return t;
  }();
  return &table;
}
const IsaKernels* neon_dotprod_kernels() {
  static const IsaKernels table = [] {
    IsaKernels t = *neon_kernels();
    t.conv_2d = &neon::conv_2d_dotprod;
    return t;
  }();
  return &table;
}
#else
bool neon_built() { return false; }
const IsaKernels* neon_kernels() { return nullptr; }
const IsaKernels* neon_dotprod_kernels() { return nullptr; }
#endif

ConvLayout conv_layout(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAvx2:
      return ConvLayout::kWidePairs;
    case KernelIsa::kNeon:
      return ConvLayout::kWideColumns;
    case KernelIsa::kNeonDotprod:
      return ConvLayout::kDot;
    default:
      return ConvLayout::kVnni;
  }
}

int32_t resize_arg_max_width(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAvx2:
    case KernelIsa::kNeon:
    case KernelIsa::kNeonDotprod:
      return 8;
    default:
      return kChannelBlock;
  }
}

const IsaKernels* kernels_for(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAvx512Vnni:
      return avx512_kernels();
    case KernelIsa::kAvx2:
      return avx2_kernels();
    case KernelIsa::kAvx512Amx:
      return amx_kernels();
    case KernelIsa::kNeon:
      return neon_kernels();
    case KernelIsa::kNeonDotprod:
      return neon_dotprod_kernels();
    default:
      return nullptr;
  }
}

}  // namespace qseg::kernels::opt
