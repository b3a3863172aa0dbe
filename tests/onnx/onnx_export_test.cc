// The ONNX export (src/onnx): the published uint8 DeepLab parses back with protobuf and passes
// onnx::checker, has the QDQ structure ONNX Runtime fuses, and holds the .tflite's weights, biases,
// scales and zero points; per-channel int8, fused activations and float models map as documented;
// an op it cannot map is one error naming it.
#include "onnx/onnx_export.h"

#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>

#include "op_graphs.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

::onnx::ModelProto parse(const OnnxExport& out) {
  ::onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(out.bytes));
  return model;
}

::onnx::ModelProto export_ok(const Graph& g, const OnnxExportOptions& options = {}) {
  auto out = export_onnx(g, "test", options);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  if (!out.is_ok()) return {};
  return parse(out.value());
}

Graph read_model(const std::filesystem::path& path) {
  auto g = read_tflite_file(path);
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  return g.is_ok() ? std::move(g).value() : Graph{};
}

std::filesystem::path published_dm05() {
  return test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
}

// Lookups in one ModelProto: initializers and producers by name, nodes of a type in order.
class Model {
 public:
  explicit Model(::onnx::ModelProto m) : model(std::move(m)) {
    for (const auto& t : model.graph().initializer()) initializers_[t.name()] = &t;
    for (const auto& n : model.graph().node())
      for (const auto& o : n.output()) producers_[o] = &n;
  }
  const ::onnx::TensorProto* initializer(const std::string& name) const {
    auto it = initializers_.find(name);
    return it == initializers_.end() ? nullptr : it->second;
  }
  const ::onnx::NodeProto* producer(const std::string& name) const {
    auto it = producers_.find(name);
    return it == producers_.end() ? nullptr : it->second;
  }
  std::vector<const ::onnx::NodeProto*> nodes(const std::string& type) const {
    std::vector<const ::onnx::NodeProto*> out;
    for (const auto& n : model.graph().node())
      if (n.op_type() == type) out.push_back(&n);
    return out;
  }
  int count(const std::string& type) const { return static_cast<int>(nodes(type).size()); }
  // The initializer behind a DequantizeLinear's input `k` (0 data, 1 scale, 2 zero point).
  const ::onnx::TensorProto* dq_input(const std::string& value, int k) const {
    const ::onnx::NodeProto* dq = producer(value);
    if (!dq || dq->op_type() != "DequantizeLinear") return nullptr;
    return initializer(dq->input(k));
  }

  ::onnx::ModelProto model;

 private:
  std::map<std::string, const ::onnx::TensorProto*> initializers_;
  std::map<std::string, const ::onnx::NodeProto*> producers_;
};

