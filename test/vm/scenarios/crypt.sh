# shellcheck shell=bash
# shellcheck disable=SC2317 # the sc_* functions are called by name
# Scenarios: rd.scratch.encrypt and rd.scratch.swap. Sourced by
# test/vm/scenario, whose helpers they use.
#
# encrypt: the guest writes 64 MiB of a marker into /; the host image must
# hold not one copy of it, while a boot without encryption on the same disk
# leaves it there (so the check can fail). The volume key is read back from
# the kernel in the guest (dmsetup table --showkeys) and searched for in
# /proc/cmdline, the kernel log and /run: the test knows the key only by
# asking the kernel, and finds it nowhere else. A second encrypted boot on
# the same disk takes the LUKS2 header as its own, with a new key.
#
# swapfile: a 512 MiB guest with rd.scratch.swap=1G touches 1 GiB of anonymous
# memory; the swap file costs the host nothing until pages go out to it.

# root_add_tools: the helper, dmsetup and their libraries, a program that
# touches memory, and an init (/sbin/sr-crypt, booted with
# init=/sbin/sr-crypt) that reports SR-CRYPT-*, SR-STATUS, SR-TOUCH and
# SR-SWAP lines before it runs the test init, put into the run's root image.
root_add_tools() {
    local wrapper=$RUN/sr-crypt touch=$RUN/sr-touch dmsetup
    dmsetup=$(PATH=/usr/sbin:/sbin:$PATH command -v dmsetup) || fatal "no dmsetup on the host (package dmsetup)"
    cat >"$RUN/sr-touch.c" <<'EOS'
#include <stdio.h>
#include <stdlib.h>

/* Touches MIB MiB of anonymous memory a page at a time, then reads every
 * page back. */
int main(int argc, char **argv) {
        size_t n = (size_t) strtoul(argc > 1 ? argv[1] : "0", NULL, 10) << 20, bad = 0;
        unsigned char *p = malloc(n);

        if (!p) {
                printf("SR-TOUCH fail malloc\n");
                return 1;
        }
        for (size_t i = 0; i < n; i += 4096)
                p[i] = (unsigned char) (i >> 12 | 1);
        for (size_t i = 0; i < n; i += 4096)
                bad += p[i] != (unsigned char) (i >> 12 | 1);
        printf("SR-TOUCH %s bytes=%zu bad=%zu\n", bad ? "fail" : "ok", n, bad);
        return bad != 0;
}
EOS
    gcc -static -O2 -Wall -Wextra -Werror -std=c11 -o "$touch" "$RUN/sr-touch.c" || fatal "compile sr-touch"
    cat >"$wrapper" <<'EOS'
#!/bin/busybox sh
# What the encrypted scratch looks like from inside, then the test init.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
bb=/bin/busybox
[ -r /proc/self/mountinfo ] || $bb mount -t proc proc /proc
[ -d /sys/block ] || $bb mount -t sysfs sysfs /sys
[ -e /dev/null ] || $bb mount -t devtmpfs devtmpfs /dev
echo 1 >/proc/sys/kernel/printk 2>/dev/null
read -r cmdline </proc/cmdline
cm="" touch=""
for w in $cmdline; do
    case $w in
        sr.cmarker=*) cm=${w#sr.cmarker=} ;;
        sr.touch=*) touch=${w#sr.touch=} ;;
    esac
done
for w in $cmdline; do
    case $w in
        sr.wd=*)
            # Write MiB into /, sync, delete, sync: what a thin disk keeps.
            $bb dd if=/dev/urandom of=/sr-wd bs=1M count="${w#sr.wd=}" 2>/dev/null
            $bb sync
            echo "SR-WD written=$($bb stat -c %s /sr-wd 2>/dev/null)"
            $bb rm -f /sr-wd
            $bb sync
            $bb sleep 2
            echo "SR-WD deleted"
            ;;
    esac
done
if [ -n "$cm" ]; then
    $bb yes "$cm" | $bb head -c 67108864 >/sr-cmarker
    $bb sync
    echo "SR-CMARK bytes=$($bb stat -c %s /sr-cmarker 2>/dev/null)"
