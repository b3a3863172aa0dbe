// `qseg segment` as scripts and phones use it: folders walked with their structure kept, names
// that never collide, outputs never overwritten unasked, a photo from stdin, --json, photos
// stored sideways with an EXIF orientation, and SIGINT / SIGTERM in the middle of a run.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "imgproc/image_io.h"
#include "imgproc/image_ops.h"
#include "imgproc/jpeg_fixture.h"
#include "imgproc/webp_fixture.h"
#include "test_util.h"

extern char** environ;

namespace qseg {
namespace {
namespace fs = std::filesystem;

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }
test::CommandResult qseg(const std::string& args) {
  return test::run_command(test::qseg_binary().string() + " " + args);
}

Image voc_photo(const std::string& name) {
  auto photo = read_image(test::shared_path("voc2012/JPEGImages/" + name + ".jpg"));
  EXPECT_TRUE(photo.is_ok()) << photo.status().message();
  return photo.is_ok() ? std::move(photo).value() : Image{};
}

// Every file below `dir`, as paths relative to it.
std::set<std::string> files_below(const fs::path& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.insert(entry.path().lexically_relative(dir).string());
  return files;
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

TEST(SegmentInputs, FoldersKeepTheirStructureAndCollidingNamesKeepTheirExtension) {
  const fs::path dir = test::temp_dir("segment_folders");
  const fs::path in = dir / "photos";
  fs::create_directories(in / "trip" / "day2");
  fs::create_directories(in / ".thumbnails");
  const Image photo = voc_photo("2007_000129");
  ASSERT_TRUE(write_jpeg(in / "a.jpg", photo).is_ok());
  ASSERT_TRUE(write_png(in / "trip" / "b.png", photo).is_ok());
  ASSERT_TRUE(write_jpeg(in / "trip" / "day2" / "c.JPEG", photo).is_ok());
  // x.jpg and x.png both want x.png; y.overlay.jpg's mask would be y.jpg's overlay.
  ASSERT_TRUE(write_jpeg(in / "x.jpg", photo).is_ok());
  ASSERT_TRUE(write_png(in / "x.png", photo).is_ok());
  ASSERT_TRUE(write_jpeg(in / "y.jpg", photo).is_ok());
  ASSERT_TRUE(write_jpeg(in / "y.overlay.jpg", photo).is_ok());
  ASSERT_TRUE(write_jpeg(in / ".thumbnails" / "a.jpg", photo).is_ok());  // hidden: passed over
  test::write_file(in / "notes.txt", {'h', 'i'});                        // not a photo

  const fs::path out = dir / "out";
  const auto result = qseg("segment --no-legend --out " + quoted(out) + " " + quoted(in));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(in.string() + ": 7 photos (1 other file passed over)"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("names collide"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("7 of 7 photos written to " + out.string()), std::string::npos)
      << result.output;
  const std::set<std::string> expected = {"a.png",
                                          "a.overlay.png",
                                          "trip/b.png",
                                          "trip/b.overlay.png",
                                          "trip/day2/c.png",
                                          "trip/day2/c.overlay.png",
                                          "x.jpg.png",
                                          "x.jpg.overlay.png",
                                          "x.png.png",
                                          "x.png.overlay.png",
                                          "y.jpg.png",
                                          "y.jpg.overlay.png",
                                          "y.overlay.jpg.png",
                                          "y.overlay.jpg.overlay.png"};
  EXPECT_EQ(files_below(out), expected);
  auto mask = read_label_image(out / "trip" / "day2" / "c.png");
  ASSERT_TRUE(mask.is_ok()) << mask.status().message();
  EXPECT_EQ(mask->width, photo.width);
  EXPECT_EQ(mask->height, photo.height);

  // The output folder inside the folder walked is not walked: a re-run sees the same 7 photos.
  const fs::path inside = in / "masks";
  ASSERT_EQ(qseg("segment --no-overlay --out " + quoted(inside) + " " + quoted(in)).exit_code, 0);
  const auto again =
      qseg("segment --no-overlay --skip-existing --out " + quoted(inside) + " " + quoted(in));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 of 7 photos written to " + inside.string() +
                              "; 7 skipped (outputs exist)"),
            std::string::npos)
      << again.output;
}

TEST(SegmentInputs, CollisionsThatNamesCannotResolveAreRefusedBeforeAnyWork) {
  const fs::path dir = test::temp_dir("segment_collisions");
  const Image photo = voc_photo("2007_000129");
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  ASSERT_TRUE(write_jpeg(dir / "a" / "x.jpg", photo).is_ok());
  ASSERT_TRUE(write_jpeg(dir / "b" / "x.jpg", photo).is_ok());
  const fs::path out = dir / "out";
  test::expect_one_error_line("segment --out " + quoted(out) + " " + quoted(dir / "a" / "x.jpg") +
                                  " " + quoted(dir / "b" / "x.jpg"),
                              (dir / "a" / "x.jpg").string() + " and " +
                                  (dir / "b" / "x.jpg").string() + " would both write " +
                                  (out / "x.jpg.png").string());
  EXPECT_FALSE(fs::exists(out));
  // The same photo twice, by two names: a wrong command line (exit 2).
  const auto twice = qseg("segment --out " + quoted(out) + " " + quoted(dir / "a" / "x.jpg") + " " +
                          quoted(dir / "a" / ".." / "a" / "x.jpg"));
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_NE(twice.output.find("is given twice"), std::string::npos) << twice.output;
  // An output that would be an input.
  ASSERT_TRUE(write_png(dir / "p.png", photo).is_ok());
  test::expect_one_error_line("segment --out " + quoted(dir) + " " + quoted(dir / "p.png"),
                              "would overwrite the input");
  // An empty folder, and one with no photos.
  fs::create_directories(dir / "empty");
  test::write_file(dir / "empty" / "readme.txt", {'x'});
  test::expect_one_error_line(
      "segment --out " + quoted(out) + " " + quoted(dir / "empty"),
      "no photos (.jpg, .jpeg, .png, .bmp, .webp) in this folder (1 other file)");
}

TEST(SegmentInputs, OutputsAreNeverOverwrittenUnasked) {
  const fs::path dir = test::temp_dir("segment_overwrite");
  const Image photo = voc_photo("2007_000033");
  ASSERT_TRUE(write_jpeg(dir / "plane.jpg", photo).is_ok());
  ASSERT_TRUE(write_jpeg(dir / "other.jpg", voc_photo("2007_000129")).is_ok());
  const fs::path out = dir / "out";
  const std::string photos = quoted(dir / "plane.jpg") + " " + quoted(dir / "other.jpg");
  ASSERT_EQ(qseg("segment --out " + quoted(out) + " " + quoted(dir / "plane.jpg")).exit_code, 0);
  // A stand-in for the earlier result: it must survive a refused run and a --skip-existing one.
  test::write_file(out / "plane.png", {'o', 'l', 'd'});
  const auto refused = qseg("segment --out " + quoted(out) + " " + photos);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find((out / "plane.png").string() +
                                " exists (2 outputs exist): --overwrite replaces"),
            std::string::npos)
      << refused.output;
  EXPECT_EQ(refused.output.find(" -> "), std::string::npos) << "no photo was segmented";
  EXPECT_FALSE(fs::exists(out / "other.png"));
  EXPECT_EQ(test::read_file(out / "plane.png"), (std::vector<uint8_t>{'o', 'l', 'd'}));

