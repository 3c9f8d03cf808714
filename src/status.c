/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "macro.h"
#include "state.h"
#include "util.h"

static void json_string(FILE *out, const char *s) {
        fputc('"', out);
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (*c == '"' || *c == '\\')
                        fprintf(out, "\\%c", *c);
                else if (*c < 0x20 || *c == 0x7f)
                        fprintf(out, "\\u%04x", *c);
                else if (*c >= 0x80)
                        fputc('?', out); /* not ours to vouch for as UTF-8 */
                else
                        fputc(*c, out);
        }
        fputc('"', out);
}

/* A number or a boolean as JSON, from the decimal digits of v: null when
 * v is anything else. */
static void json_number(FILE *out, const char *v, enum state_value_kind kind) {
        unsigned long long num;
        char *end;

        errno = 0;
        num = strtoull(v, &end, 10);
        if (!v[0] || v[0] < '0' || v[0] > '9' || *end || errno)
                fprintf(out, "null");
        else if (kind == STATE_VALUE_BOOL)
                fprintf(out, "%s", num == 1 ? "true" : "false");
        else
                fprintf(out, "%llu", num);
}

struct usage {
        bool have_fs;
        uint64_t size, used;
};

static void print_json(FILE *out, const struct state_kv *kv, unsigned n, const struct usage *u) {
        fprintf(out, "{");
        for (size_t i = 0; i < _STATE_KEY_MAX; i++) {
                const char *v = state_get(kv, n, state_keys[i].name);

                fprintf(out, "%s\"%s\":", i ? "," : "", state_keys[i].name);
                if (state_keys[i].kind != STATE_VALUE_STRING)
                        json_number(out, v, state_keys[i].kind);
                else if (v[0])
                        json_string(out, v);
                else
                        fprintf(out, "null");
        }
        if (u->have_fs)
                fprintf(out, ",\"size_bytes\":%" PRIu64 ",\"used_bytes\":%" PRIu64, u->size, u->used);
        else
                fprintf(out, ",\"size_bytes\":null,\"used_bytes\":null");
        fprintf(out, "}\n");
}

#define GET(key) state_get(kv, n, state_keys[STATE_KEY_##key].name)

static void print_text(FILE *out, const struct state_kv *kv, unsigned n, const struct usage *u) {
        const char *hctl = GET(hctl), *serial = GET(serial), *fms = GET(format_ms), *fs = GET(fs);

        fprintf(out, "backing:  %s\n", GET(backing));
        if (GET(device)[0])
                fprintf(out, "disk:     %s (%s%s%s%s%s)\n", GET(device), GET(devno), hctl[0] ? ", SCSI " : "", hctl,
                        serial[0] ? ", serial " : "", serial);
        if (strchr(GET(disks), ','))
                fprintf(out, "disks:    %s, striped\n", GET(disks));
        if (GET(cloud)[0])
                fprintf(out, "cloud:    %s\n", GET(cloud));
        if (u->have_fs) {
                char size[32], used[32];

                format_bytes(u->size, size, sizeof(size));
                format_bytes(u->used, used, sizeof(used));
                fprintf(out, "upper:    %s%s, %s of %s used (%.0f%%)\n", fs,
                        strcmp(fs, "ext4") == 0 ? " without journal" : "", used, size,
                        u->size ? 100.0 * (double) u->used / (double) u->size : 0.0);
        }
        if (GET(discard)[0])
                fprintf(out, "discard:  %s\n", GET(discard));
        if (GET(encrypt)[0])
                fprintf(out, "encrypt:  %s, a key of this boot only\n", GET(encrypt));
        if (GET(swap)[0] && strcmp(GET(swap), "0") != 0) {
                char size[32];

                format_bytes(strtoull(GET(swap), NULL, 10), size, sizeof(size));
                fprintf(out, "swap:     %s (%s bytes) on the scratch filesystem\n", size, GET(swap));
        }
        if (GET(swap_reason)[0])
                fprintf(out, "swap:     none, %s\n", GET(swap_reason));
        if (GET(reason)[0])
                fprintf(out, "reason:   %s\n", GET(reason));
        fprintf(out, "options:  from %s\n", GET(source));
        fprintf(out, "setup:    %s ms%s%s%s\n", GET(setup_ms), fms[0] ? " (mke2fs " : "", fms, fms[0] ? " ms)" : "");
        if (GET(prepare_ms)[0])
                fprintf(out, "prepared: %s ms before the root was mounted\n", GET(prepare_ms));
}

int print_status(FILE *out, const char *state_file, const char *scratch_dir, bool json) {
        struct state_kv kv[STATE_MAX_KV];
        struct usage u = {};
        struct statvfs sv;
        unsigned n = 0;
        int r;

        r = state_read(state_file, kv, STATE_MAX_KV, &n);
        if (r == -ENOENT) {
                if (json)
                        fprintf(out, "{\"backing\":null}\n");
                else
                        fprintf(out, "scratchroot did not set up this boot (no %s)\n", state_file);
                return 0;
        }
        if (r < 0)
                return r;

        if (strcmp(GET(backing), "none") != 0 && statvfs(scratch_dir, &sv) == 0) {
                u.size = (uint64_t) sv.f_blocks * sv.f_frsize;
                u.used = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
                u.have_fs = true;
        }
        if (json)
                print_json(out, kv, n, &u);
        else
                print_text(out, kv, n, &u);
        return 0;
}
