#!/bin/bash
# shellcheck disable=SC2317 # the check_* functions are called through check
# VM boots through scratchroot-qemu run, on the standalone boot path, with
# no rd.scratch option on the kernel command line: the guest learns its
# scratch disk from fw_cfg only. Three boots:
#   1. a whole boot: the guest used the scratch disk (backing=scratch,
#      source=fw_cfg, the serial number scratchroot-qemu gave), and the
#      image is gone after QEMU exits;
#   2. QEMU killed with SIGKILL mid-boot: the image is gone once run returns;
#   3. run itself killed with SIGKILL: the image stays while QEMU runs and
#      after; cleanup (and a start) leave it while QEMU runs, cleanup removes
#      it once QEMU is gone, and a live instance's image is left alone.
# TAP on stdout. Needs what test/vm/prepare makes (the kernel, the root
# image, the standalone initrd are built when missing).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=vm/lib.sh
. "$src/vm/lib.sh"
# shellcheck source=vm/paths/standalone.sh
. "$src/vm/paths/standalone.sh"

SRQ=${SR_QEMU_HELPER:-$src/helpers/scratchroot-qemu}

sleeper=""
TAP_NAME=host/vm
# shellcheck source=test/vm/tap.sh
. "$src/test/vm/tap.sh"

finish_hook() {
    [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

log_has() {
    [[ -f $LOG ]] && tr -d '\r' <"$LOG" | grep -q -- "$1"
}

alive() {
    kill -0 "$1" 2>/dev/null
}

dead() {
    ! kill -0 "$1" 2>/dev/null
}

# has TEXT PART
has() {
    [[ $1 == *"$2"* ]]
}

# empty_dir DIR: nothing in DIR but scratchroot-qemu's own .lock.
empty_dir() {
    local f
    for f in "$1"/* "$1"/.[!.]*; do
        [[ -e $f && ${f##*/} != .lock ]] && return 1
    done
    return 0
}

not() {
    ! "$@"
}

gone() {
    [[ ! -e $1 && ! -L $1 ]]
}

check_kernel_cmdline_clean() {
    local line
    line=$(tr -d '\r' <"$LOG" | grep -m1 'Command line:' || true)
    [[ -n $line && $line != *rd.scratch* ]]
}

# check_own_controller HCTL: HCTL is LUN 1, target 0, on another SCSI host
# than the root's LUN 0.
check_own_controller() {
    local roothost
    roothost=$(vm_lines "$LOG" SR-SCSI | awk '$1 ~ /:0:0:0$/ {split($1, a, ":"); print a[1]}')
    [[ $1 =~ ^[0-9]+:0:0:1$ && -n $roothost && ${1%%:*} != "$roothost" ]]
}

# The state of an instance as "scratchroot-qemu list" shows it.
list_state() {
    "$SRQ" list -d "$RT" | awk -v n="$1" '$1 == n {print $2}'
}

# qemu_cmd LOG: the VM of vm/lib.sh's vm_run: the root on LUN 0 of a
# virtio-scsi controller of its own, the console to LOG.
qemu_cmd() {
    # shellcheck disable=SC2054 # commas inside QEMU's options
    QEMU=(
        qemu-system-x86_64
        -machine q35 -cpu max -smp 1 -m "${VM_MEM:-1024}"
        -nodefaults -no-user-config -display none -no-reboot
        -chardev "file,id=ser0,path=$1,append=on" -serial chardev:ser0
        -kernel "$VMLINUZ" -initrd "$RUN/initrd.img"
        -append "console=ttyS0 panic=-1 root=LABEL=srroot ro rootwait $(path_cmdline)"
        -device virtio-scsi-pci,id=scsi0
        -drive "if=none,id=d0,file=$RUN/root.img,format=raw"
        -device scsi-hd,drive=d0,bus=scsi0.0,channel=0,scsi-id=0,lun=0
    )
}

# ---------------------------------------------------------------------------

