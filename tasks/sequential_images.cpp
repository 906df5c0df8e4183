// tasks/sequential_images.cpp: row-by-row image classification.
#include <richlazy/tasks/sequential_images.h>

#include <richlazy/core/config_error.h>

#include <torch/torch.h>

namespace richlazy::tasks {

SequentialImages::SequentialImages(std::shared_ptr<const ImageSet> train,
                                   std::shared_ptr<const ImageSet> test, double dt_ms)
    : train_(std::move(train)), test_(std::move(test)), dt_ms_(dt_ms) {}

std::vector<std::string> SequentialImages::input_names() const {
  std::vector<std::string> names;
  for (int64_t c = 0; c < input_size(); ++c) names.push_back("pixel" + std::to_string(c));
  return names;
}

std::vector<std::string> SequentialImages::output_names() const {
  std::vector<std::string> names;
  for (int64_t c = 0; c < output_size(); ++c) names.push_back("class" + std::to_string(c));
  return names;
}

TrialBatch SequentialImages::batch_of(const ImageSet& set, const torch::Tensor& indices) const {
  const int64_t B = indices.size(0), T = steps();
  TrialBatch out;
  out.inputs = set.images.index_select(0, indices).permute({1, 0, 2}).to(torch::kFloat).div_(255.0);
  const torch::Tensor labels = set.labels.index_select(0, indices);
  out.targets = torch::zeros({T, B}, torch::kLong);
  out.targets[T - 1] = labels;
  out.mask = torch::zeros({T, B});
  out.mask[T - 1] = 1.0;
  out.trial_vars = {{"label", labels}, {"index", indices}};
  return out;
}

TrialBatch SequentialImages::sample(int64_t batch, at::Generator& gen) const {
  return batch_of(*train_, torch::randint(0, train_size(), {batch}, gen, torch::kLong));
}

std::optional<TrialBatch> SequentialImages::held_out() const {
  return batch_of(*test_, torch::arange(test_->images.size(0), torch::kLong));
}

void register_sequential_images(TaskRegistry& registry) {
  registry.add(
      {"sfmnist",
       "sequential image classification: an image read row by row (28 steps of 28 pixels in "
       "[0, 1] for MNIST-format data), 10 classes, scored at the last step",
       {{"data_dir", "/usr/share/datasets/fashion-mnist",
         "folder of MNIST-format IDX files (train-/t10k-images-idx3-ubyte, "
         "train-/t10k-labels-idx1-ubyte, gzip or plain); default: Debian's Fashion-MNIST"},
        {"dt_ms", "100", "time step, ms (with tau_ms 100, alpha = 1 as in the reference)"}},
       [](Params& p) -> std::unique_ptr<Task> {
         const std::string dir = p.get_string("data_dir");
         const double dt = p.get_double_above("dt_ms", 0.0);
         const std::string hint =
             dir == "/usr/share/datasets/fashion-mnist"
                 ? "install Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist) or "
                   "set task.data_dir to a folder of MNIST-format IDX files"
                 : "task.data_dir must hold MNIST-format IDX files";
         try {
           auto train = load_image_set(dir, "train", 10, hint);
           auto test = load_image_set(dir, "t10k", 10, hint);
           if (train->images.sizes().slice(1) != test->images.sizes().slice(1)) {
             throw ConfigError("the train and t10k images differ in size");
           }
           return std::make_unique<SequentialImages>(train, test, dt);
         } catch (const ConfigError& e) {
           p.fail_bare("data_dir", std::string("cannot be used: ") + e.what());
         }
       }});
}

}  // namespace richlazy::tasks
