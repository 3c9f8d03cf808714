# shellcheck shell=bash
# The checks of a test that boots VMs, as TAP: an "ok N - ..." line per
# check as it comes, the plan at the end (finish). Sourced by
# test/vm/scenario and test/host/scratchroot-qemu-vm.sh. TAP_NAME names the
# run in the closing line; RUN is its directory, kept when a check failed
# (and always with SR_KEEP=1); LOG is the console log whose end a failure
# shows; a function finish_hook, when defined, runs first.

T_N=0
T_FAILED=0
TAP_NAME=${TAP_NAME:-${0##*/}}
RUN=""
LOG=""

ok() {
    T_N=$((T_N + 1))
    echo "ok $T_N - $*"
}

notok() {
    T_N=$((T_N + 1))
    T_FAILED=$((T_FAILED + 1))
    echo "not ok $T_N - $*"
}

note() {
    printf '%s\n' "$*" | sed 's/^/# /'
}

# check DESC COMMAND...: one check, passed when COMMAND succeeds.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else notok "$desc"; fi
}

# check_eq DESC GOT WANT
check_eq() {
    if [[ $2 == "$3" ]]; then
        ok "$1"
    else
        notok "$1 (got '$2', want '$3')"
    fi
}

finish() {
    [[ $(type -t finish_hook) != function ]] || finish_hook
    echo "1..$T_N"
    if ((T_FAILED > 0 || T_N == 0)); then
        if [[ -n $LOG && -s $LOG ]]; then
            echo "# ---- last 60 lines of the console log $LOG ----"
            tail -n 60 "$LOG" | tr -d '\r' | sed 's/^/#   /'
        fi
        [[ -z $RUN ]] || note "files of this run kept in $RUN"
        note "$TAP_NAME: $((T_N - T_FAILED)) passed, $T_FAILED failed"
        exit 1
    fi
    if [[ ${SR_KEEP:-0} == 1 ]]; then
        note "files of this run kept in $RUN"
    elif [[ -n $RUN ]]; then
        rm -rf "$RUN"
    fi
    note "$TAP_NAME: $T_N passed, 0 failed"
    exit 0
}

# fatal DESC: a step that the rest depends on failed.
fatal() {
    notok "$*"
    finish
}
