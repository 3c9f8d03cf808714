# shellcheck shell=bash
# Boot path "initramfs-tools": Debian's own initramfs generator, run for the
# cached Debian cloud kernel with a private configuration directory that
# holds the project's hook and local-bottom boot script (see lib.sh). The
# root is found by label through udev and blkid. See paths/dracut.sh for
# what a path file defines.

path_initrd() {
    vm_initramfs_tools_initrd "$1"
}

path_initrd_plain() {
    vm_initramfs_tools_initrd_plain "$1"
}

path_cmdline() {
    # Nothing more: root=LABEL=srroot ro (always given) is resolved by udev
    # and blkid; a root that never comes is given up after 30 s, and
    # initramfs-tools' panic then reboots at once (panic=-1, always given),
    # which -no-reboot turns into the end of QEMU. (rootdelay= would not
    # help: init sleeps that long before every boot.)
    echo ""
}
