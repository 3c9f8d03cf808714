/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state file: state_format()'s exact text, one line per value,
 * -ENOBUFS on a short buffer, and state_write(). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

static unsigned count_lines(const char *s) {
        unsigned n = 0;

        for (; *s; s++)
                if (*s == '\n')
                        n++;
        return n;
}

static void test_scratch(void) {
        const struct state s = {
                .backing = BACKING_SCRATCH,
                .device = "/run/scratchroot/dev/sdb",
                .devno = "8:16",
                .hctl = "0:0:0:1",
                .format = "blank",
                .tmpfs_size = "25%",
                .reason = "",
                .source = "cmdline",
                .discard = "on",
                .volatile_ = true,
                .setup_ms = 42,
        };
        char buf[4096];
        int r;

        r = state_format(&s, buf, sizeof(buf));
        check_int(r, 0, "scratch: formatted");
        check_str(buf,
                  "backing=scratch\n"
                  "device=/run/scratchroot/dev/sdb\n"
                  "devno=8:16\n"
                  "hctl=0:0:0:1\n"
                  "serial=\n"
                  "disks=\n"
                  "cloud=\n"
                  "format=blank\n"
                  "fs=ext4\n"
                  "tmpfs_size=\n"
                  "volatile=1\n"
                  "discard=on\n"
                  "encrypt=\n"
                  "swap=0\n"
                  "swap_reason=\n"
                  "reason=\n"
                  "source=cmdline\n"
                  "fallback=\n"
                  "format_ms=\n"
                  "prepare_ms=\n"
                  "setup_ms=42\n",
                  "scratch: exact text (tmpfs_size empty, fs ext4)");

        {
                struct state t = s;

                t.volatile_ = false;
                t.format = "reused";
                t.format_ms = 321;
                t.setup_ms = 0;
                t.discard = "unsupported";
                r = state_format(&t, buf, sizeof(buf));
                check(r == 0 && strstr(buf, "\nvolatile=0\n") && strstr(buf, "\nformat=reused\n") &&
                              strstr(buf, "\nsetup_ms=0\n") && strstr(buf, "\nformat_ms=321\n") &&
                              strstr(buf, "\ndiscard=unsupported\n"),
                      "scratch without volatile: volatile=0, format=reused, format_ms=321, setup_ms=0, "
                      "discard=unsupported");
        }
        {
                struct state t = s;

                t.encrypt = "aes-xts-plain64";
                t.swap_bytes = UINT64_C(1) << 30;
                r = state_format(&t, buf, sizeof(buf));
                check(r == 0 && strstr(buf, "\nencrypt=aes-xts-plain64\nswap=1073741824\nswap_reason=\n"),
                      "encrypted scratch with 1 GiB of swap: encrypt=aes-xts-plain64, swap=1073741824");
                t.backing = BACKING_TMPFS;
                t.swap_bytes = 0;
                t.swap_reason = "the overlay is on the tmpfs fallback";
                r = state_format(&t, buf, sizeof(buf));
                check(r == 0 && strstr(buf, "\nencrypt=\nswap=0\nswap_reason=the overlay is on the tmpfs fallback\n"),
                      "tmpfs: no encrypt even when set, swap=0 with the reason");
        }
}

static void test_tmpfs(void) {
        const struct state s = {
                .backing = BACKING_TMPFS,
                .device = "",
                .devno = "",
                .hctl = "",
                .format = "",
                .tmpfs_size = "536870912",
                .reason = "no disk at rd.scratch.lun=1 after 500 ms",
                .source = "cmdline",
                .volatile_ = false,
                .setup_ms = 512,
        };
        char buf[4096];
        int r;

        r = state_format(&s, buf, sizeof(buf));
        check_int(r, 0, "tmpfs: formatted");
        check_str(buf,
                  "backing=tmpfs\n"
                  "device=\n"
                  "devno=\n"
                  "hctl=\n"
                  "serial=\n"
                  "disks=\n"
                  "cloud=\n"
                  "format=\n"
                  "fs=tmpfs\n"
                  "tmpfs_size=536870912\n"
                  "volatile=0\n"
                  "discard=\n"
                  "encrypt=\n"
                  "swap=0\n"
                  "swap_reason=\n"
                  "reason=no disk at rd.scratch.lun=1 after 500 ms\n"
                  "source=cmdline\n"
                  "fallback=\n"
                  "format_ms=\n"
                  "prepare_ms=\n"
                  "setup_ms=512\n",
                  "tmpfs: exact text");
}

