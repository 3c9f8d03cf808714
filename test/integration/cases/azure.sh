# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: Azure's SCSI resource disk under rd.scratch.cloud=azure. As Azure
# delivers it (NTFS 'Temporary Storage' holding only the warning) it is
# reformatted, its partition table erased; any other shape is refused and left
# as it was. Images from test/fixtures/ntfs-image.sh.

CASES+=(
    "c_azure_delivered|azure: the resource disk as delivered is reformatted, no partition table left (refused without libntfs-3g)"
    "c_azure_windows|azure: as Windows leaves it (8.3 names, a System Volume Information directory): reformatted (refused without libntfs-3g)"
    "c_azure_extra_file|azure: one more file on its NTFS: refused"
    "c_azure_recycle|azure: a \$RECYCLE.BIN directory on its NTFS: refused"
    "c_azure_three_parts|azure: three partitions: refused"
    "c_azure_not_ntfs|azure: vfat instead of NTFS: refused"
    "c_azure_label|azure: NTFS labelled otherwise: refused"
    "c_azure_not_selected|azure: the same disk by rd.scratch.lun alone: refused"
)

# azure_disk KIND: an image shaped KIND, on a partition-scanning loop device,
# at 0:0:0:1 with the SCSI strings of Azure's disks (Msft, Virtual Disk) and
# its partition 1 in the fake sysfs. Sets IMG, LOOP, DEVNO, SHA0, BLK.
azure_disk() {
    local dev p
    IMG=$C/$1.img
    sh "$SR_SOURCE/test/fixtures/ntfs-image.sh" "$1" "$IMG" 128 || { fail "cannot make the $1 image"; return 1; }
    SHA0=$(sha "$IMG")
    LOOP=$(attach "$IMG" -P) || { fail "cannot attach $IMG"; return 1; }
    DEVNO=$(devno_of "$LOOP")
    scsi_disk 0:0:0:1 "$NAME1" "$LOOP"
    dev=$S/$(fakesys_devdir 0:0:0:1)
    printf 'Msft    \n' >"$dev/vendor"
    printf 'Virtual Disk    \n' >"$dev/model"
    # rd.scratch.cloud looks at every disk of class/block, as the kernel
    # links them, with its device link to the SCSI device.
    mkdir -p "$S/class/block"
    ln -s "../../$(fakesys_devdir 0:0:0:1)/block/$NAME1" "$S/class/block/$NAME1"
    ln -s ../.. "$BLK/device"
    # A kernel built without the dos or gpt parser (a minimal host's) finds
    # no partition: partx adds them from user space, as the kernel would.
    [[ -b ${LOOP}p1 ]] || partx -a "$LOOP" 2>/dev/null || :
    [[ -b ${LOOP}p1 ]] || { fail "no ${LOOP}p1: the loop device's partitions are not known"; return 1; }
    for p in "${LOOP}"p*; do
        fake_partition "${p##*p}" "$p"
    done
}

azure_refused() {
    azure_disk "$1" || return
    shift
    in_ns ns_run r "rd.scratch.cloud=azure"
    expect_refused "not Azure's resource disk as delivered" "$@"
    [[ -b ${LOOP}p1 ]] || fail "the kernel lost ${LOOP}p1 of a refused disk"
}

helper_lists_ntfs() {
    [[ $("$SR_HELPER" --list-libraries 2>/dev/null) == *libntfs-3g.so* ]]
}

c_azure_delivered() {
    local pt
    azure_disk warning || return
    if ! helper_lists_ntfs; then
        # Built without libntfs-3g: never formatted on a guess.
        in_ns ns_run r "rd.scratch.cloud=azure"
        expect_refused "cannot be listed: built without libntfs-3g"
        return
    fi
    # libntfs-3g reads the disk inside the helper: under valgrind, as the
    # helper's own code is (check_valgrind: memory.sh).
    sanitized || VG=1
    in_ns ns_run r "rd.scratch.cloud=azure"
    use r || return
    check_valgrind
    expect_scratch_run format=platform hctl=0:0:0:1 "devno=$DEVNO"
    expect_log kmsg "it is Azure's resource disk as delivered (NTFS 'Temporary Storage' on partition 1"
    expect_scratch_fs "$IMG"
    pt=$(blkid -p -s PTTYPE -o value "$IMG")
    [[ -z $pt ]] || fail "a $pt partition table is left on the image"
    [[ $(blkid -p -s LABEL -o value "$IMG") == "$STAMP" ]] || fail "the next probe does not find our ext4"
    [[ ! -e ${LOOP}p1 ]] || fail "the kernel still shows ${LOOP}p1 after the table was erased"
}

# The 8.3 names Windows adds are the long names again, not more files.
c_azure_windows() {
    azure_disk windows || return
    in_ns ns_run r "rd.scratch.cloud=azure"
    use r || return
    if helper_lists_ntfs; then
        expect_scratch_run format=platform hctl=0:0:0:1 "devno=$DEVNO"
        expect_scratch_fs "$IMG"
    else
        expect_tmpfs_run -- "built without libntfs-3g"
    fi
}

c_azure_recycle() {
    local why="holds '\$RECYCLE.BIN'"
    helper_lists_ntfs || why="built without libntfs-3g"
    azure_refused recycle "$why"
}

c_azure_extra_file() {
    local why="holds 'notes.txt'"
    helper_lists_ntfs || why="built without libntfs-3g"
    sanitized || VG=1
    azure_refused extra "$why"
    check_valgrind
}

c_azure_three_parts() { azure_refused three "a partition table with 3 partitions" "has 3 partitions"; }
c_azure_not_ntfs() { azure_refused notntfs "is not NTFS (vfat)"; }
c_azure_label() { azure_refused label "labelled 'Data', not 'Temporary Storage'"; }

c_azure_not_selected() {
    azure_disk warning || return
    in_ns ns_run r "rd.scratch.lun=1"
    expect_refused "a partition table with 1 partition"
    grep -q "Azure" "$R/state" && fail "a disk not selected as Azure's is judged by Azure's rule"
    [[ -b ${LOOP}p1 ]] || fail "the kernel lost ${LOOP}p1 of a refused disk"
}
