#!/bin/sh
# Sourced by dracut's init at pre-trigger: return, never exit.
#
# scratchroot prepare finds, proves, formats and mounts the scratch disk in
# the background while udev finds the disks and init looks for the root and
# mounts it; the pre-pivot hook then waits for it and mounts only the
# overlay. The helper returns as soon as it holds its lock. It reads its
# options itself (the hypervisor's through fw_cfg and a virtio-serial port,
# whose drivers are loaded first when the machine has the device, see
# scratchroot-asked.sh) and does nothing without them. DM_DISABLE_UDEV as in
# the pre-pivot hook.

command -v scratchroot >/dev/null || return 0
# shellcheck source=/dev/null
. /lib/scratchroot-asked.sh
scratchroot_channels
DM_DISABLE_UDEV=1 scratchroot prepare || :
return 0
