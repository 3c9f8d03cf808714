#!/usr/bin/env bats
# scratchroot-qemu's command line, without a VM: arguments, sizes, the
# arguments it prints, instances and their cleanup, unsafe directories.
# "QEMU" here is a script that records what it is given.
# The sh -c scripts, and the $ in messages expected, are single-quoted on
# purpose.
# shellcheck disable=SC2016

bats_require_minimum_version 1.5.0

setup() {
    SRC=${SR_SOURCE:-$BATS_TEST_DIRNAME/../..}
    SRQ=$SRC/helpers/scratchroot-qemu
    RT=$BATS_TEST_TMPDIR/rt
    unset SCRATCHROOT_QEMU_DIR
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    FAKEQ=$BATS_TEST_TMPDIR/bin/fake-qemu
    cat >"$FAKEQ" <<'EOS'
#!/bin/bash
# Records its arguments one per line and its stdin's first line, then
# sleeps FAKEQ_SLEEP seconds and exits FAKEQ_STATUS.
printf '%s\n' "$@" >"$FAKEQ_LOG"
read -r line || line=""
printf 'stdin=%s\n' "$line" >>"$FAKEQ_LOG"
ls -l /proc/$$/fd >>"$FAKEQ_LOG.fds"
# The sleep leaves bats' descriptors behind, and is named for teardown.
sleep "${FAKEQ_SLEEP:-0}" 3>&- &
echo "$!" >>"$FAKEQ_LOG.sleep"
trap 'kill $!; exit 143' TERM
wait "$!"
exit "${FAKEQ_STATUS:-0}"
EOS
    chmod +x "$FAKEQ"
    export FAKEQ_LOG=$BATS_TEST_TMPDIR/qemu.args
}

teardown() {
    [[ -z ${bgpid:-} ]] || kill "$bgpid" 2>/dev/null || true
    [[ -z ${sleeper:-} ]] || kill "$sleeper" 2>/dev/null || true
    if [[ -f $FAKEQ_LOG.sleep ]]; then
        xargs -r kill 2>/dev/null <"$FAKEQ_LOG.sleep" || true
    fi
}

# create_args ARGS...: run create and split what it printed as sh would.
create_args() {
    run --separate-stderr "$SRQ" create -d "$RT" "$@"
    # shellcheck disable=SC2154 # set by run --separate-stderr
    [ "$status" -eq 0 ] || { echo "create failed ($status): $stderr"; return 1; }
    eval "ARGS=($output)"
}

