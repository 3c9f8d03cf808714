# shellcheck shell=bash
# shellcheck disable=SC2317 # the sc_* functions are called by name
# Instances after boot: one VM, booted with a root scratch disk on LUN 1 and
# a disk holding data on LUN 4; while it runs, the host hot-plugs instance
# disks with "scratchroot-qemu attach" on its QMP socket, the guest runs
# "scratchroot run" and "scratchroot mount" on them, and the host detaches
# them with "scratchroot-qemu detach", the VM still running.
#
# The guest's side is /sbin/sr-instance (boot with init=/sbin/sr-instance),
# put into the run's root image with the helper and mke2fs; it asks the host
# for each step with an "SR-INST want-STEP" console line and reports with
# "SR-INST KEY VALUE..." lines, then runs the test init.

# The guest's program; each wait is bounded, so that it always reaches the
# test init, which powers the VM off.
_inst_guest() {
    cat <<'EOS'
#!/bin/busybox sh
PATH=/bin:/sbin:/usr/bin:/usr/sbin
SR=/usr/sbin/scratchroot
BB=/bin/busybox
[ -r /proc/self/mountinfo ] || mount -t proc proc /proc
[ -d /sys/bus ] || mount -t sysfs sysfs /sys
[ -c /dev/null ] || mount -t devtmpfs devtmpfs /dev
echo 1 >/proc/sys/kernel/printk 2>/dev/null
exec </dev/null >/dev/console 2>&1

say() { echo "SR-INST $*"; }
# dev LUN: the block device at LUN of any host, target 0.
dev() {
    for b in /sys/bus/scsi/devices/*:0:0:"$1"/block/*; do
        [ -e "$b" ] && { echo "${b##*/}"; return 0; }
    done
    return 1
}
# wait_lun LUN present|gone SECONDS
wait_lun() {
    i=0
    while [ "$i" -lt $(($3 * 5)) ]; do
        if [ "$2" = present ]; then dev "$1" >/dev/null && return 0; else dev "$1" >/dev/null || return 0; fi
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}
devno() { cat "/sys/class/block/$1/dev"; }
# held NAME: mount lines naming the disk NAME in every process, and holders.
held() {
    n=$(cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -c " $(devno "$1") ")
    h=$(ls "/sys/class/block/$1/holders" | wc -l)
    say "held-$2 mounts=$n holders=$h"
}
state() {
    while IFS= read -r l; do say "state-$1 $l"; done <"/run/scratchroot/instances/$1/state"
}
wait_file() {
    i=0
    while [ ! -e "$1" ] && [ "$i" -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
    [ -e "$1" ]
}

say want-attach-ab
if wait_lun 2 present 120 && wait_lun 3 present 120; then
    da=$(dev 2) db=$(dev 3)
    say disks a=$da b=$db
    # Two instances at once, writing 16 and 48 MiB.
    $SR run --lun 2 --serial sr-a --name a -- $BB sh -c 'dd if=/dev/urandom of=/a.bin bs=1M count=16 2>/dev/null
        md5sum /a.bin >/run/md5-a; ls / >/run/ls-a; : >/run/a-written
        while [ ! -e /run/go ]; do sleep 0.2; done; md5sum /a.bin >/run/md5-a-after; exit 5' &
    pa=$!
    $SR run --lun 3 --serial sr-b --name b -- $BB sh -c 'dd if=/dev/urandom of=/b.bin bs=1M count=48 2>/dev/null
        ls / >/run/ls-b; : >/run/b-written; while [ ! -e /run/go ]; do sleep 0.2; done; exit 6' &
    pb=$!
    wait_file /run/a-written && wait_file /run/b-written && say both-written
    held "$da" running
    # What no other instance may have.
    echo kept >/root-marker
    $SR run --lun 2 --name c --fallback fail -- $BB touch /run/c-ran; say rc-held $?
    $SR run --lun 1 --name r --fallback fail -- $BB touch /run/r-ran; say rc-rootdisk $?
    $SR run --lun 4 --name d --fallback fail -- $BB touch /run/d-ran; say rc-data $?
    for f in c-ran r-ran d-ran; do [ -e /run/$f ] && say ran $f; done
    [ "$(cat /root-marker)" = kept ] && say root-marker kept
    : >/run/go
    wait $pa; say rc-a $?
    cmp -s /run/md5-a /run/md5-a-after && say a-data kept
    wait $pb; say rc-b $?
    say ls-a $(cat /run/ls-a)
    say ls-b $(cat /run/ls-b)
    for n in a b c r d; do state $n; done
    $SR status a | while IFS= read -r l; do say status-a "$l"; done
    held "$da" a
    held "$db" b
    [ -e /a.bin ] || [ -e /b.bin ] && say lower-changed
    say want-detach-a
    wait_lun 2 gone 60 && say gone a
    [ -e "/dev/$da" ] && say node-left "$da"

    # kill -9 of COMMAND.
    $SR run --lun 3 --serial sr-b --name k -- $BB sh -c 'echo $$ >/run/pid-k; exec sleep 600' &
    pk=$!
    wait_file /run/pid-k && kill -9 "$(cat /run/pid-k)"
    wait $pk; say rc-killed $?
    held "$db" killed
    # Only a disk nobody holds is opened exclusively and formatted again.
    $SR run --lun 3 --serial sr-b --name k2 -- $BB true; say rc-after-kill $?
    state k2
    say want-detach-b
    wait_lun 3 gone 60 && say gone b
fi

# No disk at the LUN within the timeout.
$SR run --lun 9 --timeout 1 --name t -- $BB sh -c 'grep -q " / / .* - overlay " /proc/self/mountinfo && echo root-overlay; exit 3' |
    while IFS= read -r l; do say out-t "$l"; done
$SR run --lun 9 --timeout 1 --name t2 -- $BB true; say rc-nodisk $?
state t

# scratchroot mount, chroot, umount.
say want-attach-m
if wait_lun 5 present 120; then
    dm=$(dev 5)
    mkdir -p /run/target
    $SR mount --lun 5 --name m / /run/target; say rc-mount $?
    chroot /run/target $BB sh -c 'echo in-chroot >/chroot.txt; cat /chroot.txt' | while IFS= read -r l; do say chroot "$l"; done
    state m
    $SR umount /run/target; say rc-umount $?
    held "$dm" m
    grep -c " /run/target " /proc/self/mountinfo | while read -r n; do say target-mounts "$n"; done
    [ -e /chroot.txt ] && say lower-changed-m
    say want-detach-m
    wait_lun 5 gone 60 && say gone m
fi
say end
exec /sbin/init "$@"
EOS
}

