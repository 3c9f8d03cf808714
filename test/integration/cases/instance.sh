# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO...)
# Loop cases of the instance commands: "scratchroot run" (an overlay of the
# case's root image as the root of a command, in a mount namespace of its
# own) and "scratchroot mount" / "umount". The command is a static busybox
# put in the case's /run, which the instance sees as its own /run.

CASES+=(
    "c_instance_run|run: COMMAND's root is an overlay on the disk, its status is run's, nothing stays mounted or held"
    "c_instance_two|run: two instances at once, each on its own disk, sees only its own files; a third is refused the held disk"
    "c_instance_kill|run: kill -9 of COMMAND, and of run itself, leaves no mount and no holder"
    "c_instance_nodisk|run: no disk within --timeout gives the tmpfs overlay and says why; --fallback=fail does not start COMMAND"
    "c_instance_refuse|run: a disk with data and the root's scratch disk are refused and left as they are"
    "c_instance_mount|mount, chroot, umount: the overlay at TARGET, then nothing mounted and the disk free"
)

INST_DIR=$RUN_DIR/instances
BB=/run/busybox

# ---------------------------------------------------------------------------
# Inside the case's namespace
# ---------------------------------------------------------------------------

# inst_helper TAG ARG...: the helper with ARG..., its exit status and output
# in $C/TAG, then what the namespace shows.
inst_helper() {
    local tag=$1 r=$C/$1 t0
    shift
    mkdir -p "$r"
    t0=$(date +%s%N)
    "$SR_HELPER" "$@" >"$r/stdout" 2>"$r/stderr"
    echo "$?" >"$r/rc"
    echo $((($(date +%s%N) - t0) / 1000000)) >"$r/ms"
    inst_snapshot "$tag"
}

# inst_snapshot TAG: the instances' state files, the mounts of this
# namespace, and the mount lines of every process that name a disk of the
# case (its device numbers in $C/devnos).
inst_snapshot() {
    local r=$C/$1 d
    mkdir -p "$r"
    for d in "$INST_DIR"/*/; do
        [[ -f $d/state ]] && cp "$d/state" "$r/state.$(basename "$d")"
    done
    findmnt -rn -o TARGET,FSTYPE,SOURCE,OPTIONS >"$r/mounts.all"
    : >"$r/held"
    if [[ -s $C/devnos ]]; then
        cat /proc/[0-9]*/mountinfo 2>/dev/null | awk 'NR == FNR { want[$1] = 1; next } ($3 in want)' \
            "$C/devnos" - >"$r/held" || true
    fi
}

# inst_run TAG NAME LUN SCRIPT [OPTION...]: scratchroot run of busybox's sh
# with SCRIPT on the case's root image, as instance NAME on LUN.
inst_run() {
    local tag=$1 name=$2 lun=$3 script=$4
    shift 4
    inst_helper "$tag" run --sysfs "$S" --lun "$lun" --name "$name" --lower "$NEWROOT" "$@" \
        -- "$BB" sh -c "$script"
}

ns_instance() {
    cp /bin/busybox "$BB" || { fail "cannot copy busybox to $BB"; return 1; }
    "$@"
}

# wait_file FILE: up to 20 s.
wait_file() {
    local _
    for _ in $(seq 200); do
        [[ -e $1 ]] && return 0
        sleep 0.1
    done
    fail "$1 did not appear"
    return 1
}

ns_inst_run() {
    inst_run first a 1 'grep -q " / / .* - overlay " /proc/self/mountinfo && echo "root overlay"; cat /etc/marker; echo written-in-a >/hello.txt
        [ -r /proc/self/mountinfo ] && echo proc-ok; [ -d /sys/block ] && echo sys-ok
        [ -c /dev/null ] && echo dev-ok; [ -f /run/scratchroot/instances/a/state ] && echo run-ok
        exit 7'
    "$SR_HELPER" status a >"$C/first/status" 2>&1
    ls -A "$NEWROOT" >"$C/first/newroot.ls"
    debugfs -R "cat /upper/hello.txt" "$C/a.img" >"$C/first/hello" 2>/dev/null
    inst_run again a 1 'exit 0'
}

ns_inst_two() {
    local pa pb
    inst_run a a 1 'head -c 8388608 /dev/urandom >/a.bin; ls / >/run/ls-a; : >/run/a-written
        while [ ! -e /run/go ]; do sleep 0.1; done' &
    pa=$!
    inst_run b b 2 'head -c 25165824 /dev/urandom >/b.bin; ls / >/run/ls-b; : >/run/b-written
        while [ ! -e /run/go ]; do sleep 0.1; done' &
    pb=$!
    wait_file /run/a-written && wait_file /run/b-written
    inst_snapshot running
    # The disk of a running instance, for another one.
    inst_run held c 1 'echo started; exit 0' --fallback fail
    : >/run/go
    wait "$pa"
    wait "$pb"
    cp /run/ls-a /run/ls-b "$C/" 2>/dev/null
    inst_snapshot after
}