# arg_after OPT: the argument after the first OPT in ARGS.
arg_after() {
    local i
    for ((i = 0; i < ${#ARGS[@]} - 1; i++)); do
        if [[ ${ARGS[i]} == "$1" ]]; then
            echo "${ARGS[i + 1]}"
            return 0
        fi
    done
    return 1
}

# arg_matching REGEX: the arguments matching REGEX.
arg_matching() {
    local a
    for a in "${ARGS[@]}"; do
        [[ $a =~ $1 ]] && echo "$a"
    done
    return 0
}

# A dead process's pid: one that ran and was reaped.
dead_pid() {
    sleep 0 &
    local p=$!
    wait "$p"
    echo "$p"
}

# --- usage ------------------------------------------------------------------

@test "--help prints every command and exits 0" {
    run "$SRQ" --help
    [ "$status" -eq 0 ]
    for c in create run attach detach remove cleanup list; do
        [[ $output == *"scratchroot-qemu $c "* ]] || { echo "no $c in: $output"; false; }
    done
    [[ $output == *--size* && $output == *--lun* && $output == *--dir* ]]
    run "$SRQ" create --help
    [ "$status" -eq 0 ]
    [[ $output == Usage:* ]]
}

@test "no command, an unknown command or option: exit 2 with a hint" {
    run "$SRQ"
    [ "$status" -eq 2 ]
    [[ $output == *"no command given"* && $output == *"--help"* ]]
    run "$SRQ" frobnicate
    [ "$status" -eq 2 ]
    [[ $output == *"unknown command 'frobnicate'"* ]]
    run "$SRQ" create -d "$RT" --bogus
    [ "$status" -eq 2 ]
    [[ $output == *"unknown option '--bogus'"* ]]
    run "$SRQ" create -d "$RT" --lun
    [ "$status" -eq 2 ]
    [[ $output == *"--lun needs a value"* ]]
    run "$SRQ" create -d "$RT" -- qemu
    [ "$status" -eq 2 ]
    [[ $output == *"is for run"* ]]
    run "$SRQ" run -d "$RT"
    [ "$status" -eq 2 ]
    [[ $output == *"no QEMU command"* ]]
    run "$SRQ" run -d "$RT" -- "$FAKEQ" -m 512 -daemonize
    [ "$status" -eq 2 ]
    [[ $output == *"-daemonize is not for run"* ]]
    run "$SRQ" run -d "$RT" --owner 1 -- true
    [ "$status" -eq 2 ]
    [[ $output == *"--owner is for create"* ]]
    [ ! -e "$RT/vm-1.img" ]
}

# --- sizes ------------------------------------------------------------------

@test "sizes: accepted forms give the image that size, sparse" {
    local spec want n=0
    while read -r spec want; do
        n=$((n + 1))
        create_args -q -n "s$n" -s "$spec"
        echo "$spec -> $(stat -c %s "$RT/s$n.img")"
        [ "$(stat -c %s "$RT/s$n.img")" -eq "$want" ]
        [ "$(du -k "$RT/s$n.img" | cut -f1)" -eq 0 ]
    done <<'EOF'
64G 68719476736
64g 68719476736
64GiB 68719476736
512M 536870912
1T 1099511627776
67108864 67108864
65536K 67108864
0064M 67108864
EOF
}

@test "sizes: the default is 64 GiB" {
    create_args -q -n d
    [ "$(stat -c %s "$RT/d.img")" -eq 68719476736 ]
}

@test "sizes: malformed, too small, too large, unaligned are refused naming --size" {
    local spec
    for spec in "" 0 63M 1.5G -1G 64X 64GB 64B 65T 99999999999999999999 "64 G" 67109000 G; do
        run "$SRQ" create -q -d "$RT" -n bad -s "$spec"
        echo "'$spec': $status $output"
        [ "$status" -eq 2 ]
        [[ $output == *"--size: '$spec'"* ]]
    done
    [ ! -e "$RT/bad.img" ]
}

# --- printed arguments --------------------------------------------------------

@test "create prints the QEMU arguments: own controller, LUN 1, raw, unmap, fw_cfg" {
    create_args -q -n vm1
    printf '%s\n' "${ARGS[@]}"
    [ "${#ARGS[@]}" -eq 8 ]
    [ "$(arg_after -device)" = "virtio-scsi-pci,id=scratchroot-scsi" ]
    [ "$(arg_after -drive)" = "if=none,id=scratchroot-disk,file=$RT/vm1.img,format=raw,cache=unsafe,discard=unmap,detect-zeroes=unmap" ]
    [ "$(arg_matching '^scsi-hd,')" = "scsi-hd,drive=scratchroot-disk,bus=scratchroot-scsi.0,channel=0,scsi-id=0,lun=1,serial=sr-vm1" ]
    [ "$(arg_after -fw_cfg)" = "name=opt/org.scratchroot/options,string=rd.scratch.lun=1 rd.scratch.serial=sr-vm1" ]
}

@test "create: --lun, --target, --scsi-host, --serial, --cache, -o" {
    create_args -q -n vm2 -l 3 -t 2 --scsi-host 4 --serial S-42 --cache none -o rd.scratch.timeout=2.5 \
        -o rd.scratch.fallback=fail
    [ "$(arg_matching '^scsi-hd,')" = "scsi-hd,drive=scratchroot-disk,bus=scratchroot-scsi.0,channel=0,scsi-id=2,lun=3,serial=S-42" ]
    [ "$(arg_after -fw_cfg)" = "name=opt/org.scratchroot/options,string=rd.scratch.lun=4:0:2:3 rd.scratch.serial=S-42 rd.scratch.timeout=2.5 rd.scratch.fallback=fail" ]
    [[ $(arg_after -drive) == *,cache=none,* ]]
}

@test "create --controller attaches to an existing controller and adds none" {
    create_args -q -n vm3 --controller scsi0 --no-serial
    printf '%s\n' "${ARGS[@]}"
    [ "${#ARGS[@]}" -eq 6 ]
    [ -z "$(arg_matching virtio-scsi-pci)" ]
    [ "$(arg_matching '^scsi-hd,')" = "scsi-hd,drive=scratchroot-disk,bus=scsi0.0,channel=0,scsi-id=0,lun=1" ]
    [ "$(arg_after -fw_cfg)" = "name=opt/org.scratchroot/options,string=rd.scratch.lun=1" ]
}

@test "create --format lines prints one argument per line" {
    run --separate-stderr "$SRQ" create -q -d "$RT" -n vm4 --format lines
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 8 ]
    [ "${lines[0]}" = -device ]
    [ "${lines[7]}" = "name=opt/org.scratchroot/options,string=rd.scratch.lun=1 rd.scratch.serial=sr-vm4" ]
}

@test "a comma in the image's path is doubled for QEMU; quoting survives sh" {
    mkdir -m 0700 "$BATS_TEST_TMPDIR/a,b c'd"
    run --separate-stderr "$SRQ" create -q -d "$BATS_TEST_TMPDIR/a,b c'd" -n vm5
    [ "$status" -eq 0 ]
    eval "ARGS=($output)"
    [ "$(arg_after -drive)" = "if=none,id=scratchroot-disk,file=$BATS_TEST_TMPDIR/a,,b c'd/vm5.img,format=raw,cache=unsafe,discard=unmap,detect-zeroes=unmap" ]
    # and a POSIX shell reads it back the same
    run sh -c "for a in $output; do printf '%s\n' \"\$a\"; done"
    [ "${lines[3]}" = "if=none,id=scratchroot-disk,file=$BATS_TEST_TMPDIR/a,,b c'd/vm5.img,format=raw,cache=unsafe,discard=unmap,detect-zeroes=unmap" ]
}

@test "bad values are refused naming the option" {
    local spec opt
    while read -r opt spec; do
        run "$SRQ" create -q -d "$RT" -n bad "$opt" "$spec"
        echo "$opt '$spec': $status $output"
        [ "$status" -eq 2 ]
        [[ $output == *"$opt"* ]]
    done <<'EOF'
--lun 16384
--lun abc
--lun 01
--lun -1
--target 256
--scsi-host x
--serial has/slash
--serial 0123456789012345678901234567890123456
--cache fast
--name .hidden
--name a/b
--controller 0bad
-o rd.scratch.lun=2
-o rd.scratch.serial=x
-o foo=1
-o rd.scratch.timeout=
--format json
--owner 0
--owner abc
EOF
    [ ! -e "$RT/bad.img" ]
}

@test "--owner of no process is refused, nothing is left behind" {
    run "$SRQ" create -q -d "$RT" -n nobody --owner "$(dead_pid)"
    [ "$status" -eq 1 ]
    [[ $output == *"--owner"*"no such process"* ]]
    [ ! -e "$RT/nobody.img" ]
    [ ! -e "$RT/nobody.lock" ]
}

# --- instances ----------------------------------------------------------------

@test "the image and its lock file are private; the lock names the owner" {
    sleep 600 3>&- &
    sleeper=$!
    create_args -q -n own --owner "$sleeper"
    [ "$(stat -c %a "$RT/own.img")" = 600 ]
    [ "$(stat -c %a "$RT")" = 700 ]
    cat "$RT/own.lock"
    grep -Eq "^pid=$sleeper start=[0-9]+ boot=$(cat /proc/sys/kernel/random/boot_id) mode=create$" "$RT/own.lock"
}

@test "a name in use by a live instance is refused" {
    sleep 600 3>&- &
    sleeper=$!
    create_args -q -n busy --owner "$sleeper"
    run "$SRQ" create -q -d "$RT" -n busy --owner "$sleeper"
    [ "$status" -eq 1 ]
    [[ $output == *"instance busy is in use"* ]]
    [ -f "$RT/busy.img" ]
}

@test "stale instances go (dead pid, reused pid, other boot), live ones stay" {
    local dead
    dead=$(dead_pid)
    sleep 600 3>&- &
    sleeper=$!
    create_args -q -n live --owner "$sleeper"
    mkdir -p "$RT"
    truncate -s 1G "$RT/dead.img" "$RT/reused.img" "$RT/oldboot.img" "$RT/orphan.img"
    echo "pid=$dead start=123 boot=$(cat /proc/sys/kernel/random/boot_id) mode=create" >"$RT/dead.lock"
    # a live pid, but not the process that started then
    echo "pid=$sleeper start=1 boot=$(cat /proc/sys/kernel/random/boot_id) mode=run" >"$RT/reused.lock"
    # the same process, as far as pid and start go, from another boot
    sed 's/boot=[^ ]*/boot=00000000-0000-0000-0000-000000000000/' "$RT/live.lock" >"$RT/oldboot.lock"
    run "$SRQ" list -d "$RT"
    echo "$output"
    [[ $(grep '^dead ' <<<"$output") == *stale* ]]
    [[ $(grep '^live ' <<<"$output") == *live* ]]
    run "$SRQ" cleanup -d "$RT"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"removed stale instance dead (owner pid $dead is gone)"* ]]
    [[ $output == *"removed stale instance reused"* ]]
    [[ $output == *"removed stale instance oldboot"* ]]
    [[ $output == *"3 stale instance(s) removed"* ]]
    for n in dead reused oldboot; do
        [ ! -e "$RT/$n.img" ]
        [ ! -e "$RT/$n.lock" ]
    done
    # an image without a lock record of ours is not an instance: kept
    [[ $output != *orphan* ]]
    [ -f "$RT/orphan.img" ]
    [ -f "$RT/live.img" ]
    [ -f "$RT/live.lock" ]
    # once its owner is gone, the next start removes it
    kill "$sleeper"
    wait "$sleeper" || true
    sleeper=""
    run --separate-stderr "$SRQ" create -d "$RT" -n next -s 1G
    [ "$status" -eq 0 ]
    [[ $stderr == *"removed stale instance live"* ]]
    [ ! -e "$RT/live.img" ]
}