  const auto skipped = qseg("segment --skip-existing --out " + quoted(out) + " " + photos);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("plane.jpg: skipped, " + (out / "plane.png").string() +
                                " exists (--skip-existing)"),
            std::string::npos)
      << skipped.output;
  EXPECT_NE(skipped.output.find("1 of 2 photos written to " + out.string() +
                                "; 1 skipped (outputs exist)"),
            std::string::npos)
      << skipped.output;
  EXPECT_EQ(test::read_file(out / "plane.png"), (std::vector<uint8_t>{'o', 'l', 'd'}));
  EXPECT_TRUE(read_label_image(out / "other.png").is_ok());

  const auto replaced = qseg("segment --overwrite --out " + quoted(out) + " " + photos);
  ASSERT_EQ(replaced.exit_code, 0) << replaced.output;
  auto mask = read_label_image(out / "plane.png");
  ASSERT_TRUE(mask.is_ok()) << mask.status().message();
  EXPECT_EQ(mask->width, photo.width);
  // Both flags at once contradict each other: exit 2.
  EXPECT_EQ(
      qseg("segment --overwrite --skip-existing --out " + quoted(out) + " " + photos).exit_code, 2);
  // Outputs are checked before any work: an unwritable --json, an output folder that is a file.
  test::expect_one_error_line(
      "segment --overwrite --json /nonexistent/dir/s.json --out " + quoted(out) + " " + photos,
      "s.json: the folder /nonexistent/dir does not exist");
  test::expect_one_error_line(
      "segment --out " + quoted(dir / "plane.jpg") + " " + quoted(dir / "other.jpg"),
      "cannot create output folder");
}