ns_inst_kill() {
    local pr pid i
    inst_run killed a 1 'echo $$ >/run/pid-a; exec sleep 60' &
    pr=$!
    wait_file /run/pid-a
    kill -9 "$(cat /run/pid-a)"
    wait "$pr"
    inst_run reused a 1 'exit 0'

    # run itself killed: COMMAND goes with it (its parent-death signal).
    "$SR_HELPER" run --sysfs "$S" --lun 1 --name b --lower "$NEWROOT" -- "$BB" sh -c 'echo $$ >/run/pid-b; exec sleep 60' \
        >/dev/null 2>&1 &
    pr=$!
    wait_file /run/pid-b
    pid=$(cat /run/pid-b)
    kill -9 "$pr"
    wait "$pr" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$pid" >"$C/survivor"
    fi
    inst_snapshot runkilled
    inst_run reused2 b 1 'exit 0'
}

ns_inst_nodisk() {
    inst_run nodisk t 3 'grep -q " / / .* - overlay " /proc/self/mountinfo && echo "root overlay"; echo x >/written; exit 3' --timeout 0.2
    inst_run failstop f 3 ': >/run/started' --timeout 0.2 --fallback fail
    if [[ -e /run/started ]]; then
        echo started >"$C/failstop/started"
    fi
}

ns_inst_refuse() {
    inst_run data d 1 ': >/run/started-d' --fallback fail
    "$SR_HELPER" setup --newroot "$NEWROOT" --sysfs "$S" --cmdline "rd.scratch.lun=0:0:0:2" \
        ${SR_HAS_CONFIG:+--config "$C/no-scratchroot.conf"} >"$C/boot.log" 2>&1 ||
        fail "the boot setup on LUN 2 failed"
    cp "$RUN_DIR/state" "$C/boot.state"
    inst_run rootdisk r 2 ': >/run/started-r' --fallback fail
    findmnt -rn -o TARGET,SOURCE "$RUN_DIR/scratch" >"$C/boot.after"
}

ns_inst_mount() {
    local t=$C/target
    mkdir -p "$t"
    inst_helper mounted mount --sysfs "$S" --lun 1 --name m "$NEWROOT" "$t"
    cp /bin/busybox "$t/busybox" && chroot "$t" /busybox sh -c 'echo chrooted >/chroot.txt; /busybox cat /etc/marker' \
        >"$C/mounted/chroot.out" 2>&1
    "$SR_HELPER" status m >"$C/mounted/status" 2>&1
    inst_helper twice mount --sysfs "$S" --lun 1 --name m "$NEWROOT" "$t"
    inst_helper unknown umount "$t/.."
    inst_helper unmounted umount "$t"
    inst_helper again mount --sysfs "$S" --lun 1 --name m2 "$NEWROOT" "$t"
    inst_helper unmounted2 umount "$t"
    ls -A "$t" >"$C/target.ls"
}

# ---------------------------------------------------------------------------
# Outside: checks on $C/TAG
# ---------------------------------------------------------------------------

# inst_use TAG: selects $C/TAG.
inst_use() {
    R=$C/$1
    TAG=$1
    [[ -d $R ]] || { fail "[$TAG] no such step"; return 1; }
}

# inst_state NAME KEY: a value of instance NAME's state as TAG saw it.
inst_state() {
    sed -n "s/^$2=//p" "$R/state.$1" 2>/dev/null
}

# inst_expect NAME KEY=VALUE...
inst_expect() {
    local name=$1 kv got
    shift
    [[ -f $R/state.$name ]] || { fail "[$TAG] no state of instance $name"; return; }
    for kv; do
        got=$(inst_state "$name" "${kv%%=*}")
        [[ $got == "${kv#*=}" ]] || fail "[$TAG] $name: state ${kv%%=*}='$got', expected '${kv#*=}'"
    done
}

inst_reason() {
    local reason s
    reason=$(inst_state "$1" reason)
    shift
    for s; do
        [[ $reason == *"$s"* ]] || fail "[$TAG] reason lacks '$s': $reason"
    done
}

