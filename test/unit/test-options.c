/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The options (options.c): the kernel command line's rd.scratch and
 * rd.scratch.* words, and options from several sources, each taken from the
 * strongest source that sets it (command line, fw_cfg, SMBIOS, virtio port,
 * config file), bad values and refused sources, the text syntax of each. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "tap.h"

static void parse(struct options *o, const char *cmdline) {
        options_init(o);
        options_parse_cmdline(o, cmdline);
}

static const char *err_name(int r) {
        switch (r) {
        case 0: return "0";
        case -EINVAL: return "-EINVAL";
        case -ERANGE: return "-ERANGE";
        default: return "other";
        }
}

static void show_problems(const struct options *o) {
        for (unsigned i = 0; i < o->n_problems && i < OPTIONS_MAX_PROBLEMS; i++)
                tap_diag("problem %u (option %d): %s", i, o->problem_opt[i], o->problems[i]);
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults(void) {
        struct options o;

        parse(&o, "");
        check(!o.active, "defaults: empty cmdline is not active");
        check(!o.disabled, "defaults: not disabled");
        check(!o.invalid, "defaults: not invalid");
        check(!o.have_lun, "defaults: no lun");
        check_int(o.n_problems, 0, "defaults: no problems");
        check_int(o.timeout_ms, 500, "defaults: timeout 500 ms");
        check_int(o.fallback, FALLBACK_TMPFS, "defaults: fallback tmpfs");
        check_int(o.tmpfs_size.percent, 25, "defaults: tmpfs 25%%");
        check_u64(o.tmpfs_size.bytes, 0, "defaults: tmpfs size is a percentage, not bytes");
        check(!o.force, "defaults: no force");
        check(!o.discard, "defaults: discard off");

        parse(&o, "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet");
        check(!o.active, "cmdline without rd.scratch options is not active");
        check_int(o.n_problems, 0, "cmdline without rd.scratch options: no problems");

        /* Other options leave the defaults in place. */
        parse(&o, "rd.scratch.lun=1");
        check(o.active, "rd.scratch.lun=1 alone activates");
        check_int(o.timeout_ms, 500, "rd.scratch.lun=1: default timeout 500 ms kept");
        check_int(o.fallback, FALLBACK_TMPFS, "rd.scratch.lun=1: default fallback tmpfs kept");
        check_int(o.tmpfs_size.percent, 25, "rd.scratch.lun=1: default tmpfs 25%% kept");
        check(!o.force, "rd.scratch.lun=1: force stays off");
}

/* ---- rd.scratch.lun ---------------------------------------------------- */

struct bad_lun {
        const char *cmdline;
        const char *shown;      /* what problems[0] must quote */
        const char *kind;       /* "malformed" or "out of range" */
};

static void test_lun_malformed(void) {
        static char long_cmd[400], long_shown[64];
        const struct bad_lun cases[] = {
                { "rd.scratch.lun=abc", "'abc'", "malformed" },
                { "rd.scratch.lun=-1", "'-1'", "malformed" },
                { "rd.scratch.lun=99999999999999999999", "'99999999999999999999'", "out of range" },
                { "rd.scratch.lun=", "''", "malformed" },
                { "rd.scratch.lun", "''", "malformed" },
                { "rd.scratch.lun=1:2", "'1:2'", "malformed" },
                { "rd.scratch.lun=1:2:3", "'1:2:3'", "malformed" },
                { "rd.scratch.lun=1:2:3:4:5", "'1:2:3:4:5'", "malformed" },
                { "rd.scratch.lun=+1", "'+1'", "malformed" },
                { "rd.scratch.lun=\" 1\"", "' 1'", "malformed" },
                { "rd.scratch.lun=0x1", "'0x1'", "malformed" },
                { "rd.scratch.lun=1:2:3:", "'1:2:3:'", "malformed" },
                { "rd.scratch.lun=4294967296:0:0:1", "'4294967296:0:0:1'", "out of range" },
                { "rd.scratch.lun=0:4294967296:0:1", "'0:4294967296:0:1'", "out of range" },
                { "rd.scratch.lun=0:0:4294967296:1", "'0:0:4294967296:1'", "out of range" },
                { "rd.scratch.lun=0:0:0:18446744073709551616", "'0:0:0:18446744073709551616'", "out of range" },
                { "rd.scratch.lun=:0:0:1", "':0:0:1'", "malformed" },
                { "rd.scratch.lun=1::2:3", "'1::2:3'", "malformed" },
                { "rd.scratch.lun=\"1 2\"", "'1 2'", "malformed" },
                { "rd.scratch.lun=1,,2", "'1,,2'", "malformed" },
                { "rd.scratch.lun=1,", "'1,'", "malformed" },
                { "rd.scratch.lun=,1", "',1'", "malformed" },
                { "rd.scratch.lun=1,1", "'1,1'", "malformed" },
                { "rd.scratch.lun=0:0:0:1,0:0:0:1", "'0:0:0:1,0:0:0:1'", "malformed" },
                { "rd.scratch.lun=1,abc", "'1,abc'", "malformed" },
                { "rd.scratch.lun=1,0:0:0:18446744073709551616", "'1,0:0:0:18446744073709551616'", "out of range" },
                { "rd.scratch.lun=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32",
                  "'0,1,2,", "out of range" },
                { "rd.scratch.lun=0:0:0:1a", "'0:0:0:1a'", "malformed" },
                { long_cmd, long_shown, "longer than 256" },
        };
        const unsigned n = sizeof(cases) / sizeof(cases[0]);

        /* A 300 character value: the problem quotes its start. */
        strcpy(long_cmd, "rd.scratch.lun=");
        for (unsigned i = 0; i < 300; i++)
                long_cmd[15 + i] = (char) ('0' + i % 10);
        long_cmd[15 + 300] = '\0';
        (void) snprintf(long_shown, sizeof(long_shown), "'%.40s", long_cmd + 15);

        for (unsigned i = 0; i < n; i++) {
                const struct bad_lun *c = &cases[i];
                const char *label = c->cmdline == long_cmd ? "rd.scratch.lun=<300 digits>" : c->cmdline;
                struct options o;

                parse(&o, c->cmdline);

                check(o.invalid, "%s: invalid", label);
                check(o.active, "%s: still active (falls back)", label);
                check(!o.have_lun, "%s: no lun taken", label);
                check_int(o.n_problems, 1, "%s: exactly one problem", label);
                if (o.n_problems != 1)
                        show_problems(&o);
                check_has(o.problems[0], "rd.scratch.lun", "%s: problem names the option", label);
                check_has(o.problems[0], c->shown, "%s: problem quotes the value", label);
                check_has(o.problems[0], c->kind, "%s: problem says %s", label, c->kind);
        }
}

static void test_lun_overlong_token(void) {
        char cmd[1200];
        struct options o;

        /* Longer than any buffer of the tokenizer. */
        strcpy(cmd, "quiet rd.scratch.lun=");
        for (unsigned i = 0; i < 1000; i++)
                strcat(cmd, "1");
        strcat(cmd, " rd.scratch.timeout=2");
        parse(&o, cmd);
        check(o.invalid, "1000 digit lun: invalid");
        check(!o.have_lun, "1000 digit lun: no lun taken");
        check(o.n_problems >= 1 && strstr(o.problems[0], "rd.scratch.lun"),
              "1000 digit lun: problem names the option");
        check_int(o.timeout_ms, 2000, "1000 digit lun: the following option is still parsed");

        /* Exactly 256 characters is within the length limit: judged by value. */
        strcpy(cmd, "rd.scratch.lun=");
        for (unsigned i = 0; i < 256; i++)
                strcat(cmd, "9");
        parse(&o, cmd);
        check(o.invalid, "256 digit lun: invalid");
        check_has(o.problems[0], "out of range", "256 digit lun: out of range, not too long");
}

struct good_lun {
        const char *value;
        bool lun_only;
        unsigned host, channel, target;
        uint64_t lun;
        const char *formatted;
};

static void test_lun_valid(void) {
        const struct good_lun cases[] = {
                { "1", true, 0, 0, 0, 1, "1" },
                { "0", true, 0, 0, 0, 0, "0" },
                { "18446744073709551615", true, 0, 0, 0, UINT64_MAX, "18446744073709551615" },
                { "4294967296", true, 0, 0, 0, UINT64_C(4294967296), "4294967296" },
                { "007", true, 0, 0, 0, 7, "7" },
                { "0:0:0:1", false, 0, 0, 0, 1, "0:0:0:1" },
                { "2:0:3:18446744073709551615", false, 2, 0, 3, UINT64_MAX, "2:0:3:18446744073709551615" },
                { "4294967295:4294967295:4294967295:0", false, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0,
                  "4294967295:4294967295:4294967295:0" },
        };

        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct good_lun *c = &cases[i];
                char cmd[128], fmt[64];
                struct options o;

                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.lun=%s", c->value);
                parse(&o, cmd);
                check(o.active, "%s: active", cmd);
                check(!o.invalid, "%s: valid", cmd);
                check_int(o.n_problems, 0, "%s: no problems", cmd);
                check(o.have_lun, "%s: lun taken", cmd);
                check_int(o.lun.lun_only, c->lun_only, "%s: lun_only", cmd);
                check_int(o.lun.host, c->host, "%s: host", cmd);
                check_int(o.lun.channel, c->channel, "%s: channel", cmd);
                check_int(o.lun.target, c->target, "%s: target", cmd);
                check_u64(o.lun.lun, c->lun, "%s: lun", cmd);
                hctl_format(&o.lun, fmt, sizeof(fmt));
                check_str(fmt, c->formatted, "%s: hctl_format", cmd);
        }
}

