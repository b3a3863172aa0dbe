// The HTML report: escaping and base64 by hand-checked cases, and a real report on two photos
// opened in headless Chromium, screenshotted and checked not to be blank.
#include "eval/report.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "eval_test_util.h"
#include "imgproc/image_io.h"

namespace qseg {
namespace test {

void expect_report_renders(const std::filesystem::path& html, const std::string& name,
                           int window_height,
                           const std::vector<std::array<uint8_t, 3>>& must_show) {
  const std::filesystem::path chromium = "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) {
    ADD_FAILURE() << chromium
                  << " is missing: run scripts/setup.sh, which installs Debian's chromium package "
                     "(the report test renders the HTML report with it)";
    return;
  }
  const auto bytes = read_file(html);
  const std::string text(bytes.begin(), bytes.end());
  EXPECT_EQ(text.find("http://"), std::string::npos) << "the report must not refer to the network";
  EXPECT_EQ(text.find("https://"), std::string::npos) << "the report must not refer to the network";
  EXPECT_EQ(text.find("<script"), std::string::npos);
  // Every image is embedded. (No std::regex: it recurses per character of the long base64 text.)
  int images = 0;
  for (size_t at = text.find("src=\""); at != std::string::npos;
       at = text.find("src=\"", at + 1), ++images) {
    EXPECT_EQ(text.compare(at + 5, 22, "data:image/png;base64,"), 0) << text.substr(at, 60);
  }
  EXPECT_GT(images, 0);

  const auto dir = temp_dir(name + "_chromium");
  const auto screenshot = dir / "screenshot.png";
  const std::string command =
      "timeout 120 " + chromium.string() +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking"
      " --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir=" +
      quoted(dir / "profile") + " --screenshot=" + quoted(screenshot) + " --window-size=1280," +
      std::to_string(window_height) + " " +
      quoted(std::filesystem::path("file://" + std::filesystem::absolute(html).string()));
  const auto result = run_command(command);
  ASSERT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  auto image = read_image(screenshot);
  ASSERT_TRUE(image.is_ok()) << image.status().message() << "\n" << result.output;
  EXPECT_EQ(image->width, 1280);
  EXPECT_EQ(image->height, window_height);
  // Not blank: text, bars, heat maps (and photos) give many colours and non-white pixels; and it
  // is our page, not an error page: the per-class IoU bars' exact colour (#3b6fb6) is there.
  std::map<uint32_t, int64_t> colours;
  int64_t not_white = 0, bar_pixels = 0;
  double sum = 0, sum_squares = 0;
  const int64_t n = static_cast<int64_t>(image->width) * image->height;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = &image->pixels[i * 3];
    ++colours[uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2]];
    not_white += (p[0] < 245 || p[1] < 245 || p[2] < 245) ? 1 : 0;
    bar_pixels += (p[0] == 0x3b && p[1] == 0x6f && p[2] == 0xb6) ? 1 : 0;
    const double gray = (p[0] + p[1] + p[2]) / 3.0;
    sum += gray;
    sum_squares += gray * gray;
  }
  const double mean = sum / n;
  EXPECT_GT(colours.size(), 200u) << "the screenshot looks blank";
  EXPECT_GT(bar_pixels, 1000) << "the IoU bars are not in the screenshot";
  EXPECT_GT(static_cast<double>(not_white) / n, 0.05) << "the screenshot looks blank";
  EXPECT_GT(sum_squares / n - mean * mean, 100.0) << "the screenshot looks blank";
  for (const auto& rgb : must_show) {
    const uint32_t key = uint32_t{rgb[0]} << 16 | uint32_t{rgb[1]} << 8 | rgb[2];
    EXPECT_GT(colours[key], 500) << "rgb(" << int(rgb[0]) << "," << int(rgb[1]) << ","
                                 << int(rgb[2]) << ") is not in the screenshot";
  }
}

}  // namespace test