@test "an image some process has open is live, whatever its lock file says" {
    mkdir -p "$RT"
    truncate -s 1G "$RT/held.img" "$RT/heldorphan.img"
    echo "pid=$(dead_pid) start=1 boot=$(cat /proc/sys/kernel/random/boot_id) mode=create" >"$RT/held.lock"
    # a VM started from create's arguments, its owner gone
    sleep 600 3<"$RT/held.img" 4<"$RT/heldorphan.img" &
    sleeper=$!
    for _ in $(seq 50); do [ -e "/proc/$sleeper/fd/4" ] && break; sleep 0.1; done
    [ "$(readlink "/proc/$sleeper/fd/4")" = "$RT/heldorphan.img" ]
    run "$SRQ" cleanup -d "$RT"
    echo "$output"
    [[ $output == *"0 stale instance(s) removed"* ]]
    [ -f "$RT/held.img" ]
    [ -f "$RT/heldorphan.img" ]
    run "$SRQ" remove -d "$RT" -n held
    [ "$status" -eq 1 ]
    [[ $output == *"--name held: a process has its image open; not removed"* ]]
    [ -f "$RT/held.img" ]
    kill "$sleeper"
    wait "$sleeper" || true
    sleeper=""
    run "$SRQ" cleanup -d "$RT"
    echo "$output"
    [[ $output == *"1 stale instance(s) removed"* ]]
    [ ! -e "$RT/held.img" ]
    # no lock record of ours: not an instance, never removed
    [ -f "$RT/heldorphan.img" ]
}