fi
table=$(DM_DISABLE_UDEV=1 /usr/sbin/dmsetup table --showkeys scratchroot 2>/dev/null)
set -- $table
key=${5:-}
if [ -n "$key" ]; then
    echo "SR-CRYPT-TABLE $1 $2 $3 $4 KEY(${#key} hex digits) $6 $7 $8 ${9:-} ${10:-}"
    echo "SR-CRYPT-KEYHASH $(echo "$key" | $bb sha256sum | $bb cut -c1-16)"
    for where in cmdline dmesg run state; do
        case $where in
            cmdline) $bb grep -qiF "$key" /proc/cmdline ;;
            dmesg) $bb dmesg | $bb grep -qiF "$key" ;;
            # Regular files only: a FIFO (systemd's initrd leaves some
            # under /run) would block grep -r forever.
            run) $bb find /run -type f -print0 | $bb xargs -0 $bb grep -lsiF "$key" | $bb grep -q . ;;
            state) /usr/sbin/scratchroot status --json | $bb grep -qiF "$key" ;;
        esac && found=yes || found=no
        echo "SR-CRYPT-IN $where $found"
    done
else
    echo "SR-CRYPT-TABLE none"
fi
/usr/sbin/scratchroot status 2>&1 | while IFS= read -r line; do echo "SR-STATUS $line"; done
if [ -n "$touch" ]; then
    /usr/sbin/sr-touch "$touch"
    echo "SR-TOUCH-OOM $($bb dmesg | $bb grep -ciE 'out of memory|oom-kill')"
fi
while read -r k v _; do
    case $k in SwapTotal: | SwapFree:) echo "SR-SWAP ${k%:}=$v" ;; esac
done </proc/meminfo
$bb sed 1d /proc/swaps | while read -r f _; do echo "SR-SWAP file=$f"; done
exec /sbin/init "$@"
EOS
    chmod 0755 "$wrapper"
    img_install "$RUN/root.img" "prog:$SR_HELPER=/usr/sbin/scratchroot" "prog:$dmsetup=/usr/sbin/dmsetup" \
        "$touch=/usr/sbin/sr-touch" "$wrapper=/sbin/sr-crypt"
}

# lacks WORD TEXT: TEXT does not contain WORD.
lacks() {
    [[ $2 != *"$1"* ]]
}

# no_keyslot IMG: cryptsetup finds no key slot in IMG's LUKS2 header.
no_keyslot() {
    local dump
    dump=$(cryptsetup luksDump "$1") || return 1
    ! grep -qE '^  [0-9]+: luks2' <<<"$dump"
}

# copies IMG TEXT: how many times TEXT is in IMG, read raw. NUL bytes end
# "lines" too: grep would otherwise hold a whole run of zeros (a hole of
# the sparse image) in memory as one line.
copies() {
    { LC_ALL=C tr '\0' '\n' <"$1" | LC_ALL=C grep -a -o -F -- "$2" || :; } | wc -l
}

crypt_boot() {
    boot module "rd.scratch.lun=1 $1 init=/sbin/sr-crypt sr.cmarker=$CMARK"
    check_eq "the guest wrote 64 MiB of the marker into /" "$(vm_lines "$LOG" SR-CMARK)" "bytes=67108864"
    while IFS= read -r l; do note "status: $l"; done < <(vm_lines "$LOG" SR-STATUS)
}

