// init/structure.cpp: controls that keep part of another initializer's structure.
// shuffled keeps the entries and destroys the structure; column_shuffled keeps each
// presynaptic neuron's outgoing weights (so its sign and out-strength) and moves them to
// random targets; rewired keeps every neuron's in- and out-degree and outgoing weights
// (degree-preserving double-edge swaps); spectrum_matched keeps the singular values (so the
// effective rank) and destroys the rest; low_rank_of keeps the top singular triplets;
// outlier_removed takes away the dominant eigenvalue (or the mean). Comparing a matrix with
// its controls separates "low effective rank" from "any other structure" (e.g. in a connectome).
#include <richlazy/core/random_matrix.h>
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace richlazy::init {

namespace {
/// An initializer built on another one (`base: {...}`), drawing after it from the same stream.
class Wrapper : public Initializer {
 public:
  explicit Wrapper(std::unique_ptr<Initializer> base) : base_(std::move(base)) {}
  std::vector<std::string> depends_on() const override { return base_->depends_on(); }

 protected:
  torch::Tensor base(const InitInputs& in) const { return base_->make(in); }

 private:
  std::unique_ptr<Initializer> base_;
};

/// A uniformly random permutation of all entries of the base matrix.
class Shuffled final : public Wrapper {
 public:
  using Wrapper::Wrapper;
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = base(in);
    const torch::Tensor order = torch::randperm(w.numel(), in.gen, torch::kLong);
    return w.reshape({-1}).index_select(0, order).reshape(w.sizes());
  }
};

/// The base's singular values with Haar-random orthonormal singular vectors.
class SpectrumMatched final : public Wrapper {
 public:
  using Wrapper::Wrapper;
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = base(in);
    const torch::Tensor s = torch::linalg_svdvals(w);
    const int64_t k = s.size(0);
    const torch::Tensor u = random_orthogonal(w.size(0), in.gen).slice(1, 0, k);
    const torch::Tensor v = random_orthogonal(w.size(1), in.gen).slice(1, 0, k);
    return torch::matmul(u * s.unsqueeze(0), v.t());
  }
};

/// The base's top `rank` singular triplets, rescaled to the base's Frobenius norm.
class LowRankOf final : public Wrapper {
 public:
  LowRankOf(std::unique_ptr<Initializer> base, int64_t rank) : Wrapper(std::move(base)), rank_(rank) {}
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = base(in);
    return scaled_to_norm(truncate_rank(w, rank_), w.norm().item<double>());
  }

 private:
  int64_t rank_;
};

/// Each column's entries (a presynaptic neuron's outgoing weights: W is [post, pre]) in a
/// random order of their own: every column keeps its entries, so its sign and sum, and the
/// targets are random. In a square matrix the diagonal stays where it is (no new self-loops).
class ColumnShuffled final : public Wrapper {
 public:
  using Wrapper::Wrapper;
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = base(in).contiguous();
    const int64_t rows = w.size(0), cols = w.size(1);
    torch::Tensor out = w.clone();
    auto src = w.accessor<double, 2>();
    auto dst = out.accessor<double, 2>();
    for (int64_t j = 0; j < cols; ++j) {
      std::vector<int64_t> places;  // rows whose entry moves
      for (int64_t i = 0; i < rows; ++i) {
        if (rows != cols || i != j) places.push_back(i);
      }
      const int64_t n = static_cast<int64_t>(places.size());
      const torch::Tensor order = torch::randperm(n, in.gen, torch::kLong);
      auto o = order.accessor<int64_t, 1>();
      for (int64_t k = 0; k < n; ++k) dst[places[k]][j] = src[places[o[k]]][j];
    }
    return out;
  }
};

/// Degree-preserving rewiring (Maslov and Sneppen 2002) of the directed graph of the nonzero
/// entries: `swaps` x (number of edges) times, two edges a->b and c->d (weights travelling with
/// their presynaptic neuron) become a->d and c->b, unless that would make a self-loop or an
/// edge that exists. Every neuron keeps its in- and out-degree and its outgoing weights (so
/// its sign and out-strength); who connects to whom is randomized.
class Rewired final : public Wrapper {
 public:
  Rewired(std::unique_ptr<Initializer> base, double swaps) : Wrapper(std::move(base)), swaps_(swaps) {}
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = base(in).contiguous();
    const int64_t n = w.size(0);
    auto a = w.accessor<double, 2>();
    struct Edge {
      int64_t post, pre;
      double weight;
    };
    std::vector<Edge> edges;
    std::vector<char> present(static_cast<std::size_t>(n * n), 0);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        if (a[i][j] != 0) {
          edges.push_back({i, j, a[i][j]});
          present[static_cast<std::size_t>(i * n + j)] = 1;
        }
      }
    }
    const auto m = static_cast<int64_t>(edges.size());
    torch::Tensor out = torch::zeros_like(w);
    if (m >= 2) {
      const auto attempts = static_cast<int64_t>(std::ceil(swaps_ * static_cast<double>(m)));
      // The pairs to try, drawn at once from this parameter's stream.
      const torch::Tensor picks = torch::randint(m, {attempts, 2}, in.gen, torch::kLong);
      auto pk = picks.accessor<int64_t, 2>();
      for (int64_t t = 0; t < attempts; ++t) {
        Edge& e = edges[static_cast<std::size_t>(pk[t][0])];
        Edge& f = edges[static_cast<std::size_t>(pk[t][1])];
        // e: pre_e -> post_e, f: pre_f -> post_f; swap their targets.
        if (e.post == f.post || e.pre == f.pre) continue;
        if (e.pre == f.post || f.pre == e.post) continue;  // would make a self-loop
        if (present[static_cast<std::size_t>(f.post * n + e.pre)] || present[static_cast<std::size_t>(e.post * n + f.pre)]) {
          continue;  // would duplicate an edge
        }
        present[static_cast<std::size_t>(e.post * n + e.pre)] = 0;
        present[static_cast<std::size_t>(f.post * n + f.pre)] = 0;
        std::swap(e.post, f.post);
        present[static_cast<std::size_t>(e.post * n + e.pre)] = 1;
        present[static_cast<std::size_t>(f.post * n + f.pre)] = 1;
      }
    }
    auto o = out.accessor<double, 2>();
    for (const auto& e : edges) o[e.post][e.pre] = e.weight;
    // No swap creates a self-loop; one the base has may be swapped away (degrees stay).
    return out;
  }

 private:
  double swaps_;
};

