// richlazy/init/initializer.h: the interface of an initializer.
// An initializer builds the initial value of one named weight matrix from its own random
// stream. It is configured by `init: {<param>: {name: <initializer>, ...options}}`. It fills
// one network at a time: in a pack of E networks (models/model.h) each member's value is
// made separately, from that member's own stream, so an initializer never sees the member
// axis.
#pragma once

#include <richlazy/core/registry.h>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace richlazy::tasks {
class Task;
}
namespace richlazy::models {
class ModelBuilder;
}

namespace richlazy::init {

class Initializer;
struct InitTarget;

/// The registry of initializers. It gives every entry, built-in or registered from outside
/// richlazy, the common options `norm` and `gain` (init/norm.h): they are added to the
/// entry's declared keys (`norm: none` by default, so an entry keeps its own scale unless
/// asked; an entry that declares `norm` or `gain` itself keeps its own default), and the
/// matrix its factory builds is rescaled to the norm asked for. A factory never needs to read
/// `norm` itself.
class InitializerRegistry : public Registry<Initializer, const InitTarget&> {
 public:
  explicit InitializerRegistry(std::string kind = "initializer");
};

/// The matrix an initializer is asked to fill, known when the config is validated.
struct InitTarget {
  std::string param;  ///< parameter name, e.g. "W_rec"
  int64_t rows = 0;   ///< output size (fan-out)
  int64_t cols = 0;   ///< input size (fan-in); 1 for a vector parameter, filled as [rows, 1]
  /// The registry, for initializers that wrap another one (`base: {...}`).
  const InitializerRegistry* registry = nullptr;
  /// The run's task, for initializers aligned with it (nullptr outside a run).
  const tasks::Task* task = nullptr;
  /// Shapes of the model's parameters (one network's), for initializers that use other
  /// parameters; empty outside a run.
  std::map<std::string, std::vector<int64_t>> shapes;
  /// (parameter, role) of the model's parameters in their declaration order ("input",
  /// "recurrent", "readout", "bias", ...), so that an initializer can find e.g. the readout
  /// weight of any model; empty outside a run.
  std::vector<std::pair<std::string, std::string>> roles;
  /// The run's model, for initializers that simulate the initial network (nullptr outside a run).
  const models::ModelBuilder* model = nullptr;
  /// Whether the experiment has a pilot stage (InitInputs::pilot_run names each run's pilot).
  bool pilot = false;

  /// The first parameter with `role` ("" when none, or outside a run).
  std::string parameter_with_role(const std::string& role) const;
  /// "W_in (input), W_out (readout), W_rec (recurrent)": the model's parameters, for messages.
  std::string describe_parameters() const;
};

/// What an initializer sees when it runs.
struct InitInputs {
  at::Generator& gen;  ///< this parameter's own stream (seed + "init/<param>")
  /// Parameters initialized before this one (see Initializer::depends_on), float64 CPU.
  const std::map<std::string, torch::Tensor>& initialized;
  /// The folder of this run's pilot run (`pilot:` in the experiment config; runs/<id> under
  /// DIR/<experiment>/pilot), for initializers built from it (solution_aligned's `run: pilot`);
  /// empty when the experiment has no pilot or outside a run.
  std::string pilot_run = {};
};

class Initializer {
 public:
  virtual ~Initializer() = default;
  /// The initial matrix [rows, cols], float64 on the CPU. The same generator state must
  /// give the same matrix.
  virtual torch::Tensor make(const InitInputs& inputs) const = 0;
  /// Parameters that must be initialized before this one (their values are passed in
  /// InitInputs::initialized). Empty for most initializers.
  virtual std::vector<std::string> depends_on() const { return {}; }
};

/// Registers the initializers that ship with richlazy.
void register_builtin_initializers(InitializerRegistry& registry);

void register_gaussian(InitializerRegistry& registry);
void register_low_rank(InitializerRegistry& registry);
void register_torch_default(InitializerRegistry& registry);
void register_constant(InitializerRegistry& registry);
void register_spectral(InitializerRegistry& registry);       ///< spectral, orthogonal, identity
void register_structure_controls(InitializerRegistry& registry);  ///< shuffled, spectrum_matched, low_rank_of
void register_connectome(InitializerRegistry& registry);
void register_cell_types(InitializerRegistry& registry);
/// io_aligned_low_rank, activity_aligned_low_rank, from_weights, solution_aligned, teacher_aligned
void register_aligned(InitializerRegistry& registry);

/// The reference Gaussian draw: gain * Z / sqrt(cols), Z i.i.d. N(0, 1), float64
/// [rows, cols]. For the square recurrent matrix this is N(0, g^2 / N).
torch::Tensor gaussian_draw(int64_t rows, int64_t cols, double gain, at::Generator& gen);

}  // namespace richlazy::init
