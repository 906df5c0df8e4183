// init/aligned.cpp: initializations aligned with the task.
// io_aligned_low_rank: a low-rank W_rec whose singular vectors point along the task's input
// and output subspaces (W_in's columns, W_out's rows), not along its solution;
// activity_aligned_low_rank, its data-aligned, task-agnostic control: singular vectors drawn
// inside the top principal subspace of the initial network's hidden activity; from_weights:
// the rank-r truncation of a trained matrix; solution_aligned: the top singular vectors of a
// run's learned change, optionally turned away from it by an angle; teacher_aligned: the
// aligned rank-1 W_1 of PAPER.md §7.
#include <richlazy/core/config_error.h>
#include <richlazy/core/random_matrix.h>
#include <richlazy/init/initializer.h>
#include <richlazy/init/matrix_file.h>
#include <richlazy/init/norm.h>
#include <richlazy/models/model.h>
#include <richlazy/tasks/task.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace richlazy::init {

namespace {

/// The orthonormal basis of the column space of `m`, ordered by singular value.
torch::Tensor column_basis(const torch::Tensor& m) {
  const auto [u, s, vh] = torch::linalg_svd(m, /*full_matrices=*/false);
  const int64_t k = (s > s.max() * 1e-10).sum().item<int64_t>();
  return u.slice(1, 0, k);
}

/// W = U diag(s) V^T: s the top-r singular values of the reference Gaussian draw (the same
/// values low_rank of rank r keeps, so the two differ only in their singular vectors),
/// rescaled to the draw's Frobenius norm; U's first columns span the readout directions
/// (W_out's rows) and V's the input directions (W_in's columns), in order of importance,
/// completed by random orthonormal directions when r exceeds them.
class IoAlignedLowRank final : public Initializer {
 public:
  IoAlignedLowRank(const InitTarget& t, int64_t rank, double gain, std::string input, std::string readout)
      : rows_(t.rows), cols_(t.cols), rank_(rank), gain_(gain), input_(std::move(input)), readout_(std::move(readout)) {}

  std::vector<std::string> depends_on() const override { return {input_, readout_}; }

  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor g = gaussian_draw(rows_, cols_, gain_, in.gen);
    const torch::Tensor s = torch::linalg_svdvals(g).slice(0, 0, rank_);
    const torch::Tensor out_dirs = column_basis(in.initialized.at(readout_).t());  // [rows, <= O]
    const torch::Tensor in_dirs = column_basis(in.initialized.at(input_));          // [cols, <= I]
    const torch::Tensor u = complete_basis(out_dirs.slice(1, 0, std::min<int64_t>(rank_, out_dirs.size(1))), rank_, in.gen);
    const torch::Tensor v = complete_basis(in_dirs.slice(1, 0, std::min<int64_t>(rank_, in_dirs.size(1))), rank_, in.gen);
    return scaled_to_norm(torch::matmul(u * s.unsqueeze(0), v.t()), g.norm().item<double>());
  }

 private:
  int64_t rows_, cols_, rank_;
  double gain_;
  std::string input_, readout_;
};

/// W = U diag(s) V^T with s the top-r singular values of the reference Gaussian draw (as
/// io_aligned_low_rank and low_rank), rescaled to the draw's Frobenius norm, and U, V
/// independent Haar-random r-frames inside the span of the top `pcs` principal components of
/// the initial hidden activity: the states of the network whose recurrent weight is that
/// full-rank draw (the other weights as initialized), on `trials` trials of the run's task
/// drawn from this initializer's stream, every step. The directions follow the data the
/// network sees and never its targets or readout: a data-aligned, task-agnostic control.
class ActivityAlignedLowRank final : public Initializer {
 public:
  ActivityAlignedLowRank(const InitTarget& t, int64_t rank, int64_t pcs, int64_t trials, double gain)
      : param_(t.param), rows_(t.rows), cols_(t.cols), rank_(rank), pcs_(pcs), trials_(trials), gain_(gain),
        task_(t.task), model_(t.model), others_(other_parameters(t)) {}

