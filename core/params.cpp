// core/params.cpp: validated access to one config section.
#include <richlazy/core/params.h>

#include <richlazy/core/config_error.h>

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <stdexcept>

namespace richlazy {

Params::Params(YAML::Node node, std::string path, std::shared_ptr<const ConfigSource> source,
               std::vector<ParamSpec> specs)
    : path_(std::move(path)),
      source_(std::move(source)),
      specs_(std::move(specs)),
      read_(std::make_shared<std::set<std::string>>()),
      resolved_(YAML::NodeType::Map) {
  node_.reset(node);
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    source_->fail(path_, node_.Mark(), "must be a map of keys to values, got " + node_text(node_));
  }
}

Params Params::rebind(std::vector<ParamSpec> specs) const {
  Params p(node_, path_, source_, std::move(specs));
  p.read_ = read_;
  p.resolved_.reset(resolved_);
  p.fallback_mark_ = fallback_mark_;
  return p;
}

std::string Params::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const ParamSpec& Params::spec(const std::string& key) const {
  for (const auto& s : specs_) {
    if (s.name == key) return s;
  }
  throw std::logic_error("richlazy: key '" + key_path(key) + "' read but not declared");
}

bool Params::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined();
}

YAML::Mark Params::mark_of(const std::string& key) const {
  const YAML::Mark mark = has(key) ? node_[key].Mark() : node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  return mark.is_null() ? fallback_mark_ : mark;
}

void Params::fail(const std::string& key, const std::string& rule) const {
  std::string full = rule;
  if (has(key)) full += ", got " + node_text(node_[key]);
  source_->fail(key_path(key), mark_of(key), full);
}

void Params::fail_key(const std::string& key, const std::string& rule) const {
  YAML::Mark mark = mark_of(key);
  if (node_.IsMap()) {
    for (const auto& kv : node_) {
      if (kv.first.Scalar() == key) mark = kv.first.Mark();
    }
  }
  source_->fail(key_path(key), mark, rule);
}

void Params::fail_bare(const std::string& key, const std::string& rule) const {
  source_->fail(key_path(key), mark_of(key), rule);
}

namespace {
/// A fresh copy of a default's YAML: parsed once per text (planning a sweep of 100,000 runs
/// parsed the same few hundred defaults for every run), copied because callers modify it.
YAML::Node parsed_default(const std::string& text) {
  thread_local std::map<std::string, YAML::Node> cache;
  auto it = cache.find(text);
  if (it == cache.end()) it = cache.emplace(text, YAML::Load(text)).first;
  return YAML::Clone(it->second);
}
}  // namespace

YAML::Node Params::value(const std::string& key) {
  const ParamSpec& s = spec(key);
  read_->insert(key);
  YAML::Node v;
  if (has(key)) {
    v.reset(node_[key]);
  } else if (s.required()) {
    source_->fail(key_path(key), mark_of(key), "is required (" + s.doc + ")");
  } else {
    v = parsed_default(s.default_yaml);
  }
  resolved_[key] = v;
  return v;
}

YAML::Node Params::raw(const std::string& key) { return value(key); }

void Params::set_resolved(const std::string& key, const YAML::Node& v) {
  read_->insert(key);
  resolved_[key] = v;
}

namespace {
bool is_plain_scalar(const YAML::Node& n) { return n.IsDefined() && n.IsScalar(); }
}  // namespace

int64_t Params::get_int(const std::string& key, int64_t lo, int64_t hi) {
  const YAML::Node v = value(key);
  const bool bounded = lo != std::numeric_limits<int64_t>::min() ||
                       hi != std::numeric_limits<int64_t>::max();
  std::string rule = "must be an integer";
  if (lo != std::numeric_limits<int64_t>::min() && hi != std::numeric_limits<int64_t>::max()) {
    rule = fmt::format("must be an integer in [{}, {}]", lo, hi);
  } else if (lo != std::numeric_limits<int64_t>::min()) {
    rule = fmt::format("must be an integer >= {}", lo);
  } else if (bounded) {
    rule = fmt::format("must be an integer <= {}", hi);
  }
  int64_t out = 0;
  if (!is_plain_scalar(v) || !YAML::convert<int64_t>::decode(v, out)) fail(key, rule);
  if (out < lo || out > hi) fail(key, rule);
  return out;
}

namespace {
// Every real-valued option lies in float32's range: networks, tasks and optimizers compute in
// float32, where a larger value (an lr of 1e40, a norm of 1e308) becomes infinite later.
constexpr double kFloatMax = static_cast<double>(std::numeric_limits<float>::max());

bool decode_finite(const YAML::Node& v, double& out) {
  if (!v.IsDefined() || !v.IsScalar()) return false;
  if (!YAML::convert<double>::decode(v, out)) return false;
  return std::isfinite(out) && std::abs(out) <= kFloatMax;
}

// The rule to quote: a finite number beyond float32's range is told so.
std::string range_rule(const YAML::Node& v, std::string rule) {
  double d = 0;
  if (v.IsDefined() && v.IsScalar() && YAML::convert<double>::decode(v, d) && std::isfinite(d) &&
      std::abs(d) > kFloatMax) {
    return fmt::format("must lie within float32's range (|x| <= {:.6g})", kFloatMax);
  }
  return rule;
}
}  // namespace

