#!/usr/bin/env bats
# The early scripts that load overlay or skip the root's fsck before the
# helper runs (dracut's pre-udev hook, systemd unit and scratchroot_asked,
# initramfs-tools' init-premount script) must read the command line as the
# helper does. The helper is the one
# source of truth: its option names (scratchroot --list-options), the values
# its parser takes as no and yes (src/options.c), and what it decides for a
# command line, run unprivileged with --cmdline, an empty sysfs and no
# config. Every case below is put to the helper and to the three scripts.

setup_file() {
    SRC=${SR_SOURCE:-$BATS_TEST_DIRNAME/../..}
    HELPER=${SR_HELPER:-${SR_BUILD:?}/src/scratchroot}
    # The helper and an empty directory where the unprivileged helper
    # reaches them (the test's own directories and the build tree may not
    # be).
    PUB=$(mktemp -d /tmp/scratchroot-options.XXXXXX)
    chmod 0755 "$PUB"
    EMPTY=$PUB/empty
    mkdir -m 0755 "$EMPTY"
    install -m 0755 "$HELPER" "$PUB/scratchroot"
    export SRC HELPER PUB EMPTY
}

teardown_file() {
    rm -rf "$PUB"
}

setup() {
    [ -x "$HELPER" ] || { echo "no helper at $HELPER: build it"; return 1; }
    NAMES=$("$HELPER" --list-options)
    if ! grep -qx rd.scratch <<<"$NAMES" || ! grep -qx rd.scratch.lun <<<"$NAMES"; then
        echo "scratchroot --list-options printed: '$NAMES'"
        return 1
    fi
    NO=$(bool_values no)
    YES=$(bool_values yes)
    if ! grep -qx 0 <<<"$NO" || ! grep -qx 1 <<<"$YES"; then
        echo "cannot read parse_bool's values from $SRC/src/options.c (no: '$NO', yes: '$YES')"
        return 1
    fi
    MOD=${SR_BUILD:?}/modules.d/90scratchroot
    IT=$SR_BUILD/hooks/initramfs-tools
    LOG=$BATS_TEST_TMPDIR/calls
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    export LOG
    cat >"$BATS_TEST_TMPDIR/bin/modprobe" <<'EOS'
#!/bin/sh
echo "modprobe $*" >>"$LOG"
EOS
    chmod +x "$BATS_TEST_TMPDIR/bin/modprobe"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH
    # The scripts as configured, reading the test's command line, module
    # directory, (absent) config file and firmware, and writing init's
    # parameters to the test's directory.
    for f in "$MOD/scratchroot-preload.sh" "$MOD/scratchroot-asked.sh" "$IT/init-premount-scratchroot"; do
        sed -e "s|/proc/cmdline|$BATS_TEST_TMPDIR/cmdline|" \
            -e "s|/sys/module/|$BATS_TEST_TMPDIR/module/|" \
            -e "s|/sys/firmware/|$BATS_TEST_TMPDIR/firmware/|" \
            -e "s|/sys/bus/|$BATS_TEST_TMPDIR/bus/|g" \
            -e "s|/etc/scratchroot.conf|$BATS_TEST_TMPDIR/no-such.conf|" \
            -e "s|/conf/param.conf|$BATS_TEST_TMPDIR/param.conf|" \
            -e "s|/lib/scratchroot-asked.sh|$BATS_TEST_TMPDIR/scratchroot-asked.sh|" \
            "$f" >"$BATS_TEST_TMPDIR/${f##*/}"
        if grep -n '/conf/param\.conf\|/sys/\|/proc/cmdline\|/lib/scratchroot' "$BATS_TEST_TMPDIR/${f##*/}"; then
            echo "a host path is left in the copy of ${f##*/}"
            return 1
        fi
    done
    UNIT=$MOD/scratchroot-preload.service
}

# bool_values no|yes: the words of parse_bool's list of that name.
bool_values() {
    sed -n "s/^[[:space:]]*static const char \*const $1\[\] = { \(.*\) };\$/\1/p" "$SRC/src/options.c" |
        tr -d ' "' | tr , '\n'
}

