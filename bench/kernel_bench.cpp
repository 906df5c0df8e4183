// bench/kernel_bench.cpp: the tangent kernel at the paper's size (N = 300, 768 rows), by
// (b) one backward pass per row into a preallocated Jacobian and (c) the fast factorized
// method. Writes the network, the kernel inputs and both kernels as .npy files into DIR so
// that bench/reference_kernel.py can time (a), the reference's Python loop, on the same
// network, and prints the times as JSON. Run all three with bench/kernel_speed.sh.
#include <richlazy/core/registries.h>
#include <richlazy/core/npy.h>
#include <richlazy/core/seeding.h>
#include <richlazy/init/apply.h>
#include <richlazy/metrics/laziness.h>

#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

using namespace richlazy;

namespace {
template <class F>
double best_seconds(int reps, F&& f) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: richlazy_kernel_bench OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const Registries reg = builtin_registries();
  auto source = std::make_shared<ConfigSource>("bench");
  Params tp(YAML::Load("{name: 2AF}"), "task", source, {});
  const auto task = reg.tasks.create(tp);
  Params mp(YAML::Load("{name: ctrnn, hidden_size: 300}"), "model", source, {});
  const auto builder = reg.models.create(mp, models::TaskShape{3, 3, 100});
  auto model = builder->build();
  Params ip(YAML::Load("{}"), "init", source, {});
  init::apply_initializers(*model, init::plan_initializers(ip, builder->parameters(), reg.initializers), 0);
  at::Generator gen = stream_generator(0, "probe");
  const torch::Tensor inputs = task->sample(32, gen).inputs.unsqueeze(1);  // the first 32 probe trials, [T, 1, B, I]
  const std::vector<int64_t> steps{0, 1, 2, 3, 4, 5, 6, 7};

  for (const char* w : {"W_in", "W_rec", "W_out"}) write_npy(dir + "/" + w + ".npy", model->weight(w)[0]);
  write_npy(dir + "/inputs.npy", inputs.squeeze(1));

  torch::Tensor slow, fast;
  const double t_slow = best_seconds(2, [&] {
    slow = metrics::tangent_kernel_bruteforce(*model, "W_rec", inputs, steps);
  });
  const double t_fast = best_seconds(10, [&] {
    fast = metrics::tangent_kernel(*model, "W_rec", inputs, steps);
  });
  write_npy(dir + "/K_bruteforce.npy", slow[0]);
  write_npy(dir + "/K_fast.npy", fast[0]);
  std::printf("{\"rows\": %lld, \"bruteforce_seconds\": %.6f, \"fast_seconds\": %.6f}\n",
              static_cast<long long>(fast.size(1)), t_slow, t_fast);
  return 0;
}
