# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: rd.scratch.encrypt and rd.scratch.swap. The encrypted mapping
# needs device-mapper with dm-crypt in the host kernel; where it has none,
# the cases check the fallback and the header left behind, and the VM
# scenarios (test/vm/scenarios/crypt.sh) check the mapping itself.

CASES+=(
    "c_encrypt|encrypt: LUKS2 header labelled scratchroot, mapped through dm-crypt or fallen back with the reason"
    "c_encrypt_fail|encrypt: without dm-crypt and fallback=fail, the boot stops"
    "c_encrypt_nolib|encrypt: libcryptsetup missing at run time: the fallback names the file, the disk untouched"
    "c_encrypt_keyslot|encrypt: a LUKS2 header labelled scratchroot with a key slot is someone's volume: refused"
    "c_swap|swap: a swap file of 64 MiB on the scratch, outside upper/, allocating next to nothing"
    "c_swap_tmpfs|swap: none on the tmpfs fallback, and the state says why"
)

# The helper loads libcryptsetup when an option needs it: --list-libraries
# names the file (not "... | grep -q": under pipefail, grep leaving at the
# first match can kill the writer with SIGPIPE).
helper_encrypts() {
    [[ $("$SR_HELPER" --list-libraries 2>/dev/null) == *libcryptsetup.so* ]]
}

host_has_dm_crypt() {
    [[ -e /dev/mapper/control ]] && dmsetup targets 2>/dev/null | grep -q '^crypt '
}

