// MobileNetV2's inverted residual (1x1 expand -> depthwise -> 1x1 project) as one kernel that
// walks bands of output rows: per band it expands just the input rows the depthwise needs, runs
// the depthwise on them and projects the result, all in a per-thread scratch that stays in
// cache; the expanded and depthwise tensors are never written whole. Each stage is the same
// micro-kernel the ops run alone, on a window of rows, so the result is bit-exact.
#include <algorithm>
#include <memory>
#include <utility>

#include "kernels/opt/optimized.h"

namespace qseg::kernels::opt {

namespace {

constexpr int32_t kBandRows = 16;                       // output rows per band
constexpr int64_t kMaxScratchBytes = int64_t{8} << 20;  // per thread, else no fusion

struct Stages {
  Conv2dParams expand;
  PackedConv expand_packed;
  DepthwiseConv2dParams depthwise;
  PackedDepthwise depthwise_packed;
  Conv2dParams project;
  PackedConv project_packed;
};

// The input rows [first, last) of the depthwise that output rows [r0, r1) read, within the image.
struct RowSpan {
  int32_t first = 0, last = 0;
};
RowSpan input_rows(const DepthwiseConv2dParams& d, int32_t r0, int32_t r1) {
  const Window2d& w = d.window;
  RowSpan s;
  s.first = std::max(0, r0 * w.stride_h - w.pad_top);
  s.last = std::min(d.input.height,
                    (r1 - 1) * w.stride_h - w.pad_top + (w.filter_h - 1) * w.dilation_h + 1);
  return s;
}

class InvertedResidualKernel final : public Kernel {
 public:
  InvertedResidualKernel(Stages stages, const IsaKernels& isa, std::string_view name, int32_t input,
                         int32_t output, int threads)
      : s_(std::move(stages)),
        conv_(isa.conv_2d),
        depthwise_(isa.depthwise_conv_2d),
        name_(name),
        input_(input),
        output_(output) {
    const DepthwiseConv2dParams& d = s_.depthwise;
    const Window2d& w = d.window;
    const int64_t expanded_rows =
        int64_t{kBandRows - 1} * w.stride_h + int64_t{w.filter_h - 1} * w.dilation_h + 1;
    expanded_bytes_ = expanded_rows * d.input.width * d.input.channels;
    depthwise_bytes_ = int64_t{kBandRows} * d.output.width * d.output.channels;
    slots_ = std::max(1, threads);
    scratch_.resize(static_cast<size_t>(slots_ * (expanded_bytes_ + depthwise_bytes_)));
    // Per slot, the depthwise params whose window each band moves (copied here, not per band:
    // the params own vectors, and run() must not allocate).
    band_params_.assign(static_cast<size_t>(slots_), s_.depthwise);
  }

  static int64_t scratch_bytes_per_thread(const DepthwiseConv2dParams& d) {
    const Window2d& w = d.window;
    const int64_t expanded_rows =
        int64_t{kBandRows - 1} * w.stride_h + int64_t{w.filter_h - 1} * w.dilation_h + 1;
    return expanded_rows * d.input.width * d.input.channels +
           int64_t{kBandRows} * d.output.width * d.output.channels;
  }

  void run(const KernelContext& c) const override {
    const int32_t out_h = s_.depthwise.output.height;
    const int32_t bands = (out_h + kBandRows - 1) / kBandRows;
    const int slots = std::min(slots_, c.pool->num_threads());
    const auto* input = static_cast<const uint8_t*>(c.tensors[input_]);
    auto* output = static_cast<uint8_t*>(c.tensors[output_]);
    // One chunk per slot (parallel_for makes min(n, threads) chunks): slot t takes bands t,
    // t + slots, ... with its own scratch.
    c.pool->parallel_for(slots, [&](int64_t first_slot, int64_t end_slot) {
      for (int64_t slot = first_slot; slot < end_slot; ++slot) {
        uint8_t* expanded = scratch_.data() + slot * (expanded_bytes_ + depthwise_bytes_);
        uint8_t* depthwise = expanded + expanded_bytes_;
        for (int32_t band = static_cast<int32_t>(slot); band < bands; band += slots) {
          run_band(band, input, output, expanded, depthwise, &band_params_[slot]);
        }
      }
    });
  }
  std::string_view variant() const override { return name_; }

