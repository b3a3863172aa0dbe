// The HTML report: escaping and base64 by hand-checked cases, and a real report on two photos
// opened in headless Chromium, screenshotted and checked not to be blank.
#include "eval/report.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <set>

#include "eval_test_util.h"
#include "imgproc/image_io.h"

namespace qseg {
namespace test {

void expect_report_renders(const std::filesystem::path& html, const std::string& name) {
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
      quoted(dir / "profile") + " --screenshot=" + quoted(screenshot) +
      " --window-size=1280,2000 " +
      quoted(std::filesystem::path("file://" + std::filesystem::absolute(html).string()));
  const auto result = run_command(command);
  ASSERT_EQ(result.exit_code, 0) << command << "\n" << result.output;
  auto image = read_image(screenshot);
  ASSERT_TRUE(image.is_ok()) << image.status().message() << "\n" << result.output;
  EXPECT_EQ(image->width, 1280);
  EXPECT_EQ(image->height, 2000);
  // Not blank: text, bars, heat maps (and photos) give many colours and non-white pixels; and it
  // is our page, not an error page: the per-class IoU bars' exact colour (#3b6fb6) is there.
  std::set<uint32_t> colours;
  int64_t not_white = 0, bar_pixels = 0;
  double sum = 0, sum_squares = 0;
  const int64_t n = static_cast<int64_t>(image->width) * image->height;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = &image->pixels[i * 3];
    colours.insert(uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2]);
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
       {"<h2>Summary</h2>", "<h2>Per-class IoU</h2>", "<h2>Confusion matrix</h2>", "Best photos",
        "Worst photos", "classes present in the labels or the predictions", "2007_000033"}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  // Two photos, each drawn once (prediction and ground truth); the other section names them.
  size_t images = 0;
  for (size_t at = html.find("<img "); at != std::string::npos; at = html.find("<img ", at + 1))
    ++images;
  EXPECT_EQ(images, 4u);
  EXPECT_LT(bytes.size(), 3u << 20) << "thumbnails should keep the report small";
  test::expect_report_renders(report, "eval_report");
}

}  // namespace
}  // namespace qseg
