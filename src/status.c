/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "util.h"

#define MAX_KEYS 32

struct kv {
        char key[32];
        char value[512];
};

static int read_state(const char *path, struct kv *kv, unsigned *n) {
        char line[600];
        FILE *f;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        *n = 0;
        errno = 0;
        while (fgets(line, sizeof(line), f) && *n < MAX_KEYS) {
                char *eq = strchr(line, '=');

                line[strcspn(line, "\n")] = '\0';
                if (!eq || eq == line || (size_t) (eq - line) >= sizeof(kv[0].key))
                        continue;
                *eq = '\0';
                (void) xsnprintf(kv[*n].key, sizeof(kv[*n].key), "%s", line);
                (void) xsnprintf(kv[*n].value, sizeof(kv[*n].value), "%s", eq + 1);
                (*n)++;
        }
        if (ferror(f)) {
                int r = errno ? -errno : -EIO;

                (void) fclose(f);
                return r;
        }
        (void) fclose(f);
        return 0;
}

static const char *get(const struct kv *kv, unsigned n, const char *key) {
        for (unsigned i = 0; i < n; i++)
                if (strcmp(kv[i].key, key) == 0)
                        return kv[i].value;
        return "";
}

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

int print_status(FILE *out, const char *state_file, const char *scratch_dir, bool json) {
        static const char *const keys[] = {
                "backing", "device", "devno", "hctl", "serial", "format", "fs", "tmpfs_size",
                "volatile", "discard", "reason", "source", "format_ms", "setup_ms",
        };
        struct kv kv[MAX_KEYS];
        struct statvfs sv;
        uint64_t size = 0, used = 0;
        bool have_fs = false;
        unsigned n = 0;
        int r;

        r = read_state(state_file, kv, &n);
        if (r == -ENOENT) {
                if (json)
                        fprintf(out, "{\"backing\":null}\n");
                else
                        fprintf(out, "scratchroot did not set up this boot (no %s)\n", state_file);
                return 0;
        }
        if (r < 0)
                return r;

        if (strcmp(get(kv, n, "backing"), "none") != 0 && statvfs(scratch_dir, &sv) == 0) {
                size = (uint64_t) sv.f_blocks * sv.f_frsize;
                used = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
                have_fs = true;
        }

        if (json) {
                fprintf(out, "{");
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                        const char *v = get(kv, n, keys[i]);

                        fprintf(out, "%s\"%s\":", i ? "," : "", keys[i]);
                        if (strcmp(keys[i], "setup_ms") == 0 || strcmp(keys[i], "format_ms") == 0 ||
                            strcmp(keys[i], "volatile") == 0) {
                                char *end;
                                unsigned long long num;

                                errno = 0;
                                num = strtoull(v, &end, 10);
                                if (!v[0] || v[0] < '0' || v[0] > '9' || *end || errno)
                                        fprintf(out, "null");
                                else if (strcmp(keys[i], "volatile") == 0)
                                        fprintf(out, "%s", num == 1 ? "true" : "false");
                                else
                                        fprintf(out, "%llu", num);
                        } else if (v[0])
                                json_string(out, v);
                        else
                                fprintf(out, "null");
                }
                if (have_fs)
                        fprintf(out, ",\"size_bytes\":%" PRIu64 ",\"used_bytes\":%" PRIu64, size, used);
                else
                        fprintf(out, ",\"size_bytes\":null,\"used_bytes\":null");
                fprintf(out, "}\n");
                return 0;
        }

        {
                const char *backing = get(kv, n, "backing"), *hctl = get(kv, n, "hctl");
                const char *serial = get(kv, n, "serial"), *reason = get(kv, n, "reason");
                const char *fms = get(kv, n, "format_ms");

                fprintf(out, "backing:  %s\n", backing);
                if (get(kv, n, "device")[0])
                        fprintf(out, "disk:     %s (%s%s%s%s%s)\n", get(kv, n, "device"), get(kv, n, "devno"),
                                hctl[0] ? ", SCSI " : "", hctl, serial[0] ? ", serial " : "", serial);
                if (have_fs) {
                        char s[32], u[32];

                        format_bytes(size, s, sizeof(s));
                        format_bytes(used, u, sizeof(u));
                        fprintf(out, "upper:    %s%s, %s of %s used (%.0f%%)\n", get(kv, n, "fs"),
                                strcmp(get(kv, n, "fs"), "ext4") == 0 ? " without journal" : "", u, s,
                                size ? 100.0 * (double) used / (double) size : 0.0);
                }
                if (get(kv, n, "discard")[0])
                        fprintf(out, "discard:  %s\n", get(kv, n, "discard"));
                if (reason[0])
                        fprintf(out, "reason:   %s\n", reason);
                fprintf(out, "options:  from %s\n", get(kv, n, "source"));
                fprintf(out, "setup:    %s ms%s%s%s\n", get(kv, n, "setup_ms"), fms[0] ? " (mke2fs " : "", fms,
                        fms[0] ? " ms)" : "");
        }
        return 0;
}
