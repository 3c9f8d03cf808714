/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "crypt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dlopen.h"
#include "macro.h"
#include "safety.h"
#include "util.h"

#if HAVE_LIBCRYPTSETUP
#include <libcryptsetup.h>

/* The header's areas are made as small as LUKS2 allows: every byte
 * libcryptsetup wipes at format time is a byte the host allocates in a thin
 * image, and with no key slot the key slots area holds nothing. */
#define CRYPT_METADATA_BYTES (16u << 10)
#define CRYPT_KEYSLOTS_BYTES (4u << 10)
/* The data starts 64 KiB in, a multiple of the 4 KiB encryption sector. */
#define CRYPT_DATA_ALIGN_SECTORS 128u

static __typeof__(crypt_init) *sym_crypt_init;
static __typeof__(crypt_set_log_callback) *sym_crypt_set_log_callback;
static __typeof__(crypt_metadata_locking) *sym_crypt_metadata_locking;
static __typeof__(crypt_set_metadata_size) *sym_crypt_set_metadata_size;
static __typeof__(crypt_format) *sym_crypt_format;
static __typeof__(crypt_volume_key_keyring) *sym_crypt_volume_key_keyring;
static __typeof__(crypt_activate_by_volume_key) *sym_crypt_activate_by_volume_key;
static __typeof__(crypt_free) *sym_crypt_free;
static __typeof__(crypt_load) *sym_crypt_load;
static __typeof__(crypt_keyslot_max) *sym_crypt_keyslot_max;
static __typeof__(crypt_keyslot_status) *sym_crypt_keyslot_status;
static __typeof__(crypt_init_by_name) *sym_crypt_init_by_name;
static __typeof__(crypt_deactivate) *sym_crypt_deactivate;

static const struct dlsym_arg cryptsetup_syms[] = {
        DLSYM_ARG(crypt_init),
        DLSYM_ARG(crypt_set_log_callback),
        DLSYM_ARG(crypt_metadata_locking),
        DLSYM_ARG(crypt_set_metadata_size),
        DLSYM_ARG(crypt_format),
        DLSYM_ARG(crypt_volume_key_keyring),
        DLSYM_ARG(crypt_activate_by_volume_key),
        DLSYM_ARG(crypt_free),
        DLSYM_ARG(crypt_load),
        DLSYM_ARG(crypt_keyslot_max),
        DLSYM_ARG(crypt_keyslot_status),
        DLSYM_ARG(crypt_init_by_name),
        DLSYM_ARG(crypt_deactivate),
};
static struct dlib cryptsetup_lib = {
        .soname = LIBCRYPTSETUP_SONAME,
        .syms = cryptsetup_syms,
        .n_syms = ELEMENTSOF(cryptsetup_syms),
};

struct dlib *crypt_library(void) {
        (void) dlib_load(&cryptsetup_lib);
        return &cryptsetup_lib;
}

/* libcryptsetup prints to stderr by default; its messages are not ours to
 * tell, the caller says what failed. */
static void quiet_log(int level, const char *msg, void *usrptr) {
        (void) level;
        (void) msg;
        (void) usrptr;
}

