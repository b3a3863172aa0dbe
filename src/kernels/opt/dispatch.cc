// The table of micro-kernels of each instruction set the build contains.
#include "kernels/opt/optimized.h"

#if defined(QSEG_HAVE_AVX512_KERNELS)
#include "kernels/opt/avx512/avx512_kernels.h"
#endif
#if defined(QSEG_HAVE_AVX2_KERNELS)
#include "kernels/opt/avx2/avx2_kernels.h"
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
    return t;
  }();
  return &table;
}
#else
bool avx2_built() { return false; }
const IsaKernels* avx2_kernels() { return nullptr; }
#endif

const IsaKernels* kernels_for(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAvx512Vnni:
      return avx512_kernels();
    case KernelIsa::kAvx2:
      return avx2_kernels();
    case KernelIsa::kAvx512Amx:
      return amx_kernels();
    default:
      return nullptr;
  }
}

}  // namespace qseg::kernels::opt