static void test_last_wins_and_quoting(void) {
        struct options o;

        parse(&o, "rd.scratch.lun=1 rd.scratch.lun=2");
        check(o.have_lun && o.lun.lun_only && o.lun.lun == 2 && !o.invalid,
              "rd.scratch.lun=1 rd.scratch.lun=2: the last one wins (2)");

        /* The last occurrence wins: an earlier malformed one is forgotten. */
        parse(&o, "rd.scratch.lun=abc rd.scratch.lun=2");
        check(!o.invalid, "rd.scratch.lun=abc rd.scratch.lun=2: valid, the last one wins");
        check(o.have_lun && o.lun.lun == 2, "rd.scratch.lun=abc rd.scratch.lun=2: lun 2");
        check_int(o.n_problems, 0, "rd.scratch.lun=abc rd.scratch.lun=2: no problems");

        parse(&o, "rd.scratch.lun=2 rd.scratch.lun=abc");
        check(o.invalid && !o.have_lun, "rd.scratch.lun=2 rd.scratch.lun=abc: invalid, the last one wins");
        check_has(o.problems[0], "'abc'", "rd.scratch.lun=2 rd.scratch.lun=abc: problem quotes abc");

        parse(&o, "rd.scratch.lun=0:0:0:5 rd.scratch.lun");
        check(o.invalid && !o.have_lun, "rd.scratch.lun=0:0:0:5 rd.scratch.lun: the bare last one is invalid");

        parse(&o, "rd.scratch.lun=\"3\"");
        check(!o.invalid && o.have_lun && o.lun.lun_only && o.lun.lun == 3, "rd.scratch.lun=\"3\": lun 3");

        parse(&o, "\"rd.scratch.lun=3\"");
        check(!o.invalid && o.have_lun && o.lun.lun_only && o.lun.lun == 3, "\"rd.scratch.lun=3\": lun 3");

        parse(&o, "rd.scratch.lun=\"0:0:1:3\" quiet");
        check(!o.invalid && o.have_lun && !o.lun.lun_only && o.lun.target == 1 && o.lun.lun == 3,
              "rd.scratch.lun=\"0:0:1:3\": 0:0:1:3");

        parse(&o, "foo=\"a b c\" rd.scratch.lun=4");
        check(!o.invalid && o.have_lun && o.lun.lun == 4 && o.n_problems == 0,
              "a quoted value with blanks before: lun 4");

        parse(&o, "-- rd.scratch.lun=1");
        check(!o.active && !o.have_lun && o.n_problems == 0, "-- rd.scratch.lun=1: not taken");

        parse(&o, "quiet rd.scratch.lun=1 -- rd.scratch.lun=2 rd.scratch.bogus");
        check(o.active && o.have_lun && o.lun.lun == 1 && o.n_problems == 0,
              "rd.scratch.lun=1 -- rd.scratch.lun=2: 1, nothing after -- is read");

        parse(&o, "init=/bin/sh --foo rd.scratch.lun=1");
        check(o.have_lun && o.lun.lun == 1, "--foo does not end the options");

        parse(&o, "rd.scratchy=1");
        check(!o.active && o.n_problems == 0 && !o.invalid, "rd.scratchy=1: not ours");

        parse(&o, "rd.scratch_lun=1 xrd.scratch.lun=1 rd.scratchlun=1 RD.SCRATCH.LUN=1");
        check(!o.active && o.n_problems == 0 && !o.have_lun, "look-alike names are not ours");

        parse(&o, "rd.scratch.lnu=1");
        check(o.active, "rd.scratch.lnu=1: active");
        check(!o.invalid, "rd.scratch.lnu=1: not invalid");
        check_int(o.n_problems, 1, "rd.scratch.lnu=1: one problem");
        check_has(o.problems[0], "rd.scratch.lnu", "rd.scratch.lnu=1: the warning names the option");
        check(!o.have_lun, "rd.scratch.lnu=1: no lun");

        parse(&o, "rd.scratch.lun=1 rd.scratch.lnu=2");
        check(o.active && !o.invalid && o.have_lun && o.lun.lun == 1 && o.n_problems == 1,
              "rd.scratch.lun=1 rd.scratch.lnu=2: lun 1 and a warning");

        {
                char cmd[256];

                strcpy(cmd, "rd.scratch.");
                for (unsigned i = 0; i < 100; i++)
                        strcat(cmd, "x");
                strcat(cmd, "=1");
                parse(&o, cmd);
                check(o.active && !o.invalid && o.n_problems == 1, "100 character unknown name: one warning");
                check(strlen(o.problems[0]) < 120, "100 character unknown name: the warning is shortened");
        }

        /* More problems than fit: the count stops, nothing overflows. */
        parse(&o, "rd.scratch.a rd.scratch.b rd.scratch.c rd.scratch.d rd.scratch.e rd.scratch.f "
                  "rd.scratch.g rd.scratch.h rd.scratch.i rd.scratch.j rd.scratch.timeout=x");
        check_int(o.n_problems, OPTIONS_MAX_PROBLEMS, "11 problems: %d recorded", OPTIONS_MAX_PROBLEMS);
        check(o.invalid, "11 problems: the malformed timeout still makes it invalid");

        parse(&o, "quiet\trd.scratch.lun=0:0:0:2\nrd.scratch.timeout=1.5\n\trd.scratch.fallback=none\n");
        check(o.active && !o.invalid && o.n_problems == 0, "tabs and newlines: valid");
        check(o.have_lun && !o.lun.lun_only && o.lun.lun == 2, "tabs and newlines: lun 0:0:0:2");
        check_int(o.timeout_ms, 1500, "tabs and newlines: timeout 1500");
        check_int(o.fallback, FALLBACK_NONE, "tabs and newlines: fallback none");

        parse(&o, "   ");
        check(!o.active && o.n_problems == 0, "blanks only: nothing");
}

/* ---- rd.scratch -------------------------------------------------------- */

static void test_enable(void) {
        struct options o;

        parse(&o, "rd.scratch=0 rd.scratch.lun=1");
        check(o.disabled, "rd.scratch=0 rd.scratch.lun=1: disabled");
        check(!o.active, "rd.scratch=0 rd.scratch.lun=1: not active");

        parse(&o, "rd.scratch.lun=1 rd.scratch=0");
        check(o.disabled && !o.active, "rd.scratch.lun=1 rd.scratch=0: disabled, not active");

        parse(&o, "rd.scratch");
        check(o.active && !o.disabled && !o.invalid && o.n_problems == 0, "bare rd.scratch: active");
        check(!o.have_lun, "bare rd.scratch: no lun");

        parse(&o, "rd.scratch=1");
        check(o.active && !o.disabled && !o.invalid, "rd.scratch=1: active");

        parse(&o, "rd.scratch=maybe");
        check(o.invalid, "rd.scratch=maybe: invalid");
        check_has(o.problems[0], "rd.scratch", "rd.scratch=maybe: problem names the option");
        check_has(o.problems[0], "'maybe'", "rd.scratch=maybe: problem quotes the value");

        parse(&o, "rd.scratch=");
        check(o.invalid, "rd.scratch= (empty): invalid");

        parse(&o, "rd.scratch=0 rd.scratch=1");
        check(o.active && !o.disabled, "rd.scratch=0 rd.scratch=1: the last wins, active");

        parse(&o, "rd.scratch=1 rd.scratch=0");
        check(!o.active && o.disabled, "rd.scratch=1 rd.scratch=0: the last wins, disabled");

        parse(&o, "rd.scratch=off");
        check(!o.active && o.disabled && !o.invalid, "rd.scratch=off: disabled");
}

/* ---- rd.scratch.timeout ------------------------------------------------ */

