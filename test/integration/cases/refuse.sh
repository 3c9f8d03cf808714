# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: disks that are not provably scratch, refused: the root falls back to tmpfs
# and the image stays as it was.

CASES+=(
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
    "c_refuse_locked|refused: a blank disk another program holds a BSD lock on, as udev's convention asks"
    "c_refuse_partition|refused: sysfs shows a partition"
    "c_refuse_partition_mounted|refused: a partition of it is mounted (even forced)"
    "c_refuse_partition_holder|refused: a partition of it is held by dm-1"
    "c_refuse_is_partition|refused: a partition, not a whole disk (even forced)"
)

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
    expect_tmpfs_run hctl=0:0:0:1 -- "$NAME1" "0:0:0:1"
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

# Another program writing the disk holds an exclusive BSD lock on it
# (systemd's block device locking, as two scratchroot runs would): the
# helper waits for it, then leaves the blank disk alone. A lock is the
# device node's: the fake disk takes the loop device's own name, so that
# the helper goes through /dev's node, as udev does.
c_refuse_locked() {
    local holder name
    IMG=$(mkimg locked 64M) || return
    SHA0=$(sha "$IMG")
    LOOP=$(attach "$IMG") || { fail "cannot attach $IMG"; return; }
    name=${LOOP#/dev/}
    scsi_disk 0:0:0:1 "$name" "$LOOP"
    flock -x --no-fork "$LOOP" sleep 60 &
    holder=$!
    echo "$holder" >>"$C/pids"
    echo "$holder" >>"$T/pids"
    sleep 0.3
    in_ns ns_run r "rd.scratch.lun=1"
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    use r || return
    expect_rc 0
    expect_state backing=tmpfs fs=tmpfs format= hctl=0:0:0:1
    expect_reason "$LOOP (0:0:0:1) is locked by another program" "not touched"
    expect_unchanged "$IMG" "$SHA0"
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
