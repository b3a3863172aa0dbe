// The data-movement ops of the public DeepLab TFLite family (TILE, PAD, PADV2, SPACE_TO_BATCH_ND,
// BATCH_TO_SPACE_ND, RESIZE_NEAREST_NEIGHBOR, CAST, DEQUANTIZE) written by qseg's writer and run
// in qseg and in the real TFLite, bit for bit, on many random shapes and values per op and type.
// Each model holds many independent cases: the graph input [720] is reshaped to each case's
// shape (720 has many factorizations), the op runs, and its result is one of the model's outputs,
// so one start of the oracle checks them all.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "oracle/oracle_graph.h"
#include "oracle_util.h"
#include "qseg/interpreter.h"
#include "qseg/tflite.h"
#include "test_util.h"

namespace qseg {
namespace {

using test::CaseGraph;

constexpr int32_t kElements = 720;  // 2^4 * 3^2 * 5

// A random shape of `rank` dims holding exactly `elements` elements.
std::vector<int32_t> random_shape(int32_t elements, size_t rank, std::mt19937& rng) {
  std::vector<int32_t> shape;
  for (size_t d = 0; d + 1 < rank; ++d) {
    std::vector<int32_t> divisors;
    for (int32_t k = 1; k <= elements && k <= 24; ++k) {
      if (elements % k == 0) divisors.push_back(k);
    }
    const int32_t dim = divisors[rng() % divisors.size()];
    shape.push_back(dim);
    elements /= dim;
  }
  shape.push_back(elements);
  return shape;
}

struct TypeCase {
  DataType type;
  Quantization quant;
};

std::vector<TypeCase> activation_types(std::mt19937& rng) {
  return {{DataType::kUInt8, test::quantization(0.05f, static_cast<int64_t>(rng() % 256))},
          {DataType::kInt8, test::quantization(0.05f, static_cast<int64_t>(rng() % 256) - 128)},
          {DataType::kFloat32, {}}};
}

// Random input bytes for the graph input: any byte for 8-bit types, floats in [-50, 50].
std::vector<uint8_t> random_input(DataType type, int32_t elements, std::mt19937& rng) {
  if (type == DataType::kFloat32) {
    std::uniform_real_distribution<float> dist(-50.0f, 50.0f);
    std::vector<float> values(static_cast<size_t>(elements));
    for (float& v : values) v = dist(rng);
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(elements) * data_type_size(type));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

// Prints how many cases (op outputs) a test compared, for the README's numbers.
void report(const char* what, int cases) {
  std::printf("%s: %d cases compared byte for byte with the real TFLite\n", what, cases);
}

TEST(RealTfliteDataMovement, TileMatchesOnRandomShapes) {
  std::mt19937 rng(69);
  int cases = 0;
  for (const TypeCase& t : activation_types(rng)) {
    CaseGraph g(t.type, {kElements}, t.quant);
    for (int c = 0; c < 16; ++c) {
      const std::vector<int32_t> shape = random_shape(kElements, 1 + rng() % 4, rng);
      std::vector<int32_t> multiples, out_shape;
      for (int32_t d : shape) {
        multiples.push_back(1 + static_cast<int32_t>(rng() % 3));
        out_shape.push_back(d * multiples.back());
      }
      const int in = g.reshaped(shape);
      const int m = c % 2 == 0 ? g.int_constant(multiples) : g.int64_constant(multiples);
      const int out = g.activation(out_shape);
      g.op(OpType::kTile, {in, m}, {out});
      g.output(out);
    }
    g.expect_matches_real_tflite(random_input(t.type, kElements, rng), "tile");
    cases += g.checked_outputs();
  }
  report("TILE", cases);
}

TEST(RealTfliteDataMovement, PadAndPadV2MatchOnRandomShapes) {
  std::mt19937 rng(34);
  int cases = 0;
  for (const TypeCase& t : activation_types(rng)) {
    CaseGraph g(t.type, {kElements}, t.quant);
    for (int c = 0; c < 16; ++c) {
      const std::vector<int32_t> shape = random_shape(kElements, 1 + rng() % 4, rng);
      std::vector<int32_t> pairs, out_shape;
      for (int32_t d : shape) {
        pairs.push_back(static_cast<int32_t>(rng() % 4));
        pairs.push_back(static_cast<int32_t>(rng() % 4));
        out_shape.push_back(pairs[pairs.size() - 2] + d + pairs.back());
      }
      const int in = g.reshaped(shape);
      const int paddings = g.int_constant(pairs, {static_cast<int32_t>(shape.size()), 2});
      const int out = g.activation(out_shape);
      if (c % 2 == 0) {
        g.op(OpType::kPad, {in, paddings}, {out});
      } else {
        const int value = g.scalar_constant(random_input(t.type, 1, rng));
        g.op(OpType::kPadV2, {in, paddings, value}, {out});
      }
      g.output(out);
    }
    g.expect_matches_real_tflite(random_input(t.type, kElements, rng), "pad");
    cases += g.checked_outputs();
  }
  report("PAD and PADV2", cases);
}

TEST(RealTfliteDataMovement, SpaceToBatchNdAndBatchToSpaceNdMatchOnRandomShapes) {
  std::mt19937 rng(38);
  int cases = 0;
  for (const TypeCase& t : activation_types(rng)) {
    CaseGraph g(t.type, {kElements}, t.quant);
    for (int c = 0; c < 12; ++c) {
      const int32_t bh = 1 + static_cast<int32_t>(rng() % 3),
                    bw = 1 + static_cast<int32_t>(rng() % 3);
      const int block = g.int_constant({bh, bw});
      if (c % 2 == 0) {
        const std::vector<int32_t> s = random_shape(kElements, 4, rng);
        const int32_t top = static_cast<int32_t>(rng() % 3), left = static_cast<int32_t>(rng() % 3);
        const int32_t bottom = (bh - (top + s[1]) % bh) % bh;
        const int32_t right = (bw - (left + s[2]) % bw) % bw + bw * static_cast<int32_t>(rng() % 2);
        const int in = g.reshaped(s);
        const int paddings = g.int_constant({top, bottom, left, right}, {2, 2});
        const int out = g.activation(
            {s[0] * bh * bw, (top + s[1] + bottom) / bh, (left + s[2] + right) / bw, s[3]});
        g.op(OpType::kSpaceToBatchNd, {in, block, paddings}, {out});
        g.output(out);
      } else {
        // A batch that is a multiple of the block size, then random crops below the block.
        std::vector<int32_t> s;
        do {
          s = random_shape(kElements, 4, rng);
        } while (s[0] % (bh * bw) != 0);
        const int32_t top = static_cast<int32_t>(rng() % bh),
                      bottom = static_cast<int32_t>(rng() % bh);
        const int32_t left = static_cast<int32_t>(rng() % bw),
                      right = static_cast<int32_t>(rng() % bw);
        if (s[1] * bh - top - bottom < 1 || s[2] * bw - left - right < 1) continue;
        const int in = g.reshaped(s);
        const int crops = g.int_constant({top, bottom, left, right}, {2, 2});
        const int out = g.activation(
            {s[0] / (bh * bw), s[1] * bh - top - bottom, s[2] * bw - left - right, s[3]});
        g.op(OpType::kBatchToSpaceNd, {in, block, crops}, {out});
        g.output(out);
      }
    }
    g.expect_matches_real_tflite(random_input(t.type, kElements, rng), "space/batch");
    cases += g.checked_outputs();
  }
  report("SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND", cases);
}

TEST(RealTfliteDataMovement, ResizeNearestNeighborMatchesOnRandomShapesAndFlags) {
  std::mt19937 rng(97);
  int cases = 0;
  for (const TypeCase& t : activation_types(rng)) {
    CaseGraph g(t.type, {kElements}, t.quant);
    // 2 -> 82 is where TFLite's float rule and its uint8 fixed point differ (kernel tests).
    {
      const int in = g.reshaped({1, 2, 2, 180});
      const int size = g.int_constant({82, 83});
      const int out = g.activation({1, 82, 83, 180});
      g.op(OpType::kResizeNearestNeighbor, {in, size}, {out}, ResizeNearestNeighborOptions{});
      g.output(out);
    }
    for (int c = 0; c < 18; ++c) {
      std::vector<int32_t> s;
      do {
        s = random_shape(kElements, 4, rng);
      } while (s[3] > 30);
      const int32_t oh = 1 + static_cast<int32_t>(rng() % 40),
                    ow = 1 + static_cast<int32_t>(rng() % 40);
      const int in = g.reshaped(s);
      const int size = g.int_constant({oh, ow});
      const int out = g.activation({s[0], oh, ow, s[3]});
      g.op(OpType::kResizeNearestNeighbor, {in, size}, {out},
           ResizeNearestNeighborOptions{c % 3 == 1, c % 3 == 2});
      g.output(out);
    }
    g.expect_matches_real_tflite(random_input(t.type, kElements, rng), "resize nearest");
    cases += g.checked_outputs();
  }
  report("RESIZE_NEAREST_NEIGHBOR", cases);
}

// CAST from each input type to every other type the oracle can read back, on values each pair
// defines (see cast.h for the cases TFLite leaves undefined).
TEST(RealTfliteDataMovement, CastMatchesOnEveryReadableTypePair) {
  std::mt19937 rng(53);
  int cases = 0;
  const DataType types[] = {DataType::kFloat32, DataType::kInt32, DataType::kUInt8,
                            DataType::kInt8};
  for (const DataType from : types) {
    for (const bool wide : {false, true}) {
      if (wide && from != DataType::kFloat32) continue;
      CaseGraph g(from, {kElements}, {});
      for (const DataType to : types) {
        if (to == from || (wide && to != DataType::kInt32)) continue;
        const int out = g.tensor(to, {kElements}, {});
        g.op(OpType::kCast, {g.input()}, {out});
        g.output(out);
      }
      std::vector<uint8_t> input = random_input(from, kElements, rng);
      if (from == DataType::kFloat32) {
        // Values every 8-bit target holds, (-1, 128); or, to int32 only, +-1e6.
        std::uniform_real_distribution<float> dist(wide ? -1e6f : -0.99f, wide ? 1e6f : 127.99f);
        std::vector<float> values(kElements);
        for (float& v : values) v = dist(rng);
        std::memcpy(input.data(), values.data(), input.size());
      }
      g.expect_matches_real_tflite(input, "cast from " + std::string(data_type_name(from)));
      cases += g.checked_outputs();
    }
  }
  report("CAST (type pairs of 720 values)", cases);
}

// DEQUANTIZE of every uint8 and int8 value with random scales and zero points.
TEST(RealTfliteDataMovement, DequantizeMatchesOnEveryValue) {
  std::mt19937 rng(6);
  int cases = 0;
  for (const DataType type : {DataType::kUInt8, DataType::kInt8}) {
    for (int trial = 0; trial < 3; ++trial) {
      const float scale = std::uniform_real_distribution<float>(1e-4f, 2.0f)(rng);
      const int64_t zero_point =
          static_cast<int64_t>(rng() % 256) - (type == DataType::kInt8 ? 128 : 0);
      CaseGraph g(type, {256}, test::quantization(scale, zero_point));
      const int out = g.tensor(DataType::kFloat32, {256}, {});
      g.op(OpType::kDequantize, {g.input()}, {out});
      g.output(out);
      std::vector<uint8_t> input(256);
      for (int i = 0; i < 256; ++i) input[i] = static_cast<uint8_t>(i);
      g.expect_matches_real_tflite(input, std::string("dequantize ") +
                                              std::string(data_type_name(type)) + " scale " +
                                              std::to_string(scale));
      cases += g.checked_outputs();
    }
  }
  report("DEQUANTIZE (scale and zero point pairs of 256 values)", cases);
}

}  // namespace
}  // namespace qseg