static void test_timeout(void) {
        const struct { const char *v; unsigned ms; } good[] = {
                { "5", 5000 }, { "0", 0 }, { "0.5", 500 }, { "1.25", 1250 }, { "600", 600000 },
                { "600.0", 600000 }, { "0.001", 1 }, { "2.050", 2050 }, { "007", 7000 },
        };
        const struct { const char *v; int r; } bad[] = {
                { "601", -ERANGE }, { "600.001", -ERANGE }, { "99999999999999999999", -ERANGE },
                { "18446744073709551615", -ERANGE }, { "-1", -EINVAL }, { "1.", -EINVAL },
                { ".5", -EINVAL }, { "1.2345", -EINVAL }, { "abc", -EINVAL }, { "5s", -EINVAL },
                { "", -EINVAL }, { "1.2.3", -EINVAL }, { "+5", -EINVAL }, { "1,5", -EINVAL },
                { "1.-5", -EINVAL }, { ".", -EINVAL },
        };

        for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char cmd[64];
                unsigned ms = 12345;
                struct options o;
                int r;

                r = parse_timeout_ms(good[i].v, &ms);
                check_int(r, 0, "parse_timeout_ms('%s') = 0", good[i].v);
                check_int(ms, good[i].ms, "parse_timeout_ms('%s') = %u ms", good[i].v, good[i].ms);

                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.timeout=%s", good[i].v);
                parse(&o, cmd);
                check(!o.invalid && o.n_problems == 0, "%s: valid", cmd);
                check_int(o.timeout_ms, good[i].ms, "%s: %u ms", cmd, good[i].ms);
        }
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char cmd[64], quoted[64];
                unsigned ms = 12345;
                struct options o;
                int r;

                r = parse_timeout_ms(bad[i].v, &ms);
                if (!check(r == bad[i].r, "parse_timeout_ms('%s') = %s", bad[i].v, err_name(bad[i].r)))
                        tap_diag("got %s (%d)", err_name(r), r);

                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.timeout=%s", bad[i].v);
                (void) snprintf(quoted, sizeof(quoted), "'%s'", bad[i].v);
                parse(&o, cmd);
                check(o.invalid, "%s: invalid", cmd);
                check_int(o.timeout_ms, 500, "%s: the default timeout stays", cmd);
                check_has(o.problems[0], "rd.scratch.timeout", "%s: problem names the option", cmd);
                check_has(o.problems[0], quoted, "%s: problem quotes the value", cmd);
                check_has(o.problems[0], bad[i].r == -ERANGE ? "out of range" : "malformed",
                          "%s: problem says %s", cmd, bad[i].r == -ERANGE ? "out of range" : "malformed");
        }
}

/* ---- rd.scratch.tmpfs.size --------------------------------------------- */

static void test_size(void) {
        const struct { const char *v; uint64_t bytes; unsigned percent; const char *fmt; } good[] = {
                { "512M", UINT64_C(512) << 20, 0, "536870912" },
                { "512m", UINT64_C(512) << 20, 0, "536870912" },
                { "1g", UINT64_C(1) << 30, 0, "1073741824" },
                { "1G", UINT64_C(1) << 30, 0, "1073741824" },
                { "4096", 4096, 0, "4096" },
                { "4k", 4096, 0, "4096" },
                { "4K", 4096, 0, "4096" },
                { "2t", UINT64_C(2) << 40, 0, "2199023255552" },
                { "16777215T", UINT64_C(16777215) << 40, 0, "18446742974197923840" },
                { "18446744073709551615", UINT64_MAX, 0, "18446744073709551615" },
                { "25%", 0, 25, "25%" },
                { "1%", 0, 1, "1%" },
                { "100%", 0, 100, "100%" },
        };
        const struct { const char *v; int r; } bad[] = {
                { "0%", -ERANGE }, { "101%", -ERANGE }, { "0", -ERANGE }, { "4095", -ERANGE },
                { "1k", -ERANGE }, { "0M", -ERANGE }, { "18446744073709551615T", -ERANGE },
                { "16777216T", -ERANGE }, { "18446744073709551616", -ERANGE }, { "1000%", -ERANGE },
                { "12x", -EINVAL }, { "%", -EINVAL }, { "M", -EINVAL }, { "", -EINVAL },
                { "-1M", -EINVAL }, { "1.5G", -EINVAL }, { "1MB", -EINVAL }, { "25 %", -EINVAL },
                { "-25%", -EINVAL }, { "1%%", -EINVAL }, { "1MiB", -EINVAL },
        };

        for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                struct size_spec s = { 7, 7 };
                char cmd[64], fmt[64];
                struct options o;
                int r;

                r = parse_size(good[i].v, &s);
                check_int(r, 0, "parse_size('%s') = 0", good[i].v);
                check_u64(s.bytes, good[i].bytes, "parse_size('%s'): bytes", good[i].v);
                check_int(s.percent, good[i].percent, "parse_size('%s'): percent", good[i].v);
                size_spec_format(&s, fmt, sizeof(fmt));
                check_str(fmt, good[i].fmt, "size_spec_format of '%s'", good[i].v);

                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.tmpfs.size=%s", good[i].v);
                parse(&o, cmd);
                check(!o.invalid && o.n_problems == 0, "%s: valid", cmd);
                check(o.tmpfs_size.bytes == good[i].bytes && o.tmpfs_size.percent == good[i].percent,
                      "%s: taken", cmd);
        }
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char cmd[64], quoted[64];
                struct size_spec s;
                struct options o;
                int r;

                r = parse_size(bad[i].v, &s);
                if (!check(r == bad[i].r, "parse_size('%s') = %s", bad[i].v, err_name(bad[i].r)))
                        tap_diag("got %s (%d)", err_name(r), r);

                (void) snprintf(cmd, sizeof(cmd), "\"rd.scratch.tmpfs.size=%s\"", bad[i].v);
                (void) snprintf(quoted, sizeof(quoted), "'%s'", bad[i].v);
                parse(&o, cmd);
                check(o.invalid, "%s: invalid", cmd);
                check(o.tmpfs_size.percent == 25 && o.tmpfs_size.bytes == 0, "%s: the default 25%% stays", cmd);
                check_has(o.problems[0], "rd.scratch.tmpfs.size", "%s: problem names the option", cmd);
                check_has(o.problems[0], quoted, "%s: problem quotes the value", cmd);
        }
}

/* ---- rd.scratch.fallback, rd.scratch.force, parse_bool ------------------ */

static void test_fallback(void) {
        const struct { const char *v; enum fallback f; } good[] = {
                { "tmpfs", FALLBACK_TMPFS }, { "none", FALLBACK_NONE }, { "fail", FALLBACK_FAIL },
        };
        const char *bad[] = { "TMPFS", "", "tmpfs ", "Fail", "no", "0" };
        struct options o;

        for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                enum fallback f = (enum fallback) 99;
                char cmd[64];

                check_int(parse_fallback(good[i].v, &f), 0, "parse_fallback('%s') = 0", good[i].v);
                check_int(f, good[i].f, "parse_fallback('%s')", good[i].v);
                check_str(fallback_to_string(good[i].f), good[i].v, "fallback_to_string(%s)", good[i].v);

                /* Start from a non-default so that tmpfs is seen to be set. */
                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.fallback=fail rd.scratch.fallback=%s", good[i].v);
                parse(&o, cmd);
                check(!o.invalid && o.fallback == good[i].f, "%s: taken", cmd);
        }
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                enum fallback f = FALLBACK_NONE;
                char cmd[64];

                check_int(parse_fallback(bad[i], &f), -EINVAL, "parse_fallback('%s') = -EINVAL", bad[i]);
                check_int(f, FALLBACK_NONE, "parse_fallback('%s') leaves the result alone", bad[i]);
                (void) snprintf(cmd, sizeof(cmd), "\"rd.scratch.fallback=%s\"", bad[i]);
                parse(&o, cmd);
                check(o.invalid && o.fallback == FALLBACK_TMPFS, "%s: invalid, default kept", cmd);
                check_has(o.problems[0], "rd.scratch.fallback", "%s: problem names the option", cmd);
        }
        parse(&o, "rd.scratch.fallback");
        check(o.invalid, "bare rd.scratch.fallback: invalid");
}

static void test_bool_and_force(void) {
        const char *yes[] = { "1", "yes", "y", "true", "on" };
        const char *no[] = { "0", "no", "n", "false", "off" };
        const char *bad[] = { "", "bogus", "2", "01", "yes ", " 1", "-1", "nope" };
        struct options o;

        for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                bool b = false;
                check(parse_bool(yes[i], &b) == 0 && b, "parse_bool('%s') = true", yes[i]);
        }
        for (unsigned i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
                bool b = true;
                check(parse_bool(no[i], &b) == 0 && !b, "parse_bool('%s') = false", no[i]);
        }
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                bool b = true;
                int r = parse_bool(bad[i], &b);
                check(r == -EINVAL && b, "parse_bool('%s') = -EINVAL, result untouched", bad[i]);
        }

        parse(&o, "rd.scratch.force");
        check(o.force && !o.invalid, "bare rd.scratch.force: force");
        parse(&o, "rd.scratch.force=1");
        check(o.force && !o.invalid, "rd.scratch.force=1: force");
        parse(&o, "rd.scratch.force=yes");
        check(o.force && !o.invalid, "rd.scratch.force=yes: force");
        parse(&o, "rd.scratch.force=0");
        check(!o.force && !o.invalid && o.active, "rd.scratch.force=0: no force, still active");
        parse(&o, "rd.scratch.force=no");
        check(!o.force && !o.invalid, "rd.scratch.force=no: no force");
        parse(&o, "rd.scratch.force=1 rd.scratch.force=0");
        check(!o.force && !o.invalid, "rd.scratch.force=1 rd.scratch.force=0: the last wins");
        parse(&o, "rd.scratch.force=bogus");
        check(o.invalid && !o.force, "rd.scratch.force=bogus: invalid, no force");
        check_has(o.problems[0], "rd.scratch.force", "rd.scratch.force=bogus: problem names the option");
        check_has(o.problems[0], "'bogus'", "rd.scratch.force=bogus: problem quotes the value");
        parse(&o, "rd.scratch.force=");
        check(o.invalid && !o.force, "rd.scratch.force= (empty): invalid, no force");
}

