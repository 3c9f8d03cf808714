#!/bin/bash
# What an unprivileged user of the guest can do with what "scratchroot setup"
# leaves behind. Prints TAP.
#
# Like loop.sh: each part runs the helper in a private mount namespace with a
# tmpfs on /run, a file over /dev/kmsg and a fake sysfs whose disk at SCSI
# address 0:0:0:1 is a blank loop device; the root is an ext4 image on a
# read-only loop device, mounted on the new root. The image holds a small
# program, setuid root, that prints its effective user id. After setup, as
# user and group 65534 with no supplementary groups (setpriv), it checks:
#   - the scratch mount point and the lower root bind are not writable,
#     and the scratch root is not even searchable;
#   - the modes of upper/ and work/ and of the overlay's root;
#   - mount options: nosuid,nodev on the scratch backing, and what they do
#     and do not change: setuid programs and device nodes in the overlay,
#     before and after copy-up;
#   - the tmpfs fallback: mode 0700, size=, nosuid, nodev.
#
#   SR_HELPER=build/src/scratchroot bash test/integration/security.sh
#
# Needs root, loop devices, util-linux (unshare, losetup, findmnt, setpriv),
# e2fsprogs and a C compiler. A missing tool fails the run ("Bail out!").

# shellcheck source=test/integration/preamble.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/preamble.sh"

SCRATCH=$RUN_DIR/scratch
LOWER=$RUN_DIR/lower
UPPER=$SCRATCH/upper
WORK=$SCRATCH/work
NOBODY=65534
ROOT_MODE=751

# ---------------------------------------------------------------------------
# Results: lines "ok|TEXT" or "not ok|TEXT" or "#|TEXT" in $T/results
# ---------------------------------------------------------------------------

pass() { printf 'ok|%s\n' "$*" >>"$T/results"; }
flunk() { printf 'not ok|%s\n' "$*" >>"$T/results"; }
note() { printf '#|%s\n' "$*" >>"$T/results"; }
# is DESC GOT WANT
is() {
    if [[ $2 == "$3" ]]; then pass "$1 ($2)"; else flunk "$1: got '$2', expected '$3'"; fi
}

# as_nobody CMD...: runs CMD as 65534:65534 without groups or capabilities.
as_nobody() {
    setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups --inh-caps=-all -- "$@"
}

# denied DESC CMD...: CMD run as nobody must fail; prints why.
denied() {
    local desc=$1 err
    shift
    if err=$(as_nobody "$@" 2>&1); then
        flunk "$desc: it succeeded as uid $NOBODY"
    else
        pass "$desc (${err##*: })"
    fi
}

# allowed DESC CMD...: CMD run as nobody must succeed (the control).
allowed() {
    local desc=$1 err
    shift
    if err=$(as_nobody "$@" 2>&1); then
        pass "$desc"
    else
        flunk "$desc: $err"
    fi
}

# opts_of TARGET: the topmost mount's per-mount and superblock options.
opts_of() {
    findmnt -rn -o OPTIONS,FS-OPTIONS --mountpoint "$1" | tail -n 1 | tr ' ' ','
}

has_opt() {
    [[ ,$1, == *",$2,"* ]]
}

# euid_of PROGRAM: the effective uid PROGRAM runs with when nobody starts it.
euid_of() {
    as_nobody "$1" 2>&1
}

# ---------------------------------------------------------------------------
# Inside the namespace
# ---------------------------------------------------------------------------

ns_prepare() {
    ns_initrd "$T/kmsg-$1" || return 1
    mount -o ro "$ROOT_LOOP" "$NEWROOT" || return 1
}

run_helper() {
    "$SR_HELPER" setup --newroot "$NEWROOT" --sysfs "$S" --config "$T/none.conf" --cmdline "$1" \
        >"$T/stdout-$2" 2>"$T/stderr-$2"
    echo $? >"$T/rc-$2"
    sed 's/^/stderr: /' "$T/stderr-$2" | while read -r l; do note "$l"; done
}

