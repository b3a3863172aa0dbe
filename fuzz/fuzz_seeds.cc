// Writes the fuzz seeds that the shared folder lacks, into the folder given as argument:
// tiny_conv.tflite (one CONV_2D), op_*.tflite (one op each, for every op and tensor type qseg
// runs: op_seeds.h), deeplab_*.tflite (small DeepLab models with every op qseg runs, converted
// from a random checkpoint at a 33x33 input so fuzz_tflite invokes them),
// tiny_deeplab.ckpt (that checkpoint), and small BMP and PNG files of every pixel layout the
// decoders take (written by the tests' naive encoders). Small seeds keep executions fast.
#include <cstdio>
#include <filesystem>
#include <string>

#include "convert/convert.h"
#include "imgproc/fixture_encoders.h"
#include "imgproc/image_io.h"
#include "imgproc/jpeg_fixture.h"
#include "imgproc/webp_fixture.h"
#include "model/checkpoint_file.h"
#include "model/model_config.h"
#include "op_seeds.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "tiny_model.h"

namespace {

using namespace qseg;

// Deterministic values in [-scale, scale]: seeds must not change from one run to the next.
std::vector<float> values(size_t count, float scale, uint32_t& state) {
  std::vector<float> out(count);
  for (float& v : out) {
    state = state * 1664525u + 1013904223u;
    v = scale * (static_cast<float>(state >> 8) / float(1 << 24) * 2 - 1);
  }
  return out;
}

// A checkpoint holding every tensor the spec's layers need, with the config in its header.
Result<model::CheckpointFile> random_checkpoint(const model::DeepLabConfig& config) {
  QSEG_ASSIGN_OR_RETURN(model::DeepLabSpec spec, model::deeplab_spec(config));
  model::CheckpointFile file;
  file.meta["format"] = "qseg-deeplab-checkpoint";
  file.meta["model"] = model::config_to_json(config);
  uint32_t state = 1;
  for (const model::LayerSpec& layer : spec.layers) {
    const bool depthwise = layer.kind == model::LayerKind::kDepthwise;
    const int64_t in = depthwise ? 1 : layer.in_channels;
    const std::vector<int64_t> shape = {layer.out_channels, in, layer.kernel, layer.kernel};
    const size_t count = static_cast<size_t>(layer.out_channels * in * layer.kernel * layer.kernel);
    file.tensors.push_back({layer.name + (depthwise ? "/depthwise_weights" : "/weights"), shape,
                            values(count, 0.5f, state)});
    const std::vector<int64_t> vector = {layer.out_channels};
    const size_t n = static_cast<size_t>(layer.out_channels);
    if (layer.batch_norm) {
      std::vector<float> ones(n, 1.0f);
      file.tensors.push_back({layer.name + "/BatchNorm/gamma", vector, ones});
      file.tensors.push_back({layer.name + "/BatchNorm/beta", vector, values(n, 0.1f, state)});
      file.tensors.push_back(
          {layer.name + "/BatchNorm/moving_mean", vector, values(n, 0.1f, state)});
      file.tensors.push_back({layer.name + "/BatchNorm/moving_variance", vector, ones});
    } else if (layer.bias) {
      file.tensors.push_back({layer.name + "/biases", vector, values(n, 0.1f, state)});
    }
  }
  return file;
}

Status write(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  QSEG_RETURN_IF_ERROR(write_file_atomically(path, bytes));
  std::printf("seed %s (%zu bytes)\n", path.c_str(), bytes.size());
  return Status::ok();
}

// The one-op models, each checked to load, prepare and run with the reference and the optimized
// kernels: a seed that no longer prepares would only exercise the first check that refuses it.
Status write_op_models(const std::filesystem::path& dir) {
  for (fuzz::NamedGraph& seed : fuzz::op_seed_graphs()) {
    QSEG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, write_tflite(seed.graph));
    for (KernelIsa isa : {KernelIsa::kReference, KernelIsa::kAuto}) {
      QSEG_ASSIGN_OR_RETURN(Graph graph, read_tflite(bytes, seed.name + ".tflite"));
      InterpreterOptions options;
      options.kernel_isa = isa;
      QSEG_ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interpreter,
                            Interpreter::create(std::move(graph), options));
      interpreter->invoke();
    }
    QSEG_RETURN_IF_ERROR(write(dir / ("op_" + seed.name + ".tflite"), bytes));
  }
  return Status::ok();
}

