#!/bin/bash
# A long fuzz run of one or more targets, at the lowest CPU priority.
#   test/fuzz/long.sh TARGET RUNS [TARGET...]
#   test/fuzz/long.sh all RUNS
# Builds each target as test/fuzz/run.sh does (it calls run.sh) and runs it
# in-process (one job, one worker) for exactly RUNS executions under
# `nice -n 19`. Prints, per target, the executions, the seconds taken, the
# crash files written and the exact command. Fails if any target crashed or
# did not reach RUNS executions.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET|all RUNS [TARGET...]" >&2
    exit 2
fi
first=$1
runs=$2
shift 2
case $runs in
    ''|*[!0-9]*) echo "$0: RUNS must be a number, not '$runs'" >&2; exit 2 ;;
esac
if [ "$first" = all ]; then
    targets=(options smbios blob hctl)
else
    targets=("$first" "$@")
fi

here=$(cd "$(dirname "$0")" && pwd)
source_root=${SR_SOURCE:-$(cd "$here/../.." && pwd)}
build=${SR_BUILD:-$source_root/build}
out=$build/fuzz
logdir=${LONG_LOGDIR:-$out/long}
mkdir -p "$logdir"

status=0
for target in "${targets[@]}"; do
    log=$logdir/$target.log
    prefix=$out/long-crash-$target-
    before=$(find "$out" -maxdepth 1 -name "long-crash-$target-*" | wc -l)
    # -max_total_time=0: no time limit; -runs ends the run. A single
    # in-process run is one job on one worker; -jobs=1 would only move
    # the output to a fuzz-0.log of the current directory.
    cmd=(nice -n 19 bash "$here/run.sh" "$target" 0 -runs="$runs" -artifact_prefix="$prefix")
    echo "# $target: ${cmd[*]}"
    start=$(date +%s)
    rc=0
    "${cmd[@]}" >"$log" 2>&1 || rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    after=$(find "$out" -maxdepth 1 -name "long-crash-$target-*" | wc -l)
    crashes=$((after - before))
    echo "$target: exit=$rc executions=${execs:-?} seconds=$((end - start)) crashes=$crashes log=$log"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "${execs:-0}" -lt "$runs" ]; then
        echo "$target: FAILED (see $log)" >&2
        tail -n 30 "$log" >&2
        status=1
    fi
done
exit $status