TEST(SegmentInputs, StdinAndJson) {
  const fs::path dir = test::temp_dir("segment_stdin");
  const Image photo = voc_photo("2007_000129");
  ASSERT_TRUE(write_jpeg(dir / "bikes.jpg", photo).is_ok());
  const auto piped = test::run_command(test::qseg_binary().string() + " segment --out " +
                                       quoted(dir / "piped") + " - < " + quoted(dir / "bikes.jpg"));
  ASSERT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_NE(piped.output.find(fmt::format("stdin: {}x{} -> {}", photo.width, photo.height,
                                          (dir / "piped" / "stdin.png").string())),
            std::string::npos)
      << piped.output;
  ASSERT_EQ(
      qseg("segment --out " + quoted(dir / "file") + " " + quoted(dir / "bikes.jpg")).exit_code, 0);
  auto from_stdin = read_label_image(dir / "piped" / "stdin.png");
  auto from_file = read_label_image(dir / "file" / "bikes.png");
  ASSERT_TRUE(from_stdin.is_ok() && from_file.is_ok());
  EXPECT_EQ(from_stdin->pixels, from_file->pixels);
  test::expect_one_error_line("segment --out " + quoted(dir / "empty") + " - < /dev/null",
                              "stdin: no data");

  // --json: one record per photo, the failed one with its error, and the summary.
  const fs::path json_path = dir / "run.json";
  const auto result = qseg("segment --json " + quoted(json_path) + " --out " + quoted(dir / "j") +
                           " " + quoted(dir / "bikes.jpg") + " " + quoted(dir / "missing.jpg"));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find("1 of 2 photos failed (see above); 1 written to"), std::string::npos)
      << result.output;
  const nlohmann::json json = read_json(json_path);
  ASSERT_TRUE(json.is_object()) << "not JSON: " << json_path;
  EXPECT_EQ(json["input_width"], 513);
  EXPECT_FALSE(json["kernels"].get<std::string>().empty());
  ASSERT_EQ(json["photos"].size(), 2u);
  const nlohmann::json& bikes = json["photos"][0];
  EXPECT_EQ(bikes["status"], "written");
  EXPECT_EQ(bikes["width"], photo.width);
  EXPECT_EQ(bikes["height"], photo.height);
  EXPECT_EQ(bikes["mask"], (dir / "j" / "bikes.png").string());
  EXPECT_EQ(bikes["overlay"], (dir / "j" / "bikes.overlay.png").string());
  double steps = 0;
  for (const char* step : {"decode", "preprocess", "model", "postprocess", "write"}) {
    EXPECT_GT(bikes["ms"][step].get<double>(), 0.0) << step;
    steps += bikes["ms"][step].get<double>();
  }
  EXPECT_NEAR(bikes["ms"]["total"].get<double>(), steps, 1e-6);
  double share = 0;
  std::set<std::string> names;
  for (const auto& c : bikes["classes"]) {
    share += c["share"].get<double>();
    names.insert(c["name"].get<std::string>());
  }
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_TRUE(names.count("person") && names.count("bicycle")) << bikes["classes"].dump();
  EXPECT_EQ(json["photos"][1]["status"], "failed");
  EXPECT_NE(json["photos"][1]["error"].get<std::string>().find("missing.jpg"), std::string::npos);
  EXPECT_EQ(json["summary"]["photos"], 2);
  EXPECT_EQ(json["summary"]["written"], 1);
  EXPECT_EQ(json["summary"]["failed"], 1);
  EXPECT_TRUE(json["summary"]["interrupted"].is_null());
}

// Pixels of `upright` stored as a camera held upright stores them: turned 90 degrees
// counter-clockwise, with EXIF orientation 6 saying "turn me clockwise to show me".
std::vector<uint8_t> stored_sideways(const Image& upright) {
  const int stored_w = upright.height, stored_h = upright.width;
  std::vector<uint8_t> rgb(static_cast<size_t>(stored_w) * stored_h * 3);
  for (int sy = 0; sy < stored_h; ++sy) {
    for (int sx = 0; sx < stored_w; ++sx) {
      const int dx = stored_h - 1 - sy, dy = sx;  // where orientation 6 shows this pixel
      std::copy_n(&upright.pixels[(static_cast<size_t>(dy) * upright.width + dx) * 3], 3,
                  &rgb[(static_cast<size_t>(sy) * stored_w + sx) * 3]);
    }
  }
  return test::with_segment(test::encode_rgb_jpeg(rgb, stored_w, stored_h),
                            test::exif_segment(6, /*big_endian=*/false));
}