Status write_models(const std::filesystem::path& dir, const std::string& stem,
                    const model::CheckpointFile& checkpoint) {
  convert::ExportOptions export_options;
  export_options.input_height = export_options.input_width = 33;
  QSEG_ASSIGN_OR_RETURN(convert::FrozenGraph frozen,
                        convert::export_checkpoint(checkpoint, stem, export_options));
  // Random weights have no trained ranges: give every activation a plausible one.
  for (size_t i = 0; i < frozen.ranges.size(); ++i) {
    if (!frozen.graph.tensors[i].is_constant && !frozen.ranges[i])
      frozen.ranges[i] = quant::FloatRange{-4.0f, 4.0f};
  }
  const struct {
    const char* suffix;
    convert::InferenceType type;
    convert::OutputArray output;
  } variants[] = {
      {"uint8", convert::InferenceType::kUint8, convert::OutputArray::kArgMax},
      {"int8", convert::InferenceType::kInt8PerChannel, convert::OutputArray::kArgMax},
      {"uint8_logits", convert::InferenceType::kUint8, convert::OutputArray::kLogits},
      {"float", convert::InferenceType::kFloat, convert::OutputArray::kArgMax},
  };
  for (const auto& v : variants) {
    convert::ConvertOptions options;
    options.inference_type = v.type;
    options.uint8_input = v.type != convert::InferenceType::kFloat;
    options.output = v.output;
    QSEG_ASSIGN_OR_RETURN(Graph graph, convert::convert_graph(frozen, options));
    QSEG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, write_tflite(graph));
    QSEG_RETURN_IF_ERROR(write(dir / (stem + "_" + v.suffix + ".tflite"), bytes));
  }
  return Status::ok();
}

// Packed rows of `width` pixels of `bits` each, a different pattern per row.
std::vector<std::vector<uint8_t>> pattern_rows(int width, int height, int bits) {
  std::vector<std::vector<uint8_t>> rows(height);
  for (int y = 0; y < height; ++y) {
    rows[y].resize((static_cast<size_t>(width) * bits + 7) / 8);
    for (size_t i = 0; i < rows[y].size(); ++i) rows[y][i] = static_cast<uint8_t>(i * 29 + y * 7);
  }
  return rows;
}

