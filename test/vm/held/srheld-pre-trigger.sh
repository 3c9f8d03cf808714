#!/bin/sh
# Test only: holds a disk so that it is in use when scratchroot looks at it
# (VM scenarios 'held' and 'mounted' on the dracut path). Installed as the
# pre-trigger hook 05, before scratchroot's 90 (which starts scratchroot
# prepare): the disk's drivers are loaded here and the disk waited for, up to
# 20 s, as udev has not been triggered yet. Sourced: return, never exit.
#   sr.hold.lun=N   the disk on SCSI LUN N (target 0)
#   sr.hold=dm      a device-mapper linear mapping over the whole disk
#   sr.hold=mount   a read-only ext4 mount without journal replay
# Neither writes to the disk.

# shellcheck source=/dev/null
command -v getarg >/dev/null || . /lib/dracut-lib.sh

srheld_say() {
    echo "srheld: $*" >/dev/kmsg
}

srheld_mode=$(getarg sr.hold=) || srheld_mode=""
srheld_lun=$(getarg sr.hold.lun=) || srheld_lun=""
if [ -n "$srheld_mode" ] && [ -n "$srheld_lun" ]; then
    srheld_dev=""
    srheld_hctl=""
    modprobe -q -a virtio_pci virtio_scsi sd_mod
    srheld_i=0
    while [ -z "$srheld_dev" ] && [ "$srheld_i" -lt 200 ]; do
        for srheld_b in /sys/bus/scsi/devices/*:*:0:"$srheld_lun"/block/*; do
            [ -e "$srheld_b" ] || continue
            srheld_dev=${srheld_b##*/}
            srheld_hctl=${srheld_b%/block/*}
            srheld_hctl=${srheld_hctl##*/}
        done
        [ -n "$srheld_dev" ] || sleep 0.1
        srheld_i=$((srheld_i + 1))
    done
    if [ -z "$srheld_dev" ]; then
        srheld_say "no disk on LUN $srheld_lun, holding nothing"
    elif [ "$srheld_mode" = dm ]; then
        read -r srheld_sectors <"/sys/block/$srheld_dev/size"
        read -r srheld_devno <"/sys/block/$srheld_dev/dev"
        modprobe -q dm_mod
        if dmsetup --noudevsync create srheld --table "0 $srheld_sectors linear $srheld_devno 0"; then
            srheld_say "holding $srheld_dev ($srheld_hctl) with the device-mapper mapping srheld ($(ls "/sys/block/$srheld_dev/holders" 2>/dev/null))"
        else
            srheld_say "dmsetup create over $srheld_dev ($srheld_hctl) failed"
        fi
    elif [ "$srheld_mode" = mount ]; then
        mkdir -p /run/srheld
        if mount -t ext4 -o ro,noload "/dev/$srheld_dev" /run/srheld; then
            srheld_say "holding $srheld_dev ($srheld_hctl) with a read-only mount on /run/srheld"
        else
            srheld_say "mounting $srheld_dev ($srheld_hctl) failed"
        fi
    else
        srheld_say "unknown sr.hold=$srheld_mode, holding nothing"
    fi
fi
unset srheld_mode srheld_lun srheld_dev srheld_hctl srheld_b srheld_sectors srheld_devno srheld_i
