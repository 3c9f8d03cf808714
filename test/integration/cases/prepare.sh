# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: scratchroot prepare before the root is mounted, setup after.
# The prepare finds, proves, formats and mounts the disk; setup takes what
# it left and mounts only the overlay. The root is told by root= alone.

CASES+=(
    "c_prepare|prepare: the blank disk formatted and mounted early, setup mounts only the overlay"
    "c_prepare_root|prepare: the disk root=UUID= names is left alone though it carries our stamp"
    "c_prepare_noroot|prepare: without root= nothing is done early, setup does it all"
    "c_prepare_changed|prepare: options changed before setup: the early mount is let go, the disk set up again"
    "c_prepare_told|prepare: a problem with the options is told by the prepare, not again by setup"
)

# ns_prepare_only TAG CMDLINE: scratchroot prepare --foreground alone,
# kept in $C/TAG-prep.
ns_prepare_only() {
    local p=$C/$1-prep t0
    local -a cmd=("$SR_HELPER" prepare --foreground --sysfs "$S" --cmdline "$2")
    mkdir -p "$p"
    if [[ -n $SR_HAS_CONFIG ]]; then
        cmd+=(--config "$C/no-scratchroot.conf")
    fi
    : >/dev/kmsg
    t0=$(date +%s%N)
    "${cmd[@]}" >"$p/stdout" 2>"$p/stderr"
    echo $? >"$p/rc"
    echo $((($(date +%s%N) - t0) / 1000000)) >"$p/ms"
    cp /dev/kmsg "$p/kmsg"
    cp "$RUN_DIR/prepared" "$p/prepared" 2>/dev/null
    grep -F " $RUN_DIR/scratch " /proc/self/mountinfo >"$p/scratch-mount" || :
}

# ns_prepare TAG CMDLINE: scratchroot prepare --foreground (kept in
# $C/TAG-prep), then setup as run TAG.
ns_prepare() {
    ns_prepare_only "$@"
    run_helper "$@"
}

# ns_prepare_changed TAG CMDLINE1 CMDLINE2: the prepare reads CMDLINE1,
# setup CMDLINE2 (as when the host changes an option between the two).
ns_prepare_changed() {
    ns_prepare_only "$1" "$2"
    run_helper "$1" "$3"
}

# prep_has KEY=VALUE...: the record the prepare of run $TAG left.
prep_has() {
    local kv f=$C/$TAG-prep/prepared
    [[ -f $f ]] || { fail "[$TAG] the prepare left no record"; return; }
    for kv; do
        grep -qxF "$kv" "$f" || fail "[$TAG] the prepare's record has no line $kv: $(tr '\n' ' ' <"$f")"
    done
}

c_prepare() {
    one_disk prepare 256M || return
    in_ns ns_prepare r "root=LABEL=nosuchroot rd.scratch.lun=1"
    use r || return
    [[ $(cat "$C/r-prep/rc") == 0 ]] || fail "prepare exited with $(cat "$C/r-prep/rc")"
    prep_has backing=scratch format=blank hctl=0:0:0:1 "devno=$DEVNO" fallback=tmpfs
    [[ -s $C/r-prep/scratch-mount ]] || fail "the prepare left nothing mounted at $RUN_DIR/scratch"
    expect_scratch_run format=blank hctl=0:0:0:1 "devno=$DEVNO" fallback=tmpfs
    [[ $(st prepare_ms) =~ ^[0-9]+$ ]] || fail "state prepare_ms='$(st prepare_ms)', expected a number"
    [[ $(st format_ms) =~ ^[1-9][0-9]*$ ]] || fail "state format_ms='$(st format_ms)' (the prepare's mke2fs)"
    expect_log ../r-prep/kmsg "<6>scratchroot: formatting $NAME1 (0:0:0:1, $DEVNO, 256.0 MiB): it is blank"
    expect_log ../r-prep/kmsg "<6>scratchroot: $NAME1 (0:0:0:1) ready for the root overlay"
    expect_log kmsg "once the root was mounted"
    expect_mode "$UPPER" "$ROOT_MODE"
    expect_scratch_fs "$IMG"
}

