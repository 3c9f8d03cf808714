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
    # The SCSI controllers and disks, virtio-blk and NVMe disks (a cloud's
    # instance storage; a host-only initrd of a machine without NVMe would
    # leave the driver out), and what the hypervisor tells the helper
    # through: fw_cfg and the virtio-serial port.
    hostonly='' instmods overlay sd_mod virtio_scsi hv_storvsc vmw_pvscsi qemu_fw_cfg virtio_console virtio_blk nvme
    # Several scratch disks: device-mapper, whose striped target is part of
    # dm_mod, for a helper that loads libdevmapper (install() puts it in).
    if scratchroot_stripes; then
        hostonly='' instmods dm_mod
    fi
    # rd.scratch.encrypt: device-mapper's crypt target and its ciphers, only
    # for a helper that loads libcryptsetup (install() puts it in).
    if scratchroot_encrypts; then
        hostonly='' instmods dm_crypt xts aesni_intel
    fi
}

# The libraries the helper loads when an option needs them (libcryptsetup,
# libdevmapper, libntfs-3g), one file a line: not among what ldd shows, so
# the helper lists them itself; a build without one does not list it.
scratchroot_libraries() {
    "${SCRATCHROOT_HELPER:-@SBINDIR@/scratchroot}" --list-libraries
}

# Whether the helper loads the library $1. The whole list is read: dracut
# runs this under pipefail, where "... | grep -q" fails whenever grep
# leaves at the first match and the writer dies of SIGPIPE.
scratchroot_loads() {
    case $(scratchroot_libraries 2>/dev/null) in
        *"$1"*) return 0 ;;
    esac
    return 1
}

# scratchroot_inst_library FILE: a library and every library it needs.
# dracut-install resolves the needs of executable files only, and a
# library is installed mode 0644 (libcryptsetup would come without
# libargon2). ldd's whole output is read, not piped (see above).
scratchroot_inst_library() {
    local out dep
    inst "$1"
    out=$(LC_ALL=C ldd "$1" 2>/dev/null) || return 0
    for dep in $out; do
        case $dep in
            /*) inst "$dep" ;;
        esac
    done
}

scratchroot_stripes() {
    scratchroot_loads libdevmapper.so
}

scratchroot_encrypts() {
    scratchroot_loads libcryptsetup.so
}

install() {
    # The helper's path on the build host may differ (a build tree); in the
    # initrd it always lives in /usr/sbin.
    inst "${SCRATCHROOT_HELPER:-@SBINDIR@/scratchroot}" /usr/sbin/scratchroot
    # The libraries it loads on demand, with what they link. One it cannot
    # load here is left out: the helper says so at boot when an option needs
    # it, and the initrd boots without that option.
    local lib libs
    if ! libs=$(scratchroot_libraries); then
        dwarn "scratchroot: a library it loads on demand is missing on this host (above); its option will not work"
    fi
    for lib in $libs; do
        scratchroot_inst_library "$lib"
    done
    # The helper execs mke2fs by the path it was built with.
    inst "${SCRATCHROOT_MKE2FS:-@MKE2FS@}"
    inst_multiple -o /etc/mke2fs.conf
    # Loads the hypervisor's option channels before the helper runs.
    inst_multiple -o modprobe
    # The image's own defaults: /etc/scratchroot.conf when the build host has
    # one; SCRATCHROOT_CONFIG names another file (which must exist), or none
    # when it is empty.
    if [[ -z ${SCRATCHROOT_CONFIG+set} ]]; then
        inst_multiple -o /etc/scratchroot.conf
    elif [[ -n $SCRATCHROOT_CONFIG ]]; then
        if [[ ! -f $SCRATCHROOT_CONFIG ]]; then
            dfatal "scratchroot: SCRATCHROOT_CONFIG=$SCRATCHROOT_CONFIG is not a file"
            exit 1
        fi
        inst_simple "$SCRATCHROOT_CONFIG" /etc/scratchroot.conf
    fi
    # When scratchroot is asked for, the root is only read: its fsck is
    # skipped (a write-protected root disk fails it), by a generator in a
    # systemd initrd, by rd.skipfsck from the cmdline hook in a shell one.
    inst_simple "$moddir/scratchroot-asked.sh" /lib/scratchroot-asked.sh
    inst_multiple -o tr grep
    if dracut_module_included "systemd"; then
        inst_script "$moddir/scratchroot-fsck-generator" \
            "$systemdutildir/system-generators/scratchroot-fsck-generator"
        # systemd mounts the root itself; the unit slots in where
        # systemd-volatile-root.service does, with or without dracut's hook
        # services.
        inst_simple "$moddir/scratchroot.service" "$systemdsystemunitdir/scratchroot.service"
        $SYSTEMCTL -q --root "$initdir" add-wants initrd-root-fs.target scratchroot.service
        # Loads overlay.ko early, in parallel with udev (see the unit).
        inst_simple "$moddir/scratchroot-preload.service" "$systemdsystemunitdir/scratchroot-preload.service"
        $SYSTEMCTL -q --root "$initdir" add-wants sysinit.target scratchroot-preload.service
        # The disk found, proven, formatted and mounted while systemd looks
        # for the root (see the unit).
        inst_simple "$moddir/scratchroot-prepare.service" "$systemdsystemunitdir/scratchroot-prepare.service"
        $SYSTEMCTL -q --root "$initdir" add-wants sysinit.target scratchroot-prepare.service
    else
        # pre-pivot: the real root is mounted at $NEWROOT and nothing has
        # switched into it yet.
        inst_hook pre-pivot 10 "$moddir/scratchroot-pre-pivot.sh"
        inst_hook cmdline 90 "$moddir/scratchroot-skipfsck.sh"
        # pre-udev: overlay.ko loads in the background while udev finds the
        # disks, rather than on the helper's first overlay mount (in a
        # systemd initrd, scratchroot-preload.service does it).
        inst_hook pre-udev 90 "$moddir/scratchroot-preload.sh"
        # pre-trigger: udev runs, the drivers are still to be loaded; the
        # helper waits for them in the background.
        inst_hook pre-trigger 90 "$moddir/scratchroot-prepare.sh"
    fi
}