Status write_images(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::vector<std::array<uint8_t, 3>> palette;
  for (int i = 0; i < 16; ++i)
    palette.push_back({uint8_t(i * 16), uint8_t(255 - i * 16), uint8_t(i * 5)});
  for (int bits : {1, 4, 8, 16, 24, 32}) {
    test::BmpSpec bmp;
    bmp.width = 5;
    bmp.height = bits == 8 ? -3 : 3;  // one top-down file
    bmp.bits_per_pixel = bits;
    if (bits <= 8) bmp.palette_bgr = palette;
    if (bits == 16) {
      bmp.compression = 3;  // BI_BITFIELDS, RGB565
      bmp.masks = {0xF800, 0x07E0, 0x001F};
    }
    if (bits == 1) bmp.palette_bgr.resize(2);
    bmp.rows = pattern_rows(5, 3, bits);
    if (bits <= 8) {  // indices within the palette
      for (auto& row : bmp.rows)
        for (uint8_t& b : row) b &= bits == 8 ? 0x0F : 0xFF;
    }
    QSEG_RETURN_IF_ERROR(
        write(dir / ("small_" + std::to_string(bits) + ".bmp"), test::make_bmp(bmp)));
  }
  test::BmpSpec core;  // the 12-byte OS/2 header
  core.width = 4;
  core.height = 2;
  core.header_size = 12;
  core.rows = pattern_rows(4, 2, 24);
  QSEG_RETURN_IF_ERROR(write(dir / "small_core.bmp", test::make_bmp(core)));

  const struct {
    const char* name;
    int color_type;
    int bit_depth;
    int channels;
  } pngs[] = {{"gray1", 0, 1, 1},    {"gray4", 0, 4, 1},  {"gray8", 0, 8, 1},
              {"gray16", 0, 16, 1},  {"rgb8", 2, 8, 3},   {"palette2", 3, 2, 1},
              {"palette8", 3, 8, 1}, {"graya8", 4, 8, 2}, {"rgba16", 6, 16, 4}};
  for (const auto& p : pngs) {
    test::PngSpec png;
    png.width = 6;
    png.height = 4;
    png.color_type = p.color_type;
    png.bit_depth = p.bit_depth;
    if (p.color_type == 3) {
      png.palette = palette;
      png.palette.resize(size_t{1} << std::min(p.bit_depth, 4));
      png.transparency = {0, 128};
    }
    png.rows = pattern_rows(6, 4, p.bit_depth * p.channels);
    if (p.color_type == 3) {
      for (auto& row : png.rows)
        for (uint8_t& b : row) b &= p.bit_depth == 8 ? 0x03 : 0xFF;
    }
    QSEG_RETURN_IF_ERROR(
        write(dir / (std::string("small_") + p.name + ".png"), test::make_png(png)));
  }
  // JPEGs as phones write them: an APP1 Exif segment with an orientation (6: stored sideways,
  // 3: upside down), in both byte orders, for the Exif parser and the turns after decoding.
  Image small;
  small.width = 8;
  small.height = 5;
  small.channels = 3;
  small.pixels.resize(8 * 5 * 3);
  for (size_t i = 0; i < small.pixels.size(); ++i) small.pixels[i] = static_cast<uint8_t>(i * 37);
  QSEG_ASSIGN_OR_RETURN(const std::vector<uint8_t> jpeg, encode_jpeg(small, "seed", 80));
  for (const auto& [orientation, big_endian] : {std::pair{6, false}, std::pair{3, true}}) {
    QSEG_RETURN_IF_ERROR(
        write(dir / ("exif_" + std::to_string(orientation) + (big_endian ? "_mm" : "_ii") + ".jpg"),
              test::with_segment(jpeg, test::exif_segment(orientation, big_endian))));
  }
  // WebP, lossy and lossless (libwebp's encoder).
  QSEG_RETURN_IF_ERROR(write(dir / "small_lossy.webp", test::encode_webp(small, false, 80)));
  QSEG_RETURN_IF_ERROR(write(dir / "small_lossless.webp", test::encode_webp(small, true)));
  return Status::ok();
}

Status run(const std::filesystem::path& dir) {
  QSEG_RETURN_IF_ERROR(write_images(dir / "image"));
  const std::filesystem::path models = dir / "tflite", checkpoints = dir / "checkpoint";
  std::filesystem::create_directories(models);
  std::filesystem::create_directories(checkpoints);
  QSEG_RETURN_IF_ERROR(
      write(models / "tiny_conv.tflite", test::build_tflite(test::tiny_conv_model())));
  QSEG_RETURN_IF_ERROR(write_op_models(models));

  model::DeepLabConfig plain;  // the published head: image pooling, output stride 16
  plain.depth_multiplier = 0.1f;
  plain.num_classes = 3;
  plain.folded = true;
  plain.input_height = plain.input_width = 33;
  model::DeepLabConfig atrous = plain;  // stride 8 (dilated blocks) and separable ASPP branches
  atrous.output_stride = 8;
  atrous.aspp_rates = {2, 3};
  atrous.folded = false;
  for (const auto& [stem, config] :
       {std::pair{"deeplab_plain", plain}, {"deeplab_atrous", atrous}}) {
    QSEG_ASSIGN_OR_RETURN(model::CheckpointFile checkpoint, random_checkpoint(config));
    if (std::string(stem) == "deeplab_plain") {
      QSEG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            model::encode_checkpoint(checkpoint, "tiny_deeplab.ckpt"));
      QSEG_RETURN_IF_ERROR(write(checkpoints / "tiny_deeplab.ckpt", bytes));
    }
    QSEG_RETURN_IF_ERROR(write_models(models, stem, checkpoint));
  }
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR\n");
    return 2;
  }
  const Status status = run(argv[1]);
  if (!status.is_ok()) {
    std::fprintf(stderr, "fuzz_seeds: error: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
