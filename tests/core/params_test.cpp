// tests/core/params_test.cpp: typed, located config values.
#include "../test_common.h"

#include <richlazy/core/config_error.h>
#include <richlazy/core/config_source.h>
#include <richlazy/core/params.h>

using namespace richlazy;
using Catch::Matchers::Contains;

namespace {
const std::vector<ParamSpec> kSpecs{
    {"count", "4", "a count"},     {"scale", "1.5", "a scale"}, {"flag", "false", "a flag"},
    {"mode", "fast", "fast|slow"}, {"values", "[1, 2]", "numbers"}, {"needed", "", "required"},
};
}  // namespace

TEST_CASE("params read typed values and fill defaults", "[core]") {
  Params p = testing::params_from("{count: 7, needed: x}", "sec", kSpecs);
  REQUIRE(p.get_int("count", 1, 10) == 7);
  REQUIRE(p.get_double("scale") == 1.5);
  REQUIRE_FALSE(p.get_bool("flag"));
  REQUIRE(p.get_choice("mode", {"fast", "slow"}) == "fast");
  REQUIRE(p.get_double_list("values") == std::vector<double>{1, 2});
  REQUIRE(p.get_string("needed") == "x");
  p.finish();
  REQUIRE(YAML::Dump(p.resolved()) ==
          "count: 7\nscale: 1.5\nflag: false\nmode: fast\nvalues: [1, 2]\nneeded: x");
}

TEST_CASE("params errors name file, line, column, dotted key and what was expected", "[core]") {
  const std::string yaml = "count: 500\nscale: -2\nflag: maybe\nmode: medium\nvalues: []\n";
  REQUIRE(testing::config_error_of([&] { testing::params_from(yaml, "a.b", kSpecs).get_int("count", 1, 300); }) ==
          "test.yaml:1:8: a.b.count must be an integer in [1, 300], got 500");
  REQUIRE(testing::config_error_of([&] { testing::params_from(yaml, "a.b", kSpecs).get_double_above("scale", 0); }) ==
          "test.yaml:2:8: a.b.scale must be a number > 0, got -2");
  REQUIRE(testing::config_error_of([&] { testing::params_from(yaml, "a.b", kSpecs).get_bool("flag"); }) ==
          "test.yaml:3:7: a.b.flag must be true or false, got maybe");
  REQUIRE(testing::config_error_of([&] {
            testing::params_from(yaml, "a.b", kSpecs).get_choice("mode", {"fast", "slow"});
          }) == "test.yaml:4:7: a.b.mode must be one of fast, slow, got medium");
  REQUIRE(testing::config_error_of([&] { testing::params_from(yaml, "a.b", kSpecs).get_double_list("values"); }) ==
          "test.yaml:5:9: a.b.values must be a non-empty list of finite numbers, got []");
  REQUIRE_THAT(testing::config_error_of([&] { testing::params_from(yaml, "a.b", kSpecs).get_string("needed"); }),
               Contains("a.b.needed is required"));
  REQUIRE(testing::config_error_of([&] { testing::params_from("count: 2.5", "", kSpecs).get_int("count"); }) ==
          "test.yaml:1:8: count must be an integer, got 2.5");
  REQUIRE(testing::config_error_of([&] { testing::params_from("scale: .nan", "", kSpecs).get_double("scale"); }) ==
          "test.yaml:1:8: scale must be a finite number, got .nan");
}

TEST_CASE("unread keys are errors with a suggestion", "[core]") {
  Params p = testing::params_from("{count: 1, cuont: 2, needed: y}", "s", kSpecs);
  p.get_int("count");
  p.get_string("needed");
  REQUIRE(testing::config_error_of([&] { p.finish(); }) ==
          "test.yaml:1:12: s.cuont is not a known key (did you mean 'count'?); known keys: "
          "count, scale, flag, mode, values, needed");
}

TEST_CASE("a section that is not a map is rejected", "[core]") {
  REQUIRE(testing::config_error_of([] { testing::params_from("[1, 2]", "train", kSpecs); }) ==
          "test.yaml:1:1: train must be a map of keys to values, got [1, 2]");
}

TEST_CASE("overridden values are located by their origin", "[core]") {
  auto source = std::make_shared<ConfigSource>("exp.yaml");
  YAML::Node root = YAML::Load("train: {iterations: 10}\n");
  set_config_path(root, "train.iterations", YAML::Load("abc"), "--set train.iterations=abc");
  source->set_origin("train.iterations", "--set train.iterations=abc");
  source->set_context("(in run r1)");
  Params p(root["train"], "train", source, {{"iterations", "1", "n"}});
  REQUIRE(testing::config_error_of([&] { p.get_int("iterations", 1, 5); }) ==
          "--set train.iterations=abc: train.iterations must be an integer in [1, 5], got abc "
          "(in run r1)");
}

