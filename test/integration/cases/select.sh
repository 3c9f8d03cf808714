# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: which disk the options select, and options that select none.

CASES+=(
    "c_malformed|fallback: rd.scratch.lun=abc touches no disk, does not wait"
    "c_nolun|fallback: rd.scratch without rd.scratch.lun"
    "c_two_blocks|fallback: one SCSI device with two block devices"
    "c_ambiguous|fallback: bare LUN on two hosts is ambiguous"
    "c_full_hctl|full H:C:T:L picks the disk on host 1"
    "c_disabled|rd.scratch=0 does nothing"
    "c_no_options|no rd.scratch options: nothing, silently"
)

c_malformed() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=abc"
    use r || return
    expect_tmpfs_run hctl= device= format= -- "rd.scratch.lun" "abc"
    grep -q 'rd\.scratch\.lun.*abc' "$R/stderr" || fail "no stderr line names rd.scratch.lun and abc"
    grep -q '^<[0-7]>scratchroot: .*rd\.scratch\.lun.*abc' "$R/kmsg" || fail "no kmsg line names rd.scratch.lun and abc"
    expect_zero "$IMG"
    (($(cat "$R/ms") < 400)) || fail "took $(cat "$R/ms") ms"
    (($(st setup_ms) < 400)) || fail "setup_ms=$(st setup_ms)"
}

c_nolun() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch"
    use r || return
    expect_tmpfs_run hctl= device= -- "rd.scratch.lun"
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
    expect_tmpfs_run -- "0:0:0:1"
    expect_zero "$IMG"
    expect_zero "$IMG2"
}

c_ambiguous() {
    two_disks || return
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_tmpfs_run hctl= -- "ambiguous" "0:0:0:1" "1:0:0:1"
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
