// `qseg diff`: one model in qseg against the same model in the real TensorFlow Lite (or two models,
// or two arithmetics), layer by layer on one input, or output by output over many photos. For
// every op output: the share of equal values, of values within one quantization step, the largest
// difference in steps, and the first op that differs. scripts/conformance.sh runs it over all the
// shared photos.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common.h"
#include "oracle.h"
#include "qseg/segmenter.h"

namespace qseg::cli {
namespace {

struct SideArgs {
  std::string runtime;  // "qseg" or "tflite"
  std::string model;
  Requantization requantization = Requantization::kXnnpack;
  KernelIsa kernels = KernelIsa::kAuto;
  bool fuse_blocks = false;
};

struct DiffArgs {
  SideArgs a, b;
  std::string b_requantization, b_kernels;  // empty: as side A
  std::string raw;
  std::vector<std::string> inputs;
  bool layers = false, no_layers = false;
  std::string json;
  std::string oracle;
  int limit = 0;
  InputLimits limits;
};

// What two copies of one tensor have in common.
struct TensorDiff {
  int64_t elements = 0;
  int64_t equal = 0;
  int64_t within_one = 0;  // quantized and integer tensors: |a - b| <= 1
  double max_steps = 0;    // quantized and integer tensors: max |a - b|
  // Float tensors: max |a - b| relative to the largest magnitude in either tensor (elementwise
  // ratios say nothing near zero, where summation order alone changes the low bits).
  double max_relative = 0;
  bool is_float = false;
  bool identical() const { return equal == elements; }
};

template <typename T>
TensorDiff diff_values(const uint8_t* a_bytes, const uint8_t* b_bytes, int64_t n) {
  TensorDiff d;
  d.elements = n;
  const auto* a = reinterpret_cast<const T*>(a_bytes);
  const auto* b = reinterpret_cast<const T*>(b_bytes);
  double max_difference = 0, max_magnitude = 0;
  for (int64_t i = 0; i < n; ++i) {
    T x, y;
    std::memcpy(&x, a + i, sizeof(T));
    std::memcpy(&y, b + i, sizeof(T));
    if constexpr (std::is_floating_point_v<T>) {
      d.is_float = true;
      const bool same = x == y || (std::isnan(x) && std::isnan(y));
      d.equal += same;
      max_magnitude = std::max({max_magnitude, std::fabs(double{x}), std::fabs(double{y})});
      if (!same) {
        const double difference = std::fabs(double{x} - double{y});
        max_difference = std::isnan(difference) ? std::numeric_limits<double>::infinity()
                                                : std::max(max_difference, difference);
      }
    } else {
      const double steps = std::fabs(static_cast<double>(x) - static_cast<double>(y));
      d.equal += steps == 0;
      d.within_one += steps <= 1;
      d.max_steps = std::max(d.max_steps, steps);
    }
  }
  if (d.is_float) {
    d.within_one = d.equal;
    d.max_relative = max_difference == 0 ? 0
                     : max_magnitude > 0 ? max_difference / max_magnitude
                                         : std::numeric_limits<double>::infinity();
  }
  return d;
}

TensorDiff diff_tensor(const Tensor& t, std::span<const uint8_t> a, std::span<const uint8_t> b) {
  const int64_t n = t.num_elements();
  switch (t.type) {
    case DataType::kUInt8:
      return diff_values<uint8_t>(a.data(), b.data(), n);
    case DataType::kInt8:
      return diff_values<int8_t>(a.data(), b.data(), n);
    case DataType::kInt16:
      return diff_values<int16_t>(a.data(), b.data(), n);
    case DataType::kInt32:
      return diff_values<int32_t>(a.data(), b.data(), n);
    case DataType::kInt64:
      return diff_values<int64_t>(a.data(), b.data(), n);
    case DataType::kFloat32:
      return diff_values<float>(a.data(), b.data(), n);
    case DataType::kBool:
      return diff_values<uint8_t>(a.data(), b.data(), n);
  }
  return {};
}

// Per-pixel class agreement of two final outputs: labels compared as they are, per-class scores
// by their ArgMax. For float scores, a pixel where the two sides' classes score within 1e-5 of the
// largest score magnitude in either output is a near tie (float rounding may order them either
// way), counted apart.
constexpr double kFloatTolerance = 1e-5;
struct LabelAgreement {
  int64_t pixels = 0, same = 0, near_ties = 0;
  double share() const {
    return pixels ? static_cast<double>(same) / static_cast<double>(pixels) : 1;
  }
};

template <typename T>
LabelAgreement score_agreement(const T* a, const T* b, int64_t pixels, int classes) {
  LabelAgreement r;
  r.pixels = pixels;
  double magnitude = 0;
  if constexpr (std::is_floating_point_v<T>) {
    for (int64_t i = 0; i < pixels * classes; ++i)
      magnitude = std::max({magnitude, std::fabs(double{a[i]}), std::fabs(double{b[i]})});
  }
  const double tolerance = kFloatTolerance * magnitude;
  for (int64_t p = 0; p < pixels; ++p) {
    const T* sa = a + p * classes;
    const T* sb = b + p * classes;
    const int la = static_cast<int>(std::max_element(sa, sa + classes) - sa);
    const int lb = static_cast<int>(std::max_element(sb, sb + classes) - sb);
    if (la == lb) {
      ++r.same;
    } else if constexpr (std::is_floating_point_v<T>) {
      auto tie = [tolerance](float x, float y) { return std::fabs(double{x} - y) <= tolerance; };
      r.near_ties += tie(sa[la], sa[lb]) || tie(sb[la], sb[lb]);
    }
  }
  return r;
}

LabelAgreement label_agreement(const Tensor& t, std::span<const uint8_t> a,
                               std::span<const uint8_t> b) {
  if (t.type == DataType::kInt64 || t.type == DataType::kInt32) {
    const TensorDiff d = diff_tensor(t, a, b);
    return {d.elements, d.equal, 0};
  }
  const int classes = t.shape.empty() ? 1 : std::max(1, t.shape.back());
  const int64_t pixels = t.num_elements() / classes;
  switch (t.type) {
    case DataType::kFloat32:
      return score_agreement(reinterpret_cast<const float*>(a.data()),
                             reinterpret_cast<const float*>(b.data()), pixels, classes);
    case DataType::kUInt8:
      return score_agreement(a.data(), b.data(), pixels, classes);
    case DataType::kInt8:
      return score_agreement(reinterpret_cast<const int8_t*>(a.data()),
                             reinterpret_cast<const int8_t*>(b.data()), pixels, classes);
    default:
      return {pixels, diff_tensor(t, a, b).equal, 0};
  }
}

// The tensors a layer comparison reads: every op's outputs, in op order.
std::vector<int32_t> layer_tensors(const Graph& g) {
  std::vector<int32_t> tensors;
  std::set<int32_t> seen(g.inputs.begin(), g.inputs.end());
  for (const Op& op : g.ops)
    for (int32_t t : op.outputs)
      if (t >= 0 && seen.insert(t).second) tensors.push_back(t);
  return tensors;
}

// One side of the comparison: a model in qseg or in the real TFLite. Its two runners (the
// model's own outputs, and every layer's output) start when first needed.
class Side {
 public:
  Side(SideArgs args, Graph graph, std::filesystem::path oracle_dir, int64_t max_arena)
      : args_(std::move(args)),
        graph_(std::move(graph)),
        oracle_dir_(std::move(oracle_dir)),
        max_arena_(max_arena) {}

