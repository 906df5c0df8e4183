// models/ctrnn.cpp: continuous-time RNN.
#include <richlazy/models/ctrnn.h>

#include <torch/torch.h>

namespace richlazy::models {

torch::Tensor ctrnn_unroll(const torch::Tensor& inputs, const torch::Tensor& w_in,
                           const torch::Tensor& w_rec, double alpha, Activation activation) {
  // The input drive of every step in one product: [T, ..., B, N].
  const torch::Tensor drive = torch::matmul(inputs, w_in.transpose(-1, -2));
  const torch::Tensor w_rec_t = w_rec.transpose(-1, -2);
  const int64_t T = inputs.size(0);
  std::vector<torch::Tensor> states;
  states.reserve(T);
  torch::Tensor h;
  for (int64_t t = 0; t < T; ++t) {
    // h_0 = 0, so the first step has no recurrent term.
    torch::Tensor pre = t == 0 ? drive[t] : drive[t] + torch::matmul(h, w_rec_t);
    if (alpha != 1.0) pre = t == 0 ? alpha * pre : (1.0 - alpha) * h + alpha * pre;
    h = activation == Activation::relu ? torch::relu(pre) : torch::tanh(pre);
    states.push_back(h);
  }
  return torch::stack(states, 0);
}

CTRNN::CTRNN(const CTRNNOptions& options) : options_(options) {
  w_in_ = register_parameter("W_in", torch::zeros({options.hidden_size, options.inputs}));
  w_rec_ = register_parameter("W_rec", torch::zeros({options.hidden_size, options.hidden_size}));
  w_out_ = register_parameter("W_out", torch::zeros({options.outputs, options.hidden_size}));
}

ModelOutput CTRNN::forward(const torch::Tensor& inputs) {
  torch::Tensor hidden =
      ctrnn_unroll(inputs, w_in_, w_rec_, options_.alpha, options_.activation);
  torch::Tensor logits = torch::matmul(hidden, w_out_.t());
  return {std::move(logits), std::move(hidden)};
}

namespace {
class CTRNNBuilder final : public ModelBuilder {
 public:
  explicit CTRNNBuilder(CTRNNOptions o) : o_(o) {}

  std::vector<ParameterInfo> parameters() const override {
    return {{"W_in", {o_.hidden_size, o_.inputs}, "{name: torch_default}", "input weights"},
            {"W_out", {o_.outputs, o_.hidden_size}, "{name: torch_default}", "readout weights"},
            {"W_rec", {o_.hidden_size, o_.hidden_size}, "{name: gaussian, gain: 1.25}",
             "recurrent weights"}};
  }
  std::shared_ptr<Model> build() const override { return std::make_shared<CTRNN>(o_); }

 private:
  CTRNNOptions o_;
};
}  // namespace

void register_ctrnn(ModelRegistry& registry) {
  registry.add(
      {"ctrnn",
       "continuous-time RNN of the paper: h = act((1-a) h + a (W_in x + W_rec h)), y = W_out h, "
       "no biases, a = dt/tau",
       {{"hidden_size", "300", "number of recurrent units N"},
        {"tau_ms", "100", "time constant, ms; alpha = task dt_ms / tau_ms must be <= 1"},
        {"activation", "relu", "relu | tanh"}},
       [](Params& p, const TaskShape& task) -> std::unique_ptr<ModelBuilder> {
         CTRNNOptions o;
         o.inputs = task.inputs;
         o.outputs = task.outputs;
         o.hidden_size = p.get_int("hidden_size", 1, 100000);
         const double tau = p.get_double_above("tau_ms", 0.0);
         p.require(task.dt_ms <= tau, "tau_ms",
                   "must be >= the task's dt_ms (" + format_number(task.dt_ms) +
                       ") so that alpha = dt/tau <= 1");
         o.alpha = task.dt_ms / tau;
         o.activation = p.get_choice("activation", {"relu", "tanh"}) == "relu"
                            ? Activation::relu
                            : Activation::tanh;
         return std::make_unique<CTRNNBuilder>(o);
       }});
}

}  // namespace richlazy::models