ns_scratch() {
    local m got prog=$NEWROOT/usr/bin/showuid opts
    ns_prepare scratch || { flunk "cannot prepare the namespace"; return; }
    run_helper "rd.scratch.lun=1" scratch
    is "setup exits 0" "$(cat "$T/rc-scratch")" 0
    is "backing is the scratch disk" "$(sed -n 's/^backing=//p' "$RUN_DIR/state")" scratch

    # (a) What nobody can and cannot do. The controls show that the paths
    # are reachable, so that a refusal is the mode's doing.
    allowed "control: nobody reads /etc/marker through the overlay" cat "$NEWROOT/etc/marker"
    allowed "control: nobody writes into the overlay's /tmp (mode 1777)" touch "$NEWROOT/tmp/by-nobody"
    allowed "control: nobody lists $RUN_DIR" ls "$RUN_DIR"
    allowed "control: nobody reads $LOWER/etc/marker" cat "$LOWER/etc/marker"
    denied "nobody cannot list the scratch mount point $SCRATCH" ls "$SCRATCH"
    denied "nobody cannot create a file in $SCRATCH" touch "$SCRATCH/x"
    denied "nobody cannot reach $UPPER" ls "$UPPER"
    denied "nobody cannot write in $LOWER" touch "$LOWER/x"
    denied "nobody cannot write in $LOWER/tmp (1777, but read-only)" touch "$LOWER/tmp/x"
    denied "nobody cannot create a file in $RUN_DIR" touch "$RUN_DIR/x"
    denied "nobody cannot write the state file" sh -c ": >>$RUN_DIR/state"
    denied "nobody cannot create a file in the overlay's root ($ROOT_MODE root:root)" touch "$NEWROOT/x"
    if touch "$LOWER/x" 2>/dev/null; then flunk "root can write in $LOWER"; else pass "even root cannot write in $LOWER (read-only bind)"; fi

    # (b) Modes.
    for m in "$RUN_DIR" "$RUN_DIR/state" "$RUN_DIR/dev" "$SCRATCH" "$UPPER" "$WORK" "$WORK/work" "$NEWROOT" "$LOWER"; do
        [[ -e $m ]] && note "mode $(stat -c '%a %U:%G' "$m") $m"
    done
    is "scratch mount point mode" "$(stat -c '%a %u:%g' "$SCRATCH")" "700 0:0"
    is "upper/ takes the lower root's mode and owner" "$(stat -c '%a %u:%g' "$UPPER")" "$ROOT_MODE 0:0"
    is "the overlay's root shows the same" "$(stat -c '%a %u:%g' "$NEWROOT")" "$ROOT_MODE 0:0"
    is "work/ mode" "$(stat -c '%a %u:%g' "$WORK")" "700 0:0"
    is "state file mode" "$(stat -c '%a %u:%g' "$RUN_DIR/state")" "644 0:0"
    is "$RUN_DIR mode" "$(stat -c '%a %u:%g' "$RUN_DIR")" "755 0:0"

    # (c) Mount options, and what they change.
    for m in "$SCRATCH" "$LOWER" "$NEWROOT" "$RUN_DIR/dev"; do
        findmnt -n --mountpoint "$m" >/dev/null && note "mount $m: $(findmnt -rn -o FSTYPE,OPTIONS --mountpoint "$m" | tail -n 1)"
    done
    opts=$(opts_of "$SCRATCH")
    if has_opt "$opts" nosuid && has_opt "$opts" nodev; then pass "scratch mount carries nosuid,nodev"; else flunk "scratch mount options: $opts"; fi
    opts=$(opts_of "$LOWER")
    if has_opt "$opts" ro && has_opt "$opts" nosuid && has_opt "$opts" nodev; then
        pass "lower bind carries ro,nosuid,nodev"
    else
        flunk "lower bind options: $opts (ro,nosuid,nodev expected)"
    fi
    opts=$(opts_of "$NEWROOT")
    if has_opt "$opts" nosuid || has_opt "$opts" nodev; then
        flunk "the overlay itself carries nosuid or nodev ($opts): the root's setuid programs and device nodes would break"
    else
        pass "the overlay itself has neither nosuid nor nodev, like the root it covers"
    fi

    is "setuid program on the lower root, run by nobody through the overlay: euid" "$(euid_of "$prog")" 0
    # Copy-up: a change of the file's times moves it to upper/, keeping its mode.
    touch "$prog" || flunk "cannot touch $prog"
    if [[ -e $UPPER/usr/bin/showuid ]]; then pass "touch copied showuid up to upper/"; else flunk "showuid was not copied up"; fi
    is "mode after copy-up" "$(stat -c '%a %u' "$UPPER/usr/bin/showuid")" "4755 0"
    is "copied-up setuid program through the overlay: euid (the overlay mount's flags govern)" "$(euid_of "$prog")" 0
    # The original stays reachable at $LOWER (/run moves into the new root):
    # after an update in the overlay, an old setuid program must not run
    # with privilege from there.
    is "the lower root's setuid program run through $LOWER: euid" "$(euid_of "$LOWER/usr/bin/showuid")" "$NOBODY"
    cp "$prog" "$NEWROOT/usr/bin/newsuid" && chmod 4755 "$NEWROOT/usr/bin/newsuid"
    is "setuid program created through the overlay by root: euid" "$(euid_of "$NEWROOT/usr/bin/newsuid")" 0
    # The same file reached through the scratch mount: nosuid there. The
    # mount point is 0700, so nobody only gets there when it is opened up,
    # which this namespace does for this one check.
    chmod 0755 "$SCRATCH"
    got=$(euid_of "$UPPER/usr/bin/showuid")
    chmod 0700 "$SCRATCH"
    is "the same upper/ file run through the nosuid scratch mount: euid" "$got" "$NOBODY"
    # A setuid program nobody makes in the world-writable /tmp gives nothing.
    cp "$prog" "$NEWROOT/tmp/mine" && chown "$NOBODY:$NOBODY" "$NEWROOT/tmp/mine" && chmod 4755 "$NEWROOT/tmp/mine"
    is "nobody's own setuid program: euid" "$(euid_of "$NEWROOT/tmp/mine")" "$NOBODY"

    # Device nodes: made through the overlay (root does, e.g. a static
    # /dev in an image), they work; the same node on the nodev scratch mount
    # does not open.
    if mknod -m 0666 "$NEWROOT/tmp/null" c 1 3; then
        allowed "a device node in the overlay opens (the overlay has no nodev)" sh -c ": >$NEWROOT/tmp/null"
        chmod 0755 "$SCRATCH"
        denied "the same node through the nodev scratch mount does not open" sh -c ": >$UPPER/tmp/null"
        chmod 0700 "$SCRATCH"
    else
        flunk "cannot make a device node in the overlay"
    fi
    allowed "a device node of the lower root opens through the overlay" sh -c ": >$NEWROOT/null"
    denied "the same node through the nodev lower bind does not open" sh -c ": >$LOWER/null"
    allowed "nobody's file went to the scratch disk" test -e "$NEWROOT/tmp/by-nobody"
    if [[ -e $UPPER/tmp/by-nobody ]]; then pass "nobody's file is in upper/tmp"; else flunk "nobody's file is not in upper/tmp"; fi
}