  const Graph& graph() const { return graph_; }
  std::string label() const {
    if (args_.runtime == "tflite") return "real TFLite";
    return fmt::format("qseg {} {}", requantization_name(args_.requantization),
                       kernel_isa_name(args_.kernels));
  }

  // The bytes of `tensors` after a run on input: the model outputs (as users run it: default
  // fusion) or every layer (nothing fused away, so every tensor exists).
  Result<std::vector<std::vector<uint8_t>>> run(std::span<const uint8_t> input, bool layers) {
    const std::vector<int32_t> tensors = layers ? layer_tensors(graph_) : graph_.outputs;
    if (args_.runtime == "tflite") {
      std::unique_ptr<TfliteOracle>& oracle = layers ? layer_oracle_ : output_oracle_;
      if (!oracle) {
        Graph g = graph_;
        g.outputs = tensors;
        QSEG_ASSIGN_OR_RETURN(oracle, TfliteOracle::start(g, oracle_dir_));
      }
      return oracle->run(input);
    }
    std::unique_ptr<Interpreter>& interp = layers ? layer_interpreter_ : output_interpreter_;
    if (!interp) {
      InterpreterOptions options;
      options.requantization = args_.requantization;
      options.kernel_isa = args_.kernels;
      options.fuse_inverted_residuals = args_.fuse_blocks && !layers;
      options.preserve_all_tensors = layers;
      options.max_arena_bytes = max_arena_;
      auto created = Interpreter::create(graph_, options);
      if (!created.is_ok()) return created.status().with_context(args_.model);
      interp = std::move(created).value();
    }
    auto dst = interp->input_bytes(0);
    if (dst.size() != input.size())
      return Status::error(fmt::format("{}: the input holds {} bytes, the model needs {}",
                                       args_.model, input.size(), dst.size()));
    std::copy(input.begin(), input.end(), dst.begin());
    interp->invoke();
    std::vector<std::vector<uint8_t>> out;
    for (int32_t t : tensors) {
      const auto* p = static_cast<const uint8_t*>(interp->tensor_data(t));
      const auto n = static_cast<size_t>(interp->tensor(t).byte_size());
      out.emplace_back(p, p + (p ? n : 0));
    }
    return out;
  }

