#!/bin/bash
# Loop-device integration tests of "scratchroot setup". Prints TAP.
#
# Every case runs the helper in its own private mount namespace, with a tmpfs
# on /run, a regular file bound over /dev/kmsg and a fake sysfs tree whose
# SCSI disks are loop devices made here from sparse images in a temporary
# directory. The root is an ext4 image on a read-only loop device, mounted
# read-only on the case's newroot directory. Nothing is written outside that
# temporary directory and those loop devices; both go away on exit.
#
#   SR_HELPER=build/src/scratchroot bash test/integration/loop.sh
#
# Needs root, loop devices, util-linux (unshare, losetup, findmnt, mkswap),
# e2fsprogs, fdisk (sfdisk), dosfstools (mkfs.vfat) and valgrind. A missing
# tool fails the run ("Bail out!"), it never skips.

set -uo pipefail
export LC_ALL=C

SELF=$(readlink -f "${BASH_SOURCE[0]}")
SR_SOURCE=${SR_SOURCE:-$(cd "$(dirname "$SELF")/../.." && pwd)}
SR_BUILD=${SR_BUILD:-$SR_SOURCE/build}
SR_HELPER=${SR_HELPER:-$SR_BUILD/src/scratchroot}
SR_MOUNTFAULT_SO=${SR_MOUNTFAULT_SO:-$SR_BUILD/test/mountfault.so}
export SR_SOURCE SR_BUILD SR_HELPER SR_MOUNTFAULT_SO
FAULT=${FAULT-}
# shellcheck source=test/integration/fakesys.sh
. "$SR_SOURCE/test/integration/fakesys.sh"

# What the helper uses.
RUN_DIR=/run/scratchroot
SCRATCH=$RUN_DIR/scratch
LOWER=$RUN_DIR/lower
UPPER=$SCRATCH/upper
STAMP=scratchroot
# The root image's root directory: a mode no default would give.
ROOT_MODE=751
HELLO="written through the overlay"

# ---------------------------------------------------------------------------
# Recording failures (shared by both sides of the namespace boundary)
# ---------------------------------------------------------------------------

fail() {
    printf '%s\n' "$*" >>"$C/fail"
}

# ---------------------------------------------------------------------------
# Inside the namespace
# ---------------------------------------------------------------------------

# ns_main FN ARG...: makes the namespace look like an initrd's (own /run,
# /dev/kmsg a file, the root mounted read-only on $NEWROOT), then runs FN.
ns_main() {
    local fn=$1
    shift
    if [[ $(readlink /proc/self/ns/mnt) == "$HOST_MNTNS" ]]; then
        fail "the case did not get a mount namespace of its own"
        return 1
    fi
    if ! mount -t tmpfs -o "$RUN_OPTS" sr-run /run; then
        fail "cannot mount a tmpfs on /run"
        return 1
    fi
    : >"$C/kmsg"
    if ! mount --bind "$C/kmsg" /dev/kmsg || [[ ! -f /dev/kmsg ]]; then
        fail "cannot bind a file over /dev/kmsg"
        return 1
    fi
    if ! mount -o ro "$ROOT_LOOP" "$NEWROOT"; then
        fail "cannot mount the root image on $NEWROOT"
        return 1
    fi
    "$fn" "$@"
}

# snapshot TAG: what the namespace looks like now, into $C/TAG.
snapshot() {
    local r=$C/$1 p
    mkdir -p "$r"
    rm -f "$r/state" "$r/rundir" "$r/devdir"
    if [[ -e $RUN_DIR/state ]]; then
        cp "$RUN_DIR/state" "$r/state"
    fi
    findmnt -rn -o TARGET,FSTYPE,SOURCE,OPTIONS >"$r/mounts.all"
    awk -v nr="$NEWROOT" -v rd="$RUN_DIR" '$1 == nr || $1 == rd || index($1, rd "/") == 1' \
        "$r/mounts.all" >"$r/mounts"
    : >"$r/modes"
    for p in "$SCRATCH" "$UPPER" "$NEWROOT"; do
        if [[ -e $p ]]; then
            stat -c '%n %a' "$p" >>"$r/modes"
        fi
    done
    if [[ -d $RUN_DIR ]]; then
        ls -A "$RUN_DIR" >"$r/rundir"
    fi
    if [[ -d $RUN_DIR/dev ]]; then
        ls -A "$RUN_DIR/dev" >"$r/devdir"
    fi
    ls -A "$NEWROOT" >"$r/newroot.ls"
}

