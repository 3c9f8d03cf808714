#!/bin/bash
# Bad option values from every source, run through the real helper.
#
#   test/badinput/table.sh --write docs/bad-input.md   regenerate the table
#   test/badinput/table.sh --check docs/bad-input.md   regenerate into a temp
#                                                      file and compare
#
# Each case runs "scratchroot setup" once, in a private mount namespace with
# a tmpfs on /run, a file over /dev/kmsg, a tmpfs as the new root and a fake
# sysfs tree. The option text comes from one source per case: the command
# line (--cmdline), the fw_cfg blob, an SMBIOS type 11 structure, a virtio
# port (a pseudo-terminal the fake sysfs points at) or the config file.
#
# The one disk in the fake sysfs is a blank 64 MiB loop device at SCSI
# address 0:0:0:1: a value that wrapped around to LUN 1 would select it.
# The mke2fs the helper is given only records that it was called and fails,
# and the image is checked unchanged at the end. The run fails when a case
# started mke2fs, changed the image, ended by a signal or a sanitizer report,
# printed nothing, or did not name the option or source of a value it did
# not use; --check also fails when the table differs from the file.
#
# Needs root, loop devices, util-linux (unshare, losetup) and a C compiler
# (for the pseudo-terminal). A missing tool fails the run, it never skips.

# shellcheck source=test/integration/preamble.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../integration/preamble.sh"

SOURCES=(cmdline fw_cfg smbios virtio-port config)
# For trying out a change: BADINPUT_SOURCES="smbios config" runs only
# those (--check then fails, the table being incomplete).
if [[ -n ${BADINPUT_SOURCES:-} ]]; then
    read -r -a SOURCES <<<"$BADINPUT_SOURCES"
fi
# Every option the parser knows, in its order, as the helper lists them.
mapfile -t OPTIONS < <("$SR_HELPER" --list-options 2>/dev/null)
INPUTS=(empty bare huge negative word overlong dquoted squoted nul nonascii control repeat repeat-bad)
OVERLONG=5000

# ---------------------------------------------------------------------------
# Inside the namespace: one run of the helper
# ---------------------------------------------------------------------------

# ns_case DIR: runs the helper as DIR/cmd says, leaves rc, stderr, state.
ns_case() {
    local c=$1 rc
    local -a args=()
    ns_initrd "$c/kmsg" || return 1
    mount -t tmpfs -o mode=0755 sr-root "$c/newroot" || return 1
    # The virtio port: the pseudo-terminal's slave as /dev/vport1p1, where
    # the helper looks first. A node made elsewhere for a pseudo-terminal
    # does not open, so the devpts one is bound there, on a /dev of our own.
    if [[ -f $c/pts ]]; then
        : >"$c/port"
        mount --bind "$(cat "$c/pts")" "$c/port" || return 1
        mount -t tmpfs -o mode=0755,nosuid sr-dev /dev || return 1
        mknod -m 0666 /dev/null c 1 3 || return 1
        : >/dev/kmsg
        mount --bind "$c/kmsg" /dev/kmsg || return 1
        : >/dev/vport1p1
        mount --bind "$c/port" /dev/vport1p1 || return 1
    fi
    mkdir "$c/newroot/etc" && echo root >"$c/newroot/etc/marker" || return 1
    args=(setup --newroot "$c/newroot" --sysfs "$c/sys" --config "$c/scratchroot.conf" --mke2fs "$T/mke2fs")
    if [[ -f $c/cmdline ]]; then
        args+=(--cmdline "$(cat "$c/cmdline")")
    else
        args+=(--cmdline "")
    fi
    "$SR_HELPER" "${args[@]}" >"$c/stdout" 2>"$c/stderr"
    rc=$?
    echo "$rc" >"$c/rc"
    if [[ -f /run/scratchroot/state ]]; then
        cp /run/scratchroot/state "$c/state"
    fi
    return 0
}

# ---------------------------------------------------------------------------
# Outside: the cases
# ---------------------------------------------------------------------------

