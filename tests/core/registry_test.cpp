// tests/core/registry_test.cpp: registry entries, duplicates, unknown names.
#include "../test_common.h"

#include <richlazy/core/registries.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/registry.h>

using namespace richlazy;
using Catch::Matchers::Contains;

namespace {
struct Widget {
  explicit Widget(int v) : value(v) {}
  int value;
};
using WidgetRegistry = Registry<Widget, int>;

WidgetRegistry::Entry widget(const std::string& name) {
  return {name, "a test widget", {{"size", "3", "how big"}},
          [](Params& p, int offset) {
            return std::make_unique<Widget>(static_cast<int>(p.get_int("size", 1, 10)) + offset);
          }};
}
}  // namespace

TEST_CASE("a registry creates the entry a config names, with defaults", "[core]") {
  WidgetRegistry reg("widget");
  reg.add(widget("small"));
  reg.add(widget("large"));
  REQUIRE(reg.names() == std::vector<std::string>{"small", "large"});

  Params p = testing::params_from("{name: large}");
  REQUIRE(reg.create(p, 100)->value == 103);
  REQUIRE(YAML::Dump(p.resolved()) == "name: large\nsize: 3");

  Params q = testing::params_from("{name: small, size: 7}");
  REQUIRE(reg.create(q, 0)->value == 7);
}

TEST_CASE("registering a name twice is an error", "[core]") {
  WidgetRegistry reg("widget");
  reg.add(widget("small"));
  REQUIRE_THROWS_WITH(reg.add(widget("small")), Contains("widget 'small' is already registered"));
  REQUIRE(reg.entries().size() == 1);
  REQUIRE_THROWS_AS(reg.add(widget("")), std::invalid_argument);
  auto reserved = widget("odd");
  reserved.params.push_back({"name", "x", "clashes with the dispatch key"});
  REQUIRE_THROWS_WITH(reg.add(reserved), Contains("reserved key 'name'"));
}

TEST_CASE("an unknown name lists the known ones and suggests the closest", "[core]") {
  WidgetRegistry reg("widget");
  reg.add(widget("small"));
  reg.add(widget("large"));
  Params p = testing::params_from("{name: smal}", "thing");
  try {
    reg.create(p, 0);
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    REQUIRE_THAT(msg, Contains("test.yaml:1:8: thing.name names an unknown widget 'smal'"));
    REQUIRE_THAT(msg, Contains("did you mean 'small'?"));
    REQUIRE_THAT(msg, Contains("known widgets: small, large"));
  }
}

TEST_CASE("an empty registry hints at the missing registration call", "[core]") {
  WidgetRegistry reg("widget");
  Params p = testing::params_from("{name: small}");
  REQUIRE_THROWS_WITH(reg.create(p, 0), Contains("no widgets are registered"));
}

TEST_CASE("unknown option keys of an entry are errors naming the known keys", "[core]") {
  WidgetRegistry reg("widget");
  reg.add(widget("small"));
  Params p = testing::params_from("{name: small, sise: 2}", "w");
  REQUIRE_THROWS_WITH(reg.create(p, 0),
                      Contains("w.sise is not a known key (did you mean 'size'?); known keys: size"));
}

TEST_CASE("every built-in component constructs from its defaults and rejects unknown keys",
          "[core]") {
  const Registries reg = builtin_registries();
  REQUIRE(!reg.initializers.entries().empty());
  // Required keys get a valid value; everything else takes its default.
  auto spec_for = [](const std::string& name, const std::vector<ParamSpec>& params) {
    std::string yaml = "{name: " + name;
    for (const auto& p : params) {
      if (p.required() && p.name == "rank") yaml += ", rank: 2";
    }
    return yaml;
  };
  for (const auto& e : reg.initializers.entries()) {
    // Entries that need files, a base or other parameters are covered in tests/init/zoo_test.cpp.
    bool needs_more = false;
    for (const auto& p : e.params) needs_more = needs_more || (p.required() && p.name != "rank");
    if (needs_more || e.name == "io_aligned_low_rank" || e.name == "activity_aligned_low_rank" ||
        e.name == "teacher_aligned") {
      continue;
    }
    INFO("initializer " << e.name);
    Params ok = testing::params_from(spec_for(e.name, e.params) + "}");
    const auto init = reg.initializers.create(ok, init::InitTarget{"W", 6, 5});
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
    const std::map<std::string, torch::Tensor> none;
    const torch::Tensor w = init->make(init::InitInputs{gen, none});
    REQUIRE(w.sizes() == torch::IntArrayRef({6, 5}));
    REQUIRE(w.scalar_type() == torch::kDouble);
    REQUIRE(w.device().is_cpu());
    Params bad = testing::params_from(spec_for(e.name, e.params) + ", bogus_key: 1}");
    REQUIRE_THROWS_AS(reg.initializers.create(bad, init::InitTarget{"W", 6, 5}), ConfigError);
  }
  for (const auto& e : reg.tasks.entries()) {
    INFO("task " << e.name);
    Params ok = testing::params_from("{name: " + e.name + "}");
    REQUIRE(reg.tasks.create(ok)->steps() > 0);
    Params bad = testing::params_from("{name: " + e.name + ", bogus_key: 1}");
    REQUIRE_THROWS_AS(reg.tasks.create(bad), ConfigError);
  }
  for (const auto& e : reg.optimizers.entries()) {
    INFO("optimizer " << e.name);
    Params ok = testing::params_from("{name: " + e.name + "}");
    REQUIRE(reg.optimizers.create(ok) != nullptr);
    Params bad = testing::params_from("{name: " + e.name + ", bogus_key: 1}");
    REQUIRE_THROWS_AS(reg.optimizers.create(bad), ConfigError);
  }
  for (const auto& e : reg.models.entries()) {
    INFO("model " << e.name);
    Params ok = testing::params_from("{name: " + e.name + ", hidden_size: 7}");
    const auto builder = reg.models.create(ok, models::TaskShape{3, 3, 100});
    const auto model = builder->build(3);
    REQUIRE(model->members() == 3);
    for (const auto& info : builder->parameters()) {
      // Every parameter has a role and, in a pack of 3, a leading member axis.
      REQUIRE_FALSE(info.role.empty());
      std::vector<int64_t> packed = info.shape;
      packed.insert(packed.begin(), 3);
      REQUIRE(model->weight(info.name).sizes() == torch::IntArrayRef(packed));
    }
    Params bad = testing::params_from("{name: " + e.name + ", bogus_key: 1}");
    REQUIRE_THROWS_AS(reg.models.create(bad, models::TaskShape{3, 3, 100}), ConfigError);
  }
}
