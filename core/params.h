// richlazy/core/params.h: declared, validated options of one config section.
// Every configurable component (initializer, task, model, metric, optimizer, and the top
// level of a config) declares its keys as ParamSpecs and reads them through Params, which
// checks types and ranges, fills in defaults, rejects unknown keys and records the
// resolved values (what was run, defaults included).
#pragma once

#include <richlazy/core/config_source.h>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace richlazy {

/// One declared key of a config section.
struct ParamSpec {
  std::string name;          ///< key in the YAML map
  std::string default_yaml;  ///< the default as YAML text ("1.25", "[0, 6.4]"); "" = required
  std::string doc;           ///< one line, with the unit where there is one

  bool required() const { return default_yaml.empty(); }
};

/// The options of one config section: a YAML map, where it sits in the config (dotted
/// path) and its declared keys. Getters validate and throw ConfigError with
/// `file:line:col: path.key rule, got value`; finish() rejects keys nobody read.
///
/// Example (inside an initializer factory):
/// ```
/// const int64_t rank = p.get_int("rank", 1, target.cols);
/// const double gain = p.get_double_above("gain", 0.0);
/// ```
class Params {
 public:
  Params(YAML::Node node, std::string path, std::shared_ptr<const ConfigSource> source,
         std::vector<ParamSpec> specs);

  /// The same section with other declared keys (used when a `name:` picks a registry entry).
  Params rebind(std::vector<ParamSpec> specs) const;

  /// Where errors point when the section has no position of its own in the file (a section
  /// built from a shorthand, e.g. the metric `dw_rec` standing for `{name: dw_rec}`).
  void set_fallback_mark(const YAML::Mark& mark) { fallback_mark_ = mark; }

  const std::string& path() const { return path_; }
  /// The YAML map itself (shared with the config tree).
  YAML::Node node() const { return node_; }
  const ConfigSource& source() const { return *source_; }
  std::shared_ptr<const ConfigSource> source_ptr() const { return source_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }

  /// True when the user wrote `key` (as opposed to it taking its default).
  bool has(const std::string& key) const;

  /// Integer in [lo, hi].
  int64_t get_int(const std::string& key, int64_t lo = std::numeric_limits<int64_t>::min(),
                  int64_t hi = std::numeric_limits<int64_t>::max());
  /// Finite number in [lo, hi].
  double get_double(const std::string& key, double lo = -std::numeric_limits<double>::max(),
                    double hi = std::numeric_limits<double>::max());
  /// Finite number strictly greater than `lo`.
  double get_double_above(const std::string& key, double lo);
  bool get_bool(const std::string& key);
  std::string get_string(const std::string& key);
  /// A string that must be one of `choices`.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices);
  /// Non-empty list of finite numbers.
  std::vector<double> get_double_list(const std::string& key);
  /// A string or a non-empty list of strings (a single string is a list of one).
  std::vector<std::string> get_string_list(const std::string& key);

  /// Nested map under a declared key, with its own keys. When absent, the declared default
  /// map is used; when present, the default's keys the user left out are added (so a
  /// section that omits `name:` keeps the default component).
  Params child(const std::string& key, std::vector<ParamSpec> specs);
  /// Nested map under a key that is not declared in advance (e.g. a parameter name under
  /// `init:`). The caller validates the key itself.
  Params child_undeclared(const std::string& key, std::vector<ParamSpec> specs);

  /// The keys the user wrote, in file order.
  std::vector<std::string> user_keys() const;
  /// The raw node of a key (default when absent); marks the key as read.
  YAML::Node raw(const std::string& key);
  /// Marks a key as handled elsewhere: finish() accepts it, resolved() leaves it out.
  void skip(const std::string& key) { read_->insert(key); }
  /// Marks a key as read and records `value` as its resolved value.
  void set_resolved(const std::string& key, const YAML::Node& value);

  /// Throws ConfigError about `key` ("<where>: <path>.<key> <rule>, got <value>").
  [[noreturn]] void fail(const std::string& key, const std::string& rule) const;
  /// About the key itself (located at the key, not its value), e.g. for unknown names.
  [[noreturn]] void fail_key(const std::string& key, const std::string& rule) const;
  /// Same, without the ", got <value>" tail (for rules that already quote the value).
  [[noreturn]] void fail_bare(const std::string& key, const std::string& rule) const;
  void require(bool ok, const std::string& key, const std::string& rule) const {
    if (!ok) fail(key, rule);
  }

  /// Throws ConfigError for the first key the user wrote that no getter read.
  void finish() const;

  /// The section as it was run: every read key with its value, defaults included.
  YAML::Node resolved() const { return resolved_; }

  std::string key_path(const std::string& key) const;

 private:
  const ParamSpec& spec(const std::string& key) const;
  YAML::Node value(const std::string& key);  // user value or parsed default; records it
  YAML::Mark mark_of(const std::string& key) const;

  YAML::Node node_;
  std::string path_;
  std::shared_ptr<const ConfigSource> source_;
  std::vector<ParamSpec> specs_;
  std::shared_ptr<std::set<std::string>> read_;
  YAML::Node resolved_;
  YAML::Mark fallback_mark_ = YAML::Mark::null_mark();
};

/// Formats a double the way users write it: shortest text that reads back exactly.
std::string format_number(double v);

}  // namespace richlazy
