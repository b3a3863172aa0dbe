// Class names in a checkpoint's metadata (class_names, class_colors): absent, written and read
// back, and each malformed entry an error naming the checkpoint.
#include <gtest/gtest.h>

#include "model/checkpoint_file.h"

namespace qseg::model {
namespace {

std::string error_of(const nlohmann::json& meta) {
  CheckpointFile file;
  file.meta = meta;
  auto classes = checkpoint_classes(file, "c.ckpt");
  EXPECT_FALSE(classes.is_ok()) << meta.dump();
  return classes.is_ok() ? "" : classes.status().message();
}

TEST(CheckpointClasses, AbsentWrittenAndReadBack) {
  CheckpointFile file;
  auto none = checkpoint_classes(file, "c.ckpt");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
  auto set = ClassSet::create({"road", "traffic light"}, {Rgb{1, 2, 3}, Rgb{250, 170, 30}});
  ASSERT_TRUE(set.is_ok());
  set_checkpoint_classes(&file, *set);
  EXPECT_EQ(file.meta["class_names"], nlohmann::json({"road", "traffic light"}));
  EXPECT_EQ(file.meta["class_colors"], nlohmann::json({"#010203", "#FAAA1E"}));
  auto back = checkpoint_classes(file, "c.ckpt");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, *set);
  // Names without colours get the default palette's.
  file.meta.erase("class_colors");
  auto plain = checkpoint_classes(file, "c.ckpt");
  ASSERT_TRUE(plain.is_ok() && plain->has_value());
  EXPECT_EQ((*plain)->color(1), generated_class_color(1));
}

TEST(CheckpointClasses, MalformedEntriesAreErrors) {
  EXPECT_EQ(error_of({{"class_names", "road"}}), "c.ckpt: class_names is not an array of strings");
  EXPECT_EQ(error_of({{"class_names", {"road", 3}}}),
            "c.ckpt: class_names is not an array of strings");
  EXPECT_EQ(error_of({{"class_names", {"a", "b"}}, {"class_colors", {"#000000"}}}),
            "c.ckpt: class_colors must be an array of one \"#RRGGBB\" per class name");
  EXPECT_EQ(error_of({{"class_names", {"a"}}, {"class_colors", {"red"}}}),
            "c.ckpt: class_colors[0] \"red\" is not #RRGGBB");
  EXPECT_EQ(error_of({{"class_names", {"a"}}, {"class_colors", {"#GG0000"}}}),
            "c.ckpt class_names:1: bad colour \"#GG0000\" (a class line is NAME or NAME #RRGGBB)");
  EXPECT_EQ(error_of({{"class_names", {"a", "a"}}}),
            "c.ckpt class_names:2: class name \"a\" is already used on line 1");
  EXPECT_EQ(error_of({{"class_names", {"a#b"}}}),
            "c.ckpt: class name \"a#b\" holds '#' or a line break");
  EXPECT_EQ(error_of({{"class_names", nlohmann::json::array()}}),
            "c.ckpt class_names: the labels file names no class");
}

}  // namespace
}  // namespace qseg::model