[[ -x $SRQ ]] || fatal "scratchroot-qemu at $SRQ is not executable"
command -v qemu-system-x86_64 >/dev/null || fatal "qemu-system-x86_64 not found (run vm/deps)"
mkdir -p "$SR_BUILD/vm-runs" || fatal "mkdir $SR_BUILD/vm-runs"
RUN=$(mktemp -d "$SR_BUILD/vm-runs/host-qemu.XXXXXX") || fatal "make a run directory"
RT=$RUN/rt
vm_kernel || fatal "get the guest kernel"
vm_rootimg "$RUN/root.img" || fatal "make the root image"
path_initrd "$RUN/initrd.img" || fatal "build the standalone initrd"
[[ -z $(path_cmdline) || $(path_cmdline) != *rd.scratch* ]] || fatal "the path's command line has rd.scratch options"

# --- 1. a whole boot ---------------------------------------------------------
LOG=$RUN/boot1.log
qemu_cmd "$LOG"
start=$SECONDS
timeout --kill-after=10 "$SR_VM_TIMEOUT" "$SRQ" run -d "$RT" -n boot1 -- "${QEMU[@]}" \
    </dev/null >"$RUN/boot1.out" 2>&1 &
wrapper=$!
img=$RT/boot1.img
if wait_for 30 test -f "$img"; then
    size=$(stat -c %s "$img")
    check_eq "boot 1: run made a 64 GiB image while the VM runs" "$size" $((64 << 30))
    alloc=$(du -k "$img" | cut -f1)
    note "boot 1: the image holds $alloc KiB on the host at start"
    check "boot 1: the image is sparse (under 1 MiB allocated at start)" test "$alloc" -lt 1024
else
    notok "boot 1: run made the image $img"
fi
wait "$wrapper"
rc=$?
note "boot 1: $((SECONDS - start)) s; run's output:"
sed 's/^/#   /' "$RUN/boot1.out"
check_eq "boot 1: run exits with QEMU's status (the guest powered off)" "$rc" 0
vm_has "$LOG" SR-DONE || fatal "boot 1: the guest init ran and finished (no SR-DONE on the console)"
check "boot 1: no rd.scratch option on the kernel command line" check_kernel_cmdline_clean
check_eq "boot 1: backing" "$(vm_state "$LOG" backing)" scratch
check_eq "boot 1: the options came from fw_cfg" "$(vm_state "$LOG" source)" fw_cfg
check_eq "boot 1: the disk has the serial number scratchroot-qemu gave" "$(vm_state "$LOG" serial)" sr-boot1
check_eq "boot 1: formatted ext4" "$(vm_state "$LOG" fs)" ext4
hctl=$(vm_state "$LOG" hctl)
note "boot 1: the scratch disk was at $hctl in the guest; SCSI disks: $(vm_lines "$LOG" SR-SCSI | tr '\n' ' ')"
check "boot 1: on LUN 1, target 0 of a controller of its own ($hctl)" check_own_controller "$hctl"
check_eq "boot 1: the guest wrote to its root" "$(vm_lines "$LOG" SR-WRITE | cut -d' ' -f1)" ok
check "boot 1: the image is gone after QEMU exited" gone "$img"
check "boot 1: its lock file is gone too" gone "$RT/boot1.lock"

# --- 2. QEMU killed with SIGKILL mid-boot ------------------------------------
LOG=$RUN/boot2.log
qemu_cmd "$LOG"
"$SRQ" run -d "$RT" -n boot2 -- "${QEMU[@]}" </dev/null >"$RUN/boot2.out" 2>&1 &
wrapper=$!
img=$RT/boot2.img
if wait_for 60 log_has 'Linux version'; then
    qpid=$(pgrep -P "$wrapper" -f qemu-system-x86_64 | head -n 1)
    [[ -n $qpid ]] || fatal "boot 2: find QEMU among run's children"
    check "boot 2: the image exists while the VM boots" test -f "$img"
    kill -KILL "$qpid"
    note "boot 2: QEMU (pid $qpid) killed with SIGKILL at $(tr -d '\r' <"$LOG" | grep -c .) console lines"
