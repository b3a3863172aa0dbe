// The generated segmentation set of synthetic_data.h.
#include "train/support/synthetic_data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include "imgproc/image_io.h"

namespace qseg::test {
namespace {

// Class colours (RGB) the shapes are drawn around; the texture varies them.
constexpr uint8_t kColors[4][3] = {{90, 90, 90}, {200, 40, 40}, {40, 180, 60}, {50, 70, 210}};

void write_or_throw(const std::filesystem::path& path, const Result<std::vector<uint8_t>>& bytes) {
  if (!bytes.is_ok()) throw std::runtime_error(bytes.status().message());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.value().data()),
            static_cast<std::streamsize>(bytes.value().size()));
}

void write_example(const std::filesystem::path& root, const std::string& name, int size,
                   std::mt19937_64& rng) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Image photo(size, size, 3), labels(size, size, 1, 0);
  const int shapes = 1 + static_cast<int>(rng() % 3);
  // Signed "inside" distance per shape: disk (class 1), square (class 2), diamond (class 3).
  for (int s = 0; s < shapes; ++s) {
    const int cls = 1 + static_cast<int>(rng() % 3);
    const float cx = size * (0.2f + 0.6f * unit(rng)), cy = size * (0.2f + 0.6f * unit(rng));
    const float r = size * (0.12f + 0.12f * unit(rng));
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const float dx = std::abs(x - cx), dy = std::abs(y - cy);
        const float d = cls == 1 ? std::sqrt(dx * dx + dy * dy)
                                 : (cls == 2 ? std::max(dx, dy) : (dx + dy) * 0.75f);
        uint8_t& l = labels.row(y)[x];
        if (d < r - 1.0f) {
          l = static_cast<uint8_t>(cls);
        } else if (d < r + 1.0f) {
          l = 255;
        }
      }
    }
  }
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const uint8_t l = labels.row(y)[x];
      const int cls = l == 255 ? 0 : l;
      const float texture =
          25.0f * std::sin(0.7f * x + 0.3f * y * cls) + 30.0f * (unit(rng) - 0.5f);
      for (int c = 0; c < 3; ++c) {
        const float v = kColors[cls][c] + texture;
        photo.row(y)[x * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
      }
    }
  }
  write_or_throw(root / "JPEGImages" / (name + ".jpg"), encode_png(photo, name));
  write_or_throw(root / "SegmentationClass" / (name + ".png"), encode_label_png(labels, name));
}

}  // namespace

void write_synthetic_segmentation_set(const std::filesystem::path& root, int train_count,
                                      int val_count, int size, uint64_t seed) {
  for (const char* dir : {"JPEGImages", "SegmentationClass", "ImageSets/Segmentation"}) {
    std::filesystem::create_directories(root / dir);
  }
  std::mt19937_64 rng(seed);
  std::ofstream train(root / "ImageSets/Segmentation/train.txt"),
      val(root / "ImageSets/Segmentation/val.txt");
  for (int i = 0; i < train_count + val_count; ++i) {
    const std::string name = "synthetic_" + std::to_string(i);
    write_example(root, name, size, rng);
    (i < train_count ? train : val) << name << "\n";
  }
}

}  // namespace qseg::test