# inst_free: nothing of an instance mounted in the case's namespace, and no
# process has a mount of a case's disk.
inst_free() {
    local m
    m=$(awk -v d="$INST_DIR" 'index($1, d "/") == 1' "$R/mounts.all")
    [[ -z $m ]] || fail "[$TAG] still mounted: $(echo "$m" | tr '\n' ';')"
    [[ ! -s $R/held ]] || fail "[$TAG] a process still has the disk mounted: $(head -c 300 "$R/held")"
}

inst_rc() {
    [[ $(cat "$R/rc") == "$1" ]] || fail "[$TAG] exit status $(cat "$R/rc"), expected $1: $(head -c 300 "$R/stderr")"
}

# inst_disk NAME SIZE LUN: a blank disk at 0:0:0:LUN; its device number is
# added to $C/devnos.
inst_disk() {
    IMG=$(mkimg "$1" "$2") || return 1
    LOOP=$(attach "$IMG") || { fail "cannot attach $IMG"; return 1; }
    DEVNO=$(devno_of "$LOOP")
    echo "$DEVNO" >>"$C/devnos"
    scsi_disk "0:0:0:$4" "$3" "$LOOP"
}

c_instance_run() {
    local got
    inst_disk a 256M "$NAME1" 1 || return
    in_ns ns_instance ns_inst_run
    inst_use first || return
    inst_rc 7
    for got in "root overlay" "$ROOT_MARKER" proc-ok sys-ok dev-ok run-ok; do
        grep -qx "$got" "$R/stdout" || fail "[$TAG] COMMAND did not print '$got': $(tr '\n' ' ' <"$R/stdout")"
    done
    inst_expect a backing=scratch format=blank fs=ext4 hctl=0:0:0:1 "devno=$DEVNO" source=cmdline reason= volatile=1
    grep -q "^backing: *scratch" "$R/status" || fail "[$TAG] status a: $(head -c 200 "$R/status")"
    inst_free
    grep -qx hello.txt "$R/newroot.ls" && fail "[$TAG] the write reached the lower directory"
    got=$(cat "$R/hello")
    [[ $got == written-in-a ]] || fail "the instance's file on its disk: '$got'"
    expect_scratch_fs "$IMG"
    # Only a disk nobody holds is opened exclusively and formatted again.
    inst_use again || return
    inst_rc 0
    inst_expect a backing=scratch format=reused
    inst_free
}

c_instance_two() {
    local a b ga gb
    inst_disk a 256M "$NAME1" 1 || return
    a=$IMG
    inst_disk b 256M "$NAME2" 2 || return
    b=$IMG
    ga=$(stat -c %b "$a")
    gb=$(stat -c %b "$b")
    in_ns ns_instance ns_inst_two
    inst_use a || return
    inst_rc 0
    inst_use b || return
    inst_rc 0
    inst_use running || return
    inst_expect a backing=scratch hctl=0:0:0:1
    inst_expect b backing=scratch hctl=0:0:0:2
    inst_use held || return
    inst_rc 1
    inst_expect c backing=none format=
    # Mounted in another namespace: the kernel's exclusive open tells.
    inst_reason c "refusing $NAME1 (0:0:0:1, 256.0 MiB): it is in use (exclusive open: device busy)"
    grep -q "^started" "$R/stdout" && fail "[$TAG] COMMAND ran on the held disk"
    grep -q -- "--fallback=fail, not starting the instance" "$R/stderr" || fail "[$TAG] stderr: $(head -c 300 "$R/stderr")"
    if ! grep -qx a.bin "$C/ls-a" || grep -qx b.bin "$C/ls-a"; then
        fail "a sees: $(tr '\n' ' ' <"$C/ls-a")"
    fi
    if ! grep -qx b.bin "$C/ls-b" || grep -qx a.bin "$C/ls-b"; then
        fail "b sees: $(tr '\n' ' ' <"$C/ls-b")"
    fi
    inst_use after || return
    inst_free
    # 512-byte sectors: a wrote 8 MiB (16384), b 24 MiB (49152).
    ga=$(($(stat -c %b "$a") - ga))
    gb=$(($(stat -c %b "$b") - gb))
    ((ga >= 16384 && ga < 16384 + 12288)) || fail "a's image grew by $ga sectors, not by its 8 MiB"
    ((gb >= 49152 && gb < 49152 + 12288)) || fail "b's image grew by $gb sectors, not by its 24 MiB"
    [[ $(debugfs -R "stat /upper/b.bin" "$a" 2>&1) == *"not found"* ]] || fail "b's file is on a's disk"
    [[ $(debugfs -R "stat /upper/a.bin" "$b" 2>&1) == *"not found"* ]] || fail "a's file is on b's disk"
}

