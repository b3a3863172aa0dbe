// fuzz_dataset: any bytes as a split file's text, and as a label map checked like a sample's.
#include <cstdlib>
#include <string_view>

#include "eval/dataset.h"
#include "fuzz_bodies.h"
#include "imgproc/image_io.h"

namespace qseg::fuzz {

void fuzz_dataset(std::span<const uint8_t> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  Result<std::vector<Sample>> samples = parse_split(text, "/fuzz-root", "fuzz.txt");
  if (samples.is_ok()) {
    // Accepted names must stay inside the root's two folders (the point of the name checks).
    for (const Sample& sample : samples.value()) {
      if (sample.name.empty() || sample.name.find('/') != std::string::npos ||
          sample.photo_path.parent_path() != "/fuzz-root/JPEGImages" ||
          sample.label_path.parent_path() != "/fuzz-root/SegmentationClass")
        std::abort();
    }
  }

  ImageLimits limits;
  limits.max_pixels = int64_t{1} << 20;
  limits.max_side = 4096;
  Result<Image> labels = decode_label_image(bytes, "fuzz.png", limits);
  if (!labels.is_ok()) return;
  const Image& ids = labels.value();
  // The size check and the value scan, as load_sample runs them: matching and mismatched sizes.
  (void)check_labels(ids, ids.width, ids.height, "fuzz.png", "fuzz.jpg");
  (void)check_labels(ids, ids.width + 1, ids.height, "fuzz.png", "fuzz.jpg");
}

}  // namespace qseg::fuzz
