#!/bin/bash
# dracut module: scratchroot puts the root overlay's upper layer on a scratch disk.
# moddir, initdir, systemdsystemunitdir and SYSTEMCTL come from dracut.
# shellcheck disable=SC2154

# Only on request: dracut --add scratchroot.
check() {
    return 255
}

depends() {
    echo base
    return 0
}

installkernel() {
    hostonly='' instmods overlay sd_mod virtio_scsi hv_storvsc vmw_pvscsi
}

install() {
    # The helper's path on the build host may differ (a build tree); in the
    # initrd it always lives in /usr/sbin.
    inst "${SCRATCHROOT_HELPER:-@SBINDIR@/scratchroot}" /usr/sbin/scratchroot
    # The helper execs mke2fs by the path it was built with.
    inst "${SCRATCHROOT_MKE2FS:-@MKE2FS@}"
    inst_multiple -o /etc/mke2fs.conf
    if dracut_module_included "systemd"; then
        # systemd mounts the root itself; the unit slots in where
        # systemd-volatile-root.service does, with or without dracut's hook
        # services.
        inst_simple "$moddir/scratchroot.service" "$systemdsystemunitdir/scratchroot.service"
        $SYSTEMCTL -q --root "$initdir" add-wants initrd-root-fs.target scratchroot.service
    else
        # pre-pivot: the real root is mounted at $NEWROOT and nothing has
        # switched into it yet.
        inst_hook pre-pivot 10 "$moddir/scratchroot-pre-pivot.sh"
    fi
}
