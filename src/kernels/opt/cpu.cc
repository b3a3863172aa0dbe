// Kernel variant names and run-time detection of the CPU's instruction sets.
#include "kernels/opt/optimized.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#include "qseg/kernel_isa.h"

namespace qseg {

std::string_view kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAuto:
      return "auto";
    case KernelIsa::kReference:
      return "reference";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512Vnni:
      return "avx512-vnni";
    case KernelIsa::kAvx512Amx:
      return "avx512-amx";
    case KernelIsa::kNeon:
      return "neon";
    case KernelIsa::kNeonDotprod:
      return "neon-dotprod";
  }
  return "unknown";
}

bool parse_kernel_isa(std::string_view name, KernelIsa* isa) {
  for (KernelIsa candidate :
       {KernelIsa::kAuto, KernelIsa::kReference, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni,
        KernelIsa::kAvx512Amx, KernelIsa::kNeon, KernelIsa::kNeonDotprod}) {
    if (name == kernel_isa_name(candidate)) {
      *isa = candidate;
      return true;
    }
  }
  return false;
}

bool kernel_isa_available(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kAuto:
    case KernelIsa::kReference:
      return true;
    case KernelIsa::kAvx2:
      return kernels::opt::avx2_built() && kernels::opt::cpu_has_avx2();
    case KernelIsa::kAvx512Vnni:
      return kernels::opt::avx512_built() && kernels::opt::cpu_has_avx512_vnni();
    case KernelIsa::kAvx512Amx:
      return kernels::opt::avx512_built() && kernels::opt::cpu_has_avx512_vnni() &&
             kernels::opt::amx_usable();
    case KernelIsa::kNeon:
      return kernels::opt::neon_built() && kernels::opt::cpu_has_neon();
    case KernelIsa::kNeonDotprod:
      return kernels::opt::neon_built() && kernels::opt::cpu_has_neon_dotprod();
  }
  return false;
}

KernelIsa best_kernel_isa() {
  if (kernel_isa_available(KernelIsa::kAvx512Amx)) return KernelIsa::kAvx512Amx;
  if (kernel_isa_available(KernelIsa::kAvx512Vnni)) return KernelIsa::kAvx512Vnni;
  if (kernel_isa_available(KernelIsa::kAvx2)) return KernelIsa::kAvx2;
  if (kernel_isa_available(KernelIsa::kNeonDotprod)) return KernelIsa::kNeonDotprod;
  if (kernel_isa_available(KernelIsa::kNeon)) return KernelIsa::kNeon;
  return KernelIsa::kReference;
}

std::vector<KernelIsa> available_optimized_kernel_isas() {
  std::vector<KernelIsa> isas;
  for (KernelIsa isa : {KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx,
                        KernelIsa::kNeon, KernelIsa::kNeonDotprod}) {
    if (kernel_isa_available(isa)) isas.push_back(isa);
  }
  return isas;
}

namespace kernels::opt {

#if defined(__x86_64__) || defined(__i386__)
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool cpu_has_avx512_vnni() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}
// AMX needs the CPU's AMX-TILE and AMX-INT8 (CPUID leaf 7: EDX bits 24 and 25) and the kernel's
// permission to use the tile data state, asked once per process (Linux ARCH_REQ_XCOMP_PERM).
bool amx_usable() {
  static const bool usable = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if ((edx & (1u << 24)) == 0 || (edx & (1u << 25)) == 0) return false;
#if defined(__linux__)
    constexpr long kArchRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
    constexpr long kTileData = 18;                   // XFEATURE_XTILEDATA
    return syscall(SYS_arch_prctl, kArchRequestPermission, kTileData) == 0;
#else
    return false;
#endif
  }();
  return usable;
}
#else
bool cpu_has_avx2() { return false; }
bool cpu_has_avx512_vnni() { return false; }
bool amx_usable() { return false; }
#endif

#if defined(__aarch64__)
bool cpu_has_neon() { return true; }  // Advanced SIMD is part of every ARMv8-A
#if defined(__linux__)
bool cpu_has_neon_dotprod() {
#if defined(HWCAP_ASIMDDP)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
  return (getauxval(AT_HWCAP) & (1ul << 20)) != 0;  // HWCAP_ASIMDDP
#endif
}
#else
bool cpu_has_neon_dotprod() { return false; }
#endif
#else
bool cpu_has_neon() { return false; }
bool cpu_has_neon_dotprod() { return false; }
#endif

}  // namespace kernels::opt
}  // namespace qseg
