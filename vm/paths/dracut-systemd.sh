# shellcheck shell=bash
# Boot path "dracut-systemd": dracut's initrd with systemd as its init
# (modules systemd and systemd-initrd), built for the cached Debian cloud
# kernel. systemd mounts the root itself (sysroot.mount, from root=) and the
# scratchroot module installs its unit, wanted by initrd-root-fs.target.
#
# By default dracut's hook services (module dracut-systemd) stay out: the
# unit must work with systemd alone. SR_DRACUT_SYSTEMD_HOOKS=1 adds them.
# See paths/dracut.sh for what a path file defines.

path_initrd() {
    vm_dracut_systemd_initrd "$1"
}

path_initrd_plain() {
    vm_dracut_systemd_initrd_plain "$1"
}

path_cmdline() {
    # A failed boot powers the VM off instead of waiting: the test initrd's
    # emergency.service does it (with dracut's hook services, their own
    # emergency shell does, told by rd.shell=0 rd.emergency=poweroff). A root
    # that never appears fails after systemd's 90 s device timeout (the VM
    # is off about 110 s after it started). Shorter timeouts are no good
    # under TCG: on a loaded host udev loaded virtio_scsi only 30 s after
    # the root device job had started.
    echo "rd.shell=0 rd.emergency=poweroff"
}
