/* The job description slurmrestd takes, made from a batch script as sbatch would read it.
 *
 * sbatch reads the #SBATCH directives at the top of the script; slurmrestd 22.05 does not (it
 * takes the job's properties as JSON beside the script, and ignores the directives). So the
 * REST backend reads them here, the way sbatch does (up to the first line that is neither a
 * comment nor blank; several options to a line; "--opt=v", "--opt v", "-Xv", "-X v"), and turns
 * each into its v0.0.38 property. A directive this table does not know is refused with its
 * name: dropping it would run a job other than the one the script asks for. */
#include "slurm.h"

#include <ctype.h>
#include <ganymede/strv.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIRECTIVE_WORDS 64 /* options on one #SBATCH line */
#define WORD_MAX        4096

enum value_kind {
    V_STRING,   /* the value as it is */
    V_INT,      /* a non-negative integer */
    V_MINUTES,  /* a SLURM time ([days-]hours:minutes:seconds ...) in minutes */
    V_MEGS,     /* a size with an optional K, M, G or T suffix (M when none), in megabytes */
    V_NODES,    /* "N" or "MIN-MAX": an array of one or two integers */
    V_TRUE,     /* a flag, no value: true */
    V_FALSE,    /* a flag, no value: false */
    V_OPTIONAL, /* a flag that may take a value (--get-user-env[=10L]): the value, else "0" */
    V_EXPORT,   /* --export: which of the environment the job gets */
    V_IGNORE,   /* changes nothing in the job (--parsable, --quiet) */
};

static const struct directive {
    const char *name; /* the long option, without "--" */
    char letter;      /* its short option, or 0 */
    enum value_kind kind;
    const char *property; /* its v0.0.38 job property */
} directives[] = {
    {"account", 'A', V_STRING, "account"},
    {"array", 'a', V_STRING, "array"},
    {"chdir", 'D', V_STRING, "current_working_directory"},
    {"comment", 0, V_STRING, "comment"},
    {"constraint", 'C', V_STRING, "constraints"},
    {"cpus-per-gpu", 0, V_STRING, "cpus_per_gpu"},
    {"cpus-per-task", 'c', V_INT, "cpus_per_task"},
    {"dependency", 'd', V_STRING, "dependency"},
    {"error", 'e', V_STRING, "standard_error"},
    {"export", 0, V_EXPORT, NULL},
    {"get-user-env", 0, V_OPTIONAL, "get_user_environment"},
    {"gpus", 'G', V_STRING, "gpus"},
    {"gpus-per-node", 0, V_STRING, "gpus_per_node"},
    {"gpus-per-task", 0, V_STRING, "gpus_per_task"},
    {"gres", 0, V_STRING, "gres"},
    {"gres-flags", 0, V_STRING, "gres_flags"},
    {"hold", 'H', V_TRUE, "hold"},
    {"input", 'i', V_STRING, "standard_input"},
    {"job-name", 'J', V_STRING, "name"},
    {"licenses", 'L', V_STRING, "licenses"},
    {"mail-type", 0, V_STRING, "mail_type"},
    {"mail-user", 0, V_STRING, "mail_user"},
    {"mem", 0, V_MEGS, "memory_per_node"},
    {"mem-per-cpu", 0, V_MEGS, "memory_per_cpu"},
    {"mem-per-gpu", 0, V_MEGS, "memory_per_gpu"},
    {"nice", 0, V_INT, "nice"},
    {"no-requeue", 0, V_FALSE, "requeue"},
    {"nodes", 'N', V_NODES, "nodes"},
    {"ntasks", 'n', V_INT, "tasks"},
    {"ntasks-per-node", 0, V_INT, "tasks_per_node"},
    {"open-mode", 0, V_STRING, "open_mode"},
    {"output", 'o', V_STRING, "standard_output"},
    {"oversubscribe", 's', V_TRUE, "oversubscribe"},
    {"parsable", 0, V_IGNORE, NULL},
    {"partition", 'p', V_STRING, "partition"},
    {"prefer", 0, V_STRING, "prefer"},
    {"qos", 'q', V_STRING, "qos"},
    {"quiet", 'Q', V_IGNORE, NULL},
    {"requeue", 0, V_TRUE, "requeue"},
    {"reservation", 0, V_STRING, "reservation"},
    {"signal", 0, V_STRING, "signal"},
    {"time", 't', V_MINUTES, "time_limit"},
    {"time-min", 0, V_MINUTES, "time_minimum"},
    {"verbose", 'v', V_IGNORE, NULL},
    {"wckey", 0, V_STRING, "wckey"},
};

