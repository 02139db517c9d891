/* Loading, checking and applying configuration. The tree keeps values exactly as given; types
 * are checked only when a value meets its option (config_apply), so every error can name the
 * key, where it was set and what was expected. */
#include "core/config.h"
#include "core/config_py.h"
#include "core/config_yaml.h"
#include "core/config_z2jh.h"
#include "core/options.h"
#include <ganymede/buf.h>
#include "util/str.h"

#include <errno.h>
#include <fcntl.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_FILE (4 << 20)

int config_init(struct config *cfg)
{
    cfg->tree = json_object();
    cfg->origins = json_object();
    cfg->files = json_array();
    if (!cfg->tree || !cfg->origins || !cfg->files) {
        config_release(cfg);
        return -ENOMEM;
    }
    return 0;
}

void config_release(struct config *cfg)
{
    if (!cfg)
        return;
    json_decref(cfg->tree);
    json_decref(cfg->origins);
    json_decref(cfg->files);
    cfg->tree = cfg->origins = cfg->files = NULL;
}

static json_t *section(json_t *root, const char *cls)
{
    json_t *s = json_object_get(root, cls);
    if (!s) {
        s = json_object();
        json_object_set_new(root, cls, s);
    }
    return s;
}

int config_set(struct config *cfg, const char *cls, const char *trait, json_t *value,
               const char *origin)
{
    if (!value)
        return -ENOMEM;
    json_object_set_new(section(cfg->tree, cls), trait, value);
    json_object_set_new(section(cfg->origins, cls), trait, json_string(origin ? origin : "config"));
    return 0;
}

json_t *config_get(const struct config *cfg, const char *cls, const char *trait)
{
    return json_object_get(json_object_get(cfg->tree, cls), trait);
}

const char *config_origin(const struct config *cfg, const char *cls, const char *trait)
{
    const char *o = json_string_value(json_object_get(json_object_get(cfg->origins, cls), trait));
    return o ? o : "config";
}

static int read_file(const char *path, char **ret, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(e));
        return e == ENOENT ? -ENOENT : -EINVAL;
    }
    struct gm_buf b;
    gm_buf_init(&b, CONFIG_MAX_FILE);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0) {
            close(fd);
            *len = b.len;
            *ret = gm_buf_steal(&b);
            return *ret ? 0 : -ENOMEM;
        }
        if (gm_buf_append(&b, chunk, (size_t)n) < 0) {
            snprintf(err, errlen, "config file %s is larger than %d MiB", path,
                     CONFIG_MAX_FILE >> 20);
            break;
        }
    }
    close(fd);
    gm_buf_free(&b);
    return -EINVAL;
}

/* A zero-to-jupyterhub values.yaml keeps hub settings under hub.config. */
static bool is_z2jh_values(json_t *doc)
{
    json_t *hub = json_object_get(doc, "hub");
    if (!json_is_object(json_object_get(hub, "config")))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (k[0] >= 'A' && k[0] <= 'Z')
            return false;
    }
    return true;
}

static int merge_doc(struct config *cfg, json_t *doc, json_t *origins, const char *path, char *err,
                     size_t errlen)
{
    if (!json_is_object(doc)) {
        snprintf(err, errlen,
                 "%s: the config must be a mapping of classes to settings, e.g. "
                 "{\"JupyterHub\": {\"bind_url\": \"http://:8000\"}}",
                 path);
        return -EINVAL;
    }
    const char *cls;
    json_t *settings;
    json_object_foreach(doc, cls, settings)
    {
        if (!(cls[0] >= 'A' && cls[0] <= 'Z') || !json_is_object(settings)) {
            snprintf(err, errlen,
                     "%s: top-level key '%s' is not a class with a mapping of "
                     "settings; expected {\"Class\": {\"trait\": value}}",
                     path, cls);
            return -EINVAL;
        }
    }
    json_object_foreach(doc, cls, settings)
    {
        const char *trait;
        json_t *value;
        json_t *os = json_object_get(origins, cls);
        json_object_foreach(settings, trait, value)
        {
            json_t *o = json_object_get(os, trait);
            if (json_is_object(o))
                o = json_object_get(o, "");
            config_set(cfg, cls, trait, json_incref(value),
                       json_is_string(o) ? json_string_value(o) : path);
        }
    }
    return 0;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    int r = read_file(path, &text, &len, err, errlen);
    if (r < 0)
        return r;
    json_t *doc = NULL, *origins = NULL;
    if (str_has_suffix(path, ".py") && config_z2jh_detect(text, len)) {
        /* The chart's own jupyterhub_config.py: what it computes, from what the chart mounted
         * beside it. */
        free(text);
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof(dir), ".");
        r = config_z2jh_load(cfg, dir, err, errlen);
        if (r == 0)
            json_array_append_new(cfg->files, json_string(path));
        return r;
    } else if (str_has_suffix(path, ".py")) {
        doc = json_object();
        origins = json_object();
        r = config_py_parse(text, len, path, doc, origins, err, errlen);
    } else if (str_has_suffix(path, ".json")) {
        json_error_t jerr;
        doc = json_loadb(text, len, 0, &jerr);
        if (!doc) {
            snprintf(err, errlen, "%s:%d:%d: not valid JSON: %s", path, jerr.line, jerr.column,
                     jerr.text);
            r = -EINVAL;
        }
    } else if (str_has_suffix(path, ".yaml") || str_has_suffix(path, ".yml")) {
        r = config_yaml_parse(text, len, path, &doc, &origins, err, errlen);
    } else {
        snprintf(err, errlen, "%s: config files must end in .py, .json, .yaml or .yml", path);
        r = -EINVAL;
    }
    free(text);
    if (r == 0 && is_z2jh_values(doc)) {
        gm_log_info("Reading the hub.config block of the zero-to-jupyterhub values file %s", path);
        json_t *inner = json_incref(json_object_get(json_object_get(doc, "hub"), "config"));
        json_t *inner_o = json_incref(json_object_get(json_object_get(origins, "hub"), "config"));
        json_decref(doc);
        json_decref(origins);
        doc = inner;
        origins = inner_o;
    }
    if (r == 0)
        r = merge_doc(cfg, doc, origins, path, err, errlen);
    if (r == 0)
        json_array_append_new(cfg->files, json_string(path));
    json_decref(doc);
    json_decref(origins);
    return r;
}

