#!/bin/sh
# Sourced by dracut's init at pre-udev: return, never exit.
#
# overlay.ko takes a good part of a second to load under emulation. Without
# this the kernel loads it on the helper's first overlay mount, after the
# disk is formatted; started here in the background, it loads while udev
# finds the disks. Only when scratchroot is asked for, as scratchroot_asked
# tells: the command line, the initrd's config file, QEMU's fw_cfg (its
# driver loaded by the cmdline hook before) or SMBIOS.

[ -d /sys/module/overlay ] && return 0
# shellcheck source=/dev/null
. /lib/scratchroot-asked.sh
scratchroot_asked || return 0
modprobe -q -b overlay >/dev/null 2>&1 &
return 0
