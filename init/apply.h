// richlazy/init/apply.h: choosing and running the initializers of a model's weights.
#pragma once

#include <richlazy/core/params.h>
#include <richlazy/init/initializer.h>
#include <richlazy/models/model.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace richlazy::init {

/// The initializer chosen for one parameter.
struct InitStep {
  std::string param;
  std::string role;
  std::vector<int64_t> shape;  ///< one network's
  std::string spec;  ///< resolved spec as a YAML flow map, then " + <the model's adjustment>" where there is one; for logs
  std::shared_ptr<const Initializer> initializer;
  std::optional<models::InitAdjustment> adjustment;  ///< the model's rule applied after it
};

/// What was initialized, for logs and summaries.
struct InitReport {
  std::string param;
  std::string role;
  std::string spec;
  int64_t rows = 0, cols = 0;
  int64_t rank = 0;
  double frobenius_norm = 0;
  double erank_roy_vetterli = 0;
  double spectral_radius = std::nan("");  ///< square matrices only (NaN otherwise)
  double erank_eig = std::nan("");        ///< sum |lambda_i| / (|lambda_1| n), square only
};

/// Builds one initializer per model parameter, from `init.<param>` where the config names
/// it and from the model's default otherwise, in an order where every dependency comes
/// first. Unknown parameter names and bad options are ConfigErrors located in the config.
std::vector<InitStep> plan_initializers(Params& init_section,
                                        const std::vector<models::ParameterInfo>& parameters,
                                        const InitializerRegistry& registry,
                                        const tasks::Task* task = nullptr,
                                        const models::ModelBuilder* model = nullptr,
                                        bool pilot = false);

/// Throws ConfigError "init.<param> <spec>: the initial matrix has entries that are not finite in
/// float32 ..." when `value` overflows float32 or holds NaN/inf (a norm of 1e300, entries of
/// 1e308): bad input, and LAPACK's routines may crash on such a matrix.
void require_finite_float32(const torch::Tensor& value, const std::string& param, const std::string& spec);

/// Initializes member `member` of the model (under NoGradGuard): each parameter from its own
/// random stream derived from `seed` and "init/<param>", so that runs sharing a seed share
/// draws, whichever pack they train in. `pilot_run` is the run's pilot run folder (InitInputs).
std::vector<InitReport> apply_initializers(models::Model& model, const std::vector<InitStep>& plan,
                                           uint64_t seed, int64_t member = 0, const std::string& pilot_run = "");

/// "W_rec [300 x 300] low_rank {rank: 30, gain: 1.25}: rank 30, ||W||_F 21.65, erank 27.3"
std::string format_init_report(const InitReport& report);

}  // namespace richlazy::init
