/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "util.h"

#define STATE_KEY_INFO(n, k) [STATE_KEY_##n] = { .name = #n, .kind = k },
const struct state_key_info state_keys[_STATE_KEY_MAX] = { STATE_KEYS(STATE_KEY_INFO) };
#undef STATE_KEY_INFO

static const char *const backing_names[] = {
        [BACKING_SCRATCH] = "scratch",
        [BACKING_TMPFS] = "tmpfs",
        [BACKING_NONE] = "none",
};

const char *backing_to_string(enum backing b) {
        return TABLE_STRING(backing_names, b);
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
        char ms[32], fms[32] = "", pms[32] = "", swap[32];
        const char *v[_STATE_KEY_MAX] = {};
        bool scratch = s->backing == BACKING_SCRATCH, tmpfs = s->backing == BACKING_TMPFS;
        unsigned o = 0;

        (void) xsnprintf(ms, sizeof(ms), "%" PRIu64, s->setup_ms);
        if (s->format_ms)
                (void) xsnprintf(fms, sizeof(fms), "%" PRIu64, s->format_ms);
        if (s->prepare_ms)
                (void) xsnprintf(pms, sizeof(pms), "%" PRIu64, s->prepare_ms);
        v[STATE_KEY_backing] = backing_to_string(s->backing);
        v[STATE_KEY_device] = s->device;
        v[STATE_KEY_devno] = s->devno;
        v[STATE_KEY_hctl] = s->hctl;
        v[STATE_KEY_serial] = s->serial;
        v[STATE_KEY_disks] = s->disks;
        v[STATE_KEY_cloud] = s->cloud;
        v[STATE_KEY_format] = s->format;
        v[STATE_KEY_fs] = scratch ? "ext4" : tmpfs ? "tmpfs" : "";
        v[STATE_KEY_tmpfs_size] = tmpfs || s->prepared ? s->tmpfs_size : "";
        v[STATE_KEY_volatile] = s->backing == BACKING_NONE ? "" : s->volatile_ ? "1" : "0";
        v[STATE_KEY_discard] = scratch ? s->discard : "";
        v[STATE_KEY_encrypt] = scratch && s->encrypt ? s->encrypt : "";
        (void) xsnprintf(swap, sizeof(swap), "%" PRIu64, s->swap_bytes);
        v[STATE_KEY_swap] = swap;
        v[STATE_KEY_swap_reason] = s->swap_reason;
        v[STATE_KEY_reason] = s->reason;
        v[STATE_KEY_source] = s->source;
        v[STATE_KEY_fallback] = s->fallback ? s->fallback : "";
        v[STATE_KEY_format_ms] = fms;
        v[STATE_KEY_prepare_ms] = pms;
        v[STATE_KEY_setup_ms] = ms;

        for (unsigned i = 0; i < _STATE_KEY_MAX; i++)
                if (put(buf, n, &o, state_keys[i].name, v[i]) < 0)
                        return -ENOBUFS;
        return 0;
}

int state_write(const char *path, const struct state *s) {
        char buf[4096];
        int r;

        r = state_format(s, buf, sizeof(buf));
        if (r < 0)
                return r;
        return write_file_atomic(path, buf, 0644);
}

int state_read(const char *path, struct state_kv *kv, unsigned max, unsigned *n) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[600];

        f = fopen(path, "re");
        if (!f)
                return -errno;
        *n = 0;
        errno = 0;
        while (fgets(line, sizeof(line), f) && *n < max) {
                char *eq = strchr(line, '=');

                line[strcspn(line, "\n")] = '\0';
                if (!eq || eq == line || (size_t) (eq - line) >= sizeof(kv[0].key))
                        continue;
                *eq = '\0';
                (void) xsnprintf(kv[*n].key, sizeof(kv[*n].key), "%s", line);
                (void) xsnprintf(kv[*n].value, sizeof(kv[*n].value), "%s", eq + 1);
                (*n)++;
        }
        if (ferror(f))
                return errno ? -errno : -EIO;
        return 0;
}

const char *state_get(const struct state_kv *kv, unsigned n, const char *key) {
        for (unsigned i = 0; i < n; i++)
                if (strcmp(kv[i].key, key) == 0)
                        return kv[i].value;
        return "";
}
