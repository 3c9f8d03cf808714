# shellcheck shell=bash
# shellcheck disable=SC2317 # the sc_* functions are called by name
# Scenarios: the core ones, on every boot path. A blank scratch disk
# becomes the root's overlay; no disk, the root's own LUN, a foreign ext4
# and a malformed LUN fall back to tmpfs without touching a disk; the right
# one of four disks is taken; and the initrd without the module (baseline)
# checks the harness itself. Sourced by test/vm/scenario, whose helpers they
# use; test/vm/scenarios.list says which path runs which.

sc_scratch() {
    local uuid
    root_add 0
    disk_add scratch 64G 1
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.lun=1"
    check_scratch_on "$RUN/scratch.img" 0:0:0:1
    check_upper_mount_opt no_prefetch_block_bitmaps
    check_root_opts volatile redirect_dir=on metacopy=on
    check_no_journal "$RUN/scratch.img"
    check_root_untouched "$uuid"
    # Setup runs at real-time priority, which it must not hand on.
    check_eq "the root's init runs at the normal scheduling policy" "$(vm_lines "$LOG" SR-SCHED)" 0
    # No virtio-serial driver for a machine without the device; the initrds
    # of these paths hold what encryption needs but load none of it unasked
    # (the dracut paths' plain initrds load aesni_intel too).
    check_eq "virtio_console was not loaded (no virtio console)" \
        "$(vm_lines "$LOG" "SR-MODULE virtio_console")" no
    case $PATH_NAME in
        initramfs-tools | standalone)
            check_eq "aesni_intel was not loaded (no encryption asked for)" \
                "$(vm_lines "$LOG" "SR-MODULE aesni_intel")" no
            ;;
    esac
    note_allocated "$RUN/scratch.img"
}

sc_nodisk() {
    local uuid
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.lun=1"
    check_state backing tmpfs
    check_state_mentions reason "the LUN" 'lun|(^|[^0-9])1([^0-9]|$)'
    check_overlay_root tmpfs
    check_write ok
    check_root_untouched "$uuid"
}

sc_rootlun() {
    local uuid ls_before ls_sbin_before init_sha
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    ls_before=$(img_ls "$RUN/root.img" /)
    ls_sbin_before=$(img_ls "$RUN/root.img" /sbin)
    init_sha=$(sha256sum <"$SR_VMDIR/guest-init" | cut -d' ' -f1)
    boot module "rd.scratch.lun=0"
    check_state backing tmpfs
    check_state_mentions reason "the root" 'root'
    check_overlay_root tmpfs
    check_write ok
    check_root_untouched "$uuid"
    check "root image listing of / unchanged" test "$(img_ls "$RUN/root.img" /)" = "$ls_before"
    check "root image listing of /sbin unchanged" test "$(img_ls "$RUN/root.img" /sbin)" = "$ls_sbin_before"
    check_eq "root image /sbin/init unchanged" \
        "$(img_cat "$RUN/root.img" /sbin/init | sha256sum | cut -d' ' -f1)" "$init_sha"
    check_eq "root image still labelled srroot" "$(img_label "$RUN/root.img")" srroot
}

sc_foreign() {
    local before tree
    root_add 0
    tree=$RUN/foreign-tree
    mkdir -p "$tree"
    echo "precious data" >"$tree/precious.txt"
    mkfs.ext4 -q -F -d "$tree" -L data "$RUN/data.img" 128M >/dev/null 2>&1 ||
        fatal "make the foreign ext4 image"
    DISKS+=("$RUN/data.img:1")
    before=$(img_sha "$RUN/data.img")
    boot module "rd.scratch.lun=1"
    check_state backing tmpfs
    check_state_mentions reason "the foreign ext4" 'ext4'
    check_overlay_root tmpfs
    check_write ok
    check_eq "the foreign disk is byte-identical" "$(img_sha "$RUN/data.img")" "$before"
    check_eq "the foreign file is intact" "$(img_cat "$RUN/data.img" /precious.txt)" "precious data"
}

sc_malformed() {
    local uuid
    root_add 0
    disk_add blank 128M 1
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.lun=abc"
    check_state backing tmpfs
    check "the helper names rd.scratch.lun and abc on the console" \
        helper_said scratchroot rd.scratch.lun abc
    check_overlay_root tmpfs
    check_write ok
    check "the blank disk on LUN 1 is still all zeros" img_zero "$RUN/blank.img"
    check_root_untouched "$uuid"
}

sc_fourdisks() {
    local l uuid
    local -A before=()
    root_add 0
    for l in 1 2 3 4; do
        disk_add "lun$l" 128M "$l"
        before[$l]=$(img_sha "$RUN/lun$l.img")
    done
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.lun=3"
    check_scratch_on "$RUN/lun3.img" 0:0:0:3
    for l in 1 2 4; do
        check_eq "disk on LUN $l unchanged" "$(img_sha "$RUN/lun$l.img")" "${before[$l]}"
    done
    check "disk on LUN 3 changed" test "$(img_sha "$RUN/lun3.img")" != "${before[3]}"
    check_root_untouched "$uuid"
}

sc_baseline() {
    local uuid line
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    boot plain ""
    line=$(root_line)
    note "root mount: $line"
    check_eq "/ is the ext4 root" "$(mi_fstype "$line")" ext4
    check "/ is mounted read-only" grep -qE '^[^ ]+ [^ ]+ [^ ]+ [^ ]+ / ro(,| )' <<<"$line"
    check_eq "no scratchroot state" "$(vm_lines "$LOG" SR-STATE)" missing
    check_write fail
    check_root_untouched "$uuid"
}