const struct gm_option_class *config_find_class(const struct gm_option_class *const *classes,
                                                const char *name)
{
    for (; *classes; classes++)
        if (strcmp((*classes)->name, name) == 0)
            return *classes;
    return NULL;
}

/* Whether @cls is @ancestor or inherits from it. */
static bool inherits(const struct gm_option_class *const *classes,
                     const struct gm_option_class *cls, const char *ancestor)
{
    for (int depth = 0; cls && depth < 16; depth++) {
        if (strcmp(cls->name, ancestor) == 0)
            return true;
        cls = cls->parent ? config_find_class(classes, cls->parent) : NULL;
    }
    return false;
}

/* An option a setting of class @cls may name: declared by the class, by one of its ancestors,
 * or (as traitlets allows: c.Spawner.image configures KubeSpawner) by a class inheriting it. */
static const struct gm_option *find_in_family(const struct gm_option_class *const *classes,
                                              const struct gm_option_class *cls, const char *trait)
{
    const struct gm_option_class *c = cls;
    for (int depth = 0; c && depth < 16; depth++) {
        const struct gm_option *o = options_find(c, trait);
        if (o)
            return o;
        c = c->parent ? config_find_class(classes, c->parent) : NULL;
    }
    for (const struct gm_option_class *const *d = classes; *d; d++) {
        if (*d != cls && inherits(classes, *d, cls->name)) {
            const struct gm_option *o = options_find(*d, trait);
            if (o)
                return o;
        }
    }
    return NULL;
}

int config_set_arg(struct config *cfg, const struct gm_option_class *const *classes,
                   const char *key, const char *value, char *err, size_t errlen)
{
    const char *dot = strchr(key, '.');
    if (!dot || dot == key || !dot[1] || strchr(dot + 1, '.')) {
        snprintf(err, errlen, "--%s: settings are given as --Class.trait=value", key);
        return -EINVAL;
    }
    char cls[128];
    if ((size_t)(dot - key) >= sizeof(cls)) {
        snprintf(err, errlen, "--%s: the class name is too long", key);
        return -EINVAL;
    }
    snprintf(cls, sizeof(cls), "%.*s", (int)(dot - key), key);
    const char *trait = dot + 1;
    char origin[300];
    snprintf(origin, sizeof(origin), "--%s", key);
    const struct gm_option_class *c = config_find_class(classes, cls);
    const struct gm_option *o = c ? find_in_family(classes, c, trait) : NULL;
    if (!o)
        return config_set(cfg, cls, trait, json_string(value), origin);
    json_t *v = options_from_cli(o, value);
    if (!v) {
        snprintf(err, errlen, "--%s: '%s' is not %s", key, value, options_type_name(o->type));
        return -EINVAL;
    }
    return config_set(cfg, cls, trait, v, origin);
}

struct suggestion {
    const char *cls;
    const char *name;
    unsigned distance;
};

static void consider(struct suggestion *s, const char *cls, const char *name, const char *typed)
{
    unsigned d = str_distance(typed, name);
    if (d < s->distance) {
        s->distance = d;
        s->cls = cls;
        s->name = name;
    }
}

static bool close_enough(const struct suggestion *s, const char *typed)
{
    size_t n = strlen(typed);
    unsigned limit = n < 6 ? 1 : n < 12 ? 2 : 3;
    return s->name && s->distance <= limit;
}

