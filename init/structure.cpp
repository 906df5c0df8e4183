// init/structure.cpp: controls that keep part of another initializer's structure.
// shuffled keeps the entries and destroys the structure; spectrum_matched keeps the singular
// values (so the effective rank) and destroys the rest; low_rank_of keeps the top singular
// triplets. Comparing a matrix with its controls separates "low effective rank" from "any
// other structure" (e.g. in a connectome).
#include <richlazy/core/random_matrix.h>
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <torch/torch.h>

#include <algorithm>

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

const ParamSpec kBase{"base", "", "the initializer wrapped, {name: ..., ...options}"};
}  // namespace

void register_structure_controls(InitializerRegistry& registry) {
  registry.add({"shuffled",
                "the entries of `base` in a random order: same entries, structure destroyed",
                {kBase},
                [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
                  return std::make_unique<Shuffled>(base_initializer(p, t));
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