 private:
  void run_band(int32_t band, const uint8_t* input, uint8_t* output, uint8_t* expanded,
                uint8_t* depthwise, DepthwiseConv2dParams* window) const {
    const DepthwiseConv2dParams& d = s_.depthwise;
    const int32_t r0 = band * kBandRows;
    const int32_t r1 = std::min(d.output.height, r0 + kBandRows);
    const RowSpan rows = input_rows(d, r0, r1);
    const int64_t in_row_pixels = d.input.width;
    // Expand the needed input rows (1x1: pixels map one to one).
    conv_(s_.expand, s_.expand_packed,
          input + rows.first * in_row_pixels * s_.expand.input.channels, expanded, 0,
          (rows.last - rows.first) * in_row_pixels);
    // The depthwise over those rows only: the window's origin moves by the rows left out, and
    // the image ends where they end (rows past it are outside the image anyway).
    window->input.height = rows.last - rows.first;
    window->window.pad_top = d.window.pad_top + rows.first;
    depthwise_(*window, s_.depthwise_packed, expanded, depthwise, r0, r1, r0);
    // Project the band's output rows.
    const int64_t out_row_pixels = d.output.width;
    conv_(s_.project, s_.project_packed, depthwise,
          output + r0 * out_row_pixels * s_.project.output.channels, 0, (r1 - r0) * out_row_pixels);
  }

  Stages s_;
  decltype(IsaKernels::conv_2d) conv_;
  decltype(IsaKernels::depthwise_conv_2d) depthwise_;
  std::string_view name_;
  int32_t input_, output_;
  int slots_ = 1;
  int64_t expanded_bytes_ = 0, depthwise_bytes_ = 0;
  mutable std::vector<uint8_t> scratch_;  // slots_ x (expanded band, depthwise band)
  mutable std::vector<DepthwiseConv2dParams> band_params_;  // one per slot
};

// A 1x1 stride-1 convolution of batch 1, prepared and packed.
bool prepare_direct_conv(const Graph& graph, const Op& op, KernelIsa isa,
                         const KernelOptions& options, Conv2dParams* params, PackedConv* packed) {
  return prepare_packed_conv(graph, op, isa, options, params, packed) && packed->direct &&
         params->input.batch == 1;
}

}  // namespace

std::unique_ptr<Kernel> create_fused_inverted_residual(const Graph& graph, int first, KernelIsa isa,
                                                       const KernelOptions& options) {
  const IsaKernels* table = kernels_for(isa);
  if (table == nullptr || table->conv_2d == nullptr || table->depthwise_conv_2d == nullptr) {
    return nullptr;
  }
  if (first < 0 || static_cast<size_t>(first) + 2 >= graph.ops.size()) return nullptr;
  const Op& expand = graph.ops[first];
  const Op& depthwise = graph.ops[first + 1];
  const Op& project = graph.ops[first + 2];
  if (expand.type != OpType::kConv2d || depthwise.type != OpType::kDepthwiseConv2d ||
      project.type != OpType::kConv2d) {
    return nullptr;
  }
  if (expand.outputs.size() != 1 || depthwise.outputs.size() != 1 || project.outputs.size() != 1 ||
      depthwise.inputs.empty() || project.inputs.empty() ||
      depthwise.inputs[0] != expand.outputs[0] || project.inputs[0] != depthwise.outputs[0] ||
      !only_read_by(graph, expand.outputs[0], first + 1) ||
      !only_read_by(graph, depthwise.outputs[0], first + 2)) {
    return nullptr;
  }
  Stages s;
  if (!prepare_direct_conv(graph, expand, isa, options, &s.expand, &s.expand_packed) ||
      !prepare_direct_conv(graph, project, isa, options, &s.project, &s.project_packed) ||
      !prepare_packed_depthwise(graph, depthwise, options, &s.depthwise, &s.depthwise_packed) ||
      s.depthwise.input.batch != 1) {
    return nullptr;
  }
  if (InvertedResidualKernel::scratch_bytes_per_thread(s.depthwise) > kMaxScratchBytes) {
    return nullptr;
  }
  return std::make_unique<InvertedResidualKernel>(std::move(s), *table, kernel_isa_name(isa),
                                                  expand.inputs[0], project.outputs[0],
                                                  options.num_threads);
}

}  // namespace qseg::kernels::opt
