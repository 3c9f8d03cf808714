# shellcheck shell=bash disable=SC2034,SC2153 # lib.sh reads what the cases set (IMG, DEVNO, VG...) and sets NAMES
# Loop cases: several disks striped (src/stripe.c). Every member is proven
# on its own and a refused one refuses the set untouched, whatever the
# kernel. The mapping needs device-mapper in the host kernel: with it the
# cases check the stripe's size, that writes reach every image and that a
# second run takes every member as its own; without it, that no member was
# written before the mapping failed. The member headers of an earlier set are
# written with test/integration/stripehdr.c, the helper's own encoding.

CASES+=(
    "c_stripe_two|stripe: two blank disks of 64 and 96 MiB: the smallest's length each, both written, a second run reuses both"
    "c_stripe_ours|stripe: members of an earlier set, data after their headers, are ours"
    "c_stripe_foreign|stripe: three disks, the middle one swap: the set refused naming it, every image unchanged"
    "c_stripe_data|stripe: a member with data and no header: refused, every image unchanged"
    "c_stripe_badsum|stripe: a member header failing its checksum is data: refused, every image unchanged"
    "c_stripe_single|stripe: one disk left with a member header is ours, formatted alone"
)

STRIPEHDR=${SR_STRIPEHDR:-$SR_BUILD/test/stripehdr}
STRIPE_DEV=scratchroot-stripe

host_has_dm_stripe() {
    [[ -e /dev/mapper/control ]] && dmsetup targets 2>/dev/null | grep -q '^striped '
}

# The libraries the helper loads when an option needs them.
helper_stripes() {
    [[ $("$SR_HELPER" --list-libraries 2>/dev/null) == *libdevmapper.so* ]]
}

# set_member N SIZE [MAKER]: image N (1, 2, 3) at H:0:0:1, H = N - 1, as
# NAMES[N-1]. Sets IMGn, SHAn, LOOPn.
set_member() {
    local n=$1 img loop
    img=$(mkimg "member$n" "$2") || return 1
    if [[ -n ${3:-} ]] && ! "$3" "$img"; then
        fail "cannot make member $n"
        return 1
    fi
    loop=$(attach "$img") || { fail "cannot attach $img"; return 1; }
    scsi_disk "$((n - 1)):0:0:1" "${NAMES[n - 1]}" "$loop"
    printf -v "IMG$n" '%s' "$img"
    printf -v "SHA$n" '%s' "$(sha "$img")"
    printf -v "LOOP$n" '%s' "$loop"
}

LUNS2="rd.scratch.lun=0:0:0:1,1:0:0:1"
LUNS3="rd.scratch.lun=0:0:0:1,1:0:0:1,2:0:0:1"

# An earlier set's members: a header, chunks of data after it.
member1of2() { "$STRIPEHDR" write "$1" 0 2 0x11 && fs_chunks "$1"; }
member2of2() { "$STRIPEHDR" write "$1" 1 2 0x11 && fs_chunks "$1"; }
fs_chunks() {
    raw_data | dd of="$1" bs=1M seek=2 conv=notrunc status=none &&
        raw_data | dd of="$1" bs=64K seek=$(($(stat -c %s "$1") / 65536 - 2)) conv=notrunc status=none
}
bad_header() { "$STRIPEHDR" bad "$1"; }

expect_no_header() {
    if "$STRIPEHDR" read "$1" >/dev/null 2>&1; then
        fail "$(basename "$1") has a member header: $("$STRIPEHDR" read "$1")"
    fi
}

expect_header() {
    local got
    got=$("$STRIPEHDR" read "$1" 2>&1)
    [[ $got == "member $2 "* ]] || fail "$(basename "$1"): '$got', expected member $2"
    echo "$got"
}

