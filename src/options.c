/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmdline.h"
#include "macro.h"

void options_init(struct options *o) {
        memset(o, 0, sizeof(*o));
        for (int i = 0; i < _OPT_MAX; i++)
                o->from[i] = SOURCE_DEFAULT;
        o->refused = SOURCE_DEFAULT;
        o->timeout_ms = OPTIONS_DEFAULT_TIMEOUT_MS;
        o->fallback = FALLBACK_TMPFS;
        o->tmpfs_size.percent = OPTIONS_DEFAULT_TMPFS_PERCENT;
        o->discard = OPTIONS_DEFAULT_DISCARD;
}

/* Strict unsigned decimal: digits only, no sign, no blanks, no overflow.
 * strtoull() accepts "-1", " 1" and "+1", and saturates silently. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                unsigned d;

                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                d = (unsigned) (s[i] - '0');
                if (v > (max - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int parse_hctl(const char *s, struct hctl *ret) {
        uint64_t f[4];
        unsigned n = 0;
        const char *p = s;
        int r;

        for (;;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t) (colon - p) : strlen(p);

                if (n == 4)
                        return -EINVAL;
                /* H, C and T are unsigned int in the kernel; the LUN is u64. */
                r = parse_u64(p, len, n < 3 && colon ? UINT32_MAX : UINT64_MAX, &f[n]);
                if (r < 0)
                        return r;
                n++;
                if (!colon)
                        break;
                p = colon + 1;
        }

        if (n == 1) {
                *ret = (struct hctl) { .lun = f[0], .lun_only = true };
                return 0;
        }
        if (n == 4) {
                *ret = (struct hctl) {
                        .host = (unsigned) f[0],
                        .channel = (unsigned) f[1],
                        .target = (unsigned) f[2],
                        .lun = f[3],
                };
                return 0;
        }
        return -EINVAL;
}

int parse_timeout_ms(const char *s, unsigned *ret) {
        const char *dot = strchr(s, '.');
        uint64_t sec, frac = 0;
        size_t ilen = dot ? (size_t) (dot - s) : strlen(s);
        int r;

        r = parse_u64(s, ilen, UINT64_MAX, &sec);
        if (r < 0)
                return r;
        if (dot) {
                size_t flen = strlen(dot + 1);

                if (flen == 0 || flen > 3)
                        return -EINVAL;
                r = parse_u64(dot + 1, flen, 999, &frac);
                if (r < 0)
                        return r;
                for (size_t i = flen; i < 3; i++)
                        frac *= 10;
        }
        if (sec > OPTIONS_MAX_TIMEOUT_MS / 1000 ||
            sec * 1000 + frac > OPTIONS_MAX_TIMEOUT_MS)
                return -ERANGE;
        *ret = (unsigned) (sec * 1000 + frac);
        return 0;
}

int parse_size(const char *s, struct size_spec *ret) {
        size_t len = strlen(s);
        uint64_t v, mult = 1;
        int r;

        if (len == 0)
                return -EINVAL;

        if (s[len - 1] == '%') {
                r = parse_u64(s, len - 1, 100, &v);
                if (r < 0)
                        return r;
                if (v == 0)
                        return -ERANGE;
                *ret = (struct size_spec) { .percent = (unsigned) v };
                return 0;
        }

        switch (s[len - 1]) {
        case 'k': case 'K': mult = UINT64_C(1) << 10; break;
        case 'm': case 'M': mult = UINT64_C(1) << 20; break;
        case 'g': case 'G': mult = UINT64_C(1) << 30; break;
        case 't': case 'T': mult = UINT64_C(1) << 40; break;
        default: break;
        }
        if (mult != 1)
                len--;

        r = parse_u64(s, len, UINT64_MAX / mult, &v);
        if (r < 0)
                return r;
        v *= mult;
        /* Below a page tmpfs rounds to nothing useful. */
        if (v < 4096)
                return -ERANGE;
        *ret = (struct size_spec) { .bytes = v };
        return 0;
}

