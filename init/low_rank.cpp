// init/low_rank.cpp: the paper's rank-r truncation of a Gaussian draw.
#include <richlazy/init/initializer.h>
#include <richlazy/init/norm.h>

#include <torch/torch.h>

#include <algorithm>

namespace richlazy::init {

namespace {
/// Liu et al. (2024): draw the reference Gaussian, keep its top r singular triplets, and
/// rescale the result to the Frobenius norm of the full draw. Runs of a sweep that share a
/// seed truncate the same draw, so the rank is the only difference between them.
class LowRank final : public Initializer {
 public:
  LowRank(Params& p, const InitTarget& t)
      : rows_(t.rows),
        cols_(t.cols),
        rank_(p.get_int("rank", 1, std::min(t.rows, t.cols))),
        gain_(p.get_double_above("gain", 0.0)) {}

  torch::Tensor make(const InitInputs& in) const override {
    const torch::Tensor w = gaussian_draw(rows_, cols_, gain_, in.gen);
    return scaled_to_norm(truncate_rank(w, rank_), w.norm().item<double>());
  }

 private:
  int64_t rows_, cols_, rank_;
  double gain_;
};
}  // namespace

void register_low_rank(InitializerRegistry& registry) {
  registry.add(
      {"low_rank",
       "the paper's low-rank init: top-r SVD truncation of the Gaussian draw, rescaled to the "
       "draw's Frobenius norm",
       with_norm_options({{"rank", "", "rank r, an integer in [1, min(rows, cols)]"},
                          {"gain", "1.25", "gain g of the underlying Gaussian draw N(0, g^2 / fan_in)"}},
                         "none"),
       [](Params& p, const InitTarget& t) -> std::unique_ptr<Initializer> {
         return std::make_unique<LowRank>(p, t);
       }});
}

}  // namespace richlazy::init
