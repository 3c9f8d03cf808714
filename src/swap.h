/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "options.h"

/* The steps of swap_file_enable(), for the caller's message. */
enum swap_step {
        SWAP_STEP_CREATE,       /* create the file */
        SWAP_STEP_ALLOCATE,     /* fallocate it */
        SWAP_STEP_HEADER,       /* write the swap header */
        SWAP_STEP_SWAPON,       /* swapon */
};

/* The size in bytes a swap size_spec stands for: a percentage of ram_bytes,
 * rounded down to whole pages; 0 when it is none or less than two pages. */
uint64_t swap_bytes(const struct size_spec *s, uint64_t ram_bytes, uint64_t page_size);

/* Fills page (page_size bytes) with the header of a version 1 swap area of
 * bytes, as mkswap writes it, labelled label. -EINVAL when bytes holds fewer
 * than two pages. */
int swap_header(unsigned char *page, uint64_t page_size, uint64_t bytes, const char *label);

/* Creates path (which must not exist) as a swap file of bytes, allocated
 * with fallocate() so that nothing but its first page is written, and
 * enables it. On failure the file is removed; ret_step says which step
 * failed. */
int swap_file_enable(const char *path, uint64_t bytes, enum swap_step *ret_step);
