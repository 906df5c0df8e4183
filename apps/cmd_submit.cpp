// apps/cmd_submit.cpp: `richlazy submit --slurm`: a sweep as a Slurm job array.
// Slurm does the scheduling: each array task runs `richlazy run --shard K/N --resume` on its
// share of the sweep (train/packing.h: shard_runs), and a job that depends on the array
// (afterany) gathers summary.csv and writes the report. Tasks that are preempted, requeued,
// killed or resubmitted continue where their runs stopped (checkpoints plus --resume).
#include <richlazy/apps/commands.h>

#include <richlazy/core/atomic_file.h>
#include <richlazy/core/config_error.h>
#include <richlazy/core/subprocess.h>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

namespace richlazy::apps {

namespace fs = std::filesystem;

namespace {
/// `text` as one word of a POSIX shell.
std::string shell_word(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// The cluster's MaxArraySize (array indices run from 0 to it minus 1), from `scontrol show
/// config`; Slurm's default, 1001, when it cannot be read.
int64_t max_array_size() {
  try {
    const ProcessResult r = run_process({"scontrol", "show", "config"});
    std::smatch m;
    static const std::regex re(R"(MaxArraySize\s*=\s*(\d+))");
    if (r.status == 0 && std::regex_search(r.output, m, re)) return std::max<int64_t>(1, std::stoll(m[1]));
  } catch (const std::exception&) {
  }
  return 1001;
}

/// The job id `sbatch --parsable` printed ("123" or "123;cluster"), or "" when none.
std::string parsed_job_id(const std::string& output) {
  static const std::regex re(R"((^|\n)(\d+)(;[^\n]*)?\s*$)");
  std::smatch m;
  return std::regex_search(output, m, re) ? m[2].str() : std::string();
}

std::string first_lines(const std::string& text) {
  std::string out = text.substr(0, 400);
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}
}  // namespace

int command_submit(const SubmitArgs& args, const Registries& registries) {
  train::ExperimentOptions o = args.run;
  o.resume = true;
  o.dry_run = false;
  // Validate everything a task would, here, before anything is queued.
  const train::ExperimentPlan plan = train::plan_experiment(o, registries);
  const std::size_t runs = plan.runs.size();
  const int shards = args.shards > 0 ? args.shards : static_cast<int>(std::min<std::size_t>(runs, 100));
  if (static_cast<std::size_t>(shards) > runs) {
    throw ConfigError(fmt::format("--shards {}: the sweep has only {} run{}; use at most that many shards", shards,
                                  runs, runs == 1 ? "" : "s"));
  }
  const fs::path dir = fs::absolute(plan.dir);
  const fs::path slurm = dir / "slurm";
  const fs::path logs = slurm / "logs";

  // The command every task runs, with absolute paths (tasks start in the submit folder, but
  // a config may be moved later).
  std::error_code ec;
  fs::path binary = fs::read_symlink("/proc/self/exe", ec);
  if (ec) binary = "richlazy";
  std::string run = shell_word(binary.string()) + " run " + shell_word(fs::absolute(o.config_path).string());
  for (const auto& s : o.sets) run += " --set " + shell_word(s);
  run += " --out " + shell_word(fs::absolute(o.out_dir).string());
  if (!o.device.empty()) run += " --device " + shell_word(o.device);
  if (o.pack) run += " --pack " + shell_word(*o.pack);
  if (o.retry_failed) run += " --retry-failed";
  run += fmt::format(" --threads {}", o.threads);
  // On CPUs a task trains one pack per CPU Slurm gives it; with GPUs, one at a time (the
  // default there: a GPU parallelizes inside a pack).
  // (CPUs / threads packs, so that packs times threads fill the CPUs without oversubscribing them)
  if (args.gpus.empty()) {
    run += o.threads == 1 ? std::string(" --jobs \"${SLURM_CPUS_PER_TASK:-1}\"")
                          : fmt::format(" --jobs \"$(( ${{SLURM_CPUS_PER_TASK:-1}} / {0} > 0 ? "
                                        "${{SLURM_CPUS_PER_TASK:-1}} / {0} : 1 ))\"",
                                        o.threads);
  }
  run += " --resume --no-report";
  run += fmt::format(" --shard \"$((SLURM_ARRAY_TASK_ID + ${{RICHLAZY_SHARD_OFFSET:-0}}))/{}\"", shards);

  std::string job = "#!/bin/bash\n";
  job += fmt::format("# Written by `richlazy submit --slurm` for experiment {} ({} runs in {} shards).\n",
                     plan.name, runs, shards);
  job += "# Each array task trains one shard of the sweep; rerunning or requeueing a task continues it\n"
         "# (--resume: complete runs are skipped, killed ones continue from their checkpoints).\n";
  // The cluster options both jobs share (the gather job needs no GPU).
  std::string common;
  auto directive = [&](const std::string& option, const std::string& value) {
    if (!value.empty()) common += fmt::format("#SBATCH --{}={}\n", option, value);
  };
  directive("partition", args.partition);
  directive("time", args.time);
  directive("mem", args.mem);
  directive("account", args.account);
  for (const auto& s : args.sbatch_options) common += "#SBATCH " + s + "\n";
  const std::string name = "richlazy-" + plan.name;
  job += fmt::format("#SBATCH --job-name={}\n", name);
  job += fmt::format("#SBATCH --cpus-per-task={}\n", args.cpus_per_task);
  job += common;
  if (!args.gpus.empty()) job += fmt::format("#SBATCH --gpus={}\n", args.gpus);
  job += fmt::format("#SBATCH --output={}\n", (logs / "shard_%A_%a.out").string());
  job += "#SBATCH --requeue\n#SBATCH --open-mode=append\n";
  job += fmt::format("set -euo pipefail\ncd {}\nexec {}\n", shell_word(fs::current_path().string()), run);

  std::string gather = "#!/bin/bash\n";
  gather += fmt::format("# Written by `richlazy submit --slurm`: runs after every shard of {} has ended (afterany),\n"
                        "# gathers summary.csv from the runs' summary.json files and writes the report.\n",
                        plan.name);
  gather += fmt::format("#SBATCH --job-name={}-gather\n#SBATCH --cpus-per-task=1\n", name);
  gather += common;
  gather += fmt::format("#SBATCH --output={}\n", (logs / "gather_%j.out").string());
  gather += fmt::format("set -uo pipefail\n{} gather {}\nstatus=$?\n", shell_word(binary.string()), shell_word(dir.string()));
  if (args.report) {
    gather += fmt::format("{} report {} || echo \"richlazy: warning: no report (see above)\" >&2\n",
                          shell_word(binary.string()), shell_word(dir.string()));
  }
  gather += "exit $status\n";

  const int64_t max_array = max_array_size();
  std::vector<std::pair<int64_t, int64_t>> arrays;  // (offset, tasks)
  for (int64_t offset = 0; offset < shards; offset += max_array) {
    arrays.emplace_back(offset, std::min<int64_t>(max_array, shards - offset));
  }
  auto array_spec = [&](int64_t tasks) {
    return fmt::format("--array=0-{}{}", tasks - 1, args.array_limit > 0 ? fmt::format("%{}", args.array_limit) : "");
  };

  if (args.dry_run) {
    std::fputs(fmt::format("experiment {}: {} runs in {} shards -> {} (dry run: nothing written or submitted)\n",
                           plan.name, runs, shards, dir.string())
                   .c_str(),
               stdout);
    for (const auto& [offset, tasks] : arrays) {
      std::fputs(fmt::format("would run: sbatch --parsable {} --export=ALL,RICHLAZY_SHARD_OFFSET={} {}\n",
                             array_spec(tasks), offset, (slurm / "job.sbatch").string())
                     .c_str(),
                 stdout);
    }
    std::fputs(fmt::format("would run: sbatch --parsable --dependency=afterany:<the array jobs> {}\n\n"
                           "--- {} ---\n{}\n--- {} ---\n{}",
                           (slurm / "gather.sbatch").string(), (slurm / "job.sbatch").string(), job,
                           (slurm / "gather.sbatch").string(), gather)
                   .c_str(),
               stdout);
    return 0;
  }

  // Nothing is written where nothing can be submitted.
  if (run_process({"sbatch", "--version"}).status == 127) {
    throw ConfigError("sbatch: not found; submit from a machine with Slurm's client commands (a login node), "
                      "or run the sweep here with `richlazy run`");
  }
  // The folder first (a changed config is refused here, not in every task), then the scripts.
  const bool created = !fs::exists(dir);
  train::prepare_shared_folder(plan, o);
  fs::create_directories(logs);
  write_file_atomic((slurm / "job.sbatch").string(), job);
  write_file_atomic((slurm / "gather.sbatch").string(), gather);

  auto sbatch = [&](const std::vector<std::string>& extra, const fs::path& script) {
    std::vector<std::string> argv{"sbatch", "--parsable"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(script.string());
    const ProcessResult r = run_process(argv);
    const std::string id = parsed_job_id(r.output);
    if (r.status == 127) {
      throw ConfigError("sbatch: not found; submit from a machine with Slurm's client commands (a login node), "
                        "or run the sweep here with `richlazy run`");
    }
    if (r.status != 0 || id.empty()) {
      throw ConfigError(fmt::format("sbatch {} failed (exit status {}): {}", script.string(), r.status,
                                    first_lines(r.output)));
    }
    return id;
  };
  std::vector<std::string> ids;
  std::string gather_id;
  try {
    for (const auto& [offset, tasks] : arrays) {
      ids.push_back(sbatch({array_spec(tasks), fmt::format("--export=ALL,RICHLAZY_SHARD_OFFSET={}", offset)},
                           slurm / "job.sbatch"));
    }
    std::string dependency = "--dependency=afterany";
    for (const auto& id : ids) dependency += ":" + id;
    gather_id = sbatch({dependency}, slurm / "gather.sbatch");
  } catch (const ConfigError&) {
    // Refused by Slurm (an unknown partition, a time over the limit, ...): what this command
    // submitted is cancelled, and a folder it made is removed, so that it can simply be rerun.
    if (!ids.empty()) {
      std::vector<std::string> cancel{"scancel"};
      cancel.insert(cancel.end(), ids.begin(), ids.end());
      run_process(cancel);
    }
    std::error_code ec;
    if (created && ids.empty()) fs::remove_all(dir, ec);
    throw;
  }

  std::string arrays_text;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    arrays_text += fmt::format("{}{} (shards {}-{})", i ? ", " : "", ids[i], arrays[i].first,
                               arrays[i].first + arrays[i].second - 1);
  }
  const std::string record =
      fmt::format("arrays {} ; gather {}\n", fmt::join(ids, " "), gather_id);
  {
    std::FILE* f = std::fopen((slurm / "submitted.txt").c_str(), "a");
    if (f) {
      std::fputs(record.c_str(), f);
      std::fclose(f);
    }
  }
  std::fputs(fmt::format("experiment {}: {} runs in {} shards submitted to Slurm.\n"
                         "  job array{}: {}\n"
                         "  gather and report: job {} (after the array{} ends)\n"
                         "  watch:    squeue -j {}\n"
                         "  progress: {} gather {}\n"
                         "  logs:     {}/\n"
                         "  results:  {}/summary.csv{}\n"
                         "Tasks that fail or are preempted can be resubmitted with the same command: runs that are "
                         "complete are kept, killed ones continue from their checkpoints.\n",
                         plan.name, runs, shards, ids.size() == 1 ? "" : "s", arrays_text, gather_id,
                         ids.size() == 1 ? "" : "s", fmt::join(ids, ","), binary.string(), dir.string(),
                         logs.string(), dir.string(), args.report ? fmt::format(", {}/report/index.html", dir.string()) : "")
                 .c_str(),
             stdout);
  return 0;
}

}  // namespace richlazy::apps
