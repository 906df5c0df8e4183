// python/module.cpp: richlazy._core, the native half of the Python module (pybind11).
// richlazy/__init__.py is the half users call; this file binds the framework's commands
// (run, eval, sample, describe, list), a saved network, and components written in Python.
//
// Threads: `run` releases the GIL while it trains (packs train on worker threads), and every
// call into Python from C++ (a Python initializer or task) takes it again. Python objects
// that C++ components keep are held through PyRef, whose last owner takes the GIL to let go.
#include <richlazy/apps/commands.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/config_source.h>
#include <richlazy/core/seeding.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/metrics/probe.h>
#include <richlazy/train/run_config.h>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace richlazy;

namespace {

// ---- the registries this process uses ---------------------------------------------------

/// Built-in components plus those registered from Python. Never destroyed: the Python
/// callables it holds must not be released after the interpreter has gone.
Registries& registries() {
  static auto* r = new Registries(builtin_registries());
  return *r;
}
/// A copy of the registries for one call that releases the GIL: registering or removing a
/// component from another Python thread meanwhile changes the shared ones, not this copy
/// (copying it touches no Python object: PyRef copies without the GIL). Call with the GIL held.
Registries snapshot() { return registries(); }

/// Names registered from Python (they may be registered again, replacing the old entry).
std::set<std::string>& python_names(const std::string& kind) {
  static auto* names = new std::map<std::string, std::set<std::string>>();
  return (*names)[kind];
}

// ---- Python objects held by C++ ---------------------------------------------------------

/// A Python object owned from C++: copies share it without touching Python's reference count
/// (which needs the GIL), and the last owner releases it holding the GIL.
class PyRef {
 public:
  PyRef() = default;
  explicit PyRef(py::object o)
      : p_(new py::object(std::move(o)), [](py::object* q) {
          if (!Py_IsInitialized()) return;  // the interpreter has gone: leak it
          py::gil_scoped_acquire gil;
          delete q;
        }) {}
  const py::object& get() const { return *p_; }

 private:
  std::shared_ptr<py::object> p_;
};

/// "ValueError: the message (at my_module.py:12)": a Python exception in one line, with the
/// innermost frame of its traceback. Call with the GIL held.
std::string exception_line(py::error_already_set& e) {
  std::string type = "exception", message, where;
  try {
    type = py::str(e.type().attr("__name__")).cast<std::string>();
    message = py::str(e.value()).cast<std::string>();
    py::object tb = e.trace();
    // No traceback when the call itself failed (a TypeError for missing arguments).
    while (tb && !tb.is_none() && !tb.attr("tb_next").is_none()) tb = tb.attr("tb_next");
    if (tb && !tb.is_none()) {
      const std::string file = py::str(tb.attr("tb_frame").attr("f_code").attr("co_filename")).cast<std::string>();
      where = fmt::format(" (at {}:{})", std::filesystem::path(file).filename().string(),
                          tb.attr("tb_lineno").cast<int>());
    }
  } catch (const std::exception&) {
  }
  message = message.substr(0, message.find('\n'));
  return message.empty() ? type + where : fmt::format("{}: {}{}", type, message, where);
}

// ---- Python values <-> YAML config values -----------------------------------------------

/// The name of a Python value's type (through the C API: pybind11's get_type() is deprecated
/// in the newer copy that PyPI's torch bundles, and its replacement is missing from 2.10).
std::string type_name(py::handle o) { return Py_TYPE(o.ptr())->tp_name; }

/// A Python value as a config value: None, bool, int, float, str, os.PathLike, dicts with
/// string keys, lists and tuples, and anything with .tolist() (NumPy arrays and scalars).
YAML::Node to_yaml(py::handle o, const std::string& where) {
  if (o.is_none()) return YAML::Node(YAML::NodeType::Null);
  if (py::isinstance<py::bool_>(o)) return YAML::Node(std::string(o.cast<bool>() ? "true" : "false"));
  if (py::isinstance<py::int_>(o)) return YAML::Node(py::str(o).cast<std::string>());
  if (py::isinstance<py::float_>(o)) {
    const double v = o.cast<double>();
    if (std::isnan(v)) return YAML::Node(std::string(".nan"));
    if (std::isinf(v)) return YAML::Node(std::string(v > 0 ? ".inf" : "-.inf"));
    return YAML::Node(py::repr(o).cast<std::string>());  // the shortest text that reads back exactly
  }
  if (py::isinstance<py::str>(o)) return YAML::Node(o.cast<std::string>());
  if (py::isinstance<py::dict>(o)) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& kv : o.cast<py::dict>()) {
      if (!py::isinstance<py::str>(kv.first)) {
        throw py::type_error(fmt::format("{}: keys must be strings, got {}", where.empty() ? "config" : where,
                                         py::repr(kv.first).cast<std::string>()));
      }
      const std::string key = kv.first.cast<std::string>();
      map[key] = to_yaml(kv.second, where.empty() ? key : where + "." + key);
    }
    return map;
  }
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    YAML::Node seq(YAML::NodeType::Sequence);
    std::size_t i = 0;
    for (const auto& item : o) seq.push_back(to_yaml(item, fmt::format("{}[{}]", where, i++)));
    return seq;
  }
  if (py::hasattr(o, "tolist")) return to_yaml(o.attr("tolist")(), where);
  if (py::hasattr(o, "__fspath__")) return YAML::Node(py::str(o.attr("__fspath__")()).cast<std::string>());
  throw py::type_error(fmt::format("{}: a value of type {} cannot be a config value (use numbers, strings, lists and dicts)",
                                   where.empty() ? "config" : where,
                                   type_name(o)));
}