# A disk that is ours from an earlier boot would be formatted again; here
# root= names its filesystem, so the prepare must leave it alone (setup
# refuses it once the root is mounted from it: not here, where the root
# comes from another device, so only the prepare runs).
c_prepare_root() {
    local uuid sha p=$C/r-prep
    one_disk preproot 256M || return
    in_ns ns_boot b1 "rd.scratch.lun=1" previous-boot 1
    use b1 || return
    expect_state backing=scratch format=blank
    uuid=$(fs_field "$IMG" "Filesystem UUID")
    [[ -n $uuid ]] || { fail "no UUID on the scratch image"; return; }
    sha=$(sha "$IMG")
    in_ns ns_prepare_only r "root=UUID=$uuid rd.scratch.lun=1"
    [[ $(cat "$p/rc") == 0 ]] || fail "prepare exited with $(cat "$p/rc")"
    [[ ! -f $p/prepared ]] || fail "the prepare left a record: $(tr '\n' ' ' <"$p/prepared")"
    [[ ! -s $p/scratch-mount ]] || fail "the prepare mounted something: $(cat "$p/scratch-mount")"
    grep -qF "$NAME1 (0:0:0:1, 256.0 MiB) is left to setup once the root is mounted: it holds the root filesystem" \
        "$p/kmsg" || fail "the prepare did not say why it left $NAME1: $(grep -a scratchroot "$p/kmsg" | tr '\n' ' ')"
    expect_unchanged "$IMG" "$sha"
}

c_prepare_noroot() {
    one_disk prepnoroot 256M || return
    in_ns ns_prepare r "rd.scratch.lun=1"
    use r || return
    [[ ! -f $C/r-prep/prepared ]] || fail "the prepare left a record without root="
    grep -q "no root= on the kernel command line" "$C/r-prep/kmsg" ||
        fail "the prepare did not say why it left the disk to setup"
    expect_scratch_run format=blank hctl=0:0:0:1 "devno=$DEVNO"
    [[ -z $(st prepare_ms) ]] || fail "prepare_ms='$(st prepare_ms)' without a prepare"
}

# The prepare's record goes with a hash of the options it read; setup reads
# them again, and when they differ it unmounts what the prepare mounted and
# does it all: the disk (ours now) is formatted again with setup's options.
c_prepare_changed() {
    one_disk prepchanged 256M || return
    in_ns ns_prepare_changed r "root=LABEL=nosuchroot rd.scratch.lun=1" \
        "root=LABEL=nosuchroot rd.scratch.lun=1 rd.scratch.discard=1"
    use r || return
    prep_has backing=scratch format=blank hctl=0:0:0:1 "devno=$DEVNO" discard=off
    [[ -s $C/r-prep/scratch-mount ]] || fail "the prepare left nothing mounted at $RUN_DIR/scratch"
    expect_log kmsg "<6>scratchroot: the options differ from those scratchroot prepare read before the root was mounted: the disk is set up again"
    expect_log kmsg "<6>scratchroot: formatting $NAME1 (0:0:0:1, $DEVNO, 256.0 MiB): it carries the scratchroot stamp"
    # One mount at BASE/scratch: the prepare's is gone, not stacked under.
    expect_scratch_run format=reused hctl=0:0:0:1 "devno=$DEVNO" discard=on
    expect_mount "$SCRATCH" ext4 discard
    [[ -z $(st prepare_ms) ]] || fail "prepare_ms='$(st prepare_ms)': the prepare's disk was not used"
}

# What is wrong with the options is told once a boot: by the prepare, which
# reads them first; setup, reading the same, does not tell it again. With
# other options it does (c_prepare_changed's setup reads more).
c_prepare_told() {
    local what="unknown option rd.scratch.bogus, ignored"
    one_disk preptold 256M || return
    in_ns ns_prepare r "root=LABEL=nosuchroot rd.scratch.lun=1 rd.scratch.bogus=1"
    use r || return
    expect_log ../r-prep/kmsg "$what"
    if grep -qF "$what" "$R/kmsg"; then
        fail "setup told it again: $(grep -aF "$what" "$R/kmsg")"
    fi
    expect_scratch_run format=blank hctl=0:0:0:1 "devno=$DEVNO"
    in_ns ns_prepare_changed c "root=LABEL=nosuchroot rd.scratch.lun=1 rd.scratch.bogus=1" \
        "root=LABEL=nosuchroot rd.scratch.lun=1 rd.scratch.bogus=1 rd.scratch.discard=1"
    use c || return
    expect_log ../c-prep/kmsg "$what"
    expect_log kmsg "$what"
}