/* ---- rd.scratch.discard ------------------------------------------------- */

static void test_discard(void) {
        const char *bad[] = { "", "bogus", "2", "unmap", "discard", "01", "-1" };
        struct options o, w;
        char cmd[64];

        parse(&o, "rd.scratch.lun=1");
        check(!o.discard && !o.invalid, "rd.scratch.lun=1: discard stays off");
        parse(&o, "rd.scratch.discard=0");
        check(!o.discard && !o.invalid && o.active, "rd.scratch.discard=0: off, active, valid");
        parse(&o, "rd.scratch.discard=off");
        check(!o.discard && !o.invalid, "rd.scratch.discard=off: off");
        parse(&o, "rd.scratch.discard=1");
        check(o.discard && !o.invalid, "rd.scratch.discard=1: on");
        parse(&o, "rd.scratch.discard");
        check(o.discard && !o.invalid, "bare rd.scratch.discard: on");
        parse(&o, "rd.scratch.discard=1 rd.scratch.discard=no");
        check(!o.discard && !o.invalid, "rd.scratch.discard=1 rd.scratch.discard=no: the last wins");
        parse(&o, "rd.scratch.discard=0 rd.scratch.lun=1");
        check(!o.discard && o.have_lun && !o.invalid, "rd.scratch.discard=0 with a lun: both taken");
        check_int(o.from[OPT_DISCARD], SOURCE_CMDLINE, "rd.scratch.discard=0: from the command line");
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.lun=1 rd.scratch.discard=%s", bad[i]);
                parse(&o, cmd);
                check(o.invalid && !o.discard, "rd.scratch.discard='%s': invalid, value left at its default", bad[i]);
                check(o.n_problems > 0 && strstr(o.problems[o.first_invalid], "rd.scratch.discard"),
                      "rd.scratch.discard='%s': the problem names the option", bad[i]);
        }

        /* From a weaker source, only where the command line says nothing. */
        parse(&o, "rd.scratch.lun=1");
        options_init(&w);
        options_parse_source(&w, "rd.scratch.discard=1", SOURCE_FWCFG);
        options_merge(&o, &w);
        check(o.discard && !o.invalid, "discard=1 from fw_cfg under a command line without it: on");
        check_int(o.from[OPT_DISCARD], SOURCE_FWCFG, "discard=1 from fw_cfg: recorded as from fw_cfg");
        parse(&o, "rd.scratch.lun=1 rd.scratch.discard=0");
        options_init(&w);
        options_parse_source(&w, "rd.scratch.discard=1", SOURCE_CONFIG);
        options_merge(&o, &w);
        check(!o.discard && o.from[OPT_DISCARD] == SOURCE_CMDLINE,
              "rd.scratch.discard=0 on the command line wins over discard=1 from the config file");
        parse(&o, "rd.scratch.lun=1");
        options_init(&w);
        options_parse_source(&w, "rd.scratch.discard=maybe", SOURCE_SMBIOS);
        options_merge(&o, &w);
        check(o.invalid, "rd.scratch.discard=maybe from SMBIOS: invalid");
        check_has(o.problems[o.first_invalid], "(from smbios)", "rd.scratch.discard=maybe: the problem names SMBIOS");
}

/* ---- rd.scratch.encrypt and rd.scratch.swap ------------------------------ */

static void test_encrypt_swap(void) {
        const char *bad_enc[] = { "", "aes", "2", "yes please" };
        const char *bad_swap[] = { "", "x", "1x", "-1", "100", "4095", "0%", "101%", "1.5G" };
        struct options o, w;
        char cmd[96];

        parse(&o, "rd.scratch.lun=1");
        check(!o.encrypt && o.swap.bytes == 0 && o.swap.percent == 0, "defaults: no encryption, no swap");
        parse(&o, "rd.scratch.encrypt=1");
        check(o.encrypt && o.active && !o.invalid, "rd.scratch.encrypt=1: on, active");
        parse(&o, "rd.scratch.encrypt");
        check(o.encrypt && !o.invalid, "bare rd.scratch.encrypt: on");
        parse(&o, "rd.scratch.encrypt=1 rd.scratch.encrypt=off");
        check(!o.encrypt && !o.invalid, "rd.scratch.encrypt=1 then off: the last wins");
        for (unsigned i = 0; i < sizeof(bad_enc) / sizeof(bad_enc[0]); i++) {
                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.lun=1 \"rd.scratch.encrypt=%s\"", bad_enc[i]);
                parse(&o, cmd);
                check(o.invalid && !o.encrypt, "rd.scratch.encrypt='%s': invalid, off", bad_enc[i]);
                check(o.n_problems > 0 && strstr(o.problems[o.first_invalid], "rd.scratch.encrypt"),
                      "rd.scratch.encrypt='%s': the problem names the option", bad_enc[i]);
        }

        parse(&o, "rd.scratch.swap=1G");
        check(o.swap.bytes == (UINT64_C(1) << 30) && !o.swap.percent && !o.invalid, "rd.scratch.swap=1G: 1 GiB");
        parse(&o, "rd.scratch.swap=512m");
        check(o.swap.bytes == (UINT64_C(512) << 20) && !o.invalid, "rd.scratch.swap=512m: 512 MiB");
        parse(&o, "rd.scratch.swap=50%");
        check(o.swap.percent == 50 && !o.swap.bytes && !o.invalid, "rd.scratch.swap=50%%: half of RAM");
        parse(&o, "rd.scratch.swap=1G rd.scratch.swap=0");
        check(!o.swap.bytes && !o.swap.percent && !o.invalid, "rd.scratch.swap=0 after 1G: none");
        for (unsigned i = 0; i < sizeof(bad_swap) / sizeof(bad_swap[0]); i++) {
                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.lun=1 rd.scratch.swap=%s", bad_swap[i]);
                parse(&o, cmd);
                if (!check(o.invalid && !o.swap.bytes && !o.swap.percent, "rd.scratch.swap='%s': invalid, none",
                           bad_swap[i]))
                        show_problems(&o);
        }
        check_int(parse_swap_size("0", &(struct size_spec) {}), 0, "parse_swap_size('0'): 0");

        /* From every source, the command line first. */
        for (enum source src = SOURCE_FWCFG; src < SOURCE_DEFAULT; src++) {
                parse(&o, "rd.scratch.lun=1");
                options_init(&w);
                options_parse_source(&w, "rd.scratch.encrypt=1 rd.scratch.swap=2G", src);
                options_merge(&o, &w);
                check(o.encrypt && o.swap.bytes == (UINT64_C(2) << 30) && !o.invalid,
                      "encrypt=1 swap=2G from %s: taken", source_to_string(src));
                check(o.from[OPT_ENCRYPT] == src && o.from[OPT_SWAP] == src, "from %s: recorded", source_to_string(src));
        }
        parse(&o, "rd.scratch.lun=1 rd.scratch.encrypt=0 rd.scratch.swap=0");
        options_init(&w);
        options_parse_source(&w, "rd.scratch.encrypt=1 rd.scratch.swap=2G", SOURCE_CONFIG);
        options_merge(&o, &w);
        check(!o.encrypt && !o.swap.bytes, "encrypt=0 swap=0 on the command line win over the config file");

        check_str(option_name(OPT_ENCRYPT), "rd.scratch.encrypt", "the name of OPT_ENCRYPT");
        check_str(option_name(OPT_SWAP), "rd.scratch.swap", "the name of OPT_SWAP");
        check(option_flag(OPT_ENCRYPT) == NULL && option_flag(OPT_SWAP) == NULL,
              "neither is a flag of scratchroot run and mount (the boot's only)");
}

/* ---- parse_hctl return codes ------------------------------------------- */

static void test_parse_hctl(void) {
        const struct { const char *v; int r; } cases[] = {
                { "abc", -EINVAL }, { "-1", -EINVAL }, { "99999999999999999999", -ERANGE },
                { "18446744073709551616", -ERANGE }, { "", -EINVAL }, { "1:2", -EINVAL },
                { "1:2:3", -EINVAL }, { "1:2:3:4:5", -EINVAL }, { "+1", -EINVAL }, { " 1", -EINVAL },
                { "1 ", -EINVAL }, { "0x1", -EINVAL }, { "1:2:3:", -EINVAL }, { ":", -EINVAL },
                { "4294967296:0:0:1", -ERANGE }, { "0:4294967296:0:1", -ERANGE },
                { "0:0:4294967296:1", -ERANGE }, { "0:0:0:18446744073709551616", -ERANGE },
                { "host0", -EINVAL }, { "target0:0:0", -EINVAL }, { "0:0:0:1\n", -EINVAL },
                { "1", 0 }, { "0:0:0:0", 0 }, { "4294967295:0:0:18446744073709551615", 0 },
        };

        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct hctl h;
                int r = parse_hctl(cases[i].v, &h);

                if (!check(r == cases[i].r, "parse_hctl('%s') = %s", cases[i].v, err_name(cases[i].r)))
                        tap_diag("got %s (%d)", err_name(r), r);
        }
}

