#!/bin/sh
# Sourced by dracut's init at pre-pivot: return, never exit.

# shellcheck source=/dev/null
command -v getarg >/dev/null || . /lib/dracut-lib.sh

command -v scratchroot >/dev/null || return 0

# The hypervisor's options come through fw_cfg and a virtio-serial port:
# their drivers must be loaded before the helper looks, when the machine
# has the device (see scratchroot-asked.sh); udev has normally loaded them.
# shellcheck source=/dev/null
. /lib/scratchroot-asked.sh
scratchroot_channels

# The helper reads the options itself and does nothing without them. It
# exits non-zero only when rd.scratch.fallback=fail asks to stop the boot.
# DM_DISABLE_UDEV: with rd.scratch.encrypt or several disks striped,
# libdevmapper would otherwise wait for udev to confirm the device-mapper
# device, which udev does only with device-mapper's rules, not in this
# initrd; it then makes /dev/mapper's node itself. Read when the library
# loads.
if ! DM_DISABLE_UDEV=1 scratchroot setup --newroot "${NEWROOT:-/sysroot}"; then
    die "scratchroot: the root overlay could not be set up and rd.scratch.fallback=fail stops the boot"
fi
