# shellcheck shell=bash
# shellcheck disable=SC2317 # the sc_* functions are called by name
# Scenarios: the helper formats only a disk that is provably scratch (blank,
# or carrying its own stamp from an earlier boot) and refuses every other
# one, falling back to tmpfs and leaving the disk byte-identical. Sourced by
# test/vm/scenario, whose helpers they use.
#
#   readonly   a blank disk attached read-only
#   small      a blank disk under the helper's minimum (64 MiB)
#   gpt, mbr   a partition table (one partition, no filesystem)
#   swap       a swap signature
#   vfat, xfs  a filesystem of another type
#   ext4label  an ext4 whose label differs from scratchroot's in case only
#   lvm, luks  an LVM physical volume, a LUKS2 container
#   held       (dracut) an ext4 labelled scratchroot that a device-mapper
#              mapping holds when the helper runs
#   mounted    an ext4 labelled scratchroot, mounted read-only when the
#              helper runs
#   swapon     (standalone) a swap area in use when the helper runs
#   reuse      two boots on one disk: the second formats it afresh
#
# A bare LUN on two controllers (ambiguous) is the 'twocontrollers' scenario.
# REFUSE_CMDLINE adds kernel options to the boots of refused_boot.

# refused_boot IMG CAUSE REGEX [DISKOPTS]: boot with the root on LUN 0 and
# IMG on LUN 1 (with DISKOPTS), rd.scratch.lun=1. The helper must refuse IMG
# for CAUSE (its reason matching the extended REGEX), say so on the console,
# and put the overlay on tmpfs; IMG and the root stay as they were.
refused_boot() {
    local img=$1 cause=$2 re=$3 opts=${4:-} uuid before
    root_add 0
    DISKS+=("$img:1${opts:+:$opts}")
    uuid=$(img_uuid "$RUN/root.img")
    before=$(img_sha "$img")
    note "${img##*/} before the boot: sha256 $before, blkid: $(blkid -p -o export "$img" 2>/dev/null | tr '\n' ' ')"
    boot module "rd.scratch.lun=1 ${REFUSE_CMDLINE:-}"
    check_refused "$img" "$before" 0:0:0:1 "$cause" "$re"
    check_root_untouched "$uuid"
}