# run_helper TAG CMDLINE [ARG...]: runs the helper and keeps what it did in
# $C/TAG. CMDLINE @proc runs it without --cmdline (it reads /proc/cmdline).
run_helper() {
    local tag=$1 cmdline=$2 r=$C/$1 t0 t1 rc
    local -a cmd=()
    shift 2
    mkdir -p "$r"
    stat -c '%a' "$NEWROOT" >"$r/newroot-mode-before"
    if [[ -n $VG ]]; then
        cmd=(valgrind --error-exitcode=99 --leak-check=full "--log-file=$r/valgrind.log")
    fi
    # A kernel's answer to mount(2) faked by test/integration/mountfault.c;
    # under ASan the shim precedes the runtime, which only has to come
    # before libc.
    if [[ -n $FAULT ]]; then
        cmd=(env "LD_PRELOAD=$SR_MOUNTFAULT_SO" "SR_MOUNTFAULT=$FAULT" "SR_MOUNTFAULT_LOG=$r/mounts.log"
            "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
    fi
    cmd+=("$SR_HELPER" setup --newroot "$NEWROOT" --sysfs "$S")
    # The host's own defaults file, if it has one, is not for these tests.
    if [[ -n $SR_HAS_CONFIG ]]; then
        cmd+=(--config "$C/no-scratchroot.conf")
    fi
    if [[ $cmdline != @proc ]]; then
        cmd+=(--cmdline "$cmdline")
    fi
    : >/dev/kmsg
    t0=$(date +%s%N)
    echo "$t0" >"$r/t0"
    "${cmd[@]}" "$@" >"$r/stdout" 2>"$r/stderr"
    rc=$?
    t1=$(date +%s%N)
    echo "$rc" >"$r/rc"
    echo $(((t1 - t0) / 1000000)) >"$r/ms"
    cp /dev/kmsg "$r/kmsg"
    snapshot "$tag"
}

ns_run() {
    run_helper "$@"
}

# ns_scratch CMDLINE: a run, a write through the overlay, a second run.
ns_scratch() {
    run_helper r "$1"
    if ! echo "$HELLO" >"$NEWROOT/hello.txt" || ! mkdir "$NEWROOT/newdir"; then
        fail "cannot write into $NEWROOT"
    fi
    cat "$NEWROOT/etc/marker" >"$C/r/lower-read" 2>&1
    cat "$LOWER/etc/marker" >"$C/r/lower-direct" 2>&1
    if touch "$LOWER/probe" 2>/dev/null; then
        fail "$LOWER is writable"
    fi
    run_helper r2 "$1"
}

# ns_boot TAG CMDLINE FILE MIB: a run, then MIB MiB of random data written
# to FILE in the new root.
ns_boot() {
    run_helper "$1" "$2"
    if ! head -c "$(($4 << 20))" /dev/urandom >"$NEWROOT/$3"; then
        fail "cannot write $3 into $NEWROOT"
    fi
    sync
}

# ns_premount DEV DIR TAG CMDLINE [ARG...]: DEV is mounted on DIR first.
ns_premount() {
    local dev=$1 dir=$2
    shift 2
    if ! mount -o ro,noload "$dev" "$dir"; then
        fail "cannot mount $dev on $dir"
        return 1
    fi
    run_helper "$@"
}

# ns_hotplug AT BLOCK_AFTER DEVDIR HCTL TAG CMDLINE [ARG...]: while the
# helper runs, the SCSI device DEVDIR shows up at AT seconds, its block
# device ($C/stage/block) BLOCK_AFTER seconds later.
ns_hotplug() {
    local at=$1 after=$2 devdir=$3 hctl=$4 adder
    shift 4
    (
        sleep "$at"
        mkdir -p "$S/$devdir"
        ln -s "../../../$devdir" "$S/bus/scsi/devices/$hctl"
        sleep "$after"
        mv "$C/stage/block" "$S/$devdir/block"
        date +%s%N >"$C/added"
    ) &
    adder=$!
    run_helper "$@"
    wait "$adder"
}

# ---------------------------------------------------------------------------
# Outside: temporary files, loop devices, fake sysfs
# ---------------------------------------------------------------------------

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

# attach IMG [LOSETUP-OPTION...]: prints the new loop device.
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

# mkimg NAME SIZE: a sparse image in the case's directory.
mkimg() {
    local img=$C/$1.img
    truncate -s "$2" "$img" && echo "$img"
}

# scsi_disk HCTL NAME LOOP: a SCSI disk at HCTL whose block device is called
# NAME and has LOOP's number and attributes. Sets BLK to its directory.
scsi_disk() {
    BLK=$S/$(fakesys_devdir "$1")/block/$2
    fakesys_scsi "$S" "$@"
}

# fake_partition NUM LOOP: a partition NUM of the disk at $BLK with LOOP's
# number. Sets PART to its directory.
fake_partition() {
    local name
    name=$(basename "$BLK")$1
    PART=$BLK/$name
    mkdir -p "$PART/holders"
    devno_of "$2" >"$PART/dev"
    echo "$1" >"$PART/partition"
    echo 2048 >"$PART/start"
    cat "/sys/class/block/${2#/dev/}/size" >"$PART/size"
}

# one_disk NAME SIZE [MAKER [LOSETUP-OPTION...]]: an image (blank, or made
# by the function MAKER IMG), its loop device at LUN 0:0:0:1 under $NAME1.
# Sets IMG, LOOP, DEVNO, SHA0, BLK.
one_disk() {
    local maker=${3:-}
    IMG=$(mkimg "$1" "$2") || return 1
    if [[ -n $maker ]] && ! "$maker" "$IMG"; then
        fail "cannot make the $1 image"
        return 1
    fi
    SHA0=$(sha "$IMG")
    LOOP=$(attach "$IMG" "${@:4}") || { fail "cannot attach $IMG"; return 1; }
    DEVNO=$(devno_of "$LOOP")
    scsi_disk 0:0:0:1 "$NAME1" "$LOOP"
}

make_ext4_data() { mkfs.ext4 -q -F -L data "$1" >/dev/null; }
make_gpt() { printf 'label: gpt\n,32M,L\n' | sfdisk -q "$1" >/dev/null; }
make_mbr() { printf 'label: dos\n,32M,83\n' | sfdisk -q "$1" >/dev/null; }
make_swap() { chmod 0600 "$1" && mkswap "$1" >/dev/null 2>&1; }
make_vfat() { mkfs.vfat -n DATA "$1" >/dev/null; }
raw_data() { { yes 'raw database page' || :; } | head -c 65536; }
make_raw_first() { raw_data | dd of="$1" bs=4096 seek=64 conv=notrunc status=none; }
make_raw_last() {
    local size
    size=$(stat -c %s "$1")
    raw_data | dd of="$1" bs=4096 seek=$(((size - (512 << 10)) / 4096)) conv=notrunc status=none
}

# start_holder DEV DIR: DEV mounted on DIR in another mount namespace, held
# by a process of ours until the case ends.
start_holder() {
    local _
    # shellcheck disable=SC2016 # expanded by that sh
    unshare -m --propagation private sh -c \
        'mount -o ro,noload "$1" "$2" && touch "$3" && exec sleep 600' \
        sh "$1" "$2" "$C/held" &
    echo "$!" >>"$C/pids"
    echo "$!" >>"$T/pids"
    for _ in $(seq 50); do
        [[ -e $C/held ]] && return 0
        sleep 0.1
    done
    fail "cannot mount $1 in another namespace"
    return 1
}

in_ns() {
    export C S NEWROOT RUN_OPTS VG FAULT
    unshare -m --propagation private "$BASH" "$SELF" --in-ns "$@"
    local rc=$?
    [[ $rc == 0 ]] || fail "the namespace part ($1) exited with $rc"
}

# ---------------------------------------------------------------------------
# Outside: checks on what a run left in $C/TAG (use TAG selects it)
# ---------------------------------------------------------------------------

use() {
    R=$C/$1
    TAG=$1
    if [[ ! -f $R/rc ]]; then
        fail "[$TAG] the helper did not run"
        return 1
    fi
    check_logs
    check_state_shape
}

# Each "scratchroot: " line on stderr went to the kernel log as well, with a
# priority, and nothing else did.
check_logs() {
    local want got
    want=$(grep '^scratchroot: ' "$R/stderr")
    got=$(sed -E 's/^<[0-7]>scratchroot: /scratchroot: /' "$R/kmsg")
    [[ $want == "$got" ]] || fail "[$TAG] kmsg lines differ from stderr: $(head -c 300 "$R/kmsg")"
    if grep -qvE '^<[0-7]>scratchroot: ' "$R/kmsg"; then
        fail "[$TAG] kmsg line without priority or prefix"
    fi
    if [[ -s $R/stdout ]]; then
        fail "[$TAG] output on stdout: $(head -c 200 "$R/stdout")"
    fi
}

check_state_shape() {
    local b v ms
    [[ -f $R/state ]] || return 0
    b=$(st backing)
    v=$(st volatile)
    ms=$(st setup_ms)
    [[ $ms =~ ^[0-9]+$ ]] || fail "[$TAG] setup_ms='$ms'"
    [[ $(st source) == @(cmdline|default) ]] || fail "[$TAG] source='$(st source)'"
    if [[ -f $R/rundir ]] && grep -qvxE 'dev|lower|scratch|state' "$R/rundir"; then
        fail "[$TAG] unexpected entries in $RUN_DIR: $(tr '\n' ' ' <"$R/rundir")"
    fi
    if grep -q '^format_ms=' "$R/state"; then
        if [[ $b == scratch ]]; then
            [[ $(st format_ms) =~ ^[0-9]+$ ]] || fail "[$TAG] format_ms='$(st format_ms)'"
        else
            [[ -z $(st format_ms) ]] || fail "[$TAG] backing=$b with format_ms=$(st format_ms)"
        fi
    fi
    case $b in
        scratch)
            [[ -z $(st reason) ]] || fail "[$TAG] backing=scratch with reason=$(st reason)"
            [[ $(st fs) == ext4 ]] || fail "[$TAG] backing=scratch with fs=$(st fs)"
            check_discard_shape
            ;;
        tmpfs)
            [[ -z $(st discard) ]] || fail "[$TAG] backing=tmpfs with discard=$(st discard)"
            [[ -n $(st reason) ]] || fail "[$TAG] backing=tmpfs without a reason"
            [[ $(st fs) == tmpfs ]] || fail "[$TAG] backing=tmpfs with fs=$(st fs)"
            [[ -z $(st format) ]] || fail "[$TAG] backing=tmpfs with format=$(st format)"
            ;;
        none)
            [[ -n $(st reason) ]] || fail "[$TAG] backing=none without a reason"
            [[ -z $(st fs)$v ]] || fail "[$TAG] backing=none with fs=$(st fs) volatile=$v"
            ;;
        *) fail "[$TAG] backing='$b'" ;;
    esac
    if [[ $b != none ]]; then
        local opts
        opts=$(top_mount "$NEWROOT" | awk '{ print $4 }')
        if [[ ,$opts, == *,volatile,* || ,$opts, == *,fsync=volatile,* ]]; then
            [[ $v == 1 ]] || fail "[$TAG] the overlay is volatile, state says volatile=$v"
        else
            [[ $v == 0 ]] || fail "[$TAG] the overlay is not volatile, state says volatile=$v"
        fi
    fi
}

