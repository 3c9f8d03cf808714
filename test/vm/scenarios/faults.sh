# shellcheck shell=bash
# shellcheck disable=SC2317 # the sc_* functions are called by name
# Faults injected into real boots: a scratch disk that comes late or too
# late (hot-plugged through QMP), mke2fs missing or failing, an ext4 mount
# that fails, no overlay module, a scratch disk that fills up, and the
# fallbacks "fail" and "none". Sourced by test/vm/scenario, whose functions
# (boot, check_*, note, fatal ...) these use.
#
# The faults of the initrd's contents (mke2fs, overlay.ko) are made by
# appending a second archive to the standalone path's initrd, so those run
# on that path only.

# A console line the kernel prints when it has mounted the root (ext4 on a
# SCSI disk): from then on the helper runs, or is about to.
FAULT_ROOT_MOUNTED='EXT4-fs \(sd[a-z]+\): mounted filesystem'

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------

FAULT_TREE=""

# fault_initrd_tree: a directory whose files replace the initrd's (the
# standalone path's), laid out as in the initrd. Prints its path.
fault_initrd_tree() {
    [[ $PATH_NAME == standalone ]] ||
        fatal "this fault replaces files of the standalone initrd: run it on the standalone path"
    FAULT_TREE=$RUN/initrd-fault
    mkdir -p "$FAULT_TREE"
}

# The path's initrd with FAULT_TREE appended: boot() builds it through
# path_initrd.
eval "$(declare -f path_initrd | sed '1s/^path_initrd/fault_base_path_initrd/')"
path_initrd() {
    if [[ -z $FAULT_TREE ]]; then
        fault_base_path_initrd "$1"
        return
    fi
    fault_base_path_initrd "$1.base" || return 1
    vm_initrd_append "$1.base" "$FAULT_TREE" "$1" || return 1
    rm -f "$1.base"
    note "initrd with these files replaced: $(cd "$FAULT_TREE" && find . ! -type d | sed 's|^\./||' | tr '\n' ' ')"
}

# The mke2fs the helper runs (an absolute path, from its --help).
fault_mke2fs_path() {
    "$SR_HELPER" --help 2>/dev/null | sed -n 's|.*--mke2fs PATH.*(default \(/[^)]*\)).*|\1|p' | head -n 1
}