static const struct directive *find_long(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
        if (strlen(directives[i].name) == n && strncmp(directives[i].name, name, n) == 0)
            return &directives[i];
    return NULL;
}

static const struct directive *find_short(char letter)
{
    for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
        if (directives[i].letter == letter)
            return &directives[i];
    return NULL;
}

static bool takes_value(const struct directive *d)
{
    return d->kind != V_TRUE && d->kind != V_FALSE && d->kind != V_OPTIONAL && d->kind != V_IGNORE;
}

/* The words of one directive line (after "#SBATCH"), as sbatch splits them: blanks separate,
 * quotes group and are removed, an unquoted '#' ends the line. Returns the count, or -E2BIG. */
static int split_words(const char *s, char (*words)[WORD_MAX], int max)
{
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            break;
        if (n == max)
            return -E2BIG;
        size_t len = 0;
        char quote = 0;
        for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
            if (!quote && (*s == '"' || *s == '\'')) {
                quote = *s;
                continue;
            }
            if (quote && *s == quote) {
                quote = 0;
                continue;
            }
            if (len + 1 >= WORD_MAX)
                return -E2BIG;
            words[n][len++] = *s;
        }
        words[n][len] = '\0';
        n++;
    }
    return n;
}

/* An unsigned decimal number of at most @max; false for anything else. */
static bool parse_uint(const char *s, long max, long *ret)
{
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *ret = v;
    return true;
}

/* SLURM's time formats (man sbatch, --time): "minutes", "minutes:seconds",
 * "hours:minutes:seconds", "days-hours", "days-hours:minutes", "days-hours:minutes:seconds";
 * seconds round up to the next minute. */
int slurm_parse_minutes(const char *s, long *ret)
{
    long days = 0, f[3] = {0, 0, 0};
    int nf = 0;
    char buf[64];
    if (strlen(s) >= sizeof(buf))
        return -EINVAL;
    snprintf(buf, sizeof(buf), "%s", s);
    char *rest = buf, *dash = strchr(buf, '-');
    if (dash) {
        *dash = '\0';
        if (!parse_uint(buf, 100000, &days))
            return -EINVAL;
        rest = dash + 1;
    }
    size_t rlen = strlen(rest);
    if (!rlen || rest[0] == ':' || rest[rlen - 1] == ':' || strstr(rest, "::"))
        return -EINVAL; /* an empty field */
    for (char *save = NULL, *p = strtok_r(rest, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (nf == 3 || !parse_uint(p, 1000000, &f[nf]))
            return -EINVAL;
        nf++;
    }
    if (nf == 0)
        return -EINVAL;
    long h = 0, m = 0, sec = 0;
    if (dash) { /* days-hours[:minutes[:seconds]] */
        h = f[0];
        m = nf > 1 ? f[1] : 0;
        sec = nf > 2 ? f[2] : 0;
    } else if (nf == 1) {
        m = f[0];
    } else if (nf == 2) {
        m = f[0];
        sec = f[1];
    } else {
        h = f[0];
        m = f[1];
        sec = f[2];
    }
    long minutes = days * 1440 + h * 60 + m + (sec + 59) / 60;
    if (minutes > INT_MAX / 2)
        return -ERANGE;
    *ret = minutes;
    return 0;
}

/* "4G", "4000", "512M", "1T", "64K" in megabytes (rounded up). */
int slurm_parse_megabytes(const char *s, long *ret)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v > (1LL << 40))
        return -ERANGE;
    long long mb;
    switch (toupper((unsigned char)*end)) {
    case '\0':
    case 'M':
        mb = v;
        break;
    case 'K':
        mb = (v + 1023) / 1024;
        break;
    case 'G':
        mb = v * 1024;
        break;
    case 'T':
        mb = v * 1024 * 1024;
        break;
    default:
        return -EINVAL;
    }
    if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]))
        return -EINVAL;
    if (mb > INT_MAX)
        return -ERANGE;
    *ret = (long)mb;
    return 0;
}