else
    kill -KILL "$wrapper" 2>/dev/null
    fatal "boot 2: the kernel started within 60 s"
fi
wait_for 30 dead "$wrapper" || { kill -KILL "$wrapper"; fatal "boot 2: run returned within 30 s of QEMU's death"; }
wait "$wrapper"
rc=$?
sed 's/^/#   /' "$RUN/boot2.out"
check_eq "boot 2: run exits with 128+9" "$rc" 137
check "boot 2: the guest had not finished booting (no SR-DONE)" not vm_has "$LOG" SR-DONE
check "boot 2: the image is gone after run returned" gone "$img"
check "boot 2: its lock file is gone too" gone "$RT/boot2.lock"

# --- 3. run itself killed with SIGKILL ----------------------------------------
LOG=$RUN/boot3.log
qemu_cmd "$LOG"
"$SRQ" run -d "$RT" -n boot3 -- "${QEMU[@]}" </dev/null >"$RUN/boot3.out" 2>&1 &
wrapper=$!
img=$RT/boot3.img
wait_for 60 log_has 'Linux version' || { kill -KILL "$wrapper"; fatal "boot 3: the kernel started within 60 s"; }
qpid=$(pgrep -P "$wrapper" -f qemu-system-x86_64 | head -n 1)
[[ -n $qpid ]] || fatal "boot 3: find QEMU among run's children"
kill -KILL "$wrapper"
wait "$wrapper" 2>/dev/null
note "boot 3: run (pid $wrapper) killed with SIGKILL; QEMU (pid $qpid) goes on"
check "boot 3: QEMU still runs" alive "$qpid"
check "boot 3: the image stays" test -f "$img"
check_eq "boot 3: list calls it live (QEMU holds its lock)" "$(list_state boot3)" live
# A live instance of another kind: its owner, a process, still runs.
sleep 600 &
sleeper=$!
"$SRQ" create -q -d "$RT" -n other --owner "$sleeper" -s 1G >/dev/null ||
    notok "boot 3: create an instance owned by a live process"
check "boot 3: a start while QEMU runs leaves its image" test -f "$img"
out=$("$SRQ" cleanup -d "$RT" 2>&1)
note "boot 3: cleanup while QEMU runs: $out"
check "boot 3: cleanup while QEMU runs leaves its image" test -f "$img"
wait_for "$SR_VM_TIMEOUT" dead "$qpid" || { kill -KILL "$qpid"; notok "boot 3: QEMU finished within ${SR_VM_TIMEOUT}s"; }
check "boot 3: the guest finished its boot (SR-DONE)" vm_has "$LOG" SR-DONE
check_eq "boot 3: backing" "$(vm_state "$LOG" backing)" scratch
check "boot 3: the image stays after QEMU exited (nobody removed it)" test -f "$img"
check_eq "boot 3: list calls it stale now" "$(list_state boot3)" stale
out=$("$SRQ" cleanup -d "$RT" 2>&1)
note "boot 3: cleanup: $out"
check "boot 3: cleanup named it" has "$out" "removed stale instance boot3"
check "boot 3: cleanup removed the image" gone "$img"
check "boot 3: and its lock file" gone "$RT/boot3.lock"
check "boot 3: the live instance's image is left alone" test -f "$RT/other.img"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
sleeper=""
out=$("$SRQ" create -d "$RT" -n next --owner $$ -s 1G 2>&1 >/dev/null)
note "boot 3: a start after the owner died: $out"
check "boot 3: the next start removed the instance whose owner died" gone "$RT/other.img"
"$SRQ" remove -q -d "$RT" -n next || notok "remove the instance 'next'"
check "remove left the instance directory empty" empty_dir "$RT"

finish