namespace {

TEST(Report, EscapesText) {
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(Report, Base64MatchesRfc4648) {
  auto encode = [](const std::string& s) {
    return base64_encode(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  };
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "Zg==");
  EXPECT_EQ(encode("fo"), "Zm8=");
  EXPECT_EQ(encode("foo"), "Zm9v");
  EXPECT_EQ(encode("foob"), "Zm9vYg==");
  EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
  const uint8_t high[] = {0xFB, 0xFF, 0xBF};
  EXPECT_EQ(base64_encode(high), "+/+/");
}

// The screenshot check itself: a page with nothing on it must fail it.
TEST(Report, BlankPageFailsTheScreenshotCheck) {
  const auto dir = test::temp_dir("blank_report");
  const std::string blank =
      "<!DOCTYPE html><html><body><img src=\"data:image/png;base64,\"></body></html>";
  test::write_file(dir / "blank.html", std::vector<uint8_t>(blank.begin(), blank.end()));
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    test::expect_report_renders(dir / "blank.html", "blank_report");
  }
  bool blank_detected = false;
  for (int i = 0; i < failures.size(); ++i) {
    blank_detected |= std::string(failures.GetTestPartResult(i).message()).find("looks blank") !=
                      std::string::npos;
  }
  EXPECT_TRUE(blank_detected) << failures.size() << " failures, none about a blank screenshot";
}

// A finished evaluation made by hand: two 21-class photos, no masks (so no photo sections).
EvalResult hand_made_result() {
  EvalResult result;
  result.models.push_back(ModelInfo{"a.tflite", 513, 513, "uint8"});
  result.classes = ClassSet::voc();
  ConfusionMatrix good(21), bad(21);
  good.add_pixels(0, 0, 900);
  good.add_pixels(15, 15, 100);  // person
  bad.add_pixels(0, 0, 500);
  bad.add_pixels(0, 7, 3304);  // car: no label pixel, 3304 false positives
  bad.add_pixels(12, 12, 10);  // dog
  for (auto [name, confusion] : {std::pair{"good_photo", good}, std::pair{"bad_photo", bad}}) {
    PhotoResult photo;
    photo.name = name;
    photo.width = photo.height = 10;
    photo.models.push_back(PhotoModelResult{confusion});
    result.photos.push_back(photo);
    result.samples.push_back(Sample{});
  }
  ConfusionMatrix total(21);
  total.merge(good);
  total.merge(bad);
  result.confusion.push_back(total);
  result.scored_count = 2;
  return result;
}

std::string cell_row(const std::string& html, const std::string& first_cell) {
  const size_t at = html.find("<tr><td>" + first_cell + "</td>");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</tr>", at) - at);
}

TEST(Report, PerClassTableShowsPredictedPixelsAndFalsePositives) {
  auto html = html_report(hand_made_result(), {});
  ASSERT_TRUE(html.is_ok()) << html.status().message();
  const std::string car = cell_row(*html, "car");
  ASSERT_FALSE(car.empty());
  // IoU absent? No: car was predicted, so its IoU is 0 and it counts in the mean.
  EXPECT_NE(car.find("0.00%"), std::string::npos) << car;
  // label pixels 0, predicted 3304, false positives 3304, false negatives 0.
  EXPECT_NE(car.find("<td class=\"num\">0</td><td class=\"num\">3304</td><td "
                     "class=\"num\">3304</td><td class=\"num\">0</td>"),
            std::string::npos)
      << car;
  const std::string background = cell_row(*html, "background");
  EXPECT_NE(background.find("<td class=\"num\">4704</td><td class=\"num\">1400</td><td "
                            "class=\"num\">0</td><td class=\"num\">3304</td>"),
            std::string::npos)
      << background;
}

TEST(Report, ConfusionMatrixAxesAreNamed) {
  auto html = html_report(hand_made_result(), {});
  ASSERT_TRUE(html.is_ok());
  EXPECT_NE(html->find("predicted class &#8594;"), std::string::npos);
  EXPECT_NE(html->find("ground truth &#8595;"), std::string::npos);
  // Columns and rows by name, not number.
  EXPECT_NE(html->find("<th class=\"column\" title=\"aeroplane\"><span>aeroplane</span></th>"),
            std::string::npos);
  EXPECT_NE(html->find("<tr><th>tvmonitor</th>"), std::string::npos);
  EXPECT_EQ(html->find("<th title=\"aeroplane\">1</th>"), std::string::npos);
}

TEST(Report, PerPhotoTableListsEveryPhotoWorstFirst) {
  auto html = html_report(hand_made_result(), {});
  ASSERT_TRUE(html.is_ok());
  const size_t table = html->find("id=\"per-photo\"");
  ASSERT_NE(table, std::string::npos);
  const size_t bad = html->find("<tr><td>bad_photo</td>", table);
  const size_t good = html->find("<tr><td>good_photo</td>", table);
  ASSERT_NE(bad, std::string::npos);
  ASSERT_NE(good, std::string::npos);
  EXPECT_LT(bad, good);  // bad_photo: mIoU (500/3804 + 0 + 1) / 3 = 37.71% < 100%
  const std::string bad_row = cell_row(*html, "bad_photo");
  EXPECT_NE(bad_row.find("37.71%"), std::string::npos) << bad_row;
  EXPECT_NE(bad_row.find("<td>background, dog</td>"), std::string::npos) << bad_row;
  EXPECT_NE(cell_row(*html, "good_photo").find("<td>background, person</td>"), std::string::npos);
}

TEST(Report, StatesTheMiouConvention) {
  auto html = html_report(hand_made_result(), {});
  ASSERT_TRUE(html.is_ok());
  for (const char* part : {"accumulated over all scored photos (not a mean of per-photo scores)",
                           "classes with no label pixel and no predicted pixel are left out",
                           "pixels labelled 255 (void / ignore) are not scored"}) {
    EXPECT_NE(html->find(part), std::string::npos) << part;
  }
  // One model: no empty first column in the summary.
  EXPECT_NE(html->find("<tr><th>model</th>"), std::string::npos);
  EXPECT_EQ(html->find("<tr><th></th><th>model</th>"), std::string::npos);
}

TEST(Report, ErrorMapColoursRightWrongAndVoid) {
  Image prediction(3, 1, 1), labels(3, 1, 1);
  prediction.pixels = {4, 4, 4};
  labels.pixels = {4, 5, 255};
  const Image map = error_map(prediction, labels, 255);
  ASSERT_EQ(map.channels, 3);
  EXPECT_EQ(std::vector<uint8_t>(map.pixels.begin(), map.pixels.begin() + 3),
            std::vector<uint8_t>(kErrorMapRight.begin(), kErrorMapRight.end()));
  EXPECT_EQ(std::vector<uint8_t>(map.pixels.begin() + 3, map.pixels.begin() + 6),
            std::vector<uint8_t>(kErrorMapWrong.begin(), kErrorMapWrong.end()));
  EXPECT_EQ(std::vector<uint8_t>(map.pixels.begin() + 6, map.pixels.end()),
            std::vector<uint8_t>(kErrorMapVoid.begin(), kErrorMapVoid.end()));
  EXPECT_NE(kErrorMapRight, kErrorMapWrong);
  EXPECT_NE(kErrorMapWrong, kErrorMapVoid);
  EXPECT_TRUE(error_map(prediction, Image(2, 1, 1), 255).empty());
}

TEST(Report, EvalReportOpensInChromium) {
  const auto dir = test::temp_dir("eval_report");
  const auto report = dir / "report.html";
  const std::string out = test::run_ok(
      "eval --model " + test::quoted(test::dm05_model()) + " --data " +
      test::quoted(test::voc_root()) +
      " --split val_available.txt --limit 2 --threads 2 --report " + test::quoted(report));
  EXPECT_NE(out.find("report: "), std::string::npos) << out;
  const auto bytes = test::read_file(report);
  const std::string html(bytes.begin(), bytes.end());
  for (const char* part :
       {"id=\"summary\"", "id=\"per-class\"", "id=\"confusion\"", "id=\"miou-convention\"",
        "id=\"per-photo\"", "id=\"photos\"", "id=\"key\"", "Best photos", "Worst photos",
        "classes present in the labels or the predictions", "predicted class &#8594;",
        "ground truth &#8595;", "false positives", "2007_000033", "classes present: "}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  // Two photos, each drawn once (prediction, its error map and ground truth); the other section
  // names them.
  size_t images = 0;
  for (size_t at = html.find("<img "); at != std::string::npos; at = html.find("<img ", at + 1))
    ++images;
  EXPECT_EQ(images, 6u);
  EXPECT_LT(bytes.size(), 3u << 20) << "thumbnails should keep the report small";
  // Tall enough to show the photos: the error maps are rendered.
  test::expect_report_renders(report, "eval_report", 4200, {kErrorMapRight, kErrorMapWrong});
}

}  // namespace
}  // namespace qseg
