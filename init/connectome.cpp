// init/connectome.cpp: recurrent weights from a measured connectome.
#include <richlazy/core/config_error.h>
#include <richlazy/init/initializer.h>
#include <richlazy/init/matrix_file.h>
#include <richlazy/init/norm.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

namespace richlazy::init {

namespace {
/// The data matrix after orientation, transform and Dale signs, [post, pre], float64; and
/// how the network's neurons map onto it.
class Connectome final : public Initializer {
 public:
  Connectome(torch::Tensor data, int64_t size, std::string select, std::vector<int64_t> chosen)
      : data_(std::move(data)), size_(size), select_(std::move(select)), chosen_(std::move(chosen)) {}

  torch::Tensor make(const InitInputs& in) const override {
    const int64_t n_data = data_.size(0);
    if (size_ > n_data) {  // embed: the connectome in the first n_data units, the rest unconnected
      torch::Tensor w = torch::zeros({size_, size_}, torch::kDouble);
      w.slice(0, 0, n_data).slice(1, 0, n_data).copy_(data_);
      return w;
    }
    if (size_ == n_data) return data_.clone();
    torch::Tensor idx;
    if (select_ == "random") {
      idx = std::get<0>(torch::randperm(n_data, in.gen, torch::kLong).slice(0, 0, size_).sort());
    } else {
      idx = torch::tensor(chosen_, torch::kLong);
    }
    return data_.index_select(0, idx).index_select(1, idx);
  }

 private:
  torch::Tensor data_;
  int64_t size_;
  std::string select_;
  std::vector<int64_t> chosen_;  // for select: first / names
};

std::unique_ptr<Initializer> make_connectome(Params& p, const InitTarget& t) {
  const std::string file = config_path(p, "file");
  const std::string format = p.get_choice("format", {"auto", "npy", "csv", "edges"});
  const std::string names_file = config_path(p, "names_file");
  const std::vector<std::string> names = names_file.empty() ? std::vector<std::string>{} : load_names(names_file);
  torch::Tensor w;
  try {
    w = load_matrix(file, format, format == "edges" || format == "auto" ? names : std::vector<std::string>{});
  } catch (const ConfigError& e) {
    p.fail_bare("file", std::string("cannot be used: ") + e.what());
  }
  if (w.size(0) != w.size(1)) {
    p.fail_bare("file", fmt::format("{} holds a {} x {} matrix; a connectome must be square", file, w.size(0), w.size(1)));
  }
  const int64_t n_data = w.size(0);
  if (!names.empty() && static_cast<int64_t>(names.size()) != n_data) {
    p.fail_bare("names_file", fmt::format("lists {} names for the {} neurons of {}", names.size(), n_data, file));
  }
  if (p.get_choice("orientation", {"post_pre", "pre_post"}) == "pre_post") w = w.t().contiguous();
  const std::string transform = p.get_choice("transform", {"counts", "log1p", "binary"});
  if (transform == "log1p") w = torch::sign(w) * torch::log1p(w.abs());
  if (transform == "binary") w = w.ne(0).to(torch::kDouble);

  const std::string mask_file = config_path(p, "inhibitory_mask");
  if (!mask_file.empty()) {
    torch::Tensor mask;
    try {
      mask = load_vector(mask_file);
    } catch (const ConfigError& e) {
      p.fail_bare("inhibitory_mask", std::string("cannot be used: ") + e.what());
    }
    const torch::Tensor not_binary = mask.ne(0).logical_and(mask.ne(1));
    if (not_binary.any().item<bool>()) {
      const int64_t at = torch::nonzero(not_binary)[0][0].item<int64_t>();
      p.fail_bare("inhibitory_mask", fmt::format("{}: entry {} is {}; the mask holds 0 (excitatory) "
                                                 "or 1 (inhibitory) per neuron",
                                                 mask_file, at, format_number(mask[at].item<double>())));
    }
    if (mask.numel() != n_data) {
      p.fail_bare("inhibitory_mask", fmt::format("{} has {} entries for {} neurons", mask_file, mask.numel(), n_data));
    }
    // Dale's law: every outgoing weight of a neuron (a column, W[post, pre]) has its sign.
    const torch::Tensor sign = torch::where(mask.ne(0), -torch::ones_like(mask), torch::ones_like(mask));
    w = w.abs() * sign.unsqueeze(0);
  }

  if (t.rows != t.cols) {
    p.fail_bare("name", fmt::format("connectome builds square matrices; {} is {} x {}", t.param, t.rows, t.cols));
  }
  const std::string select = p.get_choice("select", {"none", "first", "random", "names"});
  const bool embed = p.get_bool("embed");
  std::vector<int64_t> chosen;
  if (t.rows < n_data) {
    if (select == "none") {
      p.fail_bare("select", fmt::format("is needed: the connectome has {} neurons but {} is {} x {}; set "
                                        "select: first | random | names",
                                        n_data, t.param, t.rows, t.cols));
    }
    if (select == "first") {
      for (int64_t i = 0; i < t.rows; ++i) chosen.push_back(i);
    }
    if (select == "names") {
      if (names.empty()) p.fail_bare("select", "names needs names_file");
      const std::vector<std::string> wanted = p.get_string_list("neurons");
      if (static_cast<int64_t>(wanted.size()) != t.rows) {
        p.fail_bare("neurons", fmt::format("lists {} neurons for a {} x {} matrix", wanted.size(), t.rows, t.cols));
      }
      for (const auto& n : wanted) {
        const auto it = std::find(names.begin(), names.end(), n);
        if (it == names.end()) p.fail_bare("neurons", "names '" + n + "', which is not in " + names_file);
        chosen.push_back(it - names.begin());
      }
    }
  } else if (t.rows > n_data && !embed) {
    p.fail_bare("embed", fmt::format("is needed: the connectome has {} neurons but {} is {} x {}; set "
                                     "embed: true to place it in the first {} units",
                                     n_data, t.param, t.rows, t.cols, n_data));
  }
  if (select != "names" && p.has("neurons")) p.fail_key("neurons", "applies only to select: names");
  return std::make_unique<Connectome>(w, t.rows, select, chosen);
}
}  // namespace

void register_connectome(InitializerRegistry& registry) {
  registry.add(
      {"connectome",
       "a measured connectome from .npy, dense CSV or edge-list CSV, with Dale signs, weight "
       "transforms and neuron selection",
       with_norm_options(
           {{"file", "", "the matrix: .npy, dense CSV or edge list 'pre,post,weight'; relative "
                         "paths are relative to the config file"},
            {"format", "auto", "auto | npy | csv | edges"},
            {"orientation", "post_pre", "post_pre (rows postsynaptic, W[post, pre]) | pre_post"},
            {"transform", "counts", "counts (as is) | log1p | binary"},
            {"inhibitory_mask", "null", "file of 0/1 per neuron (1 = inhibitory): Dale's law, "
                                        "every column of an inhibitory neuron negative"},
            {"names_file", "null", "neuron names in matrix order (for select: names, or edge lists by name)"},
            {"select", "none", "when the network is smaller: first | random (seeded) | names"},
            {"neurons", "null", "for select: names, the neuron names, one per unit"},
            {"embed", "false", "when the network is larger: put the connectome in the first units"}},
           "auto"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         return with_norm(p, t, make_connectome(p, t));
       }});
}

}  // namespace richlazy::init