/// A config value as YAML flow text ("[1, 2]", "{name: gaussian}").
std::string yaml_flow(const YAML::Node& node) {
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << node;
  return e.c_str();
}

/// A config value as a Python value: plain scalars become int, float or bool where they read
/// as one, quoted ones stay strings.
py::object to_python(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return py::none();
  if (n.IsSequence()) {
    py::list out;
    for (const auto& item : n) out.append(to_python(item));
    return py::object(std::move(out));
  }
  if (n.IsMap()) {
    py::dict out;
    for (const auto& kv : n) out[py::str(kv.first.Scalar())] = to_python(kv.second);
    return py::object(std::move(out));
  }
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return py::str(s);  // quoted in the file
  if (s == "true" || s == "True" || s == "TRUE") return py::bool_(true);
  if (s == "false" || s == "False" || s == "FALSE") return py::bool_(false);
  if (!s.empty()) {
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (*end == '\0' && errno == 0) return py::int_(i);
    if (s == ".nan" || s == ".NaN" || s == ".NAN") return py::float_(std::nan(""));
    if (s == ".inf" || s == "+.inf" || s == ".Inf") return py::float_(HUGE_VAL);
    if (s == "-.inf" || s == "-.Inf") return py::float_(-HUGE_VAL);
    const double d = std::strtod(s.c_str(), &end);
    if (*end == '\0' && s.find_first_of("0123456789") != std::string::npos) return py::float_(d);
  }
  return py::str(s);
}

// ---- tensors <-> NumPy arrays -----------------------------------------------------------

template <class T>
py::array copy_to_numpy(const torch::Tensor& t) {
  py::array_t<T> a(t.sizes().vec());
  if (t.numel() > 0) std::memcpy(a.mutable_data(), t.data_ptr<T>(), sizeof(T) * static_cast<std::size_t>(t.numel()));
  return py::array(std::move(a));
}

/// A copy of `t` as a NumPy array of the same type (float32, float64, int64, bool; others as float64).
py::array to_numpy(torch::Tensor t) {
  t = t.detach().to(torch::kCPU).contiguous();
  switch (t.scalar_type()) {
    case torch::kFloat: return copy_to_numpy<float>(t);
    case torch::kDouble: return copy_to_numpy<double>(t);
    case torch::kLong: return copy_to_numpy<int64_t>(t);
    case torch::kBool: return copy_to_numpy<bool>(t);
    default: return copy_to_numpy<double>(t.to(torch::kDouble).contiguous());
  }
}

/// A NumPy array (or anything NumPy converts) as a float tensor of `dtype`, copied; nullopt
/// when it is not an array of numbers.
std::optional<torch::Tensor> float_tensor(py::handle obj, torch::ScalarType dtype) {
  if (obj.is_none()) return std::nullopt;
  if (py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().kind() == 'c') {
    return std::nullopt;  // complex: its imaginary part would be dropped
  }
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a) return std::nullopt;
  const std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  return torch::from_blob(const_cast<double*>(a.data()), shape, torch::kDouble).to(dtype).clone();
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::vector<std::string> parts;
  for (const int64_t d : shape) parts.push_back(std::to_string(d));
  return "(" + join_names(parts, ", ") + (shape.size() == 1 ? ",)" : ")");
}


py::dict batch_dict(const tasks::TrialBatch& b) {
  py::dict d;
  d["inputs"] = to_numpy(b.inputs);
  d["targets"] = to_numpy(b.targets);
  d["mask"] = to_numpy(b.mask);
  py::dict vars;
  for (const auto& [name, value] : b.trial_vars) vars[py::str(name)] = to_numpy(value);
  d["trial_vars"] = vars;
  return d;
}

py::dict task_info(const tasks::Task& task) {
  py::dict d;
  d["name"] = task.name();
  d["input_size"] = task.input_size();
  d["output_size"] = task.output_size();
  d["steps"] = task.steps();
  d["dt_ms"] = task.dt_ms();
  d["decision"] = py::make_tuple(task.decision().begin, task.decision().end);
  d["input_names"] = task.input_names();
  d["output_names"] = task.output_names();
  d["loss"] = task.loss() == tasks::LossKind::cross_entropy ? "cross_entropy" : "mse";
  return d;
}

