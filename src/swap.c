/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "swap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/swap.h>
#include <unistd.h>

#include "macro.h"

#define SWAP_MAGIC "SWAPSPACE2"
/* The kernel's union swap_header: version, last page, bad pages, UUID and
 * label after the first 1024 bytes (the boot block), the magic at the end
 * of the first page. */
#define SWAP_INFO_OFFSET 1024u
#define SWAP_LABEL_BYTES 16u

uint64_t swap_bytes(const struct size_spec *s, uint64_t ram_bytes, uint64_t page_size) {
        uint64_t b = s->percent ? ram_bytes / 100 * s->percent + ram_bytes % 100 * s->percent / 100 : s->bytes;

        b -= b % page_size;
        return b >= 2 * page_size ? b : 0;
}

static void put_u32(unsigned char *p, uint32_t v) {
        memcpy(p, &v, sizeof(v));
}

int swap_header(unsigned char *page, uint64_t page_size, uint64_t bytes, const char *label) {
        uint64_t last = bytes / page_size - 1;
        unsigned char *info = page + SWAP_INFO_OFFSET;
        size_t llen = strnlen(label, SWAP_LABEL_BYTES);

        if (page_size < 4096 || bytes / page_size < 2 || last > UINT32_MAX)
                return -EINVAL;
        memset(page, 0, page_size);
        put_u32(info, 1);                       /* version */
        put_u32(info + 4, (uint32_t) last);     /* last_page */
        put_u32(info + 8, 0);                   /* nr_badpages */
        /* A random UUID as mkswap makes: not needed by swapon, but
         * blkid shows it. */
        if (getrandom(info + 12, 16, GRND_NONBLOCK) == 16) {
                info[12 + 6] = (unsigned char) ((info[12 + 6] & 0x0f) | 0x40);
                info[12 + 8] = (unsigned char) ((info[12 + 8] & 0x3f) | 0x80);
        }
        memcpy(info + 28, label, llen);
        memcpy(page + page_size - strlen(SWAP_MAGIC), SWAP_MAGIC, strlen(SWAP_MAGIC));
        return 0;
}

int swap_file_enable(const char *path, uint64_t bytes, enum swap_step *ret_step) {
        long ps = sysconf(_SC_PAGESIZE);
        _cleanup_free_ unsigned char *page = NULL;
        _cleanup_close_ int fd = -1;
        enum swap_step step = SWAP_STEP_CREATE;
        int r;

        if (ps <= 0)
                ps = 4096;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                *ret_step = step;
                return -errno;
        }

        /* Unwritten extents: the host allocates a page of the file only
         * when the kernel swaps one out to it. fallocate() rather than
         * posix_fallocate(), which would write zeros where the filesystem
         * cannot allocate. */
        step = SWAP_STEP_ALLOCATE;
        if (fallocate(fd, 0, 0, (off_t) bytes) < 0) {
                r = -errno;
                goto fail;
        }

        step = SWAP_STEP_HEADER;
        page = malloc((size_t) ps);
        if (!page) {
                r = -ENOMEM;
                goto fail;
        }
        r = swap_header(page, (uint64_t) ps, bytes, "scratchroot");
        if (r < 0)
                goto fail;
        if (pwrite(fd, page, (size_t) ps, 0) != ps || fsync(fd) < 0) {
                r = errno ? -errno : -EIO;
                goto fail;
        }
        fd = safe_close(fd);

        step = SWAP_STEP_SWAPON;
        if (swapon(path, 0) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        fd = safe_close(fd);
        (void) unlink(path);
        *ret_step = step;
        return r;
}
