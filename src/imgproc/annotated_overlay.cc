// The annotated overlay: blend, outlines, legend and the 5x7 font they use (see the header).
#include "imgproc/annotated_overlay.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "imgproc/image_ops.h"

namespace qseg {
namespace {

// One glyph: 7 rows of 5 bits, bit 4 the leftmost column. Drawn for qseg.
struct Glyph {
  char character;
  std::array<uint8_t, 7> rows;
};

constexpr Glyph kGlyphs[] = {
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}},
    {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
    {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
    {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
    {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
    {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
    {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
    {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
    {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
    {'a', {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f}},
    {'b', {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x1e}},
    {'c', {0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e}},
    {'d', {0x01, 0x01, 0x0f, 0x11, 0x11, 0x11, 0x0f}},
    {'e', {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e}},
    {'f', {0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08}},
    {'g', {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e}},
    {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'i', {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e}},
    {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
    {'l', {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'m', {0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11}},
    {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'o', {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e}},
    {'p', {0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10}},
    {'q', {0x00, 0x00, 0x0f, 0x11, 0x0f, 0x01, 0x01}},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'s', {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e}},
    {'t', {0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06}},
    {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d}},
    {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04}},
    {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a}},
    {'x', {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11}},
    {'y', {0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e}},
    {'z', {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f}},
};
constexpr std::array<uint8_t, 7> kBox = {0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f};

const std::array<uint8_t, 7>& glyph_rows(char c) {
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  for (const Glyph& glyph : kGlyphs) {
    if (glyph.character == c) return glyph.rows;
  }
  return kBox;
}

void fill_rect(Image& image, int x0, int y0, int width, int height, const Rgb& colour,
               float alpha) {
  const int x_end = std::min(image.width, x0 + width), y_end = std::min(image.height, y0 + height);
  for (int y = std::max(0, y0); y < y_end; ++y) {
    uint8_t* row = image.row(y);
    for (int x = std::max(0, x0); x < x_end; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float mixed = (1.0f - alpha) * row[x * 3 + c] + alpha * colour[c];
        row[x * 3 + c] = static_cast<uint8_t>(std::clamp(static_cast<int>(mixed + 0.5f), 0, 255));
      }
    }
  }
}

bool coloured(const ClassSet& classes, uint8_t label) {
  return label < classes.size() && classes.color(label) != Rgb{0, 0, 0};
}

}  // namespace

int outline_radius(int photo_width, int photo_height) {
  return std::max(1, std::max(photo_width, photo_height) / 1000);
}

std::vector<LegendEntry> legend_entries(const Image& labels, const ClassSet& classes) {
  std::array<int64_t, 256> counts{};
  for (const uint8_t v : labels.pixels) ++counts[v];
  std::vector<LegendEntry> entries;
  const double total = static_cast<double>(std::max<size_t>(labels.pixels.size(), 1));
  for (int c = 0; c < classes.size(); ++c) {
    if (counts[c] > 0 && coloured(classes, static_cast<uint8_t>(c)))
      entries.push_back({c, static_cast<double>(counts[c]) / total});
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const LegendEntry& a, const LegendEntry& b) { return a.share > b.share; });
  return entries;
}

std::string legend_text(const ClassSet& classes, const LegendEntry& entry) {
  char share[32];
  std::snprintf(share, sizeof share, " %.1f%%", 100.0 * entry.share);
  return classes.name(entry.class_id) + share;
}

LegendLayout legend_layout(int photo_width, int photo_height, const ClassSet& classes,
                           const std::vector<LegendEntry>& entries) {
  LegendLayout layout;
  layout.scale = std::max(1, (std::max(photo_width, photo_height) + 100) / 300);
  const int s = layout.scale;
  layout.padding = 3 * s;
  layout.row_height = 10 * s;
  layout.swatch = 7 * s;
  size_t longest = 0;
  for (const LegendEntry& entry : entries)
    longest = std::max(longest, legend_text(classes, entry).size());
  layout.x = 2 * s;
  layout.y = 2 * s;
  layout.width = 2 * layout.padding + layout.swatch + 3 * s + static_cast<int>(longest) * 6 * s;
  layout.height = 2 * layout.padding + static_cast<int>(entries.size()) * layout.row_height - 3 * s;
  return layout;
}

int draw_text(Image& image, int x, int y, const std::string& text, int scale, const Rgb& colour) {
  int pen = x;
  for (const char c : text) {
    const auto& rows = glyph_rows(c);
    for (int row = 0; row < 7; ++row) {
      for (int column = 0; column < 5; ++column) {
        if ((rows[row] >> (4 - column)) & 1)
          fill_rect(image, pen + column * scale, y + row * scale, scale, scale, colour, 1.0f);
      }
    }
    pen += 6 * scale;
  }
  return pen - x;
}

Image annotated_overlay(const Image& photo, const Image& labels, const ClassSet& classes,
                        const OverlayOptions& options) {
  Image out = overlay(photo, labels, options.opacity, classes);
  if (out.empty()) return out;
  const int w = labels.width, h = labels.height;
  if (options.outlines) {
    const int r = outline_radius(w, h);
    const auto label_at = [&](int x, int y) {
      return labels.pixels[static_cast<size_t>(y) * w + x];
    };
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const uint8_t own = label_at(x, y);
        const bool own_coloured = coloured(classes, own);
        bool edge = false;
        for (int d = 1; d <= r && !edge; ++d) {
          const int xs[4] = {x - d, x + d, x, x}, ys[4] = {y, y, y - d, y + d};
          for (int k = 0; k < 4 && !edge; ++k) {
            if (xs[k] < 0 || ys[k] < 0 || xs[k] >= w || ys[k] >= h) continue;
            const uint8_t other = label_at(xs[k], ys[k]);
            edge = other != own && (own_coloured || coloured(classes, other));
          }
        }
        if (!edge) continue;
        const Rgb colour = own_coloured ? classes.color(own) : Rgb{255, 255, 255};
        std::copy(colour.begin(), colour.end(), out.row(y) + static_cast<size_t>(x) * 3);
      }
    }
  }
  if (options.legend) {
    const std::vector<LegendEntry> entries = legend_entries(labels, classes);
    if (entries.empty()) return out;
    const LegendLayout layout = legend_layout(w, h, classes, entries);
    fill_rect(out, layout.x, layout.y, layout.width, layout.height, Rgb{0, 0, 0}, 0.65f);
    const int s = layout.scale;
    for (size_t i = 0; i < entries.size(); ++i) {
      const int top = layout.y + layout.padding + static_cast<int>(i) * layout.row_height;
      const int left = layout.x + layout.padding;
      fill_rect(out, left, top, layout.swatch, layout.swatch, classes.color(entries[i].class_id),
                1.0f);
      draw_text(out, left + layout.swatch + 3 * s, top, legend_text(classes, entries[i]), s,
                Rgb{255, 255, 255});
    }
  }
  return out;
}

}  // namespace qseg