st() {
    [[ -f $R/state ]] && sed -n "s/^$1=//p" "$R/state"
}

# The scratch ext4 carries the discard mount option exactly when the state
# says discard=on.
check_discard_shape() {
    local d opts
    d=$(st discard)
    [[ $d == @(on|off|unsupported) ]] || fail "[$TAG] backing=scratch with discard='$d'"
    opts=$(top_mount "$SCRATCH" | awk '{ print $4 }')
    [[ -n $opts ]] || { fail "[$TAG] backing=scratch, and nothing mounted on $SCRATCH"; return; }
    if [[ ,$opts, == *,discard,* ]]; then
        [[ $d == on ]] || fail "[$TAG] the scratch is mounted with discard, state says discard=$d"
    else
        [[ $d != on ]] || fail "[$TAG] state says discard=on, the scratch is mounted without it: $opts"
    fi
}

expect_rc() {
    local got
    got=$(cat "$R/rc")
    [[ $got == "$1" ]] || fail "[$TAG] exit status $got, expected $1"
}

# expect_state KEY=VALUE...
expect_state() {
    local kv k v got
    if [[ ! -f $R/state ]]; then
        fail "[$TAG] no state file"
        return
    fi
    for kv; do
        k=${kv%%=*}
        v=${kv#*=}
        grep -q "^$k=" "$R/state" || fail "[$TAG] state has no key $k"
        got=$(st "$k")
        [[ $got == "$v" ]] || fail "[$TAG] state $k='$got', expected '$v'"
    done
}

expect_no_state() {
    [[ ! -f $R/state ]] || fail "[$TAG] a state file was written: $(tr '\n' ' ' <"$R/state")"
}

# expect_reason TEXT...: the state's reason contains every TEXT.
expect_reason() {
    local s reason
    reason=$(st reason)
    for s; do
        [[ $reason == *"$s"* ]] || fail "[$TAG] reason lacks '$s': $reason"
    done
}

# expect_log stderr|kmsg TEXT
expect_log() {
    grep -qF -- "$2" "$R/$1" || fail "[$TAG] $1 lacks '$2'"
}

top_mount() {
    awk -v t="$1" '$1 == t { l = $0 } END { if (l != "") print l }' "$R/mounts"
}

# expect_mount TARGET FSTYPE [OPTION...]: the topmost mount on TARGET.
expect_mount() {
    local target=$1 fstype=$2 line fs src opts o
    shift 2
    line=$(top_mount "$target")
    if [[ -z $line ]]; then
        fail "[$TAG] nothing mounted on $target"
        return
    fi
    read -r _ fs src opts <<<"$line"
    [[ $fs == "$fstype" ]] || fail "[$TAG] $target is $fs from $src, expected $fstype"
    for o; do
        [[ ,$opts, == *",$o,"* ]] || fail "[$TAG] $target lacks option $o: $opts"
    done
}

expect_source() {
    local src
    src=$(top_mount "$1" | awk '{ print $3 }')
    [[ $src == "$2" ]] || fail "[$TAG] $1 is mounted from '$src', expected '$2'"
}

mount_opt() {
    top_mount "$1" | awk '{ print $4 }' | tr , '\n' | sed -n "s/^$2=//p"
}

# expect_helper_mounts "TARGET FSTYPE"...: exactly these under /run/scratchroot,
# plus the small tmpfs for the helper's own device nodes when it made one
# (/run is nodev in initrds, so the nodes need a mount of their own).
expect_helper_mounts() {
    local want got extra=""
    if [[ -f $R/state ]] && grep -q "^device=$RUN_DIR/dev/" "$R/state"; then
        extra="$RUN_DIR/dev tmpfs"
    fi
    want=$(printf '%s\n' "$@" "$extra" | sed '/^$/d' | sort)
    got=$(awk -v rd="$RUN_DIR" '$1 == rd || index($1, rd "/") == 1 { print $1, $2 }' "$R/mounts" | sort)
    [[ $got == "$want" ]] || fail "[$TAG] mounts under $RUN_DIR: '$(echo "$got" | tr '\n' ';')', expected '$(echo "$want" | tr '\n' ';')'"
}

expect_overlay() {
    expect_mount "$NEWROOT" overlay "lowerdir=$LOWER" "upperdir=$UPPER" "workdir=$SCRATCH/work"
    expect_mount "$LOWER" ext4 ro
    expect_source "$LOWER" "$ROOT_LOOP"
}

# The root as it was: the read-only ext4, no overlay.
expect_plain_root() {
    expect_mount "$NEWROOT" ext4 ro
    expect_source "$NEWROOT" "$ROOT_LOOP"
    expect_helper_mounts
}

expect_mode() {
    local got
    got=$(awk -v p="$1" '$1 == p { print $2 }' "$R/modes")
    [[ $got == "$2" ]] || fail "[$TAG] mode of $1 is '$got', expected $2"
}

expect_unchanged() {
    local got
    got=$(sha "$1")
    [[ $got == "$2" ]] || fail "$(basename "$1") changed (sha256 $got, was $2)"
}

expect_zero() {
    cmp -s -n "$(stat -c %s "$1")" "$1" /dev/zero || fail "$(basename "$1") is no longer all zeros"
}

fs_field() {
    dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"
}

# expect_scratch_fs IMG: our ext4, without a journal.
expect_scratch_fs() {
    local label features
    label=$(fs_field "$1" "Filesystem volume name")
    features=$(fs_field "$1" "Filesystem features")
    [[ $label == "$STAMP" ]] || fail "$(basename "$1"): label '$label', expected $STAMP"
    [[ " $features " == *" extent "* ]] || fail "$(basename "$1"): no ext4 features: '$features'"
    [[ " $features " != *" has_journal "* ]] || fail "$(basename "$1"): has a journal: $features"
}

# expect_refused TEXT...: the disk at 0:0:0:1 was refused, the root got a
# tmpfs overlay, and the image is as it was.
expect_refused() {
    use r || return
    expect_rc 0
    expect_state backing=tmpfs fs=tmpfs format= hctl=0:0:0:1 "devno=$DEVNO" tmpfs_size=25% source=cmdline
    expect_reason "refusing $NAME1 (0:0:0:1, " "$@"
    expect_log stderr "falling back to tmpfs"
    expect_overlay
    expect_mount "$SCRATCH" tmpfs
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_unchanged "$IMG" "$SHA0"
}

expect_scratch_run() {
    expect_rc 0
    expect_state backing=scratch fs=ext4 tmpfs_size= reason= source=cmdline "$@"
    expect_overlay
    expect_mount "$SCRATCH" ext4 rw noinit_itable noatime nosuid nodev
    expect_helper_mounts "$LOWER ext4" "$SCRATCH ext4"
}

# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

c_scratch() {
    local first got
    one_disk scratch 256M || return
    in_ns ns_scratch "rd.scratch.lun=1"
    use r || return
    expect_scratch_run format=blank hctl=0:0:0:1 "devno=$DEVNO" "device=$RUN_DIR/dev/$NAME1"
    expect_source "$SCRATCH" "$RUN_DIR/dev/$NAME1"
    expect_mount "$SCRATCH" ext4 no_prefetch_block_bitmaps
    expect_mode "$SCRATCH" 700
    [[ $(cat "$R/newroot-mode-before") == "$ROOT_MODE" ]] || fail "the root's mode is not $ROOT_MODE"
    expect_mode "$UPPER" "$ROOT_MODE"
    expect_mode "$NEWROOT" "$ROOT_MODE"
    expect_log kmsg "<6>scratchroot: formatting $NAME1 (0:0:0:1, $DEVNO, 256.0 MiB): it is blank"
    expect_log kmsg "<6>scratchroot: root overlay on $NAME1 (0:0:0:1), ext4 without journal"
    [[ $(cat "$R/lower-read") == "$ROOT_MARKER" ]] || fail "the root's files are not seen through the overlay"
    [[ $(cat "$R/lower-direct") == "$ROOT_MARKER" ]] || fail "$LOWER does not show the root"
    first=$R

    use r2 || return
    expect_rc 0
    expect_log stderr "already"
    cmp -s "$first/mounts" "$R/mounts" || fail "the second run changed the mounts"
    cmp -s "$first/state" "$R/state" || fail "the second run changed the state file"

    expect_scratch_fs "$IMG"
    got=$(debugfs -R "cat /upper/hello.txt" "$IMG" 2>/dev/null)
    [[ $got == "$HELLO" ]] || fail "/upper/hello.txt in the scratch image: '$got'"
    debugfs -R "stat /upper/newdir" "$IMG" 2>/dev/null | grep -q 'Type: directory' ||
        fail "no /upper/newdir in the scratch image"
    debugfs -R "stat /hello.txt" "$ROOT_IMG" 2>&1 | grep -q 'not found' ||
        fail "hello.txt reached the root image"
    expect_unchanged "$ROOT_IMG" "$ROOT_SHA"
}

c_reuse() {
    local uuid1 uuid2 blocks1 blocks2
    one_disk reuse 256M || return
    in_ns ns_boot b1 "rd.scratch.lun=1" previous-boot 16
    use b1 || return
    expect_state backing=scratch format=blank
    uuid1=$(fs_field "$IMG" "Filesystem UUID")
    blocks1=$(stat -c %b "$IMG")
    debugfs -R "stat /upper/previous-boot" "$IMG" 2>/dev/null | grep -q 'Type: regular' ||
        fail "boot 1's file is not on the disk"

    in_ns ns_run b2 "rd.scratch.lun=1"
    use b2 || return
    expect_scratch_run format=reused hctl=0:0:0:1 "devno=$DEVNO"
    expect_log kmsg "carries the $STAMP stamp of an earlier boot"
    grep -qx previous-boot "$R/newroot.ls" && fail "boot 1's file is still in the root"
    expect_scratch_fs "$IMG"
    uuid2=$(fs_field "$IMG" "Filesystem UUID")
    [[ -n $uuid1 && $uuid1 != "$uuid2" ]] || fail "the filesystem UUID did not change ($uuid1, $uuid2)"
    debugfs -R "stat /upper/previous-boot" "$IMG" 2>&1 | grep -q 'not found' ||
        fail "boot 1's file is still on the disk"
    # Discarded on reuse: the 16 MiB of boot 1 go back to the image's host.
    blocks2=$(stat -c %b "$IMG")
    ((blocks2 + 16384 < blocks1)) || fail "the image kept its blocks ($blocks1 -> $blocks2 sectors)"
}

# A kernel before 5.13 refuses the ext4 option no_prefetch_block_bitmaps
# with EINVAL: the scratch is mounted again without it, and the log says so.
c_ext4_noprefetch() {
    local line
    one_disk noprefetch 256M || return
    FAULT=ext4-noprefetch-einval
    in_ns ns_run r "rd.scratch.lun=1"
    FAULT=
    use r || return
    expect_scratch_run format=blank hctl=0:0:0:1 "devno=$DEVNO"
    expect_log kmsg "ext4 option no_prefetch_block_bitmaps rejected, mounted without it"
    # The shim records the overlay's mount too; the ext4 ones are on $SCRATCH.
    line=$(grep " $SCRATCH " "$R/mounts.log" | tr '\n' '|')
    [[ $line == "refused $SCRATCH noinit_itable,no_prefetch_block_bitmaps|passed $SCRATCH noinit_itable|" ]] ||
        fail "the ext4 mounts: $line"
    line=$(top_mount "$SCRATCH")
    [[ $line != *no_prefetch_block_bitmaps* ]] || fail "the scratch mount has the refused option: $line"
}

# refusal MAKER SIZE TEXT...: an image made by MAKER at LUN 1 is refused.
refusal() {
    local maker=$1 size=$2
    shift 2
    one_disk "${maker#make_}" "$size" "$maker" || return
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "$@"
}

c_refuse_ext4() { refusal make_ext4_data 64M "64.0 MiB" "ext4" "'data'"; }
c_refuse_gpt() { refusal make_gpt 64M "gpt partition table"; }
c_refuse_mbr() { refusal make_mbr 64M "dos partition table"; }
c_refuse_swap() { refusal make_swap 64M "swap"; }
c_refuse_vfat() { refusal make_vfat 64M "vfat"; }
c_refuse_raw_first() { refusal make_raw_first 64M "data without a known signature in its first MiB"; }
c_refuse_raw_last() { refusal make_raw_last 64M "data without a known signature in its last MiB"; }

c_refuse_ro_loop() {
    one_disk ro 64M "" -r || return
    [[ $(cat "$BLK/ro") == 1 ]] || fail "losetup -r did not make a read-only loop device"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "it is read-only"
}

c_refuse_ro_sysfs() {
    one_disk rosysfs 64M || return
    echo 1 >"$BLK/ro"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "it is read-only"
    expect_zero "$IMG"
}

# A read-only device whose sysfs says otherwise: mke2fs cannot write it.
c_ro_unreported() {
    one_disk rolie 64M "" -r || return
    echo 0 >"$BLK/ro"
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=0:0:0:1
    expect_reason "$NAME1" "0:0:0:1"
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
}

c_refuse_small() {
    one_disk small 32M || return
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "too small" "32.0 MiB"
}

c_refuse_holder() {
    one_disk held 64M || return
    ln -s ../../dm-0 "$BLK/holders/dm-0"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "in use by dm-0"
}

c_refuse_root_loop() {
    IMG=$ROOT_IMG SHA0=$ROOT_SHA LOOP=$ROOT_LOOP DEVNO=$ROOT_DEVNO
    scsi_disk 0:0:0:1 "$NAME1" "$ROOT_LOOP"
    in_ns ns_run r "rd.scratch.lun=${1:-1}"
    expect_refused "it holds the root filesystem"
}

# The root's device is stacked on the disk (device-mapper style slaves/).
c_refuse_root_slaves() {
    one_disk under 64M || return
    ln -sr "$BLK" "$S/devices/virtual/block/${ROOT_LOOP#/dev/}/slaves/$NAME1"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "it holds the root filesystem"
}

# The root's device is a partition of the disk.
c_refuse_root_partition() {
    one_disk rootpart 64M || return
    fake_partition 1 "$ROOT_LOOP"
    rm "$S/dev/block/$ROOT_DEVNO"
    ln -sr "$PART" "$S/dev/block/$ROOT_DEVNO"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "it holds the root filesystem"
}

# The root is on a partition of an array built on the disk.
c_refuse_root_md() {
    local md mdloop
    one_disk member 64M || return
    mdloop=$(attach "$(mkimg md 8M)") || return
    md=$S/devices/virtual/block/md127
    fakesys_block "$md" "$mdloop"
    ln -sr "$BLK" "$md/slaves/$NAME1"
    ln -sr "$md" "$BLK/holders/md127"
    mkdir -p "$md/md127p1"
    echo "$ROOT_DEVNO" >"$md/md127p1/dev"
    echo 1 >"$md/md127p1/partition"
    rm "$S/dev/block/$ROOT_DEVNO"
    ln -sr "$md/md127p1" "$S/dev/block/$ROOT_DEVNO"
    # Without the holder link, the walk from the root is all that tells.
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "it holds the root filesystem"
    rm "$BLK/holders/md127"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "it holds the root filesystem"
}

c_refuse_root_unknown() {
    one_disk unknown 64M || return
    rm "$S/dev/block/$ROOT_DEVNO"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "cannot tell which disks back the root filesystem"
}

c_refuse_mounted() {
    one_disk mounted 64M make_ext4_data || return
    mkdir "$C/elsewhere"
    in_ns ns_premount "$LOOP" "$C/elsewhere" r "rd.scratch.lun=${1:-1}"
    expect_refused "mounted"
}

c_refuse_busy() {
    one_disk busy 64M make_ext4_data || return
    mkdir "$C/elsewhere"
    start_holder "$LOOP" "$C/elsewhere" || return
    in_ns ns_run r "rd.scratch.lun=${1:-1}"
    expect_refused "busy"
}

c_refuse_partition() {
    local decoy
    one_disk parts 64M || return
    decoy=$(attach "$(mkimg decoy 8M)") || return
    fake_partition 1 "$decoy"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "1 partition"
}

c_refuse_partition_mounted() {
    local decoy dloop dsha
    one_disk pmounted 64M || return
    decoy=$(mkimg decoy 8M) && mkfs.ext4 -q -F "$decoy" >/dev/null || return
    dsha=$(sha "$decoy")
    dloop=$(attach "$decoy") || return
    fake_partition 1 "$dloop"
    mkdir "$C/elsewhere"
    in_ns ns_premount "$dloop" "$C/elsewhere" r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "mounted"
    expect_unchanged "$decoy" "$dsha"
}

c_refuse_partition_holder() {
    local decoy
    one_disk pheld 64M || return
    decoy=$(attach "$(mkimg decoy 8M)") || return
    fake_partition 1 "$decoy"
    ln -s ../../dm-1 "$PART/holders/dm-1"
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "in use by dm-1"
}

c_refuse_is_partition() {
    one_disk ispart 64M || return
    echo 1 >"$BLK/partition"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "partition, not a whole disk"
}

c_force_ext4() {
    local uuid0
    one_disk forced 64M make_ext4_data || return
    uuid0=$(fs_field "$IMG" "Filesystem UUID")
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    use r || return
    expect_scratch_run format=forced hctl=0:0:0:1 "devno=$DEVNO"
    expect_log kmsg "formatted anyway as rd.scratch.force asks"
    expect_scratch_fs "$IMG"
    [[ $(fs_field "$IMG" "Filesystem UUID") != "$uuid0" ]] || fail "the foreign filesystem is still there"
}

c_force_ro_loop() {
    one_disk ro 64M "" -r || return
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "it is read-only"
}

c_force_root_loop() { c_refuse_root_loop "1 rd.scratch.force=1"; }
c_force_mounted() { c_refuse_mounted "1 rd.scratch.force=1"; }
c_force_busy() { c_refuse_busy "1 rd.scratch.force=1"; }

c_force_holder() {
    one_disk held 64M || return
    ln -s ../../dm-0 "$BLK/holders/dm-0"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "in use by dm-0"
}

# sysfs lists a partition that holds nothing: force formats the disk.
c_force_partition() {
    local decoy
    one_disk fparts 64M || return
    decoy=$(attach "$(mkimg decoy 8M)") || return
    fake_partition 1 "$decoy"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    use r || return
    expect_scratch_run format=forced hctl=0:0:0:1
    expect_scratch_fs "$IMG"
}

c_nodisk() {
    local size want
    one_disk lun1 64M || return
    in_ns ns_run r "rd.scratch.lun=5"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs fs=tmpfs tmpfs_size=25% hctl= device= devno= format=
    expect_reason "no disk at rd.scratch.lun=5 after 500 ms"
    expect_overlay
    expect_mount "$SCRATCH" tmpfs nosuid nodev mode=700
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_mode "$SCRATCH" 700
    expect_mode "$UPPER" "$ROOT_MODE"
    size=$(mount_opt "$SCRATCH" size)
    want=$(awk '/^MemTotal:/ { print int($2 / 4) }' /proc/meminfo)
    if [[ ! $size =~ ^[0-9]+k$ ]] || ((${size%k} < want * 98 / 100 || ${size%k} > want * 102 / 100)); then
        fail "tmpfs size=$size, expected about ${want}k (25% of RAM)"
    fi
    (($(cat "$R/ms") >= 490)) || fail "gave up after $(cat "$R/ms") ms, the default wait is 500 ms"
    expect_zero "$IMG"
}

c_tmpfs_size() {
    in_ns ns_run r "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.tmpfs.size=64m"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs
    [[ $(st tmpfs_size) == @(64m|67108864) ]] || fail "state tmpfs_size=$(st tmpfs_size), expected 64m"
    expect_mount "$SCRATCH" tmpfs size=65536k
    (($(cat "$R/ms") < 400)) || fail "rd.scratch.timeout=0 still took $(cat "$R/ms") ms"
}

c_fallback_none() {
    in_ns ns_run r "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.fallback=none"
    use r || return
    expect_rc 0
    expect_state backing=none fs= volatile= tmpfs_size=
    expect_reason "no disk at rd.scratch.lun=5"
    expect_plain_root
    expect_log stderr "leaving the root as it is"
}

c_fallback_fail() {
    in_ns ns_run r "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.fallback=fail"
    use r || return
    expect_rc 1
    expect_state backing=none fs=
    expect_reason "no disk at rd.scratch.lun=5"
    expect_plain_root
    expect_log stderr "stopping the boot"
}

c_fallback_fail_refused() {
    one_disk foreign 64M make_ext4_data || return
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.fallback=fail"
    use r || return
    expect_rc 1
    expect_state backing=none hctl=0:0:0:1
    expect_reason "refusing $NAME1 (0:0:0:1" "'data'"
    expect_plain_root
    expect_unchanged "$IMG" "$SHA0"
}

c_malformed() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=abc"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl= device= format=
    expect_reason "rd.scratch.lun" "abc"
    grep -q 'rd\.scratch\.lun.*abc' "$R/stderr" || fail "no stderr line names rd.scratch.lun and abc"
    grep -q '^<[0-7]>scratchroot: .*rd\.scratch\.lun.*abc' "$R/kmsg" || fail "no kmsg line names rd.scratch.lun and abc"
    expect_overlay
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
    (($(cat "$R/ms") < 400)) || fail "took $(cat "$R/ms") ms"
    (($(st setup_ms) < 400)) || fail "setup_ms=$(st setup_ms)"
}

