// Which kernel variants the interpreter runs: the reference kernels, or optimized ones for an
// instruction set the CPU reports.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace qseg {

// kAuto picks the best variant the CPU supports and the build contains (x86-64: AVX-512 with AMX
// tiles for the large 1x1 convolutions, then AVX-512 VNNI, then AVX2; aarch64: NEON with the dot
// product instructions, then NEON; else the reference kernels); the
// others force one variant (an error when the CPU, the OS or the build lacks it). Ops or
// configurations an optimized variant does not cover run the reference kernel in any case.
enum class KernelIsa : uint8_t {
  kAuto,
  kReference,
  kAvx2,
  kAvx512Vnni,
  kAvx512Amx,
  kNeon,
  kNeonDotprod,
};

// "auto", "reference", "avx2", "avx512-vnni", "avx512-amx", "neon", "neon-dotprod".
std::string_view kernel_isa_name(KernelIsa isa);
// Parses a name given by kernel_isa_name; false for anything else.
bool parse_kernel_isa(std::string_view name, KernelIsa* isa);

// Whether this CPU and this build can run `isa` (kAuto and kReference always can).
bool kernel_isa_available(KernelIsa isa);
// What kAuto resolves to here.
KernelIsa best_kernel_isa();
// Every optimized variant available here (for tests and benchmarks that try them all).
std::vector<KernelIsa> available_optimized_kernel_isas();

}  // namespace qseg