  std::vector<std::string> depends_on() const override { return others_; }

  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor g = gaussian_draw(rows_, cols_, gain_, in.gen);
    const torch::Tensor s = torch::linalg_svdvals(g).slice(0, 0, rank_);
    const torch::Tensor pcs = principal_subspace(g, in);  // [N, pcs]
    const torch::Tensor u = torch::matmul(pcs, complete_basis(torch::zeros({pcs_, 0}, torch::kDouble), rank_, in.gen));
    const torch::Tensor v = torch::matmul(pcs, complete_basis(torch::zeros({pcs_, 0}, torch::kDouble), rank_, in.gen));
    return scaled_to_norm(torch::matmul(u * s.unsqueeze(0), v.t()), g.norm().item<double>());
  }

 private:
  /// The top principal directions [N, pcs] of the hidden states of the network with
  /// recurrent weight `reference`.
  torch::Tensor principal_subspace(const torch::Tensor& reference, const InitInputs& in) const {
    torch::NoGradGuard no_grad;
    const std::shared_ptr<models::Model> net = initial_network(*model_, in, others_, task_);
    torch::Tensor w = net->weight(param_)[0];
    w.copy_(reference.reshape(w.sizes()));
    const tasks::TrialBatch trials = tasks::stack_members({task_->sample(trials_, in.gen)});
    const torch::Tensor h = net->forward(trials.inputs).hidden.to(torch::kDouble);  // [T, 1, B, N]
    torch::Tensor x = h.reshape({-1, h.size(-1)});
    x = x - x.mean(0, /*keepdim=*/true);
    const auto [unused_u, sv, vh] = torch::linalg_svd(x, /*full_matrices=*/false);
    (void)unused_u;
    if (sv.numel() < pcs_ || sv[pcs_ - 1].item<double>() <= sv[0].item<double>() * 1e-10) {
      throw std::runtime_error(fmt::format(
          "{}: the initial hidden activity spans fewer than pcs = {} directions; lower pcs or raise trials",
          param_, pcs_));
    }
    return vh.slice(0, 0, pcs_).t().contiguous();
  }

  std::string param_;
  int64_t rows_, cols_, rank_, pcs_, trials_;
  double gain_;
  const tasks::Task* task_;
  const models::ModelBuilder* model_;
  std::vector<std::string> others_;
};

/// The rank-r truncation of a saved matrix (optionally minus another one).
class FromWeights final : public Initializer {
 public:
  explicit FromWeights(torch::Tensor w) : w_(std::move(w)) {}
  torch::Tensor make(const InitInputs&) const override { return w_.clone(); }

 private:
  torch::Tensor w_;
};

/// A problem with a run's saved weights, and the option it is about ("run" or "rank").
struct LearnedChangeError : std::runtime_error {
  LearnedChangeError(std::string k, const std::string& what) : std::runtime_error(what), key(std::move(k)) {}
  std::string key;
};

/// Singular triplets U_r [rows, r], s_r [r], V_r [cols, r].
struct Triplets {
  torch::Tensor u, s, v;
};
/// The weight being initialized: its name (for messages) and shape.
struct Shape {
  std::string param;
  int64_t rows, cols;
};

