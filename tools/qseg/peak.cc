// The multiply-add loops behind measured_peak_gmacs (peak.h): each keeps 12 accumulators busy
// with the instruction sequence the kernels use per 32 or 64 products, so the measure is the
// instruction throughput, not a latency.
#include "peak.h"

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "qseg/kernel_isa.h"

namespace qseg::cli {
namespace {

using Clock = std::chrono::steady_clock;

#if defined(__x86_64__)
constexpr int kChains = 12;

// VPDPBUSD zmm: 64 u8 x s8 products summed into 16 int32 lanes.
__attribute__((target("avx512f,avx512vnni"))) int64_t vnni_loop(int64_t iterations, int* sink) {
  __m512i acc[kChains];
  for (__m512i& a : acc) a = _mm512_setzero_si512();
  const __m512i x = _mm512_set1_epi8(static_cast<char>(*sink | 1));
  const __m512i w = _mm512_set1_epi8(3);
  for (int64_t i = 0; i < iterations; ++i) {
    for (__m512i& a : acc) a = _mm512_dpbusd_epi32(a, x, w);
  }
  __m512i sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm512_add_epi32(sum, acc[k]);
  *sink = _mm512_reduce_add_epi32(sum);
  return iterations * kChains * 64;
}

// VPMADDUBSW + VPMADDWD + VPADDD ymm: 32 u8 x s8 products into 8 int32 lanes (AVX2's int8 dot).
__attribute__((target("avx2"))) int64_t avx2_loop(int64_t iterations, int* sink) {
  __m256i acc[kChains];
  for (__m256i& a : acc) a = _mm256_setzero_si256();
  const __m256i x = _mm256_set1_epi8(static_cast<char>(*sink | 1));
  const __m256i w = _mm256_set1_epi8(3);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < iterations; ++i) {
    __m256i xi = x;
    asm volatile("" : "+x"(xi));  // so the products are computed in the loop, not hoisted from it
    for (__m256i& a : acc)
      a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(xi, w), ones));
  }
  __m256i sum = acc[0];
  for (int k = 1; k < kChains; ++k) sum = _mm256_add_epi32(sum, acc[k]);
  alignas(32) int lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  *sink = lanes[0];
  return iterations * kChains * 32;
}

// Best of five runs of about 4 ms each: the machine may be busy, and the best is the closest to
// what the unit can do.
double measure(int64_t (*loop)(int64_t, int*)) {
  int sink = 1;
  loop(10'000, &sink);  // warm the unit up (AVX-512 frequency licence)
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    const auto start = Clock::now();
    const int64_t macs = loop(200'000, &sink);
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    if (ns > 0 && macs / ns > best) best = macs / ns;
  }
  return best;  // multiply-adds per nanosecond = GMAC/s
}
#endif

}  // namespace

std::optional<double> measured_peak_gmacs(std::string_view variant) {
  static std::mutex mutex;
  static std::map<std::string, std::optional<double>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string key(variant);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::optional<double> peak;
#if defined(__x86_64__)
  if (variant == kernel_isa_name(KernelIsa::kAvx512Vnni) &&
      kernel_isa_available(KernelIsa::kAvx512Vnni))
    peak = measure(vnni_loop);
  else if (variant == kernel_isa_name(KernelIsa::kAvx2) && kernel_isa_available(KernelIsa::kAvx2))
    peak = measure(avx2_loop);
#endif
  cache[key] = peak;
  return peak;
}

}  // namespace qseg::cli