/* What the job gets of @env, by --export's value (NULL when the script has none: ALL). */
static int export_environment(const char *value, const char *const *env, json_t *out, char *err,
                              size_t errlen)
{
    bool all = !value || strcmp(value, "ALL") == 0 || strncmp(value, "ALL,", 4) == 0;
    if (all)
        for (const char *const *e = env; *e; e++) {
            const char *eq = strchr(*e, '=');
            if (!eq)
                continue;
            char name[256];
            if ((size_t)(eq - *e) >= sizeof(name))
                continue;
            snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
            if (json_object_set_new(out, name, json_string(eq + 1)) < 0)
                return -ENOMEM;
        }
    if (!value || strcmp(value, "ALL") == 0 || strcmp(value, "NONE") == 0 ||
        strcmp(value, "NIL") == 0)
        return 0;
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    int r = 0;
    char *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name && r == 0;
         name = strtok_r(NULL, ",", &save)) {
        if (strcmp(name, "ALL") == 0)
            continue;
        char *eq = strchr(name, '=');
        if (eq)
            *eq = '\0';
        if (!name[0]) {
            snprintf(err, errlen, "#SBATCH --export=%.100s: a variable without a name", value);
            r = -EINVAL;
            break;
        }
        const char *v = eq ? eq + 1 : gm_strv_getenv((char *const *)env, name);
        if (v && json_object_set_new(out, name, json_string(v)) < 0)
            r = -ENOMEM;
    }
    free(copy);
    return r;
}

/* One option's value into @job. */
static int set_property(const struct directive *d, const char *value, json_t *job, char *err,
                        size_t errlen)
{
    long n;
    int r = 0;
    json_t *v = NULL;
    switch (d->kind) {
    case V_STRING:
        v = json_string(value);
        break;
    case V_INT:
        if (!parse_uint(value, INT_MAX, &n))
            r = -EINVAL;
        else
            v = json_integer(n);
        break;
    case V_MINUTES:
        if ((r = slurm_parse_minutes(value, &n)) == 0)
            v = json_integer(n);
        break;
    case V_MEGS:
        if ((r = slurm_parse_megabytes(value, &n)) == 0)
            v = json_integer(n);
        break;
    case V_NODES: {
        long lo, hi;
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", value);
        char *dash = strchr(buf, '-');
        if (dash)
            *dash = '\0';
        if (!parse_uint(buf, 100000, &lo) || (dash && !parse_uint(dash + 1, 100000, &hi)) ||
            (dash && hi < lo))
            r = -EINVAL;
        else
            v = dash ? json_pack("[II]", (json_int_t)lo, (json_int_t)hi)
                     : json_pack("[I]", (json_int_t)lo);
        break;
    }
    case V_OPTIONAL: /* sbatch's own syntax: slurmrestd 22.05 parses it as sbatch does */
        v = json_string(value[0] ? value : "0");
        break;
    case V_TRUE:
        v = json_true();
        break;
    case V_FALSE:
        v = json_false();
        break;
    case V_EXPORT:
    case V_IGNORE:
        return 0;
    }
    if (r < 0) {
        snprintf(err, errlen, "#SBATCH --%s=%.200s: not a valid value", d->name, value);
        return -EINVAL;
    }
    if (!v || json_object_set_new(job, d->property, v) < 0)
        return -ENOMEM;
    return 0;
}