c_instance_kill() {
    inst_disk a 256M "$NAME1" 1 || return
    in_ns ns_instance ns_inst_kill
    inst_use killed || return
    inst_rc 137
    inst_free
    inst_use reused || return
    inst_rc 0
    inst_expect a backing=scratch format=reused
    inst_use runkilled || return
    [[ ! -e $C/survivor ]] || fail "COMMAND outlived the killed run"
    inst_free
    inst_use reused2 || return
    inst_rc 0
    inst_expect b backing=scratch format=reused
    inst_free
}

c_instance_nodisk() {
    inst_disk a 256M "$NAME1" 1 || return
    in_ns ns_instance ns_inst_nodisk
    inst_use nodisk || return
    inst_rc 3
    grep -qx "root overlay" "$R/stdout" || fail "[$TAG] COMMAND's root: $(head -c 200 "$R/stdout")"
    inst_expect t backing=tmpfs fs=tmpfs device= hctl= tmpfs_size=25% "reason=no disk at --lun=3 after 200 ms"
    inst_free
    inst_use failstop || return
    inst_rc 1
    [[ ! -e $R/started ]] || fail "[$TAG] COMMAND ran"
    inst_expect f backing=none "reason=no disk at --lun=3 after 200 ms"
    grep -q "no disk at --lun=3 after 200 ms; --fallback=fail, not starting the instance" "$R/stderr" ||
        fail "[$TAG] stderr: $(head -c 300 "$R/stderr")"
    inst_free
    expect_zero "$IMG"
}

c_instance_refuse() {
    local sha
    if ! IMG=$(mkimg data 256M) || ! make_ext4_data "$IMG"; then
        fail "cannot make the data disk"
        return
    fi
    sha=$(sha "$IMG")
    LOOP=$(attach "$IMG") || { fail "cannot attach $IMG"; return; }
    devno_of "$LOOP" >>"$C/devnos"
    scsi_disk 0:0:0:1 "$NAME1" "$LOOP"
    inst_disk rootscratch 256M "$NAME2" 2 || return
    in_ns ns_instance ns_inst_refuse
    inst_use data || return
    inst_rc 1
    inst_expect d backing=none format=
    inst_reason d "refusing $NAME1 (0:0:0:1, 256.0 MiB): it holds a signature of type ext4 labelled 'data'"
    [[ $(sha "$C/data.img") == "$sha" ]] || fail "the data disk changed"
    grep -q '^backing=scratch$' "$C/boot.state" || fail "the boot setup: $(tr '\n' ' ' <"$C/boot.state")"
    inst_use rootdisk || return
    inst_rc 1
    inst_expect r backing=none
    inst_reason r "refusing $NAME2 (0:0:0:2, 256.0 MiB): " mounted
    grep -q "$RUN_DIR/scratch " "$C/boot.after" || fail "the root's scratch is no longer mounted"
}

c_instance_mount() {
    local got
    inst_disk a 256M "$NAME1" 1 || return
    in_ns ns_instance ns_inst_mount
    inst_use mounted || return
    inst_rc 0
    inst_expect m backing=scratch format=blank hctl=0:0:0:1
    awk -v t="$C/target" '$1 == t && $2 == "overlay"' "$R/mounts.all" | grep -q . ||
        fail "[$TAG] no overlay on the target"
    [[ $(cat "$R/chroot.out") == "$ROOT_MARKER" ]] || fail "[$TAG] chroot: $(head -c 200 "$R/chroot.out")"
    grep -q "^upper: *ext4 without journal" "$R/status" || fail "[$TAG] status m: $(tr '\n' ' ' <"$R/status")"
    inst_use twice || return
    inst_rc 1
    grep -q "instance m is mounted" "$R/stderr" || fail "[$TAG] stderr: $(head -c 300 "$R/stderr")"
    inst_use unknown || return
    inst_rc 1
    grep -q "no instance is mounted on" "$R/stderr" || fail "[$TAG] stderr: $(head -c 300 "$R/stderr")"
    inst_use unmounted || return
    inst_rc 0
    inst_free
    grep -q " $C/target " <(awk '{ print " " $1 " " }' "$R/mounts.all") && fail "[$TAG] the target is still mounted"
    inst_use again || return
    inst_rc 0
    inst_expect m2 backing=scratch format=reused
    inst_use unmounted2 || return
    inst_rc 0
    inst_free
    [[ ! -s $C/target.ls ]] || fail "the target is not empty after umount: $(tr '\n' ' ' <"$C/target.ls")"
    got=$(debugfs -R "cat /upper/chroot.txt" "$C/a.img" 2>/dev/null)
    [[ -z $got ]] || fail "the first mount's file survived the reformat"
}
