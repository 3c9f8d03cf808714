/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A driver for the fuzz targets without libFuzzer: runs the target on each
 * file named on the command line, and on each file in each directory named.
 * Fails when it has nothing to run, so that a missing corpus is noticed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned *count) {
        FILE *f = fopen(path, "rbe");
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;

        if (!f) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        for (;;) {
                size_t k;

                if (len == cap) {
                        uint8_t *n;

                        cap = cap ? cap * 2 : 4096;
                        n = realloc(buf, cap);
                        if (!n)
                                abort();
                        buf = n;
                }
                k = fread(buf + len, 1, cap - len, f);
                len += k;
                if (k == 0)
                        break;
        }
        if (ferror(f)) {
                fprintf(stderr, "%s: read error\n", path);
                fclose(f);
                free(buf);
                return -1;
        }
        fclose(f);
        /* An exact-size copy, so that reads past the end are caught by ASan. */
        {
                uint8_t *exact = malloc(len ? len : 1);

                if (!exact)
                        abort();
                if (len)
                        memcpy(exact, buf, len);
                free(buf);
                (void) LLVMFuzzerTestOneInput(exact, len);
                free(exact);
        }
        (*count)++;
        return 0;
}

static int run_path(const char *path, unsigned *count) {
        struct stat st;
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path, count);
        d = opendir(path);
        if (!d) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        while ((de = readdir(d))) {
                char p[PATH_MAX];

                if (de->d_name[0] == '.')
                        continue;
                if ((size_t) snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= sizeof(p)) {
                        r = -1;
                        continue;
                }
                if (run_path(p, count) < 0)
                        r = -1;
        }
        closedir(d);
        return r;
}

int main(int argc, char **argv) {
        unsigned count = 0;
        int r = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &count) < 0)
                        r = 1;
        printf("%s: %u inputs replayed\n", argv[0], count);
        if (count == 0) {
                fprintf(stderr, "%s: no inputs\n", argv[0]);
                return 1;
        }
        return r;
}
