// apps/cli.cpp: argument parsing (CLI11) and error reporting for the richlazy binary.
#include <richlazy/apps/cli.h>

#include <richlazy/apps/commands.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/device.h>
#include <richlazy/train/summary.h>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <new>
#include <string>

namespace richlazy {

namespace {
std::string first_line(const std::string& text) {
  const auto nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}
}  // namespace

int run_cli(int argc, char** argv, const Registries& reg) {
  CLI::App app{"richlazy: how connectivity structure shapes rich and lazy learning in recurrent "
               "networks (Liu et al., ICLR 2024), on LibTorch"};
  app.require_subcommand(1);
  app.set_version_flag("--version", train::version_string());
  std::function<int()> action;

  // --- run -----------------------------------------------------------------------------
  train::ExperimentOptions run_opts;
  CLI::App* run = app.add_subcommand("run", "run an experiment: every run of its sweep");
  run->add_option("config", run_opts.config_path, "experiment config (YAML)")->required();
  run->add_option("--set", run_opts.sets,
                  "override a config key: --set train.iterations=2000, "
                  "--set sweep.seed=[0,1,2] (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  run->add_option("--out", run_opts.out_dir, "output folder (default: results)");
  run->add_option("--device", run_opts.device, "cpu | cuda | auto (overrides the config)")
      ->check(CLI::IsMember(device_choices()));
  run->add_option("--jobs", run_opts.jobs,
                  "packs of runs trained at the same time; 0 = cores / threads on the CPU, 1 on a "
                  "GPU (default 0); results do not depend on it")
      ->check(CLI::Range(0, 256));
  run->add_option("--threads", run_opts.threads,
                  "CPU threads of each pack (default 1); the last digits of results depend on it")
      ->check(CLI::Range(1, 256));
  std::string pack;
  CLI::Option* pack_option = run->add_option(
      "--pack", pack,
      "auto | N: train up to N runs that differ only in seed, init or optimizer "
      "hyperparameters together, as one batched model (overrides train.pack; "
      "default auto: when that is faster on the device; 1 = off)");
  run->add_flag("--quiet", run_opts.quiet, "no progress line or per-run log lines");
  run->add_flag("--overwrite", run_opts.overwrite, "replace an existing output folder");
  run->add_flag("--dry-run", run_opts.dry_run,
                "validate the config and plan the sweep (runs, packs), print the plan and exit; "
                "nothing is trained or written");
  bool no_report = false;
  run->add_flag("--no-report", no_report, "do not write the report (figures and index.html) at the end");
  run->add_flag("--resume", run_opts.resume,
                "continue an existing output folder made with the same config: complete runs are kept, runs "
                "another process is training are left to it, killed runs continue from their checkpoints "
                "(train.checkpoint_every); many processes may run the same sweep with --resume at once");
  run->add_flag("--retry-failed", run_opts.retry_failed, "with --resume: train runs whose status is failed again");
  std::string shard;
  CLI::Option* shard_option = run->add_option(
      "--shard", shard,
      "K/N: train only shard K (0 to N-1) of N, a fixed split of the sweep (whole packs); shards share the "
      "output folder as with --resume (richlazy gather DIR lists them all)");
  run->callback([&] {
    if (pack_option->count() > 0) run_opts.pack = pack;  // given, even if empty
    if (shard_option->count() > 0) {
      const auto slash = shard.find('/');
      long k = -1, n = 0;
      try {
        std::size_t used_k = 0, used_n = 0;
        if (slash != std::string::npos) {
          k = std::stol(shard.substr(0, slash), &used_k);
          n = std::stol(shard.substr(slash + 1), &used_n);
        }
        if (used_k != slash || used_n != shard.size() - slash - 1) n = 0;
      } catch (const std::exception&) {
        n = 0;
      }
      if (n < 1 || n > 1000000 || k < 0 || k >= n) {
        throw CLI::ValidationError("--shard", "expected K/N with 0 <= K < N, e.g. --shard 0/4, got " + shard);
      }
      run_opts.shard_index = static_cast<int>(k);
      run_opts.shard_count = static_cast<int>(n);
    }
    if (run_opts.overwrite && train::shares_folder(run_opts)) {
      throw CLI::ValidationError("--overwrite", "cannot be combined with --resume or --shard (it would delete the "
                                                "runs they continue)");
    }
    if (run_opts.retry_failed && !train::shares_folder(run_opts)) {
      throw CLI::ValidationError("--retry-failed", "needs --resume or --shard");
    }
    action = [&] { return apps::command_run(run_opts, reg, no_report); };
  });

  // --- gather --------------------------------------------------------------------------
  std::string gather_dir;
  bool gather_quiet = false;
  CLI::App* gather = app.add_subcommand(
      "gather", "summary.csv and the final tables of an experiment folder, from its runs' summary.json files "
                "(exit status 3 while runs are missing)");
  gather->add_option("experiment_dir", gather_dir, "experiment folder (results/<experiment>)")->required();
  gather->add_flag("--quiet", gather_quiet, "print only the line saying how many runs are complete");
  gather->callback([&] { action = [&] { return apps::command_gather(gather_dir, gather_quiet); }; });

  // --- submit --------------------------------------------------------------------------
  apps::SubmitArgs submit_args;
  CLI::App* submit = app.add_subcommand(
      "submit", "run an experiment on a cluster: a Slurm job array over shards of the sweep, then a job that "
                "gathers summary.csv and writes the report");
  submit->add_option("config", submit_args.run.config_path, "experiment config (YAML)")->required();
  bool use_slurm = false;
  submit->add_flag("--slurm", use_slurm, "submit with Slurm's sbatch (the one scheduler supported)")->required();
  submit->add_option("--set", submit_args.run.sets, "override a config key (repeatable), as for run")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  submit->add_option("--out", submit_args.run.out_dir, "output folder, on storage every node sees (default: results)");
  submit->add_option("--device", submit_args.run.device, "cpu | cuda | auto (overrides the config)")
      ->check(CLI::IsMember(device_choices()));
  submit->add_option("--threads", submit_args.run.threads, "CPU threads of each pack (default 1)")
      ->check(CLI::Range(1, 256));
  std::string submit_pack;
  CLI::Option* submit_pack_option = submit->add_option("--pack", submit_pack, "auto | N, as for run");
  submit->add_flag("--retry-failed", submit_args.run.retry_failed, "train runs whose status is failed again");
  submit->add_option("--partition", submit_args.partition, "Slurm partition (sbatch --partition)");
  submit->add_option("--time", submit_args.time, "time limit of each array task, e.g. 2:00:00 (sbatch --time)");
  submit->add_option("--cpus-per-task", submit_args.cpus_per_task,
                     "CPUs of each array task; its packs train one per CPU (default 1)")
      ->check(CLI::Range(1, 4096));
  submit->add_option("--mem", submit_args.mem, "memory of each array task, e.g. 8G (sbatch --mem)");
  submit->add_option("--gpus", submit_args.gpus, "GPUs of each array task (sbatch --gpus)");
  submit->add_option("--account", submit_args.account, "account to charge (sbatch --account)");
  submit->add_option("--array-limit", submit_args.array_limit, "at most K array tasks running at once (--array=...%K)")
      ->check(CLI::Range(1, 1000000));
  submit->add_option("--shards", submit_args.shards,
                     "array tasks, each training a share of the sweep (default: one per run, at most 100)")
      ->check(CLI::Range(1, 10000000));
  submit->add_option("--sbatch", submit_args.sbatch_options,
                     "another sbatch option for the jobs, e.g. --sbatch=--qos=short (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  bool submit_no_report = false;
  submit->add_flag("--no-report", submit_no_report, "the last job gathers summary.csv but writes no report");
  submit->add_flag("--dry-run", submit_args.dry_run,
                   "validate the config, print the job scripts and the sbatch commands; write and submit nothing");
  submit->callback([&] {
    if (submit_pack_option->count() > 0) submit_args.run.pack = submit_pack;
    submit_args.report = !submit_no_report;
    action = [&] { return apps::command_submit(submit_args, reg); };
  });

  // --- report --------------------------------------------------------------------------
  apps::ReportArgs report_args;
  CLI::App* report = app.add_subcommand(
      "report", "figures (PNG + SVG/PDF) and an index.html page for an experiment folder");
  report->add_option("experiment_dir", report_args.experiment_dir,
                     "experiment folder written by richlazy run (results/<experiment>)")
      ->required();
  report->add_option("--out", report_args.out_dir, "report folder (default EXPERIMENT_DIR/report)");
  report->add_option("--formats", report_args.formats,
                     "figure formats besides png: svg, pdf (default png,svg)")
      ->delimiter(',')
      ->check(CLI::IsMember({"png", "svg", "pdf"}));
  report->add_option("--metrics", report_args.metrics,
                     "panels of the final-value figure (default: the config's report.metrics, else "
                     "dw_rec,rep_alignment,kernel_alignment)")
      ->delimiter(',');
  report->add_option("--x", report_args.x,
                     "the swept key on the x axis (default: the config's report.x, else the first swept "
                     "initialization key)");
  report->add_option("--python", report_args.python,
                     "Python with matplotlib (default $RICHLAZY_PYTHON, else /usr/bin/python3)");
  report->callback([&] { action = [&] { return apps::command_report(report_args); }; });

  // --- eval ----------------------------------------------------------------------------
  apps::EvalArgs eval_args;
  CLI::App* eval = app.add_subcommand(
      "eval", "run a trained network (a run folder's saved weights) on fresh trials of its task or another, "
              "writing inputs, targets, logits and hidden states as .npy with index.json");
  eval->add_option("run_dir", eval_args.run_dir, "run folder: DIR/<experiment>/runs/<run_id>")->required();
  eval->add_option("--which", eval_args.which, "init | final (default final)");
  eval->add_option("--task", eval_args.task, "another task to run it on (default: the run's own)");
  std::vector<std::string> eval_sets;
  eval->add_option("--set", eval_sets, "task option KEY=VALUE (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  eval->add_option("--trials", eval_args.trials, "trials to draw (default 1000)");
  eval->add_option("--seed", eval_args.seed, "seed of the trials' stream (default 0)");
  eval->add_option("--out", eval_args.out_dir, "output folder (default RUN_DIR/eval/<which>-<task>-seed<S>)");
  eval->callback([&] {
    action = [&] {
      eval_args.options = apps::parse_task_sets(eval_sets);
      return apps::command_eval(eval_args, reg);
    };
  });

  // --- info ----------------------------------------------------------------------------
  CLI::App* info = app.add_subcommand(
      "info", "LibTorch version, whether CUDA is built in and available, the devices, the CPU BLAS");
  info->callback([&] { action = [] { return apps::command_info(); }; });

  // --- list ----------------------------------------------------------------------------
  std::string list_what;
  CLI::App* list = app.add_subcommand("list", "list registered components and their parameters");
  list->add_option("what", list_what, "initializers | tasks | models | metrics | optimizers | config")
      ->check(CLI::IsMember({"initializers", "tasks", "models", "metrics", "optimizers", "config"}));
  list->callback([&] { action = [&] { return apps::command_list(list_what, reg); }; });

  // --- tasks stats ---------------------------------------------------------------------
  apps::TaskStatsArgs stats_args;
  CLI::App* tasks = app.add_subcommand("tasks", "inspect tasks");
  tasks->require_subcommand(1);
  CLI::App* stats = tasks->add_subcommand("stats", "per-step input statistics and label fractions");
  stats->add_option("task", stats_args.task, "task name (richlazy list tasks)")->required();
  stats->add_option("--trials", stats_args.trials, "trials to draw (default 20000)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  stats->add_option("--seed", stats_args.seed, "seed (default 0)");
  stats->add_option("--json", stats_args.json_path, "also write the statistics as JSON");
  stats->add_option("--set", stats_args.sets, "task option KEY=VALUE, e.g. --set dt_ms=20 (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  stats->callback([&] { action = [&] { return apps::command_task_stats(stats_args, reg); }; });

  apps::TaskSampleArgs sample_args;
  CLI::App* sample = tasks->add_subcommand(
      "sample", "write trials as .npy files (inputs, targets, mask, per-trial variables) + index.json");
  sample->add_option("task", sample_args.task, "task name (richlazy list tasks)")->required();
  sample->add_option("--trials", sample_args.trials, "trials to draw (default 16)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  sample->add_option("--seed", sample_args.seed, "seed (default 0)");
  sample->add_option("--out", sample_args.out_dir, "output folder")->required();
  sample->add_option("--set", sample_args.sets, "task option KEY=VALUE (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sample->callback([&] { action = [&] { return apps::command_task_sample(sample_args, reg); }; });

  // --- init describe -------------------------------------------------------------------
  apps::InitDescribeArgs init_args;
  CLI::App* init = app.add_subcommand("init", "inspect initializers");
  init->require_subcommand(1);
  CLI::App* describe = init->add_subcommand(
      "describe", "build one initial matrix and print its rank, norms and effective ranks");
  auto* cfg = describe->add_option("--config", init_args.config_path,
                                   "take the initializer of --param from this config");
  auto* spec = describe->add_option("--spec", init_args.spec,
                                    "initializer spec as a YAML flow map, e.g. "
                                    "'{name: low_rank, rank: 30}'");
  cfg->excludes(spec);
  describe->add_option("--set", init_args.sets, "override a config key (with --config)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->needs(cfg);
  describe->add_option("--param", init_args.param,
                       "parameter to build (default: the model's recurrent weight, W_rec)");
  describe->add_option("--size", init_args.size, "matrix size N for --spec (default: the size of the matrix file a file-based "
                       "initializer reads, else 300)")
      ->check(CLI::Range(int64_t{1}, int64_t{20000}));
  describe->add_option("--seed", init_args.seed, "seed (default: 0, or the config's seed)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  describe->add_option("--npy", init_args.npy_path, "write the matrix as .npy");
  describe->add_option("--json", init_args.json_path, "write the figures as JSON");
  describe->callback([&] {
    if (init_args.config_path.empty() && init_args.spec.empty()) {
      throw CLI::ValidationError("init describe", "needs --config CONFIG.yaml or --spec 'YAML'");
    }
    action = [&] { return apps::command_init_describe(init_args, reg); };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a command line that cannot be parsed is bad input.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return action ? action() : 0;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "richlazy: error: %s\n", e.what());
    return 2;
  } catch (const c10::Error& e) {
    // LibTorch's message, without the C++ stack trace it carries: its first line.
    std::fprintf(stderr, "richlazy: error: LibTorch: %s\n", first_line(e.what_without_backtrace()).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "richlazy: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "richlazy: error: %s\n", first_line(e.what()).c_str());
    return 1;
  }
}

}  // namespace richlazy
