// `qseg diff`: one model in qseg against the same model in the real TensorFlow Lite or in ONNX
// Runtime (qseg's ONNX export of it), or two models, or two arithmetics, layer by layer on one
// input, or output by output over many photos. For every op output: the share of equal values, of
// values within one quantization step, the largest difference in steps, and the first op that
// differs. scripts/conformance.sh runs it over all the shared photos.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common.h"
#include "diff_side.h"
#include "qseg/segmenter.h"
#include "segment_inputs.h"
#include "tensor_diff.h"

namespace qseg::cli {
namespace {

struct DiffArgs {
  SideArgs a, b;
  std::string b_requantization, b_kernels;  // empty: as side A
  std::string raw;
  std::vector<std::string> inputs;
  bool layers = false, no_layers = false;
  std::string json;
  std::string oracle;
  std::string onnxruntime;
  OnnxExportOptions onnx;
  int limit = 0;
  InputLimits limits;
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
        if (entry.is_regular_file() && has_photo_extension(entry.path()))
          found.push_back(entry.path());
      }
      if (ec) return Status::error("cannot list " + input + ": " + ec.message());
      if (found.empty())
        return Status::error(input + ": a folder with no JPEG, PNG, BMP or WebP photos");
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

std::string percent(int64_t part, int64_t whole) {
  if (whole == 0) return "-";
  if (part == whole) return "100%";
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  return fmt::format("{:.4f}%", std::min(p, 99.9999));
}

// Every layer of both sides on one input; returns the rows, in op order.
Result<std::vector<LayerRow>> compare_layers(Side& a, Side& b, std::span<const uint8_t> input) {
  QSEG_ASSIGN_OR_RETURN(auto xa, a.run(input, Side::Read::kLayers));
  QSEG_ASSIGN_OR_RETURN(auto xb, b.run(input, Side::Read::kLayers));
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
    if (s->runtime != "qseg" && s->runtime != "tflite" && s->runtime != "onnxruntime")
      return Status::error("--a and --b take qseg, tflite or onnxruntime, got '" + s->runtime +
                           "'");
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
      (args.a.runtime != "qseg" ||
       (args.a.requantization == args.b.requantization && args.a.kernels == args.b.kernels)))
    return Status::error(
        "both sides are the same: give --b, --model-b, --requantization-b or "
        "--kernels-b");
  if (args.layers && args.no_layers)
    return Status::error("--layers and --no-layers exclude each other");
  if (args.raw.empty() == args.inputs.empty())
    return Status::error("give photos (files or folders) or --raw FILE, not both or neither");
  if (args.limit < 0) return Status::invalid_argument("--limit must be >= 0");
  return Status::ok();
}

// What is fed: the exact raw tensor, or each photo (the first --limit) through the Segmenter's
// preprocessing.
Result<std::vector<std::filesystem::path>> diff_inputs(const DiffArgs& args) {
  if (args.inputs.empty()) return std::vector<std::filesystem::path>{args.raw};
  QSEG_ASSIGN_OR_RETURN(std::vector<std::filesystem::path> photos, collect_photos(args.inputs));
  if (args.limit > 0 && photos.size() > static_cast<size_t>(args.limit))
    photos.resize(static_cast<size_t>(args.limit));
  return photos;
}

nlohmann::json layers_json(const Graph& g, const std::vector<LayerRow>& rows) {
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerRow& r : rows) {
    nlohmann::json j = diff_json(r.diff);
    j["op"] = r.op;
    j["type"] = std::string(op_type_name(g.ops[r.op].type));
    j["tensor"] = g.tensors[r.tensor].name;
    layers.push_back(j);
  }
  return layers;
}

// The run's settings and totals over its inputs.
struct DiffRun {
  Side* a = nullptr;
  Side* b = nullptr;
  bool layers = false;      // every layer of every input
  bool find_first = false;  // the graphs allow looking for the first op that differs
  bool many = false;        // more than one input
  int32_t scores = -1;      // argmax_scores of the model
  int64_t identical = 0, near_tie_pixels = 0, differing_pixels = 0;
  double worst = 2.0, worst_relative = 0;
  std::string worst_name;
};

