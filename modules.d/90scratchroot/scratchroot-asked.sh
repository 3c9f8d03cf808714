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
#   qemu_fw_cfg is loaded: "scratchroot_asked load" loads it when nothing
#   before answered);
# - SMBIOS type 11 OEM strings starting with org.scratchroot.options=.
# Not the virtio-serial port: its one line is the helper's to read.
# A config file or hypervisor option that itself says rd.scratch=0 still
# counts as asking.

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
    if [ ! -e "$fwcfg" ] && [ "${1-}" = load ] && [ ! -d /sys/module/qemu_fw_cfg ]; then
        modprobe -q qemu_fw_cfg >/dev/null 2>&1
    fi
    [ ! -e "$fwcfg" ] || return 0
    for f in /sys/firmware/dmi/entries/11-*/raw; do
        [ -r "$f" ] || continue
        # The strings follow the structure's header, each ended by a NUL.
        tr '\000' '\n' <"$f" 2>/dev/null | grep -q 'org\.scratchroot\.options=' && return 0
    done
    return 1
)