@test "cleanup touches nothing but its own files, and never outside the directory" {
    mkdir -p "$RT" "$BATS_TEST_TMPDIR/outside"
    echo keep >"$BATS_TEST_TMPDIR/outside/victim.img"
    echo keep >"$BATS_TEST_TMPDIR/outside/victim.lock"
    ln -s "$BATS_TEST_TMPDIR/outside/victim.img" "$RT/link.img"
    ln -s "$BATS_TEST_TMPDIR/outside/victim.lock" "$RT/link.lock"
    echo notes >"$RT/notes.txt"
    echo x >"$RT/.hidden.img"
    echo x >"$RT/-dash.img"
    mkdir "$RT/sub.img.d"
    # a VM's own disk kept in the same directory, and a lock of another tool
    echo keep >"$RT/disk.img"
    echo keep >"$RT/other.img"
    echo "some other tool's lock" >"$RT/other.lock"
    run "$SRQ" cleanup -d "$RT"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"0 stale instance(s) removed"* ]]
    [ "$(cat "$BATS_TEST_TMPDIR/outside/victim.img")" = keep ]
    [ "$(cat "$BATS_TEST_TMPDIR/outside/victim.lock")" = keep ]
    [ "$(cat "$RT/disk.img")" = keep ]
    [ "$(cat "$RT/other.img")" = keep ]
    [ -f "$RT/other.lock" ]
    run "$SRQ" remove -d "$RT" -n disk
    [ "$status" -eq 1 ]
    [[ $output == *"--name disk: $RT/disk.lock holds no record of this program; not an instance of it, not removed"* ]]
    [ "$(cat "$RT/disk.img")" = keep ]
    [ -f "$RT/notes.txt" ]
    [ -f "$RT/.hidden.img" ]
    [ -f "$RT/-dash.img" ]
    [ -d "$RT/sub.img.d" ]
}

@test "a planted symlink is never followed when an image is made" {
    mkdir -p "$RT" "$BATS_TEST_TMPDIR/outside"
    echo keep >"$BATS_TEST_TMPDIR/outside/target"
    sleep 600 3>&- &
    sleeper=$!
    # planted beside a live instance's lock, so that cleanup keeps it
    create_args -q -n live --owner "$sleeper"
    rm "$RT/live.img"
    ln -s "$BATS_TEST_TMPDIR/outside/target" "$RT/live.img"
    run "$SRQ" create -q -d "$RT" -n live --owner "$sleeper"
    [ "$status" -eq 1 ]
    [ "$(cat "$BATS_TEST_TMPDIR/outside/target")" = keep ]
}