int parse_swap_size(const char *s, struct size_spec *ret) {
        if (strcmp(s, "0") == 0) {
                *ret = (struct size_spec) {};
                return 0;
        }
        return parse_size(s, ret);
}

int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

static const char *const fallback_names[] = {
        [FALLBACK_TMPFS] = "tmpfs",
        [FALLBACK_NONE] = "none",
        [FALLBACK_FAIL] = "fail",
};

int parse_fallback(const char *s, enum fallback *ret) {
        for (unsigned i = 0; i < ELEMENTSOF(fallback_names); i++)
                if (strcmp(s, fallback_names[i]) == 0) {
                        *ret = (enum fallback) i;
                        return 0;
                }
        return -EINVAL;
}

const char *fallback_to_string(enum fallback f) {
        return TABLE_STRING(fallback_names, f);
}

void size_spec_format(const struct size_spec *s, char *buf, unsigned n) {
        if (s->percent)
                (void) snprintf(buf, n, "%u%%", s->percent);
        else
                (void) snprintf(buf, n, "%" PRIu64, s->bytes);
}

void hctl_format(const struct hctl *h, char *buf, unsigned n) {
        if (h->lun_only)
                (void) snprintf(buf, n, "%" PRIu64, h->lun);
        else
                (void) snprintf(buf, n, "%u:%u:%u:%" PRIu64, h->host, h->channel, h->target, h->lun);
}

static const char *const source_names[_SOURCE_MAX] = {
        [SOURCE_CMDLINE] = "cmdline",
        [SOURCE_FWCFG] = "fw_cfg",
        [SOURCE_SMBIOS] = "smbios",
        [SOURCE_VPORT] = "virtio-port",
        [SOURCE_CONFIG] = "config",
        [SOURCE_DEFAULT] = "default",
};

const char *source_to_string(enum source s) {
        return TABLE_STRING(source_names, s);
}

/* Serial numbers as hypervisors set them: printable, no blanks or quotes,
 * so that they survive the command line and a log line unchanged. */
int parse_serial(const char *s, char *ret, size_t n) {
        size_t len = strlen(s);

        if (len == 0)
                return -EINVAL;
        if (len > OPTIONS_MAX_SERIAL || len >= n)
                return -ERANGE;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\'' || s[i] == '\\')
                        return -EINVAL;
        memcpy(ret, s, len + 1);
        return 0;
}

/* Calls parse_one on each comma-separated member of s, the member's index
 * given; an empty member is malformed, more than max out of range. */
static int parse_list(const char *s, unsigned max, int (*parse_one)(const char *m, unsigned i, void *userdata),
                      void *userdata, unsigned *ret_n) {
        unsigned n = 0;
        const char *p = s;
        int r;

        for (;;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                char m[OPTIONS_MAX_VALUE + 1];

                if (len == 0 || len > OPTIONS_MAX_VALUE)
                        return -EINVAL;
                if (n == max)
                        return -ERANGE;
                memcpy(m, p, len);
                m[len] = '\0';
                r = parse_one(m, n, userdata);
                if (r < 0)
                        return r;
                n++;
                if (!comma)
                        break;
                p = comma + 1;
        }
        *ret_n = n;
        return 0;
}

static bool hctl_equal(const struct hctl *a, const struct hctl *b) {
        return a->lun_only == b->lun_only && a->lun == b->lun &&
               (a->lun_only || (a->host == b->host && a->channel == b->channel && a->target == b->target));
}

static int parse_hctl_member(const char *m, unsigned i, void *userdata) {
        struct hctl *set = userdata;
        int r;

        r = parse_hctl(m, &set[i]);
        if (r < 0)
                return r;
        for (unsigned k = 0; k < i; k++)
                if (hctl_equal(&set[k], &set[i]))
                        return -EINVAL;
        return 0;
}

