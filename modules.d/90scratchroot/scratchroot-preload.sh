#!/bin/sh
# Sourced by dracut's init at pre-udev: return, never exit.
#
# overlay.ko takes a good part of a second to load under emulation. Without
# this the kernel loads it on the helper's first overlay mount, after the
# disk is formatted; started here in the background, it loads while udev
# finds the disks. Only when scratchroot is asked for on the command line or
# by the initrd's config file (options from the hypervisor are seen by the
# helper alone, which then loads it itself).

[ -d /sys/module/overlay ] && return 0

_sr_cmdline=
read -r _sr_cmdline </proc/cmdline 2>/dev/null
case " $_sr_cmdline " in
    *" rd.scratch=0 "*) unset _sr_cmdline; return 0 ;;
    *" rd.scratch "* | *" rd.scratch="* | *" rd.scratch."*) ;;
    *)
        if [ ! -e /etc/scratchroot.conf ]; then
            unset _sr_cmdline
            return 0
        fi
        ;;
esac
unset _sr_cmdline
modprobe -q -b overlay >/dev/null 2>&1 &
