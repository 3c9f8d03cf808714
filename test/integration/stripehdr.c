/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stripe member header for the loop cases (test/integration/cases/stripe.sh),
 * through the helper's own encoding:
 *
 *   stripehdr write FILE INDEX COUNT [SET]   a header (member INDEX of COUNT,
 *                                            set id SET's byte repeated) at 0
 *   stripehdr bad FILE                       the same, its checksum broken
 *   stripehdr read FILE                      "member I of N set HEX chunk C data D",
 *                                            exit 1 without a valid header
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stripe.h"

static int usage(void) {
        fprintf(stderr, "usage: stripehdr write FILE INDEX COUNT [SET] | bad FILE | read FILE\n");
        return 2;
}

static int write_header(const char *file, uint32_t index, uint32_t count, unsigned set, bool broken) {
        struct stripe_member m = {
                .index = index,
                .count = count,
                .chunk_bytes = STRIPE_CHUNK_BYTES,
                .data_offset = STRIPE_DATA_OFFSET,
        };
        uint8_t block[STRIPE_BLOCK_BYTES] = {};
        int fd;

        memset(m.set_id, (int) set, sizeof(m.set_id));
        stripe_header_encode(&m, block);
        if (broken)
                block[STRIPE_HEADER_BYTES - 1] ^= 0x01;
        fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || pwrite(fd, block, sizeof(block), 0) != (ssize_t) sizeof(block) || fsync(fd) < 0) {
                fprintf(stderr, "stripehdr: %s: %s\n", file, strerror(errno));
                return 1;
        }
        (void) close(fd);
        return 0;
}

int main(int argc, char **argv) {
        struct stripe_member m;
        int fd, r;

        if (argc >= 5 && argc <= 6 && strcmp(argv[1], "write") == 0)
                return write_header(argv[2], (uint32_t) strtoul(argv[3], NULL, 10),
                                    (uint32_t) strtoul(argv[4], NULL, 10),
                                    argc == 6 ? (unsigned) strtoul(argv[5], NULL, 0) : 0x5a, false);
        if (argc == 3 && strcmp(argv[1], "bad") == 0)
                return write_header(argv[2], 1, 2, 0x5a, true);
        if (argc != 3 || strcmp(argv[1], "read") != 0)
                return usage();

        fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "stripehdr: %s: %s\n", argv[2], strerror(errno));
                return 2;
        }
        r = stripe_member_read(fd, &m);
        (void) close(fd);
        if (r < 0) {
                fprintf(stderr, "stripehdr: %s: %s\n", argv[2], strerror(-r));
                return 2;
        }
        if (r == 0) {
                printf("none\n");
                return 1;
        }
        printf("member %" PRIu32 " of %" PRIu32 " set ", m.index + 1, m.count);
        for (unsigned i = 0; i < sizeof(m.set_id); i++)
                printf("%02x", m.set_id[i]);
        printf(" chunk %" PRIu32 " data %" PRIu64 "\n", m.chunk_bytes, m.data_bytes);
        return 0;
}
