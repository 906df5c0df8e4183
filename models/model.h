// richlazy/models/model.h: the interface of a trainable network and of its builder.
// A model holds E networks of one architecture, its members: every parameter has a leading
// member axis ([E, out, in] for a weight matrix, [E, n] for a vector), inputs are
// [T, E, B, n_in] and outputs [T, E, B, *]. A solo run is the pack of one (E = 1): there is
// one code path. Members never interact: member e's outputs and gradients depend only on
// member e's weights and inputs. Each parameter declares a role ("input", "recurrent",
// "readout", "bias" or a model-specific one), which is how generic metrics and initializers
// find "the recurrent weight" of any model. A ModelBuilder holds validated options and
// knows the parameters before any tensor exists, so a whole sweep can be checked before
// training starts.
#pragma once

#include <richlazy/core/registry.h>

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace richlazy::models {

/// The roles every model may give its parameters (others are model-specific).
namespace roles {
inline constexpr const char* kInput = "input";          ///< maps task inputs into the network
inline constexpr const char* kRecurrent = "recurrent";  ///< maps the hidden state onto itself
inline constexpr const char* kReadout = "readout";      ///< maps the hidden state to the outputs
inline constexpr const char* kBias = "bias";            ///< an additive vector
}  // namespace roles

struct ModelOutput {
  torch::Tensor logits;  ///< [T, E, B, n_out] readout at every step
  torch::Tensor hidden;  ///< [T, E, B, N] hidden state after each step
};

/// What a model needs to know about its task.
struct TaskShape {
  int64_t inputs = 0;
  int64_t outputs = 0;
  double dt_ms = 100;
};

/// One parameter of a model, known before the model is built.
struct ParameterInfo {
  std::string name;            ///< e.g. "W_rec"
  std::vector<int64_t> shape;  ///< one member's shape: [out, in] for a matrix, [n] for a vector
  std::string default_init;    ///< YAML flow map used when `init:` does not name it
  std::string doc;
  std::string role;            ///< input | recurrent | readout | bias | model-specific
};

/// The first parameter with `role`, or nullptr.
const ParameterInfo* find_role(const std::vector<ParameterInfo>& parameters, const std::string& role);
/// The parameter called `name`, or nullptr.
const ParameterInfo* find_parameter(const std::vector<ParameterInfo>& parameters,
                                    const std::string& name);
/// "W_in (input), W_out (readout), W_rec (recurrent)": for messages.
std::string describe_parameters(const std::vector<ParameterInfo>& parameters);

/// The factors of a tangent kernel with respect to a recurrent weight W (PAPER.md section 5),
/// for every member at once. The gradient of one logit y[t, e, b, k] with respect to W[e] is a
/// sum of outer products,
///   dy[t, e, b, k] / dW[e] = scale * sum_s errors[s, e, i, k, b] (outer) activity[s, e, b],
/// where i indexes `steps` (t = steps[i]), errors are the backpropagated errors dy / du[s, b]
/// at the pre-activations u and activity[s, e, b] is the presynaptic activity that W
/// multiplies at step s. Kernels then come from Gram matrices of errors and of activities,
/// never from the [rows x N^2] Jacobian.
struct KernelFactors {
  std::vector<int64_t> steps;  ///< output steps t whose logits are the kernel's rows
  torch::Tensor errors;        ///< [T, E, steps, O, B, N]; zero where s > t
  torch::Tensor activity;      ///< [T, E, B, N]
  double scale = 1.0;          ///< du / d(W activity)
};

/// E networks of one architecture. Parameters are float32 tensors with a leading member axis,
/// registered under their names.
class Model : public torch::nn::Module {
 public:
  explicit Model(int64_t members) : members_(members) {}

  /// inputs [T, E, B, n_in] on the model's device; returns logits and hidden states.
  virtual ModelOutput forward(const torch::Tensor& inputs) = 0;
  virtual int64_t hidden_size() const = 0;
  /// E, the number of networks.
  int64_t members() const { return members_; }

  /// The tangent-kernel factors of the logits at `steps` with respect to parameter `param`
  /// on `inputs` [T, E, B, n_in], computed without autograd; nullopt when this model cannot
  /// (metrics then fall back to one backward pass per logit).
  virtual std::optional<KernelFactors> kernel_factors(const std::string& param,
                                                      const torch::Tensor& inputs,
                                                      const std::vector<int64_t>& steps) {
    (void)param, (void)inputs, (void)steps;
    return std::nullopt;
  }

  /// The population tangent kernel with respect to `param` (or the sum over several
  /// parameters) for whitened Gaussian inputs x ~ N(0, I_d): the operator M [E, O d, O d]
  /// with K((x, k), (x', k')) = x^T M[(k, .), (k', .)] x', rows (output k, input i). It is the
  /// limit of the sampled tangent kernel of `kernel_factors` as the number of trials grows
  /// (for linear2, K = ||w_2||^2 I + W_1^T W_1 when O = 1). nullopt when this model has no
  /// closed form (ModelBuilder::has_population_kernel says so before a model exists).
  virtual std::optional<torch::Tensor> population_kernel(const std::string& param) const {
    (void)param;
    return std::nullopt;
  }

  /// The parameter called `name`, [E, ...] (throws std::out_of_range when there is none).
  torch::Tensor weight(const std::string& name) const;

  /// Output heads (task sequences, train.phases): from now on forward() and kernel_factors()
  /// give only outputs [offset, offset + count) of the readout, which alone receive
  /// gradients. The default supports only the whole readout (ModelBuilder::output_heads).
  virtual void select_outputs(int64_t offset, int64_t count);

  /// The standard deviation of the recurrent noise of training updates (model.noise_std);
  /// 0 when the model has none. Trainers then draw standard normals [T, E, B, N] from the
  /// members' "noise" streams and pass them to forward_noisy.
  virtual double noise_std() const { return 0.0; }
  /// forward() with recurrent noise: `noise` [T, E, B, hidden_size()] standard normals, scaled
  /// by noise_std(). Models without noise never receive a call.
  virtual ModelOutput forward_noisy(const torch::Tensor& inputs, const torch::Tensor& noise) {
    (void)noise;
    return forward(inputs);
  }

  /// Restores the model's constraints after an optimizer update, in place (Dale's law keeps
  /// each weight's sign); a no-op for unconstrained models.
  virtual void constrain_() {}

 private:
  int64_t members_;
};

/// A model's own rule for a parameter's initial value, applied after its initializer (for
/// example linear2's layer scales and balance): one network's value [rows, cols] float64 and
/// the parameters initialized before it (by name, [rows, cols] float64) -> the value to use.
struct InitAdjustment {
  std::vector<std::string> depends_on;  ///< parameters that must be initialized first
  std::string description;              ///< appended to the spec in logs, e.g. "model.W_1_norm: 0.1"
  std::function<torch::Tensor(const torch::Tensor& value, const std::map<std::string, torch::Tensor>& done)> apply;
};

/// Validated options of a model; builds fresh models.
class ModelBuilder {
 public:
  virtual ~ModelBuilder() = default;
  /// The parameters in their default initialization order, with one member's shape.
  virtual std::vector<ParameterInfo> parameters() const = 0;
  /// A new model of `members` networks on the CPU with zero weights (initializers fill them).
  virtual std::shared_ptr<Model> build(int64_t members = 1) const = 0;
  /// Whether the models built have Model::population_kernel for every parameter.
  virtual bool has_population_kernel() const { return false; }
  /// Whether the models built can select output heads (Model::select_outputs).
  virtual bool output_heads() const { return false; }
  /// The model's adjustment of `param`'s initial value, if any.
  virtual std::optional<InitAdjustment> init_adjustment(const std::string& param) const {
    (void)param;
    return std::nullopt;
  }
};

using ModelRegistry = Registry<ModelBuilder, const TaskShape&>;

/// Selects the model's outputs [0, outputs) when its readout has more: the first task of a
/// task sequence (train.phases) on a model built for the whole sequence, for code that runs
/// that task alone (initializers that simulate the network, `init describe`).
void select_task_outputs(Model& model, const ModelBuilder& builder, int64_t outputs);

/// Registers the models that ship with richlazy ("ctrnn", "linear2").
void register_builtin_models(ModelRegistry& registry);

// ---- helpers for models with a member axis (models/members.cpp) --------------------------

/// x [T, E, B, k] times each member's matrix: w [E, m, k] -> [T, E, B, m]
/// (y[t, e, b] = w[e] x[t, e, b]). One batched product over all steps and trials.
torch::Tensor member_linear(const torch::Tensor& x, const torch::Tensor& w);

/// [T, E, B, k] -> [E, T * B, k]: the rows of each member together (a view when the tensor
/// is a transposed view of member-major storage, as the models' outputs are, or E = 1; a
/// view with batch stride 0 for inputs shared by every member, such as a held-out set).
torch::Tensor member_rows(const torch::Tensor& x);

/// The inverse: [E, T * B, k] -> [T, E, B, k], a view.
torch::Tensor member_unrows(const torch::Tensor& rows, int64_t T, int64_t B);

}  // namespace richlazy::models