/* ---- several sources: each option from the strongest that sets it ------ */

static void start(struct options *o, const char *cmdline) {
        options_init(o);
        options_parse_cmdline(o, cmdline);
}

/* One weaker source merged in, the way setup takes each source in turn. */
static void add(struct options *o, enum source src, const char *text) {
        struct options w;

        options_init(&w);
        options_parse_source(&w, text, src);
        options_merge(o, &w);
}

static void add_refused(struct options *o, enum source src, const char *what) {
        struct options w;

        options_init(&w);
        options_source_problem(&w, src, what);
        options_merge(o, &w);
}

static const char *src_name(enum source s) {
        return source_to_string(s);
}

#define check_src(got, want, ...)                                                                  \
        do {                                                                                       \
                enum source gs_ = (got), ws_ = (want);                                             \
                if (!check(gs_ == ws_, __VA_ARGS__))                                               \
                        tap_diag("got %s, expected %s", src_name(gs_), src_name(ws_));            \
        } while (0)

/* The problem that makes the options invalid, as setup reports it. */
static const char *reason(const struct options *o) {
        if (!o->invalid || o->first_invalid >= o->n_problems)
                return "(none)";
        return o->problems[o->first_invalid];
}

/* ---- precedence ---------------------------------------------------------- */

static void test_precedence(void) {
        struct options o;

        start(&o, "rd.scratch.lun=1");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=2");
        check(o.have_lun && o.lun.lun_only && o.lun.lun == 1, "cmdline lun=1, fw_cfg lun=2: lun 1");
        check_src(o.from[OPT_LUN], SOURCE_CMDLINE, "cmdline lun=1, fw_cfg lun=2: from cmdline");
        check(!o.invalid && o.active && !o.disabled, "cmdline lun=1, fw_cfg lun=2: valid and active");
        check_int(o.n_problems, 0, "cmdline lun=1, fw_cfg lun=2: no problems");

        start(&o, "rd.scratch.lun=1");
        add(&o, SOURCE_FWCFG, "rd.scratch.timeout=3");
        check_int(o.timeout_ms, 3000, "fw_cfg timeout=3, cmdline none: 3000 ms");
        check_src(o.from[OPT_TIMEOUT], SOURCE_FWCFG, "fw_cfg timeout=3: from[OPT_TIMEOUT] is fw_cfg");
        check_src(o.from[OPT_LUN], SOURCE_CMDLINE, "fw_cfg timeout=3: lun still from cmdline");
        check_src(o.from[OPT_FALLBACK], SOURCE_DEFAULT, "fw_cfg timeout=3: fallback from default");
        check_int(o.set, (1u << OPT_LUN) | (1u << OPT_TIMEOUT), "fw_cfg timeout=3: set is lun and timeout");
        check(o.have_lun && o.lun.lun == 1 && !o.invalid, "fw_cfg timeout=3: lun 1, valid");

        /* Every source in turn, each giving what the stronger ones left. */
        start(&o, "quiet splash");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=2");
        add(&o, SOURCE_SMBIOS, "rd.scratch.lun=3 rd.scratch.timeout=4");
        add(&o, SOURCE_VPORT, "rd.scratch.timeout=9 rd.scratch.fallback=none");
        add(&o, SOURCE_CONFIG,
            "rd.scratch.lun=5 rd.scratch.fallback=fail rd.scratch.tmpfs.size=1G rd.scratch.force\n");
        check(o.active && !o.invalid && !o.disabled, "five sources: active and valid");
        check(o.have_lun && o.lun.lun == 2, "five sources: lun 2 from fw_cfg");
        check_src(o.from[OPT_LUN], SOURCE_FWCFG, "five sources: from[lun]");
        check_int(o.timeout_ms, 4000, "five sources: timeout 4 s from smbios");
        check_src(o.from[OPT_TIMEOUT], SOURCE_SMBIOS, "five sources: from[timeout]");
        check_int(o.fallback, FALLBACK_NONE, "five sources: fallback none from the virtio port");
        check_src(o.from[OPT_FALLBACK], SOURCE_VPORT, "five sources: from[fallback]");
        check_u64(o.tmpfs_size.bytes, UINT64_C(1) << 30, "five sources: tmpfs 1 GiB from config");
        check_int(o.tmpfs_size.percent, 0, "five sources: tmpfs size is bytes, not a percentage");
        check_src(o.from[OPT_TMPFS_SIZE], SOURCE_CONFIG, "five sources: from[tmpfs size]");
        check(o.force, "five sources: force from config");
        check_src(o.from[OPT_FORCE], SOURCE_CONFIG, "five sources: from[force]");
        check(!o.have_serial, "five sources: no serial");
        check_src(o.from[OPT_SERIAL], SOURCE_DEFAULT, "five sources: from[serial] default");
        check_src(o.from[OPT_ENABLE], SOURCE_DEFAULT, "five sources: from[enable] default");
        check_int(o.n_problems, 0, "five sources: no problems");

        start(&o, "");
        add(&o, SOURCE_SMBIOS, "rd.scratch.serial=QM00005 rd.scratch.tmpfs.size=10%");
        check(o.have_serial && strcmp(o.serial, "QM00005") == 0, "smbios serial: taken");
        check_src(o.from[OPT_SERIAL], SOURCE_SMBIOS, "smbios serial: from smbios");
        check_int(o.tmpfs_size.percent, 10, "smbios tmpfs.size=10%%: 10 percent");
        check(o.active, "smbios serial alone: active");

        start(&o, "rd.scratch.serial=ABC");
        add(&o, SOURCE_FWCFG, "rd.scratch.serial=DEF rd.scratch.force=0");
        check_str(o.serial, "ABC", "cmdline serial ABC, fw_cfg DEF: ABC");
        check(!o.force && (o.set & (1u << OPT_FORCE)), "fw_cfg force=0: set, off");

        start(&o, "rd.scratch.force=no");
        add(&o, SOURCE_CONFIG, "rd.scratch.force");
        check(!o.force, "cmdline force=no, config force: off");

        /* Nothing from anywhere: not active. */
        start(&o, "quiet");
        add(&o, SOURCE_FWCFG, "");
        add(&o, SOURCE_SMBIOS, "rd.scratchy=1 scratch.lun=1");
        add(&o, SOURCE_CONFIG, "# rd.scratch.lun=1\n");
        check(!o.active && !o.invalid && o.set == 0, "no rd.scratch option anywhere: not active, nothing set");
        check_int(o.n_problems, 0, "no rd.scratch option anywhere: no problems");
}

/* ---- bad values ------------------------------------------------------------ */

