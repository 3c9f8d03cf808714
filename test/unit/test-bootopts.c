/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The init's kernel command line: root=, rootfstype=, rootflags=, ro/rw,
 * init=, rootdelay=, rd.shell, and how words are split. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootopts.h"
#include "tap.h"

static void parse(struct boot_options *o, const char *cmdline) {
        boot_options_init(o);
        boot_options_parse(o, cmdline);
}

static void test_defaults(void) {
        struct boot_options o;

        parse(&o, "");
        check(!o.have_root, "defaults: no root");
        check_str(o.root, "", "defaults: root empty");
        check_str(o.rootfstype, "", "defaults: no rootfstype");
        check_str(o.rootflags, "", "defaults: no rootflags");
        check_str(o.init, "", "defaults: no init");
        check(!o.rw, "defaults: read-only, as the kernel mounts the root");
        check_int(o.root_wait_ms, 30000, "defaults: wait 30 s for the root");
        check(!o.shell, "defaults: no shell");
        check_int(o.n_problems, 0, "defaults: no problems");
}

static void test_typical(void) {
        struct boot_options o;

        parse(&o, "BOOT_IMAGE=/vmlinuz console=ttyS0 root=LABEL=image rootfstype=ext4 rootflags=noatime,nodiscard "
                  "rw init=/lib/systemd/systemd rootdelay=5 rd.shell quiet rd.scratch.lun=1");
        check(o.have_root, "typical: root given");
        check_str(o.root, "LABEL=image", "typical: root=");
        check_str(o.rootfstype, "ext4", "typical: rootfstype=");
        check_str(o.rootflags, "noatime,nodiscard", "typical: rootflags=");
        check(o.rw, "typical: rw");
        check_str(o.init, "/lib/systemd/systemd", "typical: init=");
        check_int(o.root_wait_ms, 5000, "typical: rootdelay=5 waits 5 s");
        check(o.shell, "typical: bare rd.shell asks for the shell");
        check_int(o.n_problems, 0, "typical: no problems");
}

static void test_last_wins(void) {
        struct boot_options o;

        parse(&o, "root=/dev/sda1 root=UUID=1234 ro rw ro rootfstype=xfs rootfstype=ext4 init=/a init=/b "
                  "rootflags=a rootflags=b rootdelay=1 rootdelay=2.5 rd.shell rd.shell=0");
        check_str(o.root, "UUID=1234", "last wins: root=");
        check(!o.rw, "last wins: ro after rw");
        check_str(o.rootfstype, "ext4", "last wins: rootfstype=");
        check_str(o.init, "/b", "last wins: init=");
        check_str(o.rootflags, "b", "last wins: rootflags=");
        check_int(o.root_wait_ms, 2500, "last wins: rootdelay=2.5");
        check(!o.shell, "last wins: rd.shell=0 after rd.shell");

        parse(&o, "rw ro rw");
        check(o.rw, "last wins: rw after ro");

        parse(&o, "rd.shell=0 rd.shell=yes");
        check(o.shell, "last wins: rd.shell=yes");

        /* An unusable last value must not let an earlier one through. */
        parse(&o, "init=/sbin/init init=sbin/init");
        check_str(o.init, "", "a relative init= after a good one resets it");
        check_int(o.n_problems, 1, "a relative init= is a problem");
        if (o.n_problems)
                check_has(o.problems[0], "sbin/init", "the problem names the value");

        parse(&o, "rootdelay=7 rootdelay=abc");
        check_int(o.root_wait_ms, 30000, "a malformed rootdelay= after a good one restores the default");
        check_int(o.n_problems, 1, "a malformed rootdelay= is a problem");
        if (o.n_problems)
                check_has(o.problems[0], "rootdelay='abc'", "the problem names option and value");
}

