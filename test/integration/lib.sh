# shellcheck shell=bash disable=SC2034 # the cases and loop.sh read what is set here
# The library of the loop-device cases (test/integration/cases/*.sh), run by
# test/integration/loop.sh after test/integration/preamble.sh: the inside of
# a case's namespace (runs of the helper and snapshots of what they left),
# disks made of images and loop devices behind a fake sysfs, the checks on
# a run, and one case as a TAP line.

SCRATCH=$RUN_DIR/scratch
LOWER=$RUN_DIR/lower
UPPER=$SCRATCH/upper
STAMP=scratchroot
# The root image's root directory: a mode no default would give.
ROOT_MODE=751
HELLO="written through the overlay"
FAULT=${FAULT-}
# Each case: "FUNCTION|DESCRIPTION", added by the case files.
CASES=()

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
    if ! ns_initrd "$C/kmsg" "$RUN_OPTS"; then
        fail "cannot mount a tmpfs on /run or bind a file over /dev/kmsg"
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
# Outside: images, loop devices, fake sysfs
# ---------------------------------------------------------------------------

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
    unshare_self ns_main "$@"
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

# expect_tmpfs_run [KEY=VALUE...] [-- TEXT...]: the run exited 0 and fell
# back to tmpfs: the state says backing=tmpfs and every KEY=VALUE, its
# reason holds every TEXT, the root got the overlay on a tmpfs scratch, and
# nothing else of the helper's is mounted.
expect_tmpfs_run() {
    local -a kv=()
    while (($#)) && [[ $1 != -- ]]; do
        kv+=("$1")
        shift
    done
    [[ ${1:-} != -- ]] || shift
    expect_rc 0
    expect_state backing=tmpfs "${kv[@]}"
    expect_reason "$@"
    expect_overlay
    expect_mount "$SCRATCH" tmpfs
    expect_helper_mounts "$LOWER ext4" "$SCRATCH tmpfs"
}

# expect_refused TEXT...: the disk at 0:0:0:1 was refused, the root got a
# tmpfs overlay, and the image is as it was.
expect_refused() {
    use r || return
    expect_tmpfs_run fs=tmpfs format= hctl=0:0:0:1 "devno=$DEVNO" tmpfs_size=25% source=cmdline \
        -- "refusing $NAME1 (0:0:0:1, " "$@"
    expect_log stderr "falling back to tmpfs"
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
# Outside: running a case
# ---------------------------------------------------------------------------

preflight() {
    local n
    need losetup findmnt mount mkswap mkfs.ext4 dumpe2fs debugfs sfdisk mkfs.vfat \
        valgrind sha256sum cmp awk sed stat truncate dd partx mkntfs ntfscp ntfs-3g setfattr
    [[ -f $SR_MOUNTFAULT_SO ]] || bail "no mount(2) shim at $SR_MOUNTFAULT_SO (ninja -C build)"
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
    if ! tap_result "$desc"; then
        for d in "$C"/*/; do
            [[ -f $d/rc ]] || continue
            echo "#   [$(basename "$d")] exit $(cat "$d/rc"), $(cat "$d/ms") ms"
            sed 's/^/#     state: /' "$d/state" 2>/dev/null
            head -n 20 "$d/stderr" | sed 's/^/#     stderr: /'
        done
    else
        for d in "$C"/*/; do
            [[ -s $d/state ]] && sed -n "s|^reason=\(..*\)|#   [$(basename "$d")] reason: \1|p" "$d/state"
        done
    fi
    # Images are large even when sparse: drop them once checked.
    rm -f "$C"/*.img
}