double Params::get_double(const std::string& key, double lo, double hi) {
  const YAML::Node v = value(key);
  std::string rule = "must be a finite number";
  const bool has_lo = lo > -kFloatMax;
  const bool has_hi = hi < kFloatMax;
  if (has_lo && has_hi) {
    rule = fmt::format("must be a number in [{}, {}]", format_number(lo), format_number(hi));
  } else if (has_lo) {
    rule = fmt::format("must be a number >= {}", format_number(lo));
  } else if (has_hi) {
    rule = fmt::format("must be a number <= {}", format_number(hi));
  }
  double out = 0;
  if (!decode_finite(v, out) || out < lo || out > hi) fail(key, range_rule(v, rule));
  return out;
}

double Params::get_double_above(const std::string& key, double lo) {
  const YAML::Node v = value(key);
  double out = 0;
  if (!decode_finite(v, out) || !(out > lo)) {
    fail(key, range_rule(v, fmt::format("must be a number > {}", format_number(lo))));
  }
  return out;
}

bool Params::get_bool(const std::string& key) {
  const YAML::Node v = value(key);
  bool out = false;
  if (!is_plain_scalar(v) || !YAML::convert<bool>::decode(v, out)) {
    fail(key, "must be true or false");
  }
  return out;
}

std::string Params::get_string(const std::string& key) {
  const YAML::Node v = value(key);
  if (!is_plain_scalar(v)) fail(key, "must be a string");
  return v.Scalar();
}

std::string Params::get_choice(const std::string& key, const std::vector<std::string>& choices) {
  const YAML::Node v = value(key);
  const std::string rule = "must be one of " + join_names(choices);
  if (!is_plain_scalar(v)) fail(key, rule);
  for (const auto& c : choices) {
    if (c == v.Scalar()) return c;
  }
  fail(key, rule);
}

std::vector<double> Params::get_double_list(const std::string& key) {
  const YAML::Node v = value(key);
  const std::string rule = "must be a non-empty list of finite numbers";
  if (!v.IsSequence() || v.size() == 0) fail(key, rule);
  std::vector<double> out;
  for (const auto& item : v) {
    double d = 0;
    if (!decode_finite(item, d)) fail(key, range_rule(item, rule));
    out.push_back(d);
  }
  return out;
}

std::vector<std::string> Params::get_string_list(const std::string& key) {
  const YAML::Node v = value(key);
  const std::string rule = "must be a string or a non-empty list of strings";
  if (is_plain_scalar(v)) return {v.Scalar()};
  if (!v.IsSequence() || v.size() == 0) fail(key, rule);
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!is_plain_scalar(item)) fail(key, rule);
    out.push_back(item.Scalar());
  }
  return out;
}

Params Params::child(const std::string& key, std::vector<ParamSpec> specs) {
  YAML::Node v = value(key);
  // A section the user wrote keeps the default's other keys (e.g. `name: sgd` under
  // `train.optimizer` when only `lr` is given).
  if (has(key)) fill_missing_keys(v, YAML::Load(spec(key).default_yaml));
  Params c(v, key_path(key), source_, std::move(specs));
  resolved_[key] = c.resolved_;
  return c;
}

Params Params::child_undeclared(const std::string& key, std::vector<ParamSpec> specs) {
  read_->insert(key);
  YAML::Node v;
  if (has(key)) v.reset(node_[key]);
  Params c(v, key_path(key), source_, std::move(specs));
  resolved_[key] = c.resolved_;
  return c;
}

std::vector<std::string> Params::user_keys() const {
  std::vector<std::string> keys;
  if (!node_.IsMap()) return keys;
  for (const auto& kv : node_) keys.push_back(kv.first.Scalar());
  return keys;
}

void Params::finish() const {
  if (!node_.IsMap()) return;
  std::vector<std::string> known;
  for (const auto& s : specs_) known.push_back(s.name);
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (read_->count(key)) continue;
    std::string rule = "is not a known key";
    const std::string guess = closest_name(key, known);
    if (!guess.empty()) rule += fmt::format(" (did you mean '{}'?)", guess);
    rule += known.empty() ? "; this section takes no keys"
                          : "; known keys: " + join_names(known);
    fail_key(key, rule);
  }
}

std::string format_number(double v) {
  return fmt::format("{}", v);
}

}  // namespace richlazy