alloc_kib() {
    local b
    b=$(stat -c '%b %B' "$1") || return 1
    echo $((${b% *} * ${b#* } / 1024))
}

# ns_nolib LIB TAG CMDLINE: a run with the file LIB hidden (/dev/null bound
# over it, in this namespace only), as an initrd without it would be.
ns_nolib() {
    mount --bind /dev/null "$1" || { echo "cannot bind /dev/null over $1" >"$C/nolib-error"; return; }
    run_helper "$2" "$3"
}

# The helper loads libcryptsetup when rd.scratch.encrypt asks for it; an
# initrd that lacks it falls back before anything is written, and says so.
c_encrypt_nolib() {
    local lib
    one_disk encnolib 256M || return
    if ! helper_encrypts; then
        fail "the helper lists no libcryptsetup (built without it?): $("$SR_HELPER" --list-libraries 2>&1 | tr '\n' ' ')"
        return
    fi
    lib=$("$SR_HELPER" --list-libraries | grep 'libcryptsetup\.so')
    in_ns ns_nolib "$lib" r "rd.scratch.lun=1 rd.scratch.encrypt=1"
    [[ ! -s $C/nolib-error ]] || { fail "$(cat "$C/nolib-error")"; return; }
    use r || return
    expect_tmpfs_run encrypt= -- "rd.scratch.encrypt=1, but cannot load ${lib##*/}: "
    expect_unchanged "$IMG" "$SHA0"
    # Outside the namespace the file is there as before.
    [[ $("$SR_HELPER" --list-libraries) == *"$lib"* ]] || fail "$lib is gone outside the test's namespace"
}

# The first run encrypts (or falls back); the second, without encryption,
# takes the header left on the disk as its own and formats it.
c_encrypt() {
    local a t
    one_disk enc 256M || return
    if ! helper_encrypts; then
        echo "# the helper is built without libcryptsetup: it must fall back before touching the disk"
        in_ns ns_run r "rd.scratch.lun=1 rd.scratch.encrypt=1"
        use r || return
        expect_tmpfs_run encrypt= -- "rd.scratch.encrypt=1, but this scratchroot was built without libcryptsetup"
        expect_unchanged "$IMG" "$SHA0"
        return
    fi
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.encrypt=1"
    use r || return
    t=$(blkid -p -o value -s TYPE "$IMG")
    if host_has_dm_crypt; then
        (dmsetup remove scratchroot 2>/dev/null || :)
        expect_scratch_run format=blank encrypt=aes-xts-plain64
        [[ $t == crypto_LUKS ]] || fail "the encrypted disk shows TYPE='$t' to libblkid"
    else
        echo "# this kernel has no dm-crypt: the fallback is checked, the mapping is left to the VM scenarios"
        expect_tmpfs_run encrypt= hctl=0:0:0:1 -- "cannot map through dm-crypt $NAME1 (0:0:0:1)" \
            "the kernel has no dm-crypt"
        expect_log stderr "falling back to tmpfs"
    fi
    [[ $t == crypto_LUKS ]] || fail "no LUKS header on the disk: TYPE='$t'"
    [[ $(blkid -p -o value -s VERSION "$IMG") == 2 ]] || fail "the header is not LUKS2"
    [[ $(blkid -p -o value -s LABEL "$IMG") == scratchroot ]] || fail "the header is not labelled scratchroot"
    if cryptsetup luksDump "$IMG" | grep -qE '^  [0-9]+: luks2'; then
        fail "the header has a key slot"
    fi
    a=$(alloc_kib "$IMG")
    echo "# the header allocates $a KiB of the image"
    ((a <= 128)) || fail "the header allocated $a KiB of the image, more than 128"

    in_ns ns_run r2 "rd.scratch.lun=1"
    use r2 || return
    expect_scratch_run format=reused encrypt=
    expect_log kmsg "a LUKS2 header labelled 'scratchroot'"
    expect_scratch_fs "$IMG"
}

c_encrypt_fail() {
    if ! helper_encrypts; then
        one_disk encf 128M || return
        in_ns ns_run r "rd.scratch.lun=1 rd.scratch.encrypt=1 rd.scratch.fallback=fail"
        use r || return
        expect_rc 1
        expect_reason "built without libcryptsetup"
        expect_plain_root
        return
    fi
    if host_has_dm_crypt; then
        echo "# this kernel has dm-crypt: nothing fails here"
        one_disk encf 128M || return
        in_ns ns_run r "rd.scratch.lun=1 rd.scratch.encrypt=1 rd.scratch.fallback=fail"
        (dmsetup remove scratchroot 2>/dev/null || :)
        use r || return
        expect_scratch_run encrypt=aes-xts-plain64
        return
    fi
    one_disk encf 128M || return
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.encrypt=1 rd.scratch.fallback=fail"
    use r || return
    expect_rc 1
    expect_state backing=none encrypt=
    expect_reason "cannot map through dm-crypt"
    expect_log stderr "rd.scratch.fallback=fail, stopping the boot"
    expect_plain_root
}

# A volume of the user's that bears scratchroot's label: its key slot still
# opens its data, so the label alone does not make it ours.
make_luks_keyslot() {
    printf 'a passphrase' | cryptsetup luksFormat -q --type luks2 --label scratchroot --pbkdf pbkdf2 \
        --pbkdf-force-iterations 1000 --key-file - "$1"
}

c_encrypt_keyslot() {
    one_disk luksslot 128M make_luks_keyslot || return
    [[ $(blkid -p -o value -s LABEL "$IMG") == scratchroot ]] || fail "the volume is not labelled scratchroot"
    in_ns ns_run r "rd.scratch.lun=1"
    if helper_encrypts; then
        expect_refused "a LUKS2 header labelled 'scratchroot' with 1 key slot in use"
    else
        expect_refused "a LUKS2 header labelled 'scratchroot', whose key slots cannot be counted: this scratchroot was built without libcryptsetup"
    fi
}

# ns_swap TAG CMDLINE: a run, what /proc/swaps and the new root show, the
# image's allocation, then the swap turned off again (it would keep the
# loop device, and the host, busy).
ns_swap() {
    local r=$C/$1
    run_helper "$1" "$2"
    cat /proc/swaps >"$r/swaps"
    ls -A "$NEWROOT" >"$r/newroot.ls"
    ls -A "$SCRATCH" >"$r/scratch.ls" 2>/dev/null
    stat -c '%s %b %B %a' "$SCRATCH/swap" >"$r/swapfile" 2>/dev/null
    sync
    alloc_kib "$3" >"$r/alloc"
    if grep -q "^$SCRATCH/swap " /proc/swaps && ! swapoff "$SCRATCH/swap"; then
        fail "[$1] cannot turn the swap file off"
    fi
}

c_swap() {
    local a0 a1 size blocks bsize mode
    one_disk swap 1G || return
    in_ns ns_swap r0 "rd.scratch.lun=1" "$IMG"
    use r0 || return
    expect_scratch_run format=blank swap=0 swap_reason=
    a0=$(cat "$R/alloc")
    # The same disk again with swap: reused, so discarded whole before
    # mke2fs, and the two figures compare.
    in_ns ns_swap r1 "rd.scratch.lun=1 rd.scratch.swap=64M" "$IMG"
    use r1 || return
    expect_scratch_run format=reused swap=67108864 swap_reason=
    a1=$(cat "$R/alloc")
    grep -q "^$SCRATCH/swap " "$R/swaps" || fail "[$TAG] /proc/swaps lacks $SCRATCH/swap: $(tr '\n' ' ' <"$R/swaps")"
    read -r size blocks bsize mode <"$R/swapfile" || { fail "[$TAG] no swap file"; return; }
    [[ $size == 67108864 ]] || fail "[$TAG] the swap file has $size bytes"
    [[ $mode == 600 ]] || fail "[$TAG] the swap file's mode is $mode"
    grep -qx swap "$R/newroot.ls" && fail "[$TAG] the swap file shows in the new root"
    grep -qx swap "$R/scratch.ls" || fail "[$TAG] no swap file beside upper/"
    expect_log kmsg "swap on $SCRATCH/swap (64.0 MiB)"
    echo "# host allocation after the run: $a0 KiB without swap, $a1 KiB with 64 MiB of swap"
    ((a1 <= a0 + 1024)) || fail "[$TAG] the swap file cost the host $((a1 - a0)) KiB, more than 1 MiB"
}

c_swap_tmpfs() {
    in_ns ns_swap r "rd.scratch.lun=7 rd.scratch.swap=64M rd.scratch.timeout=0" /dev/null
    use r || return
    expect_tmpfs_run swap=0 "swap_reason=the overlay is on the tmpfs fallback"
    grep -q "$RUN_DIR" "$R/swaps" && fail "[$TAG] a swap of ours is on: $(tr '\n' ' ' <"$R/swaps")"
    expect_log kmsg "rd.scratch.swap is set, but the overlay is on the tmpfs fallback: no swap"
}