c_nolun() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl= device=
    expect_reason "rd.scratch.lun"
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
}

two_disks() {
    IMG=$(mkimg host0 64M) && IMG2=$(mkimg host1 64M) || return 1
    LOOP=$(attach "$IMG") && LOOP2=$(attach "$IMG2") || return 1
    DEVNO=$(devno_of "$LOOP")
    DEVNO2=$(devno_of "$LOOP2")
    scsi_disk 0:0:0:1 "$NAME1" "$LOOP"
    scsi_disk 1:0:0:1 "$NAME2" "$LOOP2"
}

# One SCSI device, two block devices: which one is meant is unclear.
c_two_blocks() {
    two_disks || return
    rm "$S/bus/scsi/devices/1:0:0:1"
    mv "$S/$(fakesys_devdir 1:0:0:1)/block/$NAME2" "$S/$(fakesys_devdir 0:0:0:1)/block/"
    in_ns ns_run r "rd.scratch.lun=0:0:0:1 rd.scratch.force=1"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs
    expect_reason "0:0:0:1"
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
    expect_zero "$IMG2"
}

c_ambiguous() {
    two_disks || return
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=
    expect_reason "ambiguous" "0:0:0:1" "1:0:0:1"
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
    expect_zero "$IMG2"
}

c_full_hctl() {
    two_disks || return
    in_ns ns_run r "rd.scratch.lun=1:0:0:1"
    use r || return
    expect_scratch_run format=blank hctl=1:0:0:1 "devno=$DEVNO2" "device=$RUN_DIR/dev/$NAME2"
    expect_zero "$IMG"
    expect_scratch_fs "$IMG2"
}

