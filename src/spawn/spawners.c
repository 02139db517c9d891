/* The table of compiled-in spawners. Spawners under spawners/ and the test spawners under
 * tests/plugins/ add themselves through the list meson generates (spawners_list.h). */
#include "spawn/spawners.h"
#include "spawn/spawn.h"

#include <string.h>

#include "spawners_list.h"

GM_EXTRA_SPAWNER_DECLS

static const struct gm_spawner *const modules[] = {
    &spawn_local,
    &spawn_simple,
    GM_EXTRA_SPAWNERS NULL,
};

const struct gm_spawner *const *spawn_modules(void)
{
    return modules;
}

const struct gm_spawner *spawn_module_find(const char *name)
{
    for (const struct gm_spawner *const *m = modules; *m; m++) {
        if (strcmp((*m)->name, name) == 0)
            return *m;
        for (const char *const *a = (*m)->aliases; a && *a; a++)
            if (strcmp(*a, name) == 0)
                return *m;
    }
    return NULL;
}

const struct gm_option_class *spawn_class_find(const char *name)
{
    if (strcmp(name, spawn_spawner_class.name) == 0)
        return &spawn_spawner_class;
    for (const struct gm_spawner *const *m = modules; *m; m++) {
        if ((*m)->options && strcmp((*m)->options->name, name) == 0)
            return (*m)->options;
        for (const struct gm_option_class *const *a = (*m)->ancestors; a && *a; a++)
            if (strcmp((*a)->name, name) == 0)
                return *a;
    }
    return NULL;
}