TEST_CASE("dotted paths create maps, refuse scalars, and keep sweep keys whole", "[core]") {
  YAML::Node root = YAML::Load("a: {b: 1}\nc: 2\n");
  set_config_path(root, "a.x.y", YAML::Load("[1, 2]"), "--set");
  REQUIRE(root["a"]["x"]["y"].size() == 2);
  REQUIRE(root["a"]["b"].as<int>() == 1);
  REQUIRE_THROWS_WITH(set_config_path(root, "c.d", YAML::Load("3"), "--set c.d=3"),
                      Contains("--set c.d=3: cannot set c.d: c is not a map"));
  REQUIRE(split_config_path("sweep.init.W_rec.rank") ==
          std::vector<std::string>{"sweep", "init.W_rec.rank"});
  REQUIRE(split_config_path("init.W_rec.rank") ==
          std::vector<std::string>{"init", "W_rec", "rank"});
}

TEST_CASE("key paths index into existing lists and refuse bad indices", "[core]") {
  YAML::Node root = YAML::Load("t: {p: [{a: 1, b: 2}, {a: 3}], s: 4}\n");
  set_config_path(root, "t.p[1].a", YAML::Load("30"), "--set");
  REQUIRE(root["t"]["p"][1]["a"].as<int>() == 30);
  REQUIRE(root["t"]["p"][0]["a"].as<int>() == 1);  // the other entry is untouched
  set_config_path(root, "t.p[0].c.d", YAML::Load("5"), "--set");  // maps below an entry are made
  REQUIRE(root["t"]["p"][0]["c"]["d"].as<int>() == 5);
  REQUIRE(root["t"]["p"][0]["b"].as<int>() == 2);
  set_config_path(root, "t.p[0]", YAML::Load("{a: 7}"), "--set");  // a whole entry
  REQUIRE(root["t"]["p"][0]["a"].as<int>() == 7);
  REQUIRE_FALSE(root["t"]["p"][0]["b"].IsDefined());
  REQUIRE(root["t"]["p"].size() == 2);
  YAML::Node nested = YAML::Load("m: [[1, 2], [3]]\n");
  set_config_path(nested, "m[0][1]", YAML::Load("9"), "--set");
  REQUIRE(nested["m"][0][1].as<int>() == 9);
  REQUIRE_THROWS_WITH(set_config_path(root, "t.p[2].a", YAML::Load("1"), "--set x"),
                      "--set x: cannot set t.p[2].a: t.p has 2 entries, numbered from 0");
  REQUIRE_THROWS_WITH(set_config_path(root, "t.s[0]", YAML::Load("1"), "--set x"),
                      "--set x: cannot set t.s[0]: t.s is not a list (it is 4)");
  REQUIRE_THROWS_WITH(set_config_path(root, "t.q[0].a", YAML::Load("1"), "--set x"),
                      "--set x: cannot set t.q[0].a: t.q is not a list (it is null)");
  for (const char* bad : {"t.p[].a", "t.p[-1].a", "t.p[x]", "t.p[1", "t.p]1[", "t.[0]", "t.p[1]a", "t.p[12345678901]"}) {
    REQUIRE_THROWS_WITH(set_config_path(root, bad, YAML::Load("1"), "--set x"),
                        std::string("--set x: '") + bad + "' is not a valid key path");
  }
  // A sweep key is kept whole, brackets and all.
  set_config_path(root, "sweep.t.p[1].a", YAML::Load("[1, 2]"), "--set");
  REQUIRE(root["sweep"]["t.p[1].a"].size() == 2);
  // An override of a list covers its entries in error messages.
  ConfigSource source("f.yaml");
  source.set_origin("t.p", "--set t.p=[...]");
  REQUIRE(source.origin_of("t.p[1].a") == "--set t.p=[...]");
  REQUIRE(source.origin_of("t.pp") == "");
}

TEST_CASE("YAML files: missing and malformed ones name the file", "[core]") {
  testing::TempDir tmp;
  REQUIRE_THAT(testing::config_error_of([&] { load_yaml_file(tmp.file("nope.yaml")); }),
               Contains("nope.yaml: cannot open the file"));
  testing::write_text(tmp.file("bad.yaml"), "a: 1\nb: [1, 2\n");
  REQUIRE_THAT(testing::config_error_of([&] { load_yaml_file(tmp.file("bad.yaml")); }),
               Contains("bad.yaml:3:1: malformed YAML"));
}

TEST_CASE("closest_name suggests only plausible typos", "[core]") {
  REQUIRE(closest_name("low_rnak", {"gaussian", "low_rank"}) == "low_rank");
  REQUIRE(closest_name("zzzz", {"gaussian", "low_rank"}).empty());
}
