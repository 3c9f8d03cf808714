# shellcheck shell=bash
# shellcheck disable=SC2317,SC2034 # sc_* are called by name; vm_run reads the VM_* set here
# Scenarios: the disks clouds give for scratch, as QEMU can present them.
# NVMe disks (QEMU's controller, model "QEMU NVMe Ctrl", the serial ours),
# several disks striped into one, and Azure's SCSI resource disk (vendor
# Msft, product "Virtual Disk", LUN 1 of the first SCSI host) delivered as
# NTFS holding only the platform's warning file. Sourced by
# test/vm/scenario, whose helpers they use (and sources.sh's
# root_add_status, refuse.sh's check_refused).
#
#   nvmeserial     rd.scratch.serial= of an NVMe disk, another one beside it
#   nvmemodel      rd.scratch.model="QEMU NVMe*": the NVMe disk, not the SCSI one
#   nvmestripe     two NVMe disks by a serial list: one striped device whose
#                  size is theirs less the members' 1 MiB headers; 64 MiB
#                  written in the guest lands on both host images
#   stripeforeign  three NVMe disks, one with someone's ext4: the set refused,
#                  that member named, every image byte-identical
#   azure          rd.scratch.cloud=azure: the resource disk reformatted
#   azureauto      rd.scratch.cloud=auto under Microsoft's SMBIOS strings
#   azurefile      the resource disk with one more file: refused, untouched
#   autounknown    rd.scratch.cloud=auto on QEMU's own SMBIOS: nothing taken,
#                  and the helper takes no longer than with rd.scratch=1

# The helper's name for the set of striped members (STRIPE_NAME of
# src/stripe.h) and where each member's data starts (STRIPE_DATA_OFFSET).
CLOUD_STRIPE_NAME=scratchroot-stripe
CLOUD_STRIPE_OFFSET_MIB=1

# What cloud-init's ds-identify takes for Azure (its dmi_chassis_asset_tag
# rule), besides the system vendor and product.
CLOUD_AZURE_ASSET_TAG=7783-7084-3265-9085-8269-3286-77

# ---------------------------------------------------------------------------
# The guest's block devices (the "blocks" workload's SR-BLOCK lines:
# NAME|SECTORS|VENDOR|MODEL|SERIAL|DM-NAME|SLAVES)
# ---------------------------------------------------------------------------

# blk_names_by FIELD VALUE: the guest names of the devices whose FIELD
# (3 vendor, 4 model, 5 serial, 6 dm name) is VALUE.
blk_names_by() {
    vm_lines "$LOG" SR-BLOCK | awk -F'|' -v f="$1" -v v="$2" '$f == v {print $1}'
}

# blk_field NAME FIELD: one field of device NAME's line.
blk_field() {
    vm_lines "$LOG" SR-BLOCK | awk -F'|' -v n="$1" -v f="$2" '$1 == n {print $f; exit}'
}

note_blocks() {
    local l
    while IFS= read -r l; do note "block: $l"; done < <(vm_lines "$LOG" SR-BLOCK)
}

# check_nvme_seen SERIAL: the guest has exactly one NVMe namespace with
# SERIAL, of QEMU's model; sets NVME_NAME to its name (nvmeXn1).
check_nvme_seen() {
    local names
    names=$(blk_names_by 5 "$1" | tr '\n' ' ')
    names=${names% }
    NVME_NAME=$names
    if [[ $names =~ ^nvme[0-9]+n1$ ]]; then
        ok "the guest has /sys/block/$names, the NVMe namespace with serial $1"
        check_eq "$names has QEMU's NVMe model" "$(blk_field "$names" 4)" "QEMU NVMe Ctrl"
    else
        notok "the guest has one NVMe namespace with serial $1 (got '$names')"
        NVME_NAME=""
    fi
}

# check_device NAME: the state names /dev/NAME as the scratch disk.
check_device() {
    check_eq "state device is /dev/${1:-?}" "$(vm_state "$LOG" device)" "/dev/${1:-?}"
}

