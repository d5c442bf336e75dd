#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "ctmq/core/atomic_file.h"
#include "ctmq/core/errors.h"
#include "ctmq/spec/spec_keys.h"
#include "ctmq/spec/spec_parser.h"

namespace ctmq {
namespace {

const char* kMinimal = R"({"name": "t", "data": {"format": "fashion-mnist", "root": "/tmp"},
  "model": {"arch": "resnet20"}, "steps": {"bits": [4, 2, 1]}})";

SpecOptions no_paths(std::vector<std::string> overrides = {}) {
  SpecOptions options;
  options.check_paths = false;
  options.overrides = std::move(overrides);
  return options;
}

/// The SpecError message for `text`, or "" when it parses.
std::string error_of(const std::string& text, SpecOptions options = no_paths()) {
  try {
    parse_spec(text, "spec.json", options);
  } catch (const SpecError& e) {
    EXPECT_EQ(e.exit_code(), kExitUsage);
    return e.what();
  }
  return "";
}

TEST(SpecParser, MinimalSpecGetsDefaults) {
  ExperimentSpec spec = parse_spec(kMinimal, "spec.json", no_paths());
  EXPECT_EQ(spec.name, "t");
  EXPECT_EQ(spec.data.batch_size, 128);
  EXPECT_EQ(spec.steps.bits, (std::vector<int64_t>{4, 2, 1}));
  EXPECT_FALSE(spec.pretrain.checkpoint.has_value());
  EXPECT_EQ(spec.cycles.ladder, CycleLadder::kFull);
}

TEST(SpecParser, UnknownKeySuggestsClosest) {
  std::string text = R"({"name": "t", "data": {"format": "fashion-mnist", "root": "/tmp",
    "bach_size": 3}, "model": {"arch": "resnet20"}, "steps": {"bits": [1]}})";
  std::string error = error_of(text);
  EXPECT_NE(error.find("spec.json: /data/bach_size: unknown key"), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean \"batch_size\""), std::string::npos) << error;
}

TEST(SpecParser, WrongTypeNamesPathAndExpectation) {
  std::string error = error_of(R"({"name": "t", "seed": "one", "data": {"format": "fashion-mnist",
    "root": "/tmp"}, "model": {"arch": "resnet20"}, "steps": {"bits": [1]}})");
  EXPECT_NE(error.find("/seed: expected integer, got \"one\""), std::string::npos) << error;
}

TEST(SpecParser, OutOfRangeValuesEachGetALine) {
  std::string error = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/tmp", "batch_size": 0}, "model": {"arch": "resnet20"},
    "optimizer": {"lr": 0}, "pretrain": {"epochs": -1}, "steps": {"bits": [4, 17, 0]}})");
  EXPECT_NE(error.find("/data/batch_size: expected a value at least 1, got 0"), std::string::npos);
  EXPECT_NE(error.find("/optimizer/lr: expected a value greater than 0"), std::string::npos);
  EXPECT_NE(error.find("/pretrain/epochs: expected a value at least 0, got -1"), std::string::npos);
  EXPECT_NE(error.find("/steps/bits/1: expected a value between 1 and 16, got 17"),
            std::string::npos);
  EXPECT_NE(error.find("/steps/bits/2: expected a value between 1 and 16, got 0"),
            std::string::npos);
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 4) << error;
}

TEST(SpecParser, LadderMustDescendStrictly) {
  std::string error = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/tmp"}, "model": {"arch": "resnet20"}, "steps": {"bits": [4, 4, 2]}})");
  EXPECT_NE(error.find("/steps/bits/1: the ladder must be strictly descending"), std::string::npos)
      << error;
}

TEST(SpecParser, MissingRequiredKey) {
  std::string error = error_of(R"({"data": {"format": "fashion-mnist", "root": "/tmp"},
    "steps": {"bits": [1]}})");
  EXPECT_NE(error.find("/name: required key is missing"), std::string::npos) << error;
  EXPECT_NE(error.find("/model/arch: required key is missing"), std::string::npos) << error;
}

