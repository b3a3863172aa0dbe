// The overlay people read: the photo blended towards the class colours, every region outlined,
// and a legend of the classes present (swatch, name, share of the pixels) drawn into the image
// with a small built-in 5x7 bitmap font. `qseg segment` and the HTML report both draw it.
//
// Usage:
//   OverlayOptions options;          // opacity 0.6, outlines and legend on
//   Image shown = annotated_overlay(photo, labels, classes, options);
//
// Geometry: the result has the photo's size and pixel (x, y) shows photo pixel (x, y), so it lines
// up with the mask. The legend is a panel in the top-left corner (legend_layout gives its
// rectangle) and covers that part of the photo; it is clipped to the photo when it does not fit.
// Sizes scale with the photo's longer side L: outline radius max(1, L / 1000) px on each side of
// a boundary, font scale s = max(1, (L + 100) / 300) (glyphs 5s x 7s).
#pragma once

#include <string>
#include <vector>

#include "qseg/class_set.h"
#include "qseg/image.h"

namespace qseg {

struct OverlayOptions {
  float opacity = 0.6f;  // 0: the photo, 1: the class colours (clamped to [0, 1])
  bool outlines = true;
  bool legend = true;
};

// A class drawn in the overlay and its share of all pixels.
struct LegendEntry {
  int class_id = 0;
  double share = 0;  // 0..1
};

// The classes of `labels` that the overlay colours (ids of `classes` whose colour is not black),
// most pixels first; ties by id.
std::vector<LegendEntry> legend_entries(const Image& labels, const ClassSet& classes);

struct LegendLayout {
  int x = 0, y = 0, width = 0, height = 0;  // the panel (may reach beyond the photo)
  int scale = 1;                            // font scale: glyphs are 5*scale x 7*scale
  int row_height = 0;                       // one entry per row
  int padding = 0;                          // inside the panel, around the rows
  int swatch = 0;                           // side of a swatch, at (x + padding, row top)
};
LegendLayout legend_layout(int photo_width, int photo_height, const ClassSet& classes,
                           const std::vector<LegendEntry>& entries);
// "aeroplane 12.3%": the text of one legend row.
std::string legend_text(const ClassSet& classes, const LegendEntry& entry);

int outline_radius(int photo_width, int photo_height);

// Outline pixels: a coloured pixel (class colour not black) with a pixel of another value within
// `outline_radius` along its row or column gets its class colour at full opacity; an uncoloured
// pixel (background, void) with a coloured one that near gets white, so every region has a
// two-tone edge that shows on any photo (a grey car on a grey road included). Pixels inside a
// region, and edges between two uncoloured values, are only blended. Empty Image on bad input
// (as overlay in image_ops.h).
Image annotated_overlay(const Image& photo, const Image& labels, const ClassSet& classes,
                        const OverlayOptions& options);

// Draws `text` with its top-left at (x, y) in `colour`, glyphs `scale` times 5x7 with one column
// between them, clipped to the image (RGB). Lowercase letters, digits, space and . % - _ have
// glyphs; uppercase prints as lowercase, anything else as a filled box. Returns the width drawn.
int draw_text(Image& image, int x, int y, const std::string& text, int scale, const Rgb& colour);

}  // namespace qseg
