#include "ctmq/spec/strict_json.h"

#include <gtest/gtest.h>

namespace ctmq {
namespace {

TEST(StrictJson, ReadsWhatTheDomParserReads) {
  const std::string text = R"({"a": [1, {"b": null, "c": [true, 2.5]}], "d": {"e": "x"}, "f": -3})";
  StrictJson parsed = read_strict_json(text);
  ASSERT_FALSE(parsed.error.has_value());
  EXPECT_TRUE(parsed.duplicates.empty());
  EXPECT_EQ(parsed.doc, nlohmann::json::parse(text));
}

TEST(StrictJson, EveryDuplicateKeyIsFoundWithItsPath) {
  StrictJson parsed =
      read_strict_json(R"({"a": 1, "s": {"x": 1, "l": [{"k": 1, "k": 2}], "x": 2}, "a": 3})");
  ASSERT_FALSE(parsed.error.has_value());
  ASSERT_EQ(parsed.duplicates.size(), 3u);
  EXPECT_EQ(parsed.duplicates[0].path, "/s/l/0/k");
  EXPECT_EQ(parsed.duplicates[1].path, "/s/x");
  EXPECT_EQ(parsed.duplicates[2].path, "/a");
  EXPECT_NE(parsed.duplicates[2].message.find("duplicate key \"a\""), std::string::npos);
}

TEST(StrictJson, NumberOutOfRangeNamesItsPathLineAndColumn) {
  StrictJson parsed = read_strict_json("{\"o\": {\"lr\": 0.1,\n  \"l\": [1, -1e999]}}");
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_EQ(parsed.error->path, "/o/l/1");
  EXPECT_FALSE(parsed.malformed);
  EXPECT_EQ(parsed.error->message, "number -1e999 is out of range (line 2, column 12)");
  EXPECT_EQ(describe_json_problems(parsed, "f.json"),
            "f.json: /o/l/1: number -1e999 is out of range (line 2, column 12)");
}

TEST(StrictJson, NumberOutOfRangeAtTheTopIsNotMalformed) {
  StrictJson parsed = read_strict_json("1e999");  // what `--set optimizer.lr=1e999` reads
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_FALSE(parsed.malformed);
  EXPECT_EQ(parsed.error->path, "");
  EXPECT_EQ(parsed.error->message, "number 1e999 is out of range (line 1, column 1)");
}

TEST(StrictJson, MalformedJsonHasNoPath) {
  StrictJson parsed = read_strict_json("{\"a\": 1, \"a\": }");
  ASSERT_TRUE(parsed.error.has_value());
  EXPECT_EQ(parsed.error->path, "");
  EXPECT_TRUE(parsed.malformed);
  const std::string text = describe_json_problems(parsed, "f.json");
  EXPECT_NE(text.find("f.json: /a: duplicate key"), std::string::npos) << text;
  EXPECT_NE(text.find("f.json: malformed JSON at line 1, column 15"), std::string::npos) << text;
}

}  // namespace
}  // namespace ctmq
