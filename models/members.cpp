// models/members.cpp: parameter lookup by name and role, and member-batched products.
#include <richlazy/models/model.h>

#include <richlazy/core/member_matmul.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <stdexcept>

namespace richlazy::models {

const ParameterInfo* find_role(const std::vector<ParameterInfo>& parameters, const std::string& role) {
  for (const auto& p : parameters) {
    if (p.role == role) return &p;
  }
  return nullptr;
}

const ParameterInfo* find_parameter(const std::vector<ParameterInfo>& parameters,
                                    const std::string& name) {
  for (const auto& p : parameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string describe_parameters(const std::vector<ParameterInfo>& parameters) {
  std::string out;
  for (const auto& p : parameters) {
    if (!out.empty()) out += ", ";
    out += p.role.empty() ? p.name : fmt::format("{} ({})", p.name, p.role);
  }
  return out;
}

torch::Tensor Model::weight(const std::string& name) const {
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    if (item.key() == name) return item.value();
  }
  throw std::out_of_range("model has no parameter named " + name);
}

void select_task_outputs(Model& model, const ModelBuilder& builder, int64_t outputs) {
  const auto parameters = builder.parameters();
  const ParameterInfo* readout = find_role(parameters, roles::kReadout);
  if (readout && !readout->shape.empty() && readout->shape[0] > outputs) model.select_outputs(0, outputs);
}

void Model::select_outputs(int64_t offset, int64_t count) {
  (void)offset, (void)count;
  throw std::logic_error("this model has no output heads");
}

torch::Tensor member_rows(const torch::Tensor& x) {
  const int64_t T = x.size(0), E = x.size(1), B = x.size(2);
  // Inputs shared by every member (expanded along the member axis) stay shared.
  if (E > 1 && x.stride(1) == 0) return member_rows(x.narrow(1, 0, 1)).expand({E, T * B, x.size(3)});
  return x.transpose(0, 1).reshape({E, T * B, x.size(3)});
}

torch::Tensor member_unrows(const torch::Tensor& rows, int64_t T, int64_t B) {
  return rows.view({rows.size(0), T, B, rows.size(2)}).transpose(0, 1);
}

namespace {

/// y[t, e, b] = w[e] x[t, e, b] as one autograd node whose products, forward and backward,
/// go through member_mm: dx = dy w, dw = dy^T x.
class MemberLinear : public torch::autograd::Function<MemberLinear> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w) {
    ctx->save_for_backward({x, w});
    return member_unrows(member_mm(member_rows(x), w.transpose(1, 2).contiguous()), x.size(0), x.size(2));
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w = saved[1];
    const int64_t T = x.size(0), B = x.size(2);
    // Contiguous in a pack as alone, so that the BLAS sees the same operands (see ctrnn.cpp).
    const torch::Tensor dy = member_rows(grads[0]).contiguous();  // [E, T*B, m]
    torch::Tensor dx, dw;
    if (x.requires_grad()) dx = member_unrows(member_mm(dy, w), T, B);
    if (w.requires_grad()) {
      dw = member_mm(dy.transpose(1, 2), member_rows(x));
    }
    return {dx, dw};
  }
};
}  // namespace

torch::Tensor member_linear(const torch::Tensor& x, const torch::Tensor& w) {
  return MemberLinear::apply(x, w);
}

}  // namespace richlazy::models