 private:
  SideArgs args_;
  Graph graph_;
  std::filesystem::path oracle_dir_;
  int64_t max_arena_;
  std::unique_ptr<TfliteOracle> output_oracle_, layer_oracle_;
  std::unique_ptr<Interpreter> output_interpreter_, layer_interpreter_;
};

// The two graphs must have the same ops with the same output shapes and types for a layer
// comparison, and the same input and outputs for any comparison.
Status check_comparable(const Graph& a, const Graph& b, bool layers) {
  auto shape_of = [](const Tensor& t) {
    return fmt::format("{} [{}]", data_type_name(t.type), fmt::join(t.shape, ","));
  };
  const Tensor& ia = a.tensors[a.inputs[0]];
  const Tensor& ib = b.tensors[b.inputs[0]];
  if (ia.type != ib.type || ia.shape != ib.shape)
    return Status::error("the models take different inputs: " + shape_of(ia) + " and " +
                         shape_of(ib));
  if (a.outputs.size() != b.outputs.size())
    return Status::error(
        fmt::format("the models have {} and {} outputs", a.outputs.size(), b.outputs.size()));
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    const Tensor& oa = a.tensors[a.outputs[i]];
    const Tensor& ob = b.tensors[b.outputs[i]];
    if (oa.type != ob.type || oa.shape != ob.shape)
      return Status::error(
          fmt::format("the models' output {} differs: {} and {}", i, shape_of(oa), shape_of(ob)));
  }
  if (!layers) return Status::ok();
  if (a.ops.size() != b.ops.size())
    return Status::error(fmt::format(
        "the models have different graphs ({} and {} ops): compare them with --no-layers",
        a.ops.size(), b.ops.size()));
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const Op& x = a.ops[i];
    const Op& y = b.ops[i];
    bool same = x.type == y.type && x.outputs.size() == y.outputs.size();
    for (size_t k = 0; same && k < x.outputs.size(); ++k) {
      const Tensor& tx = a.tensors[x.outputs[k]];
      const Tensor& ty = b.tensors[y.outputs[k]];
      same = tx.type == ty.type && tx.shape == ty.shape;
    }
    if (x.type != y.type)
      return Status::error(fmt::format(
          "the models have different graphs: op {} is {} in one and {} in the other (compare "
          "them with --no-layers)",
          i, op_type_name(x.type), op_type_name(y.type)));
    if (!same)
      return Status::error(fmt::format(
          "the models have different graphs: op {} ({}) has outputs of other shapes or types "
          "(compare them with --no-layers)",
          i, op_type_name(x.type)));
  }
  return Status::ok();
}