double agreement(const Image& a, const Image& b) {
  if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) return 0;
  size_t same = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) same += a.pixels[i] == b.pixels[i];
  return static_cast<double>(same) / static_cast<double>(a.pixels.size());
}

TEST(SegmentInputs, PhoneStoredSidewaysIsSegmentedAsDisplayed) {
  const fs::path dir = test::temp_dir("segment_sideways");
  const Image upright = voc_photo("2007_000129");  // 334x500, bicycles and people
  test::write_file(dir / "phone.jpg", stored_sideways(upright));
  ASSERT_TRUE(write_png(dir / "upright.png", upright).is_ok());
  const auto result = qseg("segment --out " + quoted(dir / "out") + " " +
                           quoted(dir / "phone.jpg") + " " + quoted(dir / "upright.png"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find(fmt::format("phone.jpg: {}x{} -> ", upright.width, upright.height)),
            std::string::npos)
      << result.output;
  auto phone = read_label_image(dir / "out" / "phone.png");
  auto reference = read_label_image(dir / "out" / "upright.png");
  ASSERT_TRUE(phone.is_ok() && reference.is_ok());
  ASSERT_EQ(phone->width, upright.width);
  ASSERT_EQ(phone->height, upright.height);
  // The same scene the right way up: the masks agree but for the JPEG's rounding.
  EXPECT_GT(agreement(*phone, *reference), 0.97);
  auto overlay = read_image(dir / "out" / "phone.overlay.png");
  ASSERT_TRUE(overlay.is_ok());
  EXPECT_EQ(overlay->width, upright.width);

  // A dataset whose photo is stored sideways: its label (drawn on the photo as displayed) fits.
  const fs::path data = dir / "voc";
  fs::create_directories(data / "JPEGImages");
  fs::create_directories(data / "SegmentationClass");
  test::write_file(data / "JPEGImages" / "2007_000129.jpg", stored_sideways(upright));
  fs::copy_file(test::shared_path("voc2012/SegmentationClass/2007_000129.png"),
                data / "SegmentationClass" / "2007_000129.png");
  test::write_file(data / "split.txt",
                   {'2', '0', '0', '7', '_', '0', '0', '0', '1', '2', '9', '\n'});
  const auto eval = qseg("eval --data " + quoted(data) + " --split " + quoted(data / "split.txt"));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("1 scored, 0 bad"), std::string::npos) << eval.output;
  const size_t at = eval.output.find("pixel accuracy  ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stod(eval.output.substr(at + 16)), 85.0) << eval.output;
}

// WebP photos as browsers and phones save them: found in folders, segmented as the same photo in
// PNG (lossless: the same mask exactly; lossy: nearly).
TEST(SegmentInputs, WebpPhotosAreSegmented) {
  const fs::path dir = test::temp_dir("segment_webp");
  const Image photo = voc_photo("2007_000129");
  fs::create_directories(dir / "in");
  test::write_file(dir / "in" / "lossless.webp", test::encode_webp(photo, true));
  test::write_file(dir / "in" / "lossy.WEBP", test::encode_webp(photo, false, 90));
  ASSERT_TRUE(write_png(dir / "in" / "same.png", photo).is_ok());
  const auto result =
      qseg("segment --no-overlay --out " + quoted(dir / "out") + " " + quoted(dir / "in"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("3 photos"), std::string::npos) << result.output;
  auto lossless = read_label_image(dir / "out" / "lossless.png");
  auto lossy = read_label_image(dir / "out" / "lossy.png");
  auto reference = read_label_image(dir / "out" / "same.png");
  ASSERT_TRUE(lossless.is_ok() && lossy.is_ok() && reference.is_ok()) << result.output;
  EXPECT_EQ(lossless->pixels, reference->pixels);
  EXPECT_GT(agreement(*lossy, *reference), 0.97);
}

// A large phone photo is decoded only as far as the model needs (a quarter of its sides here),
// its mask is at its full size and its overlay at the decoded size; --full-size-overlay decodes it
// whole for a full-size overlay, and both masks show the same scene.
TEST(SegmentInputs, LargePhotosAreDecodedForTheModelAndMaskedAtFullSize) {
  const fs::path dir = test::temp_dir("segment_large");
  const Image big = resize_bilinear(voc_photo("2007_000129"), 1575, 2100, false);  // portrait
  test::write_file(dir / "phone.jpg", stored_sideways(big));  // stored 2100x1575, EXIF 6
  const auto result = qseg("segment --out " + quoted(dir / "out") + " --json " +
                           quoted(dir / "run.json") + " " + quoted(dir / "phone.jpg"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("phone.jpg: 1575x2100 (decoded at 394x525) -> "), std::string::npos)
      << result.output;
  auto mask = read_label_image(dir / "out" / "phone.png");
  auto overlay = read_image(dir / "out" / "phone.overlay.png");
  ASSERT_TRUE(mask.is_ok() && overlay.is_ok());
  EXPECT_EQ(mask->width, 1575);
  EXPECT_EQ(mask->height, 2100);
  EXPECT_EQ(overlay->width, 394);
  EXPECT_EQ(overlay->height, 525);
  const nlohmann::json run = read_json(dir / "run.json");
  ASSERT_TRUE(run.contains("photos")) << run.dump();
  EXPECT_EQ(run["photos"][0]["width"], 1575);
  EXPECT_EQ(run["photos"][0]["decoded"]["width"], 394);

  const auto whole = qseg("segment --full-size-overlay --out " + quoted(dir / "whole") + " " +
                          quoted(dir / "phone.jpg"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  EXPECT_EQ(whole.output.find("decoded at"), std::string::npos) << whole.output;
  auto whole_mask = read_label_image(dir / "whole" / "phone.png");
  auto whole_overlay = read_image(dir / "whole" / "phone.overlay.png");
  ASSERT_TRUE(whole_mask.is_ok() && whole_overlay.is_ok());
  EXPECT_EQ(whole_overlay->width, 1575);
  EXPECT_EQ(whole_overlay->height, 2100);
  // The model saw the photo reduced two ways: DCT block means then bilinear, or bilinear from the
  // full size (which samples 4 of every ~16 pixels, aliasing). Both are right against the photo's
  // own label, enlarged alike (void pixels not scored); the reduced decode no less.
  auto label = read_label_image(test::shared_path("voc2012/SegmentationClass/2007_000129.png"));
  ASSERT_TRUE(label.is_ok());
  const Image truth = resize_nearest(*label, 1575, 2100, false);
  const auto accuracy = [&](const Image& labels) {
    int64_t right = 0, scored = 0;
    for (size_t i = 0; i < truth.pixels.size(); ++i) {
      if (truth.pixels[i] == 255) continue;
      ++scored;
      right += labels.pixels[i] == truth.pixels[i];
    }
    return static_cast<double>(right) / scored;
  };
  const double reduced_accuracy = accuracy(*mask), whole_accuracy = accuracy(*whole_mask);
  std::printf("pixel accuracy: reduced decode %.4f, full decode %.4f; agreement %.4f\n",
              reduced_accuracy, whole_accuracy, agreement(*mask, *whole_mask));
  EXPECT_GT(agreement(*mask, *whole_mask), 0.95);
  EXPECT_GT(whole_accuracy, 0.85);
  EXPECT_GT(reduced_accuracy, whole_accuracy - 0.005);
}

// A running multi-photo segment, sent `signal` once its first photo is written: it finishes the
// photo in hand, writes the JSON, says what it wrote and exits 128 + signal; every mask it left
// has its overlay and no temporary file is left behind.
void interrupt_a_run(int signal, const std::string& name) {
  const fs::path dir = test::temp_dir("segment_" + name);
  const Image photo = voc_photo("2007_000033");
  fs::create_directories(dir / "in");
  ASSERT_TRUE(write_jpeg(dir / "in" / "p00.jpg", photo).is_ok());
  for (int i = 1; i < 30; ++i) {
    fs::copy_file(dir / "in" / "p00.jpg",
                  dir / "in" / ("p" + std::to_string(100 + i).substr(1) + ".jpg"));
  }
  const fs::path out = dir / "out", json_path = dir / "run.json";
  const std::vector<std::string> args = {
      test::qseg_binary().string(), "segment", "--out", out.string(), "--json", json_path.string(),
      (dir / "in").string()};
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int out_pipe[2], err_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  ASSERT_EQ(pipe(err_pipe), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  // stdout is a pipe here: the first photo's line must arrive as it is written, not at exit.
  std::string stdout_text;
  char buffer[4096];
  bool signalled = false;
  for (ssize_t n; (n = read(out_pipe[0], buffer, sizeof buffer)) > 0;) {
    stdout_text.append(buffer, static_cast<size_t>(n));
    if (!signalled && stdout_text.find(" -> ") != std::string::npos) {
      kill(pid, signal);
      signalled = true;
    }
  }
  close(out_pipe[0]);
  std::string stderr_text;
  for (ssize_t n; (n = read(err_pipe[0], buffer, sizeof buffer)) > 0;)
    stderr_text.append(buffer, static_cast<size_t>(n));
  close(err_pipe[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(signalled) << stdout_text << stderr_text;
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n" << stderr_text;
  EXPECT_EQ(WEXITSTATUS(status), 128 + signal) << stderr_text;

  const nlohmann::json json = read_json(json_path);
  ASSERT_TRUE(json.is_object()) << stdout_text << stderr_text;
  const int written = json["summary"]["written"].get<int>();
  EXPECT_GE(written, 1);
  EXPECT_LT(written, 30) << "the run finished before the signal: make it longer";
  EXPECT_EQ(json["summary"]["interrupted"], name);
  EXPECT_NE(stderr_text.find("qseg: error: interrupted (" + name + "): " + std::to_string(written) +
                             " of 30 photos written to " + out.string() +
                             "; run it again with --skip-existing"),
            std::string::npos)
      << stderr_text;
  // Every mask has its overlay, nothing else is there, and the photos written are the first ones.
  std::set<std::string> expected;
  for (int i = 0; i < written; ++i) {
    const std::string stem = "p" + std::to_string(100 + i).substr(1);
    expected.insert(stem + ".png");
    expected.insert(stem + ".overlay.png");
  }
  EXPECT_EQ(files_below(out), expected);
  // Finishing the run.
  const auto rest =
      qseg("segment --skip-existing --no-legend --out " + quoted(out) + " " + quoted(dir / "in"));
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  EXPECT_NE(rest.output.find(std::to_string(30 - written) + " of 30 photos written"),
            std::string::npos)
      << rest.output;
  EXPECT_EQ(files_below(out).size(), 60u);
}

TEST(SegmentInputs, SigintStopsAfterThePhotoInHandAndSaysWhatWasWritten) {
  interrupt_a_run(SIGINT, "SIGINT");
}

TEST(SegmentInputs, SigtermToo) { interrupt_a_run(SIGTERM, "SIGTERM"); }

TEST(InspectJson, HoldsWhatTheTextShows) {
  const fs::path dir = test::temp_dir("inspect_json");
  const fs::path model = test::shared_path("models/deeplabv3_mnv2_dm05_pascal_quant.tflite");
  const auto text = qseg("inspect --model " + quoted(model) + " --json " + quoted(dir / "m.json"));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  const nlohmann::json json = read_json(dir / "m.json");
  ASSERT_TRUE(json.is_object());
  EXPECT_NE(text.output.find(std::to_string(json["op_count"].get<int>()) + " ops"),
            std::string::npos);
  EXPECT_EQ(json["ops"].size(), json["op_count"].get<size_t>());
  EXPECT_EQ(json["inputs"][0]["shape"], (nlohmann::json{1, 513, 513, 3}));
  EXPECT_EQ(json["inputs"][0]["type"], "uint8");
  EXPECT_EQ(json["class_count"], 21);
  int64_t macs = 0;
  for (const auto& op : json["ops"]) macs += op["multiply_adds"].get<int64_t>();
  EXPECT_EQ(macs, json["multiply_adds"].get<int64_t>());
  EXPECT_NE(text.output.find("multiply-adds: " + std::to_string(macs)), std::string::npos);
  EXPECT_NE(text.output.find("arena bytes: " + std::to_string(json["arena_bytes"].get<int64_t>())),
            std::string::npos);
  // --json -: the JSON alone on stdout, the same document.
  const auto piped = test::run_command(test::qseg_binary().string() + " inspect --model " +
                                       quoted(model) + " --json - 2>/dev/null");
  ASSERT_EQ(piped.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(piped.output, nullptr, false), json);
  test::expect_one_error_line("inspect --model " + quoted(model) + " --json /nonexistent/m.json",
                              "the folder /nonexistent does not exist");
}

}  // namespace
}  // namespace qseg
