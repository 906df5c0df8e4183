// metrics/training_stats.cpp: the training loss and decision accuracy as metrics.
#include <richlazy/metrics/metric_hook.h>

namespace richlazy::metrics {

namespace {
class TrainLoss final : public MetricHook {
 public:
  double on_step(const StepInfo& s, const HookContext&) override { return s.train_loss; }
};

class TrainAccuracy final : public MetricHook {
 public:
  double on_step(const StepInfo& s, const HookContext&) override { return s.train_accuracy; }
};
}  // namespace

void register_training_stats(MetricRegistry& registry) {
  registry.add({"loss",
                "training cross-entropy, mean over the batches since the previous logged step "
                "(step 0: the first batch before any update)",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<TrainLoss>();
                }});
  registry.add({"accuracy",
                "training accuracy at the decision steps, mean over the same batches as loss",
                {},
                [](Params&, const MetricTarget&) -> std::unique_ptr<MetricHook> {
                  return std::make_unique<TrainAccuracy>();
                }});
}

}  // namespace richlazy::metrics
