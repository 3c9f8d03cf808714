# shellcheck shell=bash disable=SC2034 # RUN_DIR is for the scripts that source this
# What the tests that run "scratchroot setup" as root start with: the
# build's paths, the fake sysfs, the checks before a run, a temporary
# directory that goes away with its loop devices and processes, and the
# script run again inside a private mount namespace. Sourced first by
# test/integration/{loop,mountfault,security}.sh and test/badinput/table.sh,
# which end with "run_tests "$@"".

set -uo pipefail
export LC_ALL=C

# The script that sourced this file, for running it again in a namespace.
SELF=$(readlink -f "$0")
SR_SOURCE=${SR_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SR_BUILD=${SR_BUILD:-$SR_SOURCE/build}
SR_HELPER=${SR_HELPER:-$SR_BUILD/src/scratchroot}
SR_MOUNTFAULT_SO=${SR_MOUNTFAULT_SO:-$SR_BUILD/test/mountfault.so}
export SR_SOURCE SR_BUILD SR_HELPER SR_MOUNTFAULT_SO
# shellcheck source=test/integration/fakesys.sh
. "$SR_SOURCE/test/integration/fakesys.sh"

# What the helper uses.
RUN_DIR=/run/scratchroot

bail() {
    echo "Bail out! $*"
    exit 1
}

# fail TEXT: a failure of the current test, into $C/fail (from either side
# of the namespace boundary).
fail() {
    printf '%s\n' "$*" >>"$C/fail"
}

# tap_result DESC: test $N passed ("ok N - DESC") when $C/fail is empty;
# else "not ok", the failures as comments, FAILED counted, and status 1.
tap_result() {
    if [[ -s $C/fail ]]; then
        FAILED=$((FAILED + 1))
        echo "not ok $N - $1"
        sed 's/^/#   /' "$C/fail"
        return 1
    fi
    echo "ok $N - $1"
}

# need TOOL...: root, the helper, mount namespaces and every TOOL, or the
# run fails ("Bail out!"): it never skips.
need() {
    local t missing=()
    [[ $(id -u) == 0 ]] || bail "needs root"
    [[ -x $SR_HELPER ]] || bail "no helper at $SR_HELPER"
    for t in unshare "$@"; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || bail "missing tools: ${missing[*]} (the header of $SELF names their packages)"
    unshare -m --propagation private true || bail "cannot make mount namespaces"
    [[ " $* " != *" losetup "* || -e /dev/loop-control ]] || bail "no /dev/loop-control"
}

# make_tmp NAME: $T, a new directory for the run. On exit the processes in
# $T/pids are killed, the loop devices in $T/loops detached and $T removed.
make_tmp() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/sr-$1.XXXXXX") || bail "no temporary directory"
    [[ $T != /run/* && $T != /dev/* && $T != *[[:space:]]* ]] || bail "unusable temporary directory $T"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    : >"$T/loops"
    : >"$T/pids"
    export T
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local pid
    if [[ -n ${T:-} && -d $T ]]; then
        if [[ -f $T/pids ]]; then
            while read -r pid; do
                kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
            done <"$T/pids"
        fi
        if [[ -f $T/loops ]]; then
            detach_loops "$T/loops" 0
        fi
        rm -rf --one-file-system "$T"
    fi
}

# detach_loops LIST FROM: detaches the loop devices on the lines of LIST
# after line FROM, as long as they still read one of our images.
detach_loops() {
    local l back
    while read -r l; do
        back=$(losetup -n -O BACK-FILE "$l" 2>/dev/null) || continue
        [[ $back == "$T"/* ]] || continue
        losetup -d "$l" || echo "# cannot detach $l" >&2
    done < <(tail -n +"$(($2 + 1))" "$1")
}

# attach IMG [LOSETUP-OPTION...]: prints the new loop device, and notes it
# in $T/loops (it runs in a command substitution's subshell).
attach() {
    local img=$1 l
    shift
    l=$(losetup -f --show "$@" "$img") || return 1
    echo "$l" >>"$T/loops"
    echo "$l"
}

devno_of() {
    cat "/sys/class/block/${1#/dev/}/dev"
}

# sha256 of a file; openssl's uses the CPU's SHA instructions, coreutils' not.
sha() {
    if command -v openssl >/dev/null; then
        openssl dgst -sha256 -r <"$1" | cut -d' ' -f1
    else
        sha256sum <"$1" | cut -d' ' -f1
    fi
}

# unshare_self FN ARG...: this script again, in a private mount namespace,
# where it runs FN ARG... (see run_tests).
unshare_self() {
    unshare -m --propagation private "$BASH" "$SELF" --in-ns "$@"
}

# ns_initrd KMSG [RUN-OPTIONS]: inside the namespace, /run and /dev/kmsg as
# an initrd has them: a tmpfs on /run, the file KMSG bound over /dev/kmsg.
ns_initrd() {
    mount -t tmpfs -o "${2:-mode=0755,nosuid}" sr-run /run || return 1
    : >"$1"
    mount --bind "$1" /dev/kmsg && [[ -f /dev/kmsg ]]
}

# run_tests ARG...: the script's main ARG..., or inside the namespace
# (--in-ns FN ARG...) FN ARG..., whose status is the exit status.
run_tests() {
    if [[ ${1:-} == --in-ns ]]; then
        shift
        "$@"
        exit
    fi
    main "$@"
}
