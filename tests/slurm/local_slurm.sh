# shellcheck shell=bash
# local_slurm.sh: start and stop a throw-away single-node Slurm cluster
# (Debian 12 packages: Slurm 22.05 + munge) for tests. No systemd needed: the
# daemons run directly as root, with every file under one folder DIR.
#
# Usage (from a test script):
#   source tests/slurm/local_slurm.sh
#   slurm_install || exit $?            # 77 = skip (not root / no packages)
#   dir=$(mktemp -d); trap 'slurm_stop "$dir"; rm -rf "$dir"' EXIT
#   slurm_start "$dir"                  # exports SLURM_CONF
#   id=$(sbatch --parsable --array=0-3 --wrap 'true')
#   slurm_wait_jobs 60 "$id"
#   slurm_job_states "$dir"             # one JobState=... line per task
#
# Environment:
#   SLURM_TEST_MAX_ARRAY_SIZE  MaxArraySize of the cluster (default 100001)
#   SLURM_TEST_START_TIMEOUT   seconds slurm_start waits for the cluster (60)
#
# The library sets no shell options; it is safe under `set -euo pipefail`.
# It only ever signals the pids recorded in DIR/run/*.pid (other Slurm or
# munge daemons may run on the same machine), and it picks free TCP ports for
# slurmctld/slurmd if the default ones (6817/6818) are taken.

_slurm_log() { printf 'local_slurm: %s\n' "$*" >&2; }

