// `qseg inspect`: ops, tensors, quantization, multiply-adds, weight bytes and arena size.
#include <fmt/format.h>

#include <cstdio>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common.h"
#include "graph/validate.h"
#include "qseg/analysis.h"
#include "qseg/class_set.h"
#include "qseg/interpreter.h"
#include "qseg/segmenter.h"
#include "qseg/tflite.h"

namespace qseg::cli {
namespace {

struct InspectArgs {
  std::string model;
  bool tensors = false;
  InputLimits limits;
  std::string json;  // --json FILE, or - for the JSON alone on stdout
};

using Text = std::back_insert_iterator<std::string>;

nlohmann::json tensor_json(const Graph& graph, int32_t index) {
  const Tensor& t = graph.tensors[index];
  nlohmann::json json = {{"index", index},
                         {"name", t.name},
                         {"type", std::string(data_type_name(t.type))},
                         {"shape", t.shape},
                         {"constant", t.is_constant}};
  if (!t.quant.empty()) {
    json["quantization"] = {{"scale", t.quant.scale},
                            {"zero_point", t.quant.zero_point},
                            {"dimension", t.quant.quantized_dimension}};
  }
  return json;
}

// "classes: 19, named in the model (qseg_labels)" and one line per class; a model without names
// gets the line alone (the defaults it would be shown with).
Status print_classes(const Graph& graph, Text out, nlohmann::json* json) {
  const int count = model_class_count(graph);
  (*json)["class_count"] = count;
  if (graph.class_labels.empty()) {
    if (count == 0) return Status::ok();  // not a segmentation model
    fmt::format_to(out, "classes: {}, not named in the model ({})\n", count,
                   count == 21 ? "shown as PASCAL VOC's" : "shown as class_N");
    return Status::ok();
  }
  const std::string source = "qseg_labels metadata";
  QSEG_ASSIGN_OR_RETURN(ClassSet classes, ClassSet::parse(graph.class_labels, source));
  fmt::format_to(out, "classes: {}, named in the model ({}){}\n", classes.size(), source,
                 classes.size() == count ? "" : fmt::format(" but the model has {}", count));
  nlohmann::json& named = (*json)["classes"] = nlohmann::json::array();
  for (int c = 0; c < classes.size(); ++c) {
    const Rgb& rgb = classes.color(c);
    const std::string color = fmt::format("#{:02X}{:02X}{:02X}", rgb[0], rgb[1], rgb[2]);
    fmt::format_to(out, "  {:>3} {} {}\n", c, color, classes.name(c));
    named.push_back({{"id", c}, {"name", classes.name(c)}, {"color", color}});
  }
  return Status::ok();
}

std::string shape_text(const Tensor& t) {
  std::string s;
  for (auto d : t.shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return fmt::format("{}[{}]", data_type_name(t.type), s);
}

std::string quant_text(const Tensor& t) {
  if (t.quant.empty()) return "";
  if (t.quant.per_tensor())
    return fmt::format(" q({:.6g}, {})", t.quant.scale[0], t.quant.zero_point[0]);
  return fmt::format(" q(per-channel x{}, dim {})", t.quant.scale.size(),
                     t.quant.quantized_dimension);
}

std::string options_text(const Op& op) {
  auto act = [](Activation a) {
    switch (a) {
      case Activation::kNone:
        return "";
      case Activation::kRelu:
        return " relu";
      case Activation::kRelu6:
        return " relu6";
      case Activation::kReluN1To1:
        return " relu_n1_to_1";
    }
    return "";
  };
  auto pad = [](Padding p) { return p == Padding::kSame ? "same" : "valid"; };
  return std::visit(
      [&](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Conv2dOptions>) {
          return fmt::format("stride {}x{} dilation {}x{} {}{}", o.stride_h, o.stride_w,
                             o.dilation_h, o.dilation_w, pad(o.padding), act(o.activation));
        } else if constexpr (std::is_same_v<T, DepthwiseConv2dOptions>) {
          return fmt::format("stride {}x{} dilation {}x{} x{} {}{}", o.stride_h, o.stride_w,
                             o.dilation_h, o.dilation_w, o.depth_multiplier, pad(o.padding),
                             act(o.activation));
        } else if constexpr (std::is_same_v<T, Pool2dOptions>) {
          return fmt::format("filter {}x{} stride {}x{} {}{}", o.filter_h, o.filter_w, o.stride_h,
                             o.stride_w, pad(o.padding), act(o.activation));
        } else if constexpr (std::is_same_v<T, AddOptions>) {
          return act(o.activation);
        } else if constexpr (std::is_same_v<T, ConcatenationOptions>) {
          return fmt::format("axis {}{}", o.axis, act(o.activation));
        } else if constexpr (std::is_same_v<T, ResizeBilinearOptions>) {
          return std::string(o.align_corners ? "align_corners" : "") +
                 (o.half_pixel_centers ? " half_pixel_centers" : "");
        } else if constexpr (std::is_same_v<T, ResizeNearestNeighborOptions>) {
          return std::string(o.align_corners ? "align_corners" : "") +
                 (o.half_pixel_centers ? " half_pixel_centers" : "");
        } else if constexpr (std::is_same_v<T, ArgMaxOptions>) {
          return fmt::format("output {}", data_type_name(o.output_type));
        } else if constexpr (std::is_same_v<T, UnsupportedOptions>) {
          return fmt::format("** qseg cannot run (code {})", o.builtin_code);
        } else {
          return "";
        }
      },
      op.options);
}

Status run_inspect(const InspectArgs& args) {
  if (args.model.empty()) return Status::invalid_argument("inspect needs a model: --model FILE");
  if (!args.json.empty() && args.json != "-") QSEG_RETURN_IF_ERROR(check_writable(args.json));
  QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite_file(args.model, args.limits.model));
  const auto file_bytes = std::filesystem::file_size(args.model);
  std::string text;
  const Text out(text);
  nlohmann::json json = {{"model", args.model},
                         {"bytes", file_bytes},
                         {"description", graph.description},
                         {"tensor_count", graph.tensors.size()},
                         {"op_count", graph.ops.size()},
                         {"inputs", nlohmann::json::array()},
                         {"outputs", nlohmann::json::array()},
                         {"ops", nlohmann::json::array()}};
  for (int32_t i : graph.inputs) json["inputs"].push_back(tensor_json(graph, i));
  for (int32_t i : graph.outputs) json["outputs"].push_back(tensor_json(graph, i));
  fmt::format_to(out, "{}: {} bytes, {} tensors, {} ops{}\n", args.model, file_bytes,
                 graph.tensors.size(), graph.ops.size(),
                 graph.description.empty() ? "" : " (" + graph.description + ")");
  for (int32_t i : graph.inputs)
    fmt::format_to(out, "input  t{}: {}{} '{}'\n", i, shape_text(graph.tensors[i]),
                   quant_text(graph.tensors[i]), graph.tensors[i].name);
  for (int32_t i : graph.outputs)
    fmt::format_to(out, "output t{}: {}{} '{}'\n", i, shape_text(graph.tensors[i]),
                   quant_text(graph.tensors[i]), graph.tensors[i].name);
  QSEG_RETURN_IF_ERROR(print_classes(graph, out, &json).with_context(args.model));
  fmt::format_to(out, "\n{:>4}  {:<18} {:<28} {:<24} {:>14}  {}\n", "op", "type", "output",
                 "options", "multiply-adds", "inputs");
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    std::string inputs;
    for (int32_t t : op.inputs) {
      if (t == kNoTensor) {
        inputs += " -";
        continue;
      }
      inputs += fmt::format(" t{}:{}{}", t, shape_text(graph.tensors[t]),
                            graph.tensors[t].is_constant ? "(const)" : "");
    }
    const Tensor& output = graph.tensors[op.outputs[0]];
    const int64_t op_macs = op_multiply_adds(graph, static_cast<int>(i));
    fmt::format_to(out, "{:>4}  {:<18} {:<28} {:<24} {:>14}  {}\n", i, op_name(op),
                   shape_text(output) + quant_text(output), options_text(op), op_macs, inputs);
    json["ops"].push_back({{"index", i},
                           {"type", std::string(op_name(op))},
                           {"inputs", op.inputs},
                           {"outputs", op.outputs},
                           {"options", options_text(op)},
                           {"multiply_adds", op_macs}});
  }
  if (args.tensors) {
    nlohmann::json& tensors = json["tensors"] = nlohmann::json::array();
    for (size_t i = 0; i < graph.tensors.size(); ++i)
      tensors.push_back(tensor_json(graph, static_cast<int32_t>(i)));
    fmt::format_to(out, "\n{:>5}  {:<24} {:<32} {}\n", "index", "tensor", "quantization", "name");
    for (size_t i = 0; i < graph.tensors.size(); ++i) {
      const Tensor& t = graph.tensors[i];
      fmt::format_to(out, "{:>5}  {:<24} {:<32} {}{}\n", i, shape_text(t), quant_text(t), t.name,
                     t.is_constant ? " (const)" : "");
    }
  }
  const int64_t macs = total_multiply_adds(graph);
  const int64_t weights = constant_bytes(graph);
  const int64_t resize_macs = resize_multiply_adds(graph);
  const std::vector<int> unsupported = unsupported_ops(graph);
  std::unique_ptr<Interpreter> interp;
  if (unsupported.empty()) {
    InterpreterOptions interpreter_options;
    interpreter_options.max_arena_bytes = args.limits.max_arena_bytes;
    auto created = Interpreter::create(std::move(graph), interpreter_options);
    if (!created.is_ok()) return created.status().with_context(args.model);
    interp = std::move(created).value();
  }
  fmt::format_to(out, "\nmultiply-adds: {} ({:.3f} G; CONV_2D and DEPTHWISE_CONV_2D)\n", macs,
                 macs / 1e9);
  fmt::format_to(
      out,
      "as DeepLab counts: {:.2f} B (the convolutions plus {:.3f} G for bilinear resizes at 2 per "
      "output value)\n",
      (macs + resize_macs) / 1e9, resize_macs / 1e9);
  fmt::format_to(out, "constant bytes: {} ({:.1f} KiB)\n", weights, weights / 1024.0);
  json["multiply_adds"] = macs;
  json["deeplab_multiply_adds"] = macs + resize_macs;
  json["constant_bytes"] = weights;
  json["arena_bytes"] =
      interp != nullptr ? nlohmann::json(interp->arena_bytes()) : nlohmann::json();
  json["unsupported_ops"] = unsupported;
  if (interp != nullptr) {
    fmt::format_to(out, "arena bytes: {} ({:.2f} MiB, activations with shared memory)\n",
                   interp->arena_bytes(), interp->arena_bytes() / 1048576.0);
  } else {
    // The model reads, but qseg cannot run it: say which ops stop it (the inspection succeeded).
    std::string list;
    for (size_t k = 0; k < unsupported.size(); ++k) {
      if (k == 8) {
        list += fmt::format(", ... ({} more)", unsupported.size() - k);
        break;
      }
      list += fmt::format("{}{} (op {})", k == 0 ? "" : ", ", op_name(graph.ops[unsupported[k]]),
                          unsupported[k]);
    }
    fmt::format_to(out, "arena bytes: not planned (qseg cannot run this model)\n");
    fmt::format_to(out, "{} op{} qseg cannot run: {}\n", unsupported.size(),
                   unsupported.size() == 1 ? "" : "s", list);
  }
  if (args.json == "-") {  // the JSON alone, for a pipe
    std::fputs(json_text(json).c_str(), stdout);
    return Status::ok();
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!args.json.empty()) {
    QSEG_RETURN_IF_ERROR(write_json_file(args.json, json));
    fmt::print("JSON: {}\n", args.json);
  }
  return Status::ok();
}

}  // namespace

void add_inspect_command(CLI::App& app, Action& run) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show a model's ops, tensors, quantization, multiply-adds and memory");
  // --model as on every other command; the positional form of earlier versions still works.
  CLI::Option* flag = cmd->add_option("--model", args->model, "Model .tflite");
  cmd->add_option("model", args->model, "Model .tflite (the same as --model)")->excludes(flag);
  add_limit_options(*cmd, args->limits, /*images=*/false);
  cmd->add_flag("--tensors", args->tensors, "Also list every tensor");
  cmd->add_option("--json", args->json,
                  "Also write all of it as JSON to this file; - prints only the JSON, to stdout");
  cmd->callback([args, &run] { run = [args] { return run_inspect(*args); }; });
}

}  // namespace qseg::cli