# check_untouched_blank IMG SHA: a blank disk the helper was not to take.
check_untouched_blank() {
    check_same "$1" "$2"
    check "${1##*/} is still all zeros" img_zero "$1"
}

# allocated_kib IMG: what the host holds of the sparse IMG.
allocated_kib() {
    du -k "$1" | cut -f1
}

# ---------------------------------------------------------------------------
# NVMe disks
# ---------------------------------------------------------------------------

sc_nvmeserial() {
    local uuid other
    root_add 0
    disk_add nva 64G - nvme:serial=sr-nvme-a
    disk_add nvb 256M - nvme:serial=sr-nvme-b
    other=$(img_sha "$RUN/nvb.img")
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.serial=sr-nvme-a sr.work=blocks"
    note_blocks
    check_nvme_seen sr-nvme-b
    check_nvme_seen sr-nvme-a
    check_state serial sr-nvme-a
    check_device "$NVME_NAME"
    check_scratch_on "$RUN/nva.img" ""
    check_no_journal "$RUN/nva.img"
    check_untouched_blank "$RUN/nvb.img" "$other"
    check_root_untouched "$uuid"
    note_allocated "$RUN/nva.img"
}

# The model glob with a blank in it, quoted as the kernel takes it. The
# SCSI disk beside it ("QEMU HARDDISK") does not match.
sc_nvmemodel() {
    local uuid scsi
    root_add 0
    disk_add lun1 256M 1
    disk_add nvm 64G - nvme:serial=sr-model-1
    scsi=$(img_sha "$RUN/lun1.img")
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.model=\"QEMU NVMe*\" sr.work=blocks"
    note_blocks
    check_nvme_seen sr-model-1
    check_eq "the SCSI disk on LUN 1 is not of that model" \
        "$(blk_field "$(vm_lines "$LOG" SR-SCSI | awk '$1 == "0:0:0:1" {print $2}')" 4)" "QEMU HARDDISK"
    check_device "$NVME_NAME"
    check_scratch_on "$RUN/nvm.img" ""
    check_untouched_blank "$RUN/lun1.img" "$scsi"
    check_root_untouched "$uuid"
}

