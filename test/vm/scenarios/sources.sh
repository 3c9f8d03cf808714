# shellcheck shell=bash
# shellcheck disable=SC2317,SC2034 # sc_* are called by name; boot() and vm_run read the VM_* and SR_* set here
# Scenarios: the option sources (fw_cfg, SMBIOS, the virtio port, the
# initrd's config file, their precedence, a malformed blob) and disk
# selection (serial numbers, two controllers, virtio-blk, PVSCSI). They
# exercise the helper, the paths only carry the modules and the config
# file, so two paths run them (test/vm/scenarios.list). Sourced by
# test/vm/scenario, whose helpers they use.

# kernel_cmdline_has_no_scratch: the kernel's command line (as it printed
# it) holds no rd.scratch option: what the helper did came from elsewhere.
# shellcheck disable=SC2317 # called through check
kernel_cmdline_has_no_scratch() {
    local line
    line=$(tr -d '\r' <"$LOG" | grep -m1 'Command line:' || true)
    [[ -n $line && $line != *rd.scratch* ]]
}

# hctl_hosts LUN: the SCSI hosts of the guest's disks on LUN (from SR-SCSI).
hctl_hosts() {
    vm_lines "$LOG" SR-SCSI | awk -v l="$1" '{split($1, a, ":"); if (a[4] == l) print a[1]}' | sort -n
}

# root_add_status: put the helper with its libraries into the run's root
# image, and an init (/sbin/sr-status, to boot with init=/sbin/sr-status)
# that prints "scratchroot status" as SR-STATUS lines and "status --json"
# as an SR-STATUS-JSON line before it runs the test init.
root_add_status() {
    local wrapper=$RUN/sr-status
    cat >"$wrapper" <<'EOS'
#!/bin/busybox sh
# What "scratchroot status" says in the booted system, then the test init.
PATH=/bin:/sbin:/usr/bin:/usr/sbin
echo 1 >/proc/sys/kernel/printk 2>/dev/null
out=$(/usr/sbin/scratchroot status 2>&1)
rc=$?
echo "$out" | while IFS= read -r line; do echo "SR-STATUS $line"; done
echo "SR-STATUS-RC $rc"
echo "SR-STATUS-JSON $(/usr/sbin/scratchroot status --json 2>&1)"
exec /sbin/init "$@"
EOS
    chmod 0755 "$wrapper"
    img_install "$RUN/root.img" "prog:$SR_HELPER=/usr/sbin/scratchroot" "$wrapper=/sbin/sr-status"
}

# note_status: show what "scratchroot status" said in the guest.
note_status() {
    local l
    while IFS= read -r l; do note "status: $l"; done < <(vm_lines "$LOG" SR-STATUS)
    note "status --json: $(vm_lines "$LOG" SR-STATUS-JSON | head -n 1)"
}

# check_status_says DESC REGEX: an SR-STATUS line matches REGEX (extended).
check_status_says() {
    local lines
    lines=$(vm_lines "$LOG" SR-STATUS)
    if grep -qE -- "$2" <<<"$lines"; then
        ok "scratchroot status says $1"
    else
        notok "scratchroot status says $1 (no line matches '$2')"
    fi
}

# check_status_json KEY JSONVALUE: "scratchroot status --json" has
# "KEY":JSONVALUE.
check_status_json() {
    local json
    json=$(vm_lines "$LOG" SR-STATUS-JSON | head -n 1)
    if [[ $json == *"\"$1\":$2"[,\}]* ]]; then
        ok "scratchroot status --json has \"$1\":$2"
    else
        notok "scratchroot status --json has \"$1\":$2 (got '$json')"
    fi
}

# boot_from SOURCE: the root on LUN 0, a blank disk on LUN 1, and no
# rd.scratch option on the kernel command line: what the caller set up
# (VM_EXTRA_ARGS, VM_VPORT_TEXT, SR_INITRD_CONFIG) carries
# rd.scratch.lun=1, and the helper must take it from SOURCE and use the
# disk.
boot_from() {
    local uuid
    root_add 0
    disk_add scratch 64G 1
    uuid=$(img_uuid "$RUN/root.img")
    boot module ""
    check "no rd.scratch option on the kernel command line" kernel_cmdline_has_no_scratch
    check_state source "$1"
    check_scratch_on "$RUN/scratch.img" 0:0:0:1
    check_root_untouched "$uuid"
}

sc_fwcfg() {
    VM_EXTRA_ARGS=(-fw_cfg "name=opt/org.scratchroot/options,string=rd.scratch.lun=1")
    boot_from fw_cfg
    check_eq "qemu_fw_cfg is loaded" "$(vm_lines "$LOG" "SR-MODULE qemu_fw_cfg")" yes
}

