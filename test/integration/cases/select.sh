# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: which disk the options select, and options that select none.

CASES+=(
    "c_malformed|fallback: rd.scratch.lun=abc touches no disk, does not wait"
    "c_nolun|fallback: rd.scratch without rd.scratch.lun"
    "c_two_blocks|fallback: one SCSI device with two block devices"
    "c_ambiguous|fallback: bare LUN on two hosts is ambiguous"
    "c_full_hctl|full H:C:T:L picks the disk on host 1"
    "c_disabled|rd.scratch=0 does nothing"
    "c_no_options|no rd.scratch options: nothing, silently"
    "c_nvme_serial|NVMe by its controller's blank-padded serial"
    "c_nvme_model|NVMe by a model glob; the other model stays untouched"
    "c_cloud_aws|cloud=auto on AWS: the instance store, never the EBS volume"
    "c_cloud_unknown|cloud=auto on an unknown platform: nothing, no wait"
    "c_cloud_absent|cloud=aws without instance store: nothing, no wait, the reason names aws"
    "c_set_refused|a set of two with one foreign member: refused whole, both untouched"
    "c_set_stripe|serial list of two blank disks: striped, or refused before a byte without device-mapper"
    "c_lun_list_missing|lun list with one absent: waited for, then nothing touched"
    "c_model_mismatch|lun with a model glob the disk does not match: refused, untouched"
    "c_nvme_root|a model glob matching the root's NVMe namespace: the set is refused, naming it"
    "c_instance_model|mount --model: an instance on the NVMe disk of that model; a --serial list of two is refused"
)

c_malformed() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=abc"
    use r || return
    expect_tmpfs_run hctl= device= format= -- "rd.scratch.lun" "abc"
    grep -q 'rd\.scratch\.lun.*abc' "$R/stderr" || fail "no stderr line names rd.scratch.lun and abc"
    grep -q '^<[0-7]>scratchroot: .*rd\.scratch\.lun.*abc' "$R/kmsg" || fail "no kmsg line names rd.scratch.lun and abc"
    expect_zero "$IMG"
    (($(cat "$R/ms") < 400)) || fail "took $(cat "$R/ms") ms"
    (($(st setup_ms) < 400)) || fail "setup_ms=$(st setup_ms)"
}

c_nolun() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch"
    use r || return
    expect_tmpfs_run hctl= device= -- "rd.scratch.lun"
    expect_zero "$IMG"
}

two_disks() {
    IMG=$(mkimg host0 64M) && IMG2=$(mkimg host1 64M) || return 1
    LOOP=$(attach "$IMG") && LOOP2=$(attach "$IMG2") || return 1
    DEVNO=$(devno_of "$LOOP")
    DEVNO2=$(devno_of "$LOOP2")
    scsi_disk 0:0:0:1 "$NAME1" "$LOOP"
    scsi_disk 1:0:0:1 "$NAME2" "$LOOP2"
}

# One SCSI device, two block devices: which one is meant is unclear.
c_two_blocks() {
    two_disks || return
    rm "$S/bus/scsi/devices/1:0:0:1"
    mv "$S/$(fakesys_devdir 1:0:0:1)/block/$NAME2" "$S/$(fakesys_devdir 0:0:0:1)/block/"
    in_ns ns_run r "rd.scratch.lun=0:0:0:1 rd.scratch.force=1"
    use r || return
    expect_tmpfs_run -- "0:0:0:1"
    expect_zero "$IMG"
    expect_zero "$IMG2"
}

c_ambiguous() {
    two_disks || return
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    expect_tmpfs_run hctl= -- "ambiguous" "0:0:0:1" "1:0:0:1"
    expect_zero "$IMG"
    expect_zero "$IMG2"
}

c_full_hctl() {
    two_disks || return
    in_ns ns_run r "rd.scratch.lun=1:0:0:1"
    use r || return
    expect_scratch_run format=blank hctl=1:0:0:1 "devno=$DEVNO2" "device=$RUN_DIR/dev/$NAME2"
    expect_zero "$IMG"
    expect_scratch_fs "$IMG2"
}

