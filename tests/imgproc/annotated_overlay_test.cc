// The annotated overlay by exact pixels on small synthetic images: outlines only at boundaries,
// the legend only for the classes present, opacity 0 and 1, and the bitmap font.
#include "imgproc/annotated_overlay.h"

#include <gtest/gtest.h>

#include "imgproc/image_ops.h"

namespace qseg {
namespace {

Rgb pixel(const Image& image, int x, int y) {
  const uint8_t* p = image.row(y) + static_cast<size_t>(x) * 3;
  return {p[0], p[1], p[2]};
}

// A 20x12 gray photo (value 100) with a 6x4 aeroplane (class 1) square at (4..9, 4..7).
struct Scene {
  Image photo{20, 12, 3, 100};
  Image labels{20, 12, 1, 0};
  Scene() {
    for (int y = 4; y < 8; ++y)
      for (int x = 4; x < 10; ++x) labels.pixels[y * 20 + x] = 1;
  }
};

OverlayOptions only(bool outlines, bool legend, float opacity) {
  OverlayOptions options;
  options.outlines = outlines;
  options.legend = legend;
  options.opacity = opacity;
  return options;
}

TEST(AnnotatedOverlay, OutlinesAtBoundariesOnly) {
  const Scene scene;
  const ClassSet& voc = ClassSet::voc();
  const Image out = annotated_overlay(scene.photo, scene.labels, voc, only(true, false, 0.0f));
  ASSERT_EQ(out.width, 20);
  const Rgb plane = voc.color(1), white{255, 255, 255}, photo{100, 100, 100};
  EXPECT_EQ(outline_radius(20, 12), 1);
  for (int y = 0; y < 12; ++y) {
    for (int x = 0; x < 20; ++x) {
      const bool inside = x >= 4 && x < 10 && y >= 4 && y < 8;
      const bool inner_edge = inside && (x == 4 || x == 9 || y == 4 || y == 7);
      // Background pixels one step (row or column) from the square.
      const bool outer_edge = !inside && ((y >= 4 && y < 8 && (x == 3 || x == 10)) ||
                                          (x >= 4 && x < 10 && (y == 3 || y == 8)));
      const Rgb expected = inner_edge ? plane : outer_edge ? white : photo;
      EXPECT_EQ(pixel(out, x, y), expected) << x << "," << y;
    }
  }
}

TEST(AnnotatedOverlay, NoOutlineBetweenUncolouredValues) {
  Scene scene;
  for (int x = 0; x < 20; ++x) scene.labels.pixels[x] = 255;  // void row next to background
  const Image out =
      annotated_overlay(scene.photo, scene.labels, ClassSet::voc(), only(true, false, 0.0f));
  for (int x = 0; x < 20; ++x) {
    EXPECT_EQ(pixel(out, x, 0), (Rgb{100, 100, 100}));
    EXPECT_EQ(pixel(out, x, 1), (Rgb{100, 100, 100}));
  }
}

TEST(AnnotatedOverlay, OutlinesScaleWithThePhoto) {
  EXPECT_EQ(outline_radius(500, 375), 1);
  EXPECT_EQ(outline_radius(4000, 3000), 4);
  Image photo(2000, 10, 3, 100), labels(2000, 10, 1, 0);
  for (int x = 1000; x < 2000; ++x)
    for (int y = 0; y < 10; ++y) labels.pixels[y * 2000 + x] = 1;
  const Image out = annotated_overlay(photo, labels, ClassSet::voc(), only(true, false, 0.0f));
  for (int x = 996; x < 1004; ++x) {
    const Rgb expected = x < 998    ? Rgb{100, 100, 100}
                         : x < 1000 ? Rgb{255, 255, 255}
                         : x < 1002 ? ClassSet::voc().color(1)
                                    : Rgb{100, 100, 100};
    EXPECT_EQ(pixel(out, x, 5), expected) << x;
  }
}

TEST(AnnotatedOverlay, OpacityZeroIsThePhotoAndOneTheColours) {
  const Scene scene;
  const ClassSet& voc = ClassSet::voc();
  EXPECT_EQ(annotated_overlay(scene.photo, scene.labels, voc, only(false, false, 0.0f)).pixels,
            scene.photo.pixels);
  const Image full = annotated_overlay(scene.photo, scene.labels, voc, only(false, false, 1.0f));
  EXPECT_EQ(pixel(full, 5, 5), voc.color(1));
  EXPECT_EQ(pixel(full, 0, 0), (Rgb{100, 100, 100}));  // background shows the photo
  // Out-of-range opacities are clamped, as in overlay().
  EXPECT_EQ(annotated_overlay(scene.photo, scene.labels, voc, only(false, false, 3.0f)).pixels,
            full.pixels);
}

TEST(AnnotatedOverlay, LegendListsOnlyTheClassesPresent) {
  Image labels(10, 10, 1, 0);
  for (int i = 0; i < 30; ++i) labels.pixels[i] = 15;    // person 30%
  for (int i = 30; i < 40; ++i) labels.pixels[i] = 7;    // car 10%
  for (int i = 40; i < 45; ++i) labels.pixels[i] = 255;  // void: not a class
  const auto entries = legend_entries(labels, ClassSet::voc());
  ASSERT_EQ(entries.size(), 2u);  // background is not coloured, so not listed
  EXPECT_EQ(entries[0].class_id, 15);
  EXPECT_DOUBLE_EQ(entries[0].share, 0.3);
  EXPECT_EQ(entries[1].class_id, 7);
  EXPECT_EQ(legend_text(ClassSet::voc(), entries[0]), "person 30.0%");
  EXPECT_TRUE(legend_entries(Image(4, 4, 1, 0), ClassSet::voc()).empty());
}

TEST(AnnotatedOverlay, LegendPanelDrawsSwatchesAndText) {
  // 200x120 photo: font scale 1; a person region away from the panel.
  Image photo(200, 120, 3, 200), labels(200, 120, 1, 0);
  for (int y = 100; y < 120; ++y)
    for (int x = 150; x < 200; ++x) labels.pixels[y * 200 + x] = 15;
  const ClassSet& voc = ClassSet::voc();
  const auto entries = legend_entries(labels, voc);
  const LegendLayout layout = legend_layout(200, 120, voc, entries);
  ASSERT_EQ(layout.scale, 1);
  const Image with = annotated_overlay(photo, labels, voc, only(false, true, 0.6f));
  const Image without = annotated_overlay(photo, labels, voc, only(false, false, 0.6f));
  // The swatch is the class colour; the panel darkens the photo; outside it nothing changes.
  EXPECT_EQ(pixel(with, layout.x + layout.padding + 1, layout.y + layout.padding + 1),
            voc.color(15));
  EXPECT_EQ(pixel(with, layout.x + 1, layout.y + 1), (Rgb{70, 70, 70}));  // 0.35 * 200
  int text_pixels = 0;
  for (int y = 0; y < 120; ++y) {
    for (int x = 0; x < 200; ++x) {
      const bool in_panel = x >= layout.x && x < layout.x + layout.width && y >= layout.y &&
                            y < layout.y + layout.height;
      if (!in_panel) {
        EXPECT_EQ(pixel(with, x, y), pixel(without, x, y)) << x << "," << y;
      } else {
        text_pixels += pixel(with, x, y) == Rgb{255, 255, 255} ? 1 : 0;
      }
    }
  }
  EXPECT_GT(text_pixels, 40);  // "person 100.0%"... drawn in white
  // No class coloured: no panel at all.
  EXPECT_EQ(annotated_overlay(photo, Image(200, 120, 1, 0), voc, only(false, true, 0.6f)).pixels,
            photo.pixels);
}

TEST(BitmapFont, DrawsGlyphsScaled) {
  Image image(12, 14, 3, 0);
  // '1' at scale 2: its top row is 0x04 (the middle column), so pixels (4..5, 0..1) are set.
  EXPECT_EQ(draw_text(image, 0, 0, "1", 2, Rgb{255, 0, 0}), 12);
  EXPECT_EQ(pixel(image, 4, 0), (Rgb{255, 0, 0}));
  EXPECT_EQ(pixel(image, 5, 1), (Rgb{255, 0, 0}));
  EXPECT_EQ(pixel(image, 3, 0), (Rgb{0, 0, 0}));
  EXPECT_EQ(pixel(image, 6, 0), (Rgb{0, 0, 0}));
  // Clipped, not out of bounds.
  EXPECT_EQ(draw_text(image, 10, 10, "%%", 3, Rgb{1, 2, 3}), 36);
}

}  // namespace
}  // namespace qseg
