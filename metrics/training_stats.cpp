// metrics/training_stats.cpp: the training loss and decision accuracy as metrics.
#include <richlazy/metrics/metric_hook.h>

namespace richlazy::metrics {

namespace {
class TrainLoss final : public MetricHook {
 public:
  torch::Tensor on_step(const StepInfo& s, const HookContext&) override { return s.train_loss; }
};

class TrainAccuracy final : public MetricHook {
 public:
  torch::Tensor on_step(const StepInfo& s, const HookContext&) override { return s.train_accuracy; }
};

/// Loss or accuracy on the held-out evaluation set.
class TestScore final : public MetricHook {
 public:
  explicit TestScore(bool accuracy) : accuracy_(accuracy) {}
  torch::Tensor on_step(const StepInfo& s, const HookContext& ctx) override {
    const auto& [loss, acc] = ctx.test.scores(ctx.model, s.step);
    return accuracy_ ? acc : loss;
  }

 private:
  bool accuracy_;
};

void require_classification(Params& p, const MetricTarget& t, const std::string& metric) {
  if (t.task.loss() != tasks::LossKind::cross_entropy) {
    p.fail_bare("name", metric + " needs a classification task; " + t.task.name() +
                            " is a regression task (use the loss metrics)");
  }
}
}  // namespace

void register_training_stats(MetricRegistry& registry) {
  registry.add({"loss",
                "training loss (cross-entropy, or mean squared error for regression), mean over the batches since the previous logged step "
                "(step 0: the first batch before any update)",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<TrainLoss>();
                }});
  registry.add({"accuracy",
                "training accuracy at the decision steps, mean over the same batches as loss",
                {},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  require_classification(p, t, "accuracy");
                  return std::make_unique<TrainAccuracy>();
                }});
  registry.add({"test_loss",
                "loss on held-out trials: the task's test split (sfmnist) or metrics.test_trials "
                "fresh trials from the run's test stream",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<TestScore>(false);
                }});
  registry.add({"test_accuracy", "decision accuracy on the same held-out trials", {},
                [](Params& p, const MetricTarget& t) -> std::unique_ptr<MetricHook> {
                  require_classification(p, t, "test_accuracy");
                  return std::make_unique<TestScore>(true);
                }});
}

}  // namespace richlazy::metrics
