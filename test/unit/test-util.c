/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util: open_grace (the ENXIO grace of a disk still being added),
 * read_full_file's bound, mountinfo_unescape. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dlopen.h"
#include "fixture.h"
#include "macro.h"
#include "util.h"

#define GRACE_MS 2000u
#define SWAP_AFTER_MS 100u

/* open(2) of a UNIX-domain socket's file answers ENXIO, as a block device
 * does while the kernel is still adding it. */
static int bind_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                bail("socket path too long: %s", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                bail("cannot bind a socket at %s: %s", path, strerror(errno));
        return fd;
}

static void test_grace_success(void) {
        char sock[PATH_MAX], file[PATH_MAX];
        uint64_t t0, took, waited = 0;
        int sfd, fd, status;
        pid_t pid;

        xfmt(sock, sizeof(sock), "%s/disk", base);
        xfmt(file, sizeof(file), "%s/disk.new", base);
        sfd = bind_socket(sock);
        put(base, "disk.new", "data");
        check_int(open(sock, O_RDONLY | O_CLOEXEC) < 0 ? errno : 0, ENXIO, "grace: a socket's file answers ENXIO");

        /* The device "appears" after SWAP_AFTER_MS: a regular file renamed
         * over the socket, in one step. */
        pid = fork_child();
        if (pid == 0) {
                sleep_ms(SWAP_AFTER_MS);
                _exit(rename(file, sock) == 0 ? 0 : 1);
        }
        t0 = now_ms();
        fd = open_grace(sock, O_RDONLY | O_CLOEXEC, GRACE_MS, &waited);
        took = now_ms() - t0;
        check(fd >= 0, "grace: opened once ENXIO stopped (%s)", fd < 0 ? strerror(-fd) : "ok");
        check(took >= SWAP_AFTER_MS, "grace: after at least %u ms (took %llu)", SWAP_AFTER_MS,
              (unsigned long long) took);
        check(took < GRACE_MS, "grace: before the grace ran out (took %llu of %u ms)", (unsigned long long) took,
              GRACE_MS);
        check(waited >= SWAP_AFTER_MS && waited <= took, "grace: says it waited %llu ms",
              (unsigned long long) waited);
        if (fd >= 0) {
                char buf[8] = "";

                check(read(fd, buf, sizeof(buf) - 1) == 4 && strcmp(buf, "data") == 0, "grace: it is the new file");
                (void) close(fd);
        }
        check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "grace: the file was swapped in");
        (void) close(sfd);
        (void) unlink(sock);
}

static void test_grace_gives_up(void) {
        char sock[PATH_MAX];
        uint64_t t0, took, waited = 12345;
        int sfd, fd;

        xfmt(sock, sizeof(sock), "%s/never", base);
        sfd = bind_socket(sock);
        t0 = now_ms();
        fd = open_grace(sock, O_RDONLY | O_CLOEXEC, 200, &waited);
        took = now_ms() - t0;
        check_int(fd, -ENXIO, "grace: still ENXIO when the grace runs out");
        check(took >= 200 && took < 200 + 500, "grace: gave up after 200 ms (took %llu)", (unsigned long long) took);
        check_u64(waited, 12345, "grace: ret_waited_ms untouched on failure");
        (void) close(sfd);

        t0 = now_ms();
        check_int(open_grace(sock, O_RDONLY | O_CLOEXEC, 0, NULL), -ENXIO, "grace: no grace, one try");
        check(now_ms() - t0 < 100, "grace: no grace, no wait");
        (void) unlink(sock);

        t0 = now_ms();
        check_int(open_grace(sock, O_RDONLY | O_CLOEXEC, GRACE_MS, &waited), -ENOENT,
                  "grace: another error is not tried again");
        check(now_ms() - t0 < 100, "grace: ENOENT at once");

        put(base, "plain", "x");
        xfmt(sock, sizeof(sock), "%s/plain", base);
        fd = open_grace(sock, O_RDONLY | O_CLOEXEC, GRACE_MS, &waited);
        check(fd >= 0, "grace: a file that opens at once");
        check_u64(waited, 0, "grace: waited 0 ms");
        if (fd >= 0)
                (void) close(fd);
}

