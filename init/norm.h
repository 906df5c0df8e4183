// richlazy/init/norm.h: the options every initializer shares, and helpers for building them.
// `norm` sets the Frobenius norm of the matrix: a number, `auto` (gain * sqrt(rows), the
// expected norm of the reference Gaussian of that shape, entries of variance gain^2 / cols)
// or `none` (keep what the initializer produces); `{spectral_radius: r}` and
// `{spectral_norm: s}` scale to a largest |eigenvalue| or singular value instead (the
// dynamics of a network follow its spectral radius), and `{matched_loss: SPEC}` scales it so
// that the initial network's loss equals that of the network whose weight SPEC initializes
// (init/matched_loss.cpp). Comparing structures at one norm is how
// the paper separates structure from scale. The registry (InitializerRegistry) gives `norm`
// and `gain` to every entry and applies `norm` itself; an entry only chooses its default.
#pragma once

#include <richlazy/init/initializer.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace richlazy::models {
class Model;
}

namespace richlazy::init {

/// The keys every initializer takes: `specs` plus `norm` (default `default_norm`) unless
/// declared already, and `gain` (1.25, used by norm: auto) unless declared already. The
/// registry applies this to every entry with default `none`; an entry whose matrix should
/// come out at another norm by default declares it with this function, e.g.
/// `with_norm_options({{"rank", "", "..."}}, "auto")`.
std::vector<ParamSpec> with_norm_options(std::vector<ParamSpec> specs, const std::string& default_norm);

/// `raw` rescaled as the `norm` and `gain` options of `p` say (or `raw` itself for norm:
/// none). InitializerRegistry::create calls it for every entry; throws ConfigError for a bad
/// `norm`.
std::unique_ptr<Initializer> apply_norm(Params& p, const InitTarget& target,
                                        std::unique_ptr<Initializer> raw);

/// Kept for factories written before the registry applied `norm` itself: returns `raw`
/// unchanged (the registry rescales it afterwards, exactly once).
std::unique_ptr<Initializer> with_norm(Params& p, const InitTarget& target,
                                       std::unique_ptr<Initializer> raw);

/// `matrix` scaled to Frobenius norm `norm` (throws std::runtime_error for a zero matrix).
torch::Tensor scaled_to_norm(const torch::Tensor& matrix, double norm);
/// A spectral radius below this fraction of the Frobenius norm is taken for rounding (the
/// computed eigenvalues of a nilpotent matrix are about eps^(1/k) of its norm, k the size of
/// its Jordan blocks).
inline constexpr double kNilpotentTolerance = 1e-5;

/// `matrix` (square) scaled so that its largest |eigenvalue| is `radius`; throws
/// std::runtime_error for a numerically nilpotent matrix (radius below kNilpotentTolerance
/// of its Frobenius norm), which no scale brings to a spectral radius.
torch::Tensor scaled_to_spectral_radius(const torch::Tensor& matrix, double radius);
/// `matrix` scaled so that its largest singular value is `norm`.
torch::Tensor scaled_to_spectral_norm(const torch::Tensor& matrix, double norm);

/// Trials on which `norm: {matched_loss: SPEC}` compares the initial losses.
inline constexpr int64_t kMatchingTrials = 256;
/// Its grid of scales: 2^(k / kMatchingGridPerOctave) for |k| <= kMatchingGridSteps.
inline constexpr int kMatchingGridPerOctave = 4;
inline constexpr int kMatchingGridSteps = 40;

/// The scale c nearest to 1 (in log c) at which `loss(c)` equals `target`: every sign change
/// of loss(c) - target on the grid above is found, the one nearest to 1 refined by bisection
/// in log c (to 1e-12); nullopt when the grid has none. loss(1) == target gives exactly 1.
std::optional<double> matching_scale(const std::function<double(double)>& loss, double target);

/// The initializer for `norm: {matched_loss: SPEC}` (apply_norm calls it): `raw` brought to
/// the Frobenius norm of SPEC's matrix (drawn from the start of the same stream, so it is the
/// matrix a run with SPEC gets), then scaled by matching_scale of the initial network's loss on
/// kMatchingTrials trials of the run's task drawn from that stream after SPEC's draw, the other
/// parameters as initialized. A run fails (not the config) when no scale on the grid matches.
std::unique_ptr<Initializer> matched_loss_initializer(Params& p, const InitTarget& target,
                                                      std::unique_ptr<Initializer> raw);

/// The model's parameters other than `target.param`, in declaration order (empty outside a run).
std::vector<std::string> other_parameters(const InitTarget& target);

/// For initializers that simulate the initial network: a one-network model of `model` on the
/// CPU whose parameters `others` hold their values in `in.initialized` (so they must be
/// among the initializer's depends_on()), every other parameter zero, under NoGradGuard's
/// rules (the caller holds the guard). With `task`, its outputs are those of `task` (the
/// first task's head of a task sequence's model).
std::shared_ptr<models::Model> initial_network(const models::ModelBuilder& model, const InitInputs& in,
                                               const std::vector<std::string>& others,
                                               const tasks::Task* task = nullptr);

/// The `base: {...}` option of a wrapper: the wrapped initializer, built for the same target.
std::unique_ptr<Initializer> base_initializer(Params& p, const InitTarget& target);

/// A path option, resolved against the config file's folder (or the working directory for
/// values given on the command line); "" when the value is null (declare such options with
/// default "null").
std::string config_path(Params& p, const std::string& key);

/// The top `rank` singular triplets of `w`, U_r diag(s_r) V_r^T.
torch::Tensor truncate_rank(const torch::Tensor& w, int64_t rank);

}  // namespace richlazy::init
