/* Option tables at run time: defaults, typed assignment from JSON, release, and the generated
 * reference (--help-config, --generate-config, docs/config.md). */
#pragma once

#include <ganymede/plugin.h>
#include <stdio.h>

/** Fill @conf with the defaults of @cls (its own options only). Returns 0 or -ENOMEM. Must be
 * called once before anything else touches @conf. */
int options_init(const struct gm_option_class *cls, void *conf);

/** Release what options_init and options_set allocated in @conf. Accepts a half-set struct. */
void options_release(const struct gm_option_class *cls, void *conf);

/** Find @name among the options of @cls only. */
const struct gm_option *options_find(const struct gm_option_class *cls, const char *name);

/** Check @value against @opt's type, choices and check function without storing it. Returns 0,
 * or -EINVAL with @why set to a static description of what was expected. */
int options_validate(const struct gm_option *opt, const json_t *value, const char **why);

/** Validate and store @value in @conf. Same errors as options_validate, or -ENOMEM. */
int options_set(const struct gm_option *opt, void *conf, const json_t *value, const char **why);

/** Convert a command-line string for @opt to JSON: strings stay strings, other types are parsed
 * as Python/JSON literals (true, 10, ["a"]); "true/false/yes/no/1/0" for booleans. Returns a
 * new reference or NULL if it does not parse. */
json_t *options_from_cli(const struct gm_option *opt, const char *text);

/** Human name of a type ("a string", "a list of strings"). */
const char *options_type_name(enum gm_option_type type);

enum options_format {
    OPTIONS_FORMAT_HELP,     /* --help-config */
    OPTIONS_FORMAT_PY,       /* --generate-config: commented jupyterhub_config.py */
    OPTIONS_FORMAT_MARKDOWN, /* docs/config.md */
    OPTIONS_FORMAT_MAX,
};

/** Write the reference for every class in @classes (NULL-terminated) to @out. */
void options_write_reference(FILE *out, const struct gm_option_class *const *classes,
                             enum options_format format);

/** Write @value as a Python literal (True, None, 'text', [..], {..}). */
void options_write_py_literal(FILE *out, const json_t *value);
