#!/bin/bash
# Loop-device integration tests of "scratchroot setup". Prints TAP.
#
# Every case runs the helper in its own private mount namespace, with a tmpfs
# on /run, a regular file bound over /dev/kmsg and a fake sysfs tree whose
# SCSI disks are loop devices made here from sparse images in a temporary
# directory. The root is an ext4 image on a read-only loop device, mounted
# read-only on the case's newroot directory. Nothing is written outside that
# temporary directory and those loop devices; both go away on exit.
#
# The cases are the c_* functions of test/integration/cases/*.sh, each file
# adding "FUNCTION|DESCRIPTION" lines to CASES; test/integration/lib.sh has
# what they share. The last test checks that the host is as it was.
#
#   SR_HELPER=build/src/scratchroot bash test/integration/loop.sh
#   SR_CASES='^c_prepare' ...     only the cases whose names match
#
# Needs root, loop devices, util-linux (unshare, losetup, findmnt, mkswap),
# e2fsprogs, fdisk (sfdisk), dosfstools (mkfs.vfat), ntfs-3g (mkntfs, ntfscp,
# ntfs-3g with /dev/fuse), attr (setfattr) and valgrind. A missing
# tool fails the run ("Bail out!"), it never skips.

# shellcheck source=test/integration/preamble.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/preamble.sh"
# shellcheck source=test/integration/lib.sh
. "$SR_SOURCE/test/integration/lib.sh"
for f in "$SR_SOURCE"/test/integration/cases/*.sh; do
    # shellcheck source=/dev/null
    . "$f"
done

main() {
    local entry start host0
    preflight
    make_tmp loop
    C=$T/setup
    mkdir -p "$C"
    setup_root || bail "cannot make the root image"
    # A copy: the build directory may be relinked while the cases run.
    cp "$SR_HELPER" "$T/bin/scratchroot" || bail "cannot copy $SR_HELPER"
    if "$T/bin/scratchroot" --version >/dev/null 2>&1; then
        SR_HELPER=$T/bin/scratchroot
    fi
    HOST_MNTNS=$(readlink /proc/self/ns/mnt)
    export HOST_MNTNS ROOT_LOOP HELLO
    host0=$(host_view)
    start=$SECONDS

    # SR_CASES=REGEX: only the cases whose function names match it.
    if [[ -n ${SR_CASES:-} ]]; then
        local -a keep=()
        for entry in "${CASES[@]}"; do
            [[ ${entry%%|*} =~ $SR_CASES ]] && keep+=("$entry")
        done
        CASES=("${keep[@]}")
    fi
    N=0
    FAILED=0
    echo "1..$((${#CASES[@]} + 1))"
    for entry in "${CASES[@]}"; do
        run_case "${entry%%|*}" "${entry#*|}"
    done

    N=$((N + 1))
    C=$T/final
    mkdir -p "$C"
    : >"$C/fail"
    diff <(echo "$host0") <(host_view) >"$C/host.diff" ||
        fail "the host changed: $(tr '\n' ' ' <"$C/host.diff")"
    expect_unchanged "$ROOT_IMG" "$ROOT_SHA"
    tap_result "the host is as it was"
    echo "# $FAILED failed, $((SECONDS - start)) s"
    ((FAILED == 0))
}

run_tests "$@"