# A valid value of each option, two for the repeated cases, and what else
# the case's text carries so that the value's effect shows in the outcome:
# a LUN with no disk behind it (a used value then ends in "no disk at ...")
# and no wait for that disk.
valid() {
    case $1 in
        rd.scratch) echo 1 ;;
        rd.scratch.lun) echo 5 ;;
        rd.scratch.serial) echo NO-SUCH-DISK ;;
        rd.scratch.timeout) echo 0.2 ;;
        rd.scratch.fallback) echo none ;;
        rd.scratch.tmpfs.size) echo 16M ;;
        *) echo 1 ;;    # the others are booleans
    esac
}
second() {
    case $1 in
        rd.scratch) echo 0 ;;
        rd.scratch.lun) echo 6 ;;
        rd.scratch.serial) echo OTHER-DISK ;;
        rd.scratch.timeout) echo 0.3 ;;
        rd.scratch.fallback) echo fail ;;
        rd.scratch.tmpfs.size) echo 32M ;;
        *) echo 0 ;;
    esac
}
context() {
    case $1 in
        rd.scratch.lun|rd.scratch.serial) printf 'rd.scratch.timeout=0 ' ;;
        rd.scratch.timeout) printf 'rd.scratch.lun=5 ' ;;
        *) printf 'rd.scratch.lun=5 rd.scratch.timeout=0 ' ;;
    esac
}

# text OPTION INPUT: the option text of a case, raw bytes on stdout.
text() {
    local k=$1 v
    v=$(valid "$k")
    context "$k"
    case $2 in
        empty) printf '%s=' "$k" ;;
        bare) printf '%s' "$k" ;;
        huge) printf '%s=18446744073709551617' "$k" ;;   # 2^64 + 1
        negative) printf '%s=-1' "$k" ;;
        word) printf '%s=abc' "$k" ;;
        overlong) printf '%s=' "$k"; head -c "$OVERLONG" /dev/zero | tr '\0' 7 ;;
        dquoted) printf '%s="%s"' "$k" "$v" ;;
        squoted) printf "%s='%s'" "$k" "$v" ;;
        nul) printf '%s=%s\0junk' "$k" "$v" ;;
        nonascii) printf '%s=%s\xc3\xa9' "$k" "$v" ;;
        control) printf '%s=%s\x1b[2J' "$k" "$v" ;;
        repeat) printf '%s=%s %s=%s' "$k" "$v" "$k" "$(second "$k")" ;;
        repeat-bad) printf '%s=%s %s=' "$k" "$v" "$k" ;;
    esac
}

# esc FILE [MAX]: the bytes of FILE as printable ASCII; others as \xNN, and
# the characters markdown would take (| \ `) too. Longer than MAX: cut.
esc() {
    local max=${2:-0} size
    size=$(stat -c %s "$1")
    od -An -v -tu1 "$1" | tr -s ' ' '\n' | awk -v max="$max" -v size="$size" '
        NF { n++
             if (max && n > max) next
             c = $1 + 0
             if (c >= 32 && c < 127 && c != 92 && c != 96 && c != 124) printf "%c", c
             else printf "\\x%02x", c }
        END { if (max && n > max) printf "...(%d bytes in all)", size }'
}

# What the case puts where the helper reads it.
place() {
    local c=$1 src=$2 payload=$3 d
    case $src in
        cmdline) cp "$payload" "$c/cmdline" ;;
        fw_cfg)
            d=$c/sys/firmware/qemu_fw_cfg/by_name/opt/org.scratchroot/options
            mkdir -p "$d" && cp "$payload" "$d/raw"
            ;;
        smbios)
            # type 11, formatted area of 5 bytes, handle 0x0100, one string
            d=$c/sys/firmware/dmi/entries/11-0
            mkdir -p "$d"
            { printf '\x0b\x05\x00\x01\x01org.scratchroot.options='; cat "$payload"; printf '\0\0'; } >"$d/raw"
            ;;
        virtio-port)
            d=$c/sys/class/virtio-ports/vport1p1
            mkdir -p "$d" && echo org.scratchroot.options >"$d/name"
            { cat "$payload"; echo; } >"$c/line"
            ;;
        config) { cat "$payload"; echo; } >"$c/scratchroot.conf" ;;
    esac
}

