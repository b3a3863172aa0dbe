// Resize, pad, crop, colour map and overlay on 8-bit images (see image_ops.h).
#include "imgproc/image_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qseg {
namespace {

bool valid_image(const Image& image) {
  return image.width > 0 && image.height > 0 && (image.channels == 1 || image.channels == 3) &&
         image.pixels.size() == static_cast<size_t>(image.width) * image.height * image.channels;
}

// TF's CalculateResizeScale: (in-1)/(out-1) with align_corners (when out > 1), else in/out.
float resize_scale(int in_size, int out_size, bool align_corners) {
  return (align_corners && out_size > 1)
             ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
             : static_cast<float>(in_size) / static_cast<float>(out_size);
}

// One output coordinate of a bilinear resize: the two source indices and the weight of the
// second (TF's compute_interpolation_weights with the legacy scaler: src = dst * scale).
struct BilinearTap {
  int lower = 0;
  int upper = 0;
  float lerp = 0.0f;
};

std::vector<BilinearTap> bilinear_taps(int in_size, int out_size, bool align_corners) {
  const float scale = resize_scale(in_size, out_size, align_corners);
  std::vector<BilinearTap> taps(out_size);
  for (int i = 0; i < out_size; ++i) {
    const float in = static_cast<float>(i) * scale;
    const float lower = std::floor(in);
    taps[i].lower = std::min(std::max(static_cast<int>(lower), 0), in_size - 1);
    taps[i].upper = std::min(static_cast<int>(std::ceil(in)), in_size - 1);
    taps[i].lerp = in - lower;
  }
  return taps;
}

uint8_t round_to_u8(float value) {
  // value is a convex combination of uint8 values, so it lies in [0, 255] up to rounding error.
  // clamp(floor(value + 0.5)): truncation equals floor for the non-negative sums, and negative
  // ones clamp to 0 either way (this avoids a call to floor without SSE4.1).
  const int rounded = static_cast<int>(value + 0.5f);
  return static_cast<uint8_t>(std::clamp(rounded, 0, 255));
}

}  // namespace

Image resize_bilinear(const Image& image, int width, int height, bool align_corners) {
  if (!valid_image(image) || width <= 0 || height <= 0) return {};
  Image out(width, height, image.channels);
  resize_bilinear_rows(image, width, height, align_corners, 0, height, out.pixels.data(),
                       static_cast<size_t>(width) * image.channels);
  return out;
}

void resize_bilinear_rows(const Image& image, int width, int height, bool align_corners,
                          int y_begin, int y_end, uint8_t* out, size_t out_row_stride) {
  if (!valid_image(image) || width <= 0 || height <= 0) return;
  const int channels = image.channels;
  const size_t row_values = static_cast<size_t>(width) * channels;
  const std::vector<BilinearTap> xs = bilinear_taps(image.width, width, align_corners);
  const std::vector<BilinearTap> ys = bilinear_taps(image.height, height, align_corners);
  // Separable, in TF's order of operations: each source row needed is interpolated across once
  // (left + (right - left) * x_lerp, kept in one of two slots, since consecutive output rows
  // share source rows), then each output row mixes its two rows (top + (bottom - top) * y_lerp).
  struct Slot {
    int source_row = -1;
    std::vector<float> values;
  };
  Slot slots[2];
  for (Slot& slot : slots) slot.values.resize(row_values);
  const auto across = [&](int source_row, int keep) -> const float* {
    for (const Slot& slot : slots) {
      if (slot.source_row == source_row) return slot.values.data();
    }
    Slot& slot = slots[0].source_row == keep ? slots[1] : slots[0];
    const uint8_t* src = image.row(source_row);
    float* dst = slot.values.data();
    for (int x = 0; x < width; ++x) {
      const int left = xs[x].lower * channels;
      const int right = xs[x].upper * channels;
      const float x_lerp = xs[x].lerp;
      for (int c = 0; c < channels; ++c) {
        const float l = src[left + c];
        const float r = src[right + c];
        dst[x * channels + c] = l + (r - l) * x_lerp;
      }
    }
    slot.source_row = source_row;
    return dst;
  };
  for (int y = std::max(y_begin, 0); y < std::min(y_end, height); ++y) {
    const float* top = across(ys[y].lower, ys[y].upper);
    const float* bottom = across(ys[y].upper, ys[y].lower);
    const float y_lerp = ys[y].lerp;
    uint8_t* dst = out + static_cast<size_t>(y) * out_row_stride;
    for (size_t i = 0; i < row_values; ++i) {
      dst[i] = round_to_u8(top[i] + (bottom[i] - top[i]) * y_lerp);
    }
  }
}

namespace {

std::vector<int> nearest_indices(int in_size, int out_size, bool align_corners) {
  const float scale = resize_scale(in_size, out_size, align_corners);
  std::vector<int> indices(out_size);
  for (int i = 0; i < out_size; ++i) {
    const float in = static_cast<float>(i) * scale;
    const float index = align_corners ? std::round(in) : std::floor(in);
    indices[i] = std::min(static_cast<int>(index), in_size - 1);
  }
  return indices;
}

}  // namespace

Image resize_nearest(const Image& image, int width, int height, bool align_corners) {
  if (!valid_image(image) || width <= 0 || height <= 0) return {};
  Image out(width, height, image.channels);
  resize_nearest_rows(image, width, height, align_corners, 0, height, out.pixels.data(),
                      static_cast<size_t>(width) * image.channels);
  return out;
}