int parse_hctl_list(const char *s, struct hctl *ret, unsigned *ret_n) {
        /* Zeroed: the set is copied whole into the options, which are
         * compared byte for byte (padding and the bytes after each serial's
         * NUL included). */
        struct hctl set[OPTIONS_MAX_DISKS] = {};
        unsigned n;
        int r;

        r = parse_list(s, OPTIONS_MAX_DISKS, parse_hctl_member, set, &n);
        if (r < 0)
                return r;
        memcpy(ret, set, n * sizeof(set[0]));
        *ret_n = n;
        return 0;
}

static int parse_serial_member(const char *m, unsigned i, void *userdata) {
        char (*set)[OPTIONS_MAX_SERIAL + 1] = userdata;
        int r;

        r = parse_serial(m, set[i], sizeof(set[i]));
        if (r < 0)
                return r;
        for (unsigned k = 0; k < i; k++)
                if (strcmp(set[k], set[i]) == 0)
                        return -EINVAL;
        return 0;
}

int parse_serial_list(const char *s, char (*ret)[OPTIONS_MAX_SERIAL + 1], unsigned *ret_n) {
        char set[OPTIONS_MAX_DISKS][OPTIONS_MAX_SERIAL + 1] = {};
        unsigned n;
        int r;

        r = parse_list(s, OPTIONS_MAX_DISKS, parse_serial_member, set, &n);
        if (r < 0)
                return r;
        memcpy(ret, set, n * sizeof(set[0]));
        *ret_n = n;
        return 0;
}

int parse_glob(const char *s, char *ret, size_t n) {
        size_t len = strlen(s);

        if (len == 0)
                return -EINVAL;
        if (len > OPTIONS_MAX_GLOB || len >= n)
                return -ERANGE;
        for (size_t i = 0; i < len; i++)
                if (s[i] < ' ' || s[i] > '~')
                        return -EINVAL;
        memcpy(ret, s, len + 1);
        return 0;
}

static const char *const cloud_names[] = {
        [CLOUD_NONE] = "none",
        [CLOUD_AUTO] = "auto",
        [CLOUD_AZURE] = "azure",
        [CLOUD_AWS] = "aws",
        [CLOUD_GCP] = "gcp",
};

int parse_cloud(const char *s, enum cloud *ret) {
        bool b;

        /* 0, off, no and the other words parse_bool takes as no: none. */
        if (parse_bool(s, &b) == 0 && !b) {
                *ret = CLOUD_NONE;
                return 0;
        }
        for (unsigned i = 0; i < ELEMENTSOF(cloud_names); i++)
                if (strcmp(s, cloud_names[i]) == 0) {
                        *ret = (enum cloud) i;
                        return 0;
                }
        return -EINVAL;
}

const char *cloud_to_string(enum cloud c) {
        return TABLE_STRING(cloud_names, c);
}

/* A slot for one more problem. When the list is full a bad value, which
 * decides the fallback's reason, takes the place of the last warning. */
static int problem_slot(struct options *o, int opt) {
        if (o->n_problems < OPTIONS_MAX_PROBLEMS)
                return (int) o->n_problems++;
        if (opt < 0)
                return -1;
        for (int i = OPTIONS_MAX_PROBLEMS - 1; i >= 0; i--)
                if (o->problem_opt[i] < 0)
                        return i;
        return -1;
}

static void add_problem(struct options *o, int opt, enum source src, const char *fmt, const char *key,
                        const char *value) {
        char text[sizeof(o->problems[0])];
        int i;

        i = problem_slot(o, opt);
        if (i < 0)
                return;
        (void) snprintf(text, sizeof(text), fmt, key, value);
        if (src == SOURCE_CMDLINE)
                (void) snprintf(o->problems[i], sizeof(o->problems[i]), "%s", text);
        else
                (void) snprintf(o->problems[i], sizeof(o->problems[i]), "%.*s (from %s)",
                                (int) (sizeof(text) - 32), text, source_to_string(src));
        o->problem_opt[i] = opt;
}

/* Values as the option takes them, so that only the last one counts. */
struct raw {
        const char *key;
        char value[OPTIONS_MAX_VALUE + 1];
        bool set, bare, too_long;
};