int crypt_open_scratch(const char *node, const char *name, bool allow_discards, char *mapped, size_t n,
                       enum crypt_step *ret_step) {
        /* The header's digest of the volume key is made with PBKDF2, which
         * libcryptsetup would time for 125 ms first; the key it guards is 512
         * random bits that exist nowhere once the boot ends, so the fewest
         * iterations do. */
        const struct crypt_pbkdf_type pbkdf = {
                .type = CRYPT_KDF_PBKDF2,
                .hash = "sha256",
                .iterations = 1000,
                .flags = CRYPT_PBKDF_NO_BENCHMARK,
        };
        struct crypt_params_luks2 params = {
                .pbkdf = &pbkdf,
                .data_alignment = CRYPT_DATA_ALIGN_SECTORS,
                .sector_size = 4096,
                .label = SCRATCH_LABEL,
        };
        struct crypt_device *cd = NULL;
        unsigned char key[CRYPT_KEY_BYTES];
        enum crypt_step step = CRYPT_STEP_KEY;
        int r;

        r = dlib_load(&cryptsetup_lib);
        if (r < 0) {
                *ret_step = CRYPT_STEP_ACTIVATE;
                return r;
        }
        r = snprintf(mapped, n, "/dev/mapper/%s", name);
        if (r < 0 || (size_t) r >= n)
                return -ENAMETOOLONG;

        /* Blocks until the kernel's pool is initialised, which a guest with
         * virtio-rng or a CPU with RDRAND reaches early in the boot. */
        r = random_bytes(key, sizeof(key));
        if (r < 0)
                goto out;

        step = CRYPT_STEP_HEADER;
        r = sym_crypt_init(&cd, node);
        if (r < 0)
                goto out;
        sym_crypt_set_log_callback(cd, quiet_log, NULL);
        /* The disk is ours alone (opened O_EXCL just before): no lock files
         * under /run/cryptsetup. */
        (void) sym_crypt_metadata_locking(cd, 0);
        r = sym_crypt_set_metadata_size(cd, CRYPT_METADATA_BYTES, CRYPT_KEYSLOTS_BYTES);
        if (r < 0)
                goto out;
        /* No key slot is ever added: the volume key lives in this boot's
         * kernel only, and no PBKDF runs. */
        r = sym_crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, (const char *) key, sizeof(key), &params);
        if (r < 0)
                goto out;

        step = CRYPT_STEP_ACTIVATE;
        /* The key goes into the device-mapper table itself rather than the
         * kernel keyring, where libcryptsetup would also leave a copy. */
        (void) sym_crypt_volume_key_keyring(cd, 0);
        r = sym_crypt_activate_by_volume_key(cd, name, (const char *) key, sizeof(key),
                                             allow_discards ? CRYPT_ACTIVATE_ALLOW_DISCARDS : 0);
out:
        explicit_bzero(key, sizeof(key));
        if (cd)
                sym_crypt_free(cd);
        if (r < 0)
                *ret_step = step;
        return r < 0 ? r : 0;
}

int crypt_count_keyslots(int fd, unsigned *ret) {
        struct crypt_device *cd = NULL;
        char path[64];
        unsigned used = 0;
        int r, max;

        r = dlib_load(&cryptsetup_lib);
        if (r < 0)
                return r;
        /* The disk is open O_EXCL: libcryptsetup reads it through this
         * descriptor's name, with no lock files under /run/cryptsetup. */
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        (void) sym_crypt_metadata_locking(NULL, 0);
        r = sym_crypt_init(&cd, path);
        if (r < 0)
                return r;
        sym_crypt_set_log_callback(cd, quiet_log, NULL);
        r = sym_crypt_load(cd, CRYPT_LUKS2, NULL);
        if (r == 0) {
                max = sym_crypt_keyslot_max(CRYPT_LUKS2);
                for (int i = 0; i < max; i++)
                        if (sym_crypt_keyslot_status(cd, i) != CRYPT_SLOT_INACTIVE)
                                used++;
        }
        sym_crypt_free(cd);
        if (r < 0)
                return r;
        *ret = used;
        return 0;
}

int crypt_close_scratch(const char *name) {
        struct crypt_device *cd = NULL;
        int r;

        r = dlib_load(&cryptsetup_lib);
        if (r < 0)
                return r;
        r = sym_crypt_init_by_name(&cd, name);
        if (r < 0)
                return r;
        sym_crypt_set_log_callback(cd, quiet_log, NULL);
        r = sym_crypt_deactivate(cd, name);
        sym_crypt_free(cd);
        return r;
}

#else

struct dlib *crypt_library(void) {
        static struct dlib none = { .error = "this scratchroot was built without libcryptsetup" };

        return &none;
}

int crypt_open_scratch(const char *node, const char *name, bool allow_discards, char *mapped, size_t n,
                       enum crypt_step *ret_step) {
        (void) node;
        (void) name;
        (void) allow_discards;
        (void) mapped;
        (void) n;
        *ret_step = CRYPT_STEP_ACTIVATE;
        return -EOPNOTSUPP;
}

int crypt_count_keyslots(int fd, unsigned *ret) {
        (void) fd;
        (void) ret;
        return -EOPNOTSUPP;
}

int crypt_close_scratch(const char *name) {
        (void) name;
        return -EOPNOTSUPP;
}

#endif