# The host end of the virtio port: a pseudo-terminal in raw mode. The
# program writes the slave's device number where the fake sysfs has it and
# the slave's path to a file, creates the ready file, writes the line to the
# master and waits to be killed.
PTY_C='
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>
int main(int argc, char **argv) {
        struct termios t;
        struct stat st;
        char buf[65536];
        FILE *f;
        ssize_t n, o, k;
        int m, s, in;
        if (argc != 5 || (m = posix_openpt(O_RDWR | O_NOCTTY)) < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
                return 1;
        if ((s = open(ptsname(m), O_RDWR | O_NOCTTY)) < 0 || tcgetattr(s, &t) < 0)
                return 1;
        cfmakeraw(&t);
        if (tcsetattr(s, TCSANOW, &t) < 0 || fstat(s, &st) < 0)
                return 1;
        if (!(f = fopen(argv[1], "w")) || fprintf(f, "%u:%u\n", major(st.st_rdev), minor(st.st_rdev)) < 0 || fclose(f))
                return 1;
        if (!(f = fopen(argv[4], "w")) || fprintf(f, "%s\n", ptsname(m)) < 0 || fclose(f))
                return 1;
        if (!(f = fopen(argv[3], "w")) || fclose(f))
                return 1;
        if ((in = open(argv[2], O_RDONLY)) < 0 || (n = read(in, buf, sizeof(buf))) < 0)
                return 1;
        for (o = 0; o < n; o += k)
                if ((k = write(m, buf + o, (size_t) (n - o))) <= 0)
                        return 1;
        for (;;)
                pause();
}
'

start_port() {
    local c=$1 _
    "$T/pty-port" "$c/sys/class/virtio-ports/vport1p1/dev" "$c/line" "$c/port-ready" "$c/pts" &
    PORT_PID=$!
    for _ in $(seq 200); do
        [[ -e $c/port-ready ]] && return 0
        sleep 0.02
    done
    return 1
}

# run_case N SOURCE OPTION INPUT: one row of the table on stdout; problems
# with the case on $T/problems.
run_case() {
    local n=$1 src=$2 opt=$3 input=$4 c rc backing msg label result named
    c=$T/case-$n
    mkdir -p "$c/newroot"
    cp -a "$T/sys-base" "$c/sys"
    text "$opt" "$input" >"$c/payload"
    place "$c" "$src" "$c/payload"
    PORT_PID=
    if [[ $src == virtio-port ]] && ! start_port "$c"; then
        echo "$src $opt $input: the pseudo-terminal did not start" >>"$T/problems"
    fi
    unshare_self ns_case "$c"
    rc=$?
    if [[ -n $PORT_PID ]]; then
        kill "$PORT_PID" 2>/dev/null
        wait "$PORT_PID" 2>/dev/null
    fi
    [[ $rc == 0 && -f $c/rc ]] || echo "$src $opt $input: the namespace part failed ($rc)" >>"$T/problems"

    rc=$(cat "$c/rc" 2>/dev/null || echo '?')
    backing=$(sed -n 's/^backing=//p' "$c/state" 2>/dev/null)
    # One line per message; the setup time is not the same twice.
    sed -e 's/^scratchroot: //' -e 's/, setup took [0-9]* ms$//' "$c/stderr" >"$c/messages"
    msg=$(esc "$c/messages" | sed 's/\\x0a/<br>/g; s/<br>$//')
    label=$(esc "$c/payload" 120)

    if grep -qE 'malformed value|out of range|longer than 256 bytes' "$c/messages"; then
        result="value refused"
        named=$opt
    elif grep -qE "options from [^ ]+ (refused|unreadable)" "$c/messages"; then
        result="source refused"
        named=$src
    elif grep -q 'disabled by rd.scratch=0' "$c/messages"; then
        result="disabled"
        named=rd.scratch=0
    else
        result="used"
        named=
    fi
    result="$result; exit $rc, backing=${backing:--}"

    if [[ ! $rc =~ ^[0-9]+$ ]] || ((rc >= 128)); then
        echo "$src $opt $input: the helper ended with status $rc (a signal?)" >>"$T/problems"
    fi
    if grep -qE 'Sanitizer|runtime error:' "$c/stderr"; then
        echo "$src $opt $input: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$c/stderr")" >>"$T/problems"
    fi
    if [[ ! -s $c/messages ]]; then
        echo "$src $opt $input: the helper printed nothing" >>"$T/problems"
    fi
    # A value not used is told with the option's name, a source refused
    # whole with the source's name; problems from other sources than the
    # command line say which source they came from.
    if [[ -n $named ]] && ! grep -qF -- "$named" "$c/messages"; then
        echo "$src $opt $input: $result but no message names $named" >>"$T/problems"
    fi
    if [[ $result == "value refused"* && $src != cmdline ]] && ! grep -qF "(from $src)" "$c/messages"; then
        echo "$src $opt $input: the message does not name the source $src" >>"$T/problems"
    fi
    if [[ $backing == scratch ]] || grep -q '^formatting ' "$c/messages"; then
        echo "$src $opt $input: a disk was formatted" >>"$T/problems"
    fi
    if [[ -s $T/mke2fs.calls ]]; then
        echo "$src $opt $input: mke2fs was started: $(cat "$T/mke2fs.calls")" >>"$T/problems"
        : >"$T/mke2fs.calls"
    fi
    # shellcheck disable=SC2016 # backquotes for markdown
    printf '| %s | %s | `%s` | %s | %s |\n' "$src" "$opt" "$label" "$result" "$msg"
    rm -rf "$c"
}