sc_smbios() {
    # Other OEM strings around ours are none of the helper's business.
    VM_EXTRA_ARGS=(-smbios "type=11,value=com.example.unrelated=rd.scratch.lun=7,value=org.scratchroot.options=rd.scratch.lun=1,value=another string")
    boot_from smbios
}

sc_vport() {
    VM_VPORT_TEXT=$'rd.scratch.lun=1\n'
    boot_from virtio-port
    check_eq "virtio_console is loaded" "$(vm_lines "$LOG" "SR-MODULE virtio_console")" yes
}

sc_precedence() {
    local uuid lun1
    root_add 0
    disk_add lun1 128M 1
    disk_add lun2 128M 2
    lun1=$(img_sha "$RUN/lun1.img")
    uuid=$(img_uuid "$RUN/root.img")
    VM_EXTRA_ARGS=(-fw_cfg "name=opt/org.scratchroot/options,string=rd.scratch.lun=1")
    boot module "rd.scratch.lun=2"
    check_state source cmdline
    check_scratch_on "$RUN/lun2.img" 0:0:0:2
    check_same "$RUN/lun1.img" "$lun1"
    check_root_untouched "$uuid"
}

sc_serial() {
    local uuid lun1
    root_add 0
    disk_add lun1 128M 1 serial=other-1
    disk_add lun5 64G 5 serial=scratch-42
    lun1=$(img_sha "$RUN/lun1.img")
    uuid=$(img_uuid "$RUN/root.img")
    root_add_status
    boot module "rd.scratch.serial=scratch-42 init=/sbin/sr-status"
    check_state source cmdline
    check_state serial scratch-42
    check_scratch_on "$RUN/lun5.img" 0:0:0:5
    check_same "$RUN/lun1.img" "$lun1"
    note_status
    check_eq "scratchroot status exited 0" "$(vm_lines "$LOG" SR-STATUS-RC | head -n 1)" 0
    check_status_says "backing scratch" '^backing: +scratch$'
    check_status_says "the disk at 0:0:0:5 with serial scratch-42" '^disk: +/[^ ]*/sd[a-z]+ \([0-9]+:[0-9]+, SCSI 0:0:0:5, serial scratch-42\)$'
    check_status_says "ext4 without journal" '^upper: +ext4 without journal, '
    check_status_says "the options came from the command line" '^options: +from cmdline$'
    check_status_json backing '"scratch"'
    check_status_json hctl '"0:0:0:5"'
    check_status_json serial '"scratch-42"'
    check_status_json source '"cmdline"'
    check_status_json volatile true
    check_root_untouched "$uuid"
}

sc_twocontrollers() {
    local uuid a b h h0 h1 hosts want first
    root_add 0
    disk_add a 128M 1
    disk_add b 128M 1 bus=1
    a=$(img_sha "$RUN/a.img")
    b=$(img_sha "$RUN/b.img")
    uuid=$(img_uuid "$RUN/root.img")
    # A bare LUN that is on both controllers. The tmpfs bound comes from
    # SMBIOS while the LUN comes from the command line: each option from the
    # strongest source that sets it.
    VM_EXTRA_ARGS=(-smbios "type=11,value=org.scratchroot.options=rd.scratch.tmpfs.size=77m")
    boot module "rd.scratch.lun=1"
    unset VM_EXTRA_ARGS
    first=$RUN/console-1.log
    cp "$LOG" "$first"
    hosts=$(hctl_hosts 1 | tr '\n' ' ')
    note "hosts with a disk on LUN 1: $hosts"
    check_eq "the guest sees a disk on LUN 1 on two hosts" "$(hctl_hosts 1 | wc -l)" 2
    check_state backing tmpfs
    check_state_mentions reason "ambiguity" 'ambiguous'
    for h in $(hctl_hosts 1); do
        check_state_mentions reason "the address $h:0:0:1" "(^|[^0-9])$h:0:0:1([^0-9]|\$)"
    done
    check_state tmpfs_size $((77 * 1024 * 1024))
    check_overlay_root tmpfs
    check_write ok
    check_same "$RUN/a.img" "$a"
    check_same "$RUN/b.img" "$b"
    check_root_untouched "$uuid"

    # The second controller's host is the one without the root's LUN 0.
    h0=$(hctl_hosts 0)
    h1=$(hctl_hosts 1 | grep -vx "$h0" || true)
    [[ $h0 =~ ^[0-9]+$ && $h1 =~ ^[0-9]+$ ]] ||
        fatal "tell the two controllers' hosts apart (LUN 0 on '$h0', LUN 1 on '$h1')"
    want=$h1:0:0:1
    note "second boot: the second controller's disk is $want"
    boot module "rd.scratch.lun=$want"
    check_eq "the first controller is host $h0 again" "$(hctl_hosts 0)" "$h0"
    check_state source cmdline
    check_scratch_on "$RUN/b.img" "$want"
    check_same "$RUN/a.img" "$a"
    check_root_untouched "$uuid"
}