# Two NVMe disks of 1025 MiB: 1024 MiB of data each after the member
# header's 1 MiB, a multiple of any chunk size, so the striped device is
# exactly 2048 MiB. The guest writes 64 MiB into / (the thin workload,
# kept), which the stripe spreads over both: each host image must hold a
# good share of it (metadata alone is a few MiB).
sc_nvmestripe() {
    local uuid a b dm want slaves st ka kb img
    root_add 0
    disk_add sta 1025M - nvme:serial=sr-stripe-a
    disk_add stb 1025M - nvme:serial=sr-stripe-b
    uuid=$(img_uuid "$RUN/root.img")
    root_add_status
    boot module "rd.scratch.serial=sr-stripe-a,sr-stripe-b init=/sbin/sr-status sr.work=blocks,thin sr.thin.mib=64 sr.thin.keep=1 sr.thin.pause=0"
    note_blocks
    note_status
    check_nvme_seen sr-stripe-a
    a=$NVME_NAME
    check_nvme_seen sr-stripe-b
    b=$NVME_NAME
    check_state backing scratch
    check_state_mentions disks "both members ($a, $b)" "(^|,)(/dev/)?$a(,|\$)"
    check_state_mentions disks "both members ($a, $b)" "(^|,)(/dev/)?$b(,|\$)"
    dm=$(blk_names_by 6 "$CLOUD_STRIPE_NAME")
    if [[ $dm =~ ^dm-[0-9]+$ ]]; then
        ok "the guest has the striped device $CLOUD_STRIPE_NAME ($dm)"
    else
        notok "the guest has the striped device $CLOUD_STRIPE_NAME (got '$dm')"
    fi
    slaves=$(blk_field "$dm" 7 | tr ' ' '\n' | sort | tr '\n' ' ')
    check_eq "$CLOUD_STRIPE_NAME is made of the two NVMe disks" "$slaves" "$(printf '%s\n' "$a" "$b" | sort | tr '\n' ' ')"
    want=$((2 * (1025 - CLOUD_STRIPE_OFFSET_MIB) * 2048))
    check_eq "its size is the members' less their ${CLOUD_STRIPE_OFFSET_MIB} MiB headers ($want sectors)" \
        "$(blk_field "$dm" 2)" "$want"
    check_overlay_root ext4
    check_upper_mount_opt noinit_itable
    check_write ok
    st=$(vm_lines "$LOG" SR-THIN | grep '^phase=written' || true)
    note "thin: ${st:-nothing written}"
    check "the guest wrote 64 MiB into / (SR-THIN phase=written)" test -n "$st"
    ka=$(allocated_kib "$RUN/sta.img")
    kb=$(allocated_kib "$RUN/stb.img")
    note "allocated on the host: sta.img $ka KiB, stb.img $kb KiB"
    check "sta.img holds at least 24 MiB of the 64 written ($ka KiB)" test "$ka" -ge $((24 * 1024))
    check "stb.img holds at least 24 MiB of the 64 written ($kb KiB)" test "$kb" -ge $((24 * 1024))
    check "together they hold the 64 MiB ($((ka + kb)) KiB)" test $((ka + kb)) -ge $((64 * 1024))
    for img in sta stb; do
        check_eq "$img.img: blkid finds no signature on a member (its header is ours)" \
            "$(blkid -p -o export "$RUN/$img.img" 2>/dev/null | grep -E '^(TYPE|PTTYPE)=' || true)" ""
    done
    check_eq "scratchroot status exited 0" "$(vm_lines "$LOG" SR-STATUS-RC | head -n 1)" 0
    check_status_says "backing scratch" '^backing: +scratch$'
    check_status_says "the member $a" "(^|[^a-z0-9])$a([^0-9]|\$)"
    check_status_says "the member $b" "(^|[^a-z0-9])$b([^0-9]|\$)"
    check_root_untouched "$uuid"
}

# Three NVMe disks by serial, the third with an ext4 labelled "data": the
# whole set is refused and the reason names that member; nothing is written
# to any of them (no member header either).
sc_stripeforeign() {
    local uuid c i reason
    local -A before=()
    root_add 0
    disk_add sfa 256M - nvme:serial=sr-sf-a
    disk_add sfb 256M - nvme:serial=sr-sf-b
    vm_disk "$RUN/sfc.img" 256M || fatal "make disk sfc"
    mkfs.ext4 -q -F -L data "$RUN/sfc.img" >/dev/null 2>&1 || fatal "mkfs.ext4 the third member"
    DISKS+=("$RUN/sfc.img:-:nvme:serial=sr-sf-c")
    for i in sfa sfb sfc; do before[$i]=$(img_sha "$RUN/$i.img"); done
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.serial=sr-sf-a,sr-sf-b,sr-sf-c sr.work=blocks"
    note_blocks
    check_nvme_seen sr-sf-c
    c=$NVME_NAME
    reason=$(vm_state "$LOG" reason)
    note "reason=$reason"
    check_state backing tmpfs
    check_state format ""
    # The refusal is that member's (its own reason first), for the set.
    check_state_mentions reason "the refusal of the member $c" "^refusing $c \\("
    check_state_mentions reason "its ext4 labelled data" "ext4 labelled 'data'"
    check_state_mentions reason "the whole set of three refused" "whole set of 3 disks"
    if [[ -n $reason ]]; then
        check "the helper's console line gives the reason and the fallback" \
            helper_said "scratchroot:" "$reason, falling back to tmpfs"
    else
        notok "the helper's console line gives the reason and the fallback (no reason)"
    fi
    check_eq "no striped device was made" "$(blk_names_by 6 "$CLOUD_STRIPE_NAME")" ""
    check_overlay_root tmpfs
    check_write ok
    for i in sfa sfb sfc; do check_same "$RUN/$i.img" "${before[$i]}"; done
    check "sfa.img is still all zeros" img_zero "$RUN/sfa.img"
    check "sfb.img is still all zeros" img_zero "$RUN/sfb.img"
    check_root_untouched "$uuid"
}

