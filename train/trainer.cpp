// train/trainer.cpp: the training loop of a pack.
#include <richlazy/train/trainer.h>

#include <richlazy/core/csv.h>
#include <richlazy/core/seeding.h>
#include <richlazy/metrics/laziness.h>
#include <richlazy/metrics/probe.h>
#include <richlazy/tasks/scoring.h>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace richlazy::train {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The batch on `device` in one host-to-device transfer: its tensors are packed into one
/// pinned float32 buffer (class labels are small integers, exact in float32) and split there.
tasks::TrialBatch to_device(const tasks::TrialBatch& batch, torch::Device device) {
  if (device.is_cpu()) return batch;
  const bool labels = batch.targets.scalar_type() == torch::kLong;
  const std::vector<torch::Tensor> parts{batch.inputs.flatten(), batch.targets.to(torch::kFloat).flatten(),
                                         batch.mask.to(torch::kFloat).flatten()};
  int64_t total = 0;
  for (const auto& p : parts) total += p.numel();
  torch::Tensor host = torch::empty({total}, torch::TensorOptions().dtype(torch::kFloat).pinned_memory(true));
  int64_t offset = 0;
  for (const auto& p : parts) {
    host.slice(0, offset, offset + p.numel()).copy_(p);
    offset += p.numel();
  }
  const torch::Tensor on_device = host.to(device, /*non_blocking=*/true);
  tasks::TrialBatch out;
  int64_t at = 0;
  auto take = [&](const torch::Tensor& like) {
    torch::Tensor t = on_device.slice(0, at, at + like.numel()).view(like.sizes());
    at += like.numel();
    return t;
  };
  out.inputs = take(batch.inputs);
  out.targets = take(batch.targets);
  if (labels) out.targets = out.targets.to(torch::kLong);
  out.mask = take(batch.mask);
  return out;
}
}  // namespace

std::string MetricLog::csv() const {
  std::string out = "step";
  for (const auto& c : columns) out += "," + csv_field(c);
  out += "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += std::to_string(steps[i]);
    for (double v : rows[i]) out += fmt::format(",{}", v);
    out += "\n";
  }
  return out;
}

Trainer::Trainer(models::Model& model, const tasks::Task& task, const std::vector<uint64_t>& seeds,
                 const std::vector<const OptimizerBuilder*>& optimizers, std::vector<NamedHook> hooks,
                 TrainSettings settings, torch::Device device)
    : model_(model),
      task_(task),
      seeds_(seeds),
      hooks_(std::move(hooks)),
      settings_(settings),
      device_(device),
      train_streams_(seeds, "train"),
      noise_streams_(seeds, "noise") {
  const int64_t E = model.members();
  if (static_cast<int64_t>(seeds_.size()) != E || static_cast<int64_t>(optimizers.size()) != E) {
    throw std::logic_error(fmt::format("a pack of {} networks needs {} seeds and optimizers, got {} and {}", E,
                                       E, seeds_.size(), optimizers.size()));
  }
  optimizer_builders_ = optimizers;
  optimizer_ = optimizers.front()->make(model.parameters(), optimizers);
  MetricLog empty;
  for (const auto& h : hooks_) empty.columns.push_back(h.name);
  if (settings_.curriculum) {
    curriculum_ = settings_.curriculum.get();
    if (curriculum_->phases.empty()) throw std::logic_error("a task sequence without phases");
    for (const auto& c : curriculum_->row_columns()) empty.columns.push_back(c);
  }
  logs_.assign(E, empty);
  finished_.assign(E, false);
  probe_ = std::make_unique<metrics::Probe>(
      metrics::draw_member_trials(task_, seeds_, "probe", settings_.probe_trials, device_),
      std::min(settings_.kernel_trials, settings_.probe_trials));
  test_ = std::make_unique<metrics::EvaluationSet>(task_, seeds_, settings_.test_trials, device_);
  if (curriculum_) {
    // The first phase's task is the trainer's: its held-out set and probe are the generic
    // ones ("test", "probe"); every other task draws its own from streams named after it.
    const int64_t first = curriculum_->phases.front().task;
    const int64_t kernel_trials = std::min(settings_.kernel_trials, settings_.probe_trials);
    for (std::size_t k = 0; k < curriculum_->tasks.size(); ++k) {
      const SequenceTask& t = curriculum_->tasks[k];
      if (static_cast<int64_t>(k) == first) {
        task_tests_.push_back(nullptr);
        task_probes_.push_back(nullptr);
        continue;
      }
      task_tests_.push_back(std::make_unique<metrics::EvaluationSet>(*t.task, seeds_, settings_.test_trials, device_,
                                                                     "test@" + t.label));
      task_probes_.push_back(std::make_unique<metrics::Probe>(
          metrics::draw_member_trials(*t.task, seeds_, "probe@" + t.label, kernel_trials, device_), kernel_trials));
    }
    enter_phase(0, false);
    if (curriculum_->phases.size() > 1) graph_error_ = "task sequences (train.phases) are not recorded as CUDA graphs";
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble).device(device_);
  iteration_ = torch::zeros({}, f64);
  active_ = torch::ones({E}, torch::TensorOptions().dtype(torch::kBool).device(device_));
  diverged_at_ = torch::full({E}, -1.0, f64);
  diverged_loss_ = torch::zeros({E}, f64);
  loss_sum_ = torch::zeros({E}, f64);
  acc_sum_ = torch::zeros({E}, f64);
  count_ = torch::zeros({E}, f64);
}