sc_encrypt() {
    local n h1 h2 l table
    root_add 0
    # 2 GiB, not 64: the host reads the whole image three times in search of
    # the marker (encryptthin has the 64 GiB figures).
    disk_add scratch 2G 1
    root_add_tools
    CMARK=srcm-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-marker-line
    note "marker: $CMARK"

    note "first boot: encrypted, on a blank disk"
    crypt_boot "rd.scratch.encrypt=1"
    check_state backing scratch
    check_state format blank
    check_state encrypt aes-xts-plain64
    check "scratchroot status shows the cipher" grep -q '^SR-STATUS encrypt:  aes-xts-plain64' <(tr -d '\r' <"$LOG")
    check_eq "the kernel loaded aesni_intel for the table" "$(vm_lines "$LOG" "SR-MODULE aesni_intel")" yes
    table=$(vm_lines "$LOG" SR-CRYPT-TABLE)
    note "dm table: $table"
    check "the mapping is dm-crypt aes-xts-plain64 with a 512-bit key in the table" \
        grep -qE '^0 [0-9]+ crypt aes-xts-plain64 KEY\(128 hex digits\) 0 ' <<<"$table"
    check "the table lets no discards through (rd.scratch.discard unset)" lacks allow_discards "$table"
    for l in cmdline dmesg run state; do
        check_eq "the key is not in $l" "$(vm_lines "$LOG" "SR-CRYPT-IN $l")" no
    done
    h1=$(vm_lines "$LOG" SR-CRYPT-KEYHASH)
    check_eq "the host image is LUKS2" "$(blkid -p -o value -s TYPE "$RUN/scratch.img")/$(blkid -p -o value -s VERSION "$RUN/scratch.img")" crypto_LUKS/2
    check_eq "the header is labelled scratchroot" "$(blkid -p -o value -s LABEL "$RUN/scratch.img")" scratchroot
    check "the header has no key slot" no_keyslot "$RUN/scratch.img"
    n=$(copies "$RUN/scratch.img" "$CMARK")
    check_eq "the host image holds no copy of the marker" "$n" 0
    note_allocated "$RUN/scratch.img"

    note "second boot: encrypted again, on the same disk"
    cp "$LOG" "$RUN/console-1.log"
    crypt_boot "rd.scratch.encrypt=1"
    check_state backing scratch
    check_state format reused
    check_state encrypt aes-xts-plain64
    check "the helper took the LUKS2 header as its own" helper_said "scratchroot: formatting" \
        "a LUKS2 header labelled 'scratchroot'"
    h2=$(vm_lines "$LOG" SR-CRYPT-KEYHASH)
    check "the second boot has another key" test -n "$h1" -a -n "$h2" -a "$h1" != "$h2"
    check_eq "the host image holds no copy of the marker" "$(copies "$RUN/scratch.img" "$CMARK")" 0

    note "third boot: the same disk without encryption (the check's control)"
    cp "$LOG" "$RUN/console-2.log"
    crypt_boot ""
    check_state backing scratch
    check_state format reused
    check_state encrypt ""
    check_eq "no mapping" "$(vm_lines "$LOG" SR-CRYPT-TABLE)" none
    n=$(copies "$RUN/scratch.img" "$CMARK")
    note "plain: $n copies of the marker in the host image"
    check "without encryption the host image holds the marker (the check can fail)" test "$n" -gt 1000
}

# A 64 GiB encrypted scratch after boot and 30 s idle: the header, the
# ext4 metadata and nothing more on the host.
sc_encryptthin() {
    local kib
    root_add 0
    disk_add scratch 64G 1
    boot module "rd.scratch.lun=1 rd.scratch.encrypt=1 sr.idle=30"
    check_state backing scratch
    check_state encrypt aes-xts-plain64
    check "the guest idled 30 s" vm_has "$LOG" "SR-IDLE done"
    kib=$(du -k "$RUN/scratch.img" | cut -f1)
    note "64 GiB encrypted scratch after 30 s idle: $kib KiB on the host"
    check "at most 1 MiB allocated on the host ($kib KiB)" test "$kib" -le 1024
}

# rd.scratch.discard=1 with encryption: the mapping lets discards through,
# and 512 MiB written and deleted goes back to the host.
sc_encryptdiscard() {
    local kib table
    root_add 0
    root_add_tools
    disk_add scratch 64G 1
    boot module "rd.scratch.lun=1 rd.scratch.encrypt=1 rd.scratch.discard=1 init=/sbin/sr-crypt sr.wd=512"
    check_state encrypt aes-xts-plain64
    check_state discard on
    table=$(vm_lines "$LOG" SR-CRYPT-TABLE)
    note "dm table: $table"
    check "the table lets discards through" grep -q allow_discards <<<"$table"
    check_eq "512 MiB written" "$(vm_lines "$LOG" SR-WD | head -n 1)" "written=536870912"
    check "and deleted" vm_has "$LOG" "SR-WD deleted"
    kib=$(du -k "$RUN/scratch.img" | cut -f1)
    note "after writing and deleting 512 MiB: $kib KiB on the host"
    check "at most 16 MiB stays allocated ($kib KiB)" test "$kib" -le $((16 * 1024))
}