c_disabled() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch=0 rd.scratch.lun=1"
    use r || return
    expect_rc 0
    expect_no_state
    [[ ! -e $R/rundir ]] || fail "$RUN_DIR was created"
    expect_plain_root
    expect_log stderr "rd.scratch=0"
    expect_zero "$IMG"
}

c_no_options() {
    local tag
    one_disk blank 64M || return
    in_ns ns_run r "root=/dev/vda ro quiet rd.scratchy=1 scratch.lun=1"
    if grep -q 'rd\.scratch' /proc/cmdline; then
        echo "# /proc/cmdline has rd.scratch options: not run without --cmdline" >&2
    else
        in_ns ns_run p "@proc"
    fi
    for tag in r p; do
        [[ -d $C/$tag ]] || continue
        use "$tag" || continue
        expect_rc 0
        expect_no_state
        [[ ! -e $R/rundir ]] || fail "[$tag] $RUN_DIR was created"
        [[ ! -s $R/stderr && ! -s $R/kmsg ]] || fail "[$tag] output: $(head -c 300 "$R/stderr")"
        expect_plain_root
    done
    expect_zero "$IMG"
}

c_mke2fs_fails() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=1" --mke2fs "$T/bin/mke2fs-fails"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=0:0:0:1
    expect_reason "$NAME1" "0:0:0:1" "status 1"
    expect_overlay
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
}

