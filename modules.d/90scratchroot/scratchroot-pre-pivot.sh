#!/bin/sh
# Sourced by dracut's init: return, never exit.

command -v getarg >/dev/null || . /lib/dracut-lib.sh

[ -x /usr/sbin/scratchroot ] || return 0

# The helper decides everything from the options; it exits non-zero only
# when rd.scratch.fallback=fail asks for the boot to stop.
if ! /usr/sbin/scratchroot setup --newroot "${NEWROOT:-/sysroot}"; then
    die "scratchroot: setup failed and rd.scratch.fallback=fail stops the boot"
fi