Trainer::Trainer(models::Model& model, const tasks::Task& task, const OptimizerBuilder& optimizer,
                 std::vector<NamedHook> hooks, TrainSettings settings, torch::Device device, uint64_t seed)
    : Trainer(model, task, std::vector<uint64_t>{seed}, std::vector<const OptimizerBuilder*>{&optimizer},
              std::move(hooks), settings, device) {}

metrics::HookContext Trainer::context() {
  return metrics::HookContext{model_, task_, device_, *probe_, *test_};
}

const tasks::Task& Trainer::current_task() const {
  return curriculum_ ? *curriculum_->tasks.at(curriculum_->phases.at(phase_).task).task : task_;
}

void Trainer::enter_phase(int64_t p, bool reset_optimizer) {
  phase_ = p;
  const SequenceTask& t = curriculum_->tasks.at(curriculum_->phases.at(p).task);
  model_.select_outputs(t.head_offset, t.head_size);
  if (reset_optimizer) optimizer_ = optimizer_builders_.front()->make(model_.parameters(), optimizer_builders_);
}

torch::Tensor Trainer::sequence_values(int64_t step) {
  const Curriculum& c = *curriculum_;
  const int64_t E = members();
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble).device(device_);
  auto select = [&](int64_t k) { model_.select_outputs(c.tasks[k].head_offset, c.tasks[k].head_size); };
  std::vector<torch::Tensor> rows;
  rows.push_back(torch::full({E}, static_cast<double>(step == 0 ? 0 : c.phase_at(step - 1)), f64));
  for (std::size_t k = 0; k < c.tasks.size(); ++k) {
    select(static_cast<int64_t>(k));
    metrics::EvaluationSet& set = task_tests_[k] ? *task_tests_[k] : *test_;
    const auto& [loss, accuracy] = set.scores(model_, step);
    rows.push_back(loss.to(torch::kDouble));
    rows.push_back(accuracy.to(torch::kDouble));
  }
  torch::Tensor overlap = torch::full({E}, std::nan(""), f64);
  if (c.is_boundary(step)) {
    // The tasks on either side of the boundary, each on its own kernel trials through its own
    // head, with respect to the recurrent weight.
    const int64_t p = c.phase_at(step - 1);
    auto factors = [&](int64_t k) {
      select(k);
      metrics::Probe& probe = task_probes_[k] ? *task_probes_[k] : *probe_;
      return model_.kernel_factors("W_rec", probe.kernel_inputs(), probe.kernel_steps());
    };
    const auto a = factors(c.phases[p].task);
    const auto b = factors(c.phases[p + 1].task);
    if (a && b) overlap = metrics::kernel_overlap(*a, *b).to(device_);
  }
  rows.push_back(overlap);
  select(c.phases[phase_].task);
  return torch::stack(rows);
}

