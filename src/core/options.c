/* Option tables: typed storage of configuration values by offset, and the generated reference.
 * Every setting the hub reads goes through here, so a wrong type is caught in one place and the
 * documentation cannot drift from the code. */
#include "core/options.h"
#include "core/config_py.h"
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[GM_OPTION_TYPE_MAX] = {
    [GM_OPTION_BOOL] = "a boolean",
    [GM_OPTION_INT] = "an integer",
    [GM_OPTION_FLOAT] = "a number",
    [GM_OPTION_STRING] = "a string",
    [GM_OPTION_STRINGS] = "a list of strings",
    [GM_OPTION_JSON] = "a value",
};

static const char *const short_type_names[GM_OPTION_TYPE_MAX] = {
    [GM_OPTION_BOOL] = "bool",  [GM_OPTION_INT] = "int",      [GM_OPTION_FLOAT] = "float",
    [GM_OPTION_STRING] = "str", [GM_OPTION_STRINGS] = "list", [GM_OPTION_JSON] = "any",
};

const char *options_type_name(enum gm_option_type type)
{
    return type < GM_OPTION_TYPE_MAX ? type_names[type] : "?";
}

const struct gm_option *options_find(const struct gm_option_class *cls, const char *name)
{
    for (const struct gm_option *o = cls->options; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

int options_validate(const struct gm_option *opt, const json_t *value, const char **why)
{
    *why = type_names[opt->type];
    switch (opt->type) {
    case GM_OPTION_BOOL:
        if (!json_is_boolean(value))
            return -EINVAL;
        break;
    case GM_OPTION_INT:
        if (!json_is_integer(value))
            return -EINVAL;
        break;
    case GM_OPTION_FLOAT:
        if (!json_is_number(value))
            return -EINVAL;
        break;
    case GM_OPTION_STRING:
        if (!json_is_string(value) && !json_is_null(value))
            return -EINVAL;
        if (opt->choices && json_is_string(value)) {
            bool ok = false;
            for (const char *const *c = opt->choices; *c; c++)
                ok = ok || strcmp(*c, json_string_value(value)) == 0;
            if (!ok) {
                *why = "one of the values listed by --help-config";
                return -EINVAL;
            }
        }
        break;
    case GM_OPTION_STRINGS: {
        if (!json_is_array(value))
            return -EINVAL;
        size_t i;
        json_t *v;
        json_array_foreach(value, i, v)
        {
            if (!json_is_string(v))
                return -EINVAL;
        }
        break;
    }
    case GM_OPTION_JSON:
    case GM_OPTION_TYPE_MAX:
        break;
    }
    if (opt->check && !json_is_null(value))
        return opt->check(value, why);
    return 0;
}

static void release_one(const struct gm_option *o, void *conf)
{
    char *p = (char *)conf + o->offset;
    switch (o->type) {
    case GM_OPTION_STRING:
        free(*(char **)p);
        *(char **)p = NULL;
        break;
    case GM_OPTION_STRINGS: {
        char **v = *(char ***)p;
        for (size_t i = 0; v && v[i]; i++)
            free(v[i]);
        free(v);
        *(char ***)p = NULL;
        break;
    }
    case GM_OPTION_JSON:
        json_decref(*(json_t **)p);
        *(json_t **)p = NULL;
        break;
    default:
        break;
    }
}

int options_set(const struct gm_option *opt, void *conf, const json_t *value, const char **why)
{
    int r = options_validate(opt, value, why);
    if (r < 0)
        return r;
    char *p = (char *)conf + opt->offset;
    switch (opt->type) {
    case GM_OPTION_BOOL:
        *(bool *)p = json_is_true(value);
        return 0;
    case GM_OPTION_INT:
        *(int64_t *)p = json_integer_value(value);
        return 0;
    case GM_OPTION_FLOAT:
        *(double *)p = json_number_value(value);
        return 0;
    case GM_OPTION_STRING: {
        char *s = strdup(json_is_string(value) ? json_string_value(value) : "");
        if (!s)
            return -ENOMEM;
        release_one(opt, conf);
        *(char **)p = s;
        return 0;
    }
    case GM_OPTION_STRINGS: {
        size_t n = json_array_size(value);
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
            return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
            v[i] = strdup(json_string_value(json_array_get(value, i)));
            if (!v[i]) {
                for (size_t j = 0; j < i; j++)
                    free(v[j]);
                free(v);
                return -ENOMEM;
            }
        }
        release_one(opt, conf);
        *(char ***)p = v;
        return 0;
    }
    case GM_OPTION_JSON:
        release_one(opt, conf);
        *(json_t **)p = json_is_null(value) ? NULL : json_deep_copy(value);
        return 0;
    case GM_OPTION_TYPE_MAX:
        break;
    }
    return -EINVAL;
}

static json_t *default_value(const struct gm_option *o)
{
    if (o->def)
        return json_loads(o->def, JSON_DECODE_ANY, NULL);
    switch (o->type) {
    case GM_OPTION_BOOL:
        return json_false();
    case GM_OPTION_INT:
        return json_integer(0);
    case GM_OPTION_FLOAT:
        return json_real(0);
    case GM_OPTION_STRING:
        return json_string("");
    case GM_OPTION_STRINGS:
        return json_array();
    default:
        return json_null();
    }
}

int options_init(const struct gm_option_class *cls, void *conf)
{
    for (const struct gm_option *o = cls->options; o && o->name; o++) {
        json_t *v = default_value(o);
        const char *why;
        /* A default that does not parse or fit is a programmer error in the table. */
        int r = v ? options_set(o, conf, v, &why) : -EINVAL;
        json_decref(v);
        if (r < 0)
            return r == -ENOMEM ? r : -EINVAL;
    }
    return 0;
}

void options_release(const struct gm_option_class *cls, void *conf)
{
    if (!conf)
        return;
    for (const struct gm_option *o = cls->options; o && o->name; o++)
        release_one(o, conf);
}

json_t *options_from_cli(const struct gm_option *opt, const char *text)
{
    switch (opt->type) {
    case GM_OPTION_STRING:
        return json_string(text);
    case GM_OPTION_BOOL:
        if (str_eq_ci(text, "true") || str_eq_ci(text, "yes") || strcmp(text, "1") == 0)
            return json_true();
        if (str_eq_ci(text, "false") || str_eq_ci(text, "no") || strcmp(text, "0") == 0)
            return json_false();
        return NULL;
    case GM_OPTION_STRINGS:
        if (!strchr("[({", text[0]))
            return json_pack("[s]", text);
        break;
    default:
        break;
    }
    json_t *v = NULL;
    char err[160];
    if (config_py_parse_literal(text, &v, err, sizeof(err)) == 0)
        return v;
    return opt->type == GM_OPTION_JSON ? json_string(text) : NULL;
}

/* Python literals for --generate-config, in the style of traitlets' generated files. */
static void write_py_string(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

void options_write_py_literal(FILE *out, const json_t *v)
{
    size_t i;
    const char *k;
    json_t *item;
    switch (json_typeof(v)) {
    case JSON_TRUE:
        fputs("True", out);
        break;
    case JSON_FALSE:
        fputs("False", out);
        break;
    case JSON_NULL:
        fputs("None", out);
        break;
    case JSON_INTEGER:
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fprintf(out, "%g", json_real_value(v));
        break;
    case JSON_STRING:
        write_py_string(out, json_string_value(v));
        break;
    case JSON_ARRAY:
        fputc('[', out);
        json_array_foreach(v, i, item)
        {
            if (i)
                fputs(", ", out);
            options_write_py_literal(out, item);
        }
        fputc(']', out);
        break;
    case JSON_OBJECT:
        fputc('{', out);
        i = 0;
        json_object_foreach((json_t *)v, k, item)
        {
            if (i++)
                fputs(", ", out);
            write_py_string(out, k);
            fputs(": ", out);
            options_write_py_literal(out, item);
        }
        fputc('}', out);
        break;
    }
}

static void write_default(FILE *out, const struct gm_option *o, enum options_format format)
{
    json_t *v = default_value(o);
    if (!v)
        return;
    if (format == OPTIONS_FORMAT_PY) {
        options_write_py_literal(out, v);
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        fputs(s ? s : "?", out);
        free(s);
    }
    json_decref(v);
}

static void write_choices(FILE *out, const struct gm_option *o)
{
    if (!o->choices)
        return;
    fputs(" One of:", out);
    for (const char *const *c = o->choices; *c; c++)
        fprintf(out, "%s '%s'", c == o->choices ? "" : ",", *c);
    fputc('.', out);
}

static void write_class(FILE *out, const struct gm_option_class *cls, enum options_format format)
{
    switch (format) {
    case OPTIONS_FORMAT_HELP:
        fprintf(out, "%s%s%s%s: %s\n", cls->name, cls->parent ? " (inherits " : "",
                cls->parent ? cls->parent : "", cls->parent ? ")" : "", cls->help);
        break;
    case OPTIONS_FORMAT_PY:
        fprintf(out, "\n#%s\n# %s(%s) configuration\n#%s\n## %s\n",
                "-----------------------------"
                "-------------------------------------------------",
                cls->name, cls->parent ? cls->parent : "",
                "----------------------------------------------"
                "--------------------------------",
                cls->help);
        break;
    case OPTIONS_FORMAT_MARKDOWN:
        fprintf(out,
                "\n## %s\n\n%s%s%s%s\n\n| setting | type | default | description |\n"
                "|---|---|---|---|\n",
                cls->name, cls->help,
                cls->parent ? " Inherits the "
                              "settings of `"
                            : "",
                cls->parent ? cls->parent : "", cls->parent ? "`." : "");
        break;
    default:
        break;
    }
    for (const struct gm_option *o = cls->options; o && o->name; o++) {
        switch (format) {
        case OPTIONS_FORMAT_HELP:
            fprintf(out, "  --%s.%s=<%s>  (default: ", cls->name, o->name,
                    short_type_names[o->type]);
            write_default(out, o, format);
            fprintf(out, ")\n      %s", o->help);
            write_choices(out, o);
            if (o->env)
                fprintf(out, " Environment: %s.", o->env);
            fputc('\n', out);
            break;
        case OPTIONS_FORMAT_PY:
            fprintf(out, "\n## %s", o->help);
            write_choices(out, o);
            if (o->env)
                fprintf(out, "\n#  Environment variable: %s", o->env);
            fputs("\n#  Default: ", out);
            write_default(out, o, format);
            fprintf(out, "\n# c.%s.%s = ", cls->name, o->name);
            write_default(out, o, format);
            fputc('\n', out);
            break;
        case OPTIONS_FORMAT_MARKDOWN:
            fprintf(out, "| `%s.%s` | %s | `", cls->name, o->name, short_type_names[o->type]);
            write_default(out, o, format);
            fprintf(out, "` | %s", o->help);
            write_choices(out, o);
            if (o->env)
                fprintf(out, " Environment: `%s`.", o->env);
            fputs(" |\n", out);
            break;
        default:
            break;
        }
    }
    if (format == OPTIONS_FORMAT_HELP)
        fputc('\n', out);
}

void options_write_reference(FILE *out, const struct gm_option_class *const *classes,
                             enum options_format format)
{
    switch (format) {
    case OPTIONS_FORMAT_HELP:
        fputs("Settings, as --Class.trait=value flags or in a config file (-f):\n\n", out);
        break;
    case OPTIONS_FORMAT_PY:
        fputs("# Configuration file for ganymede, in the jupyterhub_config.py format.\n"
              "# Ganymede reads only literal assignments (c.Class.trait = <literal>) and never\n"
              "# runs Python. The same settings can be given as JSON or YAML:\n"
              "#     {\"JupyterHub\": {\"bind_url\": \"http://:8000\"}}\n"
              "c = get_config()  # noqa\n",
              out);
        break;
    case OPTIONS_FORMAT_MARKDOWN:
        fputs("# Configuration reference\n\n"
              "Generated from the option tables by `ganymede --help-config=markdown`; do not edit "
              "by hand (`./dev docs` regenerates it, `./dev test` checks it is current).\n\n"
              "Settings are given in a config file (`-f jupyterhub_config.py`, `.json` or "
              "`.yaml`) as `c.Class.trait = value`, `{\"Class\": {\"trait\": value}}`, or on the "
              "command line as `--Class.trait=value`. A setting of a parent class (`Spawner`) "
              "applies to every class that inherits it.\n",
              out);
        break;
    default:
        break;
    }
    for (const struct gm_option_class *const *c = classes; *c; c++)
        if (!(*c)->hidden)
            write_class(out, *c, format);
}
