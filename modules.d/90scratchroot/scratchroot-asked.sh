# shellcheck shell=sh
# Sourced by the dracut module's fsck hook and generator: defines
# scratchroot_asked, which tells whether scratchroot is asked for at this
# boot from what a shell can read before the helper runs:
# - the kernel command line, as the helper reads it: any rd.scratch or
#   rd.scratch.* word asks for it; the last rd.scratch word turns it off when
#   its value is one the helper takes as no (0, no, n, false, off), and then
#   nothing else is looked at; "--" ends the kernel's words; double quotes
#   are dropped, as the kernel does;
# - the initrd's /etc/scratchroot.conf;
# - the QEMU fw_cfg file opt/org.scratchroot/options (seen only once
#   qemu_fw_cfg is loaded: "scratchroot_asked load" loads the option
#   channels' drivers, as scratchroot_channels below, when nothing before
#   answered);
# - SMBIOS type 11 OEM strings starting with org.scratchroot.options=.
# Not the virtio-serial port: its one line is the helper's to read.
# A config file or hypervisor option that itself says rd.scratch=0 still
# counts as asking.
#
# Also defines scratchroot_channels, which loads the drivers of the
# hypervisor's option channels, fw_cfg and the virtio-serial port, before
# the helper reads them: each only when the machine has its device (fw_cfg:
# ACPI's QEMU0002 or a platform device named *fw-cfg, from a device tree; a
# virtio console: virtio device 3) and the driver is not loaded yet. udev
# has normally loaded them already; a driver for a device the machine lacks
# would cost a tenth of a second or more under emulation and give nothing.
# A module the kernel lacks is no error. The initramfs-tools init-premount
# script does the same.

scratchroot_asked() (
    set -f
    line=
    asked=
    off=
    read -r line </proc/cmdline 2>/dev/null
    for w in $line; do
        while :; do
            case $w in
                *\"*) w=${w%%\"*}${w#*\"} ;;
                *) break ;;
            esac
        done
        case $w in
            --) break ;;
            rd.scratch=0 | rd.scratch=no | rd.scratch=n | rd.scratch=false | rd.scratch=off) asked=1 off=1 ;;
            rd.scratch | rd.scratch=*) asked=1 off= ;;
            rd.scratch.*) asked=1 ;;
        esac
    done
    [ -z "$off" ] || return 1
    [ -z "$asked" ] || return 0
    [ ! -e /etc/scratchroot.conf ] || return 0
    set +f
    fwcfg=/sys/firmware/qemu_fw_cfg/by_name/opt/org.scratchroot/options/raw
    if [ ! -e "$fwcfg" ] && [ "${1-}" = load ]; then
        scratchroot_channels
    fi
    [ ! -e "$fwcfg" ] || return 0
    for f in /sys/firmware/dmi/entries/11-*/raw; do
        [ -r "$f" ] || continue
        # The strings follow the structure's header, each ended by a NUL.
        tr '\000' '\n' <"$f" 2>/dev/null | grep -q 'org\.scratchroot\.options=' && return 0
    done
    return 1
)

scratchroot_channels() (
    set +f
    mods=
    if [ ! -d /sys/module/qemu_fw_cfg ]; then
        for d in /sys/bus/acpi/devices/QEMU0002:* /sys/bus/platform/devices/*fw-cfg*; do
            if [ -e "$d" ]; then
                mods=qemu_fw_cfg
                break
            fi
        done
    fi
    if [ ! -d /sys/module/virtio_console ]; then
        for d in /sys/bus/virtio/devices/*/device; do
            id=
            [ ! -r "$d" ] || read -r id <"$d" || :
            if [ "$id" = 0x0003 ]; then
                mods="$mods virtio_console"
                break
            fi
        done
    fi
    # shellcheck disable=SC2086 # one word per module
    [ -z "$mods" ] || modprobe -q -a $mods >/dev/null 2>&1
    return 0
)
