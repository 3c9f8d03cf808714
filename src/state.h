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
        const char *disks;      /* the selected disks' kernel names, comma-separated, "" */
        const char *cloud;      /* the platform rd.scratch.cloud took disks of, "" */
        const char *format;     /* blank|reused|forced, "" */
        const char *tmpfs_size;
        const char *reason;     /* why not the scratch disk, "" */
        const char *source;     /* where the options came from */
        const char *discard;    /* on|off|unsupported for the scratch ext4, "" otherwise */
        const char *encrypt;    /* the dm-crypt cipher under the scratch ext4, "" when none */
        uint64_t swap_bytes;    /* the swap file's size, 0 when none */
        const char *swap_reason; /* why asked-for swap is not there, "" */
        const char *fallback;   /* rd.scratch.fallback as it applied */
        bool volatile_;
        uint64_t format_ms;     /* how long mke2fs ran, 0 when it did not */
        uint64_t prepare_ms;    /* the early part, before the root was mounted; 0 when none */
        uint64_t setup_ms;      /* what the boot waited for once the root was mounted */
        /* The record `scratchroot prepare` leaves for setup (PREPARED_FILE):
         * tmpfs_size is kept whatever the backing. */
        bool prepared;
};

/* The keys of the state file, in the order state_format() writes them and
 * print_status() shows them, each with what its value is in JSON. */
#define STATE_KEYS(X)                           \
        X(backing, STATE_VALUE_STRING)          \
        X(device, STATE_VALUE_STRING)           \
        X(devno, STATE_VALUE_STRING)            \
        X(hctl, STATE_VALUE_STRING)             \
        X(serial, STATE_VALUE_STRING)           \
        X(disks, STATE_VALUE_STRING)            \
        X(cloud, STATE_VALUE_STRING)            \
        X(format, STATE_VALUE_STRING)           \
        X(fs, STATE_VALUE_STRING)               \
        X(tmpfs_size, STATE_VALUE_STRING)       \
        X(volatile, STATE_VALUE_BOOL)           \
        X(discard, STATE_VALUE_STRING)          \
        X(encrypt, STATE_VALUE_STRING)          \
        X(swap, STATE_VALUE_NUMBER)             \
        X(swap_reason, STATE_VALUE_STRING)      \
        X(reason, STATE_VALUE_STRING)           \
        X(source, STATE_VALUE_STRING)           \
        X(fallback, STATE_VALUE_STRING)         \
        X(format_ms, STATE_VALUE_NUMBER)        \
        X(prepare_ms, STATE_VALUE_NUMBER)       \
        X(setup_ms, STATE_VALUE_NUMBER)

enum state_value_kind {
        STATE_VALUE_STRING,
        STATE_VALUE_NUMBER,     /* decimal digits */
        STATE_VALUE_BOOL,       /* 1 or 0 */
};

#define STATE_KEY_ENUM(name, kind) STATE_KEY_##name,
enum state_key {
        STATE_KEYS(STATE_KEY_ENUM)
        _STATE_KEY_MAX,
};
#undef STATE_KEY_ENUM

struct state_key_info {
        const char *name;
        enum state_value_kind kind;
};

extern const struct state_key_info state_keys[_STATE_KEY_MAX];

const char *backing_to_string(enum backing b);

/* Renders the key=value lines of the state file. */
int state_format(const struct state *s, char *buf, unsigned n);
int state_write(const char *path, const struct state *s);

/* One key=value line of a state file, as read back. */
struct state_kv {
        char key[32];
        char value[512];
};
#define STATE_MAX_KV 40

/* Reads up to max lines of the state file at path into kv (*n of them);
 * -errno when it cannot be read. */
int state_read(const char *path, struct state_kv *kv, unsigned max, unsigned *n);
/* The value of key, "" when it is not there. */
const char *state_get(const struct state_kv *kv, unsigned n, const char *key);
