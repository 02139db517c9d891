/* The batch options form: what a user may choose for their job (as deployments build with
 * jupyterhub_moss), each field a list of choices or a number range, checked by the hub both
 * when the form is posted and when user_options come through the REST API.
 *
 *     c.SlurmSpawner.batch_options = {
 *         "partition": {"label": "Partition", "choices": ["debug", "gpu"], "default": "debug"},
 *         "runtime": {"choices": ["1:00:00", "4:00:00", "8:00:00"]},
 *         "memory": {"choices": ["4G", "16G"], "default": "4G"},
 *         "nprocs": {"min": 1, "max": 16, "default": 2},
 *         "ngpus": {"min": 0, "max": 2},
 *     }
 *
 * The chosen values fill the script's variables of the same names ({{partition}}, ...), in
 * place of the req_* settings. */
#include "slurm.h"

#include <errno.h>
#include <ganymede/buf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORM_MAX (256 * 1024)

static const struct {
    const char *key;
    const char *label;
} fields[] = {
    {"partition", "Partition"}, {"runtime", "Run time"}, {"memory", "Memory"}, {"nprocs", "CPUs"},
    {"ngpus", "GPUs"},          {"account", "Account"},  {"qos", "QOS"},
};

static const char *default_label(const char *key)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(fields[i].key, key) == 0)
            return fields[i].label;
    return NULL;
}

static bool is_range(const json_t *f)
{
    return json_object_get(f, "min") || json_object_get(f, "max");
}

int slurm_form_check(const json_t *options, char *err, size_t errlen)
{
    if (!json_is_object(options)) {
        snprintf(err, errlen, "batch_options must be a dict of fields");
        return -EINVAL;
    }
    const char *k;
    json_t *f;
    json_object_foreach((json_t *)options, k, f)
    {
        if (!default_label(k)) {
            snprintf(err, errlen,
                     "batch_options: '%.64s' is not a field (partition, runtime, memory, nprocs, "
                     "ngpus, account, qos)",
                     k);
            return -EINVAL;
        }
        const json_t *label = json_object_get(f, "label");
        if (!json_is_object(f) || (label && !json_is_string(label))) {
            snprintf(err, errlen, "batch_options['%s'] must be a dict with a string label", k);
            return -EINVAL;
        }
        const json_t *choices = json_object_get(f, "choices");
        const json_t *def = json_object_get(f, "default");
        if (is_range(f)) {
            const json_t *lo = json_object_get(f, "min"), *hi = json_object_get(f, "max");
            if (choices || !json_is_integer(lo) || !json_is_integer(hi) ||
                json_integer_value(lo) < 0 || json_integer_value(hi) < json_integer_value(lo) ||
                (def &&
                 (!json_is_integer(def) || json_integer_value(def) < json_integer_value(lo) ||
                  json_integer_value(def) > json_integer_value(hi)))) {
                snprintf(err, errlen,
                         "batch_options['%s']: a range needs integers min <= max (and a default "
                         "between them), and no choices",
                         k);
                return -EINVAL;
            }
            continue;
        }
        if (!json_is_array(choices) || !json_array_size(choices) ||
            json_array_size(choices) > 200) {
            snprintf(err, errlen, "batch_options['%s'] needs choices (1 to 200) or min and max", k);
            return -EINVAL;
        }
        size_t i;
        json_t *c;
        bool def_found = !def;
        json_array_foreach(choices, i, c)
        {
            if (!json_is_string(c) || !json_string_length(c) || json_string_length(c) > 128 ||
                strpbrk(json_string_value(c), "\n\r")) {
                snprintf(err, errlen, "batch_options['%s']: choices must be strings of one line",
                         k);
                return -EINVAL;
            }
            def_found = def_found || json_equal(c, def);
        }
        if (!def_found) {
            snprintf(err, errlen, "batch_options['%s']: the default is not one of the choices", k);
            return -EINVAL;
        }
    }
    return 0;
}

