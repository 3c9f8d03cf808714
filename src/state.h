/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum backing {
        BACKING_SCRATCH,
        BACKING_TMPFS,
        BACKING_NONE,
};

struct state {
        enum backing backing;
        const char *device;     /* node the scratch was used through, "" when none */
        const char *devno;
        const char *hctl;
        const char *serial;     /* the disk's serial number, "" when unknown */
        const char *format;     /* blank|reused|forced, "" */
        const char *tmpfs_size;
        const char *reason;     /* why not the scratch disk, "" */
        const char *source;     /* where the options came from */
        const char *discard;    /* on|off|unsupported for the scratch ext4, "" otherwise */
        bool volatile_;
        uint64_t format_ms;     /* how long mke2fs ran, 0 when it did not */
        uint64_t setup_ms;
};

const char *backing_to_string(enum backing b);

/* Renders the key=value lines of the state file. */
int state_format(const struct state *s, char *buf, unsigned n);
int state_write(const char *path, const struct state *s);