/// The top-`rank` singular triplets of the learned change dW = W(final) - W(init) of weight
/// `param` saved in run folder `run`; throws LearnedChangeError with the message a config
/// error or a failed run gives.
Triplets learned_change_triplets(const std::string& run, const std::string& param, const Shape& t, int64_t rank) {
  namespace fs = std::filesystem;
  const std::string init_file = (fs::path(run) / "weights" / (param + "_init.npy")).string();
  const std::string final_file = (fs::path(run) / "weights" / (param + "_final.npy")).string();
  torch::Tensor dw;
  try {
    // One after the other: the order of a - b's operands is unspecified, and the
    // message for a missing file must not depend on the compiler.
    const torch::Tensor w_init = load_matrix(init_file, "npy");
    const torch::Tensor w_final = load_matrix(final_file, "npy");
    dw = w_final - w_init;
  } catch (const ConfigError& e) {
    throw LearnedChangeError("run", std::string("is not a finished run's folder with weights/") + param +
                                        "_{init,final}.npy: " + e.what());
  } catch (const std::exception& e) {  // two matrices of different shapes
    throw LearnedChangeError("run", fmt::format("holds {} and {} of different shapes", init_file, final_file));
  }
  if (dw.dim() != 2 || dw.size(0) != t.rows || dw.size(1) != t.cols) {
    throw LearnedChangeError("run", fmt::format("holds a {} change of shape {}, but {} is {} x {}", param,
                                                fmt::join(dw.sizes(), " x "), t.param, t.rows, t.cols));
  }
  if (!torch::isfinite(dw).all().item<bool>()) {
    throw LearnedChangeError("run", fmt::format("holds a {} change with entries that are not finite ({})", param,
                                                run));
  }
  const auto [u, sv, vh] = torch::linalg_svd(dw, /*full_matrices=*/false);
  if (!(sv[rank - 1].item<double>() > 1e-12 * sv[0].item<double>())) {
    throw LearnedChangeError("rank", fmt::format("is {}, but the learned change of {} in {} has numerical rank {}",
                                                 rank, param, run, (sv > 1e-12 * sv[0]).sum().item<int64_t>()));
  }
  return {u.slice(1, 0, rank).contiguous(), sv.slice(0, 0, rank).contiguous(), vh.slice(0, 0, rank).t().contiguous()};
}

/// W = U_r diag(s_r) V'^T from the top-r singular triplets of a run's learned change
/// dW = W(final) - W(init), with V' = V_r cos(theta) + Q sin(theta): the input-side vectors
/// rotated by theta into Haar-random directions Q orthogonal to them (V'^T V_r = cos(theta) I).
class SolutionAligned final : public Initializer {
 public:
  SolutionAligned(Triplets t, double angle_degrees)
      : u_(std::move(t.u)), s_(std::move(t.s)), v_(std::move(t.v)), angle_(angle_degrees) {}
  torch::Tensor make(const InitInputs& in) const override {
    torch::Tensor v = v_;
    if (angle_ > 0) {
      const int64_t r = v_.size(1);
      const torch::Tensor q = complete_basis(v_, 2 * r, in.gen).slice(1, r, 2 * r);
      const double a = angle_ * M_PI / 180.0;
      // Exact at the ends: cos(90 degrees) is not 0 in floating point.
      const double c = angle_ == 90 ? 0.0 : std::cos(a), sn = std::sin(a);
      v = v_ * c + q * sn;
    }
    return torch::matmul(u_ * s_.unsqueeze(0), v.t());
  }

 private:
  torch::Tensor u_, s_, v_;  // [rows, r], [r], [cols, r], float64
  double angle_;
};

/// The status in a run folder's summary.json ("ok", "diverged", ...), or "" when it has none.
std::string pilot_status(const std::string& run) {
  std::ifstream in(std::filesystem::path(run) / "summary.json");
  if (!in) return "";
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("status") && j["status"].is_string()) return j["status"].get<std::string>();
  return "unreadable (summary.json is not a run summary)";
}