/* The value as the script gets it (a string), or NULL when @field does not accept it. */
static char *accepted(const json_t *field, const json_t *value)
{
    if (is_range(field)) {
        long long n;
        char *end;
        if (json_is_integer(value)) {
            n = json_integer_value(value);
        } else if (json_is_string(value) && json_string_length(value) &&
                   json_string_length(value) < 20) {
            n = strtoll(json_string_value(value), &end, 10);
            if (*end)
                return NULL;
        } else {
            return NULL;
        }
        if (n < json_integer_value(json_object_get(field, "min")) ||
            n > json_integer_value(json_object_get(field, "max")))
            return NULL;
        char *s = NULL;
        return asprintf(&s, "%lld", n) < 0 ? NULL : s;
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(field, "choices"), i, c)
    {
        if (json_equal(c, value))
            return strdup(json_string_value(c));
    }
    return NULL;
}

int slurm_form_values(const json_t *options, const json_t *user_options, json_t *vars, char *err,
                      size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)user_options, k, v)
    {
        const json_t *field = json_object_get(options, k);
        if (!field)
            continue; /* not a batch option (batchspawner would put it into the script) */
        char *s = accepted(field, v);
        if (!s) {
            char *text = json_dumps(v, JSON_ENCODE_ANY);
            snprintf(err, errlen, "%s %.60s is not allowed here (batch_options)", k,
                     text ? text : "");
            free(text);
            return -EINVAL;
        }
        int r = json_object_set_new(vars, k, json_string(s));
        free(s);
        if (r < 0) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    return 0;
}

char *slurm_options_form(void *state, const char *user, const char *const *groups)
{
    (void)user;
    (void)groups;
    struct slurm_state *st = state;
    const json_t *options = st->conf->batch_options;
    if (!json_object_size(options))
        return NULL;
    struct gm_buf b;
    gm_buf_init(&b, FORM_MAX);
    const char *k;
    json_t *f;
    json_object_foreach((json_t *)options, k, f)
    {
        const char *label = json_string_value(json_object_get(f, "label"));
        gm_buf_printf(&b, "<div class=\"form-group\">\n<label for=\"batch-%s\">", k);
        gm_buf_html_escape(&b, label ? label : default_label(k));
        gm_buf_puts(&b, "</label>\n");
        const json_t *def = json_object_get(f, "default");
        if (is_range(f)) {
            long long lo = json_integer_value(json_object_get(f, "min"));
            long long hi = json_integer_value(json_object_get(f, "max"));
            gm_buf_printf(&b,
                          "<input class=\"form-control\" type=\"number\" id=\"batch-%s\" "
                          "name=\"%s\" min=\"%lld\" max=\"%lld\" step=\"1\" value=\"%lld\" "
                          "required>\n",
                          k, k, lo, hi, def ? (long long)json_integer_value(def) : lo);
        } else {
            gm_buf_printf(&b, "<select class=\"form-control\" id=\"batch-%s\" name=\"%s\">\n", k,
                          k);
            size_t i;
            json_t *c;
            json_array_foreach(json_object_get(f, "choices"), i, c)
            {
                gm_buf_puts(&b, "<option value=\"");
                gm_buf_html_escape(&b, json_string_value(c));
                gm_buf_puts(&b, json_equal(c, def) ? "\" selected>" : "\">");
                gm_buf_html_escape(&b, json_string_value(c));
                gm_buf_puts(&b, "</option>\n");
            }
            gm_buf_puts(&b, "</select>\n");
        }
        gm_buf_puts(&b, "</div>\n");
    }
    if (b.error) {
        gm_buf_free(&b);
        return NULL;
    }
    return gm_buf_steal(&b);
}

int slurm_options_from_form(void *state, const json_t *form, json_t **user_options, char *err,
                            size_t errlen)
{
    struct slurm_state *st = state;
    const json_t *options = st->conf->batch_options;
    json_t *opts = json_object();
    if (!opts) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    const char *k;
    json_t *f;
    json_object_foreach((json_t *)options, k, f)
    {
        const json_t *v = json_array_get(json_object_get(form, k), 0);
        if (!v)
            continue;
        char *s = accepted(f, v);
        if (!s) {
            snprintf(err, errlen, "%s: '%.60s' is not one of the values allowed",
                     json_string_value(json_object_get(f, "label"))
                         ? json_string_value(json_object_get(f, "label"))
                         : default_label(k),
                     json_string_value(v) ? json_string_value(v) : "");
            json_decref(opts);
            return -EINVAL;
        }
        json_object_set_new(opts, k, json_string(s));
        free(s);
    }
    *user_options = opts;
    return 0;
}
