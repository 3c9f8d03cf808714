/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Option text from every source, and the merge of two sources.
 *
 * The input is parsed as the text of each source in turn. Then it is cut in
 * two (at the first 0x01 byte, else in the middle): the first part as the
 * command line, the second as the source its first byte selects, merged
 * under the command line. Each result must be consistent with itself and
 * the merge must keep what the stronger source set. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "options.h"

static bool serial_ok(const char *s) {
        size_t len = strnlen(s, OPTIONS_MAX_SERIAL + 1);

        if (len == 0 || len > OPTIONS_MAX_SERIAL)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\'' || s[i] == '\\')
                        return false;
        return true;
}

/* room: no problem was dropped for want of space on the way here. */
static void consistent(const struct options *o, const char *what, bool room) {
        unsigned all = (1u << (_OPT_MAX + 1)) - 1;
        bool bad_problem = false;

        FUZZ_ASSERT(o->n_problems <= OPTIONS_MAX_PROBLEMS, "%s: n_problems %u", what, o->n_problems);
        FUZZ_ASSERT((o->set & ~all) == 0 && (o->bad & ~all) == 0, "%s: set %x bad %x", what, o->set, o->bad);
        FUZZ_ASSERT((o->bad & ~o->set) == 0, "%s: bad %x not within set %x", what, o->bad, o->set);
        FUZZ_ASSERT(o->invalid == ((o->bad & o->set) != 0), "%s: invalid %d, bad %x", what, o->invalid, o->bad);
        FUZZ_ASSERT(!(o->disabled && o->active), "%s: disabled and active", what);
        if (o->set & ~(1u << OPT_ENABLE))
                FUZZ_ASSERT(o->active || o->disabled, "%s: options set %x but neither active nor disabled", what,
                            o->set);

        for (unsigned i = 0; i < o->n_problems; i++) {
                size_t len = strnlen(o->problems[i], sizeof(o->problems[i]));

                FUZZ_ASSERT(len < sizeof(o->problems[i]), "%s: problem %u not terminated", what, i);
                FUZZ_ASSERT(len > 0, "%s: problem %u empty", what, i);
                FUZZ_ASSERT(o->problem_opt[i] >= -1 && o->problem_opt[i] <= _OPT_MAX, "%s: problem_opt %d", what,
                            o->problem_opt[i]);
                if (o->problem_opt[i] >= 0 && (o->bad & (1u << o->problem_opt[i])))
                        bad_problem = true;
        }
        /* While there is room, every bad value is told: the reason for not
         * using a disk is the first of them. */
        if (o->invalid && room && o->n_problems < OPTIONS_MAX_PROBLEMS) {
                FUZZ_ASSERT(bad_problem, "%s: invalid without a problem for it", what);
                FUZZ_ASSERT(o->first_invalid < o->n_problems, "%s: first_invalid %u of %u", what, o->first_invalid,
                            o->n_problems);
                FUZZ_ASSERT(o->problem_opt[o->first_invalid] >= 0 &&
                                    (o->bad & (1u << o->problem_opt[o->first_invalid])),
                            "%s: first_invalid %u is not a bad value", what, o->first_invalid);
        }

        for (int i = 0; i < _OPT_MAX; i++) {
                FUZZ_ASSERT(o->from[i] >= SOURCE_CMDLINE && o->from[i] <= SOURCE_DEFAULT, "%s: from[%d] %d", what, i,
                            o->from[i]);
                if (!(o->set & (1u << i)))
                        FUZZ_ASSERT(o->from[i] == SOURCE_DEFAULT, "%s: option %d not set, from %d", what, i,
                                    o->from[i]);
                else
                        FUZZ_ASSERT(o->from[i] != SOURCE_DEFAULT, "%s: option %d set from default", what, i);
        }

        FUZZ_ASSERT(!o->have_lun || ((o->set & (1u << OPT_LUN)) && !(o->bad & (1u << OPT_LUN))),
                    "%s: have_lun without a good lun", what);
        FUZZ_ASSERT(!o->have_serial || ((o->set & (1u << OPT_SERIAL)) && !(o->bad & (1u << OPT_SERIAL))),
                    "%s: have_serial without a good serial", what);
        if (o->have_serial)
                FUZZ_ASSERT(serial_ok(o->serial), "%s: serial '%s' taken", what, o->serial);
        /* The lists: lun and serial are their first members, each member
         * is good, none is repeated or holds the separator. */
        FUZZ_ASSERT(o->n_luns <= OPTIONS_MAX_DISKS && o->have_lun == (o->n_luns > 0), "%s: %u luns, have_lun %d",
                    what, o->n_luns, o->have_lun);
        FUZZ_ASSERT(o->n_serials <= OPTIONS_MAX_DISKS && o->have_serial == (o->n_serials > 0),
                    "%s: %u serials, have_serial %d", what, o->n_serials, o->have_serial);
        if (o->have_lun)
                FUZZ_ASSERT(!memcmp(&o->lun, &o->luns[0], sizeof(o->lun)), "%s: lun is not luns[0]", what);
        if (o->have_serial)
                FUZZ_ASSERT(!strcmp(o->serial, o->serials[0]), "%s: serial is not serials[0]", what);
        for (unsigned i = 0; i < o->n_serials && i < OPTIONS_MAX_DISKS; i++) {
                FUZZ_ASSERT(serial_ok(o->serials[i]) && !strchr(o->serials[i], ','), "%s: serial %u '%s' taken", what,
                            i, o->serials[i]);
                for (unsigned k = 0; k < i; k++)
                        FUZZ_ASSERT(strcmp(o->serials[k], o->serials[i]) != 0, "%s: serial %s twice", what,
                                    o->serials[i]);
        }
        for (const char *g = o->model; *g; g++)
                FUZZ_ASSERT(*g >= ' ' && *g <= '~', "%s: model glob byte %#x", what, (unsigned char) *g);
        for (const char *g = o->vendor; *g; g++)
                FUZZ_ASSERT(*g >= ' ' && *g <= '~', "%s: vendor glob byte %#x", what, (unsigned char) *g);
        FUZZ_ASSERT(!o->model[0] || (o->set & (1u << OPT_MODEL)), "%s: a model glob without rd.scratch.model", what);
        FUZZ_ASSERT(!o->vendor[0] || (o->set & (1u << OPT_VENDOR)), "%s: a vendor glob without rd.scratch.vendor",
                    what);
        FUZZ_ASSERT(o->cloud < _CLOUD_MAX, "%s: cloud %d", what, o->cloud);
        if (o->have_lun) {
                char buf[80];
                struct hctl h;

                hctl_format(&o->lun, buf, sizeof(buf));
                FUZZ_ASSERT(parse_hctl(buf, &h) == 0 && h.lun == o->lun.lun && h.lun_only == o->lun.lun_only &&
                                    (h.lun_only || (h.host == o->lun.host && h.channel == o->lun.channel &&
                                                    h.target == o->lun.target)),
                            "%s: lun %s does not read back", what, buf);
        }
        FUZZ_ASSERT(o->timeout_ms <= OPTIONS_MAX_TIMEOUT_MS, "%s: timeout %u", what, o->timeout_ms);
        FUZZ_ASSERT(o->fallback == FALLBACK_TMPFS || o->fallback == FALLBACK_NONE || o->fallback == FALLBACK_FAIL,
                    "%s: fallback %d", what, o->fallback);
        FUZZ_ASSERT((o->tmpfs_size.percent >= 1 && o->tmpfs_size.percent <= 100 && o->tmpfs_size.bytes == 0) ||
                            (o->tmpfs_size.percent == 0 && o->tmpfs_size.bytes >= 4096),
                    "%s: tmpfs size %u%% %llu", what, o->tmpfs_size.percent,
                    (unsigned long long) o->tmpfs_size.bytes);
        FUZZ_ASSERT(options_disk_source(o) <= SOURCE_DEFAULT, "%s: disk source", what);
}