TEST(SpecParser, ChoiceTypoIsSuggested) {
  std::string error = error_of(R"({"name": "t", "data": {"format": "fashion_mnist",
    "root": "/tmp"}, "model": {"arch": "resnet20"}, "steps": {"bits": [1]}})");
  EXPECT_NE(error.find("/data/format: expected one of imagenet, fashion-mnist, cifar10 or "
                       "cifar100, got \"fashion_mnist\" (did you mean \"fashion-mnist\"?)"),
            std::string::npos)
      << error;
}

TEST(SpecParser, SectionMustBeObject) {
  std::string error = error_of(R"({"name": "t", "data": 3, "model": {"arch": "resnet20"},
    "steps": {"bits": [1]}})");
  EXPECT_NE(error.find("/data: expected an object, got 3"), std::string::npos) << error;
}

TEST(SpecParser, MalformedJsonReportsLineAndColumn) {
  std::string error = error_of("{\n  \"name\": \"t\",\n  \"seed\": ,\n}");
  EXPECT_NE(error.find("spec.json: malformed JSON at line 3, column 11"), std::string::npos)
      << error;
}

TEST(SpecParser, NumberOutOfRangeIsASpecErrorNamingFileAndPath) {
  std::string error = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/tmp"}, "model": {"arch": "resnet20"}, "optimizer": {"lr": 1e999},
    "steps": {"bits": [1]}})");
  EXPECT_NE(error.find("spec.json: /optimizer/lr: number 1e999 is out of range (line 2, column"),
            std::string::npos)
      << error;
  std::string in_set = error_of(kMinimal, no_paths({"optimizer.lr=1e999"}));
  EXPECT_NE(in_set.find("--set optimizer.lr=1e999: /optimizer/lr: number 1e999 is out of range"),
            std::string::npos)
      << in_set;
  EXPECT_EQ(parse_spec(kMinimal, "spec.json", no_paths({"name=1e999"})).name, "1e999");
  std::string in_list = error_of(kMinimal, no_paths({"steps.bits=[4,-1e400]"}));
  EXPECT_NE(in_list.find("/steps/bits/1: number -1e400 is out of range"), std::string::npos)
      << in_list;
}

TEST(SpecParser, IntegersBeyondSixtyFourBitsAndNegativeSeedsAreErrors) {
  // nlohmann reads 2^64 - 1 as an unsigned integer; stored in the int64_t seed it became -1.
  const std::string max = "9223372036854775807";
  for (const std::string seed : {"18446744073709551615", "9223372036854775808"}) {
    const std::string error = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
      "root": "/tmp"}, "model": {"arch": "resnet20"}, "steps": {"bits": [1]},
      "seed": )" + seed + "}");
    EXPECT_NE(
        error.find("spec.json: /seed: expected an integer of at most " + max + ", got " + seed),
        std::string::npos)
        << error;
    const std::string in_set = error_of(kMinimal, no_paths({"seed=" + seed}));
    EXPECT_NE(in_set.find("--set seed=" + seed + ": /seed: expected an integer of at most"),
              std::string::npos)
        << in_set;
  }
  const std::string negative = error_of(kMinimal, no_paths({"seed=-1"}));
  EXPECT_NE(negative.find("--set seed=-1: /seed: expected a value at least 0, got -1"),
            std::string::npos)
      << negative;
  const std::string in_list = error_of(kMinimal, no_paths({"steps.bits=[18446744073709551615]"}));
  EXPECT_NE(in_list.find("/steps/bits/0: expected an integer of at most " + max), std::string::npos)
      << in_list;
  EXPECT_EQ(parse_spec(kMinimal, "spec.json", no_paths({"seed=" + max})).seed,
            std::numeric_limits<int64_t>::max());
}