# _inst_root: the helper, mke2fs (and their libraries) and /sbin/sr-instance
# in the run's root image.
_inst_root() {
    _inst_guest >"$RUN/sr-instance"
    chmod 0755 "$RUN/sr-instance"
    img_install "$RUN/root.img" "prog:$SR_HELPER=/usr/sbin/scratchroot" "prog:/usr/sbin/mke2fs=/usr/sbin/mke2fs" \
        "$RUN/sr-instance=/sbin/sr-instance"
}

# _inst_host LOG: the host's side, in the background: answers each
# "SR-INST want-STEP" line of the console log LOG once, logging to
# $RUN/host.log what it did and the images' allocation in KiB.
_inst_host() {
    local log=$1 srq=$SR_SRCDIR/helpers/scratchroot-qemu step end=$((SECONDS + SR_VM_TIMEOUT))
    local -a q=(-d "$RUN/srq" --qmp "$RUN/qmp.sock" -c scsi0)
    for step in attach-ab detach-a detach-b attach-m detach-m; do
        while ! tr -d '\r' 2>/dev/null <"$log" | grep "^SR-INST want-$step\$" >/dev/null; do
            ((SECONDS < end)) || { echo "gave up waiting for want-$step"; return 1; }
            tr -d '\r' 2>/dev/null <"$log" | grep '^SR-INST end$' >/dev/null && { echo "guest ended before want-$step"; return 1; }
            sleep 0.5
        done
        case $step in
            attach-ab)
                "$srq" attach "${q[@]}" -n a --serial sr-a -s 1G --lun 2 && echo "attached a"
                "$srq" attach "${q[@]}" -n b --serial sr-b -s 1G --lun 3 && echo "attached b"
                echo "alloc-attached a=$(du -k "$RUN/srq/a.img" | cut -f1) b=$(du -k "$RUN/srq/b.img" | cut -f1)"
                "$srq" list -d "$RUN/srq" | sed 's/^/list: /'
                ;;
            detach-a | detach-b | detach-m)
                [[ $step != detach-a ]] ||
                    echo "alloc-used a=$(du -k "$RUN/srq/a.img" | cut -f1) b=$(du -k "$RUN/srq/b.img" | cut -f1)"
                "$srq" detach "${q[@]}" -n "${step#detach-}" && echo "detached ${step#detach-}"
                [[ -e $RUN/srq/${step#detach-}.img ]] || echo "image gone ${step#detach-}"
                echo "qemu-alive $(kill -0 "$(cat "$RUN/qemu.pid" 2>/dev/null || echo 0)" 2>/dev/null && echo yes || echo no)"
                ;;
            attach-m) "$srq" attach "${q[@]}" -n m -s 1G --lun 5 && echo "attached m" ;;
        esac
    done
    echo "host done"
}

# inst LINE-PREFIX: the guest's SR-INST lines that start with it.
inst() {
    vm_lines "$LOG" SR-INST | sed -n "s/^$1 //p"
}

inst_has() {
    vm_lines "$LOG" SR-INST | grep -xF -- "$1" >/dev/null
}

# inst_state NAME KEY
inst_state() {
    inst "state-$1" | sed -n "s/^$2=//p" | tail -n 1
}

# check_inst_state NAME KEY REGEX
check_inst_state() {
    local v
    v=$(inst_state "$1" "$2")
    check "instance $1: $2 matches '$3' ($v)" grep -qE -- "$3" <<<"$v"
}

# sees_only LISTING OWN OTHER: the words of LISTING have OWN, not OTHER.
sees_only() {
    [[ " $1 " == *" $2 "* && " $1 " != *" $3 "* ]]
}

guest_never_said() {
    ! vm_lines "$LOG" SR-INST | grep "^$1" >/dev/null
}

no_images() {
    ! ls "$1"/*.img >/dev/null 2>&1
}

host_did() {
    grep -qxF -- "$1" "$RUN/host.log"
}

sc_instance() {
    local uuid data_sha aa ab ua ub host
    root_add 0
    uuid=$(img_uuid "$RUN/root.img")
    _inst_root
    disk_add rootscratch 1G 1
    if ! vm_disk "$RUN/data.img" 256M || ! mkfs.ext4 -q -F -L data "$RUN/data.img" ||
        ! debugfs -w -R "write /etc/hostname keep" "$RUN/data.img" >/dev/null 2>&1; then
        fatal "make the data disk"
    fi
    data_sha=$(img_sha "$RUN/data.img")
    DISKS+=("$RUN/data.img:4")
    mkdir -p "$RUN/srq"
    # shellcheck disable=SC2034 # read by vm_run
    VM_EXTRA_ARGS=(-qmp "unix:$RUN/qmp.sock,server=on,wait=off" -pidfile "$RUN/qemu.pid")
    LOG=$RUN/console.log
    _inst_host "$LOG" >"$RUN/host.log" 2>&1 &
    host=$!
    trap 'kill "$host" 2>/dev/null || true' EXIT
    boot module "rd.scratch.lun=1 init=/sbin/sr-instance"
    wait "$host" 2>/dev/null
    trap - EXIT
    unset VM_EXTRA_ARGS
    while IFS= read -r l; do note "host: $l"; done <"$RUN/host.log"
    while IFS= read -r l; do note "guest: $l"; done < <(vm_lines "$LOG" SR-INST | grep -v '^state-')

    check_state backing scratch
    check "the guest reached the end of its steps" inst_has end
    check "the host did every step" host_did "host done"
    check "both instances wrote while running together" inst_has both-written
    # Each exits with its COMMAND's status.
    check_eq "instance a exited with COMMAND's status" "$(inst rc-a)" 5
    check_eq "instance b exited with COMMAND's status" "$(inst rc-b)" 6
    check_inst_state a backing '^scratch$'
    check_inst_state a format '^blank$'
    check_inst_state a serial '^sr-a$'
    check_inst_state b backing '^scratch$'
    check "scratchroot status a shows the instance" grep -qE '^backing: +scratch' <<<"$(inst status-a)"
    check "a sees its own file and not b's" sees_only "$(inst ls-a)" a.bin b.bin
    check "b sees its own file and not a's" sees_only "$(inst ls-b)" b.bin a.bin
    check "the lower (the guest's /) is unchanged" guest_never_said lower-changed
    # The disk of a running instance, the root's scratch disk, a disk with data.
    check_eq "a disk held by a running instance is refused" "$(inst rc-held)" 1
    check_inst_state c reason 'refusing sd[a-z]+ \(0:0:0:2, 1\.0 GiB\): it is in use'
    check_eq "the root's scratch disk is refused" "$(inst rc-rootdisk)" 1
    check_inst_state r reason 'refusing sd[a-z]+ \([0-9]+:0:0:1, 1\.0 GiB\): it (or one of its partitions )?is (mounted|in use)'
    check "the held disk's data is as its instance wrote it" inst_has "a-data kept"
    check "the root's scratch keeps what the root wrote" inst_has "root-marker kept"
    check_eq "a disk with data is refused" "$(inst rc-data)" 1
    check_inst_state d reason "refusing sd[a-z]+ \\([0-9]+:0:0:4, 256\\.0 MiB\\): it holds a signature of type ext4 labelled 'data'"
    check "no refused instance ran its COMMAND" guest_never_said ran
    check_same "$RUN/data.img" "$data_sha"
    # After exit: nothing mounted, no holder.
    # The look the checks below rely on sees a running instance's disk.
    check "while a runs, its disk is mounted in its namespace ($(inst held-running))" \
        grep -qE '^mounts=[1-9][0-9]* holders=0$' <<<"$(inst held-running)"
    check_eq "after a: no mount of its disk, no holder" "$(inst held-a)" "mounts=0 holders=0"
    check_eq "after b: no mount of its disk, no holder" "$(inst held-b)" "mounts=0 holders=0"
    # From the host: each image grew by what its instance wrote (KiB).
    read -r aa ab < <(sed -n 's/^alloc-attached a=\([0-9]*\) b=\([0-9]*\)$/\1 \2/p' "$RUN/host.log")
    read -r ua ub < <(sed -n 's/^alloc-used a=\([0-9]*\) b=\([0-9]*\)$/\1 \2/p' "$RUN/host.log")
    note "host allocation: a ${aa:-?} -> ${ua:-?} KiB (16 MiB written), b ${ab:-?} -> ${ub:-?} KiB (48 MiB written)"
    check "a's image grew by its 16 MiB only" awk -v a="${aa:-x}" -v u="${ua:-x}" \
        'BEGIN {d = u - a; exit !(a ~ /^[0-9]+$/ && u ~ /^[0-9]+$/ && d >= 16384 && d < 16384 + 12288)}'
    check "b's image grew by its 48 MiB only" awk -v a="${ab:-x}" -v u="${ub:-x}" \
        'BEGIN {d = u - a; exit !(a ~ /^[0-9]+$/ && u ~ /^[0-9]+$/ && d >= 49152 && d < 49152 + 12288)}'
    # Detach: the block device goes from the guest, the image from the host.
    check "attach printed the guest's flags and the instances were attached" host_did "attached b"
    check "detach of a: done, image removed" host_did "image gone a"
    check "the guest saw a's disk go" inst_has "gone a"
    check "the VM ran on after the detach" host_did "qemu-alive yes"
    # kill -9 of COMMAND.
    check_eq "kill -9 of COMMAND: run exits 137" "$(inst rc-killed)" 137
    check_eq "after kill -9: no mount of the disk, no holder" "$(inst held-killed)" "mounts=0 holders=0"
    check_eq "after kill -9: the disk is free (formatted again)" "$(inst rc-after-kill)" 0
    check_inst_state k2 format '^reused$'
    check "the killed instance's disk detaches" inst_has "gone b"
    check "detach of b: image removed" host_did "image gone b"
    # No disk at LUN 9.
    check_eq "no disk: COMMAND ran on the tmpfs overlay" "$(inst out-t)" root-overlay
    check_eq "no disk: run exits with COMMAND's status" "$(inst rc-nodisk)" 0
    check_inst_state t backing '^tmpfs$'
    check_inst_state t reason '^no disk at --lun=9 after 1000 ms$'
    # mount, chroot, umount.
    check_eq "scratchroot mount" "$(inst rc-mount)" 0
    check_eq "chroot into the target wrote and read" "$(inst chroot)" in-chroot
    check_inst_state m backing '^scratch$'
    check_eq "scratchroot umount" "$(inst rc-umount)" 0
    check_eq "after umount: no mount of the disk, no holder" "$(inst held-m)" "mounts=0 holders=0"
    check_eq "after umount: nothing on the target" "$(inst target-mounts)" 0
    check "the guest saw m's disk go" inst_has "gone m"
    check "no image is left on the host" no_images "$RUN/srq"
    check_root_untouched "$uuid"
}