const ::onnx::AttributeProto* attribute(const ::onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::vector<int64_t> ints(const ::onnx::NodeProto& n, const std::string& name) {
  const auto* a = attribute(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>{};
}

template <typename T>
std::vector<T> values(const ::onnx::TensorProto& t) {
  std::vector<T> out(t.raw_data().size() / sizeof(T));
  std::memcpy(out.data(), t.raw_data().data(), out.size() * sizeof(T));
  return out;
}

std::vector<int64_t> dims(const ::onnx::ValueInfoProto& v) {
  std::vector<int64_t> out;
  for (const auto& d : v.type().tensor_type().shape().dim()) out.push_back(d.dim_value());
  return out;
}

TEST(OnnxExport, PublishedDm05IsACheckedQdqModel) {
  const Graph g = read_model(published_dm05());
  Model m(export_ok(g));
  EXPECT_NO_THROW(::onnx::checker::check_model(m.model));
  EXPECT_EQ(m.model.ir_version(), 7);
  ASSERT_EQ(m.model.opset_import_size(), 1);
  EXPECT_EQ(m.model.opset_import(0).version(), kOnnxOpset);
  EXPECT_EQ(m.model.producer_name(), "qseg");
  const auto& graph = m.model.graph();
  ASSERT_EQ(graph.input_size(), 1);
  EXPECT_EQ(graph.input(0).name(), "MobilenetV2/MobilenetV2/input");
  EXPECT_EQ(graph.input(0).type().tensor_type().elem_type(), ::onnx::TensorProto::UINT8);
  EXPECT_EQ(dims(graph.input(0)), (std::vector<int64_t>{1, 513, 513, 3}));
  ASSERT_EQ(graph.output_size(), 1);
  EXPECT_EQ(graph.output(0).name(), "ArgMax");
  EXPECT_EQ(graph.output(0).type().tensor_type().elem_type(), ::onnx::TensorProto::INT64);
  EXPECT_EQ(dims(graph.output(0)), (std::vector<int64_t>{1, 513, 513}));
  // One node per op (38 + 17 convolutions, the 33x33 -> 33x33 resize kept), one Transpose (the
  // input to NCHW), QDQ around every arithmetic op; the concat's inputs share its grid (bytes).
  EXPECT_EQ(m.count("Conv"), 55);
  // The 10 ADDs, and one float Add each where TFLite rounds half up: the QUANTIZE and the three
  // resizes (1x1 -> 33x33, 33x33 -> 33x33, 33x33 -> 513x513: steps of 0 and 1/16).
  EXPECT_EQ(m.count("Add"), 10 + 1 + 3);
  EXPECT_EQ(m.count("GlobalAveragePool"), 1);
  EXPECT_EQ(m.count("Resize"), 3);
  EXPECT_EQ(m.count("Concat"), 1);
  EXPECT_EQ(m.count("ArgMax"), 1);
  EXPECT_EQ(m.count("Transpose"), 1);
  EXPECT_EQ(m.count("Clip"), 0);  // every fused ReLU / ReLU6 clamps to the whole 8-bit range
  EXPECT_EQ(m.count("QuantizeLinear"), 55 + 10 + 1 + 3 + 1);  // + the QUANTIZE op
  for (const auto* conv : m.nodes("Conv")) {
    SCOPED_TRACE(conv->output(0));
    for (int k = 0; k < 3; ++k)
      ASSERT_EQ(m.producer(conv->input(k))->op_type(), "DequantizeLinear");
    const auto* weights = m.dq_input(conv->input(1), 0);
    ASSERT_NE(weights, nullptr);
    EXPECT_EQ(weights->data_type(), ::onnx::TensorProto::INT8);
    EXPECT_EQ(m.dq_input(conv->input(2), 0)->data_type(), ::onnx::TensorProto::INT32);
  }
  // The labels are the ArgMax of the dequantized uint8 scores over the channels (NCHW axis 1).
  const auto* arg_max = m.nodes("ArgMax")[0];
  EXPECT_EQ(attribute(*arg_max, "axis")->i(), 1);
  EXPECT_EQ(attribute(*arg_max, "keepdims")->i(), 0);
  EXPECT_EQ(attribute(*arg_max, "select_last_index")->i(), 0);
  for (const auto* resize : m.nodes("Resize")) {
    EXPECT_EQ(attribute(*resize, "mode")->s(), "linear");
    EXPECT_EQ(attribute(*resize, "coordinate_transformation_mode")->s(), "align_corners");
  }
}

// Each convolution in op order against its Conv node: OIHW weights with the .tflite's values,
// scales and zero points (uint8 codes as int8 minus 128 by default), the int32 biases at scale
// input x weight, the output grid, and the window.
void expect_convolutions_match(const Graph& g, const Model& m, bool uint8_weights) {
  const auto convs = m.nodes("Conv");
  size_t k = 0;
  for (const Op& op : g.ops) {
    if (op.type != OpType::kConv2d && op.type != OpType::kDepthwiseConv2d) continue;
    ASSERT_LT(k, convs.size());
    const ::onnx::NodeProto& conv = *convs[k++];
    const Tensor& x = g.tensors[op.inputs[0]];
    const Tensor& w = g.tensors[op.inputs[1]];
    const Tensor& b = g.tensors[op.inputs[2]];
    const Tensor& y = g.tensors[op.outputs[0]];
    SCOPED_TRACE(y.name);
    const bool dw = op.type == OpType::kDepthwiseConv2d;
    const auto* wi = m.dq_input(conv.input(1), 0);
    ASSERT_NE(wi, nullptr);
    const int O = dw ? w.shape[3] : w.shape[0], H = w.shape[1], W = w.shape[2];
    const int I = dw ? 1 : w.shape[3];
    EXPECT_EQ(std::vector<int64_t>(wi->dims().begin(), wi->dims().end()),
              (std::vector<int64_t>{O, I, H, W}));
    const std::string& onnx_w = wi->raw_data();
    ASSERT_EQ(onnx_w.size(), w.data.size());
    int mismatches = 0;
    for (int o = 0; o < O; ++o)
      for (int i = 0; i < I; ++i)
        for (int h = 0; h < H; ++h)
          for (int c = 0; c < W; ++c) {
            const size_t tflite_at = dw ? (static_cast<size_t>(h) * W + c) * O + o
                                        : ((static_cast<size_t>(o) * H + h) * W + c) * I + i;
            const uint8_t expected =
                uint8_weights ? w.data[tflite_at] : static_cast<uint8_t>(w.data[tflite_at] ^ 0x80);
            mismatches +=
                static_cast<uint8_t>(onnx_w[((static_cast<size_t>(o) * I + i) * H + h) * W + c]) !=
                expected;
          }
    EXPECT_EQ(mismatches, 0);
    EXPECT_EQ(values<float>(*m.dq_input(conv.input(1), 1)), w.quant.scale);
    const auto* wz = m.dq_input(conv.input(1), 2);
    if (uint8_weights) {
      EXPECT_EQ(values<uint8_t>(*wz)[0], w.quant.zero_point[0]);
    } else {
      EXPECT_EQ(values<int8_t>(*wz)[0], w.quant.zero_point[0] - 128);
    }
    EXPECT_EQ(m.dq_input(conv.input(2), 0)->raw_data(), std::string(b.data.begin(), b.data.end()));
    EXPECT_EQ(values<float>(*m.dq_input(conv.input(2), 1))[0], x.quant.scale[0] * w.quant.scale[0]);
    EXPECT_EQ(values<int32_t>(*m.dq_input(conv.input(2), 2))[0], 0);
    // The output's QuantizeLinear: the .tflite output's scale and zero point.
    const ::onnx::NodeProto* q = nullptr;
    for (const auto& n : m.model.graph().node())
      if (n.op_type() == "QuantizeLinear" && n.input(0) == conv.output(0)) q = &n;
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(values<float>(*m.initializer(q->input(1)))[0], y.quant.scale[0]);
    EXPECT_EQ(values<uint8_t>(*m.initializer(q->input(2)))[0], y.quant.zero_point[0]);
    EXPECT_EQ(ints(conv, "kernel_shape"), (std::vector<int64_t>{H, W}));
    EXPECT_EQ(attribute(conv, "group")->i(), dw ? x.shape[3] : 1);
    const auto* o = dw ? nullptr : &op.options_as<Conv2dOptions>();
    const int stride = dw ? op.options_as<DepthwiseConv2dOptions>().stride_h : o->stride_h;
    const int dilation = dw ? op.options_as<DepthwiseConv2dOptions>().dilation_h : o->dilation_h;
    EXPECT_EQ(ints(conv, "strides"), (std::vector<int64_t>{stride, stride}));
    EXPECT_EQ(ints(conv, "dilations"), (std::vector<int64_t>{dilation, dilation}));
  }
  EXPECT_EQ(k, convs.size());
}

// TFLite's QUANTIZE between uint8 grids (XNNPACK's conversion: multiplier m = round(256 s_in /
// s_out), rounded half up) and its resizes' half-up rounding; --onnx-plain-qdq writes plain QDQ.
TEST(OnnxExport, TfliteRoundingIsKeptUnlessPlainQdq) {
  const Graph g = read_model(published_dm05());
  Model m(export_ok(g));
  const Op* quantize = nullptr;
  for (const Op& op : g.ops)
    if (op.type == OpType::kQuantize) quantize = &op;
  ASSERT_NE(quantize, nullptr);
  const Tensor& in = g.tensors[quantize->inputs[0]];
  const Tensor& out = g.tensors[quantize->outputs[0]];
  const ::onnx::NodeProto* q = m.producer(out.name + "_nchw");
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->op_type(), "QuantizeLinear");
  EXPECT_EQ(values<float>(*m.initializer(q->input(1)))[0], 1.0f);
  EXPECT_EQ(values<uint8_t>(*m.initializer(q->input(2)))[0], out.quant.zero_point[0]);
  const ::onnx::NodeProto* add = m.producer(q->input(0));
  ASSERT_EQ(add->op_type(), "Add");
  EXPECT_EQ(values<float>(*m.initializer(add->input(1)))[0], 1.0f / 1024);
  const float multiplier = std::nearbyint(256.0f * (in.quant.scale[0] / out.quant.scale[0]));
  EXPECT_EQ(values<float>(*m.dq_input(add->input(0), 1))[0], multiplier / 256.0f);
  EXPECT_EQ(values<uint8_t>(*m.dq_input(add->input(0), 2))[0], in.quant.zero_point[0]);
  for (const auto* resize : m.nodes("Resize")) {
    EXPECT_EQ(values<float>(*m.dq_input(resize->input(0), 1))[0], 1.0f);
    bool rounded_up = false;
    for (const auto& n : m.model.graph().node())
      rounded_up |= n.op_type() == "Add" && n.input(0) == resize->output(0) &&
                    values<float>(*m.initializer(n.input(1)))[0] == 1.0f / 65536;
    EXPECT_TRUE(rounded_up) << resize->output(0);
  }
  OnnxExportOptions plain;
  plain.plain_qdq = true;
  Model p(export_ok(g, plain));
  EXPECT_EQ(p.count("Add"), 10);
  EXPECT_EQ(p.count("QuantizeLinear"), 70);
  // A resize whose steps are inexact in float (1/3) stays plain QDQ.
  Model third(export_ok(test::resize_graph(true, false, DataType::kUInt8)));
  EXPECT_EQ(third.count("Add"), 0);
  Model quarter(export_ok(test::resize_graph(true, false, DataType::kUInt8, 17, 13)));
  EXPECT_EQ(quarter.count("Add"), 1);
}

TEST(OnnxExport, WeightsBiasesAndGridsAreTheTflites) {
  const Graph g = read_model(published_dm05());
  expect_convolutions_match(g, Model(export_ok(g)), /*uint8_weights=*/false);
}

TEST(OnnxExport, Uint8WeightsOptionKeepsTheTflitesCodes) {
  const Graph g = read_model(published_dm05());
  OnnxExportOptions options;
  options.uint8_weights = true;
  expect_convolutions_match(g, Model(export_ok(g, options)), /*uint8_weights=*/true);
}

TEST(OnnxExport, PerChannelInt8WeightsAreDequantizedPerOutputChannel) {
  for (bool depthwise : {false, true}) {
    test::ConvCase c;
    c.type = DataType::kInt8;
    c.depthwise = depthwise;
    c.multiplier = depthwise ? 2 : 1;
    const Graph g = test::conv_graph(c, 3);
    Model m(export_ok(g));
    const auto& graph = m.model.graph();
    // The int8 input and output keep their type; inside, activations are uint8, zero point + 128.
    EXPECT_EQ(graph.input(0).type().tensor_type().elem_type(), ::onnx::TensorProto::INT8);
    EXPECT_EQ(graph.output(0).type().tensor_type().elem_type(), ::onnx::TensorProto::INT8);
    const auto* conv = m.nodes("Conv")[0];
    const auto* dq = m.producer(conv->input(1));
    ASSERT_EQ(dq->op_type(), "DequantizeLinear");
    EXPECT_EQ(attribute(*dq, "axis")->i(), 0);
    const Tensor& w = g.tensors[g.ops[0].inputs[1]];
    EXPECT_EQ(values<float>(*m.initializer(dq->input(1))), w.quant.scale);
    EXPECT_EQ(values<int8_t>(*m.initializer(dq->input(2))),
              std::vector<int8_t>(w.quant.scale.size(), 0));
    EXPECT_EQ(m.initializer(dq->input(0))->data_type(), ::onnx::TensorProto::INT8);
    const auto* x = m.dq_input(conv->input(0), 2);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->data_type(), ::onnx::TensorProto::UINT8);
    EXPECT_EQ(values<uint8_t>(*x)[0], -7 + 128);
    EXPECT_EQ(values<float>(*m.dq_input(conv->input(2), 1)).size(), w.quant.scale.size());
    EXPECT_EQ(attribute(*conv, "group")->i(), depthwise ? c.channels : 1);
  }
}