ns_tmpfs() {
    local opts
    ns_prepare tmpfs || { flunk "cannot prepare the namespace"; return; }
    run_helper "rd.scratch.lun=5 rd.scratch.timeout=0 rd.scratch.tmpfs.size=16M" tmpfs
    is "fallback: setup exits 0" "$(cat "$T/rc-tmpfs")" 0
    is "fallback: backing" "$(sed -n 's/^backing=//p' "$RUN_DIR/state")" tmpfs
    note "mount $SCRATCH: $(findmnt -rn -o FSTYPE,OPTIONS --mountpoint "$SCRATCH" | tail -n 1)"
    opts=$(opts_of "$SCRATCH")
    is "fallback: fs type" "$(findmnt -rn -o FSTYPE --mountpoint "$SCRATCH" | tail -n 1)" tmpfs
    for o in nosuid nodev size=16384k mode=700; do
        if has_opt "$opts" "$o"; then pass "fallback tmpfs carries $o"; else flunk "fallback tmpfs lacks $o: $opts"; fi
    done
    is "fallback: scratch mode" "$(stat -c '%a %u:%g' "$SCRATCH")" "700 0:0"
    is "fallback: upper/ mode" "$(stat -c '%a %u:%g' "$UPPER")" "$ROOT_MODE 0:0"
    is "fallback: work/ mode" "$(stat -c '%a %u:%g' "$WORK")" "700 0:0"
    allowed "fallback control: nobody writes into the overlay's /tmp" touch "$NEWROOT/tmp/by-nobody"
    denied "fallback: nobody cannot list $SCRATCH" ls "$SCRATCH"
    denied "fallback: nobody cannot write in $LOWER" touch "$LOWER/tmp/x"
    is "fallback: copied-up setuid program through the overlay: euid" \
        "$(touch "$NEWROOT/usr/bin/showuid" && euid_of "$NEWROOT/usr/bin/showuid")" 0
    opts=$(opts_of "$NEWROOT")
    if has_opt "$opts" nosuid || has_opt "$opts" nodev; then flunk "fallback overlay carries nosuid/nodev: $opts"; else pass "fallback overlay has neither nosuid nor nodev"; fi
}