/* The options of one #SBATCH line into @job. */
static int read_words(const char *line, char (*words)[WORD_MAX], json_t *job, char **export_value,
                      char *err, size_t errlen)
{
    int n = split_words(line, words, DIRECTIVE_WORDS);
    if (n < 0) {
        snprintf(err, errlen, "an #SBATCH line is too long: '%.100s'", line);
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        const char *w = words[i], *value = NULL;
        const struct directive *d = NULL;
        if (strncmp(w, "--", 2) == 0) {
            const char *eq = strchr(w, '=');
            size_t len = eq ? (size_t)(eq - w - 2) : strlen(w) - 2;
            d = find_long(w + 2, len);
            if (eq)
                value = eq + 1;
        } else if (w[0] == '-' && w[1]) {
            d = find_short(w[1]);
            if (w[2])
                value = w + 2;
        }
        if (!d) {
            snprintf(err, errlen,
                     "the batch script's '#SBATCH %.100s' has no slurmrestd equivalent here: "
                     "remove it, or submit with sbatch (leave SlurmSpawner.slurmrestd_url empty)",
                     w);
            return -EINVAL;
        }
        if (takes_value(d) && !value) {
            if (i + 1 == n) {
                snprintf(err, errlen, "#SBATCH --%s needs a value", d->name);
                return -EINVAL;
            }
            value = words[++i];
        }
        if (!takes_value(d) && value && d->kind != V_OPTIONAL) {
            snprintf(err, errlen, "#SBATCH --%s takes no value", d->name);
            return -EINVAL;
        }
        if (d->kind == V_EXPORT) {
            free(*export_value);
            if (!(*export_value = strdup(value)))
                return -ENOMEM;
        }
        int r = set_property(d, value ? value : "", job, err, errlen);
        if (r < 0)
            return r;
    }
    return 0;
}

static int read_directive(const char *line, json_t *job, char **export_value, char *err,
                          size_t errlen)
{
    char(*words)[WORD_MAX] = malloc(sizeof(*words) * DIRECTIVE_WORDS);
    if (!words)
        return -ENOMEM;
    int r = read_words(line, words, job, export_value, err, errlen);
    free(words);
    return r;
}
int slurm_rest_job(const char *script, const char *const *env, json_t **ret, char *err,
                   size_t errlen)
{
    json_t *job = json_object();
    json_t *environment = json_object();
    char *export_value = NULL;
    int r = job && environment ? 0 : -ENOMEM;
    /* sbatch: directives until the first line that is neither a comment nor blank. */
    for (const char *p = script; r == 0 && *p;) {
        size_t len = strcspn(p, "\n");
        const char *q = p;
        while (q < p + len && (*q == ' ' || *q == '\t'))
            q++;
        if (q < p + len && *q != '#')
            break;
        if ((size_t)(p + len - q) > 7 && strncmp(q, "#SBATCH", 7) == 0 &&
            (q[7] == ' ' || q[7] == '\t')) {
            char *line = strndup(q + 7, (size_t)(p + len - q - 7));
            r = line ? read_directive(line, job, &export_value, err, errlen) : -ENOMEM;
            free(line);
        }
        p += len + (p[len] == '\n');
    }
    if (r == 0)
        r = export_environment(export_value, env, environment, err, errlen);
    if (r == 0 && export_value && strcmp(export_value, "NONE") == 0 &&
        !json_object_get(job, "get_user_environment"))
        r = json_object_set_new(job, "get_user_environment", json_string("0")); /* as sbatch */
    /* slurmrestd refuses a job without environment; sbatch marks an --export=NONE job so. */
    if (r == 0 && json_object_size(environment) == 0)
        r = json_object_set_new(environment, "SLURM_EXPORT_ENV", json_string("NONE"));
    if (r == 0)
        r = json_object_set(job, "environment", environment);
    json_decref(environment);
    if (r == 0) {
        *ret = json_pack("{s:s,s:O}", "script", script, "job", job);
        if (!*ret)
            r = -ENOMEM;
    }
    json_decref(job);
    free(export_value);
    if (r == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    return r;
}
