/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scratchroot status: the state file as text and as JSON. The JSON is
 * checked against a strict parser (RFC 8259, UTF-8) besides exact text. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fixture.h"
#include "options.h"
#include "state.h"
#include "status.h"

static void path_in(char *buf, const char *name) {
        xfmt(buf, PATH_MAX, "%s/%s", base, name);
}

static void write_text(const char *path, const char *content) {
        FILE *f = fopen(path, "we");

        if (!f || fputs(content, f) < 0 || fclose(f) != 0)
                bail("writing %s: %s", path, strerror(errno));
}

/* print_status into a string; *r its return value. The caller frees. */
static char *status(const char *state, const char *scratch, bool json, int *r) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                bail("open_memstream: %s", strerror(errno));
        *r = print_status(f, state, scratch, json);
        if (fclose(f) != 0)
                bail("fclose: %s", strerror(errno));
        return buf;
}

/* ---- a strict JSON parser --------------------------------------------------- */

struct jp {
        const unsigned char *s;
        size_t i, n;
        const char *err;
};

static void ws(struct jp *p) {
        while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
                p->i++;
}

static bool fail(struct jp *p, const char *why) {
        if (!p->err)
                p->err = why;
        return false;
}

/* One UTF-8 sequence: no overlong forms, no surrogates, at most U+10FFFF. */
static bool utf8(struct jp *p) {
        const unsigned char *s = p->s + p->i;
        size_t left = p->n - p->i;
        unsigned need, cp;

        if (s[0] < 0x80) {
                p->i++;
                return true;
        }
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                need = 1, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                need = 2, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                need = 3, cp = s[0] & 0x07;
        else
                return fail(p, "invalid UTF-8 lead byte");
        if (left < need + 1)
                return fail(p, "truncated UTF-8 sequence");
        for (unsigned k = 1; k <= need; k++) {
                if ((s[k] & 0xc0) != 0x80)
                        return fail(p, "invalid UTF-8 continuation byte");
                cp = (cp << 6) | (s[k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return fail(p, "overlong UTF-8, surrogate or beyond U+10FFFF");
        p->i += need + 1;
        return true;
}

static bool hex4(struct jp *p) {
        for (unsigned k = 0; k < 4; k++, p->i++)
                if (p->i >= p->n || !strchr("0123456789abcdefABCDEF", p->s[p->i]) || !p->s[p->i])
                        return fail(p, "bad \\u escape");
        return true;
}

static bool string(struct jp *p) {
        if (p->i >= p->n || p->s[p->i] != '"')
                return fail(p, "string expected");
        p->i++;
        for (;;) {
                unsigned char c;

                if (p->i >= p->n)
                        return fail(p, "unterminated string");
                c = p->s[p->i];
                if (c == '"') {
                        p->i++;
                        return true;
                }
                if (c < 0x20)
                        return fail(p, "raw control character in a string");
                if (c == '\\') {
                        p->i++;
                        if (p->i >= p->n)
                                return fail(p, "escape at the end");
                        c = p->s[p->i++];
                        if (c == 'u') {
                                if (!hex4(p))
                                        return false;
                        } else if (!strchr("\"\\/bfnrt", c) || !c)
                                return fail(p, "bad escape");
                        continue;
                }
                if (!utf8(p))
                        return false;
        }
}

static bool digits(struct jp *p) {
        size_t start = p->i;

        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
                p->i++;
        return p->i > start;
}

static bool number(struct jp *p) {
        if (p->i < p->n && p->s[p->i] == '-')
                p->i++;
        if (p->i < p->n && p->s[p->i] == '0')
                p->i++;
        else if (!digits(p))
                return fail(p, "bad number");
        if (p->i < p->n && p->s[p->i] == '.') {
                p->i++;
                if (!digits(p))
                        return fail(p, "bad fraction");
        }
        if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
                p->i++;
                if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
                        p->i++;
                if (!digits(p))
                        return fail(p, "bad exponent");
        }
        /* "007": the leading zero ends the number, the rest is junk. */
        if (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
                return fail(p, "number with a leading zero");
        return true;
}

static bool value(struct jp *p, unsigned depth);

static bool object(struct jp *p, unsigned depth) {
        p->i++;
        ws(p);
        if (p->i < p->n && p->s[p->i] == '}') {
                p->i++;
                return true;
        }
        for (;;) {
                ws(p);
                if (!string(p))
                        return false;
                ws(p);
                if (p->i >= p->n || p->s[p->i] != ':')
                        return fail(p, "':' expected");
                p->i++;
                if (!value(p, depth + 1))
                        return false;
                ws(p);
                if (p->i < p->n && p->s[p->i] == ',') {
                        p->i++;
                        continue;
                }
                if (p->i < p->n && p->s[p->i] == '}') {
                        p->i++;
                        return true;
                }
                return fail(p, "',' or '}' expected");
        }
}

static bool array(struct jp *p, unsigned depth) {
        p->i++;
        ws(p);
        if (p->i < p->n && p->s[p->i] == ']') {
                p->i++;
                return true;
        }
        for (;;) {
                if (!value(p, depth + 1))
                        return false;
                ws(p);
                if (p->i < p->n && p->s[p->i] == ',') {
                        p->i++;
                        continue;
                }
                if (p->i < p->n && p->s[p->i] == ']') {
                        p->i++;
                        return true;
                }
                return fail(p, "',' or ']' expected");
        }
}

static bool literal(struct jp *p, const char *word) {
        size_t len = strlen(word);

        if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0)
                return fail(p, "unknown literal");
        p->i += len;
        return true;
}

static bool value(struct jp *p, unsigned depth) {
        if (depth > 32)
                return fail(p, "too deep");
        ws(p);
        if (p->i >= p->n)
                return fail(p, "value expected");
        switch (p->s[p->i]) {
        case '{': return object(p, depth);
        case '[': return array(p, depth);
        case '"': return string(p);
        case 't': return literal(p, "true");
        case 'f': return literal(p, "false");
        case 'n': return literal(p, "null");
        default: return number(p);
        }
}

/* One JSON object, a newline after it, nothing else. */
static bool json_valid(const char *text, const char **why, size_t *at) {
        struct jp p = { (const unsigned char *) text, 0, strlen(text), NULL };
        bool ok;

        ws(&p);
        ok = p.i < p.n && p.s[p.i] == '{' && value(&p, 0);
        if (ok && (p.i >= p.n || p.s[p.i] != '\n' || p.i + 1 != p.n))
                ok = fail(&p, "not exactly one object and a newline");
        if (!ok && !p.err)
                p.err = "an object expected";
        *why = p.err;
        *at = p.i;
        return ok;
}

/* Text for a diagnostic line: bytes outside printable ASCII as \xNN. */
static const char *shown(const char *s) {
        static char buf[2048];
        size_t o = 0;

        if (!s)
                return "(null)";
        for (const unsigned char *c = (const unsigned char *) s; *c && o + 5 < sizeof(buf); c++) {
                if (*c >= 0x20 && *c < 0x7f)
                        buf[o++] = (char) *c;
                else
                        o += (size_t) snprintf(buf + o, sizeof(buf) - o, "\\x%02x", *c);
        }
        buf[o] = '\0';
        return buf;
}

#define check_json(text, ...)                                                                      \
        do {                                                                                       \
                const char *why_ = NULL, *t_ = (text);                                             \
                size_t at_ = 0;                                                                    \
                if (!check(t_ && json_valid(t_, &why_, &at_), __VA_ARGS__))                        \
                        tap_diag("%s at offset %zu of: %s", why_ ? why_ : "no output", at_, shown(t_)); \
        } while (0)

/* The parser itself, on known good and bad texts. */
static void test_parser(void) {
        static const char *const good[] = {
                "{}\n", "{\"a\":null}\n", "{\"a\":1,\"b\":-0.5e+3,\"c\":true,\"d\":[false,\"x\"]}\n",
                "{\"a\":\"\\u00e9\\\"\\\\\\n\"}\n", "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}\n", "{\"a\":0}\n",
        };
        static const char *const bad[] = {
                "{\"a\":007}\n", "{\"a\":\"\xff\"}\n", "{\"a\":\"\t\"}\n", "{\"a\":1,}\n", "{\"a\":nul}\n",
                "{\"a\":\"\\x\"}\n", "{\"a\":1}", "{\"a\":1}\n{}\n", "{\"a\":\"\xc0\xaf\"}\n", "{\"a\":\"\xed\xa0\x80\"}\n",
                "{\"a\":\"\xe2\x82\"}\n", "{'a':1}\n", "{\"a\" 1}\n", "\n",
        };

        for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                check_json(good[i], "the JSON checker takes good text %u", i);
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *why;
                size_t at;

                check(!json_valid(bad[i], &why, &at), "the JSON checker refuses bad text %u", i);
        }
}

/* ---- print_status ----------------------------------------------------------- */

static void test_absent(void) {
        char state[PATH_MAX], want[PATH_MAX + 64];
        char *out;
        int r;

        path_in(state, "absent/state");
        out = status(state, "/nonexistent", false, &r);
        check_int(r, 0, "absent state file: 0");
        (void) snprintf(want, sizeof(want), "scratchroot did not set up this boot (no %s)\n", state);
        check_str(out, want, "absent state file: says so");
        free(out);

        out = status(state, "/nonexistent", true, &r);
        check_int(r, 0, "absent state file, json: 0");
        check_str(out, "{\"backing\":null}\n", "absent state file, json: backing null");
        check_json(out, "absent state file, json: valid");
        free(out);
}

static void scratch_mounted(const char *state) {
        char *out;
        int r;

        /* With the scratch filesystem mounted (here: any directory). */
        {
                struct statvfs sv;
                char want[64];
                char *p;

                if (statvfs(base, &sv) < 0)
                        bail("statvfs %s: %s", base, strerror(errno));
                out = status(state, base, true, &r);
                check_json(out, "scratch with a filesystem, json: valid");
                (void) snprintf(want, sizeof(want), ",\"size_bytes\":%" PRIu64 ",\"used_bytes\":",
                                (uint64_t) sv.f_blocks * sv.f_frsize);
                check_has(out, want, "scratch with a filesystem, json: size_bytes of the filesystem");
                p = out ? strstr(out, "\"used_bytes\":") : NULL;
                check(p && p[13] >= '0' && p[13] <= '9', "scratch with a filesystem, json: used_bytes a number");
                free(out);

                out = status(state, base, false, &r);
                check_has(out, "\nupper:    ext4 without journal, ", "scratch with a filesystem, text: the upper line");
                check_has(out, " used (", "scratch with a filesystem, text: how much is used");
                free(out);
        }
}

static void scratch_virtio(struct state s, const char *state, const char *scratch) {
        char *out;
        int r;

        /* No SCSI address (virtio-blk), no serial, no mke2fs time. */
        s.hctl = "";
        s.serial = "";
        s.device = "/run/scratchroot/dev/vda";
        s.devno = "252:0";
        s.format = "reused";
        s.format_ms = 0;
        s.volatile_ = true;
        r = state_write(state, &s);
        if (r < 0)
                bail("state_write: %s", strerror(-r));
        out = status(state, scratch, false, &r);
        check_str(out,
                  "backing:  scratch\n"
                  "disk:     /run/scratchroot/dev/vda (252:0)\n"
                  "discard:  on\n"
                  "options:  from fw_cfg\n"
                  "setup:    123 ms\n",
                  "virtio disk without serial, text: no SCSI, no serial, no mke2fs");
        free(out);
        out = status(state, scratch, true, &r);
        check_has(out, "\"hctl\":null,\"serial\":null,\"disks\":null,\"cloud\":null,\"format\":\"reused\"", "virtio disk, json: hctl and serial null");
        check_has(out, "\"volatile\":true,", "virtio disk, json: volatile true");
        check_has(out, "\"format_ms\":null,\"prepare_ms\":null,\"setup_ms\":123,", "virtio disk, json: format_ms null");
        check_json(out, "virtio disk, json: valid");
        free(out);
}

static void test_scratch(void) {
        char state[PATH_MAX], scratch[PATH_MAX];
        struct state s = {
                .backing = BACKING_SCRATCH,
                .device = "/dev/sdb",
                .devno = "8:16",
                .hctl = "0:0:0:1",
                .serial = "QM00005",
                .format = "blank",
                .tmpfs_size = "",
                .reason = "",
                .source = "fw_cfg",
                .discard = "on",
                .volatile_ = false,
                .format_ms = 45,
                .setup_ms = 123,
        };
        char *out;
        int r;

        path_in(state, "scratch.state");
        path_in(scratch, "no-such-dir");
        r = state_write(state, &s);
        if (r < 0)
                bail("state_write: %s", strerror(-r));

        out = status(state, scratch, true, &r);
        check_int(r, 0, "scratch, json: 0");
        check_str(out,
                  "{\"backing\":\"scratch\",\"device\":\"/dev/sdb\",\"devno\":\"8:16\",\"hctl\":\"0:0:0:1\","
                  "\"serial\":\"QM00005\",\"disks\":null,\"cloud\":null,\"format\":\"blank\",\"fs\":\"ext4\",\"tmpfs_size\":null,"
                  "\"volatile\":false,\"discard\":\"on\",\"encrypt\":null,\"swap\":0,\"swap_reason\":null,\"reason\":null,\"source\":\"fw_cfg\",\"fallback\":null,\"format_ms\":45,\"prepare_ms\":null,\"setup_ms\":123,"
                  "\"size_bytes\":null,\"used_bytes\":null}\n",
                  "scratch, json: every key, null for empty values, numbers and booleans bare");
        check_json(out, "scratch, json: valid");
        free(out);

        out = status(state, scratch, false, &r);
        check_int(r, 0, "scratch, text: 0");
        check_str(out,
                  "backing:  scratch\n"
                  "disk:     /dev/sdb (8:16, SCSI 0:0:0:1, serial QM00005)\n"
                  "discard:  on\n"
                  "options:  from fw_cfg\n"
                  "setup:    123 ms (mke2fs 45 ms)\n",
                  "scratch, text: backing, disk, discard, options and setup lines");
        free(out);

        scratch_mounted(state);
        scratch_virtio(s, state, scratch);
}

static void test_tmpfs_and_none(void) {
        char state[PATH_MAX], scratch[PATH_MAX];
        struct state s = {
                .backing = BACKING_TMPFS,
                .device = "",
                .devno = "",
                .hctl = "",
                .serial = "",
                .format = "",
                .tmpfs_size = "25%",
                .reason = "no disk at rd.scratch.lun=1 after 500 ms",
                .source = "default",
                .volatile_ = true,
                .setup_ms = 510,
        };
        char *out;
        int r;

        path_in(state, "tmpfs.state");
        path_in(scratch, "no-such-dir");
        if (state_write(state, &s) < 0)
                bail("state_write failed");
        out = status(state, scratch, true, &r);
        check_int(r, 0, "tmpfs, json: 0");
        check_str(out,
                  "{\"backing\":\"tmpfs\",\"device\":null,\"devno\":null,\"hctl\":null,\"serial\":null,\"disks\":null,\"cloud\":null,"
                  "\"format\":null,\"fs\":\"tmpfs\",\"tmpfs_size\":\"25%\",\"volatile\":true,"
                  "\"discard\":null,\"encrypt\":null,\"swap\":0,\"swap_reason\":null,\"reason\":\"no disk at rd.scratch.lun=1 after 500 ms\",\"source\":\"default\",\"fallback\":null,"
                  "\"format_ms\":null,\"prepare_ms\":null,\"setup_ms\":510,\"size_bytes\":null,\"used_bytes\":null}\n",
                  "tmpfs, json");
        check_json(out, "tmpfs, json: valid");
        free(out);
        out = status(state, scratch, false, &r);
        check_str(out,
                  "backing:  tmpfs\n"
                  "reason:   no disk at rd.scratch.lun=1 after 500 ms\n"
                  "options:  from default\n"
                  "setup:    510 ms\n",
                  "tmpfs, text: with the reason, without a disk");
        free(out);
        out = status(state, base, false, &r);
        check_has(out, "\nupper:    tmpfs, ", "tmpfs with a filesystem, text: the upper line, no journal words");
        free(out);

        s.backing = BACKING_NONE;
        s.tmpfs_size = "";
        s.reason = "the tmpfs overlay failed too";
        if (state_write(state, &s) < 0)
                bail("state_write failed");
        out = status(state, base, true, &r);
        check_str(out,
                  "{\"backing\":\"none\",\"device\":null,\"devno\":null,\"hctl\":null,\"serial\":null,\"disks\":null,\"cloud\":null,"
                  "\"format\":null,\"fs\":null,\"tmpfs_size\":null,\"volatile\":null,"
                  "\"discard\":null,\"encrypt\":null,\"swap\":0,\"swap_reason\":null,\"reason\":\"the tmpfs overlay failed too\",\"source\":\"default\",\"fallback\":null,"
                  "\"format_ms\":null,\"prepare_ms\":null,\"setup_ms\":510,\"size_bytes\":null,\"used_bytes\":null}\n",
                  "none, json: no filesystem looked at, volatile null");
        check_json(out, "none, json: valid");
        free(out);
        out = status(state, base, false, &r);
        check(out && !strstr(out, "upper:"), "none, text: no upper line even with a directory there");
        free(out);
}

/* Hand-written state files: what the JSON makes of odd values. */
static void escaping_cmdline(const char *state, const char *scratch) {
        char *out;
        int r;

        /* The same from a command line, as setup records a bad value. */
        {
                struct options o;
                struct state st = { .backing = BACKING_TMPFS, .tmpfs_size = "25%", .source = "cmdline",
                                    .volatile_ = true, .setup_ms = 3 };

                options_init(&o);
                options_parse_cmdline(&o, "quiet rd.scratch.lun=\xc3\xa9\xff");
                st.reason = o.invalid ? o.problems[o.first_invalid] : "";
                if (state_write(state, &st) < 0)
                        bail("state_write failed");
                out = status(state, scratch, true, &r);
                check_has(out, "\"reason\":\"rd.scratch.lun=", "cmdline lun=<bytes>: the reason is recorded");
                check_json(out, "cmdline lun=<bytes>: the state's reason still gives valid JSON");
                free(out);
        }
}

static void escaping_numbers(const char *state, const char *scratch) {
        char *out;
        int r;

        /* Numbers and booleans. */
        {
                static const struct {
                        const char *file, *want;
                } cases[] = {
                        { "backing=scratch\nsetup_ms=12a\n", "\"setup_ms\":null" },
                        { "backing=scratch\nsetup_ms=-5\n", "\"setup_ms\":null" },
                        { "backing=scratch\nsetup_ms= 5\n", "\"setup_ms\":null" },
                        { "backing=scratch\nsetup_ms=\n", "\"setup_ms\":null" },
                        { "backing=scratch\nsetup_ms=18446744073709551615\n", "\"setup_ms\":18446744073709551615" },
                        { "backing=scratch\nformat_ms=0\n", "\"format_ms\":0" },
                        { "backing=scratch\nvolatile=1\n", "\"volatile\":true" },
                        { "backing=scratch\nvolatile=0\n", "\"volatile\":false" },
                        { "backing=scratch\nvolatile=yes\n", "\"volatile\":null" },
                        { "backing=scratch\nvolatile=\n", "\"volatile\":null" },
                        { "backing=scratch\nsetup_ms=007\n", "\"setup_ms\":" },
                };

                for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                        char label[96];

                        (void) snprintf(label, sizeof(label), "%.*s", (int) strcspn(cases[i].file + 16, "\n"),
                                        cases[i].file + 16);
                        write_text(state, cases[i].file);
                        out = status(state, scratch, true, &r);
                        check_has(out, cases[i].want, "%s: %s", label, cases[i].want);
                        check_json(out, "%s: valid JSON", label);
                        free(out);
                }
        }
}