@test "remove: an instance by name; not while its VM runs; unknown names fail" {
    create_args -q -n gone -s 1G --owner $$
    run "$SRQ" remove -d "$RT" -n gone
    [ "$status" -eq 0 ]
    [ ! -e "$RT/gone.img" ]
    [ ! -e "$RT/gone.lock" ]
    run "$SRQ" remove -d "$RT" -n gone
    [ "$status" -eq 1 ]
    [[ $output == *"--name gone: no such instance"* ]]
    run "$SRQ" remove -d "$RT"
    [ "$status" -eq 2 ]
    FAKEQ_SLEEP=600 "$SRQ" run -q -d "$RT" -n running -- "$FAKEQ" </dev/null &
    bgpid=$!
    for _ in $(seq 50); do [ -f "$RT/running.img" ] && break; sleep 0.1; done
    run "$SRQ" remove -d "$RT" -n running
    [ "$status" -eq 1 ]
    [[ $output == *"its VM is running"* ]]
    [ -f "$RT/running.img" ]
}

# --- run ------------------------------------------------------------------------

@test "run appends its arguments to QEMU's, passes stdin, returns QEMU's status, removes the image" {
    echo "from stdin" | FAKEQ_STATUS=3 "$SRQ" run -q -d "$RT" -n r1 -s 1G -- "$FAKEQ" -m 512 "a b" || status=$?
    [ "${status:-0}" -eq 3 ]
    cat "$FAKEQ_LOG"
    mapfile -t got <"$FAKEQ_LOG"
    [ "${got[0]}" = -m ]
    [ "${got[1]}" = 512 ]
    [ "${got[2]}" = "a b" ]
    [ "${got[3]}" = -device ]
    [ "${got[4]}" = virtio-scsi-pci,id=scratchroot-scsi ]
    [ "${got[6]}" = "if=none,id=scratchroot-disk,file=$RT/r1.img,format=raw,cache=unsafe,discard=unmap,detect-zeroes=unmap" ]
    [ "${got[10]}" = "name=opt/org.scratchroot/options,string=rd.scratch.lun=1 rd.scratch.serial=sr-r1" ]
    [ "${got[11]}" = "stdin=from stdin" ]
    # QEMU holds the instance's lock (so that it stays live without run)
    grep -q "$RT/r1.lock" "$FAKEQ_LOG.fds"
    [ ! -e "$RT/r1.img" ]
    [ ! -e "$RT/r1.lock" ]
}

@test "run: QEMU's output and errors reach run's; a closed stdin; a QEMU that is not there" {
    run --separate-stderr "$SRQ" run -q -d "$RT" -n out -s 1G -- sh -c 'echo to-stdout; echo to-stderr >&2' qemu
    [ "$status" -eq 0 ]
    [ "$output" = to-stdout ]
    [ "$stderr" = to-stderr ]
    # run started with no stdin at all: QEMU gets /dev/null
    run timeout 20 sh -c 'exec <&-; exec "$0" "$@"' "$SRQ" run -q -d "$RT" -n closed -s 1G -- \
        sh -c 'readlink /proc/$$/fd/0; cat; echo done' qemu
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = /dev/null ]
    [ "${lines[1]}" = "done" ]
    run -127 "$SRQ" run -d "$RT" -n missing -s 1G -- "$BATS_TEST_TMPDIR/no-such-qemu"
    echo "$output"
    [ "$status" -eq 127 ]
    [[ $output == *"no-such-qemu: No such file or directory"* ]]
    [ ! -e "$RT/missing.img" ]
    [ ! -e "$RT/out.img" ]
    [ ! -e "$RT/closed.img" ]
}

@test "an image on tmpfs is made with a warning about host memory" {
    mkdir -p "$BATS_TEST_TMPDIR/tmpfs"
    run unshare -m sh -c 'mount -t tmpfs -o size=16m,mode=0700 none "$1" && "$2" create -d "$1" -n t -s 1G' \
        sh "$BATS_TEST_TMPDIR/tmpfs" "$SRQ"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"is on tmpfs: what the guest writes to its scratch disk takes host memory"* ]]
    # and none on the test's own directory (not tmpfs here)
    [ "$(stat -f -c %T "$BATS_TEST_TMPDIR")" != tmpfs ] || skip "the test directory is on tmpfs"
    run --separate-stderr "$SRQ" create -d "$RT" -n nt -s 1G
    [[ $stderr != *tmpfs* ]]
}

@test "run: QEMU killed with SIGKILL: status 137, image removed" {
    FAKEQ_SLEEP=600 "$SRQ" run -q -d "$RT" -n r2 -- "$FAKEQ" </dev/null &
    bgpid=$!
    for _ in $(seq 50); do [ -s "$FAKEQ_LOG" ] && break; sleep 0.1; done
    [ -f "$RT/r2.img" ]
    pkill -KILL -P "$bgpid" -f fake-qemu
    wait "$bgpid" || status=$?
    bgpid=""
    [ "$status" -eq 137 ]
    [ ! -e "$RT/r2.img" ]
    [ ! -e "$RT/r2.lock" ]
}