/// solution_aligned with `run: pilot`: the learned change of this run's pilot run
/// (InitInputs::pilot_run), read when the run starts. A pilot that did not finish (status
/// other than ok in its summary.json) fails the run: its change is not a solution.
class SolutionAlignedFromPilot final : public Initializer {
 public:
  SolutionAlignedFromPilot(const InitTarget& t, std::string param, int64_t rank, double angle)
      : target_{t.param, t.rows, t.cols}, param_(std::move(param)), rank_(rank), angle_(angle) {}
  torch::Tensor make(const InitInputs& in) const override {
    if (in.pilot_run.empty()) {
      throw std::runtime_error(fmt::format("{} solution_aligned run: pilot needs the experiment's pilot runs; "
                                           "they exist only inside `richlazy run`",
                                           target_.param));
    }
    const std::string status = pilot_status(in.pilot_run);
    if (status != "ok") {
      throw std::runtime_error(fmt::format("{} solution_aligned: the pilot run {} {}", target_.param, in.pilot_run,
                                           status.empty() ? "has no summary.json (it did not finish)"
                                                          : "ended with status " + status));
    }
    try {
      return SolutionAligned(learned_change_triplets(in.pilot_run, param_, target_, rank_), angle_).make(in);
    } catch (const LearnedChangeError& e) {
      throw std::runtime_error(fmt::format("{} solution_aligned {} {}", target_.param, e.key, e.what()));
    }
  }

 private:
  Shape target_;
  std::string param_;
  int64_t rank_;
  double angle_;
};

/// W_1 = u beta_hat^T: a rank-1 first layer whose rows lie along the task's regression
/// vector beta = F^T w* (or, partially aligned, along the same vector built from the rank-d/2
/// truncation of F); u is a random unit vector.
class TeacherAligned final : public Initializer {
 public:
  TeacherAligned(int64_t rows, torch::Tensor direction) : rows_(rows), direction_(std::move(direction)) {}
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor u = torch::randn({rows_}, in.gen, torch::kDouble);
    return torch::outer(u / u.norm(), direction_);
  }

 private:
  int64_t rows_;
  torch::Tensor direction_;
};

/// The parameter an option names, or by default the model's parameter with `role`.
std::string other_parameter(Params& p, const InitTarget& t, const std::string& key, const std::string& role,
                            const std::string& fallback) {
  if (p.raw(key).IsNull()) {
    if (t.shapes.empty()) return fallback;  // outside a run (init describe --spec)
    const std::string name = t.parameter_with_role(role);
    if (name.empty()) {
      p.fail_bare(key, fmt::format("is not set and the model has no {} weight to default to; its "
                                   "parameters: {}",
                                   role, t.describe_parameters()));
    }
    if (name == t.param) {
      p.fail_bare(key, fmt::format("is not set, and the model's {} weight is {} itself; name the {} weights "
                                   "(one of {})",
                                   role, t.param, key, t.describe_parameters()));
    }
    p.set_resolved(key, YAML::Node(name));
    return name;
  }
  const std::string name = p.get_string(key);
  if (!t.shapes.empty() && !t.shapes.count(name)) {
    p.fail(key, "must name a parameter of the model (" + t.describe_parameters() + ")");
  }
  if (name == t.param) p.fail(key, "must name another parameter than " + t.param + " itself");
  return name;
}
}  // namespace