_Static_assert(WORD_MAX > OPTIONS_MAX_VALUE + 64, "a word holds a key and any value taken");

/* Each option as the boot's command line spells it, and as a flag of
 * scratchroot run and mount (encryption and swap are the boot's only). */
static const struct {
        const char *key, *flag;
} option_table[_OPT_MAX] = {
        [OPT_ENABLE] = { "rd.scratch", NULL },
        [OPT_LUN] = { "rd.scratch.lun", "--lun" },
        [OPT_SERIAL] = { "rd.scratch.serial", "--serial" },
        [OPT_TIMEOUT] = { "rd.scratch.timeout", "--timeout" },
        [OPT_FALLBACK] = { "rd.scratch.fallback", "--fallback" },
        [OPT_TMPFS_SIZE] = { "rd.scratch.tmpfs.size", "--tmpfs-size" },
        [OPT_FORCE] = { "rd.scratch.force", "--force" },
        [OPT_DISCARD] = { "rd.scratch.discard", "--discard" },
        [OPT_ENCRYPT] = { "rd.scratch.encrypt", NULL },
        [OPT_SWAP] = { "rd.scratch.swap", NULL },
        [OPT_MODEL] = { "rd.scratch.model", "--model" },
        [OPT_VENDOR] = { "rd.scratch.vendor", "--vendor" },
        [OPT_CLOUD] = { "rd.scratch.cloud", "--cloud" },
};

const char *option_name(unsigned opt) {
        return opt < _OPT_MAX ? option_table[opt].key : NULL;
}

const char *option_flag(unsigned opt) {
        return opt < _OPT_MAX ? option_table[opt].flag : NULL;
}

static void take(struct options *o, struct raw *raw, const char *tok, size_t len, enum source src) {
        const char *eq = memchr(tok, '=', len);
        size_t klen = eq ? (size_t) (eq - tok) : len;
        char key[64];

        if (klen < strlen("rd.scratch") || strncmp(tok, "rd.scratch", strlen("rd.scratch")) != 0)
                return;
        if (klen != strlen("rd.scratch") && tok[strlen("rd.scratch")] != '.')
                return; /* rd.scratchy=... is somebody else's */

        o->active = true;

        for (int i = 0; i < _OPT_MAX; i++) {
                struct raw *r = &raw[i];
                const char *name = option_table[i].key;
                size_t vlen;

                if (strlen(name) != klen || strncmp(tok, name, klen) != 0)
                        continue;
                r->key = name;
                r->set = true;
                r->bare = !eq;
                r->too_long = false;
                r->value[0] = '\0';
                if (!eq)
                        return;
                vlen = len - klen - 1;
                if (vlen > OPTIONS_MAX_VALUE) {
                        r->too_long = true;
                        vlen = OPTIONS_MAX_VALUE;
                }
                memcpy(r->value, eq + 1, vlen);
                r->value[vlen] = '\0';
                return;
        }

        (void) snprintf(key, sizeof(key), "%.*s", (int) (klen < 48 ? klen : 48), tok);
        add_problem(o, -1, src, "unknown option %s%s, ignored", key, klen < 48 ? "" : "...");
}

struct take_ctx {
        struct options *o;
        struct raw *raw;
        enum source src;
};

static int take_word(const char *word, size_t len, bool overlong, void *userdata) {
        struct take_ctx *c = userdata;

        /* A cut word is longer than any value taken: the length check
         * reports it. */
        (void) overlong;
        take(c->o, c->raw, word, len, c->src);
        return 0;
}

static void tokenize(struct options *o, struct raw *raw, const char *text, enum source src) {
        struct take_ctx c = { .o = o, .raw = raw, .src = src };

        (void) for_each_word(text, src == SOURCE_CMDLINE ? WORDS_KERNEL : src == SOURCE_CONFIG ? WORDS_COMMENTS : 0,
                             take_word, &c);
}

/* A flag given bare (rd.scratch.force) means yes; ret is set only when the
 * value parses. */