// Photos named on the command line: files as they are, folders by their image files (sorted).
Result<std::vector<std::filesystem::path>> collect_photos(const std::vector<std::string>& inputs) {
  std::vector<std::filesystem::path> photos;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      std::vector<std::filesystem::path> found;
      for (const auto& entry : std::filesystem::directory_iterator(input, ec)) {
        std::string ext = entry.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
        if (entry.is_regular_file() &&
            (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp"))
          found.push_back(entry.path());
      }
      if (ec) return Status::error("cannot list " + input + ": " + ec.message());
      if (found.empty()) return Status::error(input + ": a folder with no JPEG, PNG or BMP photos");
      std::sort(found.begin(), found.end());
      photos.insert(photos.end(), found.begin(), found.end());
    } else if (std::filesystem::exists(input, ec)) {
      photos.emplace_back(input);
    } else {
      return Status::error(input + ": no such file or folder");
    }
  }
  return photos;
}

struct LayerRow {
  int op = 0;
  int32_t tensor = 0;
  TensorDiff diff;
};

nlohmann::json diff_json(const TensorDiff& d) {
  nlohmann::json j = {{"elements", d.elements}, {"equal", d.equal}};
  if (d.is_float) {
    j["max_relative_difference"] = d.max_relative;
  } else {
    j["within_one_step"] = d.within_one;
    j["max_steps"] = d.max_steps;
  }
  return j;
}

std::string percent(int64_t part, int64_t whole) {
  if (whole == 0) return "-";
  if (part == whole) return "100%";
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  return fmt::format("{:.4f}%", std::min(p, 99.9999));
}

// Every layer of both sides on one input; returns the rows, in op order.
Result<std::vector<LayerRow>> compare_layers(Side& a, Side& b, std::span<const uint8_t> input) {
  QSEG_ASSIGN_OR_RETURN(auto xa, a.run(input, /*layers=*/true));
  QSEG_ASSIGN_OR_RETURN(auto xb, b.run(input, /*layers=*/true));
  const Graph& g = a.graph();
  const std::vector<int32_t> tensors = layer_tensors(g);
  std::vector<LayerRow> rows;
  size_t k = 0;
  for (size_t op = 0; op < g.ops.size(); ++op) {
    for (int32_t t : g.ops[op].outputs) {
      if (k >= tensors.size() || tensors[k] != t) continue;
      rows.push_back({static_cast<int>(op), t, diff_tensor(g.tensors[t], xa[k], xb[k])});
      ++k;
    }
  }
  return rows;
}

void print_layers(const Graph& g, const std::vector<LayerRow>& rows) {
  fmt::print("{:>4}  {:<18} {:<48} {:>9} {:>10} {:>11} {:>9}\n", "op", "type", "output", "elements",
             "equal", "within 1", "max diff");
  for (const LayerRow& r : rows) {
    const Tensor& t = g.tensors[r.tensor];
    std::string name = t.name.size() > 48 ? "..." + t.name.substr(t.name.size() - 45) : t.name;
    const std::string max = r.diff.is_float ? fmt::format("{:.2g} rel", r.diff.max_relative)
                                            : fmt::format("{:g}", r.diff.max_steps);
    fmt::print("{:>4}  {:<18} {:<48} {:>9} {:>10} {:>11} {:>9}\n", r.op,
               op_type_name(g.ops[r.op].type), name, r.diff.elements,
               percent(r.diff.equal, r.diff.elements),
               r.diff.is_float ? "" : percent(r.diff.within_one, r.diff.elements), max);
  }
}

const LayerRow* first_different(const std::vector<LayerRow>& rows) {
  for (const LayerRow& r : rows)
    if (!r.diff.identical()) return &r;
  return nullptr;
}

