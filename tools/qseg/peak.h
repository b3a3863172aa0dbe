// The int8 multiply-add peak of one core for the kernels `qseg bench` ran, measured on this CPU
// at run time, so "of peak" compares each op with what its own instructions can do here rather
// than with a number assumed for another machine.
#pragma once

#include <optional>
#include <string_view>

namespace qseg::cli {

// GMAC/s of one core for a kernel variant ("avx2", "avx512-vnni"), from a loop of the variant's
// multiply-add instructions on independent accumulators (about 20 ms, once per process);
// nullopt for variants without a measured peak (reference, fused, AMX, NEON, or an instruction set
// this CPU lacks).
std::optional<double> measured_peak_gmacs(std::string_view variant);

}  // namespace qseg::cli
