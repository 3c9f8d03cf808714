/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

int dlib_load(struct dlib *lib) {
        const struct dlsym_arg *syms = lib->syms;
        void *h;

        if (lib->handle)
                return 0;
        if (lib->error[0])
                return -EOPNOTSUPP;
        h = dlopen(lib->soname, RTLD_NOW | RTLD_NODELETE);
        if (!h) {
                const char *e = dlerror();

                (void) snprintf(lib->error, sizeof(lib->error), "cannot load %s: %s", lib->soname,
                                e ? e : "unknown error");
                return -EOPNOTSUPP;
        }
        for (size_t i = 0; i < lib->n_syms; i++) {
                void *f = dlsym(h, syms[i].name);

                if (!f) {
                        (void) snprintf(lib->error, sizeof(lib->error), "%s has no %s", lib->soname,
                                        syms[i].name);
                        for (size_t k = 0; k < i; k++)
                                *syms[k].fn = NULL;
                        (void) dlclose(h);
                        return -EOPNOTSUPP;
                }
                *syms[i].fn = f;
        }
        lib->handle = h;
        return 0;
}

int dlib_path(const struct dlib *lib, char *buf, size_t n) {
        struct link_map *map = NULL;
        int r;

        if (!lib->handle)
                return -EOPNOTSUPP;
        if (dlinfo(lib->handle, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name || map->l_name[0] != '/')
                return -ENOENT;
        r = snprintf(buf, n, "%s", map->l_name);
        return r < 0 || (size_t) r >= n ? -ENAMETOOLONG : 0;
}
