#!/bin/sh
# Sourced by dracut's init at the cmdline hook (shell initrd): return, never
# exit.
#
# When scratchroot is asked for, the root becomes the read-only lower layer
# of the overlay and is only ever read, and it is often served from a
# write-protected disk, on which dracut's "e2fsck -a" before the root mount
# fails and stops the boot in the emergency shell. rd.skipfsck, added here
# to dracut's command line (/etc/cmdline.d), makes dracut mount the root
# without checking it.

# shellcheck source=/dev/null
. /lib/scratchroot-asked.sh
if scratchroot_asked load; then
    mkdir -p /etc/cmdline.d
    echo rd.skipfsck >/etc/cmdline.d/90-scratchroot-skipfsck.conf
fi
return 0
