// core/config_source.cpp: YAML loading, overrides and error locations.
#include <richlazy/core/config_source.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <map>
#include <optional>
#include <sstream>
#include <vector>

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
    // The parent of "a.b" is "a"; of "a.b[2]" it is "a.b".
    const auto cut = prefix.find_last_of(".[");
    if (cut == std::string::npos) return "";
    prefix.resize(cut);
  }
}

std::string ConfigSource::locate(const std::string& path, const YAML::Mark& mark) const {
  std::string origin = origin_of(path);
  if (!origin.empty()) return origin;
  if (!positions_ || mark.is_null() || mark.line < 0) return file_;
  return fmt::format("{}:{}:{}", file_, mark.line + 1, mark.column + 1);
}

void ConfigSource::fail(const std::string& path, const YAML::Mark& mark,
                        const std::string& rule) const {
  const std::string subject = path.empty() ? std::string("the config") : path;
  throw ConfigError(fmt::format("{}: {} {}{}", locate(path, mark), subject, rule,
                                context_.empty() ? "" : " " + context_));
}

namespace {
/// Finds a key written twice in one map (yaml-cpp keeps the first and drops the other
/// silently). Works on the parser's events, so its time is linear in the text: aliases are
/// events, not expanded copies.
class DuplicateKeyFinder : public YAML::EventHandler {
 public:
  explicit DuplicateKeyFinder(std::string origin) : origin_(std::move(origin)) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { key_or_value("~", mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { key_or_value("", mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    key_or_value(value, mark, true);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    frames_.push_back({false, true, {}});
  }
  void OnSequenceEnd() override { end_node(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    frames_.push_back({true, true, {}});
  }
  void OnMapEnd() override { end_node(); }

 private:
  struct Frame {
    bool is_map;
    bool expect_key;  // in a map: the next node is a key
    std::map<std::string, YAML::Mark> keys;
  };

  void key_or_value(const std::string& text, const YAML::Mark& mark, bool comparable) {
    if (!frames_.empty() && frames_.back().is_map && frames_.back().expect_key && comparable) {
      auto [it, fresh] = frames_.back().keys.emplace(text, mark);
      if (!fresh) {
        const YAML::Mark& first = it->second;
        throw ConfigError(fmt::format(
            "{}:{}:{}: the key '{}' appears twice in one map, {}; remove one", origin_, mark.line + 1,
            mark.column + 1, text.size() > 60 ? text.substr(0, 60) + "..." : text,
            first.line == mark.line
                ? fmt::format("at columns {} and {} of line {}", first.column + 1, mark.column + 1, mark.line + 1)
                : fmt::format("at lines {} and {}", first.line + 1, mark.line + 1)));
      }
    }
    done();
  }
  void end_node() {
    frames_.pop_back();
    done();
  }
  // A node is complete: in a map, keys and values alternate.
  void done() {
    if (!frames_.empty() && frames_.back().is_map) frames_.back().expect_key = !frames_.back().expect_key;
  }

  std::string origin_;
  std::vector<Frame> frames_;
};

YAML::Node parse_or_throw(const std::string& text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    std::istringstream in(text);
    YAML::Parser parser(in);
    DuplicateKeyFinder finder(origin);
    // The first document only (the one YAML::Load returns): on some malformed texts (", b")
    // yaml-cpp's parser reports a new empty document forever.
    parser.HandleNextDocument(finder);
    return root;
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

namespace {
/// One component of a key path: a map key, then the list indices after it ("phases[1]").
struct PathPart {
  std::string key;
  std::vector<std::size_t> indices;
};

/// Parses "name", "name[2]" or "name[2][0]"; nullopt when malformed.
std::optional<PathPart> parse_part(const std::string& text) {
  const auto open = text.find('[');
  PathPart part{text.substr(0, open), {}};
  if (part.key.empty() || part.key.find(']') != std::string::npos) return std::nullopt;
  std::size_t i = open;
  while (i != std::string::npos && i < text.size()) {
    const auto close = text.find(']', i);
    if (text[i] != '[' || close == std::string::npos || close == i + 1 || close - i > 10) return std::nullopt;
    std::size_t index = 0;
    for (std::size_t k = i + 1; k < close; ++k) {
      if (text[k] < '0' || text[k] > '9') return std::nullopt;
      index = index * 10 + static_cast<std::size_t>(text[k] - '0');
    }
    part.indices.push_back(index);
    i = close + 1;
  }
  return part;
}
}  // namespace

void set_config_path(YAML::Node root, const std::string& path, const YAML::Node& value,
                     const std::string& origin) {
  std::vector<PathPart> parts;
  for (const auto& text : split_config_path(path)) {
    // A sweep key is one key, brackets and all ("sweep.train.phases[1].iterations").
    if (parts.size() == 1 && parts[0].key == "sweep" && parts[0].indices.empty() && !text.empty()) {
      parts.push_back({text, {}});
      continue;
    }
    auto part = parse_part(text);
    if (!part) throw ConfigError(fmt::format("{}: '{}' is not a valid key path", origin, path));
    parts.push_back(std::move(*part));
  }
  // yaml-cpp nodes are references: `a = b` would overwrite a's target, so walk with reset().
  // Maps on the way are created; lists must exist and hold the index (a list of defaults
  // cannot be made up).
  YAML::Node node;
  node.reset(root);
  std::string walked;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const PathPart& part = parts[i];
    const bool last = i + 1 == parts.size();
    walked += (i ? "." : "") + part.key;
    if (last && part.indices.empty()) break;
    YAML::Node child = node[part.key];
    for (std::size_t k = 0; k < part.indices.size(); ++k) {
      if (!child.IsSequence()) {
        throw ConfigError(fmt::format("{}: cannot set {}: {} is not a list (it is {})", origin, path, walked,
                                      node_text(child)));
      }
      const std::size_t index = part.indices[k];
      if (index >= child.size()) {
        throw ConfigError(fmt::format("{}: cannot set {}: {} has {} entr{}, numbered from 0", origin, path, walked,
                                      child.size(), child.size() == 1 ? "y" : "ies"));
      }
      walked += fmt::format("[{}]", index);
      if (last && k + 1 == part.indices.size()) {
        child[index] = value;
        return;
      }
      YAML::Node item = child[index];
      child.reset(item);
    }
    if (part.indices.empty() && (!child.IsDefined() || child.IsNull())) {
      child = YAML::Node(YAML::NodeType::Map);
    } else if (!child.IsMap()) {
      throw ConfigError(fmt::format("{}: cannot set {}: {} is not a map (it is {})", origin,
                                    path, walked, node_text(child)));
    }
    node.reset(child);
  }
  node[parts.back().key] = value;
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
