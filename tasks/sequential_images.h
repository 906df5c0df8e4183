// richlazy/tasks/sequential_images.h: sequential image classification (`sfmnist`).
// An image is read row by row: 28 steps of 28 pixels scaled to [0, 1] for (Fashion-)MNIST;
// the label is scored at the last step only (PAPER.md section 4). Data: MNIST-format IDX
// files, by default Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
#pragma once

#include <richlazy/tasks/idx.h>
#include <richlazy/tasks/task.h>

namespace richlazy::tasks {

class SequentialImages final : public Task {
 public:
  SequentialImages(std::shared_ptr<const ImageSet> train, std::shared_ptr<const ImageSet> test,
                   double dt_ms);

  std::string name() const override { return "sfmnist"; }
  int64_t input_size() const override { return train_->images.size(2); }
  int64_t output_size() const override { return 10; }
  int64_t steps() const override { return train_->images.size(1); }
  double dt_ms() const override { return dt_ms_; }
  DecisionWindow decision() const override { return {steps() - 1, steps()}; }
  std::vector<std::string> input_names() const override;
  std::vector<std::string> output_names() const override;
  /// `batch` training images drawn uniformly with replacement; inputs [rows, B, cols]
  /// (pixel / 255), the label at the last step, only the last step scored.
  TrialBatch sample(int64_t batch, at::Generator& gen) const override;
  int64_t default_batch_size() const override { return 200; }
  /// The whole test split (10,000 images for Fashion-MNIST).
  std::optional<TrialBatch> held_out() const override;

  int64_t train_size() const { return train_->images.size(0); }

 private:
  TrialBatch batch_of(const ImageSet& set, const torch::Tensor& indices) const;

  std::shared_ptr<const ImageSet> train_, test_;
  double dt_ms_;
};

/// Registers "sfmnist".
void register_sequential_images(TaskRegistry& registry);

}  // namespace richlazy::tasks
