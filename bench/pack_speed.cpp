// bench/pack_speed.cpp: training throughput of packs of E networks on one device, for the GPU
// check (scripts/gpu_check.sh) and for measuring by hand. No files are written: the networks
// get random weights of the paper's scale and train on 2AF with the paper's SGD, and each
// pack's time per iteration is measured after warm-up iterations.
//   richlazy_pack_speed --device cuda --hidden 300 --members 1,16,256,1024,4096 [--grow]
//                       [--max-seconds S] [--iterations 50] [--warmup 5] [--threads T]
// A pack's time per iteration is the difference between a run of warmup + iterations
// iterations and one of warmup iterations, divided by iterations, so that what happens once
// per run (building the trainer, the first iterations, recording a CUDA graph) cancels; both
// follow an untimed run of warmup iterations that warms the allocator.
// Prints one JSON object per line: {"members", "hidden", "device", "ms_per_iteration",
// "ms_per_network_iteration", "network_iterations_per_second"}, or {"members", "error"} for
// a pack that did not fit. --grow keeps doubling E past the list until a pack does not fit, or
// (with --max-seconds) until measuring one pack took more than S seconds.
#include <richlazy/core/blas_check.h>
#include <richlazy/core/config_source.h>
#include <richlazy/core/device.h>
#include <richlazy/core/registries.h>
#include <richlazy/train/trainer.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>

using namespace richlazy;

namespace {
struct Options {
  std::string device = "auto";
  int64_t hidden = 300, iterations = 50, warmup = 5, threads = 1;
  double max_seconds = 0;  ///< with grow: stop growing after a pack whose measurement took longer
  std::vector<int64_t> members{1, 16, 256};
  bool grow = false;
};

/// Milliseconds per iteration of a pack of E networks, or throws (e.g. out of memory).
double time_pack(const Options& o, int64_t E, torch::Device device) {
  const Registries reg = builtin_registries();
  auto source = std::make_shared<ConfigSource>("pack_speed");
  Params tp(YAML::Load("{name: 2AF}"), "task", source, {});
  const auto task = reg.tasks.create(tp);
  Params mp(YAML::Load(fmt::format("{{name: ctrnn, hidden_size: {}}}", o.hidden)), "model", source, {});
  const auto builder = reg.models.create(mp, models::TaskShape{3, 3, 100});
  const auto model = builder->build(E);
  {
    torch::NoGradGuard no_grad;
    const double n = static_cast<double>(o.hidden);
    model->weight("W_in").uniform_(-1 / std::sqrt(3.0), 1 / std::sqrt(3.0));
    model->weight("W_rec").normal_(0, 1.25 / std::sqrt(n));
    model->weight("W_out").uniform_(-1 / std::sqrt(n), 1 / std::sqrt(n));
  }
  model->to(device);
  Params op(YAML::Load("{name: sgd}"), "optimizer", source, {});
  const auto sgd = reg.optimizers.create(op);
  std::vector<uint64_t> seeds;
  for (int64_t e = 0; e < E; ++e) seeds.push_back(static_cast<uint64_t>(e));
  const std::vector<const train::OptimizerBuilder*> optimizers(E, sgd.get());
  auto run = [&](int64_t iterations) {
    train::TrainSettings s;
    s.iterations = iterations;
    s.log_every = iterations;
    s.probe_trials = 1;
    s.kernel_trials = 1;
    train::Trainer trainer(*model, *task, seeds, optimizers, {}, s, device);
    const train::TrainOutcome out = trainer.run();
    return out.train_seconds;
  };
  // Each run ends with a logged row, which synchronises the device.
  run(o.warmup);
  const double base = run(o.warmup);
  const double total = run(o.warmup + o.iterations);
  // Noise can make the difference vanish for tiny packs: then the whole run's mean.
  const double ms = total > base ? (total - base) / static_cast<double>(o.iterations)
                                 : total / static_cast<double>(o.warmup + o.iterations);
  return ms * 1000.0;
}

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoll(item));
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
  for (int i = 1; i + 1 < argc || (i < argc && std::string(argv[i]) == "--grow"); ++i) {
    const std::string a = argv[i];
    if (a == "--grow") {
      o.grow = true;
      continue;
    }
    const std::string v = argv[++i];
    if (a == "--device") o.device = v;
    else if (a == "--hidden") o.hidden = std::stoll(v);
    else if (a == "--iterations") o.iterations = std::stoll(v);
    else if (a == "--warmup") o.warmup = std::stoll(v);
    else if (a == "--threads") o.threads = std::stoll(v);
    else if (a == "--members") o.members = parse_list(v);
    else if (a == "--max-seconds") o.max_seconds = std::stod(v);
    else {
      std::fprintf(stderr, "richlazy_pack_speed: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  } catch (const std::exception&) {
    std::fprintf(stderr, "richlazy_pack_speed: bad command line (numbers expected after --hidden, --iterations, "
                         "--warmup, --threads, --max-seconds and a comma-separated list after --members)\n");
    return 2;
  }
  at::set_num_threads(static_cast<int>(o.threads));
  set_blas_threads(static_cast<int>(o.threads));  // the products that go to the BLAS directly
  const torch::Device device = resolve_device(o.device, "--device");
  std::vector<int64_t> sizes = o.members;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const int64_t E = sizes[k];
    try {
      const auto t0 = std::chrono::steady_clock::now();
      const double ms = time_pack(o, E, device);
      const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("{\"members\": %lld, \"hidden\": %lld, \"device\": \"%s\", \"ms_per_iteration\": %.4f, "
                  "\"ms_per_network_iteration\": %.6f, \"network_iterations_per_second\": %.1f}\n",
                  static_cast<long long>(E), static_cast<long long>(o.hidden), device.str().c_str(), ms,
                  ms / static_cast<double>(E), ms > 0 ? 1000.0 * static_cast<double>(E) / ms : 0.0);
      if (o.grow && k + 1 == sizes.size() && (o.max_seconds <= 0 || took <= o.max_seconds)) sizes.push_back(2 * E);
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      for (auto& c : what) c = c == '"' ? '\'' : c;
      std::printf("{\"members\": %lld, \"error\": \"%s\"}\n", static_cast<long long>(E), what.c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}
