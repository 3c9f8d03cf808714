/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Options from several sources: each option from the strongest source that
 * sets it (command line, fw_cfg, SMBIOS, virtio port, config file), bad
 * values and refused sources, and the text syntax of each source. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "tap.h"

static void show_problems(const struct options *o) {
        for (unsigned i = 0; i < o->n_problems && i < OPTIONS_MAX_PROBLEMS; i++)
                tap_diag("problem %u (option %d): %s", i, o->problem_opt[i], o->problems[i]);
}

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

int main(void) {
        test_precedence();
        test_bad_values();
        test_source_problem();
        test_disable();
        test_disk_source();
        test_problem_texts();
        test_syntax();
        return tap_done();
}
