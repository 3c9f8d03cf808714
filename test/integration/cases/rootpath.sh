# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: a root on btrfs, whose st_dev is anonymous, so that only its
# line in mountinfo names the device it is on: --newroot spelt with a
# trailing slash, a mount point with a blank (written \040 in mountinfo), and
# a device sysfs does not know. Needs btrfs-progs and btrfs in the kernel.

CASES+=(
    "c_btrfs_root_slash|refused: the btrfs root's disk, --newroot with a trailing slash"
    "c_btrfs_root_blank|refused: the btrfs root's disk, its mount point with a blank"
    "c_btrfs_root_unknown|refused: a blank disk while the btrfs root's device is unknown to sysfs"
)

make_btrfs() { mkfs.btrfs -q -f -L btrfsroot "$1" >/dev/null 2>&1; }

# ns_btrfs_root LOOP DIR NEWROOT-ARG CMDLINE: the btrfs on LOOP mounted
# read-only on DIR in place of the ext4 root, and a run r of the helper with
# --newroot NEWROOT-ARG.
ns_btrfs_root() {
    if ! umount "$NEWROOT" || ! mkdir -p "$2" || ! mount -t btrfs -o ro "$1" "$2"; then
        fail "cannot mount the btrfs root $1 on $2"
        return 1
    fi
    NEWROOT=$3 run_helper r "$4"
}

# btrfs_refused TEXT...: run r refused the disk at 0:0:0:1 for TEXT and fell
# back to tmpfs. (Not "use r": its checks find the overlay at $NEWROOT.)
btrfs_refused() {
    R=$C/r
    TAG=r
    [[ -f $R/rc ]] || { fail "[r] the helper did not run"; return 1; }
    check_logs
    expect_rc 0
    expect_state backing=tmpfs fs=tmpfs format= hctl=0:0:0:1 "devno=$DEVNO" source=cmdline
    expect_reason "refusing $NAME1 (0:0:0:1, " "$@"
    expect_log stderr "falling back to tmpfs"
}

need_btrfs() {
    command -v mkfs.btrfs >/dev/null || { fail "no mkfs.btrfs (Debian: btrfs-progs)"; return 1; }
}

# The root is on the disk at the LUN; the exclusive open alone would say
# "busy": the reason must be the root.
c_btrfs_root_slash() {
    need_btrfs && one_disk btrfsroot 128M make_btrfs || return
    in_ns ns_btrfs_root "$LOOP" "$NEWROOT" "$NEWROOT//" "rd.scratch.lun=1"
    btrfs_refused "it holds the root filesystem"
}

c_btrfs_root_blank() {
    need_btrfs && one_disk btrfsblank 128M make_btrfs || return
    in_ns ns_btrfs_root "$LOOP" "$C/new root" "$C/new root" "rd.scratch.lun=1"
    btrfs_refused "it holds the root filesystem"
}

# The root's device is not in the fake sysfs: which disks back the root is
# not known, so even a blank disk is not formatted.
c_btrfs_root_unknown() {
    local rimg rloop
    need_btrfs || return
    rimg=$(mkimg btrfsother 128M) && make_btrfs "$rimg" && rloop=$(attach "$rimg") || return
    one_disk blank 64M || return
    in_ns ns_btrfs_root "$rloop" "$NEWROOT" "$NEWROOT" "rd.scratch.lun=1"
    btrfs_refused "cannot tell which disks back the root filesystem"
    expect_zero "$IMG"
}