# check_refused IMG SHA HCTL CAUSE REGEX: the outcome of a refused disk.
check_refused() {
    local img=$1 before=$2 hctl=$3 cause=$4 re=$5 dev reason
    reason=$(vm_state "$LOG" reason)
    note "reason=$reason"
    check_state backing tmpfs
    check_state format ""
    check_state hctl "$hctl"
    check_hctl_device "$hctl"
    dev=$(vm_state "$LOG" device)
    dev=${dev##*/}
    check_state_mentions reason "the refusal of the disk at $hctl" "^refusing ${dev:-NO-DEVICE} \\($hctl, "
    check_state_mentions reason "$cause" "$re"
    if [[ -n $reason ]]; then
        check "the helper's console line gives the reason and the fallback" \
            helper_said "scratchroot:" "$reason, falling back to tmpfs"
    else
        notok "the helper's console line gives the reason and the fallback (no reason)"
    fi
    check_overlay_root tmpfs
    check_write ok
    check_same "$img" "$before"
}

sc_readonly() {
    vm_disk "$RUN/blank.img" 1G || fatal "make the blank disk"
    refused_boot "$RUN/blank.img" "read-only" 'it is read-only$' ro
    check "the blank disk is still all zeros" img_zero "$RUN/blank.img"
}

# chatty: a dozen unknown options, of which the helper reports the first
# eight (OPTIONS_MAX_PROBLEMS), before the refusal. The kernel rate-limits
# each open file of /dev/kmsg (10 records per 5 s): the refusal and the
# switch, records 9 to 11, must still reach the console.
sc_chatty() {
    local o
    REFUSE_CMDLINE=""
    for o in a b c d e f g h i j k l; do REFUSE_CMDLINE+=" rd.scratch.unknown$o=1"; done
    vm_disk "$RUN/blank.img" 1G || fatal "make the blank disk"
    refused_boot "$RUN/blank.img" "read-only" 'it is read-only$' ro
    check "the helper's eighth warning reached the console" helper_said "unknown option rd.scratch.unknownh,"
    check "the helper's last line reached the console" helper_said "scratchroot: switching to"
}

sc_small() {
    # 64 MiB is SCRATCH_MIN_BYTES in src/safety.h.
    vm_disk "$RUN/small.img" 32M || fatal "make the small disk"
    refused_boot "$RUN/small.img" "the size and the minimum" \
        'too small \(32(\.0)? MiB, 33554432 bytes; the minimum is 64 MiB\)'
    check "the small disk is still all zeros" img_zero "$RUN/small.img"
}

sc_gpt() {
    vm_disk "$RUN/gpt.img" 1G || fatal "make the gpt disk"
    printf 'label: gpt\n,,L\n' | sfdisk -q "$RUN/gpt.img" >/dev/null ||
        fatal "write a GPT with sfdisk (package fdisk)"
    refused_boot "$RUN/gpt.img" "the partition table" 'holds a partition table with 1 partition$'
}

sc_mbr() {
    vm_disk "$RUN/mbr.img" 1G || fatal "make the mbr disk"
    printf 'label: dos\n,,83\n' | sfdisk -q "$RUN/mbr.img" >/dev/null ||
        fatal "write an MBR with sfdisk (package fdisk)"
    refused_boot "$RUN/mbr.img" "the partition table" 'holds a partition table with 1 partition$'
}

sc_swap() {
    vm_disk "$RUN/swap.img" 256M || fatal "make the swap disk"
    mkswap -L oldswap "$RUN/swap.img" >/dev/null 2>&1 || fatal "mkswap the disk image"
    refused_boot "$RUN/swap.img" "the swap signature" "holds a signature of type swap labelled 'oldswap'$"
}

sc_vfat() {
    vm_disk "$RUN/vfat.img" 256M || fatal "make the vfat disk"
    mkfs.vfat -n ESP "$RUN/vfat.img" >/dev/null || fatal "mkfs.vfat the disk image (package dosfstools)"
    refused_boot "$RUN/vfat.img" "the vfat signature" "holds a signature of type vfat labelled 'ESP'$"
}

sc_xfs() {
    vm_disk "$RUN/xfs.img" 512M || fatal "make the xfs disk"
    mkfs.xfs -q -L data "$RUN/xfs.img" >/dev/null || fatal "mkfs.xfs the disk image (package xfsprogs)"
    refused_boot "$RUN/xfs.img" "the xfs signature" "holds a signature of type xfs labelled 'data'$"
}

# The 'foreign' scenario has an ext4 labelled 'data'. This one's label is
# scratchroot's in another case: the stamp is matched exactly.
sc_ext4label() {
    vm_disk "$RUN/e4.img" 256M || fatal "make the ext4 disk"
    mkfs.ext4 -q -F -L Scratchroot -O ^has_journal "$RUN/e4.img" >/dev/null 2>&1 ||
        fatal "mkfs.ext4 the disk image"
    refused_boot "$RUN/e4.img" "the ext4 and its label" "holds a signature of type ext4 labelled 'Scratchroot'$"
}

sc_lvm() {
    local loop
    vm_disk "$RUN/lvm.img" 256M || fatal "make the lvm disk"
    loop=$(losetup -f --show "$RUN/lvm.img") || fatal "attach the lvm image to a loop device"
    # --devices: this loop device only; the host's own disks and LVM
    # configuration are neither scanned nor changed.
    if ! pvcreate -q --devices "$loop" "$loop" >"$RUN/pvcreate.log" 2>&1; then
        losetup -d "$loop"
        fatal "pvcreate on $loop (see $RUN/pvcreate.log)"
    fi
    losetup -d "$loop" || fatal "detach $loop"
    refused_boot "$RUN/lvm.img" "the LVM signature" 'holds a signature of type LVM2_member$'
}

sc_luks() {
    vm_disk "$RUN/luks.img" 256M || fatal "make the luks disk"
    head -c 32 /dev/urandom >"$RUN/luks.key"
    cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --key-file "$RUN/luks.key" "$RUN/luks.img" >"$RUN/luks.log" 2>&1 ||
        fatal "cryptsetup luksFormat the disk image (see $RUN/luks.log)"
    refused_boot "$RUN/luks.img" "the LUKS signature" 'holds a signature of type crypto_LUKS$'
    check "the LUKS container still opens with its key" \
        cryptsetup isLuks "$RUN/luks.img"
}

# ---------------------------------------------------------------------------
# A disk in use when the helper runs
# ---------------------------------------------------------------------------

# held_disk: an ext4 labelled scratchroot on LUN 1, which the helper would
# reuse were it not in use.
held_disk() {
    vm_disk "$RUN/held.img" 256M || fatal "make the held disk"
    mkfs.ext4 -q -F -L scratchroot -O ^has_journal "$RUN/held.img" >/dev/null 2>&1 ||
        fatal "mkfs.ext4 the held disk"
}

# held_cached FILE: FILE copied into the cache under a name made of its
# content, so that the initrds built with it are keyed by what it says.
held_cached() {
    local key dst
    key=$(sha256sum <"$1" | cut -c1-16)
    dst=$SR_CACHE/held/${1##*/}-$key
    if [[ ! -f $dst ]]; then
        mkdir -p "$SR_CACHE/held" || return 1
        cp "$1" "$dst.$$" && chmod 0755 "$dst.$$" && mv -f "$dst.$$" "$dst" || return 1
    fi
    echo "$dst"
}

# The dracut path's initrd with scratchroot and a hook (test/vm/held/,
# pre-trigger 05, before scratchroot's 90 starts its prepare) that holds the disk.
held_dracut_initrd() {
    local hook
    hook=$(held_cached "$SC_DIR/held/srheld-pre-trigger.sh") || return 1
    vm_dracut_initrd "$1" --add-drivers "dm-mod" --install "dmsetup" \
        --include "$hook" /lib/dracut/hooks/pre-trigger/05-srheld.sh
}

# The standalone initrd and a second archive with /srheld-init (run with
# rdinit=), which mounts the disk and then executes scratchroot's /init.
held_standalone_initrd() {
    local init cpio tmp
    _sr_standalone_initrd "$RUN/initrd-base.img" || return 1
    init=$(held_cached "$SC_DIR/held/srheld-init") || return 1
    cpio=$init.cpio
    if [[ ! -f $cpio ]]; then
        tmp=$(mktemp -d "$SR_CACHE/held/.cpio.XXXXXX") || return 1
        install -m 0755 "$init" "$tmp/srheld-init"
        mkdir -m 0755 "$tmp/srheld"
        (cd "$tmp" && printf '%s\n' srheld srheld-init |
            cpio -o -H newc -R 0:0 --reproducible --quiet) >"$tmp/a.cpio" || { rm -rf "$tmp"; return 1; }
        mv -f "$tmp/a.cpio" "$cpio"
        rm -rf "$tmp"
    fi
    cat "$RUN/initrd-base.img" "$cpio" >"$1"
}

# check_holder_said WORD...: the holder said what it did (srheld: lines).
check_holder_said() {
    check "the holder said: $*" helper_said "srheld:" "$@"
}

sc_held() {
    [[ $PATH_NAME == dracut ]] ||
        fatal "held needs dracut's shell initrd (its holder is a pre-trigger hook), not $PATH_NAME"
    held_disk
    held_boot "$RUN/held.img" dm "the device-mapper mapping" "the device-mapper holder" 'in use by dm-[0-9]+$'
    check_eq "the held disk is still labelled scratchroot" "$(img_label "$RUN/held.img")" scratchroot
}

# held_boot IMG MODE HOW CAUSE REGEX: IMG on LUN 1, held with sr.hold=MODE
# (the holder says "with HOW") when the helper runs: refused for CAUSE.
held_boot() {
    local img=$1 mode=$2 how=$3 cause=$4 re=$5 uuid before extra="" d
    root_add 0
    DISKS+=("$img:1")
    uuid=$(img_uuid "$RUN/root.img")
    before=$(img_sha "$img")
    case $PATH_NAME in
        dracut) path_initrd() { held_dracut_initrd "$1"; } ;;
        standalone)
            path_initrd() { held_standalone_initrd "$1"; }
            extra="rdinit=/srheld-init"
            ;;
        *) fatal "the holders are for the dracut and standalone paths, not $PATH_NAME" ;;
    esac
    boot module "rd.scratch.lun=1 sr.hold=$mode sr.hold.lun=1 $extra"
    check_holder_said "holding" "(0:0:0:1) with $how"
    if [[ $PATH_NAME == standalone ]]; then
        # The holder left /proc, /sys and /dev mounted: /init keeps them.
        for d in /proc /sys /dev; do
            check "the standalone /init kept $d as the holder mounted it" \
                helper_said "scratchroot: $d is already mounted, keeping it"
        done
    fi
    check_refused "$img" "$before" 0:0:0:1 "$cause" "$re"
    check_root_untouched "$uuid"
}