# ---------------------------------------------------------------------------
# Azure's SCSI resource disk
# ---------------------------------------------------------------------------

# The warning file Azure puts on the resource disk's NTFS.
azure_warning_text() {
    cat <<'EOF'
WARNING: THIS IS A TEMPORARY DISK.

Any data stored on this drive is SUBJECT TO LOSS and THERE IS NO WAY TO RECOVER IT.

Please do not use this disk for storing any personal or application data.
EOF
}

# _azure_disk_build OUT EXTRA: a 1 GiB sparse disk as Azure delivers its
# resource disk: a DOS partition table with one NTFS partition (type 7)
# from 1 MiB to the end, labelled "Temporary Storage", whose root holds
# DATALOSS_WARNING_README.txt and, when EXTRA is not empty, a file of that
# name too. Made on a loop device over the partition's bytes; ntfsls
# checks the result.
_azure_disk_build() {
    local out=$1 extra=$2 size=$((1024 * 1024 * 1024)) start=$((2048 * 512)) loop list want
    local tmp=$out.d
    mkdir -p "$tmp" || return 1
    truncate -s "$size" "$out" || return 1
    printf 'label: dos\nstart=2048, type=7\n' | sfdisk -q "$out" >"$tmp/sfdisk.log" 2>&1 ||
        { vm_die "sfdisk failed: $(cat "$tmp/sfdisk.log")"; return 1; }
    azure_warning_text | sed 's/$/\r/' >"$tmp/warning.txt"
    echo "precious data someone kept on the temporary disk" >"$tmp/extra.txt"
    loop=$(losetup -f --show -o "$start" --sizelimit $((size - start)) "$out") ||
        { vm_die "losetup of $out failed"; return 1; }
    if ! mkntfs -Q -F -q -L "Temporary Storage" -p 2048 -H 255 -S 63 "$loop" >"$tmp/mkntfs.log" 2>&1 ||
        ! ntfscp -f "$loop" "$tmp/warning.txt" DATALOSS_WARNING_README.txt >"$tmp/ntfscp.log" 2>&1 ||
        { [[ -n $extra ]] && ! ntfscp -f "$loop" "$tmp/extra.txt" "$extra" >>"$tmp/ntfscp.log" 2>&1; } ||
        ! list=$(ntfsls -f "$loop" 2>"$tmp/ntfsls.log") ||
        ! ntfslabel -f "$loop" >"$tmp/label" 2>&1; then
        losetup -d "$loop"
        vm_die "cannot make the NTFS of $out: $(cat "$tmp"/*.log 2>/dev/null | tail -n 5)"
        return 1
    fi
    losetup -d "$loop" || return 1
    want=$(printf '%s\n' DATALOSS_WARNING_README.txt ${extra:+"$extra"} | LC_ALL=C sort)
    [[ $(LC_ALL=C sort <<<"$list") == "$want" ]] ||
        { vm_die "the NTFS of $out lists '$list', not '$want'"; return 1; }
    grep -qx 'Temporary Storage' "$tmp/label" ||
        { vm_die "the NTFS of $out is labelled '$(cat "$tmp/label")'"; return 1; }
    [[ $(blkid -p -o value -s PTTYPE "$out") == dos ]] ||
        { vm_die "$out has no DOS partition table"; return 1; }
    rm -rf "$tmp"
}