static void escaping_odd_files(void) {
        char state[PATH_MAX], scratch[PATH_MAX];
        char *out;
        int r;

        path_in(state, "odd.state");
        path_in(scratch, "no-such-dir");

        /* Lines that are not key=value, unknown keys, a repeated key. */
        write_text(state, "garbage\n=novalue\nbacking=tmpfs\nbacking=scratch\nfuture_key=1\n"
                          "averyveryveryverylongkeyname_over_32=1\nsource=smbios\nsetup_ms=7");
        out = status(state, scratch, true, &r);
        check_has(out, "{\"backing\":\"tmpfs\",", "the first of a repeated key counts");
        check(out && !strstr(out, "future_key") && !strstr(out, "garbage"), "unknown keys and junk lines: not shown");
        check_has(out, "\"source\":\"smbios\",", "keys after junk lines are read");
        check_has(out, "\"setup_ms\":7,", "a last line without newline is read");
        check_json(out, "odd lines: valid JSON");
        free(out);

        write_text(state, "");
        out = status(state, scratch, true, &r);
        check_int(r, 0, "empty state file: 0");
        check_json(out, "empty state file: valid JSON");
        check_has(out, "{\"backing\":null,", "empty state file: backing null");
        free(out);

        /* A state file that exists but cannot be read. */
        path_in(state, "state-dir");
        if (mkdir(state, 0755) < 0)
                bail("mkdir %s: %s", state, strerror(errno));
        out = status(state, scratch, false, &r);
        check(r < 0, "state file that is a directory: an error, not empty values (got %d, '%s')", r, out ? out : "");
        free(out);
}

