# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: a blank disk becomes the scratch, and our own stamp is formatted again.

CASES+=(
    "c_scratch|scratch: a blank disk at LUN 1 carries the root's overlay"
    "c_reuse|reuse: our stamp from a previous boot is formatted again"
    "c_ext4_noprefetch|ext4 rejects no_prefetch_block_bitmaps (before 5.13): mounted again without it"
)

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