alloc_kib_of() {
    local b
    b=$(stat -c '%b %B' "$1") || return 1
    echo $((${b% *} * ${b#* } / 1024))
}

# ns_fill MIB: the stripe mounted again after a run, MIB MiB written to it.
ns_fill() {
    mkdir -p "$C/fill"
    if mount -t ext4 "/dev/mapper/$STRIPE_DEV" "$C/fill"; then
        head -c "$(($1 << 20))" /dev/urandom >"$C/fill/data" || fail "cannot write to the stripe"
        sync
        umount "$C/fill"
    else
        fail "cannot mount /dev/mapper/$STRIPE_DEV again"
    fi
}

# The set was selected and every member proven, but no stripe could be
# made: the reason names it, and no member was written.
expect_no_mapping() {
    if ! helper_stripes; then
        expect_tmpfs_run "$@" -- "built without libdevmapper"
    else
        expect_tmpfs_run "$@" -- "cannot stripe $STRIPE_DEV" "the kernel has no device-mapper"
    fi
    expect_log stderr "falling back to tmpfs"
}

c_stripe_two() {
    local a1 a2 b1 b2 size h1 h2
    set_member 1 64M && set_member 2 96M || return
    in_ns ns_run r "$LUNS2"
    use r || return
    if ! helper_stripes || ! host_has_dm_stripe; then
        echo "# no striping here (helper or kernel): the fallback is checked, the mapping is left to the VM scenarios"
        expect_no_mapping "disks=${NAMES[0]},${NAMES[1]}"
        expect_zero "$IMG1"
        expect_zero "$IMG2"
        return
    fi
    expect_scratch_run format=blank "disks=${NAMES[0]},${NAMES[1]}"
    expect_log stderr "stripe member 1 of 2: ${NAMES[0]} (0:0:0:1)"
    expect_log stderr "stripe member 2 of 2: ${NAMES[1]} (1:0:0:1)"
    # Both 63 MiB long (64 MiB less the header's MiB, in whole chunks).
    size=$(blockdev --getsize64 "/dev/mapper/$STRIPE_DEV")
    [[ $size == $((2 * 63 << 20)) ]] || fail "the stripe is $size bytes, expected $((2 * 63 << 20))"
    h1=$(expect_header "$IMG1" "1 of 2")
    h2=$(expect_header "$IMG2" "2 of 2")
    [[ ${h1#* set } == "${h2#* set }" ]] || fail "the members carry different sets: '$h1', '$h2'"
    a1=$(alloc_kib_of "$IMG1")
    a2=$(alloc_kib_of "$IMG2")
    in_ns ns_fill 32
    b1=$(alloc_kib_of "$IMG1")
    b2=$(alloc_kib_of "$IMG2")
    echo "# allocated KiB: member 1 $a1 -> $b1, member 2 $a2 -> $b2 after 32 MiB"
    ((b1 - a1 >= 12 << 10)) || fail "member 1 grew by $((b1 - a1)) KiB of 32 MiB written"
    ((b2 - a2 >= 12 << 10)) || fail "member 2 grew by $((b2 - a2)) KiB of 32 MiB written"
    dmsetup remove "$STRIPE_DEV" || fail "cannot remove $STRIPE_DEV"

    in_ns ns_run r2 "$LUNS2"
    use r2 || return
    expect_scratch_run format=reused "disks=${NAMES[0]},${NAMES[1]}"
    expect_log stderr "a scratchroot stripe member (1 of 2)"
    expect_log stderr "a scratchroot stripe member (2 of 2)"
    [[ $(expect_header "$IMG1" "1 of 2") != "$h1" ]] || fail "the second run kept the first set's id"
    dmsetup remove "$STRIPE_DEV" || fail "cannot remove $STRIPE_DEV"
}

c_stripe_ours() {
    set_member 1 64M member1of2 && set_member 2 64M member2of2 || return
    in_ns ns_run r "$LUNS2"
    use r || return
    # A helper that cannot stripe refuses the set before telling the
    # members' verdicts (the unit and single-disk cases check those).
    if helper_stripes; then
        expect_log stderr "stripe member 1 of 2: ${NAMES[0]} (0:0:0:1)"
        expect_log stderr "a scratchroot stripe member (1 of 2)"
        expect_log stderr "a scratchroot stripe member (2 of 2)"
    fi
    if ! helper_stripes || ! host_has_dm_stripe; then
        expect_no_mapping "disks=${NAMES[0]},${NAMES[1]}"
        expect_unchanged "$IMG1" "$SHA1"
        expect_unchanged "$IMG2" "$SHA2"
        return
    fi
    expect_scratch_run format=reused "disks=${NAMES[0]},${NAMES[1]}"
    [[ $(expect_header "$IMG2" "2 of 2") != *" set 1111"* ]] || fail "member 2 kept the earlier set's id"
    dmsetup remove "$STRIPE_DEV" || fail "cannot remove $STRIPE_DEV"
}

# Refused sets: the same whether or not the kernel could stripe.
expect_set_refused() {
    local bad=$1 where=$2 n=$3 names=$4
    shift 4
    expect_tmpfs_run "disks=$names" -- "refusing $bad ($where) (" "$@" \
        "the whole set of $n disks ($names) is refused, none is touched"
    expect_log stderr "falling back to tmpfs"
}

c_stripe_foreign() {
    set_member 1 64M member1of2 && set_member 2 64M make_swap && set_member 3 64M || return
    in_ns ns_run r "$LUNS3"
    use r || return
    expect_set_refused "${NAMES[1]}" 1:0:0:1 3 "${NAMES[0]},${NAMES[1]},${NAMES[2]}" "swap"
    expect_unchanged "$IMG1" "$SHA1"
    expect_unchanged "$IMG2" "$SHA2"
    expect_unchanged "$IMG3" "$SHA3"
    expect_zero "$IMG3"
}

c_stripe_data() {
    set_member 1 64M && set_member 2 64M make_raw_first || return
    in_ns ns_run r "$LUNS2"
    use r || return
    expect_set_refused "${NAMES[1]}" 1:0:0:1 2 "${NAMES[0]},${NAMES[1]}" "data without a known signature"
    expect_unchanged "$IMG1" "$SHA1"
    expect_unchanged "$IMG2" "$SHA2"
    expect_no_header "$IMG1"
}

c_stripe_badsum() {
    set_member 1 64M bad_header && set_member 2 64M member2of2 || return
    in_ns ns_run r "$LUNS2"
    use r || return
    expect_set_refused "${NAMES[0]}" 0:0:0:1 2 "${NAMES[0]},${NAMES[1]}" \
        "data without a known signature in its first MiB"
    expect_unchanged "$IMG1" "$SHA1"
    expect_unchanged "$IMG2" "$SHA2"
}

c_stripe_single() {
    set_member 1 64M member2of2 || return
    IMG=$IMG1
    DEVNO=$(devno_of "$LOOP1")
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_scratch_run format=reused hctl=0:0:0:1 "devno=$DEVNO"
    expect_log stderr "a scratchroot stripe member (2 of 2)"
    expect_scratch_fs "$IMG1"
}