torch::Tensor Trainer::accuracy_of(const torch::Tensor& logits, const tasks::TrialBatch& batch) const {
  const tasks::Task& task = current_task();
  if (task.loss() != tasks::LossKind::cross_entropy) {
    return torch::full({logits.size(1)}, std::nan(""), logits.options().dtype(torch::kDouble));
  }
  return tasks::decision_accuracy(logits, batch.targets, task.decision());
}

tasks::TrialBatch Trainer::next_batch() {
  return to_device(train_streams_.draw(current_task(), settings_.batch_size), device_);
}

torch::Tensor Trainer::next_noise(const tasks::TrialBatch& batch) {
  if (model_.noise_std() <= 0) return {};
  const int64_t T = batch.inputs.size(0), B = batch.inputs.size(2);
  return noise_streams_.normal({T, B, model_.hidden_size()}).transpose(0, 1).to(device_);
}

StepResult Trainer::train_step(const tasks::TrialBatch& batch, const torch::Tensor& noise) {
  model_.train();
  const models::ModelOutput out = noise.defined() ? model_.forward_noisy(batch.inputs, noise) : model_.forward(batch.inputs);
  const torch::Tensor loss = tasks::task_loss(current_task().loss(), out.logits, batch);
  StepResult r{loss.detach(), accuracy_of(out.logits.detach(), batch), active_.clone()};
  // Frozen from here on: a member whose loss is not finite (the others train on). In place,
  // and without reading anything back, so that a CUDA graph can replay it.
  const torch::Tensor finite = torch::isfinite(r.loss);
  const torch::Tensor newly = active_.logical_and(finite.logical_not());
  diverged_at_.copy_(torch::where(newly, iteration_.expand_as(diverged_at_), diverged_at_));
  diverged_loss_.copy_(torch::where(newly, r.loss.to(torch::kDouble), diverged_loss_));
  active_.logical_and_(finite);
  iteration_.add_(1);
  optimizer_->zero_grad();
  loss.sum().backward();  // members are independent: each gets its own mean loss's gradient
  optimizer_->step(active_);
  model_.constrain_();  // e.g. Dale's law: every weight keeps its sign
  return r;
}

StepResult Trainer::step(int64_t it, const tasks::TrialBatch& batch, const torch::Tensor& noise) {
  // On a GPU: a few iterations as they are (on the side stream graphs are recorded on), then
  // one recorded as a graph, which every later iteration replays on its own batch.
  constexpr int64_t kWarmUp = 3;
  const bool graph = settings_.cuda_graph && device_.is_cuda() && graph_error_.empty();
  if (graph_.captured()) {
    graph_batch_.inputs.copy_(batch.inputs, /*non_blocking=*/true);
    graph_batch_.targets.copy_(batch.targets, /*non_blocking=*/true);
    graph_batch_.mask.copy_(batch.mask, /*non_blocking=*/true);
    if (noise.defined()) graph_noise_.copy_(noise, /*non_blocking=*/true);
    graph_.replay();
    return graph_result_;
  }
  if (!graph || it == start_step_) return train_step(batch, noise);
  if (!StepGraph::available()) {
    graph_error_ = "this build of richlazy has no CUDA graphs";
    return train_step(batch, noise);
  }
  if (it <= start_step_ + kWarmUp) {
    StepResult r;
    graph_.warm_up([&] { r = train_step(batch, noise); });
    return r;
  }
  graph_batch_ = tasks::TrialBatch{batch.inputs.clone(), batch.targets.clone(), batch.mask.clone(), {}};
  graph_noise_ = noise.defined() ? noise.clone() : torch::Tensor();
  if (graph_.capture([&] { graph_result_ = train_step(graph_batch_, graph_noise_); }, graph_error_)) {
    graph_.replay();
    return graph_result_;
  }
  // Recording runs nothing, so the state is as it was: train this iteration as it is.
  if (graph_error_.empty()) graph_error_ = "the iteration could not be recorded";
  return train_step(batch, noise);
}

