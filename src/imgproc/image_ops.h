// Pixel operations for segmentation pre/post-processing: TensorFlow-compatible resizes, pad,
// crop, the PASCAL VOC colour map, label colouring and overlays. Pure C++ (ships on devices).
//
// Usage, as DeepLab does it:
//   Image input = resize_bilinear(photo, 513, 385, /*align_corners=*/true);
//   Image padded = pad_bottom_right(input, 513, 513, mean_rgb);
//   ... run the model, argmax into `labels` (1 channel, 513x513) ...
//   Image mask = resize_nearest(crop(labels, 0, 0, 513, 385), photo.width, photo.height, true);
//   Image shown = overlay(photo, mask, 0.5f);
//
// Every function takes images with 1 or 3 channels and returns a new image. Invalid arguments
// (empty input, sizes <= 0, a rectangle outside the image, mismatched sizes) give an empty Image:
// check `.empty()` where the arguments are not known to be valid.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "qseg/class_set.h"
#include "qseg/image.h"

namespace qseg {

// TensorFlow's ResizeBilinear with half_pixel_centers=false, on uint8 pixels. With align_corners
// the scale is (in-1)/(out-1) (corners map onto corners), otherwise in/out, and the source
// coordinate is dst * scale (TF1 legacy, not half-pixel). Coordinates and interpolation are
// computed in float exactly as TF does; the result is rounded to nearest (TF would return float).
Image resize_bilinear(const Image& image, int width, int height, bool align_corners);
// Rows [y_begin, y_end) of the same resize, row y written at out + y * out_row_stride (so
// several threads can each write their own rows of one destination).
void resize_bilinear_rows(const Image& image, int width, int height, bool align_corners,
                          int y_begin, int y_end, uint8_t* out, size_t out_row_stride);

// TensorFlow's ResizeNearestNeighbor with half_pixel_centers=false: the source index is
// round(dst * (in-1)/(out-1)) with align_corners, floor(dst * in/out) without; values are copied,
// so it is the resize for label maps.
Image resize_nearest(const Image& image, int width, int height, bool align_corners);
// Rows [y_begin, y_end) of the same resize, row y written at out + y * out_row_stride.
void resize_nearest_rows(const Image& image, int width, int height, bool align_corners, int y_begin,
                         int y_end, uint8_t* out, size_t out_row_stride);

// Places the image at the top-left of a width x height canvas (width >= image.width,
// height >= image.height) filled with `fill`: one value per channel, or one value for all.
Image pad_bottom_right(const Image& image, int width, int height, std::span<const uint8_t> fill);

// The width x height rectangle at (x, y); it must lie inside the image.
Image crop(const Image& image, int x, int y, int width, int height);

// The PASCAL VOC colour map: index i gets the bits of i spread over r, g, b from the high bit
// down (bit 0 -> r bit 7, bit 1 -> g bit 7, bit 2 -> b bit 7, bit 3 -> r bit 6, ...).
// 0 is black, 1 (128,0,0), 2 (0,128,0), 3 (128,128,0), ..., 255 (224,224,192).
using ColorMap = std::array<std::array<uint8_t, 3>, 256>;
const ColorMap& voc_colormap();

// A 1-channel label image as RGB through the VOC colour map (255, "void", is (224,224,192)).
Image colorize_labels(const Image& labels);

// The RGB photo with each pixel whose label is neither 0 (background) nor 255 (void) blended
// towards its class colour: out = (1 - alpha) * photo + alpha * colour, rounded; alpha is
// clamped to [0, 1]. Background and void pixels are left as they are. A gray photo is treated as
// RGB; `labels` must be 1 channel of the photo's size.
Image overlay(const Image& photo, const Image& labels, float alpha);
// The same in the colours of `classes`: pixels whose class colour is black (VOC's background,
// the generated palette's class 0) and values that are not classes (the ignore label) are left
// as they are. With ClassSet::voc() this is the overlay above.
Image overlay(const Image& photo, const Image& labels, float alpha, const ClassSet& classes);
// A label image as RGB through the palette of `classes`.
Image colorize_labels(const Image& labels, const ClassSet& classes);

}  // namespace qseg