static void test_bad_values(void) {
        struct options o;

        /* A bad value in the stronger source stands: the weaker one cannot
         * stand in for what the stronger one meant. */
        start(&o, "rd.scratch.lun=abc");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=2");
        check(o.invalid, "cmdline lun=abc, fw_cfg lun=2: invalid");
        check(!o.have_lun, "cmdline lun=abc, fw_cfg lun=2: no lun taken");
        check_src(o.from[OPT_LUN], SOURCE_CMDLINE, "cmdline lun=abc, fw_cfg lun=2: from cmdline");
        check_str(reason(&o), "rd.scratch.lun='abc': malformed value",
                  "cmdline lun=abc, fw_cfg lun=2: the reason quotes the cmdline's value");
        check_int(o.n_problems, 1, "cmdline lun=abc, fw_cfg lun=2: one problem");

        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch.timeout=99999");
        add(&o, SOURCE_SMBIOS, "rd.scratch.timeout=2");
        check(o.invalid, "fw_cfg timeout out of range, smbios timeout=2: invalid");
        check_int(o.timeout_ms, OPTIONS_DEFAULT_TIMEOUT_MS, "fw_cfg timeout out of range: default timeout kept");
        check_str(reason(&o), "rd.scratch.timeout='99999': value out of range (from fw_cfg)",
                  "fw_cfg timeout out of range: the reason names fw_cfg's value");

        /* A bad value in a weaker source for an option a stronger one set
         * does not matter. */
        start(&o, "rd.scratch.lun=1");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=xyz rd.scratch.timeout=5");
        check(!o.invalid, "cmdline lun=1, fw_cfg lun=xyz: valid");
        check(o.have_lun && o.lun.lun == 1, "cmdline lun=1, fw_cfg lun=xyz: lun 1");
        check_int(o.timeout_ms, 5000, "cmdline lun=1, fw_cfg lun=xyz timeout=5: timeout from fw_cfg");
        check_int(o.n_problems, 0, "cmdline lun=1, fw_cfg lun=xyz: not reported");
        check_int(o.bad, 0, "cmdline lun=1, fw_cfg lun=xyz: nothing bad");
        if (o.n_problems)
                show_problems(&o);

        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch.fallback=none");
        add(&o, SOURCE_SMBIOS, "rd.scratch.fallback=sometimes");
        add(&o, SOURCE_CONFIG, "rd.scratch.fallback=");
        check(!o.invalid && o.fallback == FALLBACK_NONE && o.n_problems == 0,
              "fw_cfg fallback=none over bad smbios and config values: none, valid, nothing reported");

        /* A bad value for an option no stronger source set is reported,
         * naming its source, and makes the options invalid. */
        start(&o, "rd.scratch.lun=1");
        add(&o, SOURCE_VPORT, "rd.scratch.timeout=abc");
        check(o.invalid, "vport timeout=abc: invalid");
        check_int(o.n_problems, 1, "vport timeout=abc: one problem");
        check_str(reason(&o), "rd.scratch.timeout='abc': malformed value (from virtio-port)",
                  "vport timeout=abc: the reason, from virtio-port");
        check_int(o.timeout_ms, OPTIONS_DEFAULT_TIMEOUT_MS, "vport timeout=abc: timeout stays the default");
        check_src(o.from[OPT_TIMEOUT], SOURCE_VPORT, "vport timeout=abc: from virtio-port");

        /* A warning first, then the bad value: first_invalid skips the warning. */
        start(&o, "rd.scratch.bogus rd.scratch.lun=1");
        add(&o, SOURCE_CONFIG, "rd.scratch.tmpfs.size=1");
        check(o.invalid, "cmdline warning, config size=1: invalid");
        check_int(o.n_problems, 2, "cmdline warning, config size=1: two problems");
        check_int(o.first_invalid, 1, "cmdline warning, config size=1: first_invalid is the second");
        check_str(reason(&o), "rd.scratch.tmpfs.size='1': value out of range (from config)",
                  "cmdline warning, config size=1: the reason");
        check_str(o.problems[0], "unknown option rd.scratch.bogus, ignored", "cmdline warning: as it is");

        /* Unknown options of a weaker source are warnings, kept even when
         * the rest of it is overridden. */
        start(&o, "rd.scratch.lun=1");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=2 rd.scratch.bogus=1");
        check(!o.invalid, "fw_cfg unknown option: still valid");
        check_int(o.n_problems, 1, "fw_cfg unknown option: one warning");
        check_str(o.problems[0], "unknown option rd.scratch.bogus, ignored (from fw_cfg)",
                  "fw_cfg unknown option: names fw_cfg");
        check_int(o.problem_opt[0], -1, "fw_cfg unknown option: a warning, not a bad option");

        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch=maybe");
        check(o.invalid, "fw_cfg rd.scratch=maybe: invalid");
        check_str(reason(&o), "rd.scratch='maybe': malformed value (from fw_cfg)", "fw_cfg rd.scratch=maybe: reason");

        /* The problems array is full of warnings when a bad value comes:
         * the reason must still be the bad value. */
        start(&o, "rd.scratch.a rd.scratch.b rd.scratch.c rd.scratch.d rd.scratch.e rd.scratch.f rd.scratch.g "
                  "rd.scratch.h rd.scratch.lun=1");
        check_int(o.n_problems, OPTIONS_MAX_PROBLEMS, "eight unknown options: eight warnings");
        add(&o, SOURCE_FWCFG, "rd.scratch.timeout=abc");
        check(o.invalid, "eight warnings, then fw_cfg timeout=abc: invalid");
        check(o.first_invalid < o.n_problems && o.problem_opt[o.first_invalid] == OPT_TIMEOUT,
              "eight warnings, then fw_cfg timeout=abc: first_invalid points at the bad timeout");
        check_has(reason(&o), "rd.scratch.timeout='abc'",
                  "eight warnings, then fw_cfg timeout=abc: the reason names the bad value");
}

/* ---- refused sources ------------------------------------------------------- */

static void test_source_problem(void) {
        struct options o;

        start(&o, "rd.scratch.lun=1");
        add_refused(&o, SOURCE_SMBIOS, "refused: a byte that is not printable ASCII at offset 3");
        check(o.invalid, "cmdline lun=1, smbios refused: invalid");
        check(o.active, "cmdline lun=1, smbios refused: active (falls back)");
        check(o.have_lun && o.lun.lun == 1, "cmdline lun=1, smbios refused: lun still 1");
        check_int(o.n_problems, 1, "smbios refused: one problem");
        check_str(reason(&o), "options from smbios refused: a byte that is not printable ASCII at offset 3",
                  "smbios refused: the reason names smbios");
        check_int(o.problem_opt[o.first_invalid], _OPT_MAX, "smbios refused: the problem is the whole source");

        start(&o, "quiet");
        add_refused(&o, SOURCE_FWCFG, "unreadable: Input/output error");
        check(o.invalid && o.active, "no options anywhere, fw_cfg unreadable: invalid and active");
        check_str(reason(&o), "options from fw_cfg unreadable: Input/output error", "fw_cfg unreadable: reason");

        /* Straight on the options, without a merge. */
        options_init(&o);
        options_source_problem(&o, SOURCE_CONFIG, "unreadable: Permission denied");
        check(o.invalid && o.active, "source problem on its own: invalid and active");
        check_str(reason(&o), "options from config unreadable: Permission denied", "source problem on its own: reason");

        /* A later good source does not clear it. */
        start(&o, "");
        add_refused(&o, SOURCE_VPORT, "unreadable: No such device");
        add(&o, SOURCE_CONFIG, "rd.scratch.lun=1");
        check(o.invalid, "vport refused, config lun=1: still invalid");
        check(o.have_lun && o.lun.lun == 1, "vport refused, config lun=1: lun from config");
        check_str(reason(&o), "options from virtio-port unreadable: No such device",
                  "vport refused, config lun=1: the reason is the port");

        /* A refused source after a bad value: the bad value stays first. */
        start(&o, "rd.scratch.lun=x");
        add_refused(&o, SOURCE_SMBIOS, "refused");
        check_int(o.n_problems, 2, "cmdline lun=x, smbios refused: two problems");
        check_str(reason(&o), "rd.scratch.lun='x': malformed value", "cmdline lun=x, smbios refused: reason is lun");
}

/* ---- rd.scratch=0 ---------------------------------------------------------- */

/* rd.scratch is an option of its own: a weaker rd.scratch=0 applies unless
 * a stronger source set rd.scratch, whatever else the stronger one set. */
static void test_disable(void) {
        struct options o;

        start(&o, "rd.scratch.lun=1");
        add(&o, SOURCE_FWCFG, "rd.scratch=0");
        check(o.disabled, "cmdline lun=1, fw_cfg rd.scratch=0: disabled");
        check(!o.active, "cmdline lun=1, fw_cfg rd.scratch=0: not active");
        check_src(o.from[OPT_ENABLE], SOURCE_FWCFG, "cmdline lun=1, fw_cfg rd.scratch=0: from fw_cfg");
        check(!o.invalid, "cmdline lun=1, fw_cfg rd.scratch=0: not invalid");

        start(&o, "rd.scratch rd.scratch.lun=1");
        add(&o, SOURCE_FWCFG, "rd.scratch=0");
        check(!o.disabled && o.active, "cmdline rd.scratch rd.scratch.lun=1, fw_cfg rd.scratch=0: enabled");
        check_src(o.from[OPT_ENABLE], SOURCE_CMDLINE, "cmdline rd.scratch: from cmdline");

        start(&o, "rd.scratch=1 rd.scratch.lun=1");
        add(&o, SOURCE_CONFIG, "rd.scratch=off");
        check(!o.disabled && o.active, "cmdline rd.scratch=1, config rd.scratch=off: enabled");

        start(&o, "rd.scratch=0");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=1");
        check(o.disabled && !o.active, "cmdline rd.scratch=0, fw_cfg lun=1: disabled");
        check(o.have_lun, "cmdline rd.scratch=0, fw_cfg lun=1: lun still merged");

        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch=0");
        add(&o, SOURCE_SMBIOS, "rd.scratch=1 rd.scratch.lun=2");
        check(o.disabled && !o.active, "fw_cfg rd.scratch=0, smbios rd.scratch=1: disabled (fw_cfg is stronger)");

        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch=1 rd.scratch.lun=2");
        add(&o, SOURCE_CONFIG, "rd.scratch=0");
        check(!o.disabled && o.active, "fw_cfg rd.scratch=1, config rd.scratch=0: enabled");

        start(&o, "");
        add(&o, SOURCE_SMBIOS, "rd.scratch.lun=2");
        add(&o, SOURCE_CONFIG, "rd.scratch=0");
        check(o.disabled && !o.active, "smbios lun=2, config rd.scratch=0: disabled");

        start(&o, "");
        add(&o, SOURCE_VPORT, "rd.scratch");
        check(o.active && !o.disabled, "vport bare rd.scratch: active");
}

/* ---- options_disk_source ---------------------------------------------------- */