# The fake sysfs: the blank disk at 0:0:0:1, nothing else.
sysfs_base() {
    fakesys_scsi "$T/sys-base" 0:0:0:1 sdb "$LOOP"
}

main() {
    local mode=${1:-} file=${2:-} n=0 src opt input sha0 out
    case $mode in
        --write|--check) [[ -n $file ]] || bail "usage: $0 --write|--check FILE" ;;
        *) bail "usage: $0 --write|--check FILE" ;;
    esac
    need losetup cc od awk
    ((${#OPTIONS[@]} >= 7)) || bail "cannot read the option names from $SR_HELPER --list-options"

    make_tmp badinput
    printf '#!/bin/sh\necho "$*" >>"%s/mke2fs.calls"\nexit 1\n' "$T" >"$T/mke2fs"
    chmod 0755 "$T/mke2fs"
    printf '%s' "$PTY_C" | cc -x c -O1 -o "$T/pty-port" - || bail "cannot build the virtio port's host end"
    : >"$T/problems"
    truncate -s 64M "$T/disk.img" || bail "cannot make the disk image"
    sha0=$(sha "$T/disk.img")
    LOOP=$(attach "$T/disk.img") || bail "cannot attach the disk image"
    sysfs_base || bail "cannot make the fake sysfs"

    out=$T/table.md
    {
        cat <<'EOF'
# Bad option values, as the helper takes them

Generated by `test/badinput/table.sh --write docs/bad-input.md` from real runs of
`scratchroot setup`; the `badinput` meson test regenerates it and fails when it differs.
Do not edit by hand.

Each row is one run with the option text in one source only (the others absent). The text
also carries what makes a used value's effect visible: `rd.scratch.lun=5` (no disk is there,
so a run that goes on ends in "no disk at rd.scratch.lun=5") and `rd.scratch.timeout=0`.
The one disk the fake sysfs shows is a blank loop device at 0:0:0:1; no case selected it.

- **input**: the source's text; bytes that are not printable ASCII, and `\`, `|` and the
  backquote, as `\xNN`. The SMBIOS string is wrapped in a type 11 structure
  (`org.scratchroot.options=` + text); the virtio port and config file get a final newline.
  The command line cannot carry a NUL byte, so it has no `nul` case.
- **result**: *value refused* (the option's value did not parse: no disk is touched, the
  fallback applies), *source refused* (the whole source was not used, the same effect),
  *disabled* (`rd.scratch=0`), *used* (the text was taken as it stands); then the exit status
  and the state file's `backing=` (`-`: no state file).
- **message**: what the helper printed on stderr (the same lines go to the kernel log), one
  line per `<br>`, with the setup time left out.

| source | option | input (escaped) | result | message |
|---|---|---|---|---|
EOF
        for src in "${SOURCES[@]}"; do
            for opt in "${OPTIONS[@]}"; do
                for input in "${INPUTS[@]}"; do
                    [[ $src == cmdline && $input == nul ]] && continue
                    n=$((n + 1))
                    run_case "$n" "$src" "$opt" "$input"
                done
            done
        done
    } >"$out"

    [[ $(sha "$T/disk.img") == "$sha0" ]] || echo "the disk image changed" >>"$T/problems"
    echo "# $n cases run with $SR_HELPER"
    status=0
    if [[ -s $T/problems ]]; then
        sed 's/^/not ok: /' "$T/problems"
        status=1
    else
        echo "ok: no case formatted or selected a disk, crashed, or left a value unused without naming it"
    fi
    if [[ $mode == --write ]]; then
        cp "$out" "$file"
        echo "# wrote $file"
    elif ! diff -u "$file" "$out"; then
        echo "not ok: $file differs from what the helper does now (regenerate with --write)"
        status=1
    else
        echo "ok: $file matches the runs"
    fi
    return $status
}

run_tests "$@"