@test "run: SIGTERM to run stops QEMU, status 143, image removed" {
    FAKEQ_SLEEP=600 "$SRQ" run -q -d "$RT" -n r3 -- "$FAKEQ" </dev/null &
    bgpid=$!
    for _ in $(seq 50); do [ -s "$FAKEQ_LOG" ] && break; sleep 0.1; done
    qpid=$(pgrep -P "$bgpid" -f fake-qemu)
    [ -n "$qpid" ]
    kill -TERM "$bgpid"
    wait "$bgpid" || status=$?
    bgpid=""
    [ "$status" -eq 143 ]
    run kill -0 "$qpid"
    [ "$status" -ne 0 ]
    [ ! -e "$RT/r3.img" ]
    [ ! -e "$RT/r3.lock" ]
}

@test "run killed with SIGKILL: live while QEMU runs, stale after, then cleaned" {
    FAKEQ_SLEEP=2 "$SRQ" run -q -d "$RT" -n r4 -- "$FAKEQ" </dev/null &
    bgpid=$!
    for _ in $(seq 50); do [ -s "$FAKEQ_LOG" ] && break; sleep 0.1; done
    qpid=$(pgrep -P "$bgpid" -f fake-qemu)
    kill -KILL "$bgpid"
    wait "$bgpid" || true
    bgpid=""
    run "$SRQ" cleanup -q -d "$RT"
    [ -f "$RT/r4.img" ]
    run "$SRQ" list -d "$RT"
    [[ $(grep '^r4 ' <<<"$output") == *" live "* ]]
    while kill -0 "$qpid" 2>/dev/null; do sleep 0.1; done
    run "$SRQ" list -d "$RT"
    [[ $(grep '^r4 ' <<<"$output") == *" stale "* ]]
    run "$SRQ" cleanup -d "$RT"
    [[ $output == *"removed stale instance r4"* ]]
    [ ! -e "$RT/r4.img" ]
}

# --- the instance directory -------------------------------------------------------

@test "unsafe instance directories are refused, naming the option" {
    mkdir -m 0777 "$BATS_TEST_TMPDIR/ww"
    chmod 0777 "$BATS_TEST_TMPDIR/ww"
    run "$SRQ" create -q -d "$BATS_TEST_TMPDIR/ww" -n x
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"--dir $BATS_TEST_TMPDIR/ww: writable by others (mode 777) without the sticky bit"* ]]
    chmod 0770 "$BATS_TEST_TMPDIR/ww"
    run "$SRQ" create -q -d "$BATS_TEST_TMPDIR/ww" -n x
    [ "$status" -eq 1 ]
    [[ $output == *"writable by others (mode 770)"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/ww/x.img" ]
    # sticky, like /tmp: accepted
    chmod 1777 "$BATS_TEST_TMPDIR/ww"
    create_args -q -n x -d "$BATS_TEST_TMPDIR/ww" -s 1G
    [ -f "$BATS_TEST_TMPDIR/ww/x.img" ]
    # someone else's
    mkdir -m 0700 "$BATS_TEST_TMPDIR/theirs"
    chown 65534:65534 "$BATS_TEST_TMPDIR/theirs"
    run "$SRQ" cleanup -d "$BATS_TEST_TMPDIR/theirs"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"--dir $BATS_TEST_TMPDIR/theirs: owned by uid 65534, not by you (uid $(id -u))"* ]]
    # from the environment
    SCRATCHROOT_QEMU_DIR=$BATS_TEST_TMPDIR/theirs run "$SRQ" list
    [ "$status" -eq 1 ]
    [[ $output == *'$SCRATCHROOT_QEMU_DIR'*"owned by uid 65534"* ]]
    # not a directory; no parent
    : >"$BATS_TEST_TMPDIR/file"
    run "$SRQ" list -d "$BATS_TEST_TMPDIR/file"
    [ "$status" -eq 1 ]
    [[ $output == *"--dir $BATS_TEST_TMPDIR/file: not a directory"* ]]
    run "$SRQ" list -d "$BATS_TEST_TMPDIR/no/such"
    [ "$status" -eq 1 ]
    [[ $output == *"--dir $BATS_TEST_TMPDIR/no/such: cannot create it"* ]]
}

