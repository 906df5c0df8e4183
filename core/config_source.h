// richlazy/core/config_source.h: where config values come from, for error messages.
// Loads YAML with readable errors, applies dotted-path overrides (--set, sweep values) and
// turns a dotted key path plus a yaml-cpp mark into "file:line:col" or the override's origin.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

namespace richlazy {

/// The origin of one config tree: the file it was read from, plus the origins of values
/// that were put into it afterwards (command-line overrides, sweep values).
class ConfigSource {
 public:
  explicit ConfigSource(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  /// Records that the value at dotted `path` (and everything below it) comes from `origin`,
  /// e.g. "--set train.iterations=abc" or "exp.yaml:14:28 (sweep)".
  void set_origin(const std::string& path, std::string origin);

  /// The origin recorded for `path` or its nearest overridden parent, or "" when the value
  /// comes from the file.
  std::string origin_of(const std::string& path) const;

  /// For a tree built in code rather than read from text (a Python dict), whose nodes carry
  /// no real positions: messages then name the source without line and column.
  void set_positions(bool positions) { positions_ = positions; }

  /// Extra words appended to every message, e.g. "(in run rank-1_seed-0 of the sweep)".
  void set_context(std::string context) { context_ = std::move(context); }

  /// "file:line:col" (1-based) for a value at `path` with yaml-cpp mark `mark`, or the
  /// recorded origin when `path` or one of its parents was overridden.
  std::string locate(const std::string& path, const YAML::Mark& mark) const;

  /// Throws ConfigError("<where>: <path> <rule><context>").
  [[noreturn]] void fail(const std::string& path, const YAML::Mark& mark,
                         const std::string& rule) const;

 private:
  std::string file_;
  std::string context_;
  bool positions_ = true;
  std::map<std::string, std::string> origins_;
};

/// Reads and parses a YAML file. Throws ConfigError naming the file when it is missing or
/// unreadable, and "file:line:col: malformed YAML: ..." when it does not parse.
YAML::Node load_yaml_file(const std::string& path);

/// Parses YAML text; `origin` names it in errors (e.g. "--set a.b=[1,2").
YAML::Node load_yaml_text(const std::string& text, const std::string& origin);

/// Splits "a.b.c" into {"a", "b", "c"}. Under the top-level key `sweep` the rest of the
/// path is one key ("sweep.init.W_rec.rank" -> {"sweep", "init.W_rec.rank"}), because
/// sweep keys are themselves dotted paths.
std::vector<std::string> split_config_path(const std::string& path);

/// Sets the value at dotted `path` in `root`, creating maps on the way. Throws ConfigError
/// (located by `origin`) when a parent on the path exists but is not a map.
void set_config_path(YAML::Node root, const std::string& path, const YAML::Node& value,
                     const std::string& origin);

/// Adds to the map `user` every key of the map `defaults` it does not have (shallow).
/// Lets `--set train.optimizer.lr=0.01` keep the default `name: sgd`.
void fill_missing_keys(YAML::Node user, const YAML::Node& defaults);

/// Short text of a node for messages: the scalar as written, or the node in flow style.
std::string node_text(const YAML::Node& node);

}  // namespace richlazy