# The cases: CMDLINE, what the helper makes of it (on: it runs; off:
# rd.scratch says no; none: nothing asks for it), and what the preload
# unit's conditions do when they cannot tell the same (a condition sees
# every word: not which rd.scratch came last, nor a name it does not list;
# "any" where systemd's reading of "--" is not the test's to know).
cases() {
    local n v
    printf '%s\t%s\t%s\n' "root=/dev/sda ro quiet" none none "rd.scratchy=0 scratch.lun=1" none none \
        "rd.scratch" on on "rd.scratch=OFF" on on "rd.scratch=maybe" on on "rd.scratch=" on on \
        "rd.scratch.bogus=1" on none "ro -- rd.scratch.lun=1" none any \
        "rd.scratch.lun=1 -- rd.scratch=0" on any \
        'rd.scratch="0" rd.scratch.lun=1' off off 'rd.scratch.lun="0:0:0:1"' on on
    while read -r n; do
        printf 'ro %s=x\ton\ton\n' "$n"
    done <<<"$NAMES"
    while read -r v; do
        printf '%s\t%s\t%s\n' "rd.scratch=$v" off off "rd.scratch=$v rd.scratch.lun=1" off off \
            "rd.scratch.lun=1 rd.scratch=$v quiet" off off "rd.scratch=1 rd.scratch=$v" off off \
            "rd.scratch=$v rd.scratch" on off "rd.scratch=$v rd.scratch=1" on off
    done <<<"$NO"
    while read -r v; do
        printf '%s\t%s\t%s\n' "rd.scratch=$v" on on "rd.scratch=0 rd.scratch=$v" on off
    done <<<"$YES"
}

# helper_decides CMDLINE: on, off or none, from what the helper says.
helper_decides() {
    local out
    local -a as=()
    # Unprivileged: an active helper stops where it would first write.
    [ "$(id -u)" -ne 0 ] || as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    out=$("${as[@]}" "$PUB/scratchroot" setup --cmdline "$1" --sysfs "$EMPTY" --newroot "$EMPTY" --config /dev/null 2>&1)
    case $out in
        '') echo none ;;
        *"disabled by rd.scratch"*) echo off ;;
        *) echo on ;;
    esac
}

# script_loads SCRIPT CMDLINE: whether the script starts modprobe overlay.
script_loads() {
    echo "$2" >"$BATS_TEST_TMPDIR/cmdline"
    : >"$LOG"
    case $1 in
        *.sh)
            # shellcheck source=/dev/null
            (. "$BATS_TEST_TMPDIR/$1" && wait)
            ;;
        # It exits: what it started in the background is waited for on
        # the way out.
        *) sh -c 'trap wait EXIT; . "$1"' sh "$BATS_TEST_TMPDIR/$1" ;;
    esac
    [ "$(cat "$LOG")" = "modprobe -q -b overlay" ] && return 0
    [ ! -s "$LOG" ] || echo "$1: unexpected: $(cat "$LOG")" >&2
    return 1
}