static void test_escaping(void) {
        char state[PATH_MAX], scratch[PATH_MAX];
        char *out;
        int r;

        path_in(state, "odd.state");
        path_in(scratch, "no-such-dir");

        write_text(state, "backing=scratch\n"
                          "reason=say \"hi\" to C:\\dir\tnow\x01\x1f\x7f end\n"
                          "serial=a/b\n"
                          "source=cmdline\n"
                          "setup_ms=12\n");
        out = status(state, scratch, true, &r);
        check_has(out, "\"reason\":\"say \\\"hi\\\" to C:\\\\dir\\u0009now\\u0001\\u001f\\u007f end\"",
                  "quotes, backslash, tab, control bytes and DEL escaped");
        check_has(out, "\"serial\":\"a/b\"", "a slash as it is");
        check_json(out, "escaped values: valid JSON");
        free(out);

        write_text(state, "backing=scratch\nreason=caf\xc3\xa9 \xe2\x82\xac\nsetup_ms=1\n");
        out = status(state, scratch, true, &r);
        check_has(out, "\"reason\":\"caf?? ???\"", "bytes beyond ASCII are shown as '?'");
        check_json(out, "UTF-8 values: valid JSON");
        free(out);

        /* A reason quoting a command line value: any byte may be in it. */
        write_text(state, "backing=tmpfs\nreason=rd.scratch.lun='\xff\xfe': malformed value\nsetup_ms=1\n");
        out = status(state, scratch, true, &r);
        check_json(out, "bytes that are not UTF-8: still valid JSON");
        free(out);

        escaping_cmdline(state, scratch);
        escaping_numbers(state, scratch);
        escaping_odd_files();
}