// The clamp TFLite applies in quantized values, as a Clip of uint8 after the QuantizeLinear, only
// where it is narrower than [0, 255]; float ops get Relu / Clip(0, 6).
TEST(OnnxExport, FusedActivationsClampWhereTheyNarrowTheRange) {
  struct Case {
    Activation activation;
    float scale;
    int64_t zero_point;
    int clip_min, clip_max;  // -1: no Clip
  };
  for (const Case& k :
       {Case{Activation::kRelu, 0.05f, 10, 10, 255}, Case{Activation::kRelu, 0.05f, 0, -1, -1},
        Case{Activation::kRelu6, 6.0f / 255, 0, -1, -1}, Case{Activation::kRelu6, 0.05f, 3, 3, 123},
        Case{Activation::kReluN1To1, 0.01f, 128, 28, 228},
        Case{Activation::kNone, 0.05f, 10, -1, -1}}) {
    test::ConvCase c;
    c.activation = k.activation;
    c.output_scale = k.scale;
    c.output_zero_point = k.zero_point;
    Model m(export_ok(test::conv_graph(c, 4)));
    SCOPED_TRACE(static_cast<int>(k.activation));
    const auto clips = m.nodes("Clip");
    if (k.clip_min < 0) {
      EXPECT_TRUE(clips.empty());
      continue;
    }
    ASSERT_EQ(clips.size(), 1u);
    EXPECT_EQ(m.producer(clips[0]->input(0))->op_type(), "QuantizeLinear");
    EXPECT_EQ(values<uint8_t>(*m.initializer(clips[0]->input(1)))[0], k.clip_min);
    EXPECT_EQ(values<uint8_t>(*m.initializer(clips[0]->input(2)))[0], k.clip_max);
  }
  test::ConvCase f;
  f.type = DataType::kFloat32;
  f.activation = Activation::kRelu6;
  Model m(export_ok(test::conv_graph(f, 5)));
  EXPECT_EQ(m.count("QuantizeLinear") + m.count("DequantizeLinear"), 0);
  ASSERT_EQ(m.count("Clip"), 1);
  const auto* clip = m.nodes("Clip")[0];
  EXPECT_EQ(values<float>(*m.initializer(clip->input(1)))[0], 0.0f);
  EXPECT_EQ(values<float>(*m.initializer(clip->input(2)))[0], 6.0f);
}