@test "the default directory: /var/tmp/scratchroot-qemu, -UID for a user" {
    # /var/tmp is a tmpfs of this test's own, in a private mount namespace.
    # The checkout or the test's own directory may be under /var/tmp: the
    # helper and a fake id(1) are read before the tmpfs hides them and put
    # in a directory of the tmpfs.
    cat >"$BATS_TEST_TMPDIR/bin/id" <<'EOS'
#!/bin/sh
echo 4242
EOS
    run unshare -m sh -c '
        exec 3<"$1" 4<"$2"
        mount -t tmpfs -o size=4m,mode=1777 none /var/tmp || exit 99
        mkdir -m 0755 /var/tmp/.bin || exit 98
        cat <&3 >/var/tmp/.bin/scratchroot-qemu && cat <&4 >/var/tmp/.bin/id || exit 97
        chmod 0755 /var/tmp/.bin/scratchroot-qemu /var/tmp/.bin/id
        exec 3<&- 4<&-
        /var/tmp/.bin/scratchroot-qemu list || echo "root: list failed"
        stat -c "root-dir %a %u" /var/tmp/scratchroot-qemu
        PATH=/var/tmp/.bin:$PATH scratchroot-qemu list 2>&1
        echo "user: $?"
        stat -c "user-dir %a %u" /var/tmp/scratchroot-qemu-4242' sh "$SRQ" "$BATS_TEST_TMPDIR/bin/id"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *"root: list failed"* ]]
    [[ $output == *"root-dir 700 0"* ]]
    # made with mode 0700 by root here, so owned by root: refused as not the user's
    [[ $output == *"instance directory (--dir) /var/tmp/scratchroot-qemu-4242: owned by uid 0, not by you (uid 4242)"* ]]
    [[ $output == *"user: 1"* ]]
    [[ $output == *"user-dir 700 0"* ]]
    # nothing reached the host's own /var/tmp
    [ ! -e /var/tmp/scratchroot-qemu-4242 ]
}

# --- attach and detach: a real QEMU, paused (-S), with a virtio-scsi controller

# start_vm: a QEMU that runs no guest, its QMP monitor at $SOCK.
start_vm() {
    SOCK=$BATS_TEST_TMPDIR/qmp.sock
    qemu-system-x86_64 -machine q35 -nodefaults -display none -S -device virtio-scsi-pci,id=scsi0 \
        -qmp "unix:$SOCK,server=on,wait=off" -daemonize -pidfile "$BATS_TEST_TMPDIR/qemu.pid"
    sleeper=$(cat "$BATS_TEST_TMPDIR/qemu.pid")
    [ -S "$SOCK" ]
}

# qmp_ask JSON: QEMU's answer to one command.
qmp_ask() {
    printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" | socat -t 2 - "UNIX-CONNECT:$SOCK" | tr -d '\r' | tail -n 1
}

# vm_devices: the ids of the devices added to the VM.
vm_devices() {
    qmp_ask '{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}' |
        grep -o '"name": "[^"]*"' | cut -d'"' -f4 | sort | tr '\n' ' '
}

@test "attach: a sparse image hot-plugged as scsi-hd with a serial; detach unplugs it and removes the image, the VM still runs" {
    start_vm
    run --separate-stderr "$SRQ" attach -d "$RT" --qmp "$SOCK" -n web1 -c scsi0 -s 1G
    echo "$output $stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "--lun 2 --serial sr-web1" ]
    [[ $stderr == *"on scsi0, SCSI target 0, LUN 2, serial sr-web1"* ]]
    [ "$(stat -c %s "$RT/web1.img")" -eq $((1 << 30)) ]
    [ "$(du -k "$RT/web1.img" | cut -f1)" -eq 0 ]
    [[ $(vm_devices) == *"sr-dev-web1 "* ]]
    [[ $(qmp_ask '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/sr-dev-web1","property":"lun"}}') == '{"return": 2}' ]]
    [[ $(qmp_ask '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/sr-dev-web1","property":"serial"}}') == '{"return": "sr-web1"}' ]]
    [[ $(qmp_ask '{"execute":"query-named-block-nodes"}') == *'"node-name": "sr-node-web1"'* ]]
    [[ $(qmp_ask '{"execute":"query-named-block-nodes"}') == *'"detect_zeroes": "unmap"'* ]]
    run "$SRQ" list -d "$RT"
    [[ $output == *"web1"*"live"*"attach"*"$RT/web1.img"* ]]

    run "$SRQ" attach -d "$RT" --qmp "$SOCK" -n web2 -c scsi0 -s 1G
    [ "$status" -eq 0 ]
    [[ $output == *"--lun 3 --serial sr-web2"* ]]

    run "$SRQ" detach -d "$RT" --qmp "$SOCK" -n web1
    echo "$output"
    [ "$status" -eq 0 ]
    [ ! -e "$RT/web1.img" ] && [ ! -e "$RT/web1.lock" ]
    [[ $(vm_devices) != *"sr-dev-web1 "* ]]
    [[ $(vm_devices) == *"sr-dev-web2 "* ]]
    [[ $(qmp_ask '{"execute":"query-named-block-nodes"}') != *'sr-node-web1'* ]]
    kill -0 "$sleeper"
    run "$SRQ" detach -d "$RT" --qmp "$SOCK" -n web1
    [ "$status" -eq 1 ]
    [[ $output == *"no attached instance of that name"* ]]
}