// ---- components written in Python -------------------------------------------------------

/// One declared option of a Python component: its name and the Python type its value must
/// have ("int", "float", "bool", "str" or "any": as read).
struct PyParam {
  std::string name, kind;
};

/// The validated options as the callback's keyword arguments, made once when the component
/// is built (GIL held) and kept through a PyRef (released holding the GIL).
PyRef read_params(Params& p, const std::vector<PyParam>& declared) {
  py::dict kw;
  for (const auto& d : declared) {
    py::object v;
    if (d.kind == "int") v = py::int_(p.get_int(d.name));
    else if (d.kind == "float") v = py::float_(p.get_double(d.name));
    else if (d.kind == "bool") v = py::bool_(p.get_bool(d.name));
    else if (d.kind == "str") v = py::str(p.get_string(d.name));
    else v = to_python(p.raw(d.name));
    kw[py::str(d.name)] = v;
  }
  return PyRef(std::move(kw));
}

/// The keyword arguments read_params made (GIL held).
py::dict kwargs(const PyRef& kw) { return py::reinterpret_borrow<py::dict>(kw.get()); }

/// A seed for a Python callback, drawn from the component's own named stream: the same run
/// gives the same seeds, and so the same values from a callback that uses only it. In
/// [0, 2^32): what numpy.random.seed, RandomState and gym's env.seed accept.
int64_t draw_seed(at::Generator& gen) {
  return torch::randint(0, int64_t{1} << 32, {1}, gen, torch::TensorOptions().dtype(torch::kLong)).item<int64_t>();
}

/// Declared options from Python: (name, default, doc), where the default is a value, or a
/// type (int, float, bool, str, list, dict, object) for an option without default.
std::pair<std::vector<ParamSpec>, std::vector<PyParam>> declare_params(const std::string& what, py::list params) {
  std::vector<ParamSpec> specs;
  std::vector<PyParam> declared;
  py::module_ builtins = py::module_::import("builtins");
  for (const auto& item : params) {
    const auto t = item.cast<py::tuple>();
    const std::string name = t[0].cast<std::string>();
    py::object deflt = t[1];
    const std::string doc = t[2].cast<std::string>();
    if (name.empty() || name == "name") throw py::value_error(fmt::format("{}: an option cannot be called '{}'", what, name));
    if (name == "norm" && what.rfind("initializer", 0) == 0) {
      throw py::value_error(fmt::format("{}: 'norm' is the option every initializer has (the norm the matrix is "
                                        "rescaled to); choose another name",
                                        what));
    }
    std::string kind = "any", default_yaml;
    if (py::isinstance<py::type>(deflt)) {  // required, of this type
      if (deflt.is(builtins.attr("bool"))) kind = "bool";
      else if (deflt.is(builtins.attr("int"))) kind = "int";
      else if (deflt.is(builtins.attr("float"))) kind = "float";
      else if (deflt.is(builtins.attr("str"))) kind = "str";
    } else {
      if (py::isinstance<py::bool_>(deflt)) kind = "bool";
      else if (py::isinstance<py::int_>(deflt)) kind = "int";
      else if (py::isinstance<py::float_>(deflt)) kind = "float";
      else if (py::isinstance<py::str>(deflt)) kind = "str";
      if (kind == "str") {  // quoted, so that the text reads back as this string
        YAML::Emitter e;
        e << YAML::DoubleQuoted << deflt.cast<std::string>();
        default_yaml = e.c_str();
      } else {
        default_yaml = yaml_flow(to_yaml(deflt, what + " option " + name));
      }
    }
    specs.push_back({name, default_yaml, doc.empty() ? std::string("declared in Python") : doc});
    declared.push_back({name, kind});
  }
  return {specs, declared};
}

class PyInitializer final : public init::Initializer {
 public:
  PyInitializer(std::string name, PyRef fn, const init::InitTarget& t, PyRef kwargs)
      : name_(std::move(name)), fn_(std::move(fn)), param_(t.param), rows_(t.rows), cols_(t.cols),
        kwargs_(std::move(kwargs)) {}

  torch::Tensor make(const init::InitInputs& in) const override {
    const int64_t seed = draw_seed(in.gen);
    py::gil_scoped_acquire gil;
    const std::string who = fmt::format("initializer '{}' (Python) for {}", name_, param_);
    py::object result;
    try {
      result = fn_.get()(py::make_tuple(rows_, cols_), seed, **kwargs(kwargs_));
    } catch (py::error_already_set& e) {
      throw std::runtime_error(fmt::format("{} raised {}", who, exception_line(e)));
    }
    const std::optional<torch::Tensor> value = float_tensor(result, torch::kDouble);
    if (!value) {
      throw std::runtime_error(fmt::format("{} returned a {}, not an array of numbers of shape ({}, {})", who,
                                           type_name(result), rows_, cols_));
    }
    const std::vector<int64_t> shape = value->sizes().vec();
    const bool vector_ok = cols_ == 1 && shape == std::vector<int64_t>{rows_};
    if (shape != std::vector<int64_t>{rows_, cols_} && !vector_ok) {
      throw std::runtime_error(
          fmt::format("{} returned shape {}, expected ({}, {})", who, shape_text(shape), rows_, cols_));
    }
    return value->reshape({rows_, cols_});
  }

