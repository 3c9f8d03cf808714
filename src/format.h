/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define FORMAT_TIMEOUT_MS (120u * 1000u)

/* Makes a journal-less ext4 labelled SCRATCH_LABEL on node by exec'ing
 * mke2fs (an absolute path) with a fixed argv. Returns 0, -ETIMEDOUT (it was
 * killed), -EIO with the exit status in ret_status, or the -errno of a
 * failed exec. */
int format_scratch(const char *mke2fs, const char *node, bool discard, unsigned timeout_ms, int *ret_status);
