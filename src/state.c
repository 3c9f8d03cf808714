/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const char *backing_to_string(enum backing b) {
        switch (b) {
        case BACKING_SCRATCH: return "scratch";
        case BACKING_TMPFS: return "tmpfs";
        case BACKING_NONE: return "none";
        }
        return "?";
}

/* A value is one line of ASCII: anything that could start another line,
 * or is not ASCII, is replaced. */
static int put(char *buf, unsigned n, unsigned *o, const char *key, const char *value) {
        int k = snprintf(buf + *o, n - *o, "%s=", key);

        if (k < 0 || (unsigned) k >= n - *o)
                return -ENOBUFS;
        *o += (unsigned) k;
        for (const char *c = value ? value : ""; *c; c++) {
                if (*o + 2 >= n)
                        return -ENOBUFS;
                /* ASCII only: the file is read back into JSON. */
                buf[(*o)++] = (unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f ? '?' : *c;
        }
        if (*o + 2 > n)
                return -ENOBUFS;
        buf[(*o)++] = '\n';
        buf[*o] = '\0';
        return 0;
}

int state_format(const struct state *s, char *buf, unsigned n) {
        char ms[32], fms[32] = "";
        unsigned o = 0;
        int r = 0;

        (void) snprintf(ms, sizeof(ms), "%" PRIu64, s->setup_ms);
        if (s->format_ms)
                (void) snprintf(fms, sizeof(fms), "%" PRIu64, s->format_ms);
        r |= put(buf, n, &o, "backing", backing_to_string(s->backing));
        r |= put(buf, n, &o, "device", s->device);
        r |= put(buf, n, &o, "devno", s->devno);
        r |= put(buf, n, &o, "hctl", s->hctl);
        r |= put(buf, n, &o, "serial", s->serial);
        r |= put(buf, n, &o, "format", s->format);
        r |= put(buf, n, &o, "fs", s->backing == BACKING_SCRATCH ? "ext4" : s->backing == BACKING_TMPFS ? "tmpfs" : "");
        r |= put(buf, n, &o, "tmpfs_size", s->backing == BACKING_TMPFS ? s->tmpfs_size : "");
        r |= put(buf, n, &o, "volatile", s->backing == BACKING_NONE ? "" : s->volatile_ ? "1" : "0");
        r |= put(buf, n, &o, "discard", s->backing == BACKING_SCRATCH ? s->discard : "");
        r |= put(buf, n, &o, "reason", s->reason);
        r |= put(buf, n, &o, "source", s->source);
        r |= put(buf, n, &o, "format_ms", fms);
        r |= put(buf, n, &o, "setup_ms", ms);
        return r < 0 ? -ENOBUFS : 0;
}

int state_write(const char *path, const struct state *s) {
        char buf[4096];
        int r;

        r = state_format(s, buf, sizeof(buf));
        if (r < 0)
                return r;
        return write_file_atomic(path, buf, 0644);
}