 private:
  std::string name_;
  PyRef fn_;
  std::string param_;
  int64_t rows_, cols_;
  PyRef kwargs_;
};

/// What a Python task declares when it is registered.
struct PyTaskShape {
  int64_t inputs = 0, outputs = 0, steps = 0, batch_size = 32;
  double dt_ms = 100.0;
  tasks::DecisionWindow decision;
  tasks::LossKind loss = tasks::LossKind::cross_entropy;
  std::vector<std::string> input_names, output_names;
};

class PyTask final : public tasks::Task {
 public:
  PyTask(std::string name, PyRef fn, PyTaskShape shape, PyRef kwargs)
      : name_(std::move(name)), fn_(std::move(fn)), s_(std::move(shape)), kwargs_(std::move(kwargs)) {}

  std::string name() const override { return name_; }
  int64_t input_size() const override { return s_.inputs; }
  int64_t output_size() const override { return s_.outputs; }
  int64_t steps() const override { return s_.steps; }
  double dt_ms() const override { return s_.dt_ms; }
  tasks::DecisionWindow decision() const override { return s_.decision; }
  std::vector<std::string> input_names() const override { return s_.input_names; }
  std::vector<std::string> output_names() const override { return s_.output_names; }
  tasks::LossKind loss() const override { return s_.loss; }
  int64_t default_batch_size() const override { return s_.batch_size; }

  tasks::TrialBatch sample(int64_t batch, at::Generator& gen) const override {
    const int64_t seed = draw_seed(gen);
    py::gil_scoped_acquire gil;
    const std::string who = fmt::format("task '{}' (Python)", name_);
    py::object result;
    try {
      result = fn_.get()(batch, seed, **kwargs(kwargs_));
    } catch (py::error_already_set& e) {
      throw std::runtime_error(fmt::format("{} raised {}", who, exception_line(e)));
    }
    py::object inputs, targets, mask;
    std::vector<std::pair<std::string, py::object>> extra;
    if (py::isinstance<py::dict>(result)) {
      for (const auto& kv : result.cast<py::dict>()) {
        const std::string key = py::str(kv.first).cast<std::string>();
        if (key == "inputs") inputs = py::reinterpret_borrow<py::object>(kv.second);
        else if (key == "targets" || key == "labels") targets = py::reinterpret_borrow<py::object>(kv.second);
        else if (key == "mask") mask = py::reinterpret_borrow<py::object>(kv.second);
        else extra.emplace_back(key, py::reinterpret_borrow<py::object>(kv.second));
      }
    } else if ((py::isinstance<py::tuple>(result) || py::isinstance<py::list>(result)) &&
               (py::len(result) == 2 || py::len(result) == 3)) {
      inputs = result[py::int_(0)];
      targets = result[py::int_(1)];
      if (py::len(result) == 3) mask = result[py::int_(2)];
    } else {
      throw std::runtime_error(fmt::format("{} returned a {}: expected (inputs, labels, mask) or a dict with "
                                           "inputs, labels (or targets) and mask",
                                           who, type_name(result)));
    }
    if (!inputs || !targets) {
      throw std::runtime_error(fmt::format("{} returned no {}", who, !inputs ? "inputs" : "labels"));
    }
    const int64_t T = s_.steps;
    tasks::TrialBatch b;
    b.inputs = checked(inputs, who, "inputs", {T, batch, s_.inputs}, torch::kFloat);
    const bool classes = s_.loss == tasks::LossKind::cross_entropy;
    if (classes) {
      const torch::Tensor labels = checked(targets, who, "labels", {T, batch}, torch::kDouble);
      if (!labels.eq(labels.round()).all().item<bool>() || labels.min().item<double>() < 0 ||
          labels.max().item<double>() >= static_cast<double>(s_.outputs)) {
        throw std::runtime_error(fmt::format("{} returned labels that are not class indices in 0..{} (found {} to {})",
                                             who, s_.outputs - 1, labels.min().item<double>(),
                                             labels.max().item<double>()));
      }
      b.targets = labels.to(torch::kLong);
    } else {
      b.targets = checked(targets, who, "targets", {T, batch, s_.outputs}, torch::kFloat);
    }
    b.mask = mask && !mask.is_none() ? checked(mask, who, "mask", {T, batch}, torch::kFloat)
                                     : torch::ones({T, batch}, torch::kFloat);
    if (b.mask.lt(0).any().item<bool>()) throw std::runtime_error(who + " returned a mask with negative entries");
    if (!b.mask.gt(0).any().item<bool>()) {
      throw std::runtime_error(who + " returned a mask that is zero everywhere: the loss would score no step");
    }
    for (const auto& [key, value] : extra) {  // per-trial variables, e.g. ground_truth
      const std::optional<torch::Tensor> v = float_tensor(value, torch::kDouble);
      if (!v || v->dim() != 1 || v->size(0) != batch) {
        throw std::runtime_error(fmt::format("{} returned '{}' ({}): besides inputs, labels and mask, a task returns "
                                             "per-trial variables, arrays of shape ({},)",
                                             who, key, v ? "shape " + shape_text(v->sizes().vec()) : type_name(value),
                                             batch));
      }
      b.trial_vars[key] = *v;
    }
    return b;
  }