TEST(SpecParser, SetErrorsNameTheOverrideNotTheSpecFile) {
  const std::string error =
      error_of(kMinimal, no_paths({"data.batch_size=abc", "optimizer.lr=0.1", "optimizer.lr=-1"}));
  EXPECT_NE(
      error.find("--set data.batch_size=abc: /data/batch_size: expected integer, got \"abc\""),
      std::string::npos)
      << error;
  // Of two --set of one key, the later one gave the value.
  EXPECT_NE(error.find("--set optimizer.lr=-1: /optimizer/lr"), std::string::npos) << error;
  EXPECT_EQ(error.find("spec.json"), std::string::npos) << error;
  const std::string ladder = error_of(kMinimal, no_paths({"steps.bits=[2,3]"}));
  EXPECT_NE(ladder.find("--set steps.bits=[2,3]: /steps/bits/1: the ladder must be strictly"),
            std::string::npos)
      << ladder;
  // What the file itself gets wrong is still the file's.
  const std::string file = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/tmp", "batch_size": "x"}, "model": {"arch": "resnet20"}, "steps": {"bits": [1]}})",
                                    no_paths({"seed=3"}));
  EXPECT_NE(file.find("spec.json: /data/batch_size: expected integer"), std::string::npos) << file;
}

TEST(SpecParser, DuplicateKeysAreErrorsListedWithTheOtherProblems) {
  std::string error = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/tmp", "batch_size": 64, "batch_size": 32}, "model": {"arch": "resnet20"},
    "seed": "x", "steps": {"bits": [1]}, "name": "u"})");
  EXPECT_NE(error.find("spec.json: /data/batch_size: duplicate key \"batch_size\""),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("spec.json: /name: duplicate key"), std::string::npos) << error;
  EXPECT_NE(error.find("spec.json: /seed: expected integer"), std::string::npos) << error;
}

TEST(SpecParser, MissingDataRootIsAnError) {
  SpecOptions options;
  std::string text = R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/no/such/dir"}, "model": {"arch": "resnet20"}, "steps": {"bits": [1]}})";
  std::string error = error_of(text, options);
  EXPECT_NE(error.find("/data/root: directory \"/no/such/dir\" does not exist"), std::string::npos)
      << error;
}

TEST(SpecParser, SetOverridesWithTheSameValidation) {
  ExperimentSpec spec = parse_spec(
      kMinimal, "spec.json",
      no_paths({"data.batch_size=64", "steps.bits=[3,1]", "name=abc", "pretrain.lr=0.5"}));
  EXPECT_EQ(spec.data.batch_size, 64);
  EXPECT_EQ(spec.steps.bits, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(spec.name, "abc");
  EXPECT_DOUBLE_EQ(spec.pretrain.lr.value(), 0.5);
  EXPECT_NE(error_of(kMinimal, no_paths({"data.batch_size=0"})).find("/data/batch_size"),
            std::string::npos);
  std::string unknown = error_of(kMinimal, no_paths({"data.bach_size=3"}));
  EXPECT_NE(unknown.find("--set data.bach_size=3: unknown key"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("did you mean \"data.batch_size\""), std::string::npos) << unknown;
  EXPECT_NE(error_of(kMinimal, no_paths({"novalue"})).find("expected key.path=value"),
            std::string::npos);
}

TEST(SpecParser, DumpRoundTripsAndHashIgnoresRuntimeKeys) {
  ExperimentSpec spec = parse_spec(kMinimal, "spec.json", no_paths());
  ExperimentSpec again = parse_spec(spec_to_json(spec).dump(), "dump.json", no_paths());
  EXPECT_EQ(spec_to_json(spec), spec_to_json(again));
  EXPECT_EQ(spec_hash(spec), spec_hash(again));
  again.data.workers = 7;
  again.output_dir = "elsewhere";
  EXPECT_EQ(spec_hash(spec), spec_hash(again));
  again.steps.epochs = 9;
  EXPECT_NE(spec_hash(spec), spec_hash(again));
}

TEST(SpecParser, EveryShippedSpecParses) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::string(CTMQ_SOURCE_DIR) + "/data/specs")) {
    if (!entry.is_regular_file()) continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(load_spec(entry.path().string(), no_paths()));
  }
}