/// The base without its dominant structure: `deflate` subtracts the eigen-component(s) of the
/// largest |eigenvalue| (both of a complex pair), W - sum_k lambda_k r_k l_k^T with r_k, l_k
/// its right and left eigenvectors (l_k^T r_k = 1), so the other eigenvalues stay and the
/// outlier becomes 0; `mean` subtracts the mean of all entries (the rank-1 common mode).
class OutlierRemoved final : public Wrapper {
 public:
  OutlierRemoved(std::unique_ptr<Initializer> base, bool deflate) : Wrapper(std::move(base)), deflate_(deflate) {}
  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = base(in);
    if (!deflate_) return w - w.mean();
    // Right eigenvectors from W, left ones from W^T (W^T l = lambda l, so l^T W = lambda l^T),
    // matched by eigenvalue: this needs only the outlier to be simple, not W to be
    // diagonalizable (a connectome has many zero rows and a defective zero eigenvalue).
    const auto [values, right] = torch::linalg_eig(w);  // complex
    const auto [left_values, left] = torch::linalg_eig(w.t());
    const torch::Tensor moduli = values.abs();
    const double top = moduli.max().item<double>();
    if (top == 0) return w.clone();
    // The outlier and its conjugate when it is complex (equal moduli up to rounding).
    const torch::Tensor chosen = (moduli >= top * (1 - 1e-9)).nonzero().reshape({-1});
    torch::Tensor part = torch::zeros_like(right);
    for (int64_t k = 0; k < chosen.size(0); ++k) {
      const int64_t i = chosen[k].item<int64_t>();
      const int64_t j = (left_values - values[i]).abs().argmin().item<int64_t>();
      const torch::Tensor r = right.select(1, i), l = left.select(1, j);
      const torch::Tensor overlap = (l * r).sum();  // l^T r, without conjugation
      if (overlap.abs().item<double>() < 1e-8) {
        throw std::runtime_error("outlier_removed: the largest eigenvalue is not simple (its left and right "
                                 "eigenvectors are orthogonal), so it cannot be deflated; use method: mean");
      }
      part = part + torch::outer(r * (values[i] / overlap), l);
    }
    return w - torch::real(part);
  }

 private:
  bool deflate_;
};

const ParamSpec kBase{"base", "", "the initializer wrapped, {name: ..., ...options}"};
}  // namespace

void register_structure_controls(InitializerRegistry& registry) {
  registry.add({"shuffled",
                "the entries of `base` in a random order: same entries, structure destroyed",
                {kBase},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<Shuffled>(base_initializer(p, t));
                }});
  registry.add({"column_shuffled",
                "each column of `base` (a presynaptic neuron's outgoing weights) shuffled on its own: "
                "every neuron keeps its sign and out-strength, its targets are random (the diagonal "
                "stays in place)",
                {kBase},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<ColumnShuffled>(base_initializer(p, t));
                }});
  registry.add({"rewired",
                "degree-preserving rewiring of the nonzero entries of `base` (double-edge swaps): every "
                "neuron keeps its in- and out-degree and its outgoing weights, who connects to whom is "
                "random",
                {kBase, {"swaps", "10", "swap attempts per edge"}},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  auto base = base_initializer(p, t);
                  const double swaps = p.get_double_above("swaps", 0.0);
                  p.require(swaps <= 1000, "swaps", "must be at most 1000 attempts per edge");
                  if (t.rows != t.cols) {
                    p.fail_bare("name", fmt::format("rewired needs a square matrix; {} is {} x {}", t.param, t.rows,
                                                    t.cols));
                  }
                  return std::make_unique<Rewired>(std::move(base), swaps);
                }});
  registry.add({"outlier_removed",
                "`base` without its outlier: `method: deflate` removes the eigen-component of the largest "
                "|eigenvalue| (both of a complex pair; the other eigenvalues stay), `mean` subtracts the "
                "mean entry",
                {kBase, {"method", "deflate", "deflate or mean"}},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  auto base = base_initializer(p, t);
                  const bool deflate = p.get_choice("method", {"deflate", "mean"}) == "deflate";
                  if (deflate && t.rows != t.cols) {
                    p.fail_bare("method", fmt::format("deflate needs a square matrix; {} is {} x {} (use mean)",
                                                      t.param, t.rows, t.cols));
                  }
                  return std::make_unique<OutlierRemoved>(std::move(base), deflate);
                }});
  registry.add({"spectrum_matched",
                "the singular values of `base` with random orthogonal singular vectors: same "
                "effective rank, structure destroyed",
                {kBase},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<SpectrumMatched>(base_initializer(p, t));
                }});
  registry.add({"low_rank_of",
                "the top `rank` singular triplets of `base`, rescaled to base's Frobenius norm",
                {kBase, {"rank", "", "rank r, an integer in [1, min(rows, cols)]"}},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  auto base = base_initializer(p, t);
                  const int64_t rank = p.get_int("rank", 1, std::min(t.rows, t.cols));
                  return std::make_unique<LowRankOf>(std::move(base), rank);
                }});
}

}  // namespace richlazy::init
