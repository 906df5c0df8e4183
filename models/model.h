// richlazy/models/model.h: the interface of a trainable network and of its builder.
// A model maps inputs [T, B, n_in] to logits [T, B, n_out] and hidden states [T, B, N].
// Its weights are named parameters ("W_in", "W_rec", "W_out") that initializers address by
// name. A ModelBuilder holds validated options and knows the parameter shapes before any
// tensor exists, so a whole sweep can be checked before training starts.
#pragma once

#include <richlazy/core/registry.h>

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace richlazy::models {

struct ModelOutput {
  torch::Tensor logits;  ///< [T, B, n_out] readout at every step
  torch::Tensor hidden;  ///< [T, B, N] hidden state after each step
};

/// What a model needs to know about its task.
struct TaskShape {
  int64_t inputs = 0;
  int64_t outputs = 0;
  double dt_ms = 100;
};

/// One weight of a model, known before the model is built.
struct ParameterInfo {
  std::string name;             ///< e.g. "W_rec"
  std::vector<int64_t> shape;   ///< [out, in] for weight matrices
  std::string default_init;     ///< YAML flow map used when `init:` does not name it
  std::string doc;
};

/// The factors of a tangent kernel with respect to a recurrent weight W (PAPER.md section 5).
/// The gradient of one logit y[t, b, k] with respect to W is a sum of outer products,
///   dy[t, b, k] / dW = scale * sum_s errors[i, k, s, b] (outer) activity[s, b],
/// where i indexes `steps` (t = steps[i]), errors are the backpropagated errors
/// dy / du[s, b] at the pre-activations u and activity[s, b] is the presynaptic activity that
/// W multiplies at step s. Kernels then come from Gram matrices of errors and of activities,
/// never from the [rows x N^2] Jacobian.
struct KernelFactors {
  std::vector<int64_t> steps;  ///< output steps t whose logits are the kernel's rows
  torch::Tensor errors;        ///< [steps, O, T, B, N]; zero where s > t
  torch::Tensor activity;      ///< [T, B, N]
  double scale = 1.0;          ///< du / d(W activity)
};

/// A network. Parameters are float32 [out, in] matrices registered under their names.
class Model : public torch::nn::Module {
 public:
  /// inputs [T, B, n_in] on the model's device; returns logits and hidden states.
  virtual ModelOutput forward(const torch::Tensor& inputs) = 0;
  virtual int64_t hidden_size() const = 0;

  /// The tangent-kernel factors of the logits at `steps` with respect to parameter `param`
  /// on `inputs` [T, B, n_in], computed without autograd; nullopt when this model cannot
  /// (metrics then fall back to one backward pass per logit).
  virtual std::optional<KernelFactors> kernel_factors(const std::string& param,
                                                      const torch::Tensor& inputs,
                                                      const std::vector<int64_t>& steps) {
    (void)param, (void)inputs, (void)steps;
    return std::nullopt;
  }

  /// The parameter called `name` (throws std::out_of_range when there is none).
  torch::Tensor weight(const std::string& name) const;
};

/// Validated options of a model; builds fresh models.
class ModelBuilder {
 public:
  virtual ~ModelBuilder() = default;
  /// The weights in their default initialization order.
  virtual std::vector<ParameterInfo> parameters() const = 0;
  /// A new model on the CPU with zero weights (initializers fill them).
  virtual std::shared_ptr<Model> build() const = 0;
};

using ModelRegistry = Registry<ModelBuilder, const TaskShape&>;

/// Registers the models that ship with richlazy ("ctrnn", "linear2").
void register_builtin_models(ModelRegistry& registry);

}  // namespace richlazy::models