void Trainer::log_row(int64_t step, const torch::Tensor& loss, const torch::Tensor& accuracy,
                      TrainOutcome& outcome, const RowFn& on_row) {
  const auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  const metrics::StepInfo info{step, settings_.iterations, loss, accuracy};
  const metrics::HookContext ctx = context();
  std::vector<torch::Tensor> values;
  // In a task sequence the generic measures see the first phase's task through its head, on
  // its probe trials, whichever phase is training: one yardstick throughout.
  if (curriculum_) enter_phase(0, false);
  for (auto& h : hooks_) values.push_back(h.hook->on_step(info, ctx).to(device_, torch::kDouble).reshape({-1}));
  if (curriculum_) {
    enter_phase(step == 0 ? 0 : curriculum_->phase_at(step - 1), false);
    for (const torch::Tensor& row : sequence_values(step).unbind(0)) values.push_back(row);
  }
  values.push_back(diverged_at_);
  values.push_back(diverged_loss_);
  values.push_back(loss.to(torch::kDouble));
  // Every value of this row in one transfer.
  const torch::Tensor host = torch::stack(values).to(torch::kCPU).contiguous();
  const auto table = host.accessor<double, 2>();
  const int64_t H = static_cast<int64_t>(values.size()) - 3;  // the row's values (hooks, sequence)
  double loss_sum = 0;
  int64_t counted = 0;
  for (int64_t e = 0; e < members(); ++e) {
    if (finished_[e]) continue;
    std::vector<double> row;
    for (int64_t j = 0; j < H; ++j) row.push_back(table[j][e]);
    const double diverged_at = table[H][e];
    MemberOutcome& m = outcome.members[e];
    if (diverged_at >= 0) {
      // Its last row is at the update that failed (step 0 has its row already); frozen
      // since, its measures now are those of that step.
      const auto at = static_cast<int64_t>(diverged_at);
      m.status = "diverged";
      m.reason = fmt::format("the training loss became {} at step {}", table[H + 1][e], at);
      m.steps_done = at;
      finished_[e] = true;
      if (at == 0) continue;
      logs_[e].steps.push_back(at);
    } else {
      m.steps_done = step;
      logs_[e].steps.push_back(step);
      loss_sum += table[H + 2][e];
      ++counted;
    }
    logs_[e].rows.push_back(std::move(row));
    if (on_row) on_row(e, logs_[e]);
  }
  if (counted > 0) last_loss_ = loss_sum / counted;
  hook_seconds_ += seconds_since(t0);
}

