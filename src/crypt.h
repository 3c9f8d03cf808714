/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dlopen.h"

#include <stdbool.h>
#include <stddef.h>

/* What the state file and the device-mapper table call the cipher. */
#define CRYPT_SPEC "aes-xts-plain64"
#define CRYPT_KEY_BYTES 64u

/* The steps of crypt_open_scratch(), for the caller's message. */
enum crypt_step {
        CRYPT_STEP_KEY,         /* draw the volume key */
        CRYPT_STEP_HEADER,      /* write the LUKS2 header */
        CRYPT_STEP_ACTIVATE,    /* map the disk through dm-crypt */
};

/* libcryptsetup, loaded at the first call (src/dlopen.h): its error says
 * "this scratchroot was built without libcryptsetup", or the loader's
 * words, when it cannot be used. */
struct dlib *crypt_library(void);

/* Writes a LUKS2 header labelled SCRATCH_LABEL with no key slot at the start
 * of node, for a volume key drawn from getrandom() that is never written
 * anywhere, and maps the rest of node as /dev/mapper/NAME with that key
 * (AES-XTS, 512-bit key); the helper's copy of the key is wiped as soon as
 * the kernel holds it. With allow_discards, discards pass through to node.
 * Returns -errno with the failed step in ret_step; -EOPNOTSUPP when
 * libcryptsetup is not there (crypt_library() says why). Nothing of it is logged. */
int crypt_open_scratch(const char *node, const char *name, bool allow_discards, char *mapped, size_t n,
                       enum crypt_step *ret_step);

/* How many key slots the LUKS2 header on the open disk fd has in use: 0 for
 * a header crypt_open_scratch() wrote. -EOPNOTSUPP when libcryptsetup is not
 * there, another -errno when the header cannot be read. */
int crypt_count_keyslots(int fd, unsigned *ret);

/* Removes the mapping crypt_open_scratch() made. */
int crypt_close_scratch(const char *name);
