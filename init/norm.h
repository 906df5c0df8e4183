// richlazy/init/norm.h: the options every initializer shares, and helpers for building them.
// `norm` sets the Frobenius norm of the matrix: a number, `auto` (gain * sqrt(rows), the
// expected norm of the reference Gaussian of that shape, entries of variance gain^2 / cols)
// or `none` (keep what the initializer produces). Comparing structures at one norm is how
// the paper separates structure from scale.
#pragma once

#include <richlazy/init/initializer.h>

#include <memory>
#include <string>
#include <vector>

namespace richlazy::init {

/// `specs` plus the common options `norm` (default `default_norm`) and, unless declared
/// already, `gain` (1.25, used by norm: auto).
std::vector<ParamSpec> with_norm_options(std::vector<ParamSpec> specs, const std::string& default_norm);

/// `raw` rescaled as the `norm` option says (or `raw` itself for norm: none).
std::unique_ptr<Initializer> with_norm(Params& p, const InitTarget& target,
                                       std::unique_ptr<Initializer> raw);

/// `matrix` scaled to Frobenius norm `norm` (throws std::runtime_error for a zero matrix).
torch::Tensor scaled_to_norm(const torch::Tensor& matrix, double norm);

/// The `base: {...}` option of a wrapper: the wrapped initializer, built for the same target.
std::unique_ptr<Initializer> base_initializer(Params& p, const InitTarget& target);

/// A path option, resolved against the config file's folder (or the working directory for
/// values given on the command line); "" when the value is null (declare such options with
/// default "null").
std::string config_path(Params& p, const std::string& key);

/// The top `rank` singular triplets of `w`, U_r diag(s_r) V_r^T.
torch::Tensor truncate_rank(const torch::Tensor& w, int64_t rank);

}  // namespace richlazy::init