TEST(SpecParser, EmbeddedDefaultIsTheShippedDemoSpec) {
  std::string shipped = read_file(std::string(CTMQ_SOURCE_DIR) + "/data/specs/fmnist-default.json");
  EXPECT_EQ(default_spec_text(), shipped);
  EXPECT_EQ(default_spec(no_paths()).data.format, DataFormat::kFashionMnist);
}

TEST(SpecParser, SpecDocIsCurrent) {
  // docs/spec.md embeds the generated key table; regenerate it with `ctmq spec --doc`.
  std::string doc = read_file(std::string(CTMQ_SOURCE_DIR) + "/docs/spec.md");
  EXPECT_NE(doc.find(spec_keys_markdown()), std::string::npos)
      << "docs/spec.md is out of date: paste the output of `ctmq spec --doc` into it";
}

TEST(SpecParser, FirstLastBitsBetweenSixteenAndThirtyTwoAreRefused) {
  std::string error = error_of(R"({"name": "t", "data": {"format": "fashion-mnist",
    "root": "/tmp"}, "model": {"arch": "resnet20", "first_last_bits": 20},
    "steps": {"bits": [1]}})");
  EXPECT_NE(error.find("/model/first_last_bits: expected 1 to 16, or 32"), std::string::npos)
      << error;
  const std::string above = error_of(kMinimal, no_paths({"model.first_last_bits=33"}));
  EXPECT_NE(above.find("/model/first_last_bits: expected 1 to 16, or 32, got 33"),
            std::string::npos)
      << above;
  // The docs state the real range, not 1..32.
  EXPECT_NE(
      spec_keys_markdown().find("| `model.first_last_bits` | integer | `32` | 1 to 16, or 32 |"),
      std::string::npos);
  for (const char* bits : {"model.first_last_bits=16", "model.first_last_bits=32"}) {
    EXPECT_EQ(error_of(kMinimal, no_paths({bits})), "") << bits;
  }
}

TEST(SpecKeys, AKeyLeftOutTakesTheDefaultItsDeclarationNames) {
  // Only the required keys: every other key must come out at its declared default.
  const ExperimentSpec spec = parse_spec(R"({"name": "t", "data": {"format": "cifar10",
    "root": "/tmp"}, "model": {"arch": "resnet32"}, "steps": {"bits": [2, 1]}})",
                                         "t.json", no_paths());
  for (const auto& key : spec_keys()) {
    if (key.required) continue;
    EXPECT_EQ(key.get(spec), key.default_value) << key.path;
    EXPECT_EQ(key.get(spec_defaults()), key.default_value) << key.path;
  }
  EXPECT_EQ(spec.data.format, DataFormat::kCifar10);
  EXPECT_EQ(spec.model.arch, Arch::kResNet32);
}

TEST(SpecKeys, ChoiceKeysListEveryNameOfTheirEnum) {
  EXPECT_EQ(find_spec_key("/quant/weights")->choices, choice_names<WeightMethod>());
  EXPECT_EQ(find_spec_key("/train/amp")->choices,
            (std::vector<std::string>{"off", "bf16", "fp16"}));
  for (const auto& name : choice_names<OptimizerKind>()) {
    EXPECT_EQ(choice_name(*parse_choice<OptimizerKind>(name)), name);
  }
  EXPECT_FALSE(parse_choice<Arch>("vgg11").has_value());
}

TEST(SpecParser, LoadSpecNamesUnreadableFile) {
  try {
    load_spec("/no/such/spec.json");
    FAIL();
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/spec.json"), std::string::npos);
  }
}

