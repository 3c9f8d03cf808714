# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: no usable disk: the tmpfs fallback, its size, and rd.scratch.fallback.

CASES+=(
    "c_nodisk|fallback: no disk at rd.scratch.lun=5, tmpfs of 25%"
    "c_tmpfs_size|fallback: rd.scratch.tmpfs.size=64m"
    "c_fallback_none|fallback: rd.scratch.fallback=none leaves the root"
    "c_fallback_fail|fallback: rd.scratch.fallback=fail exits 1"
    "c_fallback_fail_refused|fallback: rd.scratch.fallback=fail on a refused disk"
)

c_nodisk() {
    local size want
    one_disk lun1 64M || return
    in_ns ns_run r "rd.scratch.lun=5"
    use r || return
    expect_tmpfs_run fs=tmpfs tmpfs_size=25% hctl= device= devno= format= -- "no disk at rd.scratch.lun=5 after 500 ms"
    expect_mount "$SCRATCH" tmpfs nosuid nodev mode=700
    expect_mode "$SCRATCH" 700
    expect_mode "$UPPER" "$ROOT_MODE"
    size=$(mount_opt "$SCRATCH" size)
    want=$(awk '/^MemTotal:/ { print int($2 / 4) }' /proc/meminfo)
    if [[ ! $size =~ ^[0-9]+k$ ]] || ((${size%k} < want * 98 / 100 || ${size%k} > want * 102 / 100)); then
        fail "tmpfs size=$size, expected about ${want}k (25% of RAM)"
    fi
    (($(cat "$R/ms") >= 490)) || fail "gave up after $(cat "$R/ms") ms, the default wait is 500 ms"
    expect_zero "$IMG"
}

c_tmpfs_size() {
    in_ns ns_run r "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.tmpfs.size=64m"
    use r || return
    expect_tmpfs_run
    [[ $(st tmpfs_size) == @(64m|67108864) ]] || fail "state tmpfs_size=$(st tmpfs_size), expected 64m"
    expect_mount "$SCRATCH" tmpfs size=65536k
    (($(cat "$R/ms") < 400)) || fail "rd.scratch.timeout=0 still took $(cat "$R/ms") ms"
}

c_fallback_none() {
    in_ns ns_run r "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.fallback=none"
    use r || return
    expect_rc 0
    expect_state backing=none fs= volatile= tmpfs_size=
    expect_reason "no disk at rd.scratch.lun=5"
    expect_plain_root
    expect_log stderr "leaving the root as it is"
}

c_fallback_fail() {
    in_ns ns_run r "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.fallback=fail"
    use r || return
    expect_rc 1
    expect_state backing=none fs=
    expect_reason "no disk at rd.scratch.lun=5"
    expect_plain_root
    expect_log stderr "stopping the boot"
}

c_fallback_fail_refused() {
    one_disk foreign 64M make_ext4_data || return
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.fallback=fail"
    use r || return
    expect_rc 1
    expect_state backing=none hctl=0:0:0:1
    expect_reason "refusing $NAME1 (0:0:0:1" "'data'"
    expect_plain_root
    expect_unchanged "$IMG" "$SHA0"
}
