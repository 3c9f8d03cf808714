/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define OPTIONS_MAX_PROBLEMS 8
#define OPTIONS_MAX_VALUE 256
#define OPTIONS_MAX_TIMEOUT_MS (600u * 1000u)
#define OPTIONS_DEFAULT_TIMEOUT_MS 500u
#define OPTIONS_DEFAULT_TMPFS_PERCENT 25u

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

struct options {
        bool active;          /* some rd.scratch option is present and not rd.scratch=0 */
        bool disabled;        /* rd.scratch=0 */
        bool have_lun;
        struct hctl lun;
        unsigned timeout_ms;
        enum fallback fallback;
        struct size_spec tmpfs_size;
        bool force;

        /* Values that did not parse make the options invalid: no disk is
         * touched when the user's intent is unclear. Unknown option names
         * are only warned about. */
        bool invalid;
        unsigned first_invalid;         /* index in problems of the first bad value */
        unsigned n_problems;
        char problems[OPTIONS_MAX_PROBLEMS][OPTIONS_MAX_VALUE + 96];
};

void options_init(struct options *o);

/* Parses a kernel command line; options named rd.scratch and rd.scratch.*
 * are taken, the last occurrence of each wins. Never fails: problems are
 * recorded in o->problems for the caller to report. */
void options_parse_cmdline(struct options *o, const char *cmdline);

int parse_hctl(const char *s, struct hctl *ret);
int parse_timeout_ms(const char *s, unsigned *ret);
int parse_size(const char *s, struct size_spec *ret);
int parse_bool(const char *s, bool *ret);
int parse_fallback(const char *s, enum fallback *ret);

const char *fallback_to_string(enum fallback f);
/* Formats a size_spec as tmpfs's size= value. */
void size_spec_format(const struct size_spec *s, char *buf, unsigned n);
void hctl_format(const struct hctl *h, char *buf, unsigned n);
