/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "options.h"

/* Options from the hypervisor and the image, in the command line's syntax.
 * Hypervisor data is untrusted: bounded, and refused whole when it holds
 * anything but printable ASCII and blanks. */

#define SOURCE_MAX_BYTES 4096
#define FWCFG_NAME "opt/org.scratchroot/options"
#define SMBIOS_KEY "org.scratchroot.options="
#define VPORT_NAME "org.scratchroot.options"
#define CONFIG_FILE "/etc/scratchroot.conf"

/* Turns a blob into text: printable ASCII, tab, CR and LF; NULs only at
 * the end. Returns -EBADMSG with the offset of the first bad byte, or
 * -E2BIG when it does not fit. */
int blob_to_text(const unsigned char *blob, size_t len, char *text, size_t n, size_t *ret_bad);

/* Collects the values of SMBIOS_KEY strings in one raw SMBIOS structure of
 * type 11 (OEM strings), separated by blanks. Returns 0, -ENOENT when the
 * structure has none, -EBADMSG when the structure is malformed, with the
 * offset in raw of the first byte found wrong in ret_bad. */
int smbios_oem_options(const unsigned char *raw, size_t len, char *text, size_t n, size_t *ret_bad);

/* Each returns 0 with the text, -ENOENT when the source is absent, or
 * another -errno (-EBADMSG: refused content, with where in ret_bad). */
int read_fwcfg(const char *sysfs, char *text, size_t n, size_t *ret_bad);
int read_smbios(const char *sysfs, char *text, size_t n, size_t *ret_bad);
int read_vport(const char *sysfs, unsigned timeout_ms, char *text, size_t n, size_t *ret_bad);
int read_config(const char *path, char *text, size_t n, size_t *ret_bad);

struct gather_args {
        const char *cmdline;    /* NULL: read /proc/cmdline */
        const char *sysfs;
        const char *config;     /* NULL: CONFIG_FILE */
        /* Where the virtio port's line is kept once read (NULL: nowhere):
         * the host writes it once, and both scratchroot prepare and setup
         * read the options at a boot. */
        const char *vport_copy;
};

/* Options from every source, each taken from the strongest that sets it:
 * the command line, the hypervisor (fw_cfg, SMBIOS, the virtio port), the
 * image's config file, the defaults. Fails only when /proc/cmdline cannot
 * be read; what a source got wrong is in o->problems. */
int gather_options(const struct gather_args *a, struct options *o);
