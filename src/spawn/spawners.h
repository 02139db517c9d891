/* The compiled-in spawners (spawn/spawners.c), found by entry-point name or Python path. */
#pragma once

#include <ganymede/spawner.h>

extern const struct gm_spawner spawn_local;
extern const struct gm_spawner spawn_simple;
extern const struct gm_option_class spawn_local_class;
extern const struct gm_option_class spawn_simple_class;

/** NULL-terminated list. */
const struct gm_spawner *const *spawn_modules(void);

/** By name or alias, or NULL. */
const struct gm_spawner *spawn_module_find(const char *name);

/** The option class named @name among the spawners' classes (for class chains), or NULL. */
const struct gm_option_class *spawn_class_find(const char *name);