c_mke2fs_missing() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=1" --mke2fs "$T/bin/no-such-mke2fs"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=0:0:0:1
    expect_reason "$T/bin/no-such-mke2fs"
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
}

c_mke2fs_noop() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=1" --mke2fs "$(type -P true)"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=0:0:0:1
    expect_reason "cannot mount" "$NAME1" "0:0:0:1"
    expect_overlay
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
    expect_zero "$IMG"
}

# stage_disk HCTL NAME: a blank image whose block device is staged in
# $C/stage/block for ns_hotplug. Sets IMG, LOOP, DEVNO, SHA0, DEVDIR.
stage_disk() {
    IMG=$(mkimg hotplug 64M) || return 1
    SHA0=$(sha "$IMG")
    LOOP=$(attach "$IMG") || return 1
    DEVNO=$(devno_of "$LOOP")
    DEVDIR=$(fakesys_devdir "$1")
    fakesys_block "$C/stage/block/$2" "$LOOP"
}

c_hotplug() {
    local t0 added
    stage_disk 0:0:0:1 "$NAME1" || return
    in_ns ns_hotplug 1 0.2 "$DEVDIR" 0:0:0:1 r "rd.scratch.lun=1 rd.scratch.timeout=3"
    use r || return
    expect_scratch_run format=blank hctl=0:0:0:1 "devno=$DEVNO"
    expect_scratch_fs "$IMG"
    t0=$(cat "$R/t0")
    added=$(cat "$C/added" 2>/dev/null || echo 0)
    ((added > t0 && (added - t0) / 1000000 < $(cat "$R/ms"))) ||
        fail "the disk did not show up while the helper waited"
}

c_too_late() {
    stage_disk 0:0:0:1 "$NAME1" || return
    in_ns ns_hotplug 1.5 0 "$DEVDIR" 0:0:0:1 r "rd.scratch.lun=1 rd.scratch.timeout=0.3"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=
    expect_reason "no disk at rd.scratch.lun=1 after 300 ms"
    (($(cat "$R/ms") < 1500)) || fail "the helper ran for $(cat "$R/ms") ms"
    [[ -e $C/added ]] || fail "the disk was not added"
    expect_zero "$IMG"
}

# A SCSI device at the LUN that never gets a block device (a tape, say).
c_no_block() {
    local devdir
    devdir=$(fakesys_devdir 0:0:0:1)
    mkdir -p "$S/$devdir"
    ln -s "../../../$devdir" "$S/bus/scsi/devices/0:0:0:1"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.timeout=0.2"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=
    expect_reason "rd.scratch.lun=1 has no block device after 200 ms"
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
}

# A disk whose block device sysfs shows but the kernel will not open
# (ENXIO: what a disk being hot-plugged answers for a moment; here a device
# number no driver has): tried again for a second, then refused by name, and
# the image is untouched.
c_open_enxio() {
    local ms
    one_disk enxio 64M || return
    echo 240:0 >"$S/$(fakesys_devdir 0:0:0:1)/block/$NAME1/dev"
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_rc 0
    expect_state backing=tmpfs hctl=0:0:0:1 devno=240:0
    expect_reason "cannot open $RUN_DIR/dev/$NAME1 (0:0:0:1): No such device or address"
    ms=$(cat "$R/ms")
    ((ms >= 1000)) || fail "gave up after $ms ms, before its second of grace"
    ((ms < 5000)) || fail "took $ms ms to give up"
    expect_unchanged "$IMG" "$SHA0"
}