// One input through both sides: prints its lines, adds to the totals, returns its JSON entry.
// `photo_rows` x `photo_cols`: where a photo lies in the model input (0 for a raw input).
Result<nlohmann::json> diff_one_input(DiffRun& run, const std::filesystem::path& photo,
                                      std::span<const uint8_t> input, int photo_rows,
                                      int photo_cols) {
  Side& a = *run.a;
  Side& b = *run.b;
  const Graph& g = a.graph();
  const Tensor& out = g.tensors[g.outputs[0]];
  nlohmann::json entry = {{"input", photo.string()}};
  const std::string name = photo.filename().string();
  if (run.layers) {
    QSEG_ASSIGN_OR_RETURN(const std::vector<LayerRow> rows, compare_layers(a, b, input));
    if (run.many) fmt::print("== {}\n", photo.string());
    print_layers(g, rows);
    const LayerRow* first = first_different(rows);
    fmt::print("first op that differs: {}\n", describe_first(g, first));
    entry["layers"] = layers_json(g, rows);
    entry["first_different_op"] = first ? nlohmann::json(first->op) : nlohmann::json(nullptr);
  }
  // The model outputs as users run them (with the default fusion of the kernels).
  QSEG_ASSIGN_OR_RETURN(auto oa, a.run(input, Side::Read::kOutputs));
  QSEG_ASSIGN_OR_RETURN(auto ob, b.run(input, Side::Read::kOutputs));
  const TensorDiff d = diff_tensor(out, oa[0], ob[0]);
  bool same = d.identical();
  for (size_t i = 1; i < oa.size(); ++i) same = same && oa[i] == ob[i];
  LabelAgreement agreement = label_agreement(out, oa[0], ob[0]);
  // Labels of float scores that differ: read the scores on both sides to tell near ties apart.
  std::optional<TensorDiff> scores_diff;
  if (run.scores >= 0 && agreement.same < agreement.pixels) {
    QSEG_ASSIGN_OR_RETURN(auto sa, a.run(input, Side::Read::kScores));
    QSEG_ASSIGN_OR_RETURN(auto sb, b.run(input, Side::Read::kScores));
    const Tensor& scores = g.tensors[run.scores];
    scores_diff = diff_tensor(scores, sa[0], sb[0]);
    auto floats = [](const std::vector<uint8_t>& bytes) {
      return std::span(reinterpret_cast<const float*>(bytes.data()), bytes.size() / sizeof(float));
    };
    agreement = label_agreement_with_scores(out, oa[0], ob[0], floats(sa[0]), floats(sb[0]),
                                            scores.shape.back());
    run.worst_relative = std::max(run.worst_relative, scores_diff->max_relative);
    entry["scores"] = diff_json(*scores_diff);
  }
  run.identical += same;
  run.near_tie_pixels += agreement.near_ties;
  run.differing_pixels += agreement.pixels - agreement.same - agreement.near_ties;
  run.worst_relative = std::max(run.worst_relative, d.max_relative);
  if (agreement.share() < run.worst) {
    run.worst = agreement.share();
    run.worst_name = name;
  }
  entry["identical"] = same;
  entry["output"] = diff_json(d);
  entry["pixels"] = agreement.pixels;
  entry["pixels_agreeing"] = agreement.same;
  entry["near_tie_pixels"] = agreement.near_ties;
  // The labels where the photo lies, padding left out.
  const LabelAgreement in_photo =
      label_agreement_in_region(out, oa[0], ob[0], photo_rows, photo_cols);
  if (in_photo.pixels > 0) {
    entry["photo_pixels"] = in_photo.pixels;
    entry["photo_pixels_agreeing"] = in_photo.same;
  }
  std::string line = fmt::format("{}: output {}", name, same ? "identical" : "differs");
  if (!same) {
    line += fmt::format(", {} of pixels agree", percent(agreement.same, agreement.pixels));
    if (d.is_float) line += fmt::format(", largest difference {:.2g} of the range", d.max_relative);
    if (scores_diff)
      line +=
          fmt::format(", largest score difference {:.2g} of the range", scores_diff->max_relative);
    if (agreement.near_ties) line += fmt::format(" ({} near ties)", agreement.near_ties);
    // Float outputs differ in their low bits everywhere (summation order); the first op that
    // differs is looked for only where they miss float rounding's bounds.
    const double relative = scores_diff ? scores_diff->max_relative : d.max_relative;
    const bool within_float_rounding = (d.is_float || scores_diff) && relative <= kFloatTolerance &&
                                       agreement.same + agreement.near_ties == agreement.pixels;
    if (!run.layers && run.find_first && !within_float_rounding) {
      QSEG_ASSIGN_OR_RETURN(const std::vector<LayerRow> rows, compare_layers(a, b, input));
      const LayerRow* first = first_different(rows);
      line += "; first op that differs: " +
              (first ? describe_first(g, first)
                     : std::string("none when run op by op (the fused kernels differ)"));
      entry["first_different_op"] = first ? nlohmann::json(first->op) : nlohmann::json(nullptr);
    }
  }
  if (run.many || !run.layers) fmt::print("{}\n", line);
  std::fflush(stdout);
  return entry;
}

