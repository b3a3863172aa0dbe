// Kernel variant names and run-time detection of the CPU's instruction sets.
#include "kernels/opt/optimized.h"
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
  }
  return "unknown";
}

bool parse_kernel_isa(std::string_view name, KernelIsa* isa) {
  for (KernelIsa candidate :
       {KernelIsa::kAuto, KernelIsa::kReference, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni}) {
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
  }
  return false;
}

KernelIsa best_kernel_isa() {
  if (kernel_isa_available(KernelIsa::kAvx512Vnni)) return KernelIsa::kAvx512Vnni;
  if (kernel_isa_available(KernelIsa::kAvx2)) return KernelIsa::kAvx2;
  return KernelIsa::kReference;
}

namespace kernels::opt {

#if defined(__x86_64__) || defined(__i386__)
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool cpu_has_avx512_vnni() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}
#else
bool cpu_has_avx2() { return false; }
bool cpu_has_avx512_vnni() { return false; }
#endif

}  // namespace kernels::opt
}  // namespace qseg
