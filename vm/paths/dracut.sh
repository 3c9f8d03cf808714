# shellcheck shell=bash
# Boot path "dracut": dracut's shell initrd (no systemd inside), built for
# the cached Debian cloud kernel. A path file defines:
#   path_initrd OUT         an initrd with the project's module
#   path_initrd_plain OUT   the same initrd without it (the baseline)
#   path_cmdline            extra kernel command line for this path

path_initrd() {
    vm_dracut_initrd "$1"
}

path_initrd_plain() {
    vm_dracut_initrd_plain "$1"
}

path_cmdline() {
    # A failed boot powers the VM off instead of waiting in a shell.
    echo "rd.shell=0 rd.emergency=poweroff"
}