static void test_disk_source(void) {
        struct options o;

        start(&o, "");
        check_src(options_disk_source(&o), SOURCE_DEFAULT, "nothing set: default");

        /* No disk selected, a source refused whole: that source is where
         * the options came from. */
        {
                struct options w;

                start(&o, "");
                options_init(&w);
                options_source_problem(&w, SOURCE_SMBIOS, "refused");
                options_merge(&o, &w);
                options_init(&w);
                options_source_problem(&w, SOURCE_FWCFG, "refused");
                options_merge(&o, &w);
                check_src(options_disk_source(&o), SOURCE_FWCFG, "fw_cfg and smbios refused: fw_cfg, the stronger");
                add(&o, SOURCE_CONFIG, "rd.scratch.lun=1");
                check_src(options_disk_source(&o), SOURCE_CONFIG, "a lun beside a refused source: the lun's source");
        }

        start(&o, "rd.scratch.timeout=1");
        add(&o, SOURCE_SMBIOS, "rd.scratch.lun=1");
        check_src(options_disk_source(&o), SOURCE_SMBIOS, "lun from smbios: smbios");

        start(&o, "");
        add(&o, SOURCE_CONFIG, "rd.scratch.serial=S1");
        check_src(options_disk_source(&o), SOURCE_CONFIG, "serial from config: config");

        start(&o, "rd.scratch.lun=0:0:0:1");
        add(&o, SOURCE_FWCFG, "rd.scratch.serial=S1");
        check_src(options_disk_source(&o), SOURCE_CMDLINE, "lun from cmdline, serial from fw_cfg: cmdline");

        start(&o, "");
        add(&o, SOURCE_VPORT, "rd.scratch.serial=S1");
        add(&o, SOURCE_CONFIG, "rd.scratch.lun=3");
        check_src(options_disk_source(&o), SOURCE_CONFIG, "serial from vport, lun from config: the lun's source");

        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=bad");
        check_src(options_disk_source(&o), SOURCE_FWCFG, "bad lun from fw_cfg: fw_cfg (it was set)");
}

/* ---- problem texts per source ----------------------------------------------- */

static void test_problem_texts(void) {
        static const struct {
                enum source src;
                const char *text, *problem;
        } cases[] = {
                { SOURCE_CMDLINE, "rd.scratch.lun=abc", "rd.scratch.lun='abc': malformed value" },
                { SOURCE_FWCFG, "rd.scratch.lun=abc", "rd.scratch.lun='abc': malformed value (from fw_cfg)" },
                { SOURCE_SMBIOS, "rd.scratch.timeout=601", "rd.scratch.timeout='601': value out of range (from smbios)" },
                { SOURCE_VPORT, "rd.scratch.fallback=x", "rd.scratch.fallback='x': malformed value (from virtio-port)" },
                { SOURCE_CONFIG, "rd.scratch.serial=a'b", "rd.scratch.serial='a'b': malformed value (from config)" },
                { SOURCE_SMBIOS, "rd.scratch.bogus", "unknown option rd.scratch.bogus, ignored (from smbios)" },
                { SOURCE_CONFIG, "rd.scratch.lun", "rd.scratch.lun='': malformed value (from config)" },
        };

        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct options o;

                start(&o, "");
                if (cases[i].src == SOURCE_CMDLINE)
                        options_parse_source(&o, cases[i].text, SOURCE_CMDLINE);
                else
                        add(&o, cases[i].src, cases[i].text);
                check_int(o.n_problems, 1, "%s from %s: one problem", cases[i].text, src_name(cases[i].src));
                check_str(o.n_problems ? o.problems[0] : "", cases[i].problem, "%s from %s: the text", cases[i].text,
                          src_name(cases[i].src));
        }

        {
                char text[400];
                struct options o;

                memcpy(text, "rd.scratch.serial=", 18);
                memset(text + 18, 'S', 300);
                text[318] = '\0';
                start(&o, "");
                add(&o, SOURCE_CONFIG, text);
                check(o.invalid && !o.have_serial, "config serial of 300 bytes: invalid");
                check_str(o.problems[0],
                          "rd.scratch.serial: value longer than 256 bytes (starts "
                          "'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS'), not used (from config)",
                          "config serial of 300 bytes: the text");
        }
}

/* ---- syntax of each source -------------------------------------------------- */

static void test_syntax(void) {
        struct options o;

        start(&o, "");
        add(&o, SOURCE_CONFIG,
            "# scratch disk for CI runners rd.scratch.lun=9\n"
            "rd.scratch.lun=2 # rd.scratch.timeout=9\n"
            "   #rd.scratch.fallback=fail\n"
            "\trd.scratch.force\n"
            "#\n"
            "rd.scratch.tmpfs.size=2G # last");
        check(o.have_lun && o.lun.lun == 2, "config with comments: lun 2");
        check_int(o.timeout_ms, OPTIONS_DEFAULT_TIMEOUT_MS, "config: a comment after a value hides the rest of the line");
        check_int(o.fallback, FALLBACK_TMPFS, "config: an indented comment line");
        check(o.force, "config: the line after comments is read");
        check_u64(o.tmpfs_size.bytes, UINT64_C(2) << 30, "config: last line with a comment and no newline");
        check(!o.invalid && o.n_problems == 0, "config with comments: no problems");
        if (o.n_problems)
                show_problems(&o);

        start(&o, "");
        add(&o, SOURCE_CONFIG, "rd.scratch.lun=3\r\nrd.scratch.timeout=1.5\r\n");
        check(o.have_lun && o.lun.lun == 3 && o.timeout_ms == 1500 && o.n_problems == 0,
              "config with CRLF lines: lun 3, timeout 1.5 s");

        start(&o, "");
        add(&o, SOURCE_CONFIG, "#rd.scratch.lun=4");
        check(!o.active && !o.have_lun, "config: '#rd.scratch.lun=4' is a comment");

        /* '#' is a comment only in the config file. */
        start(&o, "");
        add(&o, SOURCE_FWCFG, "# rd.scratch.lun=4");
        check(o.have_lun && o.lun.lun == 4 && o.n_problems == 0, "fw_cfg: '#' is no comment, lun 4 taken");
        start(&o, "");
        add(&o, SOURCE_SMBIOS, "rd.scratch.lun=4 # rd.scratch.timeout=7");
        check_int(o.timeout_ms, 7000, "smbios: '#' is no comment, timeout 7 taken");
        start(&o, "# rd.scratch.lun=4");
        check(o.have_lun && o.lun.lun == 4, "cmdline: '#' is no comment");

        /* Newlines and tabs separate in every source. */
        start(&o, "");
        add(&o, SOURCE_VPORT, "rd.scratch.lun=1\nrd.scratch.timeout=2\trd.scratch.fallback=fail\r");
        check(o.have_lun && o.timeout_ms == 2000 && o.fallback == FALLBACK_FAIL && o.n_problems == 0,
              "vport: newline, tab and CR separate");
        start(&o, "");
        add(&o, SOURCE_FWCFG, "rd.scratch.lun=1\n\nrd.scratch.serial=\"S9\"\n");
        check(o.have_lun && o.have_serial && strcmp(o.serial, "S9") == 0, "fw_cfg: blank lines, quoted value");

        /* "--" ends the kernel's parameters: only on the command line. */
        start(&o, "rd.scratch.lun=1 -- rd.scratch.timeout=5");
        check_int(o.timeout_ms, OPTIONS_DEFAULT_TIMEOUT_MS, "cmdline: nothing after -- is read");
        {
                static const enum source others[] = { SOURCE_FWCFG, SOURCE_SMBIOS, SOURCE_VPORT, SOURCE_CONFIG };

                for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                        start(&o, "");
                        add(&o, others[i], "rd.scratch.lun=1 -- rd.scratch.timeout=5");
                        check(o.timeout_ms == 5000 && o.have_lun && o.n_problems == 0,
                              "%s: -- is just a word, timeout after it read", src_name(others[i]));
                }
        }

        /* The last occurrence within a source wins, as on the command line. */
        start(&o, "");
        add(&o, SOURCE_CONFIG, "rd.scratch.lun=bad\nrd.scratch.lun=7\n");
        check(o.have_lun && o.lun.lun == 7 && !o.invalid && o.n_problems == 0,
              "config: lun=bad then lun=7: 7, nothing reported");
}

/* ---- lists, globs and the cloud ---------------------------------------- */