TEST(OnnxExport, WindowsPaddingAndResizeFlagsMap) {
  test::ConvCase c;
  c.stride = 2;
  c.kernel = 3;
  c.height = 9;
  c.width = 8;  // SAME, stride 2: out 5 x 4; total padding 2 rows (1 + 1), 1 column (0 + 1)
  Model m(export_ok(test::conv_graph(c, 6)));
  EXPECT_EQ(ints(*m.nodes("Conv")[0], "pads"), (std::vector<int64_t>{1, 0, 1, 1}));
  c.padding = Padding::kValid;
  c.dilation = 2;
  c.stride = 1;
  Model valid(export_ok(test::conv_graph(c, 6)));
  EXPECT_EQ(ints(*valid.nodes("Conv")[0], "pads"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(ints(*valid.nodes("Conv")[0], "dilations"), (std::vector<int64_t>{2, 2}));
  Model pool(export_ok(test::average_pool_graph(false)));
  ASSERT_EQ(pool.count("AveragePool"), 1);
  EXPECT_EQ(ints(*pool.nodes("AveragePool")[0], "pads"), (std::vector<int64_t>{1, 0, 1, 1}));
  EXPECT_EQ(Model(export_ok(test::average_pool_graph(true))).count("GlobalAveragePool"), 1);
  for (auto [align, half, mode] :
       {std::tuple{true, false, "align_corners"}, std::tuple{false, true, "half_pixel"},
        std::tuple{false, false, "asymmetric"}}) {
    Model r(export_ok(test::resize_graph(align, half, DataType::kUInt8)));
    const auto* resize = r.nodes("Resize")[0];
    EXPECT_EQ(attribute(*resize, "coordinate_transformation_mode")->s(), mode);
    EXPECT_EQ(values<int64_t>(*r.initializer(resize->input(3))),
              (std::vector<int64_t>{1, 3, 13, 9}));
  }
  // Concatenation of inputs on other grids: dequantized, joined on NCHW's channel axis.
  Model concat(export_ok(test::concat_graph(7)));
  EXPECT_EQ(attribute(*concat.nodes("Concat")[0], "axis")->i(), 1);
  EXPECT_EQ(concat.count("DequantizeLinear"), 2);
  // QUANTIZE -> RESHAPE (of the .tflite layout) -> ARG_MAX over the last axis, as int32.
  Model moves(export_ok(test::quantize_reshape_argmax_graph()));
  EXPECT_EQ(moves.count("Reshape"), 1);
  EXPECT_EQ(moves.count("Cast"), 1);
  EXPECT_EQ(attribute(*moves.nodes("ArgMax")[0], "axis")->i(), 2);
  EXPECT_EQ(moves.model.graph().output(0).type().tensor_type().elem_type(),
            ::onnx::TensorProto::INT32);
}

TEST(OnnxExport, FloatModelHasNoQdq) {
  const Graph g =
      read_model(std::filesystem::path(QSEG_SOURCE_DIR) / "models/qseg_dm05_float.tflite");
  Model m(export_ok(g));
  EXPECT_EQ(m.count("QuantizeLinear") + m.count("DequantizeLinear"), 0);
  EXPECT_EQ(m.count("Conv"), 55);
  EXPECT_EQ(m.model.graph().input(0).type().tensor_type().elem_type(), ::onnx::TensorProto::FLOAT);
  for (const auto* conv : m.nodes("Conv"))
    EXPECT_EQ(m.initializer(conv->input(1))->data_type(), ::onnx::TensorProto::FLOAT);
}

TEST(OnnxExport, IsDeterministicAndCarriesTheClassNames) {
  Graph g = read_model(published_dm05());
  g.class_labels = "background\nbird #ff0000\n";
  auto a = export_onnx(g, "a");
  auto b = export_onnx(g, "b");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(a->bytes, b->bytes);
  const ::onnx::ModelProto m = parse(a.value());
  ASSERT_EQ(m.metadata_props_size(), 1);
  EXPECT_EQ(m.metadata_props(0).key(), "qseg_labels");
  EXPECT_EQ(m.metadata_props(0).value(), g.class_labels);
}

TEST(OnnxExport, AnOpItCannotMapIsOneErrorNamingIt) {
  test::GraphMaker m;
  const int32_t x = m.input("x", DataType::kUInt8, {1, 2, 2, 3}, 0.1f, 0);
  const int32_t multiples =
      m.constant("multiples", DataType::kInt32, {4}, test::int32_bytes({1, 2, 2, 1}));
  const int32_t y = m.activation("y", DataType::kUInt8, {1, 4, 4, 3}, 0.1f, 0);
  m.op(OpType::kAdd, {x, x}, {m.activation("sum", DataType::kUInt8, {1, 2, 2, 3}, 0.2f, 0)},
       AddOptions{});
  m.op(OpType::kTile, {static_cast<int32_t>(m.graph.tensors.size() - 1), multiples}, {y},
       std::monostate{});
  auto out = export_onnx(m.done({y}), "tile.tflite");
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(
      out.status().message().rfind("tile.tflite: op 1 (TILE): ONNX export does not map this op", 0),
      0u)
      << out.status().message();
  EXPECT_EQ(out.status().message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace qseg