TrainOutcome Trainer::run(const ProgressFn& on_progress, const RowFn& on_row, const CheckpointFn& on_checkpoint) {
  const auto t0 = std::chrono::steady_clock::now();
  TrainOutcome outcome;
  outcome.members = resumed_outcomes_;
  outcome.members.resize(members());
  outcome.iterations_run = start_step_;
  if (!hooks_begun_) {
    torch::NoGradGuard no_grad;
    const metrics::HookContext ctx = context();
    for (auto& h : hooks_) h.hook->on_train_begin(ctx);
    hooks_begun_ = true;
  }
  std::vector<metrics::MetricHook*> every_update;  // hooks on their own schedule
  for (auto& h : hooks_) {
    if (h.hook->iteration_every() > 0) every_update.push_back(h.hook.get());
  }
  torch::Tensor& loss_sum = loss_sum_;
  torch::Tensor& acc_sum = acc_sum_;
  torch::Tensor& count = count_;
  for (int64_t it = start_step_; it < settings_.iterations; ++it) {
    if (curriculum_ && curriculum_->phase_at(it) != phase_) {
      enter_phase(curriculum_->phase_at(it), curriculum_->reset_optimizer);
    }
    const tasks::TrialBatch batch = next_batch();
    const torch::Tensor noise = next_noise(batch);
    if (it == 0) {
      // Step 0 is scored on the first batch before the first update; the hooks see the
      // initial networks, and the update below uses the same forward pass's batch.
      torch::NoGradGuard no_grad;
      const models::ModelOutput out = model_.forward(batch.inputs);
      log_row(0, tasks::task_loss(current_task().loss(), out.logits, batch).to(torch::kDouble),
              accuracy_of(out.logits, batch), outcome, on_row);
    }
    const StepResult r = step(it, batch, noise);
    {
      torch::NoGradGuard no_grad;
      // The means since the last logged row count each member's updates up to and including
      // the one whose loss was not finite, as a solo run that stops there would.
      const torch::Tensor counted = r.was_active.to(torch::kDouble);
      loss_sum.add_(torch::where(r.was_active, r.loss.to(torch::kDouble), torch::zeros_like(loss_sum)));
      acc_sum.add_(torch::where(r.was_active, r.accuracy, torch::zeros_like(acc_sum)));
      count.add_(counted);
    }
    const int64_t step = it + 1;
    outcome.iterations_run = step;
    if (!every_update.empty()) {
      const auto h0 = std::chrono::steady_clock::now();
      torch::NoGradGuard no_grad;
      const metrics::HookContext ctx = context();
      for (auto* h : every_update) {
        if (step % h->iteration_every() == 0) h->on_iteration(step, ctx);
      }
      hook_seconds_ += seconds_since(h0);
    }
    if (is_logged_step(settings_, step)) {
      log_row(step, loss_sum / count, acc_sum / count, outcome, on_row);
      loss_sum.zero_();
      acc_sum.zero_();
      count.zero_();
    }
    if (on_progress) on_progress(step, last_loss_);
    if (std::all_of(finished_.begin(), finished_.end(), [](bool f) { return f; })) break;
    if (on_checkpoint && settings_.checkpoint_every > 0 && step % settings_.checkpoint_every == 0 &&
        step < settings_.iterations) {
      current_step_ = step;
      on_checkpoint(step);
    }
  }
  outcome.train_seconds = seconds_since(t0);
  outcome.hook_seconds = hook_seconds_;
  return outcome;
}

namespace {
const char* const kStep = "step";
const char* const kPackWide = "#pack";  ///< suffix of the keys of a pack's (not a member's) state
std::string hook_key(std::size_t j, const std::string& key) { return fmt::format("hook/{}/{}", j, key); }
}  // namespace

MemberState Trainer::checkpoint(int64_t e) const {
  torch::NoGradGuard no_grad;
  auto host = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU).clone(); };
  // Per-member entries [E, ...] give member e's slice; 0-dimensional ones are the pack's, and
  // their keys say so (kPackWide), since a slice of an [E] entry is 0-dimensional too.
  auto member_part = [&](const torch::Tensor& t) { return host(t.dim() > 0 ? t[e] : t); };
  auto key_of = [](const std::string& key, const torch::Tensor& t) { return t.dim() > 0 ? key : key + kPackWide; };
  MemberState s;
  s[kStep] = torch::tensor(current_step_, torch::kLong);
  for (const auto& kv : model_.named_parameters()) s["weight/" + kv.key()] = member_part(kv.value());
  for (const auto& [key, t] : optimizer_->state()) s[key_of("optimizer/" + key, t)] = member_part(t);
  for (std::size_t j = 0; j < hooks_.size(); ++j) {
    for (const auto& [key, t] : hooks_[j].hook->save_state()) s[key_of(hook_key(j, key), t)] = member_part(t);
  }
  s["stream/train"] = host(train_streams_.state(e));
  s["stream/noise"] = host(noise_streams_.state(e));
  s["trainer/active"] = member_part(active_);
  s["trainer/diverged_at"] = member_part(diverged_at_);
  s["trainer/diverged_loss"] = member_part(diverged_loss_);
  s["trainer/iteration"] = member_part(iteration_);
  s["trainer/loss_sum"] = member_part(loss_sum_);
  s["trainer/acc_sum"] = member_part(acc_sum_);
  s["trainer/count"] = member_part(count_);
  const MetricLog& log = logs_.at(e);
  s["log/steps"] = torch::tensor(log.steps.empty() ? std::vector<int64_t>{} : log.steps, torch::kLong);
  const int64_t columns = static_cast<int64_t>(log.columns.size());
  torch::Tensor rows = torch::empty({static_cast<int64_t>(log.rows.size()), columns}, torch::kDouble);
  for (std::size_t i = 0; i < log.rows.size(); ++i) {
    if (static_cast<int64_t>(log.rows[i].size()) != columns) throw std::logic_error("a metrics row of the wrong width");
    std::copy(log.rows[i].begin(), log.rows[i].end(), rows.data_ptr<double>() + i * columns);
  }
  s["log/rows"] = rows;
  s["log/finished"] = torch::tensor(static_cast<bool>(finished_.at(e)));
  return s;
}

