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

# The command line as the helper reads it: any rd.scratch or rd.scratch.*
# word asks for it; the last rd.scratch word turns it off when its value is
# one the helper takes as no (0, no, n, false, off); "--" ends the kernel's
# words. Double quotes are dropped, as the kernel does.
_sr_cmdline=
read -r _sr_cmdline </proc/cmdline 2>/dev/null
_sr_asked=
_sr_off=
case $- in
    *f*) _sr_glob= ;;
    *) _sr_glob=1 ;;
esac
set -f
for _sr_w in $_sr_cmdline; do
    while :; do
        case $_sr_w in
            *\"*) _sr_w=${_sr_w%%\"*}${_sr_w#*\"} ;;
            *) break ;;
        esac
    done
    case $_sr_w in
        --) break ;;
        rd.scratch=0 | rd.scratch=no | rd.scratch=n | rd.scratch=false | rd.scratch=off) _sr_asked=1 _sr_off=1 ;;
        rd.scratch | rd.scratch=*) _sr_asked=1 _sr_off= ;;
        rd.scratch.*) _sr_asked=1 ;;
    esac
done
[ -z "$_sr_glob" ] || set +f
if [ -z "$_sr_asked" ] && [ -e /etc/scratchroot.conf ]; then
    _sr_asked=1
fi
if [ -n "$_sr_asked" ] && [ -z "$_sr_off" ]; then
    modprobe -q -b overlay >/dev/null 2>&1 &
fi
unset _sr_cmdline _sr_asked _sr_off _sr_glob _sr_w
return 0
