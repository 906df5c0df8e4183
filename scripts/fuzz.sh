#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/fuzz_*.cpp) for SECONDS each (default 300), one after the
# other, under ASan + UBSan, from the committed seed corpus fuzz/corpus/<target>/. Builds
# build-asan/ first (clang-14; installs it when missing). CI runs `scripts/fuzz.sh 60`.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: config npy idx matrix cell_types
# Prints each fuzzer's number of executions and findings; exits 1 when any fuzzer found
# something (crash, sanitizer report, uncaught exception other than ConfigError, leak, OOM
# over 2 GB, an input taking over 10 s). Reproducers go to $RICHLAZY_FUZZ_FINDINGS/<target>/
# (default build-asan/fuzz-findings/); replay one with build-asan/fuzz/fuzz_<target> FILE.
# New inputs the fuzzers find go to build-asan/fuzz-corpus/<target>/ (kept between runs,
# not committed).
# RICHLAZY_FUZZ_KEEP_GOING=1: do not stop a fuzzer at its first finding (libFuzzer's fork
# mode, one worker, crashes, timeouts and OOMs ignored), to collect several in a long run.
set -euo pipefail
cd "$(dirname "$0")/.."
source fuzz/sanitizer_env.sh
# richlazy refuses sizes beyond the machine's memory before allocating them; the fuzzers'
# machine is 0.5 GiB, so those checks are what they test. (At 1 GiB an 8,192-neuron edge list
# passed as a 512 MB matrix, which peaked at 0.95 GB under ASan, half of libFuzzer's 2 GB RSS
# limit, and took most of a second to build: too close to the limits on a loaded machine.)
export RICHLAZY_MEMORY_LIMIT_GB=${RICHLAZY_MEMORY_LIMIT_GB:-0.5}
seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config npy idx matrix cell_types)
findings_root=${RICHLAZY_FUZZ_FINDINGS:-$RICHLAZY_ASAN_BUILD_DIR/fuzz-findings}

richlazy_sanitize_packages
[ -f "$RICHLAZY_ASAN_BUILD_DIR/CMakeCache.txt" ] || richlazy_sanitize_configure > /dev/null
cmake --build "$RICHLAZY_ASAN_BUILD_DIR" -j2 --target "${targets[@]/#/fuzz_}"

# libFuzzer's own leak check runs per input; LSan suppressions as in the sanitized tests.
summary=()
failed=0
for t in "${targets[@]}"; do
  exe="$RICHLAZY_ASAN_BUILD_DIR/fuzz/fuzz_$t"
  work="$RICHLAZY_ASAN_BUILD_DIR/fuzz-corpus/$t"
  findings="$findings_root/$t"
  log="$RICHLAZY_ASAN_BUILD_DIR/fuzz-logs/$t.log"
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  echo "fuzz: $t for $seconds s (log: $log)"
  keep_going=()
  [ "${RICHLAZY_FUZZ_KEEP_GOING:-0}" = 1 ] && keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  rc=0
  touch "$log.start"
  "$exe" "${keep_going[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$findings/" "$work" "fuzz/corpus/$t" > "$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # Fork mode prints no final stats: its last status line "#N: cov: ..." counts every worker's.
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
  found=$(find "$findings" -newer "$log.start" -type f \( -name 'crash-*' -o -name 'leak-*' \
                 -o -name 'timeout-*' -o -name 'oom-*' \) -printf '%f ' | head -c 400)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    failed=1
    echo "fuzz: $t FOUND SOMETHING (exit $rc): ${found:-see the log}"
    # The report: what happened, and the first frames in richlazy's own code.
    grep -E "==ERROR|^SUMMARY|runtime error|terminate called|what\(\)" "$log" | sort -u | head -8 || true
    grep -E "^ +#[0-9]+ .* $PWD/(core|init|tasks|train|apps|models|metrics|report)/" "$log" | head -6 || true
    summary+=("$(printf '%-11s %12s executions  FINDING: %s' "$t" "${execs:-?}" "${found:-exit $rc, see $log}")")
    [ -z "$found" ] || echo "fuzz: replay with $exe $findings/<file>"
  else
    summary+=("$(printf '%-11s %12s executions  nothing found' "$t" "${execs:-?}")")
  fi
done
echo "fuzz: $seconds s each"
printf '  %s\n' "${summary[@]}"
[ "$failed" -eq 0 ] || echo "fuzz: reproducers in $findings_root/<target>/" >&2
exit "$failed"
