/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Prints what setup did at this boot, from the state file and the scratch
 * filesystem as it is now. Returns 0, or -errno when the state file exists
 * but cannot be read. */
int print_status(FILE *out, const char *state_file, const char *scratch_dir, bool json);
