# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: discard at mount (rd.scratch.discard) and at format.

CASES+=(
    "c_discard_on|discard: rd.scratch.discard=1, 64 MiB deleted goes back to the host"
    "c_discard_default|discard: off by default, deleted blocks stay allocated"
    "c_discard_format|discard: at format, a reused disk is discarded, a blank or unsupported one not"
)

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