c_disabled() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch=0 rd.scratch.lun=1"
    use r || return
    expect_rc 0
    expect_no_state
    [[ ! -e $R/rundir ]] || fail "$RUN_DIR was created"
    expect_plain_root
    expect_log stderr "rd.scratch=0"
    expect_zero "$IMG"
}

c_no_options() {
    local tag
    one_disk blank 64M || return
    in_ns ns_run r "root=/dev/vda ro quiet rd.scratchy=1 scratch.lun=1"
    if grep -q 'rd\.scratch' /proc/cmdline; then
        echo "# /proc/cmdline has rd.scratch options: not run without --cmdline" >&2
    else
        in_ns ns_run p "@proc"
    fi
    for tag in r p; do
        [[ -d $C/$tag ]] || continue
        use "$tag" || continue
        expect_rc 0
        expect_no_state
        [[ ! -e $R/rundir ]] || fail "[$tag] $RUN_DIR was created"
        [[ ! -s $R/stderr && ! -s $R/kmsg ]] || fail "[$tag] output: $(head -c 300 "$R/stderr")"
        expect_plain_root
    done
    expect_zero "$IMG"
}

# nvme_disk NAME LOOP MODEL SERIAL: an NVMe namespace NAME (nvme<N>n1) on
# LOOP's number and attributes, in class/block, hanging off its controller,
# whose model and serial are blank-padded as the kernel shows them (40 and
# 20 bytes).
nvme_disk() {
    local name=$1 ctrl=${1%n1} dir devno
    dir=devices/pci0000:00/0000:00:1f.0/nvme/$ctrl
    devno=$(devno_of "$2") || return 1
    mkdir -p "$S/$dir" "$S/class/block" "$S/dev/block" || return 1
    printf '%-40s\n' "$3" >"$S/$dir/model"
    printf '%-20s\n' "$4" >"$S/$dir/serial"
    fakesys_block "$S/$dir/$name" "$2" || return 1
    ln -s .. "$S/$dir/$name/device"
    ln -s "../../$dir/$name" "$S/class/block/$name"
    [[ -e $S/dev/block/$devno ]] || ln -s "../../$dir/$name" "$S/dev/block/$devno"
}

# dmi VENDOR PRODUCT ASSET: the machine's DMI strings in the fake sysfs.
dmi() {
    mkdir -p "$S/class/dmi/id"
    echo "$1" >"$S/class/dmi/id/sys_vendor"
    echo "$2" >"$S/class/dmi/id/product_name"
    echo "$3" >"$S/class/dmi/id/chassis_asset_tag"
    echo "$1" >"$S/class/dmi/id/board_vendor"
    echo "$1" >"$S/class/dmi/id/bios_vendor"
}

# two_nvme MAKER2: two NVMe disks, nvme90n1 blank and nvme91n1 (made by
# MAKER2 when given). Sets IMG, LOOP, DEVNO, SHA0 and IMG2, LOOP2, DEVNO2,
# SHA2.
two_nvme() {
    IMG=$(mkimg n0 64M) && IMG2=$(mkimg n1 64M) || return 1
    if [[ -n ${1:-} ]] && ! "$1" "$IMG2"; then
        fail "cannot make the second image"
        return 1
    fi
    SHA0=$(sha "$IMG")
    SHA2=$(sha "$IMG2")
    LOOP=$(attach "$IMG") && LOOP2=$(attach "$IMG2") || return 1
    DEVNO=$(devno_of "$LOOP")
    DEVNO2=$(devno_of "$LOOP2")
}

c_nvme_serial() {
    two_nvme || return
    nvme_disk nvme90n1 "$LOOP" "QEMU NVMe Ctrl" sr-nvme-1 &&
        nvme_disk nvme91n1 "$LOOP2" "QEMU NVMe Ctrl" sr-nvme-2 || return
    in_ns ns_run r "rd.scratch.serial=sr-nvme-1"
    use r || return
    expect_scratch_run format=blank hctl= serial=sr-nvme-1 disks=nvme90n1 cloud= "devno=$DEVNO" \
        "device=$RUN_DIR/dev/nvme90n1"
    expect_scratch_fs "$IMG"
    expect_zero "$IMG2"
}