static void test_values(void) {
        struct boot_options o;

        parse(&o, "root=");
        check(o.have_root, "root= with an empty value counts as given");
        check_str(o.root, "", "root= empty");

        parse(&o, "root");
        check(!o.have_root, "a bare root (no =) is not root=");

        parse(&o, "rootdelay=0");
        check_int(o.root_wait_ms, 0, "rootdelay=0: look once");

        parse(&o, "rootdelay=-1");
        check_int(o.root_wait_ms, 30000, "rootdelay=-1 is refused");
        check_int(o.n_problems, 1, "rootdelay=-1 is a problem");

        parse(&o, "rootdelay=601");
        check_int(o.root_wait_ms, 30000, "rootdelay=601 is out of range");

        parse(&o, "rootdelay=600");
        check_int(o.root_wait_ms, 600000, "rootdelay=600 is the most");

        parse(&o, "rd.shell=maybe");
        check(!o.shell, "rd.shell=maybe gives no shell");
        check_int(o.n_problems, 1, "rd.shell=maybe is a problem");

        parse(&o, "init=");
        check_str(o.init, "", "init= empty means the default list");
        check_int(o.n_problems, 0, "init= empty is no problem");

        /* Options this init does not own are left alone. */
        parse(&o, "rootwait rd.root=x myroot=LABEL=x rooty=1 ro.foo=1 rw.bar init.x=1");
        check(!o.have_root, "other options: no root");
        check(!o.rw, "other options: still ro");
        check_str(o.init, "", "other options: no init");
        check_int(o.n_problems, 0, "other options: no problems");

        /* The value keeps its own '=' signs. */
        parse(&o, "root=PARTUUID=0a1b2c3d-01 rootflags=data=ordered,commit=5");
        check_str(o.root, "PARTUUID=0a1b2c3d-01", "root= keeps the '=' of its value");
        check_str(o.rootflags, "data=ordered,commit=5", "rootflags= keeps the '=' of its values");
}

static void test_quoting(void) {
        struct boot_options o;

        parse(&o, "root=\"LABEL=my disk\" ro");
        check_str(o.root, "LABEL=my disk", "quoted value with a blank");
        check(!o.rw, "quoted value: the next word still counts");

        parse(&o, "\"root=LABEL=my disk\"");
        check_str(o.root, "LABEL=my disk", "quoted whole word");

        parse(&o, "root=LABEL=\"my disk\"");
        check_str(o.root, "LABEL=my disk", "quotes inside the value are dropped");

        parse(&o, "root=\"LABEL=unterminated rw");
        check_str(o.root, "LABEL=unterminated rw", "an unterminated quote runs to the end");
        check(!o.rw, "an unterminated quote swallows rw");

        parse(&o, "root=\"\"");
        check(o.have_root, "root=\"\" counts as given");
        check_str(o.root, "", "root=\"\" is empty");

        parse(&o, "\troot=/dev/sda\n rw\n");
        check_str(o.root, "/dev/sda", "tabs and newlines separate words");
        check(o.rw, "rw after a newline");

        parse(&o, "root=/dev/sda -- root=/dev/sdb rw");
        check_str(o.root, "/dev/sda", "words after -- are init's, not the kernel's");
        check(!o.rw, "rw after -- does not count");
}

static void test_overlong(void) {
        struct boot_options o;
        char cmdline[2048], big[700];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        (void) snprintf(cmdline, sizeof(cmdline), "root=/dev/sda root=LABEL=%s rw", big);
        parse(&o, cmdline);
        check(!o.have_root, "an overlong last root= leaves no root");
        check_str(o.root, "", "an overlong root= is not kept, not even cut");
        check(o.rw, "an overlong value does not eat the next word");
        check_int(o.n_problems, 1, "an overlong root= is a problem");
        if (o.n_problems)
                check_has(o.problems[0], "root", "the problem names root");

        /* The longest value that fits. */
        memset(big, 'y', 512 - strlen("LABEL="));
        big[512 - strlen("LABEL=")] = '\0';
        (void) snprintf(cmdline, sizeof(cmdline), "root=LABEL=%s", big);
        parse(&o, cmdline);
        check(o.have_root, "a 512-byte root= is kept");
        check_int(strlen(o.root), 512, "a 512-byte root= is kept whole");
}

struct words {
        unsigned n;
        char w[8][64];
        bool overlong[8];
};