void register_aligned(InitializerRegistry& registry) {
  registry.add(
      {"io_aligned_low_rank",
       "low-rank W_rec aligned with the task's input and output subspaces (not its solution): "
       "singular vectors along the readout (W_out rows) and input (W_in columns) directions, the "
       "singular values of low_rank of the same rank",
       with_norm_options({{"rank", "", "rank r, an integer in [1, min(rows, cols)]"},
                          {"gain", "1.25", "gain of the Gaussian draw whose singular values are kept"},
                          {"input", "null", "the input weights (their columns are the input directions); "
                                            "default: the model's parameter with role input"},
                          {"readout", "null", "the readout weights (their rows are the readout directions); "
                                              "default: the model's parameter with role readout"}},
                         "none"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         const int64_t rank = p.get_int("rank", 1, std::min(t.rows, t.cols));
         const double gain = p.get_double_above("gain", 0.0);
         const std::string input = other_parameter(p, t, "input", models::roles::kInput, "W_in");
         const std::string readout = other_parameter(p, t, "readout", models::roles::kReadout, "W_out");
         if (!t.shapes.empty()) {
           for (const auto& [key, name] : {std::pair{"input", input}, std::pair{"readout", readout}}) {
             if (t.shapes.at(name).size() != 2) p.fail(key, "must name a weight matrix, not a vector");
           }
           if (t.shapes.at(input).at(0) != t.cols) {
             p.fail("input", fmt::format("must have {} rows (the columns of {}), it has {}", t.cols, t.param,
                                         t.shapes.at(input).at(0)));
           }
           if (t.shapes.at(readout).at(1) != t.rows) {
             p.fail("readout", fmt::format("must have {} columns (the rows of {}), it has {}", t.rows,
                                           t.param, t.shapes.at(readout).at(1)));
           }
         }
         return std::make_unique<IoAlignedLowRank>(t, rank, gain, input, readout);
       }});
  registry.retire("aligned_low_rank",
                  "it is now io_aligned_low_rank (same construction): its directions are the task's input "
                  "and output subspaces, not its solution; for W_rec(0) along the solution use "
                  "solution_aligned, and for its data-aligned, task-agnostic control activity_aligned_low_rank");
  registry.add(
      {"activity_aligned_low_rank",
       "data-aligned, task-agnostic low-rank W_rec: singular vectors drawn at random inside the top "
       "principal subspace of the initial network's hidden activity on the task's trials (never its "
       "targets or readout), the singular values of low_rank of the same rank",
       with_norm_options(
           {{"rank", "", "rank r, an integer in [1, min(rows, cols)]"},
            {"pcs", "null", "dimension of the principal subspace the directions are drawn in, >= rank "
                            "(default: max(2 rank, 10), at most the hidden size)"},
            {"trials", "64", "trials of the run's task whose hidden states (every step) give the subspace"},
            {"gain", "1.25", "gain of the Gaussian draw: its singular values are kept, and as the recurrent "
                             "weight of the network whose activity is measured"}},
           "none"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         const int64_t rank = p.get_int("rank", 1, std::min(t.rows, t.cols));
         const int64_t n = std::min(t.rows, t.cols);
         int64_t pcs = std::min<int64_t>(n, std::max<int64_t>(2 * rank, 10));
         if (!p.raw("pcs").IsNull()) pcs = p.get_int("pcs", rank, n);
         const int64_t trials = p.get_int("trials", 1, 100000);
         const double gain = p.get_double_above("gain", 0.0);
         if (t.shapes.empty() || !t.task || !t.model) {
           p.fail_bare("name", "activity_aligned_low_rank simulates the run's network on its task; describe it "
                               "with --config, not --spec");
         }
         if (t.rows != t.cols) {
           p.fail_bare("name", fmt::format("activity_aligned_low_rank needs a square recurrent weight; {} is {} x {}",
                                           t.param, t.rows, t.cols));
         }
         return std::make_unique<ActivityAlignedLowRank>(t, rank, pcs, trials, gain);
       }});
  registry.add(
      {"from_weights",
       "the rank-r truncation of a matrix saved by an earlier run (e.g. W_rec_final.npy, minus "
       "W_rec_init.npy): aligned with the task by construction",
       with_norm_options({{"file", "", ".npy file of the matrix; relative to the config file"},
                          {"subtract", "null", "optional .npy file subtracted from it"},
                          {"rank", "null", "keep the top r singular triplets (default: all)"}},
                         "auto"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         torch::Tensor w;
         try {
           w = load_matrix(config_path(p, "file"), "npy");
           const std::string minus = config_path(p, "subtract");
           if (!minus.empty()) {
             const torch::Tensor m = load_matrix(minus, "npy");
             if (m.sizes() != w.sizes()) p.fail_bare("subtract", "holds a matrix of another shape than file");
             w = w - m;
           }
         } catch (const ConfigError& e) {
           p.fail_bare("file", std::string("cannot be used: ") + e.what());
         }
         if (w.size(0) != t.rows || w.size(1) != t.cols) {
           p.fail_bare("file", fmt::format("holds a {} x {} matrix, but {} is {} x {}", w.size(0), w.size(1),
                                           t.param, t.rows, t.cols));
         }
         if (!p.raw("rank").IsNull()) w = truncate_rank(w, p.get_int("rank", 1, std::min(t.rows, t.cols)));
         return std::make_unique<FromWeights>(w);
       }});
  registry.add(
      {"solution_aligned",
       "the top-r singular vectors of a finished run's learned change dW = W(final) - W(init), with "
       "their signs; `angle` rotates the input-side vectors away from that solution (90: random input "
       "directions, the same singular values); scaled by norm (auto: low_rank's scale; none: dW's own)",
       with_norm_options({{"run", "", "a finished run's folder (runs/<id>): its weights/<param>_init.npy and "
                                      "_final.npy; relative to the config file; or pilot: this run's pilot run (the "
                                      "experiment's pilot: section)"},
                          {"param", "null", "the weight whose change is used; default: the one initialized"},
                          {"rank", "", "rank r, an integer in [1, min(rows, cols)]"},
                          {"angle", "0", "degrees in [0, 90] by which the input-side singular vectors turn "
                                         "into random directions orthogonal to them (needs 2 r <= cols when > 0)"}},
                         "auto"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         const bool from_pilot = p.raw("run").IsScalar() && p.raw("run").Scalar() == "pilot";
         if (from_pilot && !t.pilot) {
           p.fail("run", "is pilot, but the experiment config has no pilot: section (see configs/aligned_rnn.yaml)");
         }
         const std::string run = from_pilot ? "" : config_path(p, "run");
         const std::string param = p.raw("param").IsNull() ? t.param : p.get_string("param");
         const int64_t rank = p.get_int("rank", 1, std::min(t.rows, t.cols));
         const double angle = p.get_double("angle", 0.0, 90.0);
         if (angle > 0 && 2 * rank > t.cols) {
           p.fail("angle", fmt::format("> 0 needs 2 x rank <= {} (the columns of {}), and the rank is {}", t.cols,
                                       t.param, rank));
         }
         // The pilot's weights do not exist when the config is validated: they are read when
         // the run starts, and a problem with them fails that run.
         if (from_pilot) return std::make_unique<SolutionAlignedFromPilot>(t, param, rank, angle);
         try {
           return std::make_unique<SolutionAligned>(learned_change_triplets(run, param, Shape{t.param, t.rows, t.cols}, rank),
                                                    angle);
         } catch (const LearnedChangeError& e) {
           p.fail_bare(e.key, e.what());
         }
       }});
  registry.add(
      {"teacher_aligned",
       "for linear2 on teacher_student: the aligned rank-1 W_1 of PAPER.md section 7 (rows along "
       "beta = F^T w*), or partially aligned (beta from the rank-d/2 truncation of F)",
       with_norm_options({{"partial", "false", "build beta from the rank-d/2 truncation of F"},
                          {"gain", "0.1", "gain g of the reference norm g * sqrt(rows) (linear2's small scale)"}},
                         "auto"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         const std::optional<tasks::LinearTeacher> teacher =
             t.task ? t.task->linear_teacher() : std::nullopt;
         if (!teacher) {
           p.fail_bare("name", "teacher_aligned needs a task with a linear teacher (teacher_student)" +
                                   (t.task ? "; " + t.task->name() + " has none" : std::string()));
         }
         const int64_t dim = teacher->beta.size(0);
         if (t.cols != dim) {
           p.fail_bare("name", fmt::format("teacher_aligned fills a matrix with {} columns (the task's "
                                           "dimension); {} has {}", dim, t.param, t.cols));
         }
         torch::Tensor beta = teacher->beta;
         if (p.get_bool("partial")) {
           const torch::Tensor f = truncate_rank(teacher->features, dim / 2);
           beta = torch::matmul(f.t(), teacher->teacher);
         }
         return std::make_unique<TeacherAligned>(t.rows, beta / beta.norm());
       }});
}

}  // namespace richlazy::init