static void test_read_full_file(void) {
        char path[PATH_MAX], *s = NULL;
        size_t size = 99;

        xfmt(path, sizeof(path), "%s/f", base);
        put_bytes(base, "f", "ab\0cd", 5);
        check_int(read_full_file(path, 5, &s, &size), 0, "read_full_file: at the bound");
        check(s && size == 5 && memcmp(s, "ab\0cd", 6) == 0, "read_full_file: all of it, NUL kept, NUL-terminated");
        free(s);
        s = NULL;
        check_int(read_full_file(path, 4, &s, &size), -E2BIG, "read_full_file: one byte over: -E2BIG");
        check(s == NULL, "read_full_file: nothing returned");
        put(base, "empty", "");
        xfmt(path, sizeof(path), "%s/empty", base);
        check_int(read_full_file(path, 0, &s, NULL), 0, "read_full_file: empty file, bound 0");
        check(s && s[0] == '\0', "read_full_file: empty string");
        free(s);
}

static void test_unescape(void) {
        char s[] = "/a\\040b\\011c\\012d\\134e\\08f\\";

        mountinfo_unescape(s);
        check_str(s, "/a b\tc\nd\\e\\08f\\", "unescape: \\040 \\011 \\012 \\134, others kept");
}

/* A library loaded on demand: what is told when it is not there, or lacks
 * a symbol, and that a failed load is not tried again. */
static int (*sym_abs)(int);
static void *sym_no_such_symbol_in_libc;

static void test_dlib(void) {
        const struct dlsym_arg good[] = { DLSYM_ARG(abs) };
        const struct dlsym_arg bad[] = { DLSYM_ARG(abs), DLSYM_ARG(no_such_symbol_in_libc) };
        struct dlib none = { .soname = "libscratchroot-test-absent.so.0", .syms = good, .n_syms = 1 },
                    libc = { .soname = "libc.so.6", .syms = bad, .n_syms = ELEMENTSOF(bad) };
        char path[4096];

        check_int(dlib_load(&none), -EOPNOTSUPP, "an absent library: -EOPNOTSUPP");
        check(strstr(none.error, "cannot load libscratchroot-test-absent.so.0: ") == none.error,
              "an absent library: the error names it (%s)", none.error);
        none.soname = "libc.so.6";
        check_int(dlib_load(&none), -EOPNOTSUPP, "a failed load is not tried again");
        check_int(dlib_path(&none, path, sizeof(path)), -EOPNOTSUPP, "a failed load has no path");

        check_int(dlib_load(&libc), -EOPNOTSUPP, "a missing symbol: -EOPNOTSUPP");
        check_str(libc.error, "libc.so.6 has no no_such_symbol_in_libc", "a missing symbol: named");
        check(sym_abs == NULL, "a missing symbol: none of the others is left set");

        libc = (struct dlib) { .soname = "libc.so.6", .syms = good, .n_syms = 1 };
        check_int(dlib_load(&libc), 0, "libc.so.6 loaded");
        check(sym_abs && sym_abs(-3) == 3, "its abs() called through the pointer");
        check_int(dlib_path(&libc, path, sizeof(path)), 0, "the file it came from");
        check(path[0] == '/' && strstr(path, "libc.so.6"), "an absolute path (%s)", path);
        check_int(dlib_load(&libc), 0, "loaded once, then kept");
}

int main(void) {
        if (!fixture_start("test-util", "test setup"))
                return tap_done();
        test_grace_success();
        test_grace_gives_up();
        test_read_full_file();
        test_unescape();
        test_dlib();
        return fixture_done();
}