# slurm_install: make sure slurmctld, slurmd, sbatch and munged are available.
# Returns 0 when they are, 77 (skip) with one line on stderr when they are not
# and cannot be installed.
slurm_install() {
    local c missing=0 log rc=0
    for c in slurmctld slurmd sbatch squeue scontrol sinfo scancel munged munge; do
        command -v "$c" >/dev/null 2>&1 || missing=1
    done
    [[ $missing -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        _slurm_log "SKIP: Slurm/munge not installed and not root, cannot apt-get install"
        return 77
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        _slurm_log "SKIP: Slurm/munge not installed and no apt-get on this machine"
        return 77
    fi
    log=$(mktemp "${TMPDIR:-/tmp}/slurm_install.XXXXXX") || {
        _slurm_log "SKIP: cannot create a temporary file for the apt-get log"
        return 77
    }
    # apt-get update only when the package lists do not know the packages.
    if ! apt-cache show slurmctld slurmd slurm-client munge >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 || rc=$?
    fi
    if [[ $rc -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurmctld slurmd slurm-client munge >>"$log" 2>&1 || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then
        _slurm_log "SKIP: apt-get install of slurmctld slurmd slurm-client munge failed (rc=$rc): $(grep -E '^(E|W):' "$log" | tail -n 1)"
        rm -f "$log"
        return 77
    fi
    rm -f "$log"
    hash -r
    for c in slurmctld slurmd sbatch squeue scontrol sinfo scancel munged munge; do
        if ! command -v "$c" >/dev/null 2>&1; then
            _slurm_log "SKIP: '$c' still not on PATH after installing the Slurm packages"
            return 77
        fi
    done
    return 0
}

# _slurm_port_listening PORT: true if something listens on TCP PORT (v4/v6).
_slurm_port_listening() {
    local hex f
    hex=$(printf '%04X' "$1")
    for f in /proc/net/tcp /proc/net/tcp6; do
        [[ -r $f ]] || continue
        # fields: sl local_address rem_address st ...; st 0A = LISTEN
        if awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' "$f"; then
            return 0
        fi
    done
    return 1
}

# _slurm_free_port PREFERRED [EXCLUDE]: print PREFERRED if free, else a free
# port from a pseudo-random start in 20000-59999.
_slurm_free_port() {
    local p=$1 exclude=${2:-0} i
    if [[ $p -ne $exclude ]] && ! _slurm_port_listening "$p"; then
        echo "$p"
        return 0
    fi
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    for ((i = 0; i < 2000; i++)); do
        if [[ $p -ne $exclude ]] && ! _slurm_port_listening "$p"; then
            echo "$p"
            return 0
        fi
        p=$((p + 1 > 59999 ? 20000 : p + 1))
    done
    return 1
}

# _slurm_pid_alive PID NAME: true if PID is a live (non-zombie) process whose
# command name is NAME. Guards against pid reuse and unreaped zombies.
_slurm_pid_alive() {
    local pid=$1 name=$2 comm stat state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$name" ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    state=${stat##*) }
    state=${state%% *}
    [[ $state != Z && $state != X ]]
}

# _slurm_dump_logs DIR: last lines of every log, to stderr.
_slurm_dump_logs() {
    local f
    for f in "$1"/log/*.log; do
        [[ -s $f ]] || continue
        printf '=== last lines of %s ===\n' "$f" >&2
        tail -n 15 "$f" >&2 || true
    done
}

# _slurm_abort DIR MESSAGE: report a failed start, show logs, stop daemons.
_slurm_abort() {
    _slurm_log "ERROR: $2"
    _slurm_dump_logs "$1"
    slurm_stop "$1" || true
    return 1
}

# slurm_start DIR: create a cluster under DIR, start munged, slurmctld and
# slurmd, wait until the node is idle, and export SLURM_CONF.
slurm_start() {
    local dir=${1:-}
    if [[ -z $dir ]]; then
        _slurm_log "ERROR: usage: slurm_start DIR"
        return 2
    fi
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1

    local host conf sock key timeout deadline hw cpus mem ctld_port d_port p
    host=$(hostname -s 2>/dev/null || hostname) || return 1
    conf=$dir/etc/slurm.conf
    sock=$dir/run/munge/munge.socket.2
    key=$dir/munge/munge.key
    timeout=${SLURM_TEST_START_TIMEOUT:-60}

    # munge wants every folder on the socket path world-executable and none
    # group/other-writable (sticky ones like /tmp are fine). mktemp -d makes DIR
    # 700, so open DIR up to 755; refuse parents that would break munge.
    mkdir -p "$dir"/{etc,munge,spool/ctld,spool/d,log,run/munge} || return 1
    chmod 755 "$dir" "$dir"/{etc,spool,spool/ctld,spool/d,log,run,run/munge} || return 1
    chmod 700 "$dir/munge" || return 1
    p=$(dirname "$dir")
    while :; do
        local perm
        perm=$(stat -c '%a' "$p") || return 1
        if (((8#$perm & 8#001) == 0)); then
            _slurm_log "ERROR: $p (mode $perm) is not world-executable; munge's socket under $dir would be inaccessible"
            return 1
        fi
        if (((8#$perm & 8#022) != 0 && (8#$perm & 8#1000) == 0)); then
            _slurm_log "ERROR: $p (mode $perm) is group/other-writable without sticky bit; munged refuses such a socket path"
            return 1
        fi
        [[ $p == / ]] && break
        p=$(dirname "$p")
    done

    # --- munge ---
    rm -f "$key"
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile="$key" >/dev/null 2>&1 || {
            _slurm_log "ERROR: mungekey --create failed"
            return 1
        }
    else
        dd if=/dev/urandom of="$key" bs=1024 count=1 status=none || return 1
    fi
    chmod 400 "$key" || return 1
    munged --socket="$sock" --key-file="$key" --pid-file="$dir/run/munged.pid" \
        --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
        </dev/null >>"$dir/log/munged.stderr.log" 2>&1 ||
        {
            _slurm_abort "$dir" "munged failed to start"
            return 1
        }
    deadline=$((SECONDS + 10))
    until munge -S "$sock" -n 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            _slurm_abort "$dir" "munged socket $sock does not answer (munge -n | unmunge)"
            return 1
        fi
        sleep 0.2
    done

    # --- slurm.conf ---
    hw=$(slurmd -C 2>/dev/null | head -n 1) || true
    cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
    mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
    if [[ -z $cpus || -z $mem ]]; then
        cpus=$(nproc)
        mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
    fi
    ctld_port=$(_slurm_free_port 6817) || {
        _slurm_abort "$dir" "no free TCP port for slurmctld"
        return 1
    }
    d_port=$(_slurm_free_port 6818 "$ctld_port") || {
        _slurm_abort "$dir" "no free TCP port for slurmd"
        return 1
    }
    cat >"$conf" <<EOF || return 1
ClusterName=localcluster
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((mem / cpus > 0 ? mem / cpus : 1))
ReturnToService=2
MaxArraySize=${SLURM_TEST_MAX_ARRAY_SIZE:-100001}
MinJobAge=60
KillWait=5
NodeName=$host NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF=$conf

    # --- slurmctld ---
    slurmctld -f "$conf" -i </dev/null >>"$dir/log/slurmctld.stderr.log" 2>&1 || {
        _slurm_abort "$dir" "slurmctld failed to start"
        return 1
    }
    deadline=$((SECONDS + timeout))
    until timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; do
        if ((SECONDS >= deadline)); then
            _slurm_abort "$dir" "slurmctld not UP after ${timeout}s (scontrol ping)"
            return 1
        fi
        sleep 0.5
    done

    # --- slurmd ---
    slurmd -f "$conf" -N "$host" </dev/null >>"$dir/log/slurmd.stderr.log" 2>&1 || {
        _slurm_abort "$dir" "slurmd failed to start"
        return 1
    }
    local state=
    until [[ $state == idle ]]; do
        if ((SECONDS >= deadline)); then
            _slurm_abort "$dir" "node $host not idle after ${timeout}s (last state: '${state}')"
            return 1
        fi
        sleep 0.5
        state=$(timeout 5 sinfo -n "$host" -h -o %T 2>/dev/null | head -n 1) || state=
    done
    return 0
}

# slurm_stop DIR: cancel the cluster's jobs, then stop slurmd, slurmctld and
# munged by the pids in DIR/run/*.pid. Idempotent; fine from an EXIT trap.
slurm_stop() {
    local dir=${1:-}
    [[ -n $dir && -d $dir ]] || return 0
    local conf=$dir/etc/slurm.conf pidf name pid deadline ids
    if [[ -f $conf && -f $dir/run/slurmctld.pid ]] &&
        _slurm_pid_alive "$(cat "$dir/run/slurmctld.pid" 2>/dev/null)" slurmctld; then
        ids=$(SLURM_CONF=$conf timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ') || ids=
        if [[ -n ${ids// /} ]]; then
            # shellcheck disable=SC2086 # word splitting of the id list is wanted
            SLURM_CONF=$conf timeout 10 scancel $ids >/dev/null 2>&1 || true
            # let slurmd reap the job steps (KillWait=5) before it goes away
            deadline=$((SECONDS + 10))
            while ((SECONDS < deadline)); do
                [[ -z $(SLURM_CONF=$conf timeout 5 squeue -h -o %A 2>/dev/null) ]] && break
                sleep 0.5
            done
        fi
    fi
    for name in slurmd slurmctld munged; do
        pidf=$dir/run/$name.pid
        [[ -f $pidf ]] || continue
        pid=$(head -n 1 "$pidf" 2>/dev/null | tr -dc '0-9') || pid=
        if [[ -n $pid ]] && _slurm_pid_alive "$pid" "$name"; then
            kill -TERM "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 10))
            while _slurm_pid_alive "$pid" "$name" && ((SECONDS < deadline)); do
                sleep 0.1
            done
            if _slurm_pid_alive "$pid" "$name"; then
                _slurm_log "WARNING: $name (pid $pid) ignored SIGTERM for 10 s, sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                deadline=$((SECONDS + 5))
                while _slurm_pid_alive "$pid" "$name" && ((SECONDS < deadline)); do
                    sleep 0.1
                done
            fi
        fi
        rm -f "$pidf"
    done
    return 0
}

# slurm_wait_jobs TIMEOUT_S JOBID...: wait until none of the jobs (array
# tasks included) is pending or running any more. Returns 1 on timeout.
# Uses $SLURM_CONF (exported by slurm_start).
slurm_wait_jobs() {
    local timeout=${1:-}
    if [[ ! $timeout =~ ^[0-9]+$ || $# -lt 2 ]]; then
        _slurm_log "ERROR: usage: slurm_wait_jobs TIMEOUT_S JOBID..."
        return 2
    fi
    shift
    local deadline=$((SECONDS + timeout)) id out active
    while :; do
        active=0
        for id in "$@"; do
            # a job the controller has already purged answers "Invalid job id"
            if out=$(timeout 10 squeue -h -j "$id" -o %i 2>&1); then
                [[ -n $out ]] && active=1
            elif [[ $out != *"Invalid job id"* ]]; then
                active=1 # controller not answering: keep waiting
            fi
            [[ $active -eq 1 ]] && break
        done
        [[ $active -eq 0 ]] && return 0
        if ((SECONDS >= deadline)); then
            _slurm_log "ERROR: jobs $* still pending/running after ${timeout}s"
            return 1
        fi
        sleep 1
    done
}

# slurm_job_states DIR: print the job-completion records (one line per job or
# array task: JobId=... JobState=COMPLETED|FAILED|... ExitCode=... ArrayJobId=
# ... ArrayTaskId=...).
slurm_job_states() {
    local f=${1:-}/log/jobcomp.txt
    [[ -f $f ]] || return 0
    cat "$f"
}
