#!/bin/bash
# Faults of the kernel that a VM of this project cannot show, injected into
# "scratchroot setup" by an LD_PRELOAD shim on mount(2)
# (test/integration/mountfault.c). Prints TAP.
#
#   bash test/integration/mountfault.sh build/test/mountfault.so
#
# Each case runs the helper in a private mount namespace with a tmpfs on
# /run, a file bound over /dev/kmsg, an empty fake sysfs (so no disk: the
# tmpfs fallback) and a read-only tmpfs as the root at NEWROOT. Needs root
# and util-linux (unshare, findmnt); the helper must be linked dynamically
# (LD_PRELOAD), which the run checks.

# shellcheck source=test/integration/preamble.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/preamble.sh"
CMDLINE="rd.scratch.lun=5 rd.scratch.timeout=0"

# ---------------------------------------------------------------------------
# Inside the namespace: $C is the case's directory
# ---------------------------------------------------------------------------

# ns_case FAULT: set the namespace up, run the helper under the shim with
# SR_MOUNTFAULT=FAULT, and keep what it did in $C.
ns_case() {
    local nr=$C/newroot
    ns_initrd "$C/kmsg" || { echo "cannot mount /run or bind /dev/kmsg" >"$C/setup-error"; return 1; }
    mkdir -p "$nr" "$C/sys/bus/scsi/devices" "$C/sys/class/block" "$C/sys/block"
    if ! mount -t tmpfs -o mode=0755 sr-root "$nr" || ! mkdir "$nr/etc" ||
        ! echo "the root's own file" >"$nr/etc/marker" || ! mount -o remount,ro "$nr"; then
        echo "cannot make the read-only root at $nr" >"$C/setup-error"
        return 1
    fi
    # Under ASan the shim comes first in the preload order, which ASan would
    # refuse: it only has to come before libc, which it does.
    env LD_PRELOAD="$SO" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        SR_MOUNTFAULT="$1" SR_MOUNTFAULT_LOG="$C/mounts.log" \
        "$SR_HELPER" setup --newroot "$nr" --sysfs "$C/sys" --config "$C/no.conf" --cmdline "$CMDLINE" \
        >"$C/stdout" 2>"$C/stderr"
    echo $? >"$C/rc"
    cp /dev/kmsg "$C/kmsg.out"
    [[ ! -f $RUN_DIR/state ]] || cp "$RUN_DIR/state" "$C/state"
    findmnt -rn -o TARGET,FSTYPE,OPTIONS >"$C/mounts"
    if echo hello 2>"$C/write-error" >"$nr/written"; then echo ok >"$C/write"; else echo fail >"$C/write"; fi
    cat "$nr/etc/marker" >"$C/marker" 2>&1
}

# ---------------------------------------------------------------------------
# Outside
# ---------------------------------------------------------------------------

N=0
FAILED=0

# run_case FAULT: a fresh $C, the case run in its own namespace.
run_case() {
    C=$T/$1
    mkdir -p "$C"
    : >"$C/fail"
    C=$C SO=$SO unshare_self ns_case "$1"
    [[ ! -s $C/setup-error ]] || fail "$(cat "$C/setup-error")"
}

st() {
    sed -n "s/^$1=//p" "$C/state" 2>/dev/null
}

# mount_of DIR: "FSTYPE OPTIONS" of the top mount on DIR in the case.
mount_of() {
    awk -v d="$1" '$1 == d {m = $2 " " $3} END {print m}' "$C/mounts"
}

expect() {
    local what=$1 got=$2 want=$3
    [[ $got == "$want" ]] || fail "$what: got '$got', want '$want'"
}

expect_log() {
    grep -qF -- "$1" "$C/kmsg.out" || fail "the helper did not log '$1'"
}

# expect_run BACKING REFUSED PASSED: the helper exited 0, the state says
# backing=BACKING, and the shim refused REFUSED overlay mounts and passed
# PASSED.
expect_run() {
    expect "exit status" "$(cat "$C/rc")" 0
    expect "state backing" "$(st backing)" "$1"
    expect "overlay mounts the shim refused" "$(grep -c '^refused ' "$C/mounts.log")" "$2"
    expect "overlay mounts the shim passed" "$(grep -c '^passed ' "$C/mounts.log")" "$3"
}

report() {
    N=$((N + 1))
    echo "# $1: rc=$(cat "$C/rc" 2>/dev/null) state: $(tr '\n' ' ' <"$C/state" 2>/dev/null)"
    sed 's/^/#   shim: /' "$C/mounts.log" 2>/dev/null
    sed 's/^/#   log: /' "$C/kmsg.out" 2>/dev/null
    tap_result "$2" || sed 's/^/#   stderr: /' "$C/stderr" 2>/dev/null
}