c_nvme_model() {
    two_nvme || return
    nvme_disk nvme90n1 "$LOOP" "Other Vendor SSD" sr-a &&
        nvme_disk nvme91n1 "$LOOP2" "QEMU NVMe Ctrl" sr-b || return
    in_ns ns_run r 'rd.scratch.model="QEMU NVMe*"'
    use r || return
    expect_scratch_run format=blank hctl= serial=sr-b disks=nvme91n1 "devno=$DEVNO2"
    expect_scratch_fs "$IMG2"
    expect_zero "$IMG"
}

c_cloud_aws() {
    two_nvme || return
    dmi "Amazon EC2" m5d.large "Amazon EC2"
    nvme_disk nvme90n1 "$LOOP" "Amazon Elastic Block Store" vol0123456789abcdef0 &&
        nvme_disk nvme91n1 "$LOOP2" "Amazon EC2 NVMe Instance Storage" AWS1234567890ABCDEF0 || return
    in_ns ns_run r "rd.scratch.cloud=auto"
    use r || return
    expect_scratch_run format=blank cloud=aws disks=nvme91n1 serial=AWS1234567890ABCDEF0 "devno=$DEVNO2"
    expect_scratch_fs "$IMG2"
    expect_zero "$IMG"
}

c_cloud_unknown() {
    two_nvme || return
    dmi QEMU "Standard PC (Q35 + ICH9, 2009)" ""
    nvme_disk nvme90n1 "$LOOP" "Amazon EC2 NVMe Instance Storage" AWS1 &&
        nvme_disk nvme91n1 "$LOOP2" "nvme_card" nvme_card || return
    in_ns ns_run r "rd.scratch.cloud=auto rd.scratch.timeout=5"
    use r || return
    expect_tmpfs_run cloud= disks= hctl= device= -- "rd.scratch.cloud=auto: not a platform with ephemeral disks" \
        "sys_vendor 'QEMU'"
    (($(st setup_ms) < 1000)) || fail "setup_ms=$(st setup_ms): waited"
    expect_zero "$IMG"
    expect_zero "$IMG2"
}

c_cloud_absent() {
    one_disk blank 64M || return
    dmi "Amazon EC2" t3.micro "Amazon EC2"
    in_ns ns_run r "rd.scratch.cloud=auto rd.scratch.timeout=5"
    use r || return
    expect_tmpfs_run cloud=aws disks= device= -- "no disk matches rd.scratch.cloud=auto: aws has none here"
    (($(st setup_ms) < 1000)) || fail "setup_ms=$(st setup_ms): waited"
    expect_zero "$IMG"
}

c_set_refused() {
    two_nvme make_ext4_data || return
    nvme_disk nvme90n1 "$LOOP" "Amazon EC2 NVMe Instance Storage" AWS1 &&
        nvme_disk nvme91n1 "$LOOP2" "Amazon EC2 NVMe Instance Storage" AWS2 || return
    in_ns ns_run r "rd.scratch.cloud=aws"
    use r || return
    expect_tmpfs_run disks=nvme90n1,nvme91n1 cloud=aws -- "refusing nvme91n1 (" \
        "the whole set of 2 disks (nvme90n1,nvme91n1) is refused, none is touched"
    expect_unchanged "$IMG" "$SHA0"
    expect_unchanged "$IMG2" "$SHA2"
}