# fault_mke2fs_stub EXIT: the initrd's mke2fs becomes a script that writes
# nothing and exits with EXIT.
fault_mke2fs_stub() {
    local m
    m=$(fault_mke2fs_path)
    [[ $m == /* ]] || fatal "tell the helper's mke2fs path from $SR_HELPER --help"
    fault_initrd_tree
    mkdir -p "$FAULT_TREE/${m%/*}"
    printf '#!/bin/sh\necho "mke2fs stub: doing nothing, exit %s" >&2\nexit %s\n' "$1" "$1" >"$FAULT_TREE$m"
    chmod 0755 "$FAULT_TREE$m"
}

# hotplug_start REGEX NTH DELAY NAME SIZE LUN: a blank disk RUN/NAME.img
# that QEMU gets on LUN, DELAY seconds after the NTH console line that
# matches REGEX. Call before boot; hotplug_finish after it.
hotplug_start() {
    local regex=$1 nth=$2 delay=$3 name=$4 size=$5 lun=$6
    local -a cmds
    vm_disk "$RUN/$name.img" "$size" || fatal "make disk $name"
    vm_qmp_open "$RUN/qmp" || fatal "make the QMP FIFOs"
    # shellcheck disable=SC2034 # read by vm_run
    VM_EXTRA_ARGS=("${VM_QMP_ARGS[@]}")
    mapfile -t cmds < <(vm_qmp_hotplug_cmds "$name" "$RUN/$name.img" "$lun")
    ((${#cmds[@]} == 2)) || fatal "make the QMP commands"
    vm_hotplug_when "$RUN/console.log" "$regex" "$nth" "$delay" "$RUN/qmp" "$RUN/hotplug.log" "${cmds[@]}"
    # Whatever ends this run ends the driver too.
    trap 'kill "$VM_HOTPLUG_PID" 2>/dev/null || true' EXIT
    note "hot-plug of ${name}.img on LUN $lun: ${delay} s after console line $nth that matches '$regex'"
}

hotplug_finish() {
    local l
    unset VM_EXTRA_ARGS
    kill "$VM_HOTPLUG_PID" 2>/dev/null || true
    wait "$VM_HOTPLUG_PID" 2>/dev/null || true
    trap - EXIT
    while IFS= read -r l; do note "hot-plug: $l"; done <"$RUN/hotplug.log"
    check "QEMU took the hot-plugged disk (two QMP returns, no error)" \
        hotplug_ok "$RUN/hotplug.log"
}

hotplug_ok() {
    grep -q '^done ' "$1" && ! grep -q '"error"' "$1"
}

# hotplug_sent_at: seconds after QEMU's start at which the disk was added.
hotplug_sent_at() {
    sed -n 's/^sent //p' "$RUN/hotplug.log"
}

# no_mount_of DEVNO: no guest mount (SR-MNTINFO) is of the device DEVNO
# (major:minor).
no_mount_of() {
    local l
    l=$(vm_lines "$LOG" SR-MNTINFO | awk -v d="$1" '$3 == d')
    [[ -z $l ]] || { note "mounted from $1: $l"; return 1; }
}

# no_mount_under DIR: no guest mount point at or under DIR.
no_mount_under() {
    local l
    l=$(vm_lines "$LOG" SR-MNTINFO | awk -v d="$1" '$5 == d || index($5, d "/") == 1')
    [[ -z $l ]] || { note "mounted under $1: $l"; return 1; }
}

# check_no_disk_mount: nothing is mounted from the scratch disk the state
# names (devno=).
check_no_disk_mount() {
    local devno
    devno=$(vm_state "$LOG" devno)
    if [[ $devno =~ ^[0-9]+:[0-9]+$ ]]; then
        check "nothing is mounted from the scratch disk ($devno)" no_mount_of "$devno"
    else
        notok "the state names the scratch disk's devno (got '$devno')"
    fi
}

# console_has_none REGEX: no console line matches REGEX (extended, any case).
console_has_none() {
    local l
    l=$(tr -d '\r' <"$LOG" | grep -v 'Command line' | grep -iE -- "$1") || return 0
    while IFS= read -r line; do note "console: $line"; done <<<"$l"
    return 1
}

# console_said WORD...: a console line, other than the kernel's echo of its
# command line ("Command line: ..."), holds every WORD. Unlike helper_said it
# keeps lines that mention "command line" in their text.
console_said() {
    local w lines
    lines=$(tr -d '\r' <"$LOG" | grep -vE 'Command line: |^SR-(MNTINFO|MOUNT) ') || return 1
    for w in "$@"; do
        lines=$(grep -F -- "$w" <<<"$lines") || return 1
    done
    note "console said: $(head -n 1 <<<"$lines")"
}

not_has() {
    ! vm_has "$LOG" "$1"
}

# check_root_ro_untouched UUID: / is the root as the initrd mounted it
# (ext4, read-only), the guest could not write, the image is unchanged.
check_root_ro_untouched() {
    local line
    line=$(root_line)
    note "root mount: $line"
    check_eq "/ is the ext4 root, no overlay" "$(mi_fstype "$line")" ext4
    check "/ is mounted read-only" grep -qE '^[^ ]+ [^ ]+ [^ ]+ [^ ]+ / ro(,| )' <<<"$line"
    check_write fail
    check_root_untouched "$1"
}

# boot_stops CMDLINE: boot a setup that must stop the boot: the guest's
# init never runs and the VM ends by itself within the time limit.
boot_stops() {
    local cmdline=$1 l trouble
    vm_kernel || fatal "get the guest kernel"
    path_initrd "$RUN/initrd.img" || fatal "build the $PATH_NAME initrd with the scratchroot module"
    MARKER=sr-$(date +%s)-$$-$RANDOM
    LOG=$RUN/console.log
    cmdline="$(path_cmdline) sr.marker=$MARKER $cmdline"
    note "kernel command line extra: $cmdline"
    note "disks: ${DISKS[*]##*/}"
    INITRD=$RUN/initrd.img vm_run "$LOG" "$cmdline" "${DISKS[@]}" || fatal "start the VM"
    note "boot: ${VM_SECONDS} s wall, QEMU status $VM_STATUS"
    check "the VM ended by itself within ${SR_VM_TIMEOUT} s (QEMU status $VM_STATUS)" \
        test "$VM_STATUS" != 124 -a "$VM_STATUS" != 137
    check_eq "QEMU exited normally" "$VM_STATUS" 0
    check "the guest's init never ran (no SR-UPTIME)" not_has SR-UPTIME
    # The trace the kernel prints when init exits and it panics on purpose
    # (dracut's shell init does, with rd.shell=0) is the stop, not a fault.
    trouble=$(tr -d '\r' <"$LOG" | awk '/Kernel panic - not syncing: Attempted to kill init!/ {p = 1}
        /BUG:|Oops:|WARNING:/ || (!p && /Call Trace:/)')
    check_eq "no kernel oops, BUG or WARNING on the console" "$trouble" ""
    while IFS= read -r l; do note "console: $l"; done < <(tr -d '\r' <"$LOG" |
        grep -v 'Command line' | grep -E 'scratchroot|Kernel panic|dracut Warning|FATAL|emergency|reboot|Power down' || true)
}

# ---------------------------------------------------------------------------
# The disk comes late, or too late
# ---------------------------------------------------------------------------

# The disk is hot-plugged a few seconds after the root is mounted, while
# the helper waits for it (rd.scratch.timeout=60). dracut mounts the root,
# unmounts it for fsck and mounts it again, then runs the helper (pre-pivot):
# there the second mount counts, and the delay is longer. That the helper
# was waiting when the disk came is told from the guest's clock: the
# kernel's line for the new disk against the helper's start (its last
# line's time less setup_ms).
sc_late() {
    local uuid setup sent nth=1 delay=2 t_add t_end
    # dracut's shell initrd mounts the root once (scratchroot's cmdline hook
    # skips its fsck, which would mount it again), then runs its pre-pivot
    # hooks a few seconds later.
    [[ $PATH_NAME != dracut ]] || delay=4
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    hotplug_start "$FAULT_ROOT_MOUNTED" "$nth" "$delay" late 64G 1
    boot module "rd.scratch.lun=1 rd.scratch.timeout=60"
    hotplug_finish
    sent=$(hotplug_sent_at)
    setup=$(vm_state "$LOG" setup_ms)
    t_add=$(tr -d '\r' <"$LOG" | sed -n 's/^\[ *\([0-9.]*\)\] scsi [0-9]*:0:0:1: Direct-Access.*/\1/p' | head -n 1)
    t_end=$(vm_lines "$LOG" SR-DMESG | sed -n 's/^\[ *\([0-9.]*\)\] scratchroot: root overlay on .*/\1/p' | head -n 1)
    if [[ -z $t_end ]]; then
        # The kernel drops lines of a chatty writer to /dev/kmsg: then the
        # scratch filesystem's mount, a little before the end (which makes
        # the helper's start look a little earlier than it was).
        t_end=$(tr -d '\r' <"$LOG" |
            sed -n 's/^\[ *\([0-9.]*\)\] EXT4-fs (sd[a-z]*): mounted filesystem without journal.*/\1/p' | tail -n 1)
        note "no 'root overlay on' line from the helper: its end taken from the scratch mount at ${t_end:-?} s"
    fi
    note "disk added ${sent:-?} s after the start; in the guest: disk at ${t_add:-?} s, helper done at ${t_end:-?} s after ${setup:-?} ms"
    check "the disk came while the helper waited (helper from $t_end - $setup ms, disk at $t_add s uptime)" \
        awk -v a="${t_add:-x}" -v e="${t_end:-x}" -v s="${setup:-x}" \
        'BEGIN {exit !(a ~ /^[0-9.]+$/ && e ~ /^[0-9.]+$/ && s ~ /^[0-9]+$/ && e - s / 1000 < a && a < e)}'
    check "the helper did not wait the whole timeout (setup_ms=$setup < 60000)" test "${setup:-60000}" -lt 60000
    check_scratch_on "$RUN/late.img" 0:0:0:1
    check_root_untouched "$uuid"
}

# The disk is hot-plugged once the helper has given up on it
# (rd.scratch.timeout=1): it must stay untouched, and the guest sees it.
sc_toolate() {
    local uuid seen
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    hotplug_start 'scratchroot: .*falling back to tmpfs' 1 0 late 64G 1
    boot module "rd.scratch.lun=1 rd.scratch.timeout=1 sr.work=waitdisk"
    hotplug_finish
    seen=$(vm_lines "$LOG" SR-WAITDISK | head -n 1)
    note "the guest saw: ${seen:-nothing}"
    check "the guest saw the hot-plugged disk on LUN 1 ($seen)" grep -qE '^[0-9]+:0:0:1 sd[a-z]+ ' <<<"$seen"
    check_state backing tmpfs
    check_state_mentions reason "the LUN and the timeout" 'rd\.scratch\.lun=1 after 1000 ms'
    check "the helper said it fell back on the console" helper_said scratchroot 'rd.scratch.lun=1' 'falling back to tmpfs'
    check_overlay_root tmpfs
    check_write ok
    check "the late disk is still all zeros" img_zero "$RUN/late.img"
    check_root_untouched "$uuid"
}

# ---------------------------------------------------------------------------
# mke2fs and the ext4 mount
# ---------------------------------------------------------------------------

# check_fell_back_untouched UUID REGEX: tmpfs fallback whose reason matches
# REGEX, said on the console, the blank disk still all zeros and not
# mounted.
check_fell_back_untouched() {
    check_state backing tmpfs
    check_state_mentions reason "why" "$2"
    check "the helper said why on the console" helper_said scratchroot 'falling back to tmpfs'
    check_overlay_root tmpfs
    check_write ok
    check_no_disk_mount
    check "no mount under /run/scratchroot is ext4" test "$(fstype_of /run/scratchroot/scratch)" = tmpfs
    check "the scratch disk is still all zeros" img_zero "$RUN/scratch.img"
    check_root_untouched "$1"
}

sc_nomke2fs() {
    local uuid m
    root_add 0
    disk_add scratch 64G 1
    uuid=$(img_uuid "$RUN/root.img")
    m=$(fault_mke2fs_path)
    fault_initrd_tree
    mkdir -p "$FAULT_TREE/${m%/*}"
    ln -s "${m##*/}.missing" "$FAULT_TREE$m"
    boot module "rd.scratch.lun=1"
    check_fell_back_untouched "$uuid" "cannot run ${m//./\\.}: No such file"
}

sc_mke2fsfails() {
    local uuid m
    root_add 0
    disk_add scratch 64G 1
    uuid=$(img_uuid "$RUN/root.img")
    m=$(fault_mke2fs_path)
    fault_mke2fs_stub 1
    boot module "rd.scratch.lun=1"
    check "the stub ran (its message is on the console)" helper_said 'mke2fs stub: doing nothing, exit 1'
    check_fell_back_untouched "$uuid" "${m//./\\.} failed on sd[a-z]+ \(0:0:0:1\) with status 1"
}

# mke2fs "succeeds" without writing: the ext4 mount of the blank disk fails.
sc_ext4mount() {
    local uuid
    root_add 0
    disk_add scratch 64G 1
    uuid=$(img_uuid "$RUN/root.img")
    fault_mke2fs_stub 0
    boot module "rd.scratch.lun=1"
    check "the stub ran (its message is on the console)" helper_said 'mke2fs stub: doing nothing, exit 0'
    check_fell_back_untouched "$uuid" 'cannot mount sd[a-z]+ \(0:0:0:1\) on /run/scratchroot/scratch'
}

# ---------------------------------------------------------------------------
# No overlay module: neither the disk nor the tmpfs can make the overlay
# ---------------------------------------------------------------------------

sc_nooverlay() {
    local uuid ko base
    root_add 0
    disk_add scratch 64G 1
    uuid=$(img_uuid "$RUN/root.img")
    fault_initrd_tree
    vm_kernel || fatal "get the guest kernel"
    # Where scratchroot-mkinitramfs puts it: its path under the kernel's
    # modules, uncompressed.
    ko=$(cd "$KROOT" && find "lib/modules/$KVER" -name 'overlay.ko*' | head -n 1)
    ko=${ko%.xz}
    ko=${ko%.zst}
    ko=${ko%.gz}
    [[ -n $ko ]] || fatal "find overlay.ko among the guest kernel's modules"
    mkdir -p "$FAULT_TREE/${ko%/*}"
    echo "not a kernel module" >"$FAULT_TREE/$ko"
    boot module "rd.scratch.lun=1"
    check "the initrd said it could not load overlay" helper_said scratchroot 'cannot load overlay'
    check_state backing none
    check_state_mentions reason "both overlays" 'cannot mount the overlay.*; the tmpfs overlay failed too: cannot mount the overlay with its upper on tmpfs: No such device$'
    check "the helper said the tmpfs overlay failed too" \
        helper_said scratchroot 'the tmpfs overlay failed too: cannot mount the overlay with its upper on tmpfs: No such device, leaving the root as it is'
    check "nothing is mounted under /run/scratchroot" no_mount_under /run/scratchroot
    check_no_disk_mount
    check_root_ro_untouched "$uuid"
    base=$(img_label "$RUN/scratch.img")
    note "scratch disk label afterwards: '${base}' (formatted before the overlay failed)"
}

# ---------------------------------------------------------------------------
# The scratch disk fills up
# ---------------------------------------------------------------------------

sc_diskfull() {
    local uuid fill bytes mem shmem
    root_add 0
    disk_add scratch 65M 1
    uuid=$(img_uuid "$RUN/root.img")
    # shellcheck disable=SC2034 # read by vm_run
    VM_MEM=512
    boot module "rd.scratch.lun=1 sr.work=fillroot,meminfo sr.watchdog=120"
    unset VM_MEM
    check_state backing scratch
    check_overlay_root ext4
    fill=$(vm_lines "$LOG" SR-FILL | head -n 1)
    note "fill: $fill"
    bytes=$(sed -n 's/^bytes=\([0-9]*\) .*/\1/p' <<<"$fill")
    check "the writer got ENOSPC ($fill)" grep -qE ' rc=[1-9][0-9]* err=.*No space left on device' <<<"$fill"
    check "it wrote most of the 65 MiB disk first (${bytes:-?} bytes > 48 MiB)" \
        test "${bytes:-0}" -gt $((48 * 1024 * 1024))
    note "small file on the full /: $(vm_lines "$LOG" SR-FILL-SMALL)"
    check_eq "/proc and a program still work" "$(vm_lines "$LOG" SR-FILL-RUN)" ok
    check_eq "a small file on /run (tmpfs) can be written" "$(vm_lines "$LOG" SR-FILL-RUNDIR)" ok
    check_eq "with the big file gone, / takes a file again" "$(vm_lines "$LOG" SR-FILL-FREED)" ok
    check_eq "no OOM-killer line in the guest's kernel log" "$(vm_lines "$LOG" SR-FILL-OOM)" 0
    check "no OOM-killer line on the console" console_has_none 'out of memory|oom-kill'
    mem=$(vm_lines "$LOG" SR-MEM | head -n 1)
    note "memory after the fill (KiB): $mem"
    shmem=$(sed -n 's/.*Shmem=\([0-9]*\).*/\1/p' <<<"$mem")
    check "Shmem stays small: the data went to the disk (${shmem:-?} KiB < 16384)" \
        test "${shmem:-999999}" -lt 16384
    check_eq "the work ran to its end" "$(vm_lines "$LOG" SR-WORK-END | tr '\n' ' ')" "fillroot 0 meminfo 0 "
    check_eq "scratch disk has the scratchroot filesystem" "$(img_label "$RUN/scratch.img")" scratchroot
    check_root_untouched "$uuid"
}

# ---------------------------------------------------------------------------
# rd.scratch.fallback=fail and =none
# ---------------------------------------------------------------------------

sc_failstop() {
    local uuid
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    boot_stops "rd.scratch.lun=1 rd.scratch.timeout=1 rd.scratch.fallback=fail"
    check "the helper said why and that it stops the boot" \
        helper_said scratchroot 'no disk at rd.scratch.lun=1 after 1000 ms' 'rd.scratch.fallback=fail, stopping the boot'
    if [[ $PATH_NAME == standalone ]]; then
        check "the init said it powers off" console_said scratchroot 'cannot boot, powering off'
        check "no kernel panic" console_has_none 'Kernel panic'
    else
        check "the dracut hook said the boot stops" \
            helper_said 'scratchroot: the root overlay could not be set up and rd.scratch.fallback=fail stops the boot'
        # dracut's own way to stop with rd.shell=0: its init exits, the
        # kernel panics, panic=-1 and -no-reboot end QEMU.
        check "dracut refused to continue" console_said 'dracut: Refusing to continue'
        if console_has_none 'Kernel panic'; then
            note "the kernel did not panic"
        else
            check "the kernel's panic is the one of init exiting" \
                console_said 'Kernel panic - not syncing: Attempted to kill init!'
        fi
    fi
    check_root_untouched "$uuid"
}

sc_none() {
    local uuid
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    boot module "rd.scratch.lun=1 rd.scratch.timeout=1 rd.scratch.fallback=none"
    check_state backing none
    check_state_mentions reason "the LUN" 'no disk at rd\.scratch\.lun=1 after 1000 ms'
    check "the helper said it leaves the root" \
        helper_said scratchroot 'rd.scratch.fallback=none, leaving the root as it is'
    check "nothing is mounted under /run/scratchroot" no_mount_under /run/scratchroot
    check_root_ro_untouched "$uuid"
}
