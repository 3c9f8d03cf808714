#!/bin/bash
# dracut module "seedscratch": the benchmark's baseline. It sets up the root
# overlay the way the seed does (see seedscratch-pre-pivot.sh), so that
# bench/run can put the same figures side by side.
# moddir and initdir come from dracut.
# shellcheck disable=SC2154

# Only on request: dracut --add seedscratch.
check() {
    return 255
}

depends() {
    echo base
    return 0
}

installkernel() {
    hostonly='' instmods overlay sd_mod virtio_scsi ext4
}

install() {
    local mke2fs
    mke2fs=$(PATH=/usr/sbin:/sbin:$PATH command -v mke2fs) || {
        derror "seedscratch: mke2fs not found (install e2fsprogs)"
        return 1
    }
    # e2fsprogs' mke2fs under a private name ending in mkfs.ext4 (mke2fs
    # takes the filesystem type from its program name), so that no shell
    # builtin or busybox applet of the same name can run in its place.
    inst "$(readlink -f "$mke2fs")" /usr/lib/seedscratch/mkfs.ext4
    inst_multiple -o /etc/mke2fs.conf
    inst_multiple mount umount mkdir sleep date
    inst_hook pre-pivot 10 "$moddir/seedscratch-pre-pivot.sh"
}