void resize_nearest_rows(const Image& image, int width, int height, bool align_corners, int y_begin,
                         int y_end, uint8_t* out, size_t out_row_stride) {
  if (!valid_image(image) || width <= 0 || height <= 0) return;
  const int channels = image.channels;
  const std::vector<int> xs = nearest_indices(image.width, width, align_corners);
  const std::vector<int> ys = nearest_indices(image.height, height, align_corners);
  const int first = std::max(y_begin, 0);
  const size_t row_bytes = static_cast<size_t>(width) * channels;
  for (int y = first; y < std::min(y_end, height); ++y) {
    const uint8_t* src = image.row(ys[y]);
    uint8_t* dst = out + static_cast<size_t>(y) * out_row_stride;
    if (y > first && ys[y] == ys[y - 1]) {  // an enlarged row repeats: copy the one just made
      std::memcpy(dst, dst - out_row_stride, row_bytes);
      continue;
    }
    if (channels == 1) {  // label maps: one byte per pixel, no copy call per pixel
      for (int x = 0; x < width; ++x) dst[x] = src[xs[x]];
      continue;
    }
    for (int x = 0; x < width; ++x) {
      std::memcpy(dst + static_cast<size_t>(x) * channels,
                  src + static_cast<size_t>(xs[x]) * channels, channels);
    }
  }
}

Image pad_bottom_right(const Image& image, int width, int height, std::span<const uint8_t> fill) {
  if (!valid_image(image) || width < image.width || height < image.height) return {};
  const int channels = image.channels;
  if (fill.size() != 1 && fill.size() != static_cast<size_t>(channels)) return {};
  std::array<uint8_t, 3> fill_pixel{};
  for (int c = 0; c < channels; ++c) fill_pixel[c] = fill.size() == 1 ? fill[0] : fill[c];

  Image out(width, height, channels);
  for (int y = 0; y < height; ++y) {
    uint8_t* dst = out.row(y);
    int x = 0;
    if (y < image.height) {
      std::memcpy(dst, image.row(y), static_cast<size_t>(image.width) * channels);
      x = image.width;
    }
    for (; x < width; ++x) {
      std::memcpy(dst + static_cast<size_t>(x) * channels, fill_pixel.data(), channels);
    }
  }
  return out;
}

Image crop(const Image& image, int x, int y, int width, int height) {
  if (!valid_image(image) || width <= 0 || height <= 0 || x < 0 || y < 0 ||
      x > image.width - width || y > image.height - height) {
    return {};
  }
  Image out(width, height, image.channels);
  const size_t row_bytes = static_cast<size_t>(width) * image.channels;
  for (int row = 0; row < height; ++row) {
    std::memcpy(out.row(row), image.row(y + row) + static_cast<size_t>(x) * image.channels,
                row_bytes);
  }
  return out;
}

const ColorMap& voc_colormap() {
  static const ColorMap colormap = [] {
    ColorMap map{};
    for (int i = 0; i < 256; ++i) {
      int r = 0, g = 0, b = 0;
      int bits = i;
      for (int shift = 7; shift >= 0 && bits != 0; --shift, bits >>= 3) {
        r |= ((bits >> 0) & 1) << shift;
        g |= ((bits >> 1) & 1) << shift;
        b |= ((bits >> 2) & 1) << shift;
      }
      map[i] = {static_cast<uint8_t>(r), static_cast<uint8_t>(g), static_cast<uint8_t>(b)};
    }
    return map;
  }();
  return colormap;
}

Image colorize_labels(const Image& labels) { return colorize_labels(labels, ClassSet::voc()); }

Image colorize_labels(const Image& labels, const ClassSet& classes) {
  if (!valid_image(labels) || labels.channels != 1) return {};
  const Palette& colormap = classes.palette();
  Image out(labels.width, labels.height, 3);
  for (size_t i = 0; i < labels.pixels.size(); ++i) {
    std::memcpy(&out.pixels[i * 3], colormap[labels.pixels[i]].data(), 3);
  }
  return out;
}

Image overlay(const Image& photo, const Image& labels, float alpha) {
  return overlay(photo, labels, alpha, ClassSet::voc());
}

Image overlay(const Image& photo, const Image& labels, float alpha, const ClassSet& classes) {
  if (!valid_image(photo) || !valid_image(labels) || labels.channels != 1 ||
      labels.width != photo.width || labels.height != photo.height) {
    return {};
  }
  alpha = std::isnan(alpha) ? 0.0f : std::clamp(alpha, 0.0f, 1.0f);
  const Palette& colormap = classes.palette();
  // Which values are blended: classes with a colour other than black.
  std::array<bool, 256> shown{};
  for (int c = 0; c < classes.size(); ++c) shown[c] = colormap[c] != Rgb{0, 0, 0};
  Image out(photo.width, photo.height, 3);
  for (size_t i = 0; i < labels.pixels.size(); ++i) {
    const uint8_t label = labels.pixels[i];
    uint8_t* dst = &out.pixels[i * 3];
    for (int c = 0; c < 3; ++c) {
      const uint8_t value = photo.pixels[i * photo.channels + (photo.channels == 3 ? c : 0)];
      const auto photo_value = static_cast<float>(value);
      const auto class_value = static_cast<float>(colormap[label][c]);
      dst[c] =
          !shown[label] ? value : round_to_u8((1.0f - alpha) * photo_value + alpha * class_value);
    }
  }
  return out;
}

}  // namespace qseg
