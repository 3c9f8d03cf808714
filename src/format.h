/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FORMAT_TIMEOUT_MS (120u * 1000u)

/* Makes a journal-less ext4 labelled SCRATCH_LABEL on node by exec'ing
 * mke2fs (an absolute path) with a fixed argv. Returns 0, -ETIMEDOUT (it was
 * killed), -EIO with the exit status in ret_status, or the -errno of a
 * failed exec. */
int format_scratch(const char *mke2fs, const char *node, bool discard, unsigned timeout_ms, int *ret_status);
/* The same for a device striped over members (> 1) in chunks of
 * chunk_bytes: 4 KiB blocks, and -E stride=,stripe_width= to match. */
int format_scratch_striped(const char *mke2fs, const char *node, bool discard, unsigned members,
                           uint32_t chunk_bytes, unsigned timeout_ms, int *ret_status);

/* Waits up to timeout_ms for the child pid to exit, reaping it, and kills
 * it then. Sleeps on a pidfd unless use_pidfd is false or the kernel has no
 * pidfd_open(), and polls otherwise. Returns 0 with its wait status, or
 * -ETIMEDOUT; ret_wakeups (optional) counts the times the wait found the
 * child still running: 1 when the pidfd woke it, one per poll else. */
int format_wait_child(pid_t pid, unsigned timeout_ms, bool use_pidfd, int *ret_status, unsigned *ret_wakeups);