# Striping needs libdevmapper in the helper and device-mapper in the host
# kernel: with both, the stripe carries the ext4; without, the proof has
# passed and the set falls back with the reason (the stripe's own cases are
# in stripe.sh).
c_set_stripe() {
    two_nvme || return
    nvme_disk nvme90n1 "$LOOP" "QEMU NVMe Ctrl" sr-s1 &&
        nvme_disk nvme91n1 "$LOOP2" "QEMU NVMe Ctrl" sr-s2 || return
    in_ns ns_run r "rd.scratch.serial=sr-s2,sr-s1"
    use r || return
    if [[ $(st backing) == scratch ]]; then
        (dmsetup remove scratchroot-stripe 2>/dev/null || :)
        expect_scratch_run disks=nvme91n1,nvme90n1 serial=sr-s2 "devno=$DEVNO2"
        expect_log stderr "2 disks selected: nvme91n1,nvme90n1"
    else
        expect_tmpfs_run disks=nvme91n1,nvme90n1 -- "stripe"
        expect_log stderr "2 disks selected: nvme91n1,nvme90n1"
        if [[ $(st reason) == *"built without libdevmapper"* ]]; then
            expect_zero "$IMG"
            expect_zero "$IMG2"
        fi
    fi
}

c_lun_list_missing() {
    one_disk blank 64M || return
    in_ns ns_run r "rd.scratch.lun=0:0:0:1,0:0:0:2 rd.scratch.timeout=0.3"
    use r || return
    expect_tmpfs_run disks= hctl= -- "no disk at rd.scratch.lun=0:0:0:2 (of 0:0:0:1,0:0:0:2) after 300 ms"
    (($(st setup_ms) >= 300)) || fail "setup_ms=$(st setup_ms): did not wait"
    expect_zero "$IMG"
}

c_model_mismatch() {
    one_disk blank 64M || return
    printf 'QEMU    \n' >"$S/$(fakesys_devdir 0:0:0:1)/vendor"
    printf 'QEMU HARDDISK   \n' >"$S/$(fakesys_devdir 0:0:0:1)/model"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.model=Virtual*"
    use r || return
    expect_tmpfs_run disks= -- "$NAME1 (0:0:0:1) has model 'QEMU HARDDISK', which rd.scratch.model='Virtual*' does not match"
    expect_zero "$IMG"
}

ns_inst_model() {
    local t=$C/target
    mkdir -p "$t"
    inst_helper model mount --sysfs "$S" --model "QEMU NVMe*" --name nm "$NEWROOT" "$t"
    inst_helper unmounted umount "$t"
    inst_helper set mount --sysfs "$S" --serial sr-i1,sr-i2 --timeout 0 --name ns "$NEWROOT" "$t"
}

c_instance_model() {
    two_nvme || return
    nvme_disk nvme90n1 "$LOOP" "Other Vendor SSD" sr-i1 &&
        nvme_disk nvme91n1 "$LOOP2" "QEMU NVMe Ctrl" sr-i2 || return
    in_ns ns_instance ns_inst_model
    inst_use model || return
    inst_rc 0
    inst_expect nm backing=scratch format=blank disks=nvme91n1 serial=sr-i2 "devno=$DEVNO2"
    inst_use unmounted || return
    inst_rc 0
    inst_use set || return
    inst_expect ns backing=tmpfs disks=nvme90n1,nvme91n1
    inst_reason ns "the options select 2 disks (nvme90n1,nvme91n1); an instance takes one"
    expect_zero "$IMG"
    expect_scratch_fs "$IMG2"
}

# The root's own device shown as an NVMe namespace of the model the glob
# takes, beside a blank one.
c_nvme_root() {
    one_disk blank 64M || return
    nvme_disk nvme90n1 "$ROOT_LOOP" "QEMU NVMe Ctrl" sr-root &&
        nvme_disk nvme91n1 "$LOOP" "QEMU NVMe Ctrl" sr-blank || return
    in_ns ns_run r 'rd.scratch.model="QEMU NVMe Ctrl"'
    use r || return
    expect_tmpfs_run disks=nvme90n1,nvme91n1 -- "refusing nvme90n1 (" "it holds the root filesystem" \
        "the whole set of 2 disks (nvme90n1,nvme91n1) is refused"
    expect_zero "$IMG"
}
