// core/config_source.cpp: YAML loading, overrides and error locations.
#include <richlazy/core/config_source.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>

#include <fmt/format.h>

namespace richlazy {

void ConfigSource::set_origin(const std::string& path, std::string origin) {
  origins_[path] = std::move(origin);
}

std::string ConfigSource::origin_of(const std::string& path) const {
  // The longest overridden prefix of `path` wins: "init.W_rec" covers "init.W_rec.rank".
  std::string prefix = path;
  while (true) {
    auto it = origins_.find(prefix);
    if (it != origins_.end()) return it->second;
    const auto dot = prefix.rfind('.');
    if (dot == std::string::npos) return "";
    prefix.resize(dot);
  }
}

std::string ConfigSource::locate(const std::string& path, const YAML::Mark& mark) const {
  std::string origin = origin_of(path);
  if (!origin.empty()) return origin;
  if (mark.is_null() || mark.line < 0) return file_;
  return fmt::format("{}:{}:{}", file_, mark.line + 1, mark.column + 1);
}

void ConfigSource::fail(const std::string& path, const YAML::Mark& mark,
                        const std::string& rule) const {
  const std::string subject = path.empty() ? std::string("the config") : path;
  throw ConfigError(fmt::format("{}: {} {}{}", locate(path, mark), subject, rule,
                                context_.empty() ? "" : " " + context_));
}

namespace {
YAML::Node parse_or_throw(const std::string& text, const std::string& origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) throw ConfigError(fmt::format("{}: malformed YAML: {}", origin, e.msg));
    throw ConfigError(fmt::format("{}:{}:{}: malformed YAML: {}", origin, e.mark.line + 1,
                                  e.mark.column + 1, e.msg));
  }
}
}  // namespace

YAML::Node load_yaml_file(const std::string& path) { return parse_or_throw(read_file(path), path); }

YAML::Node load_yaml_text(const std::string& text, const std::string& origin) {
  return parse_or_throw(text, origin);
}

std::vector<std::string> split_config_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    if (!parts.empty() && parts.front() == "sweep") {
      parts.push_back(path.substr(start));
      break;
    }
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos
                                                                : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

void set_config_path(YAML::Node root, const std::string& path, const YAML::Node& value,
                     const std::string& origin) {
  const auto parts = split_config_path(path);
  for (const auto& p : parts) {
    if (p.empty()) throw ConfigError(fmt::format("{}: '{}' is not a valid key path", origin, path));
  }
  // yaml-cpp nodes are references: `a = b` would overwrite a's target, so walk with reset().
  YAML::Node node;
  node.reset(root);
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i ? "." : "") + parts[i];
    YAML::Node child = node[parts[i]];
    if (!child.IsDefined() || child.IsNull()) {
      child = YAML::Node(YAML::NodeType::Map);
    } else if (!child.IsMap()) {
      throw ConfigError(fmt::format("{}: cannot set {}: {} is not a map (it is {})", origin,
                                    path, walked, node_text(child)));
    }
    node.reset(child);
  }
  node[parts.back()] = value;
}

void fill_missing_keys(YAML::Node user, const YAML::Node& defaults) {
  if (!user.IsMap() || !defaults.IsMap()) return;
  for (const auto& kv : defaults) {
    const std::string key = kv.first.Scalar();
    if (!user[key].IsDefined()) user[key] = YAML::Clone(kv.second);
  }
}

std::string node_text(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

}  // namespace richlazy