static void parse(struct options *o, const char *text, enum source src) {
        options_init(o);
        options_parse_source(o, text, src);
}

/* What strong holds for one option, to compare before and after a merge. */
static bool same_option(const struct options *a, const struct options *b, int i) {
        if (a->from[i] != b->from[i] || ((a->bad ^ b->bad) & (1u << i)))
                return false;
        switch (i) {
        case OPT_ENABLE: return a->disabled == b->disabled;
        case OPT_LUN:
                return a->have_lun == b->have_lun && a->n_luns == b->n_luns &&
                       !memcmp(a->luns, b->luns, a->n_luns * sizeof(a->luns[0])) &&
                       (!a->have_lun || (a->lun.lun == b->lun.lun && a->lun.lun_only == b->lun.lun_only &&
                                         a->lun.host == b->lun.host && a->lun.channel == b->lun.channel &&
                                         a->lun.target == b->lun.target));
        case OPT_SERIAL:
                return a->have_serial == b->have_serial && a->n_serials == b->n_serials &&
                       !memcmp(a->serials, b->serials, a->n_serials * sizeof(a->serials[0])) &&
                       (!a->have_serial || !strcmp(a->serial, b->serial));
        case OPT_TIMEOUT: return a->timeout_ms == b->timeout_ms;
        case OPT_FALLBACK: return a->fallback == b->fallback;
        case OPT_TMPFS_SIZE:
                return a->tmpfs_size.bytes == b->tmpfs_size.bytes && a->tmpfs_size.percent == b->tmpfs_size.percent;
        case OPT_FORCE: return a->force == b->force;
        case OPT_DISCARD: return a->discard == b->discard;
        case OPT_ENCRYPT: return a->encrypt == b->encrypt;
        case OPT_SWAP: return a->swap.bytes == b->swap.bytes && a->swap.percent == b->swap.percent;
        case OPT_MODEL: return !strcmp(a->model, b->model);
        case OPT_VENDOR: return !strcmp(a->vendor, b->vendor);
        case OPT_CLOUD: return a->cloud == b->cloud;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct options o, again, strong, before, weak;
        char *text, *cut;
        enum source src;

        if (size > 64 * 1024)
                return 0;
        text = fuzz_string(data, size);

        for (enum source s = SOURCE_CMDLINE; s < SOURCE_DEFAULT; s++) {
                parse(&o, text, s);
                consistent(&o, source_to_string(s), true);
                parse(&again, text, s);
                FUZZ_ASSERT(memcmp(&o, &again, sizeof(o)) == 0, "%s: parsing twice differs", source_to_string(s));
                for (unsigned i = 0; i < o.n_problems; i++)
                        if (s != SOURCE_CMDLINE && o.problem_opt[i] != _OPT_MAX)
                                FUZZ_ASSERT(strstr(o.problems[i], " (from ") != NULL,
                                            "%s: problem '%s' does not name its source", source_to_string(s),
                                            o.problems[i]);
        }

        /* Two sources merged. */
        src = (enum source) (SOURCE_FWCFG + (size ? data[0] % 4 : 0));
        cut = strchr(text, '\x01');
        if (!cut)
                cut = text + strlen(text) / 2;
        {
                char saved = *cut;

                *cut = '\0';
                parse(&strong, text, SOURCE_CMDLINE);
                *cut = saved;
        }
        parse(&weak, *cut ? cut + 1 : cut, src);
        if (size && data[size - 1] == 0x02)
                options_source_problem(&weak, src, "refused");
        before = strong;
        options_merge(&strong, &weak);
        consistent(&strong, "merged",
                   before.n_problems < OPTIONS_MAX_PROBLEMS && weak.n_problems < OPTIONS_MAX_PROBLEMS);

        for (int i = 0; i < _OPT_MAX; i++) {
                unsigned bit = 1u << i;

                if (before.set & bit)
                        FUZZ_ASSERT(same_option(&strong, &before, i), "merge changed option %d the command line set",
                                    i);
                else if (weak.set & bit)
                        FUZZ_ASSERT(same_option(&strong, &weak, i), "merge did not take option %d from %s", i,
                                    source_to_string(src));
                else
                        FUZZ_ASSERT(!(strong.set & bit) && strong.from[i] == SOURCE_DEFAULT,
                                    "merge set option %d from nowhere", i);
        }
        FUZZ_ASSERT(strong.set == (before.set | weak.set), "merge: set %x, expected %x", strong.set,
                    before.set | weak.set);
        /* Problems: the command line's first, in order, then the source's. */
        FUZZ_ASSERT(strong.n_problems >= before.n_problems, "merge lost problems");
        /* ... except that, in a full list, a bad value takes a warning's place. */
        for (unsigned i = 0; i < before.n_problems; i++)
                FUZZ_ASSERT(strcmp(strong.problems[i], before.problems[i]) == 0 ||
                                    (before.problem_opt[i] < 0 && strong.problem_opt[i] >= 0),
                            "merge changed problem %u", i);
        /* A bad value the command line overrides is not told. */
        for (unsigned i = before.n_problems; i < strong.n_problems; i++) {
                int opt = strong.problem_opt[i];

                FUZZ_ASSERT(opt < 0 || opt == _OPT_MAX || !(before.set & (1u << opt)),
                            "merge told '%s', overridden by the command line", strong.problems[i]);
        }
        if ((weak.bad & (1u << _OPT_MAX)))
                FUZZ_ASSERT(strong.invalid, "a refused source does not make the options invalid");
        if (weak.active || (weak.set & ~(1u << OPT_ENABLE)))
                FUZZ_ASSERT(strong.active || strong.disabled, "merge of an active source: neither active nor disabled");

        free(text);
        return 0;
}
