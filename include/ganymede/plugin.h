/* What every Ganymede plugin (authenticator, spawner) and every core subsystem uses to declare
 * its configuration, and the async contract that plugins follow.
 *
 * Options. A module declares its settings as a table of struct gm_option, each naming a trait
 * (JupyterHub's name, e.g. "image" for KubeSpawner.image), its type, where it lives in the
 * module's config struct (offsetof), its default and one sentence of help. The core parses the
 * configuration straight into that struct, refuses unknown keys with the closest known one, and
 * generates `ganymede --help-config`, `--generate-config` and docs/config.md from the tables.
 *
 * Async operations. A starting call returns < 0 (and its callback never runs) or 0 (and the
 * plugin calls the completion exactly once, later, on the loop thread), as libuv does.
 *
 * Ownership. Pointer parameters are borrowed unless a comment says "stolen" (the callee takes
 * it over) or "caller frees". */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Bumped whenever a struct in include/ganymede/ changes incompatibly. Every plugin struct
 * starts with the version it was built against. */
#define GM_ABI_VERSION 4

enum gm_option_type {
    GM_OPTION_BOOL,    /* bool */
    GM_OPTION_INT,     /* int64_t */
    GM_OPTION_FLOAT,   /* double; integers are accepted */
    GM_OPTION_STRING,  /* char *, owned, never NULL once defaults are set ("" = unset) */
    GM_OPTION_STRINGS, /* char **, owned, NULL-terminated; a list, tuple or set of strings */
    GM_OPTION_JSON,    /* json_t *, owned reference, NULL when unset; shape checked by `check` */
    GM_OPTION_TYPE_MAX,
};

struct gm_option {
    const char *name;           /* trait name */
    enum gm_option_type type;   /* storage and accepted values */
    size_t offset;              /* offsetof() into the owner's config struct */
    const char *def;            /* default as JSON text; NULL means "", false, 0, [] or null */
    const char *help;           /* one sentence */
    const char *env;            /* environment variable read when the config does not set it */
    const char *const *choices; /* for strings: NULL-terminated allowed values, or NULL */
    /** Optional extra validation. Returns 0, or -EINVAL and points @why at a static message
     * ("must be a dict of strings"). */
    int (*check)(const json_t *value, const char **why);
};

/** An option table entry: name, type, offsetof(), default as JSON text (or NULL), help. */
#define GM_OPTION(n, t, o, d, h)                                                                   \
    {                                                                                              \
        .name = (n), .type = (t), .offset = (o), .def = (d), .help = (h)                           \
    }

/** The same with more fields given as designators: .env = "X", .check = fn, .choices = list. */
#define GM_OPTION_X(n, t, o, d, h, ...)                                                            \
    {                                                                                              \
        .name = (n), .type = (t), .offset = (o), .def = (d), .help = (h), __VA_ARGS__              \
    }

/** The end of an option table. */
#define GM_OPTION_END                                                                              \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* Checks shared by many option tables (.check = gm_check_...); @why names what is expected. */
int gm_check_positive(const json_t *v, const char **why);     /* a number > 0 */
int gm_check_seconds(const json_t *v, const char **why);      /* a number of seconds >= 0 */
int gm_check_bool_or_null(const json_t *v, const char **why); /* True, False or None */
int gm_check_dict(const json_t *v, const char **why);         /* any dict */
int gm_check_str_dict(const json_t *v, const char **why);     /* a dict of strings */
int gm_check_dict_list(const json_t *v, const char **why);    /* a list of dicts */
int gm_check_command(const json_t *v, const char **why);      /* None, a command line, or a
                                                                 list of strings */

/** Give an owned string setting (GM_OPTION_STRING) the value @value when it is unset ("") and
 * @value is not: how a deprecated alias fills in its new name. Returns 0 or -ENOMEM. */
int gm_option_fill_string(char **field, const char *value);

struct gm_option_class {
    const char *name;   /* traitlets class name, e.g. "LocalProcessSpawner" */
    const char *parent; /* class whose settings it inherits (e.g. "Spawner"), or NULL */
    const char *help;   /* one line describing the class */
    const struct gm_option *options;
    bool hidden; /* left out of --help-config and the docs (test-only plugins) */
};