# A kernel without metacopy rejects redirect_dir=on,metacopy=on with EINVAL:
# the helper mounts the overlay again without them, still volatile.
case_metacopy() {
    run_case metacopy-einval
    local nr=$C/newroot mo
    # all three, then the two without volatile, then volatile alone
    expect_run tmpfs 2 1
    expect "state volatile" "$(st volatile)" 1
    awk '$1 == "passed" && $3 ~ /metacopy|redirect_dir/ {f = 1} END {exit f}' "$C/mounts.log" ||
        fail "the mount that passed asked for metacopy or redirect_dir"
    expect_log "overlay options redirect_dir=on,metacopy=on rejected, mounted without them"
    mo=$(mount_of "$nr")
    [[ $mo == overlay\ * ]] || fail "$nr is not an overlay ($mo)"
    [[ ,${mo#* }, == *,volatile,* || ,${mo#* }, == *,fsync=volatile,* ]] ||
        fail "the overlay is not volatile ($mo)"
    expect "a write through the overlay" "$(cat "$C/write")" ok
    report metacopy-einval "overlay rejects metacopy (EINVAL): mounted again without it and redirect_dir, volatile"
}

# A kernel before 5.10 rejects the overlay option volatile with EINVAL: the
# helper mounts the overlay again without it, keeping redirect_dir and
# metacopy, and says so.
case_volatile() {
    run_case volatile-einval
    local nr=$C/newroot mo
    expect_run tmpfs 1 1
    expect "state volatile" "$(st volatile)" 0
    awk '$1 == "refused" && ("," $3 ",") ~ /,volatile,/ {f = 1} END {exit !f}' "$C/mounts.log" ||
        fail "the refused mount did not ask for volatile"
    awk '$1 == "passed" && $3 ~ /volatile/ {f = 1} END {exit f}' "$C/mounts.log" ||
        fail "the retry asked for volatile again"
    awk '$1 == "passed" && ("," $3 ",") ~ /,redirect_dir=on,metacopy=on,/ {f = 1} END {exit !f}' "$C/mounts.log" ||
        fail "the retry went without redirect_dir=on,metacopy=on"
    expect_log "overlay option volatile rejected, mounted without it"
    if grep -qF "redirect_dir=on,metacopy=on rejected" "$C/kmsg.out"; then
        fail "the helper said metacopy was rejected"
    fi
    mo=$(mount_of "$nr")
    [[ $mo == overlay\ * ]] || fail "$nr is not an overlay ($mo)"
    [[ ,${mo#* }, != *,volatile,* ]] || fail "the overlay is volatile ($mo)"
    expect "a write through the overlay" "$(cat "$C/write")" ok
    expect "the root's file through the overlay" "$(cat "$C/marker")" "the root's own file"
    report volatile-einval "overlay rejects volatile (EINVAL): mounted again without it, state volatile=0"
}

# No overlay at all: the tmpfs fallback fails too; the root stays as it was
# and nothing of the helper's stays mounted.
case_nooverlay() {
    run_case overlay-enodev
    local nr=$C/newroot mo
    expect_run none 1 0
    expect "state reason" "$(st reason)" \
        "no disk at rd.scratch.lun=5 after 0 ms; the tmpfs overlay failed too: cannot mount the overlay with its upper on tmpfs: No such device"
    expect_log "the tmpfs overlay failed too: cannot mount the overlay with its upper on tmpfs: No such device, leaving the root as it is"
    if [[ $(grep -c 'cannot mount the overlay' "$C/kmsg.out") != 1 ]]; then
        fail "the overlay's failure was not told exactly once"
    fi
    mo=$(mount_of "$nr")
    [[ $mo == tmpfs\ ro,* ]] || fail "$nr is not the read-only root any more ($mo)"
    if awk -v d="$RUN_DIR" '$1 == d || index($1, d "/") == 1' "$C/mounts" | grep -q .; then
        fail "left mounted under $RUN_DIR: $(awk -v d="$RUN_DIR" 'index($1, d) == 1' "$C/mounts" | tr '\n' ' ')"
    fi
    expect "a write to the root" "$(cat "$C/write")" fail
    report overlay-enodev "no overlay (ENODEV): tmpfs fallback fails too, root left read-only, nothing left mounted"
}

main() {
    SO=${1:-$SR_MOUNTFAULT_SO}
    echo "1..3"
    need findmnt ldd
    [[ -f $SO ]] || bail "no shim at $SO"
    SO=$(readlink -f "$SO")
    if ldd "$SR_HELPER" 2>&1 | grep -q 'not a dynamic executable'; then
        bail "$SR_HELPER is linked statically: LD_PRELOAD cannot reach its mount(2)"
    fi
    make_tmp mountfault
    case_volatile
    case_metacopy
    case_nooverlay
    echo "# $FAILED failed"
    ((FAILED == 0))
}

run_tests "$@"