static void test_none(void) {
        /* A disk was found and refused, and nothing was mounted. */
        const struct state s = {
                .backing = BACKING_NONE,
                .device = "/dev/sdb",
                .devno = "8:16",
                .hctl = "2:0:3:1",
                .format = "",
                .tmpfs_size = "25%",
                .reason = "refusing sdb (2:0:3:1, 1.0 GiB): it holds a ext4 signature labelled 'data'",
                .source = "cmdline",
                .volatile_ = true,
                .setup_ms = UINT64_MAX,
        };
        char buf[4096];
        int r;

        r = state_format(&s, buf, sizeof(buf));
        check_int(r, 0, "none: formatted");
        check_str(buf,
                  "backing=none\n"
                  "device=/dev/sdb\n"
                  "devno=8:16\n"
                  "hctl=2:0:3:1\n"
                  "serial=\n"
                  "disks=\n"
                  "cloud=\n"
                  "format=\n"
                  "fs=\n"
                  "tmpfs_size=\n"
                  "volatile=\n"
                  "discard=\n"
                  "encrypt=\n"
                  "swap=0\n"
                  "swap_reason=\n"
                  "reason=refusing sdb (2:0:3:1, 1.0 GiB): it holds a ext4 signature labelled 'data'\n"
                  "source=cmdline\n"
                  "fallback=\n"
                  "format_ms=\n"
                  "prepare_ms=\n"
                  "setup_ms=18446744073709551615\n",
                  "none: exact text (fs, tmpfs_size and volatile empty)");

        {
                const struct state z = { .backing = BACKING_NONE };

                r = state_format(&z, buf, sizeof(buf));
                check_int(r, 0, "NULL strings: formatted");
                check_str(buf,
                          "backing=none\ndevice=\ndevno=\nhctl=\nserial=\ndisks=\ncloud=\nformat=\nfs=\ntmpfs_size=\nvolatile=\ndiscard=\n"
                          "encrypt=\nswap=0\nswap_reason=\nreason=\nsource=\nfallback=\nformat_ms=\nprepare_ms=\nsetup_ms=0\n",
                          "NULL strings: empty values");
        }

        check_str(backing_to_string(BACKING_SCRATCH), "scratch", "backing_to_string(SCRATCH)");
        check_str(backing_to_string(BACKING_TMPFS), "tmpfs", "backing_to_string(TMPFS)");
        check_str(backing_to_string(BACKING_NONE), "none", "backing_to_string(NONE)");
}

static void test_sanitize(void) {
        const struct state s = {
                .backing = BACKING_TMPFS,
                .device = "/dev/sd\nb",
                .devno = "",
                .hctl = "",
                .format = "",
                .tmpfs_size = "25%",
                .reason = "first line\nbacking=scratch\r\ttab \x1b[31mred\x7f end \xc3\xa9",
                .source = "cmd\nline",
                .volatile_ = false,
                .setup_ms = 1,
        };
        char buf[4096];
        int r;

        r = state_format(&s, buf, sizeof(buf));
        check_int(r, 0, "control characters: formatted");
        check_int(count_lines(buf), _STATE_KEY_MAX, "control characters: still one line a key");
        check_has(buf, "\nreason=first line?backing=scratch??tab ?[31mred? end ??\n",
                  "reason with newline, CR, tab, ESC, DEL and UTF-8: one ASCII line, each replaced by '?'");
        check_has(buf, "\ndevice=/dev/sd?b\n", "device with a newline: one line");
        check_has(buf, "\nsource=cmd?line\n", "source with a newline: one line");
        check(strncmp(buf, "backing=tmpfs\n", 14) == 0 && !strstr(buf + 1, "\nbacking="),
              "a value cannot start a line of its own");
        {
                bool clean = true;

                for (const char *c = buf; *c; c++)
                        if (((unsigned char) *c < 0x20 && *c != '\n') || *c == 0x7f)
                                clean = false;
                check(clean, "control characters: none left but the line ends");
        }
}