static void test_lists(void) {
        char cmd[512];
        struct options o;

        parse(&o, "rd.scratch.lun=1,0:0:0:2,3");
        check(!o.invalid && o.n_luns == 3, "lun list of 3: taken");
        check(o.have_lun && o.lun.lun == 1 && o.lun.lun_only, "lun list: lun is the first");
        check(o.luns[1].lun == 2 && !o.luns[1].lun_only && o.luns[2].lun == 3 && o.luns[2].lun_only,
              "lun list: the others in order");
        /* A bare LUN and a full address may name the same disk: that is
         * found out when the disks are, not here. */
        parse(&o, "rd.scratch.lun=1,0:0:0:1");
        check(!o.invalid && o.n_luns == 2, "lun 1 and 0:0:0:1: two members");

        strcpy(cmd, "rd.scratch.lun=0");
        for (unsigned i = 1; i < OPTIONS_MAX_DISKS; i++)
                (void) snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), ",%u", i);
        parse(&o, cmd);
        check(!o.invalid && o.n_luns == OPTIONS_MAX_DISKS, "lun list of 32: taken");
        check(o.luns[31].lun == 31, "lun list of 32: the last");

        parse(&o, "rd.scratch.serial=AA,BB,CC");
        check(!o.invalid && o.n_serials == 3, "serial list of 3: taken");
        check_str(o.serial, "AA", "serial list: serial is the first");
        check(strcmp(o.serials[1], "BB") == 0 && strcmp(o.serials[2], "CC") == 0, "serial list: in order");

        strcpy(cmd, "rd.scratch.serial=s0");
        for (unsigned i = 1; i <= OPTIONS_MAX_DISKS; i++)
                (void) snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), ",s%u", i);
        parse(&o, cmd);
        check(o.invalid && !o.have_serial && o.n_serials == 0, "serial list of 33: invalid, none taken");
        check_has(o.problems[0], "rd.scratch.serial", "serial list of 33: names the option");
        check_has(o.problems[0], "out of range", "serial list of 33: out of range");

        {
                static const char *const bad[] = {
                        "rd.scratch.serial=AA,,BB", "rd.scratch.serial=AA,", "rd.scratch.serial=,AA",
                        "rd.scratch.serial=AA,AA", "rd.scratch.serial=AA,\"B B\"", "rd.scratch.serial=AA,B'B",
                };

                for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                        parse(&o, bad[i]);
                        check(o.invalid && !o.have_serial && o.n_serials == 0, "%s: invalid, none taken", bad[i]);
                        check_has(o.problems[0], "rd.scratch.serial=", "%s: names the option", bad[i]);
                        check_has(o.problems[0], "malformed", "%s: malformed", bad[i]);
                }
        }

        /* A weaker source's list is taken whole. */
        options_init(&o);
        options_parse_cmdline(&o, "rd.scratch.timeout=1");
        {
                struct options w;

                options_init(&w);
                options_parse_source(&w, "rd.scratch.serial=X1,X2 rd.scratch.lun=4,5", SOURCE_CONFIG);
                options_merge(&o, &w);
        }
        check(o.n_serials == 2 && strcmp(o.serials[1], "X2") == 0 && strcmp(o.serial, "X1") == 0,
              "merge: the serial list of config");
        check(o.n_luns == 2 && o.luns[1].lun == 5 && o.lun.lun == 4, "merge: the lun list of config");

        /* The flags of run and mount take lists too. */
        options_init(&o);
        check_int(options_set_flag(&o, OPT_SERIAL, "F1,F2"), 0, "--serial F1,F2: taken");
        check(o.n_serials == 2, "--serial F1,F2: two");
        check_int(options_set_flag(&o, OPT_LUN, "1,1"), -EINVAL, "--lun 1,1: refused");
}

static void test_globs(void) {
        static const struct {
                const char *cmdline, *model, *vendor;
        } good[] = {
                { "rd.scratch.model=\"Amazon EC2 NVMe Instance Storage\"", "Amazon EC2 NVMe Instance Storage", "" },
                { "rd.scratch.model=nvme_card", "nvme_card", "" },
                { "rd.scratch.model=\"Microsoft NVMe Direct Disk*\"", "Microsoft NVMe Direct Disk*", "" },
                { "rd.scratch.vendor=Msft rd.scratch.model=Virtual?Disk", "Virtual?Disk", "Msft" },
                { "rd.scratch.model=[Qq]EMU*", "[Qq]EMU*", "" },
                { "rd.scratch.vendor=*", "", "*" },
        };
        static const struct {
                const char *cmdline, *opt, *kind;
        } bad[] = {
                { "rd.scratch.model=", "rd.scratch.model=''", "malformed" },
                { "rd.scratch.model", "rd.scratch.model=''", "malformed" },
                { "rd.scratch.vendor=", "rd.scratch.vendor=''", "malformed" },
                { "rd.scratch.model=\"a\tb\"", "rd.scratch.model=", "malformed" },
                { "rd.scratch.vendor=\xc3\xa9", "rd.scratch.vendor=", "malformed" },
                { "rd.scratch.model=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                  "rd.scratch.model=", "out of range" },
        };
        struct options o;

        for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                parse(&o, good[i].cmdline);
                check(!o.invalid && o.active, "%s: taken", good[i].cmdline);
                check_str(o.model, good[i].model, "%s: model glob", good[i].cmdline);
                check_str(o.vendor, good[i].vendor, "%s: vendor glob", good[i].cmdline);
                check(options_select_disks(&o), "%s: selects disks", good[i].cmdline);
        }
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                parse(&o, bad[i].cmdline);
                check(o.invalid && o.active, "bad glob %u: invalid, falls back", i);
                check(!o.model[0] && !o.vendor[0], "bad glob %u: nothing taken", i);
                check_has(o.problems[0], bad[i].opt, "bad glob %u: names the option", i);
                check_has(o.problems[0], bad[i].kind, "bad glob %u: %s", i, bad[i].kind);
        }
        options_init(&o);
        check_int(options_set_flag(&o, OPT_MODEL, "QEMU NVMe Ctrl"), 0, "--model with blanks: taken");
        check_str(o.model, "QEMU NVMe Ctrl", "--model: the glob");
        check_int(options_set_flag(&o, OPT_VENDOR, ""), -EINVAL, "--vendor '': refused");
        check_str(option_flag(OPT_MODEL), "--model", "flag --model");
        check_str(option_flag(OPT_VENDOR), "--vendor", "flag --vendor");
        check_str(option_flag(OPT_CLOUD), "--cloud", "flag --cloud");
        check_str(option_name(OPT_CLOUD), "rd.scratch.cloud", "name rd.scratch.cloud");
}

static void test_cloud(void) {
        static const struct {
                const char *value;
                enum cloud want;
        } good[] = {
                { "auto", CLOUD_AUTO }, { "azure", CLOUD_AZURE }, { "aws", CLOUD_AWS }, { "gcp", CLOUD_GCP },
                { "0", CLOUD_NONE }, { "none", CLOUD_NONE }, { "off", CLOUD_NONE }, { "no", CLOUD_NONE },
        };
        static const char *const bad[] = { "", "1", "yes", "Azure", "AWS", "ec2", "google", "auto,aws", " aws" };
        struct options o;
        char cmd[128];

        for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.cloud=%s", good[i].value);
                parse(&o, cmd);
                check(!o.invalid && o.active, "%s: taken", cmd);
                check_int(o.cloud, good[i].want, "%s: %s", cmd, cloud_to_string(good[i].want));
                check(options_select_disks(&o) == (good[i].want != CLOUD_NONE), "%s: %s disks", cmd,
                      good[i].want != CLOUD_NONE ? "selects" : "selects no");
        }
        for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                (void) snprintf(cmd, sizeof(cmd), "rd.scratch.cloud=\"%s\"", bad[i]);
                parse(&o, cmd);
                check(o.invalid && o.cloud == CLOUD_NONE, "%s: invalid, no cloud", cmd);
                check_has(o.problems[0], "rd.scratch.cloud=", "%s: names the option", cmd);
                check_has(o.problems[0], "malformed", "%s: malformed", cmd);
        }
        parse(&o, "rd.scratch.lun=2");
        check_str(cloud_to_string(o.cloud), "none", "no rd.scratch.cloud: none");

        /* The source of the selection: the first of lun, serial, model,
         * vendor, cloud that is set. */
        options_init(&o);
        options_parse_source(&o, "rd.scratch.cloud=auto", SOURCE_SMBIOS);
        check_int(options_disk_source(&o), SOURCE_SMBIOS, "cloud from smbios: the disk's source");
        options_init(&o);
        options_parse_source(&o, "rd.scratch.model=x*", SOURCE_FWCFG);
        check_int(options_disk_source(&o), SOURCE_FWCFG, "model from fw_cfg: the disk's source");

        /* Merged from a weaker source. */
        parse(&o, "rd.scratch.timeout=1");
        {
                struct options w;

                options_init(&w);
                options_parse_source(&w, "rd.scratch.cloud=gcp rd.scratch.model=nvme* rd.scratch.vendor=V", SOURCE_CONFIG);
                options_merge(&o, &w);
        }
        check(o.cloud == CLOUD_GCP && strcmp(o.model, "nvme*") == 0 && strcmp(o.vendor, "V") == 0,
              "merge: cloud, model and vendor of config");
}

int main(void) {
        test_defaults();
        test_lists();
        test_globs();
        test_cloud();
        test_lun_malformed();
        test_lun_overlong_token();
        test_lun_valid();
        test_last_wins_and_quoting();
        test_enable();
        test_timeout();
        test_size();
        test_fallback();
        test_bool_and_force();
        test_discard();
        test_encrypt_swap();
        test_parse_hctl();
        test_precedence();
        test_bad_values();
        test_source_problem();
        test_disable();
        test_disk_source();
        test_problem_texts();
        test_syntax();
        return tap_done();
}
