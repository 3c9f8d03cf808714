/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* libcryptsetup, libdevmapper and libntfs-3g are loaded when an option
 * needs them, not at every start: under emulation loading them and what
 * they link (libcrypto, libargon2, libjson-c, libudev, libselinux...) took
 * more of the helper's CPU time than the setup itself. */

struct dlsym_arg {
        void **fn;
        const char *name;
};

/* &sym_NAME as a void ** (POSIX: a function pointer holds what dlsym
 * returns). */
#define DLSYM_ARG(name) { (void **) &sym_##name, #name }

struct dlib {
        const char *soname;     /* NULL: the build has no such library */
        const struct dlsym_arg *syms;   /* what the helper calls in it */
        size_t n_syms;
        void *handle;
        char error[256];        /* why it cannot be loaded, once it was tried */
};

/* NULL when LIB is loaded, else why not. */
static inline const char *dlib_unsupported(const struct dlib *lib) {
        return lib->handle ? NULL : lib->error;
}

/* Loads LIB once and resolves every symbol of its table: 0, or -EOPNOTSUPP
 * with LIB->error telling why (the loader's own words). A failed load is
 * not tried again. */
int dlib_load(struct dlib *lib);

/* The absolute path of the file the loader took for LIB, once loaded. */
int dlib_path(const struct dlib *lib, char *buf, size_t n);