 private:
  static torch::Tensor checked(py::handle obj, const std::string& who, const std::string& what,
                               const std::vector<int64_t>& shape, torch::ScalarType dtype) {
    const std::optional<torch::Tensor> t = float_tensor(obj, dtype);
    if (!t) {
      throw std::runtime_error(fmt::format("{}: its {} are a {}, not an array of real numbers", who, what, type_name(obj)));
    }
    if (t->sizes().vec() != shape) {
      throw std::runtime_error(fmt::format("{}: its {} array has shape {}, expected {} (time-major: steps, trials{})", who,
                                           what, shape_text(t->sizes().vec()), shape_text(shape),
                                           shape.size() == 3 ? ", channels" : ""));
    }
    if (!torch::isfinite(*t).all().item<bool>()) {
      throw std::runtime_error(fmt::format("{}: its {} array has entries that are not finite", who, what));
    }
    return *t;
  }

  std::string name_;
  PyRef fn_;
  PyTaskShape s_;
  PyRef kwargs_;
};

std::vector<std::string> names_or_count(py::handle o, const std::string& what, const std::string& prefix) {
  if (py::isinstance<py::int_>(o) && !py::isinstance<py::bool_>(o)) {
    const int64_t n = o.cast<int64_t>();
    if (n < 1 || n > 100000) throw py::value_error(fmt::format("{}: must be between 1 and 100000, got {}", what, n));
    std::vector<std::string> names;
    for (int64_t i = 0; i < n; ++i) names.push_back(prefix + std::to_string(i));
    return names;
  }
  std::vector<std::string> names;
  try {
    names = o.cast<std::vector<std::string>>();
  } catch (const py::cast_error&) {
    throw py::type_error(fmt::format("{}: expected a count or a list of names, got {}", what, type_name(o)));
  }
  if (names.empty()) throw py::value_error(what + ": expected at least one name");
  return names;
}

template <class R>
void remove_python_entry(R& registry, const std::string& kind, const std::string& name) {
  if (registry.find(name) && !python_names(kind).count(name)) {
    throw py::value_error(fmt::format("{} '{}' is built into richlazy; choose another name", kind, name));
  }
  registry.remove(name);
}

void register_initializer(const std::string& name, py::function fn, py::list params, const std::string& description) {
  const auto [specs, declared] = declare_params("initializer '" + name + "'", params);
  auto& reg = registries().initializers;
  remove_python_entry(reg, "initializer", name);
  PyRef ref(std::move(fn));
  reg.add({name, description.empty() ? "(written in Python)" : description, specs,
           [name, ref, declared = declared](Params& p, const init::InitTarget& t) -> std::unique_ptr<init::Initializer> {
             py::gil_scoped_acquire gil;  // the options become Python objects here
             return std::make_unique<PyInitializer>(name, ref, t, read_params(p, declared));
           }});
  python_names("initializer").insert(name);
}

void register_task(const std::string& name, py::function fn, py::object inputs, py::object outputs, int64_t steps,
                   py::object decision, double dt_ms, const std::string& loss, int64_t batch_size, py::list params,
                   const std::string& description) {
  const std::string what = "task '" + name + "'";
  PyTaskShape s;
  if (steps < 1 || steps > 1000000) throw py::value_error(fmt::format("{}: steps must be in [1, 1000000], got {}", what, steps));
  s.steps = steps;
  if (loss == "cross_entropy") s.loss = tasks::LossKind::cross_entropy;
  else if (loss == "mse") s.loss = tasks::LossKind::mean_squared_error;
  else throw py::value_error(fmt::format("{}: loss must be 'cross_entropy' or 'mse', got '{}'", what, loss));
  s.input_names = names_or_count(inputs, what + ": inputs", "in");
  s.output_names = names_or_count(outputs, what + ": outputs", s.loss == tasks::LossKind::cross_entropy ? "class" : "out");
  s.inputs = static_cast<int64_t>(s.input_names.size());
  s.outputs = static_cast<int64_t>(s.output_names.size());
  if (!(dt_ms > 0) || !std::isfinite(dt_ms)) throw py::value_error(fmt::format("{}: dt_ms must be > 0, got {}", what, dt_ms));
  s.dt_ms = dt_ms;
  if (batch_size < 1) throw py::value_error(fmt::format("{}: batch_size must be >= 1, got {}", what, batch_size));
  s.batch_size = batch_size;
  if (decision.is_none()) {
    s.decision = {0, steps};
  } else {
    const auto d = decision.cast<std::pair<int64_t, int64_t>>();
    if (d.first < 0 || d.first >= d.second || d.second > steps) {
      throw py::value_error(fmt::format("{}: decision must be steps (begin, end) with 0 <= begin < end <= steps = {}, "
                                        "got ({}, {})",
                                        what, steps, d.first, d.second));
    }
    s.decision = {d.first, d.second};
  }
  const auto [specs, declared] = declare_params(what, params);
  auto& reg = registries().tasks;
  remove_python_entry(reg, "task", name);
  PyRef ref(std::move(fn));
  reg.add({name, description.empty() ? "(written in Python)" : description, specs,
           [name, ref, s, declared = declared](Params& p) -> std::unique_ptr<tasks::Task> {
             py::gil_scoped_acquire gil;
             return std::make_unique<PyTask>(name, ref, s, read_params(p, declared));
           }});
  python_names("task").insert(name);
}