sc_mounted() {
    held_disk
    held_boot "$RUN/held.img" mount "a read-only mount" "the mount" 'it or one of its partitions is mounted$'
    check_eq "the held disk is still labelled scratchroot" "$(img_label "$RUN/held.img")" scratchroot
}

# Active swap: no holder in sysfs, no mount, only the kernel's EBUSY on the
# exclusive open tells. The standalone holder runs busybox's swapon.
sc_swapon() {
    [[ $PATH_NAME == standalone ]] || fatal "swapon has its holder on the standalone path only, not $PATH_NAME"
    vm_disk "$RUN/swap.img" 256M || fatal "make the swap disk"
    mkswap -L heldswap "$RUN/swap.img" >/dev/null 2>&1 || fatal "mkswap the disk image"
    held_boot "$RUN/swap.img" swap "swapon" "the busy exclusive open" \
        'it is in use \(exclusive open: device busy\)$'
}

# ---------------------------------------------------------------------------
# A disk kept from an earlier boot
# ---------------------------------------------------------------------------

# check_no_mount_before_format: the kernel log of the last boot (SR-KMSG,
# from the dmesg-ext4 workload) shows the helper's format message for the
# scratch disk, and no ext4 mount of that disk before it.
check_no_mount_before_format() {
    local dev kmsg fline mline l
    dev=$(vm_state "$LOG" device)
    dev=${dev##*/}
    kmsg=$(vm_lines "$LOG" SR-KMSG)
    if [[ -z $dev || -z $kmsg ]]; then
        notok "the kernel log of the boot was printed (device '$dev', $(wc -l <<<"$kmsg") SR-KMSG lines)"
        return
    fi
    fline=$(grep -n -m1 -F "scratchroot: formatting $dev (" <<<"$kmsg" | cut -d: -f1 || true)
    mline=$(grep -n -m1 -F "EXT4-fs ($dev): mounted filesystem" <<<"$kmsg" | cut -d: -f1 || true)
    note "kernel log: helper's format message at line ${fline:-none}, first ext4 mount of $dev at line ${mline:-none}"
    while IFS= read -r l; do note "kmsg: $l"; done < <(grep -F -e "$dev" -e 'scratchroot:' <<<"$kmsg")
    if [[ -z $fline ]]; then
        notok "the kernel log has the helper's format message for $dev"
        return
    fi
    ok "the kernel log has the helper's format message for $dev"
    if [[ -n $mline ]] && ((mline < fline)); then
        notok "no ext4 mount of $dev before the helper formatted it (mount at line $mline, format at $fline)"
    else
        ok "no ext4 mount of $dev before the helper formatted it"
    fi
    check "$dev was mounted as ext4 after the format" test -n "$mline"
}

sc_reuse() {
    local uuid u1 u2 m1 lst
    root_add 0
    disk_add scratch 1G 1
    uuid=$(img_uuid "$RUN/root.img")

    note "first boot: a blank disk"
    boot module "rd.scratch.lun=1 sr.work=dmesg-ext4"
    check_state backing scratch
    check_state format blank
    check_state hctl 0:0:0:1
    m1=$MARKER
    u1=$(img_uuid "$RUN/scratch.img")
    note "first boot's filesystem: UUID $u1"
    check_eq "the first boot made the scratchroot filesystem" "$(img_label "$RUN/scratch.img")" scratchroot
    check_eq "the first boot's marker is in /upper/sr-written" "$(img_cat "$RUN/scratch.img" /upper/sr-written)" "$m1"
    check_no_mount_before_format
    # One more file on the first boot's filesystem, whose name no boot
    # writes: it must be gone after the second.
    echo "$m1" >"$RUN/left-over"
    debugfs -w -R "write $RUN/left-over /upper/sr-left-over" "$RUN/scratch.img" >"$RUN/debugfs.log" 2>&1 ||
        fatal "add /upper/sr-left-over to the first boot's filesystem"
    check "the first boot's filesystem holds /upper/sr-left-over" img_has "$RUN/scratch.img" /upper/sr-left-over
    check_eq "blkid still sees the stamp" "$(blkid -p -o value -s LABEL "$RUN/scratch.img")" scratchroot

    note "second boot: the same disk, with the first boot's filesystem"
    cp "$LOG" "$RUN/console-1.log"
    boot module "rd.scratch.lun=1 sr.work=dmesg-ext4"
    check_state backing scratch
    check_state format reused
    check_state hctl 0:0:0:1
    check_hctl_device 0:0:0:1
    check "the helper said it reused its own disk" helper_said "scratchroot: formatting" \
        "(0:0:0:1," "it carries the scratchroot stamp of an earlier boot"
    check_overlay_root ext4
    check_write ok
    u2=$(img_uuid "$RUN/scratch.img")
    note "second boot's filesystem: UUID $u2"
    check "the disk was formatted afresh (UUID $u1 -> $u2)" test -n "$u2" -a "$u2" != "$u1"
    check_eq "the filesystem is labelled scratchroot" "$(img_label "$RUN/scratch.img")" scratchroot
    check_eq "/upper/sr-written holds the second boot's marker only" \
        "$(img_cat "$RUN/scratch.img" /upper/sr-written)" "$MARKER"
    if img_has "$RUN/scratch.img" /upper/sr-left-over; then
        notok "the first boot's /upper/sr-left-over is gone"
    else
        ok "the first boot's /upper/sr-left-over is gone"
    fi
    lst=$(img_ls "$RUN/scratch.img" /upper | awk 'NF {print $NF}' | grep -vxE '\.|\.\.' | tr '\n' ' ')
    note "/upper after the second boot: $lst"
    check_no_mount_before_format
    check_root_untouched "$uuid"
}