sc_swapfile() {
    local a0 a1 total
    # shellcheck disable=SC2034 # read by vm_run
    VM_MEM=512
    root_add 0
    root_add_tools
    disk_add noswap 64G 1
    note "first boot: no swap (the allocation to compare with)"
    boot module "rd.scratch.lun=1 init=/sbin/sr-crypt"
    check_state backing scratch
    check_state swap 0
    a0=$(du -k "$RUN/noswap.img" | cut -f1)

    note "second boot: rd.scratch.swap=1G, nothing swapped out"
    cp "$LOG" "$RUN/console-1.log"
    DISKS=("${DISKS[0]}")
    disk_add swap 64G 1
    boot module "rd.scratch.lun=1 rd.scratch.swap=1G init=/sbin/sr-crypt"
    check_state backing scratch
    check_state swap 1073741824
    check_eq "the swap file is on" "$(vm_lines "$LOG" SR-SWAP | grep '^file=' | head -n 1)" \
        "file=/run/scratchroot/scratch/swap"
    total=$(vm_lines "$LOG" SR-SWAP | sed -n 's/^SwapTotal=//p')
    check "SwapTotal shows about 1 GiB ($total kB)" test "${total:-0}" -ge 1048000
    check "scratchroot status shows the swap" grep -q '^SR-STATUS swap: *1.0 GiB' <(tr -d '\r' <"$LOG")
    a1=$(du -k "$RUN/swap.img" | cut -f1)
    note "host allocation after boot: $a0 KiB without swap, $a1 KiB with 1 GiB of swap"
    check "the swap file costs the host at most 1 MiB ($((a1 - a0)) KiB)" test "$a1" -le $((a0 + 1024))

    # The full proof (1 GiB in a 512 MiB guest) on the standalone path; the
    # other paths show their swap at work with 768 MiB, which swapping out
    # and in takes a fraction of the time under TCG.
    local mib=768
    [[ $PATH_NAME != standalone ]] || mib=1024
    note "third boot: $mib MiB of anonymous memory touched in a 512 MiB guest"
    cp "$LOG" "$RUN/console-2.log"
    # Swapping 1 GiB out and in under TCG takes minutes when the host is busy,
    # and an emulated CPU compacting memory for that long trips the soft
    # lockup watchdog at its 20 s default: a lockup is reported from 120 s.
    SR_VM_TIMEOUT=$((${SR_VM_TIMEOUT:-180} + 300)) boot module \
        "rd.scratch.lun=1 rd.scratch.swap=1G init=/sbin/sr-crypt sr.touch=$mib watchdog_thresh=60"
    check_state swap 1073741824
    check "$mib MiB touched and read back" grep -qE "^SR-TOUCH ok bytes=$((mib << 20)) bad=0" <(tr -d '\r' <"$LOG")
    check_eq "no OOM kill" "$(vm_lines "$LOG" SR-TOUCH-OOM)" 0
    note "swap: $(vm_lines "$LOG" SR-SWAP | tr '\n' ' ')"
    note_allocated "$RUN/swap.img"
}

# cryptswap: encryption and swap in one boot, what each initrd must carry
# for them (dm-crypt, libcryptsetup, the swap file on the mapping), on the
# paths where encrypt and swapfile run in the 'slow' suite. Pages going
# out to the swap and back are the kernel's, shown by swapfile on the
# standalone path (under TCG through dm-crypt, minutes per path).
sc_cryptswap() {
    local l table total
    root_add 0
    disk_add scratch 2G 1
    root_add_tools
    CMARK=srcm-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-marker-line
    note "marker: $CMARK"
    boot module "rd.scratch.lun=1 rd.scratch.encrypt=1 rd.scratch.swap=256M init=/sbin/sr-crypt sr.cmarker=$CMARK"
    check_eq "the guest wrote 64 MiB of the marker into /" "$(vm_lines "$LOG" SR-CMARK)" "bytes=67108864"
    check_state backing scratch
    check_state format blank
    check_state encrypt aes-xts-plain64
    check_state swap 268435456
    check_eq "the kernel loaded aesni_intel for the table" "$(vm_lines "$LOG" "SR-MODULE aesni_intel")" yes
    table=$(vm_lines "$LOG" SR-CRYPT-TABLE)
    note "dm table: $table"
    check "the mapping is dm-crypt aes-xts-plain64 with a 512-bit key in the table" \
        grep -qE '^0 [0-9]+ crypt aes-xts-plain64 KEY\(128 hex digits\) 0 ' <<<"$table"
    for l in cmdline dmesg run state; do
        check_eq "the key is not in $l" "$(vm_lines "$LOG" "SR-CRYPT-IN $l")" no
    done
    check_eq "the swap file is on the scratch" "$(vm_lines "$LOG" SR-SWAP | grep '^file=' | head -n 1)" \
        "file=/run/scratchroot/scratch/swap"
    total=$(vm_lines "$LOG" SR-SWAP | sed -n 's/^SwapTotal=//p')
    check "SwapTotal shows about 256 MiB ($total kB)" test "${total:-0}" -ge 262000
    note "swap: $(vm_lines "$LOG" SR-SWAP | tr '\n' ' ')"
    check_eq "the host image is LUKS2" "$(blkid -p -o value -s TYPE "$RUN/scratch.img")" crypto_LUKS
    check_eq "the host image holds no copy of the marker" "$(copies "$RUN/scratch.img" "$CMARK")" 0
}
