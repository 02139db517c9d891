/* The batch script and the batch commands, as batchspawner makes them, and what the commands
 * print, as batchspawner reads it. */
#include "slurm.h"

#include <errno.h>
#include <stdbool.h>
#include <ganymede/shell.h>
#include <ganymede/template.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(field) offsetof(struct slurm_conf, field)

/* Every req_* setting, by its template name. */
static const struct {
    const char *name;
    size_t offset;
} req_vars[] = {
    {"queue", OPT(req_queue)},         {"host", OPT(req_host)},
    {"memory", OPT(req_memory)},       {"nprocs", OPT(req_nprocs)},
    {"ngpus", OPT(req_ngpus)},         {"runtime", OPT(req_runtime)},
    {"partition", OPT(req_partition)}, {"account", OPT(req_account)},
    {"options", OPT(req_options)},     {"prologue", OPT(req_prologue)},
    {"epilogue", OPT(req_epilogue)},   {"keepvars_extra", OPT(req_keepvars_extra)},
    {"cluster", OPT(req_cluster)},     {"qos", OPT(req_qos)},
    {"srun", OPT(req_srun)},           {"reservation", OPT(req_reservation)},
    {"gres", OPT(req_gres)},
};

json_t *slurm_vars(const struct slurm_conf *conf, const char *user, const char *home,
                   const char *const *env, const char *const *argv)
{
    json_t *v = json_object();
    if (!v)
        return NULL;
    int r = 0;
    for (size_t i = 0; i < sizeof(req_vars) / sizeof(req_vars[0]) && r == 0; i++)
        r = json_object_set_new(v, req_vars[i].name,
                                json_string(*(char **)((char *)conf + req_vars[i].offset)));
    r |= json_object_set_new(v, "username", json_string(user));
    r |= json_object_set_new(v, "homedir", json_string(home));
    /* keepvars: the names of the server's environment, as batchspawner's ",".join(get_env()). */
    struct gm_buf keep;
    gm_buf_init(&keep, 256 * 1024);
    for (const char *const *e = env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq)
            gm_buf_printf(&keep, "%s%.*s", keep.len ? "," : "", (int)(eq - *e), *e);
    }
    if (conf->req_keepvars_extra[0])
        gm_buf_printf(&keep, "%s%s", keep.len ? "," : "", conf->req_keepvars_extra);
    r |= keep.error || json_object_set_new(v, "keepvars", json_string(keep.data ? keep.data : ""));
    gm_buf_free(&keep);
    /* cmd: the wrapper, then the server's command line (quoted: batchspawner joins it bare). */
    char *line = NULL;
    if (r == 0 && gm_shell_join(argv, &line) == 0) {
        char *cmd = NULL;
        if (asprintf(&cmd, "%s%s%s", conf->batchspawner_singleuser_cmd,
                     conf->batchspawner_singleuser_cmd[0] && line[0] ? " " : "", line) >= 0)
            r |= json_object_set_new(v, "cmd", json_string(cmd));
        else
            r = -1;
        free(cmd);
    } else {
        r = -1;
    }
    free(line);
    if (r != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}

int slurm_format(const char *setting, const char *tmpl, const json_t *vars, size_t max, char **ret,
                 char *err, size_t errlen)
{
    struct gm_template_error te;
    memset(&te, 0, sizeof(te));
    int r = gm_format_or_render(tmpl, vars, max, ret, &te);
    if (r == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (r < 0)
        snprintf(err, errlen, "SlurmSpawner.%s cannot be formatted (line %u, column %u): %s",
                 setting, te.line, te.column, te.message);
    return r;
}

/* @vars with every string shell-quoted, for command lines: a user name (or a form's value)
 * is one word to the shell whatever it holds. batchspawner substitutes them bare. */
static json_t *quoted_vars(const json_t *vars)
{
    json_t *q = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vars, k, v)
    {
        char *word = NULL;
        if (!q)
            return NULL;
        if (!json_is_string(v) || !json_string_length(v)) {
            json_object_set(q, k, v); /* "" stays empty: an unset setting adds nothing */
            continue;
        }
        if (gm_shell_quote(json_string_value(v), &word) < 0 ||
            json_object_set_new(q, k, json_string(word)) < 0) {
            free(word);
            json_decref(q);
            return NULL;
        }
        free(word);
    }
    return q;
}

int slurm_command_line(const struct slurm_conf *conf, const char *setting, const char *tmpl,
                       const json_t *vars, char **ret, char *err, size_t errlen)
{
    char *prefix = NULL, *cmd = NULL;
    json_t *q = quoted_vars(vars);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int r =
        slurm_format("exec_prefix", conf->exec_prefix, q, SLURM_COMMAND_MAX, &prefix, err, errlen);
    if (r == 0)
        r = slurm_format(setting, tmpl, q, SLURM_COMMAND_MAX, &cmd, err, errlen);
    json_decref(q);
    if (r == 0 && asprintf(ret, "%s%s%s", prefix, prefix[0] ? " " : "", cmd) < 0) {
        snprintf(err, errlen, "out of memory");
        r = -ENOMEM;
    }
    free(prefix);
    free(cmd);
    return r;
}