// ---- the framework's commands ------------------------------------------------------------

std::vector<apps::TaskOption> task_options(py::dict options, const std::string& call) {
  std::vector<apps::TaskOption> out;
  for (const auto& kv : options) {
    const std::string key = py::str(kv.first).cast<std::string>();
    out.push_back({key, to_yaml(kv.second, key), fmt::format("{}({}={})", call, key, py::repr(kv.second).cast<std::string>())});
  }
  return out;
}

py::tuple run(py::object config_path, py::object config_dict, std::vector<std::string> sets, std::string out_dir,
              int jobs, std::optional<std::string> pack, std::string device, int threads, bool quiet, bool overwrite,
              bool resume, bool report, bool dry_run) {
  if (threads < 1 || threads > 256) throw py::value_error(fmt::format("threads: must be in [1, 256], got {}", threads));
  if (jobs < 0 || jobs > 256) throw py::value_error(fmt::format("jobs: must be in [0, 256] (0: automatic), got {}", jobs));
  if (overwrite && resume) {
    throw py::value_error("overwrite and resume cannot be combined (overwrite would delete the runs resume continues)");
  }
  train::ExperimentOptions o;
  if (!config_dict.is_none()) {
    o.config_tree = to_yaml(config_dict, "");
    o.config_path = "richlazy.run(config)";
  } else {
    o.config_path = py::str(config_path).cast<std::string>();
  }
  o.sets = std::move(sets);
  o.out_dir = std::move(out_dir);
  o.jobs = jobs;
  o.pack = std::move(pack);
  o.device = std::move(device);
  o.threads = threads;
  o.quiet = quiet;
  o.overwrite = overwrite;
  o.resume = resume;
  o.dry_run = dry_run;
  std::string dir;
  int status = 0;
  const Registries reg = snapshot();
  {
    py::gil_scoped_release release;
    status = apps::command_run(o, reg, !report, &dir, /*tables=*/!quiet);
  }
  return py::make_tuple(dir, status);
}

/// A run folder's saved network.
struct Network {
  apps::SavedNetwork saved;
  std::string run_dir, which;
};

