/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dlopen.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRIPE_NAME "scratchroot-stripe"
#define STRIPE_MAX_MEMBERS 32
#define STRIPE_DATA_OFFSET (UINT64_C(1) << 20)   /* each member's data starts 1 MiB in */
/* The chunk each member takes in turn; docs/cloud.md says why this size
 * (bench/stripe measures it). */
#define STRIPE_CHUNK_BYTES (UINT32_C(512) << 10)

#define STRIPE_MAGIC "scratchroot stripe member"
#define STRIPE_HEADER_VERSION 1u
/* The encoded header; the block written at offset 0 is STRIPE_BLOCK_BYTES,
 * the rest zeros. */
#define STRIPE_HEADER_BYTES 512u
#define STRIPE_BLOCK_BYTES 4096u

struct stripe_member {
        uint8_t set_id[16];             /* random, the same on every member of a set */
        uint32_t index;                 /* 0 .. count-1 */
        uint32_t count;
        uint32_t chunk_bytes;
        uint64_t data_offset;           /* bytes, STRIPE_DATA_OFFSET */
        uint64_t data_bytes;            /* of this member in the stripe */
};

/* libdevmapper, loaded at the first call (src/dlopen.h): its error says
 * "this scratchroot was built without libdevmapper", or the loader's
 * words, when it cannot be used. */
struct dlib *stripe_library(void);

/* Writes the member header (magic, set id, index, count, chunk) on each node, then maps the members'
 * data areas as one dm "striped" device /dev/mapper/NAME; returns its node in mapped. -errno with the
 * failed member's index in *ret_member (or -1). Nothing logged. */
int stripe_open(const char *const *nodes, unsigned n, const char *name, char *mapped, size_t len,
                int *ret_member);
int stripe_close(const char *name);
/* 1 when the open disk fd starts with a member header, 0 when not, -errno. */
int stripe_member_header(int fd);
/* The same, with what the header says in *ret (only when 1). */
int stripe_member_read(int fd, struct stripe_member *ret);

/* The header's encoding, little-endian with a CRC32C over its
 * STRIPE_HEADER_BYTES (the checksum field taken as zero). decode returns 0,
 * -ENOMSG without the magic, -EPROTONOSUPPORT for another version,
 * -EBADMSG when the checksum does not match, -EINVAL for values no header
 * of ours holds. */
void stripe_header_encode(const struct stripe_member *m, uint8_t buf[STRIPE_HEADER_BYTES]);
int stripe_header_decode(const uint8_t buf[STRIPE_HEADER_BYTES], struct stripe_member *ret);
uint32_t stripe_crc32c(uint32_t crc, const void *p, size_t n);

/* The members' common length in the stripe: the smallest data area
 * (size - STRIPE_DATA_OFFSET) rounded down to whole chunks; 0 when one has
 * none. */
uint64_t stripe_member_bytes(const uint64_t *sizes, unsigned n, uint32_t chunk_bytes);

/* device-mapper's table line of the "striped" target:
 * "<n> <chunk sectors> <maj:min> <offset sectors> ..." */
int stripe_table(const char *const *devs, unsigned n, uint32_t chunk_bytes, uint64_t offset_bytes, char *buf,
                 size_t len);
