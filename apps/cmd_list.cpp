// apps/cmd_list.cpp: `richlazy list`.
#include <richlazy/apps/commands.h>

#include <richlazy/train/run_config.h>

#include <fmt/format.h>

#include <cstdio>

namespace richlazy::apps {

namespace {
std::string format_params(const std::vector<ParamSpec>& params, const std::string& indent) {
  std::string out;
  std::size_t width = 0;
  for (const auto& p : params) {
    width = std::max(width, p.name.size() + (p.required() ? 11 : p.default_yaml.size() + 3));
  }
  for (const auto& p : params) {
    const std::string lhs = p.required() ? p.name + " (required)" : p.name + " = " + p.default_yaml;
    out += fmt::format("{}{:<{}}  {}\n", indent, lhs, width, p.doc);
  }
  return out;
}

template <class R>
std::string format_registry(const R& registry, const std::string& title) {
  std::string out = title + "\n";
  for (const auto& e : registry.entries()) {
    out += fmt::format("  {}: {}\n", e.name, e.description);
    out += format_params(e.params, "      ");
  }
  return out;
}
}  // namespace

int command_list(const std::string& what, const Registries& reg) {
  std::string out;
  auto want = [&](const std::string& w) { return what.empty() || what == w; };
  if (want("tasks")) out += format_registry(reg.tasks, "tasks (task: {name: ..., ...})") + "\n";
  if (want("models")) out += format_registry(reg.models, "models (model: {name: ..., ...})") + "\n";
  if (want("initializers")) {
    out += format_registry(reg.initializers, "initializers (init: {<param>: {name: ..., ...}})") + "\n";
  }
  if (want("metrics")) out += format_registry(reg.metrics, "metrics (metrics: {names: [...]})") + "\n";
  if (want("optimizers")) {
    out += format_registry(reg.optimizers, "optimizers (train: {optimizer: {name: ..., ...}})") + "\n";
  }
  if (want("config")) {
    out += "config keys\n" + format_params(train::config_schema(), "  ");
    out += "  train:\n" + format_params(train::train_schema(), "    ");
    out += "  metrics:\n" + format_params(train::metrics_schema(), "    ");
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace richlazy::apps