std::string describe_first(const Graph& g, const LayerRow* first) {
  if (!first) return "none";
  return fmt::format(
      "op {} {} '{}' ({} of {} values differ, {})", first->op, op_type_name(g.ops[first->op].type),
      g.tensors[first->tensor].name, first->diff.elements - first->diff.equal, first->diff.elements,
      first->diff.is_float ? fmt::format("largest {:.2g} of the range", first->diff.max_relative)
                           : fmt::format("by up to {:g} steps", first->diff.max_steps));
}

Status parse_side_options(DiffArgs& args) {
  for (SideArgs* s : {&args.a, &args.b}) {
    if (s->runtime != "qseg" && s->runtime != "tflite")
      return Status::error("--a and --b take qseg or tflite, got '" + s->runtime + "'");
  }
  if (args.b.model.empty()) args.b.model = args.a.model;
  if (args.b_requantization.empty()) {
    args.b.requantization = args.a.requantization;
  } else if (!parse_requantization(args.b_requantization, &args.b.requantization)) {
    return Status::error("--requantization-b takes xnnpack or fixed-point, got '" +
                         args.b_requantization + "'");
  }
  args.b.kernels = args.a.kernels;
  if (!args.b_kernels.empty() && !parse_kernel_isa(args.b_kernels, &args.b.kernels))
    return Status::error("unknown --kernels-b '" + args.b_kernels + "'");
  args.b.fuse_blocks = args.a.fuse_blocks;
  if (args.a.runtime == args.b.runtime && args.a.model == args.b.model &&
      (args.a.runtime == "tflite" ||
       (args.a.requantization == args.b.requantization && args.a.kernels == args.b.kernels)))
    return Status::error(
        "both sides are the same: give --b, --model-b, --requantization-b or "
        "--kernels-b");
  if (args.layers && args.no_layers)
    return Status::error("--layers and --no-layers exclude each other");
  if (args.raw.empty() == args.inputs.empty())
    return Status::error("give photos (files or folders) or --raw FILE, not both or neither");
  if (args.limit < 0) return Status::error("--limit must be >= 0");
  return Status::ok();
}