void Trainer::resume(const std::vector<MemberState>& states) {
  torch::NoGradGuard no_grad;
  const int64_t E = members();
  if (static_cast<int64_t>(states.size()) != E) {
    throw std::runtime_error(fmt::format("a pack of {} networks cannot resume from {} checkpoints", E, states.size()));
  }
  auto entry = [&](int64_t e, const std::string& key) -> const torch::Tensor& {
    const auto it = states[e].find(key);
    if (it == states[e].end()) throw std::runtime_error("the checkpoint has no entry " + key);
    return it->second;
  };
  const int64_t step = entry(0, kStep).item<int64_t>();
  for (int64_t e = 1; e < E; ++e) {
    if (entry(e, kStep).item<int64_t>() != step) {
      throw std::runtime_error("the members of a pack must resume from the same step");
    }
  }
  if (step <= 0 || step >= settings_.iterations) {
    throw std::runtime_error(fmt::format("a checkpoint at step {} of {} cannot be resumed", step, settings_.iterations));
  }
  // Members' entries stacked again: [E, ...] from each member's slice; the pack's from member 0.
  auto stacked = [&](const std::string& key, const torch::Tensor& like) {
    if (like.dim() == 0) return entry(0, key).to(like.device(), like.scalar_type());
    std::vector<torch::Tensor> parts;
    for (int64_t e = 0; e < E; ++e) parts.push_back(entry(e, key));
    const torch::Tensor t = torch::stack(parts).to(like.device(), like.scalar_type());
    if (t.sizes() != like.sizes()) {
      throw std::runtime_error(fmt::format("the checkpoint's {} has shape {}, this run's {}", key,
                                           fmt::join(t.sizes(), "x"), fmt::join(like.sizes(), "x")));
    }
    return t;
  };
  // The entries under `prefix`, members' slices stacked again; the pack's from the first
  // member that has it. Members trained in other packs may lack an entry that this pack's
  // others have (SGD keeps momentum buffers only for a pack with momentum): theirs are zeros,
  // which the optimizers' state is when fresh.
  auto prefixed = [&](const std::string& prefix) {
    std::map<std::string, torch::Tensor> out;
    const std::string wide = kPackWide;
    std::map<std::string, torch::Tensor> keys;  // every key under the prefix, with an example
    for (int64_t e = 0; e < E; ++e) {
      for (const auto& [key, t] : states[e]) {
        if (key.rfind(prefix, 0) == 0) keys.emplace(key, t);
      }
    }
    for (const auto& [key, example] : keys) {
      std::string name = key.substr(prefix.size());
      if (name.size() > wide.size() && name.compare(name.size() - wide.size(), wide.size(), wide) == 0) {
        out[name.substr(0, name.size() - wide.size())] = example;
        continue;
      }
      std::vector<torch::Tensor> parts;
      for (int64_t e = 0; e < E; ++e) {
        const auto it = states[e].find(key);
        parts.push_back(it == states[e].end() ? torch::zeros_like(example) : it->second);
      }
      out[name] = torch::stack(parts);
    }
    return out;
  };
  // The hooks first see the initial weights (which the model holds now), as when training began.
  {
    const metrics::HookContext ctx = context();
    for (auto& h : hooks_) h.hook->on_train_begin(ctx);
    hooks_begun_ = true;
  }
  for (const auto& kv : model_.named_parameters()) {
    torch::Tensor w = kv.value();
    w.copy_(stacked("weight/" + kv.key(), w));
  }
  if (!optimizer_->supports_checkpoints()) {
    throw std::runtime_error("this optimizer does not support checkpoints");
  }
  std::map<std::string, torch::Tensor> opt;
  for (auto& [key, t] : prefixed("optimizer/")) opt[key] = t.to(device_);
  optimizer_->load_state(opt);
  for (std::size_t j = 0; j < hooks_.size(); ++j) {
    std::map<std::string, torch::Tensor> hs;
    for (auto& [key, t] : prefixed(hook_key(j, ""))) hs[key] = t.to(device_);
    if (!hs.empty()) hooks_[j].hook->load_state(hs);
  }
  for (int64_t e = 0; e < E; ++e) {
    train_streams_.set_state(e, entry(e, "stream/train"));
    // Checkpoints written before recurrent noise existed have no noise stream.
    if (const auto it = states[e].find("stream/noise"); it != states[e].end()) noise_streams_.set_state(e, it->second);
  }
  // The phase of the last update done: the boundary's change of phase (a fresh optimizer
  // state, when configured) comes with the next update, as it would have without a stop.
  if (curriculum_) enter_phase(curriculum_->phase_at(step - 1), false);
  active_.copy_(stacked("trainer/active", active_));
  diverged_at_.copy_(stacked("trainer/diverged_at", diverged_at_));
  diverged_loss_.copy_(stacked("trainer/diverged_loss", diverged_loss_));
  iteration_.copy_(stacked("trainer/iteration", iteration_));
  loss_sum_.copy_(stacked("trainer/loss_sum", loss_sum_));
  acc_sum_.copy_(stacked("trainer/acc_sum", acc_sum_));
  count_.copy_(stacked("trainer/count", count_));
  resumed_outcomes_.assign(E, MemberOutcome{});
  for (int64_t e = 0; e < E; ++e) {
    MetricLog& log = logs_[e];
    const torch::Tensor steps = entry(e, "log/steps").to(torch::kLong).contiguous();
    const torch::Tensor rows = entry(e, "log/rows").to(torch::kDouble).contiguous();
    if (rows.dim() != 2 || rows.size(0) != steps.numel() ||
        (rows.size(0) > 0 && rows.size(1) != static_cast<int64_t>(log.columns.size()))) {
      throw std::runtime_error("the checkpoint's metrics do not match this run's metric columns");
    }
    log.steps.assign(steps.data_ptr<int64_t>(), steps.data_ptr<int64_t>() + steps.numel());
    log.rows.clear();
    for (int64_t i = 0; i < rows.size(0); ++i) {
      log.rows.emplace_back(rows[i].data_ptr<double>(), rows[i].data_ptr<double>() + rows.size(1));
    }
    finished_[e] = entry(e, "log/finished").item<bool>();
    MemberOutcome& m = resumed_outcomes_[e];
    const double at = entry(e, "trainer/diverged_at").item<double>();
    m.steps_done = step;
    if (finished_[e] && at >= 0) {
      m.status = "diverged";
      m.reason = fmt::format("the training loss became {} at step {}", entry(e, "trainer/diverged_loss").item<double>(),
                             static_cast<int64_t>(at));
      m.steps_done = static_cast<int64_t>(at);
    }
  }
  start_step_ = step;
  current_step_ = step;
}