static int parse_flag(const struct raw *v, bool *ret) {
        if (v->bare) {
                *ret = true;
                return 0;
        }
        return parse_bool(v->value, ret);
}

/* Parses one option's value into o; a bad one is recorded as a problem. */
static void parse_value(struct options *o, int i, const struct raw *v, enum source src) {
        bool b;
        int r;

        o->set |= 1u << i;
        o->from[i] = src;
        if (v->too_long) {
                o->bad |= 1u << i;
                add_problem(o, i, src, "%s: value longer than 256 bytes (starts '%.40s'), not used", v->key, v->value);
                return;
        }

        switch (i) {
        case OPT_ENABLE:
                r = parse_flag(v, &b);
                if (r == 0)
                        o->disabled = !b;
                break;
        case OPT_LUN:
                r = parse_hctl_list(v->value, o->luns, &o->n_luns);
                if (r < 0)
                        o->n_luns = 0;
                o->have_lun = o->n_luns > 0;
                if (o->have_lun)
                        o->lun = o->luns[0];
                break;
        case OPT_SERIAL:
                r = parse_serial_list(v->value, o->serials, &o->n_serials);
                if (r < 0)
                        o->n_serials = 0;
                o->have_serial = o->n_serials > 0;
                if (o->have_serial)
                        memcpy(o->serial, o->serials[0], sizeof(o->serial));
                break;
        case OPT_TIMEOUT: r = parse_timeout_ms(v->value, &o->timeout_ms); break;
        case OPT_FALLBACK: r = parse_fallback(v->value, &o->fallback); break;
        case OPT_TMPFS_SIZE: r = parse_size(v->value, &o->tmpfs_size); break;
        case OPT_FORCE: r = parse_flag(v, &o->force); break;
        case OPT_DISCARD: r = parse_flag(v, &o->discard); break;
        case OPT_ENCRYPT: r = parse_flag(v, &o->encrypt); break;
        case OPT_SWAP: r = parse_swap_size(v->value, &o->swap); break;
        case OPT_MODEL: r = parse_glob(v->value, o->model, sizeof(o->model)); break;
        case OPT_VENDOR: r = parse_glob(v->value, o->vendor, sizeof(o->vendor)); break;
        case OPT_CLOUD: r = parse_cloud(v->value, &o->cloud); break;
        default: r = 0;
        }
        if (r < 0) {
                o->bad |= 1u << i;
                add_problem(o, i, src, r == -ERANGE ? "%s='%s': value out of range" : "%s='%s': malformed value",
                            v->key, v->value);
        }
}

static void parse_text(struct options *o, const char *text, enum source src) {
        struct raw raw[_OPT_MAX] = {};

        tokenize(o, raw, text, src);
        for (int i = 0; i < _OPT_MAX; i++)
                if (raw[i].set)
                        parse_value(o, i, &raw[i], src);
}

/* What follows from set, bad and the values: kept in one place so that a
 * merge leaves the same state as a single parse would. */
static void settle(struct options *o) {
        o->invalid = (o->bad & o->set) != 0;
        o->first_invalid = 0;
        for (unsigned i = 0; i < o->n_problems; i++)
                if (o->problem_opt[i] >= 0 && (o->bad & (1u << o->problem_opt[i]))) {
                        o->first_invalid = i;
                        break;
                }
        if (o->disabled)
                o->active = false;
}

void options_parse_source(struct options *o, const char *text, enum source src) {
        parse_text(o, text, src);
        settle(o);
}

int options_set_flag(struct options *o, unsigned opt, const char *value) {
        struct raw v = { .key = option_flag(opt), .set = true, .bare = !value };
        size_t len;

        if (!v.key)
                return -EINVAL;
        if (value) {
                len = strlen(value);
                v.too_long = len > OPTIONS_MAX_VALUE;
                if (v.too_long)
                        len = OPTIONS_MAX_VALUE;
                memcpy(v.value, value, len);
                v.value[len] = '\0';
        }
        o->active = true;
        parse_value(o, (int) opt, &v, SOURCE_CMDLINE);
        settle(o);
        return o->bad & (1u << opt) ? -EINVAL : 0;
}