// The summary line, and the summary's JSON.
nlohmann::json print_summary(DiffRun& run, int64_t n, const Tensor& out) {
  if (run.worst >= 1.0) run.worst_name.clear();
  std::string summary =
      fmt::format("{} inputs, {} bit-identical ({}), worst pixel agreement {}", n, run.identical,
                  percent(run.identical, n),
                  run.worst >= 1.0 ? std::string("100%")
                                   : fmt::format("{:.4f}% ({})", 100 * run.worst, run.worst_name));
  if (out.type == DataType::kFloat32)
    summary += fmt::format(
        ", largest difference {:.2g} of the output's range ({} 1e-5), {} pixels "
        "differ beyond near ties ({} near ties)",
        run.worst_relative, run.worst_relative <= kFloatTolerance ? "within" : "beyond",
        run.differing_pixels, run.near_tie_pixels);
  else if (run.scores >= 0)
    summary += fmt::format(
        "; labels of float scores: largest difference {:.2g} of the scores' range where labels "
        "differ ({} 1e-5), {} pixels differ beyond near ties ({} near ties)",
        run.worst_relative, run.worst_relative <= kFloatTolerance ? "within" : "beyond",
        run.differing_pixels, run.near_tie_pixels);
  fmt::print("summary: {}\n", summary);
  return {{"inputs", n},
          {"identical", run.identical},
          {"worst_agreement", run.worst > 1 ? 1.0 : run.worst},
          {"worst_input", run.worst_name},
          {"max_relative_difference", run.worst_relative},
          {"pixels_differing_beyond_near_ties", run.differing_pixels},
          {"near_tie_pixels", run.near_tie_pixels}};
}