static int collect(const char *word, size_t len, bool overlong, void *userdata) {
        struct words *ws = userdata;

        if (ws->n >= 8)
                return 1;
        (void) snprintf(ws->w[ws->n], sizeof(ws->w[0]), "%.*s", (int) len, word);
        ws->overlong[ws->n++] = overlong;
        return 0;
}

static void test_words(void) {
        struct words ws = {};

        check_int(cmdline_for_each_word("  a b=\"c d\" \"e f\"=g  ", collect, &ws), 0, "words: returns 0");
        check_int(ws.n, 3, "words: three words");
        check_str(ws.w[0], "a", "words: first");
        check_str(ws.w[1], "b=c d", "words: quoted value");
        check_str(ws.w[2], "e f=g", "words: quoted key");

        memset(&ws, 0, sizeof(ws));
        check_int(cmdline_for_each_word("1 2 3 4 5 6 7 8 9 10", collect, &ws), 1,
                  "words: a non-zero return stops the walk and is returned");
        check_int(ws.n, 8, "words: stopped after eight");
}

static void test_read(void) {
        char path[] = "/tmp/test-bootopts.XXXXXX", *s = NULL, *big;
        size_t n = 10000;
        int fd;

        fd = mkstemp(path);
        if (!check(fd >= 0, "read: temporary file"))
                return;
        big = malloc(n + 1);
        memset(big, 'z', n);
        big[n] = '\0';
        check(write(fd, big, n) == (ssize_t) n, "read: wrote %zu bytes", n);
        (void) close(fd);
        check_int(cmdline_read(path, &s), 0, "read: a command line longer than one buffer");
        check(s && strlen(s) == n && strcmp(s, big) == 0, "read: all of it, NUL-terminated");
        free(s);
        free(big);
        (void) unlink(path);
        check_int(cmdline_read("/nonexistent/cmdline", &s), -2, "read: -ENOENT for a missing file");

        /* The bound: exactly CMDLINE_MAX_BYTES is taken, one byte more is
         * refused rather than cut. */
        big = malloc(CMDLINE_MAX_BYTES + 1);
        if (!check(big != NULL, "read: buffer for the bound"))
                return;
        memset(big, 'y', CMDLINE_MAX_BYTES + 1);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        check(fd >= 0 && write(fd, big, CMDLINE_MAX_BYTES) == (ssize_t) CMDLINE_MAX_BYTES, "read: wrote the bound");
        if (fd >= 0)
                (void) close(fd);
        s = NULL;
        check_int(cmdline_read(path, &s), 0, "read: %u bytes are taken", CMDLINE_MAX_BYTES);
        check(s && strlen(s) == CMDLINE_MAX_BYTES, "read: all %u of them", CMDLINE_MAX_BYTES);
        free(s);
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        check(fd >= 0 && write(fd, "y", 1) == 1, "read: one byte more");
        if (fd >= 0)
                (void) close(fd);
        s = NULL;
        check_int(cmdline_read(path, &s), -E2BIG, "read: %u bytes are refused with -E2BIG", CMDLINE_MAX_BYTES + 1);
        check(s == NULL, "read: nothing returned when refused");
        free(big);
        (void) unlink(path);
}

/* Comments and carriage returns, as the image's config file has them. */
static void test_words_flags(void) {
        struct words ws = {};

        check_int(for_each_word("a\r\n# b c\nd#e -- f", WORDS_COMMENTS, collect, &ws), 0, "words: comments");
        check_int(ws.n, 4, "words: a comment line is skipped, -- is a word outside the kernel's line");
        check_str(ws.w[0], "a", "words: CR is a blank");
        check_str(ws.w[1], "d#e", "words: # inside a word is kept");
        check_str(ws.w[2], "--", "words: -- kept");
        memset(&ws, 0, sizeof(ws));
        check_int(cmdline_for_each_word("a # b -- c", collect, &ws), 0, "words: kernel line");
        check_int(ws.n, 3, "words: # is a word on the kernel's line, -- ends it");
        check_str(ws.w[1], "#", "words: # as a word");
}

int main(void) {
        test_defaults();
        test_typical();
        test_last_wins();
        test_values();
        test_quoting();
        test_overlong();
        test_words();
        test_read();
        test_words_flags();
        return tap_done();
}