TEST(SpecParser, DistillAndValidationKeys) {
  ExperimentSpec spec = parse_spec(kMinimal, "spec.json", no_paths());
  EXPECT_EQ(spec.distill.teacher, "none");
  EXPECT_EQ(spec.data.val_split, 0);
  EXPECT_FALSE(spec.cycles.accurate_warmup_epochs.has_value());
  spec = parse_spec(kMinimal, "spec.json",
                    no_paths({"distill.teacher=accurate", "distill.temperature=2",
                              "distill.weight=1", "distill.stages=target", "data.val_split=5000",
                              "cycles.accurate_warmup_epochs=1"}));
  EXPECT_EQ(spec.distill.teacher, "accurate");
  EXPECT_EQ(spec.distill.temperature, 2.0);
  EXPECT_EQ(spec.distill.weight, 1.0);
  EXPECT_EQ(spec.distill.stages, DistillStages::kTarget);
  EXPECT_EQ(spec.data.val_split, 5000);
  EXPECT_EQ(spec.cycles.accurate_warmup_epochs, 1);
  // The resolved spec writes them back, and null stays null.
  const auto doc = spec_to_json(parse_spec(kMinimal, "spec.json", no_paths()));
  EXPECT_TRUE(doc.at("cycles").at("accurate_warmup_epochs").is_null());
  EXPECT_EQ(doc.at("distill").at("stages"), "low-bit");
}

TEST(SpecParser, BadDistillValuesNameTheirPaths) {
  std::string error =
      error_of(kMinimal, no_paths({"distill.weight=1.5", "distill.temperature=0",
                                   "distill.stages=all", "cycles.accurate_warmup_epochs=0.5"}));
  EXPECT_NE(error.find("/distill/weight"), std::string::npos) << error;
  EXPECT_NE(error.find("/distill/temperature"), std::string::npos) << error;
  EXPECT_NE(error.find("/distill/stages"), std::string::npos) << error;
  EXPECT_NE(error.find("/cycles/accurate_warmup_epochs: expected integer or null"),
            std::string::npos)
      << error;
  // A teacher that is neither a keyword nor a stage id is a file, which must exist.
  SpecOptions with_paths;
  with_paths.overrides = {"distill.teacher=/no/such/teacher.pt"};
  error = error_of(kMinimal, with_paths);
  EXPECT_NE(error.find("/distill/teacher"), std::string::npos) << error;
  EXPECT_NE(error.find("/no/such/teacher.pt"), std::string::npos) << error;
  with_paths.overrides = {"distill.teacher=c1-fp"};
  EXPECT_EQ(error_of(kMinimal, with_paths), "");
}

TEST(SpecParser, DistillTemperatureHasAFloat32SafeLowerBound) {
  // logits / T and T^2 in float32: 1e-300 became a NaN loss at the first step.
  for (const char* tiny : {"distill.temperature=1e-300", "distill.temperature=0.0009"}) {
    const std::string error = error_of(kMinimal, no_paths({tiny}));
    EXPECT_NE(error.find("--set " + std::string(tiny) + ": /distill/temperature"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("0.001"), std::string::npos) << error;
  }
  EXPECT_EQ(error_of(kMinimal, no_paths({"distill.temperature=0.001"})), "");
}

TEST(SpecParser, KeysAddedLaterLeaveTheHashOfEarlierRunsAlone) {
  // Run directories of an earlier ctmq resume: at their defaults, the keys added since then
  // (data.val_split, cycles.accurate_warmup_epochs, distill.*) stay out of the spec hash.
  const ExperimentSpec base = parse_spec(kMinimal, "spec.json", no_paths());
  const std::string hash = spec_hash(base);
  for (const char* set :
       {"data.val_split=5000", "cycles.accurate_warmup_epochs=1", "distill.teacher=accurate",
        "distill.temperature=2", "distill.weight=0.9", "distill.stages=target"}) {
    EXPECT_NE(spec_hash(parse_spec(kMinimal, "spec.json", no_paths({set}))), hash) << set;
  }
  EXPECT_EQ(spec_hash(parse_spec(kMinimal, "spec.json",
                                 no_paths({"data.val_split=0", "distill.teacher=none"}))),
            hash);
}

}  // namespace
}  // namespace ctmq
