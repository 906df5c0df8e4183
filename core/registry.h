// richlazy/core/registry.h: named, documented factories of one kind of component.
// Entries are registered explicitly by functions such as register_builtin_initializers();
// there is no static self-registration (the linker silently drops such objects from static
// libraries). A registry is a value: pass it around, copy it, add your own entries.
#pragma once

#include <richlazy/core/config_error.h>
#include <richlazy/core/params.h>

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace richlazy {

/// A registry of factories that build `Product`s from validated options plus `Args...`
/// (the context a component needs, e.g. the shape of the matrix an initializer fills).
///
/// ```
/// InitializerRegistry reg("initializer");
/// reg.add({"orthogonal", "orthogonal matrix scaled by gain",
///          {{"gain", "1.0", "scale of the matrix"}},
///          [](Params& p, const InitTarget& t) { return std::make_unique<Orthogonal>(p, t); }});
/// ```
template <class Product, class... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Product>(Params&, Args...)>;

  /// One registered component: a name, a one-line description, its declared keys and a
  /// factory. The factory reads its keys from Params and throws ConfigError on bad values.
  struct Entry {
    std::string name;
    std::string description;
    std::vector<ParamSpec> params;
    Factory factory;
  };

  /// Options that every entry of a registry takes, handled by the registry itself rather
  /// than by each entry's factory, so that no entry (built-in or written outside richlazy)
  /// can miss them: the initializers' `norm` is one (init/initializer.h).
  struct CommonOptions {
    /// Adds the common keys to an entry's declared keys when it is registered. An entry that
    /// declares one of them itself keeps its declaration (and so sets its own default).
    std::function<std::vector<ParamSpec>(std::vector<ParamSpec>)> declare;
    /// Applies the common options to what the entry's factory built, reading them from the
    /// same options (after the factory, before unknown keys are checked).
    std::function<std::unique_ptr<Product>(Params&, std::unique_ptr<Product>, Args...)> apply;
  };

  /// `kind` names the component in messages ("initializer", "task", ...).
  explicit Registry(std::string kind, CommonOptions common = {})
      : kind_(std::move(kind)), common_(std::move(common)) {}

  const std::string& kind() const { return kind_; }

  /// Adds an entry, with the registry's common options added to its declared keys. Throws
  /// std::invalid_argument when the name is empty, already taken or the factory is missing,
  /// or when a declared key is named "name" (reserved).
  void add(Entry entry) {
    if (entry.name.empty()) throw std::invalid_argument(kind_ + " registered with an empty name");
    if (!entry.factory) {
      throw std::invalid_argument(fmt::format("{} '{}' has no factory", kind_, entry.name));
    }
    if (find(entry.name)) {
      throw std::invalid_argument(
          fmt::format("{} '{}' is already registered", kind_, entry.name));
    }
    for (const auto& p : entry.params) {
      if (p.name == "name") {
        throw std::invalid_argument(
            fmt::format("{} '{}' declares the reserved key 'name'", kind_, entry.name));
      }
    }
    if (common_.declare) entry.params = common_.declare(std::move(entry.params));
    entries_.push_back(std::move(entry));
  }

  /// Removes the entry called `name`; false when there is none. For hosts that let users
  /// register components interactively and register them again (the Python module).
  bool remove(const std::string& name) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->name == name) {
        entries_.erase(it);
        return true;
      }
    }
    return false;
  }

  /// The entry called `name`, or nullptr.
  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  /// Names in registration order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }

  const std::vector<Entry>& entries() const { return entries_; }

  /// Marks `old_name` as a name an entry used to have: a config that uses it gets an error
  /// saying `why` (which name to use now, and what changed) instead of "unknown". Throws
  /// std::invalid_argument when `old_name` is registered.
  void retire(const std::string& old_name, std::string why) {
    if (find(old_name)) {
      throw std::invalid_argument(fmt::format("{} '{}' is registered and cannot be retired", kind_, old_name));
    }
    retired_.emplace_back(old_name, std::move(why));
  }

  /// "unknown task 'x'; known tasks: a, b" (with a hint when the registry is empty).
  std::string unknown_message(const std::string& name) const {
    for (const auto& [old_name, why] : retired_) {
      if (old_name == name) return fmt::format("names the retired {} '{}': {}", kind_, name, why);
    }
    if (entries_.empty()) {
      return fmt::format(
          "names an unknown {} '{}': no {}s are registered (did you remember to call the "
          "register_builtin_* functions, e.g. richlazy::builtin_registries()?)",
          kind_, name, kind_);
    }
    std::string msg = fmt::format("names an unknown {} '{}'", kind_, name);
    const std::string guess = closest_name(name, names());
    if (!guess.empty()) msg += fmt::format(" (did you mean '{}'?)", guess);
    return msg + fmt::format("; known {}s: {}", kind_, join_names(names()));
  }

  /// Builds the component a config section names with its `name:` key. The section's other
  /// keys are the entry's options (the common ones included, applied by the registry);
  /// unknown ones are errors. `section` is left holding the resolved options (defaults
  /// filled in).
  std::unique_ptr<Product> create(Params& section, Args... args) const {
    Params named = section.rebind({ParamSpec{"name", "", fmt::format("which {}", kind_)}});
    const std::string name = named.get_string("name");
    const Entry* e = find(name);
    if (!e) named.fail_bare("name", unknown_message(name));
    Params options = section.rebind(e->params);
    std::unique_ptr<Product> product = e->factory(options, args...);
    if (common_.apply) product = common_.apply(options, std::move(product), args...);
    options.finish();
    return product;
  }

 private:
  std::string kind_;
  CommonOptions common_;
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::string>> retired_;  ///< (old name, what to use now)
};

}  // namespace richlazy