/* Every key state_format() writes is read back: a state with every value
 * set shows none of them as null, in the table's order. */
static void test_every_key(void) {
        const struct state st = {
                .backing = BACKING_SCRATCH, .device = "/run/scratchroot/dev/sdb", .devno = "8:16", .hctl = "0:0:0:1",
                .serial = "S1", .disks = "sdb,sdc", .cloud = "aws", .format = "blank", .reason = "r", .source = "cmdline", .discard = "on",
                .encrypt = "aes-xts-plain64", .swap_bytes = 1u << 30, .swap_reason = "s",
                .volatile_ = true, .format_ms = 7, .setup_ms = 9, .fallback = "tmpfs", .prepare_ms = 211,
        };
        char state[PATH_MAX], scratch[PATH_MAX], key[64];
        const char *at;
        char *out;
        int r;

        path_in(state, "every-key-state");
        new_dir("every-key-scratch", scratch);
        if (state_write(state, &st) < 0)
                bail("state_write failed");
        out = status(state, scratch, true, &r);
        check_int(r, 0, "every key: shown");
        at = out;
        for (size_t i = 0; i < _STATE_KEY_MAX; i++) {
                /* tmpfs_size is written for a tmpfs alone. */
                bool empty = i == STATE_KEY_tmpfs_size;

                xfmt(key, sizeof(key), "\"%s\":%s", state_keys[i].name, empty ? "null" : "");
                at = at ? strstr(at, key) : NULL;
                check(at != NULL, "every key: %s is read back, in order%s", state_keys[i].name,
                      empty ? " (null for a scratch disk)" : "");
                if (at && !empty)
                        check(strncmp(at + strlen(key), "null", 4) != 0, "every key: %s has its value",
                              state_keys[i].name);
        }
        free(out);
        /* Several disks and the platform, in the text. */
        out = status(state, scratch, false, &r);
        check_has(out, "\ndisks:    sdb,sdc, striped\n", "every key, text: the striped disks");
        check_has(out, "\ncloud:    aws\n", "every key, text: the platform");
        free(out);
}

int main(void) {
        if (!fixture_start("test-status", "test setup"))
                return tap_done();

        test_parser();
        test_absent();
        test_scratch();
        test_tmpfs_and_none();
        test_escaping();
        test_every_key();

        return fixture_done();
}
