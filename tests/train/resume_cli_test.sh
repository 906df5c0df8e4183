#!/usr/bin/env bash
# tests/train/resume_cli_test.sh BINARY: a shared sweep folder through the richlazy binary.
#  1. A sweep killed with SIGKILL in the middle of a run, rerun with the same command plus
#     --resume, ends with every run finished exactly once and results bit-identical to an
#     uninterrupted run (weights, metrics.csv, summary.csv's result columns); the killed run
#     continued from its checkpoint.
#  2. Two processes running the same sweep with --resume at once train each run once.
#  3. A changed config in the folder is refused (exit 2, one line naming the key); a plain
#     run into it is refused with a hint to --resume.
set -euo pipefail
scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")/../scripts" && pwd)
bin=$(realpath "$1")
tmp=$(mktemp -d)
cleanup() {
  local p
  for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$tmp/exp.yaml" <<'YAML'
experiment: resumable
task: {name: 2AF}
model: {name: ctrnn, hidden_size: 48}
init:
  W_rec: {name: low_rank, rank: 3}
train: {iterations: 3000, batch_size: 16, checkpoint_every: 50}
metrics: {every: 100, probe_trials: 32, kernel_trials: 4,
          names: [loss, accuracy, dw_rec, path_length_rec, rep_alignment, kernel_alignment]}
sweep:
  seed: [0, 1, 2, 3]
YAML
run() { "$bin" run "$tmp/exp.yaml" --threads 1 --no-report --quiet "$@"; }
ids="seed-0 seed-1 seed-2 seed-3"

# The result columns of summary.csv (timings and who trained what left out).
results() { /usr/bin/python3 "$scripts/summary_results.py" "$1"; }  # without the timing columns
same_results() {  # $1 $2: experiment folders
  local id f
  [[ "$(results "$1/summary.csv")" == "$(results "$2/summary.csv")" ]] || fail "summary.csv of $1 differs from $2"
  for id in $ids; do
    for f in W_in_final W_rec_final W_out_final; do
      cmp -s "$1/runs/$id/weights/$f.npy" "$2/runs/$id/weights/$f.npy" || fail "$id/$f differs ($1 vs $2)"
    done
    cmp -s "$1/runs/$id/metrics.csv" "$2/runs/$id/metrics.csv" || fail "$id/metrics.csv differs ($1 vs $2)"
  done
}
finished_once() {  # $1: experiment folder; every run's history has exactly one finished line
  local id n
  for id in $ids; do
    n=$(grep -c ": finished: " "$1/runs/$id/history.log" || true)
    [[ $n -eq 1 ]] || fail "$id finished $n times in $1"
  done
}

t0=$(date +%s)
# The reference: one uninterrupted process (packs of two).
run --out "$tmp/ref" --jobs 2
ref=$tmp/ref/resumable
finished_once "$ref"

# 1. Killed in the middle of a run, after its first checkpoints.
# (the binary itself in the background, not a shell function: SIGKILL must reach it)
"$bin" run "$tmp/exp.yaml" --threads 1 --no-report --quiet --out "$tmp/killed" --jobs 1 --pack 1 &
pid=$!
dir=$tmp/killed/resumable
for _ in $(seq 1 600); do
  if compgen -G "$dir/runs/seed-1/checkpoint.pt" > /dev/null; then break; fi
  sleep 0.05
done
[[ -e $dir/runs/seed-1/checkpoint.pt ]] || fail "no checkpoint of seed-1 appeared"
kill -9 "$pid"
wait "$pid" 2>/dev/null && fail "the killed process exited 0" || true
[[ -e $dir/runs/seed-1/summary.json ]] && fail "seed-1 completed before it was killed; make the runs longer"
status=0
"$bin" gather "$dir" --quiet > "$tmp/gather.txt" || status=$?
[[ $status -eq 3 ]] || fail "gather of an unfinished sweep exited $status, not 3"
grep -q "1 of 4 runs complete" "$tmp/gather.txt" || fail "gather: $(cat "$tmp/gather.txt")"
grep -q "left by killed process" "$tmp/gather.txt" || fail "gather does not name the killed run: $(cat "$tmp/gather.txt")"
# The exact command again, with --resume (not quiet: its log says what it takes over).
"$bin" run "$tmp/exp.yaml" --threads 1 --no-report --out "$tmp/killed" --jobs 1 --pack 1 --resume > "$tmp/resume.txt" 2>&1 ||
  fail "resume: $(cat "$tmp/resume.txt")"
grep -q "seed-1: taking it over from process $pid on " "$tmp/resume.txt" ||
  fail "the resumed run does not say whose lock it took over: $(grep seed-1 "$tmp/resume.txt")"
grep -q "This process trained 3 runs (1 from a checkpoint); 1 of its share was complete already" "$tmp/resume.txt" ||
  fail "resume summary line: $(tail -3 "$tmp/resume.txt")"
grep -q "resumed from the checkpoint at step [1-9]" "$dir/runs/seed-1/history.log" ||
  fail "seed-1 did not resume from its checkpoint: $(cat "$dir/runs/seed-1/history.log")"
step=$(grep -o "resumed from the checkpoint at step [0-9]*" "$dir/runs/seed-1/history.log" | grep -o "[0-9]*$")
finished_once "$dir"
[[ $(grep -c ": started" "$dir/runs/seed-0/history.log") -eq 1 ]] || fail "seed-0 (complete before the kill) was trained again"
compgen -G "$dir/runs/*/checkpoint.pt" > /dev/null && fail "checkpoints left after the runs completed"
same_results "$ref" "$dir"
"$bin" gather "$dir" --quiet | grep -q "4 of 4 runs complete" || fail "gather after resume"
echo "kill and resume: seed-1 killed and continued from step $step; every run finished once; results identical"

# 2. Two processes at once, sharing a fresh folder.
run --out "$tmp/two" --jobs 1 --pack 1 --resume > "$tmp/a.txt" 2>&1 &
a=$!
run --out "$tmp/two" --jobs 1 --pack 1 --resume > "$tmp/b.txt" 2>&1 &
b=$!
wait "$a" || fail "process A: $(cat "$tmp/a.txt")"
wait "$b" || fail "process B: $(cat "$tmp/b.txt")"
dir=$tmp/two/resumable
finished_once "$dir"
for id in $ids; do
  n=$(grep -c ": started" "$dir/runs/$id/history.log")
  [[ $n -eq 1 ]] || fail "$id was started $n times by the two processes"
done
trainers=$(cat "$dir"/runs/*/history.log | grep ": started" | awk '{print $3}' | sort -u | wc -l)
same_results "$ref" "$dir"
echo "two processes: each run trained once ($trainers process(es) trained them); results identical"

# 3. A changed config is refused; so is a plain run into an existing folder.
status=0
"$bin" run "$tmp/exp.yaml" --out "$tmp/two" --resume --set model.hidden_size=49 2> "$tmp/err.txt" || status=$?
[[ $status -eq 2 ]] || fail "a changed config exited $status, not 2"
[[ $(wc -l < "$tmp/err.txt") -eq 1 ]] || fail "the error is not one line: $(cat "$tmp/err.txt")"
grep -q "experiment.yaml.*model.hidden_size: was 48, now 49" "$tmp/err.txt" || fail "error: $(cat "$tmp/err.txt")"
status=0
"$bin" run "$tmp/exp.yaml" --out "$tmp/two" 2> "$tmp/err.txt" || status=$?
[[ $status -eq 2 ]] && grep -q -- "--resume" "$tmp/err.txt" || fail "plain run into an existing folder: $status $(cat "$tmp/err.txt")"
echo "refusals: ok; all done in $(( $(date +%s) - t0 )) s"