bool is_logged_step(const TrainSettings& settings, int64_t step) {
  if (step % settings.log_every == 0 || step == settings.iterations) return true;
  if (settings.curriculum && settings.curriculum->is_boundary(step)) return true;
  if (!settings.log_schedule) return false;
  int64_t m = step;
  while (m % 10 == 0) m /= 10;
  return m == 1 || m == 2 || m == 5;
}

}  // namespace richlazy::train

namespace richlazy::train {

int64_t Curriculum::phase_at(int64_t it) const {
  int64_t end = 0;
  for (std::size_t p = 0; p < phases.size(); ++p) {
    end += phases[p].iterations;
    if (it < end) return static_cast<int64_t>(p);
  }
  return static_cast<int64_t>(phases.size()) - 1;
}

int64_t Curriculum::end_of(int64_t p) const {
  int64_t end = 0;
  for (int64_t q = 0; q <= p && q < static_cast<int64_t>(phases.size()); ++q) end += phases[q].iterations;
  return end;
}

bool Curriculum::is_boundary(int64_t step) const {
  for (int64_t p = 0; p + 1 < static_cast<int64_t>(phases.size()); ++p) {
    if (end_of(p) == step) return true;
  }
  return false;
}

int64_t Curriculum::first_phase_of(int64_t task) const {
  for (std::size_t p = 0; p < phases.size(); ++p) {
    if (phases[p].task == task) return static_cast<int64_t>(p);
  }
  return -1;
}

std::vector<std::string> Curriculum::row_columns() const {
  std::vector<std::string> out{"phase"};
  for (const auto& t : tasks) {
    out.push_back("test_loss@" + t.label);
    out.push_back("test_accuracy@" + t.label);
  }
  out.push_back("kernel_overlap");
  return out;
}

std::vector<std::string> Curriculum::summary_columns() const {
  std::vector<std::string> out;
  const int64_t last = static_cast<int64_t>(phases.size()) - 1;
  for (std::size_t k = 0; k < tasks.size(); ++k) {
    if (first_phase_of(static_cast<int64_t>(k)) < last) {
      out.push_back("forgetting@" + tasks[k].label);
      out.push_back("max_forgetting@" + tasks[k].label);
    }
  }
  out.push_back("backward_transfer");
  for (int64_t p = 1; p <= last; ++p) out.push_back(fmt::format("kernel_overlap@{}", p));
  return out;
}

std::vector<double> Curriculum::summary(const MetricLog& log) const {
  const double nan = std::nan("");
  auto column = [&](const std::string& name) -> std::ptrdiff_t {
    const auto it = std::find(log.columns.begin(), log.columns.end(), name);
    return it == log.columns.end() ? -1 : it - log.columns.begin();
  };
  auto at = [&](int64_t step, std::ptrdiff_t j) {
    if (j < 0) return nan;
    for (std::size_t i = 0; i < log.steps.size(); ++i) {
      if (log.steps[i] == step) return log.rows[i][static_cast<std::size_t>(j)];
    }
    return nan;
  };
  // R(p, k): the test accuracy on task k at the end of phase p; for a regression task, minus
  // its test loss (so that forgetting is the rise of its loss).
  auto R = [&](int64_t p, int64_t k) {
    if (tasks[k].task->loss() == tasks::LossKind::cross_entropy) {
      return at(end_of(p), column("test_accuracy@" + tasks[k].label));
    }
    return -at(end_of(p), column("test_loss@" + tasks[k].label));
  };
  const int64_t last = static_cast<int64_t>(phases.size()) - 1;
  std::vector<double> out;
  for (std::size_t k = 0; k < tasks.size(); ++k) {
    const int64_t first = first_phase_of(static_cast<int64_t>(k));
    if (first >= last) continue;
    const double learned = R(first, static_cast<int64_t>(k));
    out.push_back(learned - R(last, static_cast<int64_t>(k)));
    double worst = -std::numeric_limits<double>::infinity();
    for (int64_t p = first + 1; p <= last; ++p) worst = std::max(worst, learned - R(p, static_cast<int64_t>(k)));
    // std::max drops NaN from one side: a missing boundary makes the whole value NaN.
    for (int64_t p = first + 1; p <= last; ++p) {
      if (std::isnan(R(p, static_cast<int64_t>(k)))) worst = nan;
    }
    out.push_back(std::isnan(learned) ? nan : worst);
  }
  // Backward transfer (Lopez-Paz and Ranzato 2017), over phases: the mean change of each
  // earlier phase's task from the end of its phase to the end of the sequence.
  double transfer = nan;
  if (last > 0) {
    transfer = 0;
    for (int64_t p = 0; p < last; ++p) transfer += R(last, phases[p].task) - R(p, phases[p].task);
    transfer /= static_cast<double>(last);
  }
  out.push_back(transfer);
  for (int64_t p = 0; p < last; ++p) out.push_back(at(end_of(p), column("kernel_overlap")));
  return out;
}

}  // namespace richlazy::train
