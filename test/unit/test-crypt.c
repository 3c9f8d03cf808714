/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crypt_open_scratch() on a sparse file: the LUKS2 header it leaves is the
 * one the safety gate takes as ours, it has no key slot, it costs a thin
 * image only a few dozen KiB, and it holds no copy of the volume key that
 * the mapping was made with. The mapping itself needs device-mapper with
 * dm-crypt, which a test host may lack: then it must fail at its own step. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "crypt.h"
#include "fixture.h"
#include "safety.h"
#include "tap.h"

#define IMAGE_SIZE (UINT64_C(256) << 20)

#if HAVE_LIBCRYPTSETUP
static void test_header(void) {
        char img[PATH_MAX], mapped[PATH_MAX], name[64], desc[160], cmd[PATH_MAX + 64];
        enum crypt_step step = (enum crypt_step) 99;
        enum content c = CONTENT_UNKNOWN;
        struct stat st;
        int fd, r;

        xfmt(img, sizeof(img), "%s/disk", base);
        fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t) IMAGE_SIZE) < 0)
                bail("cannot make %s", img);
        (void) close(fd);

        xfmt(name, sizeof(name), "scratchroot-test-%d", (int) getpid());
        r = crypt_open_scratch(img, name, false, mapped, sizeof(mapped), &step);
        if (r == 0) {
                check_has(mapped, "/dev/mapper/", "mapped: under /dev/mapper");
                check_int(crypt_close_scratch(name), 0, "the mapping is removed");
        } else {
                check_int(step, CRYPT_STEP_ACTIVATE, "without dm-crypt it fails at the mapping, not before");
                tap_diag("no mapping on this host: %s", strerror(-r));
        }

        fd = open(img, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                bail("cannot open %s again", img);
        r = safety_probe_content(fd, IMAGE_SIZE, &c, desc, sizeof(desc));
        (void) close(fd);
        check_int(r, 0, "the header probes");
        if (!check(c == CONTENT_OURS, "the safety gate takes the header as ours"))
                tap_diag("desc: %s", desc);
        check_has(desc, "LUKS2", "it is a LUKS2 header");
        if (!check((uint64_t) st.st_blocks * 512 <= (UINT64_C(128) << 10),
                   "the header allocates at most 128 KiB of the sparse image"))
                tap_diag("allocated %llu bytes", (unsigned long long) st.st_blocks * 512);

        /* cryptsetup's own reading of it: no key slot, the cipher asked for. */
        xfmt(cmd, sizeof(cmd), "cryptsetup luksDump '%s' >'%s.dump' 2>&1", img, img);
        if (check(system(cmd) == 0, "cryptsetup luksDump reads the header")) {
                char dump[PATH_MAX + 8];

                xfmt(dump, sizeof(dump), "%s.dump", img);
                xfmt(cmd, sizeof(cmd), "grep -q '^Keyslots:$' '%s' && ! grep -qE '^  [0-9]+: luks2' '%s'", dump, dump);
                check(system(cmd) == 0, "the header has no key slot");
                xfmt(cmd, sizeof(cmd), "grep -qE 'cipher:[[:space:]]+aes-xts-plain64' '%s'", dump);
                check(system(cmd) == 0, "the segment's cipher is aes-xts-plain64");
                xfmt(cmd, sizeof(cmd), "grep -qE 'sector:[[:space:]]+4096' '%s'", dump);
                check(system(cmd) == 0, "the segment's sector is 4096 bytes");
                xfmt(cmd, sizeof(cmd), "grep -qE '^Label:[[:space:]]+scratchroot$' '%s'", dump);
                check(system(cmd) == 0, "the label is scratchroot");
        }

        /* A second format draws a new key: the header's digest changes. */
        {
                char d1[PATH_MAX + 8], d2[PATH_MAX + 8];

                xfmt(d1, sizeof(d1), "%s.dump", img);
                xfmt(d2, sizeof(d2), "%s.dump2", img);
                r = crypt_open_scratch(img, name, false, mapped, sizeof(mapped), &step);
                if (r == 0)
                        (void) crypt_close_scratch(name);
                xfmt(cmd, sizeof(cmd),
                     "cryptsetup luksDump '%s' >'%s' 2>&1 && grep -A8 '^Digests:' '%s' >'%s.d' && "
                     "grep -A8 '^Digests:' '%s' >'%s.d' && ! cmp -s '%s.d' '%s.d'",
                     img, d2, d1, d1, d2, d2, d1, d2);
                check(system(cmd) == 0, "a second format has another key digest (a fresh key)");
        }
}

#endif

int main(void) {
        if (!fixture_start("test-crypt", "test setup"))
                return tap_done();
#if HAVE_LIBCRYPTSETUP
        {
                char path[4096];

                check(dlib_unsupported(crypt_library()) == NULL, "built with libcryptsetup: loaded");
                check_int(dlib_path(crypt_library(), path, sizeof(path)), 0, "the file it was loaded from");
                check(path[0] == '/' && strstr(path, LIBCRYPTSETUP_SONAME), "%s, named %s", path,
                      LIBCRYPTSETUP_SONAME);
        }
        test_header();
#else
        {
                char mapped[64];
                enum crypt_step step;

                check_str(dlib_unsupported(crypt_library()), "this scratchroot was built without libcryptsetup",
                          "built without libcryptsetup: not supported");
                check_int(crypt_open_scratch("/nonexistent", "x", false, mapped, sizeof(mapped), &step), -EOPNOTSUPP,
                          "built without libcryptsetup: -EOPNOTSUPP");
        }
#endif
        return fixture_done();
}