# The block device's name is the loop device's: the helper uses /dev/loopN.
c_real_node() {
    local name
    IMG=$(mkimg real 64M) && LOOP=$(attach "$IMG") || return
    name=${LOOP#/dev/}
    scsi_disk 0:0:0:1 "$name" "$LOOP"
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_scratch_run format=blank hctl=0:0:0:1 "device=$LOOP"
    expect_source "$SCRATCH" "$LOOP"
    [[ ! -s $R/devdir ]] || fail "nodes made in $RUN_DIR/dev: $(cat "$R/devdir")"
    expect_scratch_fs "$IMG"
}

# The name is that of another loop device of ours: /dev/<name> is not it.
c_name_elsewhere() {
    local other oimg name
    oimg=$(mkimg other 64M) && other=$(attach "$oimg") || return
    IMG=$(mkimg real 64M) && LOOP=$(attach "$IMG") || return
    name=${other#/dev/}
    scsi_disk 0:0:0:1 "$name" "$LOOP"
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_scratch_run format=blank hctl=0:0:0:1 "device=$RUN_DIR/dev/$name" "devno=$(devno_of "$LOOP")"
    expect_zero "$oimg"
    expect_scratch_fs "$IMG"
}

# /run as systemd mounts it in an initrd: nosuid,nodev.
c_nodev_run() {
    one_disk blank 64M || return
    RUN_OPTS=mode=0755,nosuid,nodev
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_scratch_run format=blank hctl=0:0:0:1
}

# A helper built with AddressSanitizer cannot run under valgrind: there the
# sanitizer (and its leak checker) watches the same run instead.
sanitized() {
    grep -q __asan_init "$SR_HELPER"
}

check_valgrind() {
    expect_rc 0
    if sanitized; then
        echo "# the helper is built with a sanitizer: it checked this run, not valgrind"
        if grep -qE 'Sanitizer|runtime error' "$R/stderr"; then
            fail "sanitizer: $(grep -E 'Sanitizer|runtime error' "$R/stderr" | head -n 3 | tr '\n' ' ')"
        fi
        return
    fi
    grep -q 'ERROR SUMMARY: 0 errors' "$R/valgrind.log" 2>/dev/null ||
        fail "valgrind: $(grep -E 'ERROR SUMMARY|definitely|indirectly' "$R/valgrind.log" 2>/dev/null | tr '\n' ' ')"
}

c_valgrind_scratch() {
    one_disk scratch 256M || return
    sanitized || VG=1
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    check_valgrind
    expect_state backing=scratch format=blank
}

c_valgrind_refused() {
    one_disk foreign 64M make_ext4_data || return
    sanitized || VG=1
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    check_valgrind
    expect_state backing=tmpfs
    expect_unchanged "$IMG" "$SHA0"
}

# alloc_kib FILE: what FILE holds on the host, in KiB.
alloc_kib() {
    local b
    b=$(stat -c '%b %B' "$1") || return 1
    echo $((${b% *} * ${b#* } / 1024))
}

# ns_write_delete TAG CMDLINE IMG: a run, then 64 MiB written to a file in
# the new root and synced, then the file deleted and synced. The host
# allocation of IMG (KiB) before, after the write and after the delete goes
# to $C/TAG/alloc, one figure a line.
ns_write_delete() {
    local r=$C/$1 img=$3
    run_helper "$1" "$2"
    alloc_kib "$img" >"$r/alloc"
    if ! head -c $((64 << 20)) /dev/urandom >"$NEWROOT/big"; then
        fail "[$1] cannot write 64 MiB into $NEWROOT"
    fi
    sync
    alloc_kib "$img" >>"$r/alloc"
    rm -f "$NEWROOT/big"
    sync
    alloc_kib "$img" >>"$r/alloc"
}

# write_delete CMDLINE: ns_write_delete on a blank 512 MiB disk at LUN 1,
# checked as a scratch run. Sets A0, A1, A2 (KiB before, after the write,
# after the delete).
write_delete() {
    local -a a
    one_disk wd 512M || return 1
    in_ns ns_write_delete r "$1" "$IMG"
    use r || return 1
    expect_scratch_run format=blank hctl=0:0:0:1
    mapfile -t a <"$R/alloc"
    if ((${#a[@]} != 3)); then
        fail "[$TAG] allocation figures: ${a[*]}"
        return 1
    fi
    A0=${a[0]} A1=${a[1]} A2=${a[2]}
    echo "# $1: the image holds $A0 KiB, $A1 KiB after writing 64 MiB, $A2 KiB after deleting it"
    ((A1 >= A0 + 60 * 1024)) || fail "[$TAG] writing 64 MiB took only $((A1 - A0)) KiB on the host"
}

# rd.scratch.discard=1: the scratch is mounted with discard, and deleting a
# file hands its blocks back to the host at once.
c_discard_on() {
    write_delete "rd.scratch.lun=1 rd.scratch.discard=1" || return
    expect_state discard=on
    expect_mount "$SCRATCH" ext4 discard
    expect_log kmsg "ext4 without journal, discard"
    ((A2 <= A0 + 4 * 1024)) || fail "deleting 64 MiB left $((A2 - A0)) KiB allocated on the host"
}

# The default: no discard, the host keeps the blocks of deleted files.
c_discard_default() {
    write_delete "rd.scratch.lun=1" || return
    expect_state discard=off
    ((A2 >= A0 + 60 * 1024)) || fail "without discard, deleting 64 MiB still gave back $((A1 - A2)) KiB"
}

# At format time: a blank disk is not discarded (nothing to give back), a
# reused one is, a disk without discard support is not, and then the mount
# goes without discard and says so.
c_discard_format() {
    local rec=$C/mke2fs-args wrap=$T/bin/mke2fs-rec-$N real
    real=$(command -v mke2fs) || { fail "no mke2fs"; return; }
    printf '#!/bin/sh\necho "$*" >>%s\nexec %s "$@"\n' "$rec" "$real" >"$wrap"
    chmod 0755 "$wrap"
    one_disk fmt 256M || return
    in_ns ns_run b1 "rd.scratch.lun=1 rd.scratch.discard=1" --mke2fs "$wrap"
    use b1 || return
    expect_scratch_run format=blank discard=on
    in_ns ns_run b2 "rd.scratch.lun=1" --mke2fs "$wrap"
    use b2 || return
    expect_scratch_run format=reused discard=off
    echo 0 >"$BLK/queue/discard_max_bytes"
    in_ns ns_run b3 "rd.scratch.lun=1 rd.scratch.discard=1" --mke2fs "$wrap"
    use b3 || return
    expect_scratch_run format=reused discard=unsupported
    expect_log kmsg "$NAME1 (0:0:0:1) does not support discard"
    if [[ $(wc -l <"$rec") != 3 ]]; then
        fail "mke2fs ran $(wc -l <"$rec") times, expected 3"
        return
    fi
    sed 's/^/# mke2fs /' "$rec"
    [[ $(sed -n 1p "$rec") == *",nodiscard "* ]] || fail "a blank disk was formatted without nodiscard"
    [[ $(sed -n 2p "$rec") == *",discard "* ]] || fail "a reused disk was not discarded (rd.scratch.discard is for the mount only)"
    [[ $(sed -n 3p "$rec") == *",nodiscard "* ]] || fail "a disk without discard support was asked to discard"
}

CASES=(
    "c_scratch|scratch: a blank disk at LUN 1 carries the root's overlay"
    "c_reuse|reuse: our stamp from a previous boot is formatted again"
    "c_ext4_noprefetch|ext4 rejects no_prefetch_block_bitmaps (before 5.13): mounted again without it"
    "c_refuse_ext4|refused: foreign ext4"
    "c_refuse_gpt|refused: GPT partition table"
    "c_refuse_mbr|refused: MBR partition table"
    "c_refuse_swap|refused: swap"
    "c_refuse_vfat|refused: vfat"
    "c_refuse_raw_first|refused: raw data in the first MiB"
    "c_refuse_raw_last|refused: raw data in the last MiB"
    "c_refuse_ro_loop|refused: read-only loop device"
    "c_refuse_ro_sysfs|refused: sysfs ro=1"
    "c_ro_unreported|fallback: read-only device that sysfs calls writable stays untouched"
    "c_refuse_small|refused: 32 MiB disk"
    "c_refuse_holder|refused: holders/dm-0"
    "c_refuse_root_loop|refused: the root's own device at the LUN"
    "c_refuse_root_slaves|refused: the root's device is stacked on the disk"
    "c_refuse_root_partition|refused: the root is on a partition of the disk"
    "c_refuse_root_md|refused: the root is on a partition of an array built on the disk"
    "c_refuse_root_unknown|refused: what backs the root is unknown to sysfs"
    "c_refuse_mounted|refused: mounted in this namespace"
    "c_refuse_busy|refused: mounted in another namespace (busy)"
    "c_refuse_partition|refused: sysfs shows a partition"
    "c_refuse_partition_mounted|refused: a partition of it is mounted (even forced)"
    "c_refuse_partition_holder|refused: a partition of it is held by dm-1"
    "c_refuse_is_partition|refused: a partition, not a whole disk (even forced)"
    "c_force_ext4|force: foreign ext4 is formatted"
    "c_force_ro_loop|force: read-only loop device still refused"
    "c_force_root_loop|force: the root's own device still refused"
    "c_force_mounted|force: mounted disk still refused"
    "c_force_busy|force: busy disk still refused"
    "c_force_holder|force: held disk still refused"
    "c_force_partition|force: blank disk with a partition entry is formatted"
    "c_nodisk|fallback: no disk at rd.scratch.lun=5, tmpfs of 25%"
    "c_tmpfs_size|fallback: rd.scratch.tmpfs.size=64m"
    "c_fallback_none|fallback: rd.scratch.fallback=none leaves the root"
    "c_fallback_fail|fallback: rd.scratch.fallback=fail exits 1"
    "c_fallback_fail_refused|fallback: rd.scratch.fallback=fail on a refused disk"
    "c_malformed|fallback: rd.scratch.lun=abc touches no disk, does not wait"
    "c_nolun|fallback: rd.scratch without rd.scratch.lun"
    "c_two_blocks|fallback: one SCSI device with two block devices"
    "c_ambiguous|fallback: bare LUN on two hosts is ambiguous"
    "c_full_hctl|full H:C:T:L picks the disk on host 1"
    "c_disabled|rd.scratch=0 does nothing"
    "c_no_options|no rd.scratch options: nothing, silently"
    "c_mke2fs_fails|fault: mke2fs exits 1"
    "c_mke2fs_missing|fault: mke2fs does not exist"
    "c_mke2fs_noop|fault: mke2fs writes nothing, the mount fails"
    "c_hotplug|hot-plug: the disk shows up 1 s into a 3 s wait"
    "c_too_late|hot-plug: the disk shows up after the 0.3 s wait"
    "c_no_block|hot-plug: a SCSI device without a block device"
    "c_open_enxio|hot-plug: a block device that answers ENXIO is tried again for 1 s, then refused"
    "c_real_node|node: a name that is the disk's /dev node is used"
    "c_name_elsewhere|node: a /dev name that is another device is not used"
    "c_nodev_run|node: own node works with /run mounted nodev (as systemd does)"
    "c_valgrind_scratch|memory: scratch run is clean under valgrind (or the sanitizer)"
    "c_valgrind_refused|memory: refusal run is clean under valgrind (or the sanitizer)"
    "c_discard_on|discard: rd.scratch.discard=1, 64 MiB deleted goes back to the host"
    "c_discard_default|discard: off by default, deleted blocks stay allocated"
    "c_discard_format|discard: at format, a reused disk is discarded, a blank or unsupported one not"
)

# ---------------------------------------------------------------------------
# Outside: running
# ---------------------------------------------------------------------------

bail() {
    echo "Bail out! $*"
    exit 1
}

preflight() {
    local t missing=() n
    [[ $(id -u) == 0 ]] || bail "needs root"
    [[ -x $SR_HELPER ]] || bail "no helper at $SR_HELPER"
    [[ -f $SR_MOUNTFAULT_SO ]] || bail "no mount(2) shim at $SR_MOUNTFAULT_SO (ninja -C build)"
    for t in unshare losetup findmnt mount mkswap mkfs.ext4 dumpe2fs debugfs sfdisk mkfs.vfat \
        valgrind sha256sum cmp awk sed stat truncate dd; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || bail "missing tools: ${missing[*]} (packages util-linux, mount, e2fsprogs, fdisk, dosfstools, valgrind)"
    [[ -e /dev/loop-control ]] || bail "no /dev/loop-control"
    unshare -m --propagation private true || bail "cannot make mount namespaces"
    SR_HAS_CONFIG=
    if "$SR_HELPER" --help 2>/dev/null | grep -q -- --config; then
        SR_HAS_CONFIG=1
    fi
    export SR_HAS_CONFIG
    NAMES=()
    for n in sdz sdy sdx sdw sdv sdu; do
        [[ -e /dev/$n || -e /sys/class/block/$n ]] || NAMES+=("$n")
    done
    ((${#NAMES[@]} >= 2)) || bail "no free sdX names"
    NAME1=${NAMES[0]}
    NAME2=${NAMES[1]}
}

setup_root() {
    local src=$T/rootsrc
    mkdir -p "$src/etc" "$src/usr/bin" "$T/bin"
    ROOT_MARKER="the lower root"
    echo "$ROOT_MARKER" >"$src/etc/marker"
    ROOT_IMG=$T/root.img
    mkfs.ext4 -q -F -L testroot -d "$src" "$ROOT_IMG" 16M >/dev/null || return 1
    # mke2fs -d leaves the root directory's mode at 0755.
    debugfs -w -R "sif / mode 040$ROOT_MODE" "$ROOT_IMG" >/dev/null 2>&1 || return 1
    debugfs -R "stat /" "$ROOT_IMG" 2>/dev/null | grep -q "Mode:  0$ROOT_MODE" || return 1
    ROOT_SHA=$(sha "$ROOT_IMG")
    ROOT_LOOP=$(attach "$ROOT_IMG" -r) || return 1
    ROOT_DEVNO=$(devno_of "$ROOT_LOOP")
    printf '#!/bin/sh\nexit 1\n' >"$T/bin/mke2fs-fails"
    chmod 0755 "$T/bin/mke2fs-fails"
}

# What of the host these tests could have changed by mistake: mounts of
# ours, /run/scratchroot, /dev/kmsg, kernel log lines naming our files, and
# loop devices on our images.
host_view() {
    findmnt -rn -o TARGET,SOURCE,FSTYPE | grep -F -e "$T" -e "$RUN_DIR"
    ls -ld "$RUN_DIR" 2>&1
    stat -c '%F %t:%T' /dev/kmsg
    dmesg 2>/dev/null | grep -F "$T"
    losetup -n -l -O NAME,BACK-FILE | grep -F "$T" | grep -vF "$ROOT_IMG"
}

run_case() {
    local fn=$1 desc=$2 nloops d t0
    N=$((N + 1))
    C=$T/cases/$(printf '%02d' "$N")-${fn#c_}
    S=$C/sys
    NEWROOT=$C/newroot
    RUN_OPTS=mode=0755,nosuid
    VG=
    FAULT=
    mkdir -p "$C" "$NEWROOT"
    : >"$C/fail"
    nloops=$(wc -l <"$T/loops")
    fakesys_root "$S" "$ROOT_LOOP"

    t0=$(date +%s%N)
    "$fn"
    [[ -z ${SR_TIMING:-} ]] || echo "# $fn: $((($(date +%s%N) - t0) / 1000000)) ms"

    if [[ -f $C/pids ]]; then
        while read -r d; do
            kill "$d" 2>/dev/null
            wait "$d" 2>/dev/null
        done <"$C/pids"
    fi
    detach_loops "$T/loops" "$nloops"
    if [[ -s $C/fail ]]; then
        FAILED=$((FAILED + 1))
        echo "not ok $N - $desc"
        sed 's/^/#   /' "$C/fail"
        for d in "$C"/*/; do
            [[ -f $d/rc ]] || continue
            echo "#   [$(basename "$d")] exit $(cat "$d/rc"), $(cat "$d/ms") ms"
            sed 's/^/#     state: /' "$d/state" 2>/dev/null
            head -n 20 "$d/stderr" | sed 's/^/#     stderr: /'
        done
    else
        echo "ok $N - $desc"
        for d in "$C"/*/; do
            [[ -s $d/state ]] && sed -n "s|^reason=\(..*\)|#   [$(basename "$d")] reason: \1|p" "$d/state"
        done
    fi
    # Images are large even when sparse: drop them once checked.
    rm -f "$C"/*.img
}

main() {
    local entry start host0
    preflight
    T=$(mktemp -d "${TMPDIR:-/tmp}/sr-loop.XXXXXX") || bail "no temporary directory"
    [[ $T != /run/* && $T != /dev/* && $T != *[[:space:]]* ]] || bail "unusable temporary directory $T"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    : >"$T/loops"
    : >"$T/pids"
    C=$T/setup
    mkdir -p "$C"
    setup_root || bail "cannot make the root image"
    # A copy: the build directory may be relinked while the cases run.
    cp "$SR_HELPER" "$T/bin/scratchroot" || bail "cannot copy $SR_HELPER"
    if "$T/bin/scratchroot" --version >/dev/null 2>&1; then
        SR_HELPER=$T/bin/scratchroot
    fi
    HOST_MNTNS=$(readlink /proc/self/ns/mnt)
    export T HOST_MNTNS ROOT_LOOP HELLO
    host0=$(host_view)
    start=$SECONDS

    N=0
    FAILED=0
    echo "1..$((${#CASES[@]} + 1))"
    for entry in "${CASES[@]}"; do
        run_case "${entry%%|*}" "${entry#*|}"
    done

    N=$((N + 1))
    C=$T/final
    mkdir -p "$C"
    : >"$C/fail"
    diff <(echo "$host0") <(host_view) >"$C/host.diff" ||
        fail "the host changed: $(tr '\n' ' ' <"$C/host.diff")"
    expect_unchanged "$ROOT_IMG" "$ROOT_SHA"
    if [[ -s $C/fail ]]; then
        FAILED=$((FAILED + 1))
        echo "not ok $N - the host is as it was"
        sed 's/^/#   /' "$C/fail"
    else
        echo "ok $N - the host is as it was"
    fi
    echo "# $FAILED failed, $((SECONDS - start)) s"
    ((FAILED == 0))
}

if [[ ${1:-} == --in-ns ]]; then
    shift
    ns_main "$@"
    exit
fi
main
