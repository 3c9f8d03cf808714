# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: disks that show up while the helper waits, too late, or half.

CASES+=(
    "c_hotplug|hot-plug: the disk shows up 1 s into a 3 s wait"
    "c_too_late|hot-plug: the disk shows up after the 0.3 s wait"
    "c_no_block|hot-plug: a SCSI device without a block device"
    "c_open_enxio|hot-plug: a block device that answers ENXIO is tried again for 1 s, then refused"
)

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
    expect_tmpfs_run hctl= -- "no disk at rd.scratch.lun=1 after 300 ms"
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
    expect_tmpfs_run hctl= -- "rd.scratch.lun=1 has no block device after 200 ms"
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
    expect_tmpfs_run hctl=0:0:0:1 devno=240:0 -- "cannot open $RUN_DIR/dev/$NAME1 (0:0:0:1): No such device or address"
    ms=$(cat "$R/ms")
    ((ms >= 1000)) || fail "gave up after $ms ms, before its second of grace"
    ((ms < 5000)) || fail "took $ms ms to give up"
    expect_unchanged "$IMG" "$SHA0"
}