@test "attach: a LUN QEMU refuses leaves no image, lock or block node behind" {
    start_vm
    run "$SRQ" attach -d "$RT" --qmp "$SOCK" -n a -c scsi0 -s 64M --lun 5
    [ "$status" -eq 0 ]
    run "$SRQ" attach -d "$RT" --qmp "$SOCK" -n b -c scsi0 -s 64M --lun 5
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"attach b: device_add on scsi0, target 0, LUN 5: "* ]]
    [ ! -e "$RT/b.img" ] && [ ! -e "$RT/b.lock" ]
    [[ $(qmp_ask '{"execute":"query-named-block-nodes"}') != *'sr-node-b"'* ]]
    run "$SRQ" attach -d "$RT" --qmp "$SOCK" -n c -c nosuch -s 64M
    [ "$status" -eq 1 ]
    [ ! -e "$RT/c.img" ]
    run "$SRQ" attach -d "$RT" --qmp "$BATS_TEST_TMPDIR/none.sock" -n d
    [ "$status" -eq 1 ]
    [[ $output == *"not a socket"* ]]
    [ ! -e "$RT/d.img" ] && [ ! -e "$RT/d.lock" ]
}

@test "cleanup: the image of a VM that died, and a detach stopped half-way, are removed" {
    start_vm
    "$SRQ" attach -q -d "$RT" --qmp "$SOCK" -n half -c scsi0 -s 64M
    # detach killed after it marked the record: cleanup finishes it.
    sed -i 's/ mode=attach / mode=detach /' "$RT/half.lock"
    run "$SRQ" cleanup -d "$RT"
    echo "$output"
    [ ! -e "$RT/half.img" ] && [ ! -e "$RT/half.lock" ]
    [[ $(vm_devices) != *"sr-dev-half "* ]]

    "$SRQ" attach -q -d "$RT" --qmp "$SOCK" -n gone -c scsi0 -s 64M
    run "$SRQ" cleanup -d "$RT"
    [ -e "$RT/gone.img" ]
    kill "$sleeper"
    while kill -0 "$sleeper" 2>/dev/null; do sleep 0.1; done
    run "$SRQ" list -d "$RT"
    [[ $output == *"gone"*"stale"*"attach"* ]]
    run "$SRQ" cleanup -d "$RT"
    [[ $output == *"removed stale instance gone (its VM is gone)"* ]]
    [ ! -e "$RT/gone.img" ] && [ ! -e "$RT/gone.lock" ]
}

@test "attach and detach: usage" {
    run "$SRQ" attach -d "$RT" -n a
    [ "$status" -eq 2 ]
    [[ $output == *"give the VM's monitor with --qmp"* ]]
    run "$SRQ" attach -d "$RT" --qmp /tmp/x.sock
    [ "$status" -eq 2 ]
    [[ $output == *"give the instance a --name"* ]]
    run "$SRQ" create -d "$RT" --qmp /tmp/x.sock
    [ "$status" -eq 2 ]
    [[ $output == *"--qmp is for attach and detach"* ]]
    run "$SRQ" attach -d "$RT" --qmp 'a b.sock' -n a
    [ "$status" -eq 2 ]
    [[ $output == *"a path without blanks or quotes"* ]]
    run "$SRQ" detach -d "$RT"
    [ "$status" -eq 2 ]
    [[ $output == *"detach: give the instance with --name"* ]]
}

@test "detach: the socket attach used is recorded, another one is refused" {
    start_vm
    (cd "$BATS_TEST_TMPDIR" && "$SRQ" attach -q -d "$RT" --qmp qmp.sock -n rec -c scsi0 -s 64M)
    grep -q " mode=attach qmp=$SOCK ctrl=scsi0 lun=2$" "$RT/rec.lock"
    run "$SRQ" detach -d "$RT" --qmp "$BATS_TEST_TMPDIR/other.sock" -n rec
    [ "$status" -eq 1 ]
    [[ $output == *"--name rec was attached through $SOCK, not $BATS_TEST_TMPDIR/other.sock"* ]]
    [ -e "$RT/rec.img" ]
    [[ $(vm_devices) == *"sr-dev-rec "* ]]
    run "$SRQ" detach -d "$RT" -n rec
    [ "$status" -eq 0 ]
    [ ! -e "$RT/rec.img" ] && [ ! -e "$RT/rec.lock" ]
    [[ $(vm_devices) != *"sr-dev-rec "* ]]
}