# azure_disk OUT [EXTRA]: a copy of the cached resource disk (built once,
# under a lock, keyed by its recipe).
azure_disk() {
    local out=$1 extra=${2:-} key img lockfd
    key=$({
        declare -f _azure_disk_build azure_warning_text
        echo "extra:$extra"
    } | _vm_sha)
    img=$SR_CACHE/azure/resource-$key.img
    if [[ ! -f $img ]]; then
        _vm_lock azure-disk || return 1
        # shellcheck disable=SC2154 # set by _vm_lock (lib.sh)
        lockfd=$_vm_lockfd
        if [[ ! -f $img ]]; then
            mkdir -p "$SR_CACHE/azure" || { exec {lockfd}>&-; return 1; }
            rm -f "$img.tmp"
            if ! _azure_disk_build "$img.tmp" "$extra"; then
                rm -rf "$img.tmp" "$img.tmp.d"
                exec {lockfd}>&-
                return 1
            fi
            mv "$img.tmp" "$img"
        fi
        exec {lockfd}>&-
    fi
    touch "$img"
    cp --sparse=always "$img" "$out"
}

# azure_add [EXTRA]: the root on LUN 0 and the resource disk at LUN 1 of
# the same (first) SCSI host, with Azure's vendor and product.
azure_add() {
    root_add 0
    azure_disk "$RUN/resource.img" "${1:-}" || fatal "make the Azure-like resource disk (sfdisk, mkntfs, ntfscp on a loop device)"
    DISKS+=("$RUN/resource.img:1:vendor=Msft:product=Virtual Disk")
    note "resource.img before the boot: $(blkid -p -o export "$RUN/resource.img" 2>/dev/null | tr '\n' ' ')"
}

# check_azure_disk_seen: the guest saw the disk at 0:0:0:1 as Msft's
# "Virtual Disk".
check_azure_disk_seen() {
    local dev
    dev=$(vm_lines "$LOG" SR-SCSI | awk '$1 == "0:0:0:1" {print $2}')
    check_eq "the disk at 0:0:0:1 has vendor Msft" "$(blk_field "${dev:-none}" 3)" Msft
    check_eq "the disk at 0:0:0:1 has model Virtual Disk" "$(blk_field "${dev:-none}" 4)" "Virtual Disk"
}

# check_azure_reformatted: the resource disk became scratchroot's ext4 on
# the whole disk, its partition table gone.
check_azure_reformatted() {
    local probe
    check_state cloud azure
    check_state format platform
    check_scratch_on "$RUN/resource.img" 0:0:0:1
    check_no_journal "$RUN/resource.img"
    probe=$(blkid -p -o export "$RUN/resource.img" 2>/dev/null | tr '\n' ' ')
    note "resource.img after the boot: $probe"
    check "blkid sees no partition table on the disk any more" test "${probe/PTTYPE=/}" == "$probe"
    check_eq "blkid sees scratchroot's ext4 on the whole disk" \
        "$(blkid -p -o value -s TYPE "$RUN/resource.img")" ext4
}

sc_azure() {
    local uuid
    azure_add
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.cloud=azure sr.work=blocks"
    note_blocks
    check_azure_disk_seen
    check_azure_reformatted
    check_root_untouched "$uuid"
}

sc_azureauto() {
    local uuid
    azure_add
    uuid=$(img_uuid "$RUN/root.img")
    VM_SMBIOS=("1:manufacturer=Microsoft Corporation" "1:product=Virtual Machine" "3:asset=$CLOUD_AZURE_ASSET_TAG")
    boot module "rd.scratch.cloud=auto sr.work=blocks"
    unset VM_SMBIOS
    note_blocks
    check_eq "the guest sees Microsoft's SMBIOS strings" "$(vm_lines "$LOG" SR-DMI | head -n 1)" \
        "sys_vendor=Microsoft Corporation|product_name=Virtual Machine|chassis_asset_tag=$CLOUD_AZURE_ASSET_TAG"
    check_azure_disk_seen
    check_azure_reformatted
    check_root_untouched "$uuid"
}

