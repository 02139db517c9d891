/* The configuration tree {Class: {trait: value}} and where each value came from, filled in
 * order from config files (.py literal assignments, .json, .yaml), command-line flags and the
 * environment, then checked against every known option table and applied to config structs. */
#pragma once

#include <ganymede/plugin.h>
#include <stdbool.h>
#include <stddef.h>

struct config {
    json_t *tree;    /* {Class: {trait: value}} */
    json_t *origins; /* {Class: {trait: "file:line" | "--flag"}}; JSON files give "file" */
    json_t *files;   /* names of the files loaded, in order */
};

/** An empty configuration. Returns 0 or -ENOMEM. */
int config_init(struct config *cfg);

/** Release everything; accepts a zeroed struct. */
void config_release(struct config *cfg);

/** Load a file by its extension (.py, .json, .yaml/.yml) and merge it over what is there. A
 * zero-to-jupyterhub values file is recognised by its hub.config block. Returns 0, -ENOENT,
 * or -EINVAL with a message in @err. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/** Set Class.trait from a command-line value. The option's type (looked up in @classes, a
 * NULL-terminated registry) decides how @value is read; unknown keys are kept as strings for
 * config_check to report. Returns 0 or -EINVAL with a message in @err. */
int config_set_arg(struct config *cfg, const struct gm_option_class *const *classes,
                   const char *key, const char *value, char *err, size_t errlen);

/** Set a value directly (defaults chosen by the caller, tests). Steals @value. */
int config_set(struct config *cfg, const char *cls, const char *trait, json_t *value,
               const char *origin);

/** The value of Class.trait as given (NULL if not set). Borrowed. */
json_t *config_get(const struct config *cfg, const char *cls, const char *trait);

/** Where Class.trait was set ("file.py:3", "--JupyterHub.port", ...), or "config". */
const char *config_origin(const struct config *cfg, const char *cls, const char *trait);

/** Check every key against @classes: typos (unknown keys near a known one, unknown classes near
 * a known class) are errors naming the key and the closest known one; JupyterHub settings that
 * Ganymede does not implement, and classes of other packages, are logged as warnings and
 * ignored. Returns 0 or -EINVAL with a message in @err. */
int config_check(const struct config *cfg, const struct gm_option_class *const *classes, char *err,
                 size_t errlen);

/** Apply the settings of a class chain (root first, e.g. {Spawner, LocalProcessSpawner}) to
 * their structs @confs[i] (already filled with defaults by options_init), then environment
 * variables for options the config did not set. Later classes override earlier ones. Returns 0
 * or -EINVAL with a message naming the key, where it was set and the expected type. */
int config_apply(const struct config *cfg, const struct gm_option_class *const *chain,
                 void *const *confs, size_t n, char *err, size_t errlen);

/** Find a class by name in a NULL-terminated registry. */
const struct gm_option_class *config_find_class(const struct gm_option_class *const *classes,
                                                const char *name);

/** Whether Class.trait names a JupyterHub (or companion package) setting that Ganymede does not
 * implement. */
bool config_known_elsewhere(const char *cls, const char *trait);

/** Whether @cls is a class of JupyterHub or a companion package (oauthenticator, kubespawner,
 * ...) that Ganymede does not implement. */
bool config_known_class_elsewhere(const char *cls);