Status run_diff(DiffArgs args) {
  QSEG_RETURN_IF_ERROR(parse_side_options(args));
  const std::filesystem::path oracle_dir =
      args.oracle.empty() ? default_oracle_dir() : std::filesystem::path(args.oracle);
  if (args.a.runtime == "tflite" || args.b.runtime == "tflite")
    QSEG_RETURN_IF_ERROR(check_oracle_installed(oracle_dir));
  QSEG_ASSIGN_OR_RETURN(Graph ga, read_tflite_file(args.a.model, args.limits.model));
  QSEG_ASSIGN_OR_RETURN(Graph gb, read_tflite_file(args.b.model, args.limits.model));
  if (ga.inputs.size() != 1 || gb.inputs.size() != 1)
    return Status::error("qseg diff compares models with one input");

  // What is fed: the exact raw tensor, or each photo through the Segmenter's preprocessing.
  std::vector<std::filesystem::path> photos;
  if (args.inputs.empty()) {
    photos.emplace_back(args.raw);
  } else {
    QSEG_ASSIGN_OR_RETURN(photos, collect_photos(args.inputs));
    if (args.limit > 0 && photos.size() > static_cast<size_t>(args.limit))
      photos.resize(static_cast<size_t>(args.limit));
  }
  const bool layers = args.layers || (!args.no_layers && photos.size() == 1);
  QSEG_RETURN_IF_ERROR(check_comparable(ga, gb, layers));
  const bool find_first = !args.no_layers && check_comparable(ga, gb, true).is_ok();
  if (!args.json.empty()) QSEG_RETURN_IF_ERROR(check_writable(args.json));

  std::unique_ptr<Segmenter> preprocessor;
  if (args.raw.empty()) {
    SegmenterOptions options;
    options.model_limits = args.limits.model;
    options.max_arena_bytes = args.limits.max_arena_bytes;
    options.kernel_isa = KernelIsa::kReference;
    auto created = Segmenter::create(ga, options);
    if (!created.is_ok()) return created.status().with_context(args.a.model);
    preprocessor = std::move(created).value();
  }

  Side a(args.a, std::move(ga), oracle_dir, args.limits.max_arena_bytes);
  Side b(args.b, std::move(gb), oracle_dir, args.limits.max_arena_bytes);
  fmt::print("A: {} in {}\nB: {} in {}\n", args.a.model, a.label(), args.b.model, b.label());
  const Graph& g = a.graph();
  const Tensor& out = g.tensors[g.outputs[0]];

  nlohmann::json doc = {{"a", {{"model", args.a.model}, {"runtime", a.label()}}},
                        {"b", {{"model", args.b.model}, {"runtime", b.label()}}},
                        {"inputs", nlohmann::json::array()}};
  int64_t identical = 0, near_tie_pixels = 0, differing_pixels = 0;
  double worst = 2.0, worst_relative = 0;
  std::string worst_name;
  for (const auto& photo : photos) {
    std::vector<uint8_t> input;
    if (preprocessor) {
      auto rgb = read_image(photo, args.limits.image);
      if (!rgb.is_ok()) return rgb.status();
      QSEG_ASSIGN_OR_RETURN(input, preprocessor->model_input(rgb.value()));
    } else {
      QSEG_ASSIGN_OR_RETURN(input, read_file_bytes(photo, args.limits.model.max_file_bytes));
    }
    nlohmann::json entry = {{"input", photo.string()}};
    const std::string name = photo.filename().string();
    if (layers) {
      QSEG_ASSIGN_OR_RETURN(const std::vector<LayerRow> rows, compare_layers(a, b, input));
      if (photos.size() > 1) fmt::print("== {}\n", photo.string());
      print_layers(g, rows);
      const LayerRow* first = first_different(rows);
      fmt::print("first op that differs: {}\n", describe_first(g, first));
      nlohmann::json jl = nlohmann::json::array();
      for (const LayerRow& r : rows) {
        nlohmann::json j = diff_json(r.diff);
        j["op"] = r.op;
        j["type"] = std::string(op_type_name(g.ops[r.op].type));
        j["tensor"] = g.tensors[r.tensor].name;
        jl.push_back(j);
      }
      entry["layers"] = jl;
      entry["first_different_op"] = first ? nlohmann::json(first->op) : nlohmann::json(nullptr);
    }
    // The model outputs as users run them (with the default fusion of the kernels).
    QSEG_ASSIGN_OR_RETURN(auto oa, a.run(input, false));
    QSEG_ASSIGN_OR_RETURN(auto ob, b.run(input, false));
    const TensorDiff d = diff_tensor(out, oa[0], ob[0]);
    bool same = d.identical();
    for (size_t i = 1; i < oa.size(); ++i) same = same && oa[i] == ob[i];
    const LabelAgreement agreement = label_agreement(out, oa[0], ob[0]);
    identical += same;
    near_tie_pixels += agreement.near_ties;
    differing_pixels += agreement.pixels - agreement.same - agreement.near_ties;
    worst_relative = std::max(worst_relative, d.max_relative);
    if (agreement.share() < worst) {
      worst = agreement.share();
      worst_name = name;
    }
    entry["identical"] = same;
    entry["output"] = diff_json(d);
    entry["pixels"] = agreement.pixels;
    entry["pixels_agreeing"] = agreement.same;
    entry["near_tie_pixels"] = agreement.near_ties;
    std::string line = fmt::format("{}: output {}", name, same ? "identical" : "differs");
    if (!same) {
      line += fmt::format(", {} of pixels agree", percent(agreement.same, agreement.pixels));
      if (d.is_float)
        line += fmt::format(", largest difference {:.2g} of the range", d.max_relative);
      if (agreement.near_ties) line += fmt::format(" ({} near ties)", agreement.near_ties);
      // Float outputs differ in their low bits everywhere (summation order); the first op that
      // differs is looked for only where they miss float rounding's bounds.
      const bool within_float_rounding = d.is_float && d.max_relative <= kFloatTolerance &&
                                         agreement.same + agreement.near_ties == agreement.pixels;
      if (!layers && find_first && !within_float_rounding) {
        QSEG_ASSIGN_OR_RETURN(const std::vector<LayerRow> rows, compare_layers(a, b, input));
        const LayerRow* first = first_different(rows);
        line += "; first op that differs: " +
                (first ? describe_first(g, first)
                       : std::string("none when run op by op (the fused kernels differ)"));
        entry["first_different_op"] = first ? nlohmann::json(first->op) : nlohmann::json(nullptr);
      }
    }
    if (photos.size() > 1 || !layers) fmt::print("{}\n", line);
    std::fflush(stdout);
    doc["inputs"].push_back(entry);
  }
  const auto n = static_cast<int64_t>(photos.size());
  if (worst >= 1.0) worst_name.clear();
  std::string summary = fmt::format(
      "{} inputs, {} bit-identical ({}), worst pixel agreement {}", n, identical,
      percent(identical, n),
      worst >= 1.0 ? std::string("100%") : fmt::format("{:.4f}% ({})", 100 * worst, worst_name));
  if (out.type == DataType::kFloat32)
    summary += fmt::format(
        ", largest difference {:.2g} of the output's range ({} 1e-5), {} pixels "
        "differ beyond near ties ({} near ties)",
        worst_relative, worst_relative <= kFloatTolerance ? "within" : "beyond", differing_pixels,
        near_tie_pixels);
  fmt::print("summary: {}\n", summary);
  doc["summary"] = {{"inputs", n},
                    {"identical", identical},
                    {"worst_agreement", worst > 1 ? 1.0 : worst},
                    {"worst_input", worst_name},
                    {"max_relative_difference", worst_relative},
                    {"pixels_differing_beyond_near_ties", differing_pixels},
                    {"near_tie_pixels", near_tie_pixels}};
  if (!args.json.empty()) {
    const std::string text = doc.dump(1);
    QSEG_RETURN_IF_ERROR(write_file_atomically(
        args.json, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  }
  return Status::ok();
}

}  // namespace

void add_diff_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<DiffArgs>();
  args->a.runtime = "qseg";
  args->b.runtime = "tflite";
  CLI::App* cmd = app.add_subcommand(
      "diff",
      "Compare a model in qseg with the real TFLite (or two models, or two arithmetics) layer by "
      "layer on one input, or output by output over many photos");
  cmd->add_option("--model", args->a.model, "Model .tflite (side A)")->required();
  cmd->add_option("--model-b", args->b.model, "Side B's model (default: the same)");
  cmd->add_option("--a", args->a.runtime, "Side A runs in qseg or tflite")->capture_default_str();
  cmd->add_option("--b", args->b.runtime, "Side B runs in qseg or tflite")->capture_default_str();
  add_requantization_option(*cmd, args->a.requantization);
  add_kernels_option(*cmd, args->a.kernels);
  cmd->add_flag("--fuse-blocks", args->a.fuse_blocks,
                "Run inverted residual blocks fused (qseg sides, model outputs)");
  cmd->add_option("--requantization-b", args->b_requantization,
                  "Side B's arithmetic when it runs in qseg (default: as side A)");
  cmd->add_option("--kernels-b", args->b_kernels,
                  "Side B's kernels when it runs in qseg (default: as side A)");
  cmd->add_option("--raw", args->raw, "An exact raw input tensor instead of photos");
  cmd->add_option(
      "inputs", args->inputs,
      "Photos (JPEG, PNG, BMP) or folders of photos, preprocessed as qseg segment does");
  cmd->add_flag("--layers", args->layers,
                "Compare every layer of every input (the default for one input)");
  cmd->add_flag("--no-layers", args->no_layers,
                "Compare model outputs only, and do not look for the first op that differs");
  cmd->add_option("--limit", args->limit, "Compare the first N photos only (0: all)");
  cmd->add_option("--json", args->json, "Write every figure as JSON here");
  cmd->add_option("--oracle", args->oracle,
                  "The TFLite oracle folder (default: tflite-oracle beside the qseg binary)");
  add_limit_options(*cmd, args->limits, /*images=*/true);
  cmd->callback([args, &run] { run = [args] { return run_diff(*args); }; });
}

}  // namespace qseg::cli