# unit_loads CMDLINE: whether systemd would start the preload unit, by its
# ConditionKernelCommandLine= lines (a word given with = must be there as
# it is; a name alone, with or without a value; "|" triggering, "!"
# negating), with no config file and overlay not loaded.
unit_loads() {
    local -a words=()
    local line val trig neg w match any_trig=0 trig_ok=0
    read -ra words <<<"${1//\"/}"
    while IFS= read -r line; do
        case $line in
            ConditionKernelCommandLine=*) val=${line#*=} ;;
            ConditionPathExists=\|/etc/scratchroot.conf) any_trig=1; continue ;;
            ConditionPathExists=\!/sys/module/overlay) continue ;;
            Condition*) echo "unit: a condition the test does not know: $line" >&2; return 2 ;;
            *) continue ;;
        esac
        trig=0 neg=0
        [[ $val != \|* ]] || { trig=1; val=${val#|}; }
        [[ $val != \!* ]] || { neg=1; val=${val#!}; }
        match=0
        for w in "${words[@]}"; do
            if [[ $val == *=* ]]; then
                [[ $w == "$val" ]] && match=1
            else
                [[ $w == "$val" || $w == "$val="* ]] && match=1
            fi
        done
        ((neg)) && match=$((!match))
        if ((trig)); then
            any_trig=1
            ((match)) && trig_ok=1
        else
            ((match)) || return 1
        fi
    done <"$UNIT"
    ((!any_trig || trig_ok))
}

@test "the helper decides every case as the table says" {
    local c want unit got bad=0
    while IFS=$'\t' read -r c want unit; do
        got=$(helper_decides "$c")
        [ "$got" = "$want" ] || { echo "'$c': helper says $got, the table $want"; bad=1; }
    done < <(cases)
    [ "$bad" -eq 0 ]
}

@test "dracut's pre-udev hook loads overlay exactly when the helper would run" {
    local c want unit bad=0
    while IFS=$'\t' read -r c want unit; do
        if script_loads scratchroot-preload.sh "$c"; then
            [ "$want" = on ] || { echo "'$c' (helper: $want): the hook loads overlay"; bad=1; }
        else
            [ "$want" != on ] || { echo "'$c' (helper: on): the hook does not load overlay"; bad=1; }
        fi
    done < <(cases)
    [ "$bad" -eq 0 ]
}

@test "dracut's scratchroot_asked (the root's fsck skipped) answers yes exactly when the helper would run" {
    local c want unit bad=0
    while IFS=$'\t' read -r c want unit; do
        echo "$c" >"$BATS_TEST_TMPDIR/cmdline"
        # shellcheck source=/dev/null
        if (. "$BATS_TEST_TMPDIR/scratchroot-asked.sh" && scratchroot_asked); then
            [ "$want" = on ] || { echo "'$c' (helper: $want): scratchroot_asked says yes"; bad=1; }
        else
            [ "$want" != on ] || { echo "'$c' (helper: on): scratchroot_asked says no"; bad=1; }
        fi
    done < <(cases)
    [ "$bad" -eq 0 ]
}

@test "initramfs-tools' init-premount script loads overlay and skips fsck exactly when the helper would run" {
    local c want unit bad=0
    while IFS=$'\t' read -r c want unit; do
        rm -f "$BATS_TEST_TMPDIR/param.conf"
        if script_loads init-premount-scratchroot "$c"; then
            [ "$want" = on ] || { echo "'$c' (helper: $want): the script loads overlay"; bad=1; }
        else
            [ "$want" != on ] || { echo "'$c' (helper: on): the script does not load overlay"; bad=1; }
        fi
        if grep -qx fastboot=y "$BATS_TEST_TMPDIR/param.conf" 2>/dev/null; then
            [ "$want" = on ] || { echo "'$c' (helper: $want): the script skips fsck"; bad=1; }
        else
            [ "$want" != on ] || { echo "'$c' (helper: on): the script does not skip fsck"; bad=1; }
        fi
    done < <(cases)
    [ "$bad" -eq 0 ]
}

@test "the preload unit names every option of the helper, and each value that turns it off" {
    local n v bad=0
    while read -r n; do
        grep -qx "ConditionKernelCommandLine=|$n" "$UNIT" || { echo "the unit lacks |$n"; bad=1; }
    done <<<"$NAMES"
    while read -r v; do
        grep -qx "ConditionKernelCommandLine=!rd.scratch=$v" "$UNIT" || { echo "the unit lacks !rd.scratch=$v"; bad=1; }
    done <<<"$NO"
    # and nothing the helper does not know
    while read -r n; do
        grep -qxF "$n" <<<"$NAMES" || { echo "the unit names $n, which the helper does not take"; bad=1; }
    done < <(sed -n 's/^ConditionKernelCommandLine=|\([^=]*\)$/\1/p' "$UNIT")
    while read -r v; do
        grep -qxF "$v" <<<"$NO" || { echo "the unit takes rd.scratch=$v as no, the helper does not"; bad=1; }
    done < <(sed -n 's/^ConditionKernelCommandLine=!rd\.scratch=//p' "$UNIT")
    [ "$bad" -eq 0 ]
}

@test "the preload unit's conditions hold exactly when the helper would run, but for what a condition cannot tell" {
    local c want unit bad=0 r
    while IFS=$'\t' read -r c want unit; do
        [ "$unit" != any ] || continue
        r=0
        unit_loads "$c" || r=$?
        [ "$r" -le 1 ] || return 1
        if [ "$r" -eq 0 ]; then
            [ "$unit" = on ] || { echo "'$c' (helper: $want, unit expected: $unit): the unit starts"; bad=1; }
        else
            [ "$unit" != on ] || { echo "'$c' (helper: $want): the unit does not start"; bad=1; }
        fi
    done < <(cases)
    [ "$bad" -eq 0 ]
}