static void test_short_buffers(void) {
        const struct state s = {
                .backing = BACKING_SCRATCH,
                .device = "/dev/sdb",
                .devno = "8:16",
                .hctl = "0:0:0:1",
                .format = "blank",
                .tmpfs_size = "",
                .reason = "",
                .source = "cmdline",
                .volatile_ = true,
                .setup_ms = 7,
        };
        char full[4096], buf[4096 + 64];
        size_t len;
        bool overrun = false, wrong = false;
        int r;

        r = state_format(&s, full, sizeof(full));
        check_int(r, 0, "reference text formatted");
        len = strlen(full);

        check_int(state_format(&s, buf, 16), -ENOBUFS, "16 byte buffer: -ENOBUFS");
        check_int(state_format(&s, buf, 1), -ENOBUFS, "1 byte buffer: -ENOBUFS");
        check_int(state_format(&s, buf, 0), -ENOBUFS, "0 byte buffer: -ENOBUFS");
        check_int(state_format(&s, buf, (unsigned) len), -ENOBUFS,
                  "buffer one byte short of the text's NUL (%zu): -ENOBUFS", len);

        /* Every size short of the text: -ENOBUFS, nothing written past n. */
        for (size_t n = 0; n <= len; n++) {
                memset(buf, 0x5a, sizeof(buf));
                r = state_format(&s, buf, (unsigned) n);
                if (r != -ENOBUFS) {
                        if (!wrong)
                                tap_diag("n=%zu: got %d, expected -ENOBUFS", n, r);
                        wrong = true;
                }
                for (size_t i = n; i < sizeof(buf); i++)
                        if ((unsigned char) buf[i] != 0x5a) {
                                if (!overrun)
                                        tap_diag("n=%zu: byte %zu written", n, i);
                                overrun = true;
                                break;
                        }
        }
        check(!wrong, "every buffer of 0..%zu bytes: -ENOBUFS", len);
        check(!overrun, "every buffer of 0..%zu bytes: nothing written past its end", len);

        /* Text plus NUL fits exactly. */
        memset(buf, 0x5a, sizeof(buf));
        r = state_format(&s, buf, (unsigned) len + 1);
        check_int(r, 0, "buffer of exactly the text and its NUL (%zu bytes): fits", len + 1);
        check(r == 0 && strcmp(buf, full) == 0, "buffer of exactly the text and its NUL: the same text");
        check((unsigned char) buf[len + 1] == 0x5a, "buffer of exactly the text and its NUL: nothing written past");

        r = state_format(&s, buf, (unsigned) len + 2);
        check(r == 0 && strcmp(buf, full) == 0, "buffer one byte larger than needed: the same text");

        {
                char big[600];
                struct state t = s;

                memset(big, 'r', sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                t.reason = big;
                check_int(state_format(&t, buf, 512), -ENOBUFS, "599 byte reason into 512 bytes: -ENOBUFS");
        }
}

static void test_write(void) {
        const struct state s = {
                .backing = BACKING_TMPFS,
                .device = "",
                .devno = "",
                .hctl = "",
                .format = "",
                .tmpfs_size = "25%",
                .reason = "no disk",
                .source = "cmdline",
                .setup_ms = 3,
        };
        char dir[PATH_MAX], path[PATH_MAX + 16], tmp[PATH_MAX + 32], text[4096], want[4096], cmd[PATH_MAX + 32];
        const char *t = getenv("TMPDIR");
        struct stat st;
        ssize_t k;
        int fd, r;

        (void) snprintf(dir, sizeof(dir), "%s/test-state.XXXXXX", t && *t ? t : "/tmp");
        if (!check(mkdtemp(dir) != NULL, "state_write: temporary directory"))
                return;
        (void) snprintf(path, sizeof(path), "%s/state", dir);
        (void) snprintf(tmp, sizeof(tmp), "%s/state.tmp", dir);

        r = state_write(path, &s);
        check_int(r, 0, "state_write: written");
        (void) state_format(&s, want, sizeof(want));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        k = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
        if (fd >= 0)
                (void) close(fd);
        text[k > 0 ? k : 0] = '\0';
        check_str(text, want, "state_write: the file holds state_format's text");
        check(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "state_write: mode 0644");
        check(access(tmp, F_OK) < 0, "state_write: no temporary file left");

        r = state_write(path, &s);
        check_int(r, 0, "state_write: rewritten over an existing file");

        (void) snprintf(path, sizeof(path), "%s/missing/state", dir);
        check(state_write(path, &s) < 0, "state_write into a missing directory: error");

        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void) system(cmd);
}

int main(void) {
        test_scratch();
        test_tmpfs();
        test_none();
        test_sanitize();
        test_short_buffers();
        test_write();
        return tap_done();
}