/// `inputs` [T, B, n_in] (or [T, n_in]: one trial) as the model's [T, 1, B, n_in], and
/// whether it was one trial.
std::pair<torch::Tensor, bool> network_inputs(const Network& n, py::handle inputs) {
  const std::optional<torch::Tensor> x = float_tensor(inputs, torch::kFloat);
  const int64_t n_in = n.saved.config.task->input_size();
  if (!x || (x->dim() != 3 && x->dim() != 2) || x->size(-1) != n_in) {
    throw py::value_error(fmt::format("inputs: expected an array [steps, trials, {}] (time-major) or [steps, {}], got {}",
                                      n_in, n_in, x ? shape_text(x->sizes().vec()) : type_name(inputs)));
  }
  if (x->size(0) < 1) throw py::value_error("inputs: no steps");
  if (x->dim() == 2) return {x->unsqueeze(1).unsqueeze(1), true};
  return {x->unsqueeze(1), false};
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "richlazy's native module: use the richlazy package, which wraps it";
  static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      PyErr_SetString(config_error.ptr(), e.what());
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      PyErr_SetString(PyExc_RuntimeError, ("LibTorch: " + what.substr(0, what.find('\n'))).c_str());
    }
  });

  m.def("run", &run, py::arg("config_path"), py::arg("config_dict"), py::arg("sets"), py::arg("out"),
        py::arg("jobs"), py::arg("pack"), py::arg("device"), py::arg("threads"), py::arg("quiet"),
        py::arg("overwrite"), py::arg("resume"), py::arg("report"), py::arg("dry_run"));

  m.def("report", [](const std::string& dir, const std::string& x, std::vector<std::string> metrics,
                     std::vector<std::string> formats) {
    apps::ReportArgs a;
    a.experiment_dir = dir;
    a.x = x;
    a.metrics = std::move(metrics);
    if (!formats.empty()) a.formats = std::move(formats);
    py::gil_scoped_release release;
    return apps::command_report(a);
  });

  m.def("gather", [](const std::string& dir) {
    py::gil_scoped_release release;
    return apps::command_gather(dir, true);
  });

  m.def("sample", [](const std::string& task, int64_t trials, int64_t seed, py::dict options) {
    if (trials < 1 || trials > 10000000) throw py::value_error(fmt::format("trials: must be in [1, 10000000], got {}", trials));
    if (seed < 0) throw py::value_error(fmt::format("seed: must be >= 0, got {}", seed));
    const std::unique_ptr<tasks::Task> t = apps::make_task(task, task_options(options, "richlazy.sample"), snapshot());
    at::Generator gen = make_generator(static_cast<uint64_t>(seed));
    tasks::TrialBatch b;
    {
      py::gil_scoped_release release;  // a Python task takes it back
      b = t->sample(trials, gen);
    }
    py::dict d = batch_dict(b);
    d["info"] = task_info(*t);
    return d;
  });

  m.def("describe", [](py::object spec, int64_t size, int64_t seed, const std::string& param) {
    if (size < 0 || size > 20000) throw py::value_error(fmt::format("size: must be in [1, 20000] (or None), got {}", size));
    if (seed < 0) throw py::value_error(fmt::format("seed: must be >= 0, got {}", seed));
    apps::InitDescribeArgs a;
    if (py::isinstance<py::str>(spec)) a.spec = spec.cast<std::string>();
    else a.spec_tree = to_yaml(spec, "spec");
    a.spec_origin = "richlazy.describe(spec)";
    a.size = size;
    a.seed = seed;
    a.param = param;
    apps::InitDescription d;
    const Registries reg = snapshot();
    {
      py::gil_scoped_release release;
      d = apps::describe_initializer(a, reg);
    }
    py::object json = py::module_::import("json").attr("loads")(d.json.dump());
    json["param"] = d.param;
    json["matrix"] = to_numpy(d.matrix);
    return json;
  });

  m.def("list", [](const std::string& kind) {
    const Registries& r = registries();
    auto entries = [](const auto& registry) {
      py::list out;
      for (const auto& e : registry.entries()) {
        py::list params;
        for (const auto& p : e.params) {
          py::dict pd;
          pd["name"] = p.name;
          pd["default"] = p.required() ? py::object(py::none()) : to_python(YAML::Load(p.default_yaml));
          pd["required"] = p.required();
          pd["doc"] = p.doc;
          params.append(pd);
        }
        py::dict d;
        d["name"] = e.name;
        d["description"] = e.description;
        d["params"] = params;
        out.append(d);
      }
      return out;
    };
    if (kind == "initializers") return entries(r.initializers);
    if (kind == "tasks") return entries(r.tasks);
    if (kind == "models") return entries(r.models);
    if (kind == "metrics") return entries(r.metrics);
    if (kind == "optimizers") return entries(r.optimizers);
    throw py::value_error(fmt::format("kind: one of initializers, tasks, models, metrics, optimizers; got '{}'", kind));
  });

  m.def("eval", [](const std::string& run_dir, const std::string& which, const std::string& task, py::dict options,
                   int64_t trials, int64_t seed, const std::string& out) {
    apps::EvalArgs a;
    a.run_dir = run_dir;
    a.which = which;
    a.task = task;
    a.options = task_options(options, "richlazy.eval");
    a.trials = trials;
    a.seed = seed;
    apps::Evaluation ev;
    std::string written;
    const Registries reg = snapshot();
    {
      py::gil_scoped_release release;
      ev = apps::evaluate_network(a, reg);
      if (!out.empty()) {
        written = out == "default" ? apps::default_eval_dir(a, ev) : out;
        apps::write_evaluation(ev, written);
      }
    }
    py::dict d = py::module_::import("json").attr("loads")(ev.index.dump());
    d["arrays"] = batch_dict(ev.batch);
    d["arrays"]["logits"] = to_numpy(ev.logits);
    d["arrays"]["hidden"] = to_numpy(ev.hidden);
    d["text"] = ev.text;
    d["out"] = written.empty() ? py::object(py::none()) : py::str(written);
    return d;
  });

  m.def("register_initializer", &register_initializer, py::arg("name"), py::arg("fn"), py::arg("params"),
        py::arg("description"));
  m.def("register_task", &register_task, py::arg("name"), py::arg("fn"), py::arg("inputs"), py::arg("outputs"),
        py::arg("steps"), py::arg("decision"), py::arg("dt_ms"), py::arg("loss"), py::arg("batch_size"),
        py::arg("params"), py::arg("description"));
  m.def("unregister", [](std::string kind, const std::string& name) {
    if (kind == "initializers" || kind == "tasks") kind.pop_back();
    if (kind != "initializer" && kind != "task") {
      throw py::value_error(fmt::format("kind: 'initializer' or 'task', got '{}'", kind));
    }
    if (!python_names(kind).count(name)) {
      const bool builtin = kind == "initializer" ? registries().initializers.find(name) != nullptr
                                                 : registries().tasks.find(name) != nullptr;
      if (builtin) throw py::value_error(fmt::format("{} '{}' is built into richlazy", kind, name));
      return false;
    }
    python_names(kind).erase(name);
    return kind == "initializer" ? registries().initializers.remove(name) : registries().tasks.remove(name);
  });

  m.def("load_yaml", [](const std::string& path) { return to_python(load_yaml_file(path)); });
  m.def("yaml_text", [](py::object value) {
    if (py::isinstance<py::str>(value)) {  // quoted, so that "true" or "007" stays a string
      YAML::Emitter e;
      e << YAML::DoubleQuoted << value.cast<std::string>();
      return std::string(e.c_str());
    }
    return yaml_flow(to_yaml(value, "value"));
  });

  py::class_<Network>(m, "Network")
      .def(py::init([](const std::string& run_dir, const std::string& which, const std::string& task) {
             return Network{apps::load_saved_network(run_dir, which, task, {}, snapshot()), run_dir, which};
           }),
           py::arg("run_dir"), py::arg("which"), py::arg("task") = "")
      .def_readonly("run_dir", &Network::run_dir)
      .def_readonly("which", &Network::which)
      .def("weights", [](const Network& n) {
        py::dict out;
        for (const auto& p : n.saved.config.model->parameters()) {
          out[py::str(p.name)] = to_numpy(n.saved.model->weight(p.name)[0]);
        }
        return out;
      })
      .def("parameters", [](const Network& n) {
        py::list out;
        for (const auto& p : n.saved.config.model->parameters()) {
          py::dict d;
          d["name"] = p.name;
          d["shape"] = py::tuple(py::cast(p.shape));
          d["role"] = p.role;
          out.append(d);
        }
        return out;
      })
      .def("info", [](const Network& n) {
        py::dict d = task_info(*n.saved.config.task);
        d["hidden_size"] = n.saved.model->hidden_size();
        d["seed"] = n.saved.config.seed;
        d["config"] = to_python(n.saved.config.resolved);
        return d;
      })
      .def("simulate", [](const Network& n, py::handle inputs) {
        const auto [x, one_trial] = network_inputs(n, inputs);
        models::ModelOutput out;
        {
          py::gil_scoped_release release;
          torch::NoGradGuard no_grad;
          out = n.saved.model->forward(x);
        }
        torch::Tensor logits = out.logits.select(1, 0), hidden = out.hidden.select(1, 0);
        if (one_trial) {
          logits = logits.select(1, 0);
          hidden = hidden.select(1, 0);
        }
        return py::make_tuple(to_numpy(logits), to_numpy(hidden));
      })
      .def("tangent_kernel", [](const Network& n, py::handle inputs, const std::string& param, py::object steps) {
        const torch::Tensor x = network_inputs(n, inputs).first;
        if (x.size(2) == 0) throw py::value_error("inputs: no trials");
        const auto params = n.saved.config.model->parameters();
        std::string p = param;
        if (p.empty()) {
          const models::ParameterInfo* rec = models::find_role(params, models::roles::kRecurrent);
          p = rec ? rec->name : params.front().name;
        }
        if (!models::find_parameter(params, p)) {
          throw py::value_error(fmt::format("param: the network has no parameter '{}'; its parameters: {}", p,
                                            models::describe_parameters(params)));
        }
        std::vector<int64_t> s;
        if (steps.is_none()) {
          for (int64_t t = 0; t < x.size(0); ++t) s.push_back(t);
        } else {
          s = steps.cast<std::vector<int64_t>>();
          for (const int64_t t : s) {
            if (t < 0 || t >= x.size(0)) {
              throw py::value_error(fmt::format("steps: {} is not a step of inputs with {} steps", t, x.size(0)));
            }
          }
        }
        torch::Tensor k;
        {
          py::gil_scoped_release release;
          k = metrics::tangent_kernel(*n.saved.model, p, x, s)[0];
        }
        return to_numpy(k);
      }, py::arg("inputs"), py::arg("param"), py::arg("steps"))
      .def("probe_trials", [](const Network& n) {
        const train::RunConfig& rc = n.saved.config;
        const tasks::TrialBatch b =
            metrics::draw_member_trials(*rc.task, {rc.seed}, "probe", rc.train.probe_trials, torch::kCPU);
        tasks::TrialBatch one;
        one.inputs = b.inputs.select(1, 0);
        one.targets = b.targets.select(1, 0);
        one.mask = b.mask.select(1, 0);
        py::dict d = batch_dict(one);
        d["kernel_trials"] = rc.train.kernel_trials;
        return d;
      });
}
