#!/usr/bin/env bash
# Self-test of local_slurm.sh: start a one-node cluster, run a 4-task job
# array, check its outputs, stop the cluster. Exit 77 = skipped (no Slurm).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=local_slurm.sh
source "$here/local_slurm.sh"

start=$SECONDS
rc=0
slurm_install || rc=$?
if [[ $rc -eq 77 ]]; then
    echo "SKIP: Slurm not available" >&2
    exit 77
elif [[ $rc -ne 0 ]]; then
    exit "$rc"
fi
echo "install/check: $((SECONDS - start)) s"

dir=$(mktemp -d "${TMPDIR:-/tmp}/slurm_selftest.XXXXXX")
cleanup() {
    slurm_stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT

t0=$SECONDS
slurm_start "$dir"
echo "cluster up: $((SECONDS - t0)) s (SLURM_CONF=$SLURM_CONF)"

out=$dir/out
mkdir -p "$out"
t1=$SECONDS
# shellcheck disable=SC2016 # $SLURM_ARRAY_TASK_ID is expanded by the job
jobid=$(sbatch --parsable --array=0-3 -o "$out/slurm-%A_%a.out" -D "$out" \
    --wrap 'echo task $SLURM_ARRAY_TASK_ID > '"$out"'/t_$SLURM_ARRAY_TASK_ID')
jobid=${jobid%%;*}
echo "submitted array job $jobid"
slurm_wait_jobs 60 "$jobid"
echo "array done: $((SECONDS - t1)) s"

fail=0
for i in 0 1 2 3; do
    if [[ $(cat "$out/t_$i" 2>/dev/null) != "task $i" ]]; then
        echo "FAIL: $out/t_$i missing or wrong" >&2
        fail=1
    fi
done
states=$(slurm_job_states "$dir")
echo "$states"
n_ok=$(grep -c 'JobState=COMPLETED' <<<"$states" || true)
if [[ $n_ok -ne 4 ]]; then
    echo "FAIL: expected 4 COMPLETED tasks in jobcomp.txt, got $n_ok" >&2
    fail=1
fi
if [[ $fail -ne 0 ]]; then
    _slurm_dump_logs "$dir"
    exit 1
fi

t2=$SECONDS
cleanup
trap - EXIT
echo "cluster stopped: $((SECONDS - t2)) s"
echo "PASS: local_slurm self-test, total $((SECONDS - start)) s"