sc_virtioblk() {
    local uuid lun1 dev
    root_add 0
    disk_add lun1 128M 1
    vm_disk "$RUN/vblk.img" 64G || fatal "make disk vblk"
    DISKS+=("$RUN/vblk.img:-:blk:serial=vblk-scratch")
    lun1=$(img_sha "$RUN/lun1.img")
    uuid=$(img_uuid "$RUN/root.img")
    root_add_status
    boot module "rd.scratch.serial=vblk-scratch init=/sbin/sr-status"
    check_state source cmdline
    check_state serial vblk-scratch
    dev=$(vm_state "$LOG" device)
    check "state device ($dev) is a virtio-blk disk (vdX)" grep -qE '^vd[a-z]+$' <<<"${dev##*/}"
    check_scratch_on "$RUN/vblk.img" ""
    check_same "$RUN/lun1.img" "$lun1"
    note_status
    check_status_says "the virtio-blk disk with its serial and no SCSI address" \
        '^disk: +/[^ ]*/vd[a-z]+ \([0-9]+:[0-9]+, serial vblk-scratch\)$'
    check_status_json hctl null
    check_status_json serial '"vblk-scratch"'
    check_root_untouched "$uuid"
}

sc_config() {
    # Comments must not count: were they read as options, the last
    # rd.scratch.lun would be 9 and no disk would be found.
    cat >"$RUN/scratchroot.conf" <<'EOF2'
# The image's scratchroot defaults (baked in by the VM test).
rd.scratch.lun=1   # the scratch disk; rd.scratch.lun=7 would be wrong

# rd.scratch.lun=9
EOF2
    SR_INITRD_CONFIG=$RUN/scratchroot.conf
    boot_from config
}

sc_badblob() {
    local uuid blank
    root_add 0
    disk_add blank 128M 1
    blank=$(img_sha "$RUN/blank.img")
    uuid=$(img_uuid "$RUN/root.img")
    printf 'rd.scratch.lun=1\001' >"$RUN/badblob.bin"
    VM_EXTRA_ARGS=(-fw_cfg "name=opt/org.scratchroot/options,file=$RUN/badblob.bin")
    boot module ""
    check "no rd.scratch option on the kernel command line" kernel_cmdline_has_no_scratch
    check_state backing tmpfs
    check_state_mentions reason "fw_cfg" 'fw_cfg'
    check_state source fw_cfg
    check_state_mentions reason "the bad byte's offset" 'offset 16'
    check "the helper said why on the console" helper_said scratchroot fw_cfg
    check_overlay_root tmpfs
    check_write ok
    check_same "$RUN/blank.img" "$blank"
    check "the blank disk on LUN 1 is still all zeros" img_zero "$RUN/blank.img"
    check_root_untouched "$uuid"
}

# The scratch disk on a VMware PVSCSI controller (vmw_pvscsi), the root on
# virtio-scsi. QEMU's PVSCSI has LUN 0 only, which the root's LUN shares, so
# the disk sits on target 1 and is named by its full address. Its host
# number depends on which driver registered its host first: the first boot
# takes the second host; should the guest have numbered them the other way,
# that address names no disk (nothing is written) and a second boot uses
# the address the guest showed.
sc_pvscsi() {
    local uuid h hpv want
    root_add 0
    disk_add scratch 64G 0 target=1:bus=1:ctrl=pvscsi
    uuid=$(img_uuid "$RUN/root.img")
    want=1:0:1:0
    boot module "rd.scratch.lun=$want"
    h=$(vm_lines "$LOG" SR-SCSI | awk '$1 ~ /^[0-9]+:0:0:0$/ {split($1, a, ":"); print a[1]}')
    hpv=$(vm_lines "$LOG" SR-SCSI | awk '$1 ~ /^[0-9]+:0:1:0$/ {split($1, a, ":"); print a[1]}')
    note "root disk on host ${h:-?}, PVSCSI disk on host ${hpv:-?}"
    [[ $hpv =~ ^[0-9]+$ ]] || fatal "the guest sees the disk on the PVSCSI controller (target 1, LUN 0)"
    check "the PVSCSI disk is on a host of its own" test "$hpv" != "${h:-none}"
    if [[ $hpv:0:1:0 != "$want" ]]; then
        check_state backing tmpfs
        check "the scratch image is still all zeros" img_zero "$RUN/scratch.img"
        want=$hpv:0:1:0
        note "second boot: the PVSCSI disk is $want"
        boot module "rd.scratch.lun=$want"
    fi
    check_state source cmdline
    check_scratch_on "$RUN/scratch.img" "$want"
    check_no_journal "$RUN/scratch.img"
    check_root_untouched "$uuid"
    note_allocated "$RUN/scratch.img"
}