sc_azurefile() {
    local uuid before
    azure_add important.txt
    uuid=$(img_uuid "$RUN/root.img")
    before=$(img_sha "$RUN/resource.img")
    boot module "rd.scratch.cloud=azure sr.work=blocks"
    note_blocks
    check_azure_disk_seen
    check_state cloud azure
    check_refused "$RUN/resource.img" "$before" 0:0:0:1 "the file other than the warning" \
        "not Azure's resource disk as delivered: .*'important\\.txt'"
    check_root_untouched "$uuid"
}

# ---------------------------------------------------------------------------
# rd.scratch.cloud=auto where no cloud is recognised
# ---------------------------------------------------------------------------

# Two boots with the same disks (a blank SCSI disk at LUN 1 and a blank
# NVMe disk, which no cloud rule takes): rd.scratch=1, which asks for the
# overlay without a disk, then rd.scratch.cloud=auto. The second must take
# no disk, record no platform, and cost no wait. Both have
# rd.scratch.timeout=5, so that a wait for disks would cost 5 s, far above
# the noise of a busy host: the second boot's setup_ms must stay within
# CLOUD_AUTO_MARGIN_MS of the first's.
CLOUD_AUTO_TIMEOUT=5
CLOUD_AUTO_MARGIN_MS=1000

sc_autounknown() {
    local uuid s1 s2 lun nv reason
    root_add 0
    disk_add lun1 256M 1
    disk_add nv 256M - nvme:serial=sr-auto-1
    lun=$(img_sha "$RUN/lun1.img")
    nv=$(img_sha "$RUN/nv.img")
    uuid=$(img_uuid "$RUN/root.img")

    note "first boot: rd.scratch=1 (the overlay, no disk asked for), rd.scratch.timeout=$CLOUD_AUTO_TIMEOUT"
    boot module "rd.scratch=1 rd.scratch.timeout=$CLOUD_AUTO_TIMEOUT"
    s1=$(vm_state "$LOG" setup_ms)
    check_state backing tmpfs
    check "the first boot's state has setup_ms ($s1)" grep -qE '^[0-9]+$' <<<"$s1"
    cp "$LOG" "$RUN/console-1.log"

    note "second boot: rd.scratch.cloud=auto on QEMU's own SMBIOS strings, rd.scratch.timeout=$CLOUD_AUTO_TIMEOUT"
    boot module "rd.scratch.cloud=auto rd.scratch.timeout=$CLOUD_AUTO_TIMEOUT sr.work=blocks"
    note_blocks
    s2=$(vm_state "$LOG" setup_ms)
    reason=$(vm_state "$LOG" reason)
    note "reason=$reason"
    check "the second boot's state has setup_ms ($s2)" grep -qE '^[0-9]+$' <<<"$s2"
    check_state backing tmpfs
    check_state cloud ""
    check_state_mentions reason "that auto found no platform" '^rd\.scratch\.cloud=auto: '
    check_state device ""
    check_state format ""
    check_nvme_seen sr-auto-1
    note "the guest's SMBIOS: $(vm_lines "$LOG" SR-DMI | head -n 1)"
    check "the SMBIOS system vendor is QEMU's, not a cloud's" grep -q '^sys_vendor=QEMU|' <<<"$(vm_lines "$LOG" SR-DMI)"
    check_untouched_blank "$RUN/lun1.img" "$lun"
    check_untouched_blank "$RUN/nv.img" "$nv"
    if [[ $s1 =~ ^[0-9]+$ && $s2 =~ ^[0-9]+$ ]]; then
        check "rd.scratch.cloud=auto added no wait (setup_ms $s2 against $s1, margin ${CLOUD_AUTO_MARGIN_MS} ms, a wait would be ${CLOUD_AUTO_TIMEOUT} s)" \
            test "$s2" -le $((s1 + CLOUD_AUTO_MARGIN_MS))
    else
        notok "rd.scratch.cloud=auto added no wait (setup_ms '$s2' against '$s1')"
    fi
    check_overlay_root tmpfs
    check_write ok
    check_root_untouched "$uuid"
}