# ---------------------------------------------------------------------------
# Outside
# ---------------------------------------------------------------------------

main() {
    local t src n
    need losetup findmnt setpriv mkfs.ext4 debugfs cc stat
    make_tmp security
    # nobody must be able to reach the new root for the checks to mean anything.
    chmod 0755 "$T"
    : >"$T/results"
    NEWROOT=$T/newroot
    S=$T/sys
    mkdir -p "$NEWROOT" "$T/rootsrc/etc" "$T/rootsrc/usr/bin" "$T/rootsrc/tmp"
    chmod 1777 "$T/rootsrc/tmp"
    echo "the lower root" >"$T/rootsrc/etc/marker"
    printf '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%%u\\n", (unsigned) geteuid()); return 0; }\n' >"$T/showuid.c"
    cc -O2 -o "$T/rootsrc/usr/bin/showuid" "$T/showuid.c" || bail "cannot build showuid"
    chmod 4755 "$T/rootsrc/usr/bin/showuid"
    mknod -m 0666 "$T/rootsrc/null" c 1 3 || bail "mknod"
    mkfs.ext4 -q -F -L secroot -d "$T/rootsrc" "$T/root.img" 32M >/dev/null || bail "cannot make the root image"
    debugfs -w -R "sif / mode 040$ROOT_MODE" "$T/root.img" >/dev/null 2>&1 || bail "debugfs"
    debugfs -R "stat /usr/bin/showuid" "$T/root.img" 2>/dev/null | grep -q "Mode:  04755" ||
        bail "mkfs.ext4 -d did not keep the setuid bit"
    ROOT_LOOP=$(attach "$T/root.img" -r) || bail "cannot attach the root image"
    truncate -s 256M "$T/scratch.img"
    DISK=$(attach "$T/scratch.img") || bail "cannot attach the scratch image"

    # Fake sysfs: the root's loop device, and the scratch disk at 0:0:0:1.
    fakesys_root "$S" "$ROOT_LOOP" || bail "sysfs"
    fakesys_scsi "$S" 0:0:0:1 sdz "$DISK" || bail "sysfs"

    export T NEWROOT S ROOT_LOOP
    for src in ns_scratch ns_tmpfs; do
        note "--- $src"
        unshare_self "$src" || flunk "the $src namespace failed"
    done

    n=$(grep -c '^ok|\|^not ok|' "$T/results")
    echo "1..$n"
    t=0
    while IFS='|' read -r kind text; do
        case $kind in
            '#') echo "# $text" ;;
            *) t=$((t + 1)); echo "$kind $t - $text" ;;
        esac
    done <"$T/results"
    ! grep -q '^not ok|' "$T/results"
}

run_tests "$@"