int slurm_parse_job_id(const char *out, char id[SLURM_JOB_ID_MAX])
{
    /* The last line (sbatch may print warnings first), up to ';' (--parsable adds ";cluster"). */
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        n--;
    size_t start = n;
    while (start && out[start - 1] != '\n')
        start--;
    size_t end = start;
    while (end < n && out[end] != ';')
        end++;
    while (start < end && out[start] == ' ')
        start++;
    if (end == start || end - start >= SLURM_JOB_ID_MAX)
        return -EINVAL;
    for (size_t i = start; i < end; i++)
        if (out[i] < '0' || out[i] > '9')
            return -EINVAL;
    memcpy(id, out + start, end - start);
    id[end - start] = '\0';
    return 0;
}

enum slurm_job_status slurm_classify(const struct slurm_state *st, const char *job_status)
{
    if (!job_status || !job_status[0])
        return SLURM_JOB_NOTFOUND;
    if (gm_regex_search(st->running_re, job_status, NULL, 0) == 1)
        return SLURM_JOB_RUNNING;
    if (gm_regex_search(st->pending_re, job_status, NULL, 0) == 1)
        return SLURM_JOB_PENDING;
    if (st->unknown_re && gm_regex_search(st->unknown_re, job_status, NULL, 0) == 1)
        return SLURM_JOB_UNKNOWN;
    return SLURM_JOB_NOTFOUND;
}

#define EXPAND_GROUPS 100

/* re.Match.expand(@tmpl): \1..\99 and \g<n>, \g<name> replaced by the groups, \n \t \\ as
 * Python reads them. */
static int expand(const struct gm_regex *re, const char *subject, const struct gm_regex_group *g,
                  const char *tmpl, struct gm_buf *out)
{
    for (const char *p = tmpl; *p;) {
        if (*p != '\\') {
            gm_buf_putc(out, *p++);
            continue;
        }
        p++;
        long n = -1;
        if (*p >= '0' && *p <= '9') {
            n = *p++ - '0';
            if (*p >= '0' && *p <= '9')
                n = n * 10 + (*p++ - '0');
        } else if (*p == 'g' && p[1] == '<') {
            const char *end = strchr(p + 2, '>');
            if (!end || end == p + 2 || end - p > 64)
                return -EINVAL;
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
            char *num_end;
            n = strtol(name, &num_end, 10);
            if (*num_end)
                n = gm_regex_group_number(re, name);
            p = end + 1;
        } else if (*p == 'n' || *p == 't' || *p == '\\') {
            gm_buf_putc(out, *p == 'n' ? '\n' : *p == 't' ? '\t' : '\\');
            p++;
            continue;
        } else {
            gm_buf_putc(out, '\\');
            continue;
        }
        if (n < 0 || n >= EXPAND_GROUPS || (size_t)n > gm_regex_groups(re))
            return -EINVAL;
        if (g[n].start >= 0)
            gm_buf_printf(out, "%.*s", (int)(g[n].end - g[n].start), subject + g[n].start);
    }
    return out->error;
}

/* A host name or IPv4 address, nothing a URL would read differently. */
static bool host_ok(const char *h)
{
    return h[0] && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
                       strlen(h);
}

int slurm_exechost(const struct slurm_state *st, const char *job_status,
                   char host[SLURM_HOST_MAX + 1])
{
    host[0] = '\0';
    struct gm_regex_group g[EXPAND_GROUPS];
    if (!job_status || gm_regex_search(st->exechost_re, job_status, g, EXPAND_GROUPS) != 1)
        return -ENOENT;
    const char *exp = st->conf->state_exechost_exp;
    if (!exp[0]) {
        if (g[1].start < 0 || g[1].end - g[1].start > SLURM_HOST_MAX)
            return -ENOENT;
        snprintf(host, SLURM_HOST_MAX + 1, "%.*s", (int)(g[1].end - g[1].start),
                 job_status + g[1].start);
        return host_ok(host) ? 0 : -ENOENT;
    }
    struct gm_buf b;
    gm_buf_init(&b, SLURM_HOST_MAX + 1);
    int r = expand(st->exechost_re, job_status, g, exp, &b);
    if (r == 0 && b.len)
        snprintf(host, SLURM_HOST_MAX + 1, "%s", b.data);
    gm_buf_free(&b);
    return r == 0 && host_ok(host) ? 0 : -ENOENT;
}