static int check_class(const struct config *cfg, const struct gm_option_class *const *classes,
                       const struct gm_option_class *cls, json_t *settings, char *err,
                       size_t errlen)
{
    const char *trait;
    json_t *value;
    json_object_foreach(settings, trait, value)
    {
        if (find_in_family(classes, cls, trait))
            continue;
        bool elsewhere = false;
        const struct gm_option_class *c = cls;
        for (int depth = 0; c && depth < 16 && !elsewhere; depth++) {
            elsewhere = config_known_elsewhere(c->name, trait);
            c = c->parent ? config_find_class(classes, c->parent) : NULL;
        }
        if (elsewhere) {
            gm_log_warn("%s.%s (%s) is a JupyterHub setting that Ganymede does not implement; "
                        "it is ignored",
                        cls->name, trait, config_origin(cfg, cls->name, trait));
            continue;
        }
        struct suggestion s = {.distance = 1000};
        for (c = cls; c; c = c->parent ? config_find_class(classes, c->parent) : NULL)
            for (const struct gm_option *o = c->options; o && o->name; o++)
                consider(&s, c->name, o->name, trait);
        for (const struct gm_option_class *const *d = classes; *d; d++)
            if (*d != cls && inherits(classes, *d, cls->name))
                for (const struct gm_option *o = (*d)->options; o && o->name; o++)
                    consider(&s, cls->name, o->name, trait);
        if (close_enough(&s, trait))
            snprintf(err, errlen, "unknown setting %s.%s (%s); did you mean %s.%s?", cls->name,
                     trait, config_origin(cfg, cls->name, trait), cls->name, s.name);
        else
            snprintf(err, errlen,
                     "unknown setting %s.%s (%s); `ganymede --help-config` lists "
                     "every setting",
                     cls->name, trait, config_origin(cfg, cls->name, trait));
        return -EINVAL;
    }
    return 0;
}

int config_check(const struct config *cfg, const struct gm_option_class *const *classes, char *err,
                 size_t errlen)
{
    const char *name;
    json_t *settings;
    json_object_foreach(cfg->tree, name, settings)
    {
        const struct gm_option_class *cls = config_find_class(classes, name);
        if (cls) {
            int r = check_class(cfg, classes, cls, settings, err, errlen);
            if (r < 0)
                return r;
            continue;
        }
        const char *first = NULL;
        const char *k;
        json_t *v;
        json_object_foreach(settings, k, v)
        {
            first = k;
            break;
        }
        const char *where = first ? config_origin(cfg, name, first) : "config";
        if (config_known_class_elsewhere(name)) {
            gm_log_warn("%s (%s) is a JupyterHub class that Ganymede does not implement; its "
                        "settings are ignored",
                        name, where);
            continue;
        }
        struct suggestion s = {.distance = 1000};
        for (const struct gm_option_class *const *c = classes; *c; c++)
            consider(&s, (*c)->name, (*c)->name, name);
        if (close_enough(&s, name)) {
            snprintf(err, errlen, "unknown class %s (%s); did you mean %s?", name, where, s.name);
            return -EINVAL;
        }
        gm_log_warn("%s (%s) is not a class Ganymede knows; its settings are ignored", name, where);
    }
    return 0;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a dict";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "None";
    }
}

int config_apply(const struct config *cfg, const struct gm_option_class *const *chain,
                 void *const *confs, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const char *trait;
        json_t *value;
        json_object_foreach(json_object_get(cfg->tree, chain[i]->name), trait, value)
        {
            const struct gm_option *o = NULL;
            size_t owner = 0;
            for (size_t j = n; j-- > 0 && !o;) {
                o = options_find(chain[j], trait);
                owner = j;
            }
            if (!o)
                continue; /* a setting for a sibling class; config_check vetted it */
            const char *why = NULL;
            int r = options_set(o, confs[owner], value, &why);
            if (r == -ENOMEM) {
                snprintf(err, errlen, "out of memory");
                return r;
            }
            if (r < 0) {
                snprintf(err, errlen, "%s.%s (%s) must be %s, not %s", chain[i]->name, trait,
                         config_origin(cfg, chain[i]->name, trait), why, json_kind(value));
                return r;
            }
        }
    }
    for (size_t j = 0; j < n; j++) {
        for (const struct gm_option *o = chain[j]->options; o && o->name; o++) {
            if (!o->env)
                continue;
            bool set = false;
            for (size_t i = 0; i < n && !set; i++)
                set = config_get(cfg, chain[i]->name, o->name) != NULL;
            const char *text = getenv(o->env);
            if (set || !text || !*text)
                continue;
            json_t *v = options_from_cli(o, text);
            const char *why = options_type_name(o->type);
            int r = v ? options_set(o, confs[j], v, &why) : -EINVAL;
            json_decref(v);
            if (r < 0) {
                snprintf(err, errlen, "environment variable %s (for %s.%s) must be %s", o->env,
                         chain[j]->name, o->name, why);
                return r;
            }
        }
    }
    return 0;
}
