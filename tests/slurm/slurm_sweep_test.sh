#!/usr/bin/env bash
# tests/slurm/slurm_sweep_test.sh BINARY: `richlazy submit --slurm` against a real Slurm.
# Starts a single-node Slurm from Debian's packages (local_slurm.sh; only the daemons it
# started are stopped), then:
#  1. submits a 12-run sweep (2AF, small) as a 4-task array plus its gather job, waits, and
#     checks that the gathered summary.csv and every run's weights and metrics.csv equal
#     those of the same sweep run locally (`richlazy run --jobs 2`), bit for bit;
#  2. submits it again into a new folder, kills one array task's richlazy with SIGKILL in
#     the middle of a run, waits, resubmits the same command, and checks that every run
#     finished exactly once (history.log), the killed run continued from its checkpoint, and
#     the results equal the local ones.
# Exit 77 (skipped) when Slurm cannot be installed (not root, no apt).
set -euo pipefail
scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$(realpath "$1")
# shellcheck source-path=SCRIPTDIR source=local_slurm.sh
source "$here/local_slurm.sh"
rc=0
slurm_install || rc=$?
[[ $rc -eq 0 ]] || exit "$rc"

B=$(mktemp -d "${TMPDIR:-/tmp}/richlazy_slurm.XXXXXX")
chmod 755 "$B"
cleanup() { slurm_stop "$B/cluster"; rm -rf "$B"; }
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  slurm_job_states "$B/cluster" >&2 || true
  tail -n 20 "$B"/*/sweep/slurm/logs/* >&2 2>/dev/null || true
  exit 1
}
t_start=$SECONDS
mkdir -p "$B/cluster"
slurm_start "$B/cluster"

cat > "$B/sweep.yaml" <<'YAML'
experiment: sweep
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 32}
train: {iterations: 2500, batch_size: 16, checkpoint_every: 100}
metrics: {every: 250, probe_trials: 32, kernel_trials: 4,
          names: [loss, accuracy, dw_rec, path_length_rec, rep_alignment, kernel_alignment]}
sweep:
  init.W_rec: [{name: low_rank, rank: 1}, {name: low_rank, rank: 4}, {name: gaussian}]
  seed: [0, 1, 2, 3]
YAML

results() { /usr/bin/python3 "$scripts/summary_results.py" "$1"; }  # without the timing columns
same_as_local() {  # $1: experiment folder
  local d id f
  [[ "$(results "$1/summary.csv")" == "$(results "$B/local/sweep/summary.csv")" ]] ||
    fail "$1/summary.csv differs from the local run's"
  for d in "$B"/local/sweep/runs/*/; do
    id=$(basename "$d")
    for f in weights/W_in_final.npy weights/W_rec_final.npy weights/W_out_final.npy metrics.csv; do
      cmp -s "$d/$f" "$1/runs/$id/$f" || fail "$id/$f differs from the local run's"
    done
  done
}
finished_once() {
  local d n
  for d in "$1"/runs/*/; do
    n=$(grep -c ": finished: ok" "$d/history.log" || true)
    [[ $n -eq 1 ]] || fail "$(basename "$d") finished $n times"
  done
  [[ $(find "$1/runs" -name summary.json | wc -l) -eq 12 ]] || fail "not 12 complete runs in $1"
}
job_ids() {  # the ids `richlazy submit` printed: the arrays', then the gather job's
  grep -oE "job arrays?: [0-9]+" "$1" | grep -oE "[0-9]+$"
  grep -oE "gather and report: job [0-9]+" "$1" | grep -oE "[0-9]+$"
}

# The local reference.
t0=$SECONDS
"$bin" run "$B/sweep.yaml" --out "$B/local" --jobs 2 --threads 1 --no-report --quiet > /dev/null
t_local=$((SECONDS - t0))

# 1. Through Slurm: 4 array tasks of one CPU, then the gather job.
t0=$SECONDS
"$bin" submit "$B/sweep.yaml" --slurm --out "$B/one" --shards 4 --cpus-per-task 1 --no-report > "$B/submit1.txt"
cat "$B/submit1.txt"
[[ -s $B/one/sweep/slurm/job.sbatch ]] || fail "no job.sbatch"
grep -q -- "--shard \"\$((SLURM_ARRAY_TASK_ID" "$B/one/sweep/slurm/job.sbatch" || fail "job.sbatch runs no shard"
mapfile -t ids < <(job_ids "$B/submit1.txt")
[[ ${#ids[@]} -eq 2 ]] || fail "expected an array job and a gather job, got: ${ids[*]}"
slurm_wait_jobs 600 "${ids[@]}" || fail "the jobs did not end in 600 s"
t_slurm=$((SECONDS - t0))
states=$(slurm_job_states "$B/cluster")
[[ $(grep -c "ArrayJobId=${ids[0]} .*JobState=COMPLETED\|JobState=COMPLETED.*ArrayJobId=${ids[0]} " <<<"$states") -eq 4 ]] ||
  fail "not 4 completed array tasks"
grep -q "JobId=${ids[1]} .*JobState=COMPLETED" <<<"$states" || fail "the gather job did not complete"
grep -q "12 of 12 runs complete" "$B"/one/sweep/slurm/logs/gather_* || fail "the gather job's log"
same_as_local "$B/one/sweep"
finished_once "$B/one/sweep"
hosts=$(cat "$B"/one/sweep/runs/*/history.log | grep ": started" | awk '{print $3}' | sort -u | wc -l)
echo "slurm: 12 runs in 4 array tasks ($hosts processes) in ${t_slurm} s (local run --jobs 2: ${t_local} s); results identical"