Status run_diff(DiffArgs args) {
  QSEG_RETURN_IF_ERROR(parse_side_options(args));
  PeerDirs dirs;
  dirs.oracle = args.oracle.empty() ? default_oracle_dir() : std::filesystem::path(args.oracle);
  dirs.onnxruntime = args.onnxruntime.empty() ? default_onnxruntime_dir()
                                              : std::filesystem::path(args.onnxruntime);
  dirs.onnx = args.onnx;
  if (args.a.runtime == "tflite" || args.b.runtime == "tflite")
    QSEG_RETURN_IF_ERROR(check_oracle_installed(dirs.oracle));
  if (args.a.runtime == "onnxruntime" || args.b.runtime == "onnxruntime")
    QSEG_RETURN_IF_ERROR(check_onnxruntime_installed(dirs.onnxruntime));
  QSEG_ASSIGN_OR_RETURN(Graph ga, read_tflite_file(args.a.model, args.limits.model));
  QSEG_ASSIGN_OR_RETURN(Graph gb, read_tflite_file(args.b.model, args.limits.model));
  if (ga.inputs.size() != 1 || gb.inputs.size() != 1)
    return Status::error("qseg diff compares models with one input");
  QSEG_ASSIGN_OR_RETURN(const std::vector<std::filesystem::path> photos, diff_inputs(args));
  DiffRun run;
  run.many = photos.size() > 1;
  if (const int32_t sa = argmax_scores(ga), sb = argmax_scores(gb);
      sa >= 0 && sb >= 0 && ga.tensors[sa].shape == gb.tensors[sb].shape)
    run.scores = sa;
  run.layers = args.layers || (!args.no_layers && photos.size() == 1);
  QSEG_RETURN_IF_ERROR(check_comparable(ga, gb, run.layers));
  run.find_first = !args.no_layers && check_comparable(ga, gb, true).is_ok();
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

  Side a(args.a, std::move(ga), dirs, args.limits.max_arena_bytes);
  Side b(args.b, std::move(gb), dirs, args.limits.max_arena_bytes);
  run.a = &a;
  run.b = &b;
  fmt::print("A: {} in {}\nB: {} in {}\n", args.a.model, a.label(), args.b.model, b.label());
  nlohmann::json doc = {{"a", {{"model", args.a.model}, {"runtime", a.label()}}},
                        {"b", {{"model", args.b.model}, {"runtime", b.label()}}},
                        {"inputs", nlohmann::json::array()}};
  const Tensor& model_in = a.graph().tensors[a.graph().inputs[0]];
  for (const auto& photo : photos) {
    std::vector<uint8_t> input;
    int rows = 0, cols = 0;
    if (preprocessor) {
      auto rgb = read_image(photo, args.limits.image);
      if (!rgb.is_ok()) return rgb.status();
      QSEG_ASSIGN_OR_RETURN(input, preprocessor->model_input(rgb.value()));
      if (model_in.shape.size() == 4)
        fit_size(rgb->width, rgb->height, model_in.shape[2], model_in.shape[1], &cols, &rows);
    } else {
      QSEG_ASSIGN_OR_RETURN(input, read_file_bytes(photo, args.limits.model.max_file_bytes));
    }
    QSEG_ASSIGN_OR_RETURN(nlohmann::json entry, diff_one_input(run, photo, input, rows, cols));
    doc["inputs"].push_back(std::move(entry));
  }
  const Graph& g = a.graph();
  doc["summary"] = print_summary(run, static_cast<int64_t>(photos.size()), g.tensors[g.outputs[0]]);
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
      "Compare a model in qseg with the real TFLite or ONNX Runtime (or two models, or two "
      "arithmetics) layer by layer on one input, or output by output over many photos");
  cmd->add_option("--model", args->a.model, "Model .tflite (side A)")->required();
  cmd->add_option("--model-b", args->b.model, "Side B's model (default: the same)");
  cmd->add_option("--a", args->a.runtime,
                  "Side A runs in qseg, tflite (the real TFLite) or onnxruntime (qseg's ONNX "
                  "export of the model, in ONNX Runtime)")
      ->capture_default_str();
  cmd->add_option("--b", args->b.runtime, "Side B runs in qseg, tflite or onnxruntime")
      ->capture_default_str();
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
      "Photos (JPEG, PNG, BMP, WebP) or folders of photos, preprocessed as qseg segment does");
  cmd->add_flag("--layers", args->layers,
                "Compare every layer of every input (the default for one input)");
  cmd->add_flag("--no-layers", args->no_layers,
                "Compare model outputs only, and do not look for the first op that differs");
  cmd->add_option("--limit", args->limit, "Compare the first N photos only (0: all)");
  cmd->add_option("--json", args->json, "Write every figure as JSON here");
  cmd->add_option("--oracle", args->oracle,
                  "The TFLite oracle folder (default: tflite-oracle beside the qseg binary)");
  cmd->add_option("--onnxruntime", args->onnxruntime,
                  "The ONNX Runtime folder (tools/onnx/setup.sh; default: onnxruntime beside the "
                  "qseg binary)");
  cmd->add_flag("--onnx-plain-qdq", args->onnx.plain_qdq,
                "ONNX Runtime side: export as qseg export --onnx-plain-qdq does");
  cmd->add_flag("--onnx-uint8-weights", args->onnx.uint8_weights,
                "ONNX Runtime side: export as qseg export --onnx-uint8-weights does");
  add_limit_options(*cmd, args->limits, /*images=*/true);
  cmd->callback([args, &run] { run = [args] { return run_diff(*args); }; });
}

}  // namespace qseg::cli
