# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: the device node the helper opens: its own, under /run/scratchroot/dev.

CASES+=(
    "c_real_node|node: a name that is the disk's /dev node is used"
    "c_name_elsewhere|node: a /dev name that is another device is not used"
    "c_nodev_run|node: own node works with /run mounted nodev (as systemd does)"
)

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
