/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIONS_MAX_PROBLEMS 8
#define OPTIONS_MAX_VALUE 256
#define OPTIONS_MAX_TIMEOUT_MS (600u * 1000u)
#define OPTIONS_DEFAULT_TIMEOUT_MS 500u
#define OPTIONS_DEFAULT_TMPFS_PERCENT 25u
/* Off: online discard discards each freed extent synchronously, which
 * makes deleting many small files much slower on a journal-less ext4. */
#define OPTIONS_DEFAULT_DISCARD false

enum fallback {
        FALLBACK_TMPFS,
        FALLBACK_NONE,
        FALLBACK_FAIL,
};

/* A SCSI address. With lun_only, only the LUN was given and it matches on
 * any host, channel and target. */
struct hctl {
        unsigned host, channel, target;
        uint64_t lun;
        bool lun_only;
};

/* Either an absolute size in bytes or a percentage of RAM (as tmpfs takes it). */
struct size_spec {
        uint64_t bytes;
        unsigned percent;
};

/* Where options come from, strongest first. */
enum source {
        SOURCE_CMDLINE,
        SOURCE_FWCFG,
        SOURCE_SMBIOS,
        SOURCE_VPORT,
        SOURCE_CONFIG,
        SOURCE_DEFAULT,
        _SOURCE_MAX,
};

enum {
        OPT_ENABLE,
        OPT_LUN,
        OPT_SERIAL,
        OPT_TIMEOUT,
        OPT_FALLBACK,
        OPT_TMPFS_SIZE,
        OPT_FORCE,
        OPT_DISCARD,
        OPT_ENCRYPT,
        OPT_SWAP,
        OPT_MODEL,
        OPT_VENDOR,
        OPT_CLOUD,
        _OPT_MAX,
};

#define OPTIONS_MAX_SERIAL 64
/* How many disks rd.scratch.lun= and rd.scratch.serial= may list: the
 * members a stripe takes (STRIPE_MAX_MEMBERS). */
#define OPTIONS_MAX_DISKS 32
/* A model or vendor glob: longer than any string a disk reports. */
#define OPTIONS_MAX_GLOB 128

/* rd.scratch.cloud: the platform whose ephemeral disks are the scratch. */
enum cloud {
        CLOUD_NONE,             /* not asked (0, none, off), or an unknown platform */
        CLOUD_AUTO,             /* told from DMI */
        CLOUD_AZURE,
        CLOUD_AWS,
        CLOUD_GCP,
        _CLOUD_MAX,
};

struct options {
        bool active;          /* some rd.scratch option is present and not rd.scratch=0 */
        bool disabled;        /* rd.scratch=0 */
        bool have_lun;
        struct hctl lun;        /* luns[0] */
        bool have_serial;
        char serial[OPTIONS_MAX_SERIAL + 1];    /* serials[0] */
        /* rd.scratch.lun= and rd.scratch.serial= as lists: each listed disk
         * is a member of the set. */
        unsigned n_luns, n_serials;
        struct hctl luns[OPTIONS_MAX_DISKS];
        char serials[OPTIONS_MAX_DISKS][OPTIONS_MAX_SERIAL + 1];
        /* fnmatch(3) globs on the disk's trimmed model and vendor, "" when
         * not given. */
        char model[OPTIONS_MAX_GLOB + 1];
        char vendor[OPTIONS_MAX_GLOB + 1];
        enum cloud cloud;
        unsigned timeout_ms;
        enum fallback fallback;
        struct size_spec tmpfs_size;
        bool force;
        bool discard;         /* mount the scratch ext4 with online discard */
        bool encrypt;         /* dm-crypt between the disk and the ext4 */
        struct size_spec swap; /* a swap file on the scratch ext4; zero: none */

        /* Per option: whether a source set it, whether its value was bad,
         * and which source that was. */
        unsigned set, bad;      /* bit _OPT_MAX: a whole source was refused */
        enum source from[_OPT_MAX];
        enum source refused;    /* the strongest refused source, SOURCE_DEFAULT when none */

        /* Values that did not parse make the options invalid: no disk is
         * touched when the user's intent is unclear. Unknown option names
         * are only warned about. */
        bool invalid;
        unsigned first_invalid;         /* index in problems of the first bad value */
        unsigned n_problems;
        char problems[OPTIONS_MAX_PROBLEMS][OPTIONS_MAX_VALUE + 128];
        int problem_opt[OPTIONS_MAX_PROBLEMS];  /* the bad option, -1 for a warning */
};

void options_init(struct options *o);

/* Parses a kernel command line; options named rd.scratch and rd.scratch.*
 * are taken, the last occurrence of each wins. Never fails: problems are
 * recorded in o->problems for the caller to report. */
void options_parse_cmdline(struct options *o, const char *cmdline);

/* The same for text from another source: problems name the source. In
 * SOURCE_CONFIG text, '#' starts a comment that runs to the end of the line. */
void options_parse_source(struct options *o, const char *text, enum source src);

/* Takes from weak every option strong has not set: an option is taken from
 * the strongest source that sets it. A bad value counts as set, so that a
 * weaker source cannot stand in for what the stronger one meant. */
void options_merge(struct options *strong, const struct options *weak);

/* Records that a whole source could not be used; it makes the options
 * invalid like a bad value does. */
void options_source_problem(struct options *o, enum source src, const char *what);

/* The option's name on the command line ("rd.scratch.lun"), NULL past
 * _OPT_MAX: the one list of names every other place is checked against. */
const char *option_name(unsigned opt);

/* The option as a flag of scratchroot run and mount ("--lun"), NULL for
 * rd.scratch itself and past _OPT_MAX. */
const char *option_flag(unsigned opt);

/* Sets an option from its flag: value as the option's value on the command
 * line, NULL for a bare flag (--force). A bad value is recorded in
 * o->problems as on the command line and makes it -EINVAL. */
int options_set_flag(struct options *o, unsigned opt, const char *value);

const char *source_to_string(enum source s);
/* The source that selected the disk (rd.scratch.lun, serial, model,
 * vendor or cloud), else the strongest source that was refused whole. */
enum source options_disk_source(const struct options *o);

/* Whether any option selects disks: a lun, a serial, a model or vendor
 * glob, a cloud. */
bool options_select_disks(const struct options *o);

int parse_serial(const char *s, char *ret, size_t n);
int parse_hctl(const char *s, struct hctl *ret);
/* Comma-separated lists of at most OPTIONS_MAX_DISKS: -EINVAL for an empty
 * or repeated member, -ERANGE for too many or one out of range. */
int parse_hctl_list(const char *s, struct hctl *ret, unsigned *ret_n);
int parse_serial_list(const char *s, char (*ret)[OPTIONS_MAX_SERIAL + 1], unsigned *ret_n);
/* A glob for fnmatch(3): printable ASCII, blanks allowed, not empty. */
int parse_glob(const char *s, char *ret, size_t n);
int parse_cloud(const char *s, enum cloud *ret);
const char *cloud_to_string(enum cloud c);
int parse_timeout_ms(const char *s, unsigned *ret);
int parse_size(const char *s, struct size_spec *ret);
/* A size as parse_size() takes it, or "0" for none. */
int parse_swap_size(const char *s, struct size_spec *ret);
int parse_bool(const char *s, bool *ret);
int parse_fallback(const char *s, enum fallback *ret);

const char *fallback_to_string(enum fallback f);
/* Formats a size_spec as tmpfs's size= value. */
void size_spec_format(const struct size_spec *s, char *buf, unsigned n);
void hctl_format(const struct hctl *h, char *buf, unsigned n);
