# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: mke2fs failing, missing or doing nothing: tmpfs, the disk untouched.

CASES+=(
    "c_mke2fs_fails|fault: mke2fs exits 1"
    "c_mke2fs_missing|fault: mke2fs does not exist"
    "c_mke2fs_noop|fault: mke2fs writes nothing, the mount fails"
)

c_mke2fs_fails() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=1" --mke2fs "$T/bin/mke2fs-fails"
    use r || return
    expect_tmpfs_run hctl=0:0:0:1 -- "$NAME1" "0:0:0:1" "status 1"
    expect_zero "$IMG"
}

c_mke2fs_missing() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=1" --mke2fs "$T/bin/no-such-mke2fs"
    use r || return
    expect_tmpfs_run hctl=0:0:0:1 -- "$T/bin/no-such-mke2fs"
    expect_zero "$IMG"
}

c_mke2fs_noop() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=1" --mke2fs "$(type -P true)"
    use r || return
    expect_tmpfs_run hctl=0:0:0:1 -- "cannot mount" "$NAME1" "0:0:0:1"
    expect_zero "$IMG"
}