void options_parse_cmdline(struct options *o, const char *cmdline) {
        options_parse_source(o, cmdline, SOURCE_CMDLINE);
}

void options_merge(struct options *strong, const struct options *weak) {
        for (int i = 0; i < _OPT_MAX; i++) {
                unsigned bit = 1u << i;

                if ((strong->set & bit) || !(weak->set & bit))
                        continue;
                strong->set |= bit;
                strong->bad |= weak->bad & bit;
                strong->from[i] = weak->from[i];
                switch (i) {
                case OPT_ENABLE: strong->disabled = weak->disabled; break;
                case OPT_LUN:
                        strong->have_lun = weak->have_lun;
                        strong->lun = weak->lun;
                        strong->n_luns = weak->n_luns;
                        memcpy(strong->luns, weak->luns, sizeof(strong->luns));
                        break;
                case OPT_SERIAL:
                        strong->have_serial = weak->have_serial;
                        memcpy(strong->serial, weak->serial, sizeof(strong->serial));
                        strong->n_serials = weak->n_serials;
                        memcpy(strong->serials, weak->serials, sizeof(strong->serials));
                        break;
                case OPT_TIMEOUT: strong->timeout_ms = weak->timeout_ms; break;
                case OPT_FALLBACK: strong->fallback = weak->fallback; break;
                case OPT_TMPFS_SIZE: strong->tmpfs_size = weak->tmpfs_size; break;
                case OPT_FORCE: strong->force = weak->force; break;
                case OPT_DISCARD: strong->discard = weak->discard; break;
                case OPT_ENCRYPT: strong->encrypt = weak->encrypt; break;
                case OPT_SWAP: strong->swap = weak->swap; break;
                case OPT_MODEL: memcpy(strong->model, weak->model, sizeof(strong->model)); break;
                case OPT_VENDOR: memcpy(strong->vendor, weak->vendor, sizeof(strong->vendor)); break;
                case OPT_CLOUD: strong->cloud = weak->cloud; break;
                }
        }
        /* Problems of the weaker source are told only for what it set: an
         * overridden bad value does not matter. */
        strong->set |= weak->set & (1u << _OPT_MAX);
        strong->bad |= weak->bad & (1u << _OPT_MAX);
        if (weak->refused < strong->refused)
                strong->refused = weak->refused;
        for (unsigned i = 0; i < weak->n_problems; i++) {
                int opt = weak->problem_opt[i], slot;

                if (opt >= 0 && opt < _OPT_MAX && strong->from[opt] != weak->from[opt])
                        continue;
                slot = problem_slot(strong, opt);
                if (slot < 0)
                        continue;
                memcpy(strong->problems[slot], weak->problems[i], sizeof(weak->problems[i]));
                strong->problem_opt[slot] = opt;
        }
        if (weak->active || (weak->set & ~(1u << OPT_ENABLE)))
                strong->active = true;
        settle(strong);
}

void options_source_problem(struct options *o, enum source src, const char *what) {
        o->set |= 1u << _OPT_MAX;
        o->bad |= 1u << _OPT_MAX;
        o->active = true;
        if (src < o->refused)
                o->refused = src;
        add_problem(o, _OPT_MAX, SOURCE_CMDLINE, "options from %s %s", source_to_string(src), what);
        settle(o);
}

enum source options_disk_source(const struct options *o) {
        static const unsigned selecting[] = { OPT_LUN, OPT_SERIAL, OPT_MODEL, OPT_VENDOR, OPT_CLOUD };

        for (unsigned i = 0; i < ELEMENTSOF(selecting); i++)
                if (o->set & (1u << selecting[i]))
                        return o->from[selecting[i]];
        return o->refused;
}

bool options_select_disks(const struct options *o) {
        return o->have_lun || o->have_serial || o->model[0] || o->vendor[0] || o->cloud != CLOUD_NONE;
}
