// tasks/task_stats.cpp: trial statistics.
#include <richlazy/tasks/task_stats.h>

#include <richlazy/core/seeding.h>
#include <richlazy/core/table.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace richlazy::tasks {

namespace {
std::vector<std::vector<double>> to_rows(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kDouble).contiguous();
  std::vector<std::vector<double>> rows(c.size(0));
  for (int64_t i = 0; i < c.size(0); ++i) {
    const double* p = c[i].data_ptr<double>();
    rows[i].assign(p, p + c.size(1));
  }
  return rows;
}
}  // namespace

TaskStats compute_task_stats(const Task& task, int64_t trials, uint64_t seed) {
  at::Generator gen = make_generator(seed);
  const int64_t T = task.steps();
  torch::Tensor sum = torch::zeros({T, task.input_size()}, torch::kDouble);
  torch::Tensor sum_sq = torch::zeros_like(sum);
  torch::Tensor labels = torch::zeros({T, task.output_size()}, torch::kDouble);
  torch::Tensor y_sum = torch::zeros_like(labels), y_sq = torch::zeros_like(labels);
  const bool classify = task.loss() == LossKind::cross_entropy;
  for (int64_t done = 0; done < trials;) {
    const int64_t b = std::min<int64_t>(4096, trials - done);
    const TrialBatch batch = task.sample(b, gen);
    const torch::Tensor x = batch.inputs.to(torch::kDouble);
    sum += x.sum(1);
    sum_sq += (x * x).sum(1);
    if (classify) {
      // Only scored steps count: unscored ones (sfmnist before the last row) carry no label.
      labels += (torch::one_hot(batch.targets, task.output_size()).to(torch::kDouble) *
                 batch.mask.to(torch::kDouble).unsqueeze(-1))
                    .sum(1);
    } else {
      const torch::Tensor y = batch.targets.to(torch::kDouble);
      y_sum += y.sum(1);
      y_sq += (y * y).sum(1);
    }
    done += b;
  }
  const torch::Tensor mean = sum / static_cast<double>(trials);
  const torch::Tensor var = (sum_sq / static_cast<double>(trials) - mean * mean).clamp_min(0.0);
  TaskStats s;
  s.trials = trials;
  s.seed = seed;
  s.input_mean = to_rows(mean);
  s.input_std = to_rows(var.sqrt());
  if (classify) {
    s.label_fraction = to_rows(labels / static_cast<double>(trials));
  } else {
    const torch::Tensor y_mean = y_sum / static_cast<double>(trials);
    s.target_mean = to_rows(y_mean);
    s.target_std = to_rows((y_sq / static_cast<double>(trials) - y_mean * y_mean).clamp_min(0.0).sqrt());
  }
  return s;
}

std::string task_stats_json(const Task& task, const TaskStats& s) {
  const DecisionWindow d = task.decision();
  nlohmann::ordered_json j{{"task", task.name()},
          {"trials", s.trials},
          {"seed", s.seed},
          {"n_inputs", task.input_size()},
          {"n_outputs", task.output_size()},
          {"steps", task.steps()},
          {"decision", {d.begin, d.end}},
          {"dt_ms", task.dt_ms()},
          {"input_names", task.input_names()},
          {"output_names", task.output_names()},
          {"input_mean", s.input_mean},
          {"input_std", s.input_std},
          {"label_fraction", s.label_fraction}};
  if (!s.target_mean.empty()) {
    j["target_mean"] = s.target_mean;
    j["target_std"] = s.target_std;
  }
  return j.dump(1) + "\n";
}

namespace {
/// A table of per-step means and standard deviations: "step", then "<name> mean", "<name> std".
std::string mean_std_table(const std::vector<std::string>& names, const std::vector<std::vector<double>>& mean,
                           const std::vector<std::vector<double>>& std) {
  std::vector<std::string> header{"step"};
  for (const auto& n : names) {
    header.push_back(n + " mean");
    header.push_back(n + " std");
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t t = 0; t < mean.size(); ++t) {
    std::vector<std::string> row{std::to_string(t)};
    for (std::size_t i = 0; i < mean[t].size(); ++i) {
      row.push_back(fmt::format("{:.4f}", mean[t][i]));
      row.push_back(fmt::format("{:.4f}", std[t][i]));
    }
    rows.push_back(std::move(row));
  }
  return format_table(header, rows);
}
}  // namespace

std::string format_task_stats(const Task& task, const TaskStats& s) {
  const DecisionWindow d = task.decision();
  std::string out = fmt::format(
      "task {}: {} inputs, {} outputs, {} steps of {} ms, decision steps [{}, {}); {} trials, "
      "seed {}\n\n",
      task.name(), task.input_size(), task.output_size(), task.steps(), task.dt_ms(), d.begin,
      d.end, s.trials, s.seed);
  out += "inputs\n" + mean_std_table(task.input_names(), s.input_mean, s.input_std);
  if (!s.label_fraction.empty()) {
    std::vector<std::string> header{"step"};
    for (const auto& n : task.output_names()) header.push_back(n);
    std::vector<std::vector<std::string>> rows;
    for (std::size_t t = 0; t < s.label_fraction.size(); ++t) {
      std::vector<std::string> row{std::to_string(t)};
      for (double f : s.label_fraction[t]) row.push_back(fmt::format("{:.4f}", f));
      rows.push_back(std::move(row));
    }
    out += "\nlabel fractions\n" + format_table(header, rows);
  } else {
    out += "\ntargets\n" + mean_std_table(task.output_names(), s.target_mean, s.target_std);
  }
  return out;
}

}  // namespace richlazy::tasks