# 2. One array task killed with SIGKILL in the middle of a run, then the same submit again.
"$bin" submit "$B/sweep.yaml" --slurm --out "$B/two" --shards 4 --cpus-per-task 1 --no-report > "$B/submit2.txt"
mapfile -t ids < <(job_ids "$B/submit2.txt")
dir=$B/two/sweep
victim=""
for _ in $(seq 1 1200); do
  for ck in "$dir"/runs/*/checkpoint.pt; do
    [[ -e $ck ]] || continue
    run_dir=$(dirname "$ck")
    [[ -e $run_dir/summary.json ]] && continue
    lock=$dir/locks/$(basename "$run_dir").lock
    read -r _host pid < "$lock" 2>/dev/null || continue
    if kill -9 "$pid" 2>/dev/null; then victim=$(basename "$run_dir"); break 2; fi
  done
  sleep 0.05
done
[[ -n $victim ]] || fail "found no run in the middle of training to kill"
echo "killed process $pid in the middle of run $victim"
slurm_wait_jobs 600 "${ids[@]}" || fail "the jobs did not end"
[[ -e $dir/runs/$victim/summary.json ]] && fail "$victim completed although its process was killed"
grep -q "JobState=FAILED.*ArrayJobId=${ids[0]}\|ArrayJobId=${ids[0]} .*JobState=FAILED" <<<"$(slurm_job_states "$B/cluster")" ||
  grep -q "JobState=FAILED" <<<"$(slurm_job_states "$B/cluster")" || fail "no array task failed"
left=$("$bin" gather "$dir" --quiet || true)
echo "before resubmitting: $left"
"$bin" submit "$B/sweep.yaml" --slurm --out "$B/two" --shards 4 --cpus-per-task 1 --no-report > "$B/submit3.txt"
mapfile -t ids < <(job_ids "$B/submit3.txt")
slurm_wait_jobs 600 "${ids[@]}" || fail "the resubmitted jobs did not end"
grep -q "resumed from the checkpoint at step [1-9]" "$dir/runs/$victim/history.log" ||
  fail "$victim did not continue from its checkpoint: $(cat "$dir/runs/$victim/history.log")"
step=$(grep -o "resumed from the checkpoint at step [0-9]*" "$dir/runs/$victim/history.log" | grep -o "[0-9]*$")
finished_once "$dir"
same_as_local "$dir"
echo "kill and resubmit: $victim continued from step $step; every run finished once; results identical"
echo "PASS: slurm sweep test in $((SECONDS - t_start)) s"
