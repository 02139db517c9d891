/* test-script: the smallest real spawner, written only against include/ganymede/, as the example
 * of docs/plugins.md and the model of a batch-system spawner. A server is a "job" that shell
 * commands submit, query and cancel, as batchspawner drives sbatch, squeue and scancel:
 *
 *   submit   ScriptSpawner.submit_cmd runs with the rendered ScriptSpawner.batch_script on its
 *            stdin and the server's environment, and prints the job id;
 *   query    ScriptSpawner.query_cmd prints the job's state: R (running), PD (pending: asked
 *            again every query_interval seconds while the start waits) or anything else (gone);
 *   cancel   ScriptSpawner.cancel_cmd ends it.
 *
 * The defaults run the server as a background process of /bin/sh and use its pid as the job id.
 * Built with -Dtest_plugins=enabled only (tests and benchmarks), never shipped. */
#include <errno.h>
#include <ganymede/command.h>
#include <ganymede/log.h>
#include <ganymede/shell.h>
#include <ganymede/spawner.h>
#include <ganymede/template.h>
#include <ganymede/timer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_JOB_ID_MAX 64
#define SCRIPT_URL_MAX    128
#define SCRIPT_OUTPUT_MAX 4096 /* what is kept of a command's stdout and stderr */

struct script_conf {
    char *batch_script;
    char *submit_cmd;
    char *query_cmd;
    char *cancel_cmd;
    double query_interval;
    double command_timeout;
};

struct script_state {
    const struct gm_host *host;
    const struct script_conf *conf;
};

struct script_server {
    struct script_state *st;
    char *user;
    char *server_name;
    char job_id[SCRIPT_JOB_ID_MAX]; /* "" while there is no job */
    char url[SCRIPT_URL_MAX];
    bool reported_pending;
    struct gm_command *cmd; /* the one command in flight, if any */
    struct gm_timer *timer; /* the wait before the next query of a start */
    struct gm_spawn_progress progress;
    gm_spawner_started_cb start_cb; /* set while a start is in flight */
    void *start_data;
    gm_spawner_stopped_cb stop_cb; /* set while a stop is in flight */
    void *stop_data;
    gm_spawner_polled_cb poll_cb; /* set while a poll is in flight */
    void *poll_data;
};

enum job_state {
    JOB_RUNNING,
    JOB_PENDING,
    JOB_GONE,
    JOB_UNKNOWN, /* the query itself failed (timed out, could not run) */
};

static const char *const script_default_cmd[] = {"jupyterhub-singleuser", NULL};

/* Option values and checks. */

static const char script_default_batch_script[] =
    "\"{{ cmd }} </dev/null >/dev/null 2>&1 &\\necho $!\\n\"";

static const struct gm_option script_options[] = {
    GM_OPTION("batch_script", GM_OPTION_STRING, offsetof(struct script_conf, batch_script),
              script_default_batch_script,
              "The job script given to submit_cmd on stdin: Jinja ({{ cmd }}, {% if %}) or "
              "{field} format with cmd, ip, port, username, server_name, base_url, "
              "notebook_dir."),
    GM_OPTION("submit_cmd", GM_OPTION_STRING, offsetof(struct script_conf, submit_cmd),
              "\"/bin/sh -s\"", "Submits the script (on its stdin) and prints the job id."),
    GM_OPTION("query_cmd", GM_OPTION_STRING, offsetof(struct script_conf, query_cmd),
              "\"kill -0 {job_id} 2>/dev/null && echo R || echo GONE\"",
              "Prints the job's state: R (running), PD (pending), anything else (gone)."),
    GM_OPTION("cancel_cmd", GM_OPTION_STRING, offsetof(struct script_conf, cancel_cmd),
              "\"kill {job_id}\"", "Ends the job."),
    GM_OPTION_X("query_interval", GM_OPTION_FLOAT, offsetof(struct script_conf, query_interval),
                "0.5", "Seconds between queries while a start waits for a pending job.",
                .check = gm_check_positive),
    GM_OPTION_X("command_timeout", GM_OPTION_FLOAT, offsetof(struct script_conf, command_timeout),
                "30", "Seconds a command may run before it is terminated.",
                .check = gm_check_positive),
    GM_OPTION_END,
};

static const struct gm_option_class script_class = {
    .name = "ScriptSpawner",
    .parent = "Spawner",
    .help = "Tests and the plugin example only: servers as jobs of shell commands.",
    .options = script_options,
    .hidden = true,
};

/* The fields a command template may use. A new reference, or NULL when out of memory. */
static json_t *command_fields(const char *job_id, const char *user, const char *server_name)
{
    return json_pack("{s:s, s:s, s:s}", "job_id", job_id, "username", user, "server_name",
                     server_name);
}

/* Whether @tmpl formats with the fields a command is given; a typo is found at startup. */
static int check_command(const char *option, const char *tmpl, char *err, size_t errlen)
{
    json_t *fields = command_fields("1", "user", "");
    if (!fields)
        return -ENOMEM;
    char *out = NULL;
    struct gm_template_error e = {0};
    int r = gm_format(tmpl, fields, NULL, &out, &e);
    json_decref(fields);
    free(out);
    if (r < 0)
        snprintf(err, errlen, "ScriptSpawner.%s: %s", option, e.message);
    return r;
}

static int script_init(const struct gm_host *host, void *conf, void **state, char *err,
                       size_t errlen)
{
    const struct script_conf *c = conf;
    struct gm_template_error e = {0};
    if ((strstr(c->batch_script, "{{") || strstr(c->batch_script, "{%")) &&
        gm_render_check(c->batch_script, &e) < 0) {
        snprintf(err, errlen, "ScriptSpawner.batch_script, line %u: %s", e.line, e.message);
        return -EINVAL;
    }
    int r;
    if ((r = check_command("submit_cmd", c->submit_cmd, err, errlen)) < 0 ||
        (r = check_command("query_cmd", c->query_cmd, err, errlen)) < 0 ||
        (r = check_command("cancel_cmd", c->cancel_cmd, err, errlen)) < 0)
        return r;
    struct script_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->host = host;
    st->conf = c;
    *state = st;
    return 0;
}

static void script_destroy(void *state)
{
    free(state);
}

static int script_server_new(void *state, const char *user, const char *server_name, void **ret)
{
    struct script_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->st = state;
    s->user = strdup(user);
    s->server_name = strdup(server_name);
    if (!s->user || !s->server_name) {
        free(s->user);
        free(s->server_name);
        free(s);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

static void script_server_free(void *server)
{
    struct script_server *s = server;
    gm_command_cancel(s->cmd);
    gm_timer_stop(s->timer);
    free(s->user);
    free(s->server_name);
    free(s);
}

/* Running commands. */

/* Run the command line @tmpl (formatted with the job's fields) with @stdin_data and @env, and
 * call @cb(s, result) when it ends. Returns 0 or a negative errno (with @msg set). */
static int run_command(struct script_server *s, const char *tmpl, const char *stdin_data,
                       const char *const *env, gm_command_cb cb, char *msg, size_t msglen)
{
    json_t *fields = command_fields(s->job_id, s->user, s->server_name);
    if (!fields)
        return -ENOMEM;
    char *line = NULL;
    struct gm_template_error e = {0};
    int r = gm_format(tmpl, fields, NULL, &line, &e);
    json_decref(fields);
    if (r < 0) {
        snprintf(msg, msglen, "%s", e.message);
        return r;
    }
    struct gm_command_request req = {
        .command = line,
        .env = env,
        .stdin_data = stdin_data,
        .stdin_len = stdin_data ? strlen(stdin_data) : 0,
        .max_output = SCRIPT_OUTPUT_MAX,
        .timeout_ms = (long)(s->st->conf->command_timeout * 1000),
    };
    r = gm_command_run(s->st->host->loop, &req, cb, s, &s->cmd);
    if (r < 0)
        snprintf(msg, msglen, "could not run '%s': %s", line, strerror(-r));
    free(line);
    return r;
}

/* The first word of @out: "R", "PD" or anything else. */
static enum job_state parse_state(const struct gm_command_result *res)
{
    if (res->error)
        return JOB_UNKNOWN;
    const char *p = res->out + strspn(res->out, " \t\r\n");
    size_t n = strcspn(p, " \t\r\n");
    if (n == 1 && p[0] == 'R')
        return JOB_RUNNING;
    if (n == 2 && memcmp(p, "PD", 2) == 0)
        return JOB_PENDING;
    return JOB_GONE;
}

/* A job id goes back into shell command lines: letters, digits, '.', '_' and '-' only. */
static bool valid_job_id(const char *p, size_t n)
{
    if (n == 0 || n >= SCRIPT_JOB_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || strchr("._-", p[i])))
            return false;
    return true;
}

/* Start. */

static void finish_start(struct script_server *s, int status, const char *message)
{
    gm_spawner_started_cb cb = s->start_cb;
    s->start_cb = NULL;
    gm_timer_stop(s->timer);
    s->timer = NULL;
    if (cb)
        cb(s->start_data, status, status == 0 ? s->url : NULL, message);
}

static void query_for_start(struct script_server *s);

static void on_query_due(void *data)
{
    struct script_server *s = data;
    gm_timer_stop(s->timer);
    s->timer = NULL;
    query_for_start(s);
}

static void on_start_query(void *data, const struct gm_command_result *res)
{
    struct script_server *s = data;
    s->cmd = NULL;
    char msg[512];
    switch (parse_state(res)) {
    case JOB_RUNNING:
        s->progress.emit(s->progress.ctx, 80, "Job is running; waiting for the server", NULL);
        finish_start(s, 0, NULL);
        return;
    case JOB_PENDING: {
        if (!s->reported_pending) {
            snprintf(msg, sizeof(msg), "Job %s is pending in the queue", s->job_id);
            s->progress.emit(s->progress.ctx, 50, msg, NULL);
            s->reported_pending = true;
        }
        uint64_t ms = (uint64_t)(s->st->conf->query_interval * 1000);
        int r = gm_timer_start(s->st->host->loop, ms, 0, on_query_due, s, &s->timer);
        if (r < 0)
            finish_start(s, r, "Could not wait for the job");
        return;
    }
    case JOB_GONE:
        snprintf(msg, sizeof(msg), "Job %s ended before it ran", s->job_id);
        finish_start(s, -ESRCH, msg);
        return;
    case JOB_UNKNOWN:
        snprintf(msg, sizeof(msg), "ScriptSpawner.query_cmd %s: %.300s", res->message, res->err);
        finish_start(s, -EIO, msg);
        return;
    }
}

static void query_for_start(struct script_server *s)
{
    char msg[512];
    int r = run_command(s, s->st->conf->query_cmd, NULL, NULL, on_start_query, msg, sizeof(msg));
    if (r < 0)
        finish_start(s, r, msg);
}

static void on_submitted(void *data, const struct gm_command_result *res)
{
    struct script_server *s = data;
    s->cmd = NULL;
    char msg[512];
    if (res->error || res->exit_status != 0) {
        snprintf(msg, sizeof(msg), "ScriptSpawner.submit_cmd %s: %.300s", res->message, res->err);
        finish_start(s, -EIO, msg);
        return;
    }
    const char *p = res->out + strspn(res->out, " \t\r\n");
    size_t n = strcspn(p, " \t\r\n");
    if (!valid_job_id(p, n)) {
        finish_start(s, -EIO, "ScriptSpawner.submit_cmd printed no job id");
        return;
    }
    memcpy(s->job_id, p, n);
    s->job_id[n] = '\0';
    gm_log_info("Submitted job %s for %s", s->job_id, s->user);
    snprintf(msg, sizeof(msg), "Submitted job %s", s->job_id);
    s->progress.emit(s->progress.ctx, 30, msg, NULL);
    query_for_start(s);
}

/* The variables of the batch script. A new reference, or NULL when out of memory. */
static json_t *script_vars(const struct gm_server_spec *spec, const char *cmd)
{
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "cmd", cmd, "ip", spec->ip, "port",
                     spec->port, "username", spec->user, "server_name", spec->server_name,
                     "base_url", spec->base_url, "notebook_dir", spec->notebook_dir);
}

static int script_start(void *server, const struct gm_server_spec *spec,
                        const struct gm_spawn_progress *progress, gm_spawner_started_cb cb,
                        void *data)
{
    struct script_server *s = server;
    char *cmd = NULL, *script = NULL;
    int r = gm_shell_join(spec->argv, &cmd);
    if (r < 0)
        return r;
    json_t *vars = script_vars(spec, cmd);
    free(cmd);
    if (!vars)
        return -ENOMEM;
    struct gm_template_error e = {0};
    r = gm_format_or_render(s->st->conf->batch_script, vars, 0, &script, &e);
    json_decref(vars);
    if (r < 0) {
        gm_log_error("ScriptSpawner.batch_script for %s: %s", s->user, e.message);
        return r;
    }
    snprintf(s->url, sizeof(s->url), "http://%s:%d", spec->ip[0] ? spec->ip : "127.0.0.1",
             spec->port);
    s->job_id[0] = '\0';
    s->reported_pending = false;
    s->progress = *progress;
    char msg[512];
    r = run_command(s, s->st->conf->submit_cmd, script, spec->env, on_submitted, msg, sizeof(msg));
    free(script);
    if (r < 0) {
        gm_log_error("ScriptSpawner.submit_cmd for %s: %s", s->user, msg);
        return r;
    }
    s->start_cb = cb;
    s->start_data = data;
    return 0;
}

/* Stop. */

static void finish_stop(struct script_server *s, int status, const char *message)
{
    gm_spawner_stopped_cb cb = s->stop_cb;
    s->stop_cb = NULL;
    if (status == 0)
        s->job_id[0] = '\0';
    cb(s->stop_data, status, message);
}

static void on_cancelled(void *data, const struct gm_command_result *res)
{
    struct script_server *s = data;
    s->cmd = NULL;
    if (res->error) {
        char msg[512];
        snprintf(msg, sizeof(msg), "ScriptSpawner.cancel_cmd %s", res->message);
        finish_stop(s, -EIO, msg);
        return;
    }
    /* A job that is gone already is stopped: scancel of a finished job fails the same way. */
    if (res->exit_status != 0)
        gm_log_warn("ScriptSpawner.cancel_cmd for job %s %s: %.300s", s->job_id, res->message,
                    res->err);
    finish_stop(s, 0, NULL);
}

/* Runs on a later loop iteration than stop(): an interrupted start completes first. */
static void stop_begin(void *data)
{
    struct script_server *s = data;
    finish_start(s, -ECANCELED, "Spawn cancelled");
    if (!s->job_id[0]) {
        finish_stop(s, 0, NULL);
        return;
    }
    char msg[512];
    int r = run_command(s, s->st->conf->cancel_cmd, NULL, NULL, on_cancelled, msg, sizeof(msg));
    if (r < 0)
        finish_stop(s, r, msg);
}

static int script_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data)
{
    (void)now;
    struct script_server *s = server;
    if (s->stop_cb)
        return -EBUSY;
    int r = s->st->host->defer(s->st->host, stop_begin, s);
    if (r < 0)
        return r;
    /* A submit or query of the start in flight ends here (its process group is killed). */
    gm_command_cancel(s->cmd);
    s->cmd = NULL;
    gm_timer_stop(s->timer);
    s->timer = NULL;
    s->stop_cb = cb;
    s->stop_data = data;
    return 0;
}

/* Poll. */

static void finish_poll(struct script_server *s, int exit_status)
{
    gm_spawner_polled_cb cb = s->poll_cb;
    s->poll_cb = NULL;
    cb(s->poll_data, exit_status);
}

static void on_polled(void *data, const struct gm_command_result *res)
{
    struct script_server *s = data;
    s->cmd = NULL;
    switch (parse_state(res)) {
    case JOB_RUNNING:
    case JOB_PENDING:
        finish_poll(s, GM_SPAWNER_RUNNING);
        return;
    case JOB_UNKNOWN:
        /* A slow or failing query says nothing about the job: never stop a server for it. */
        gm_log_warn("ScriptSpawner.query_cmd for job %s %s", s->job_id, res->message);
        finish_poll(s, GM_SPAWNER_RUNNING);
        return;
    case JOB_GONE:
        s->job_id[0] = '\0';
        finish_poll(s, 0);
        return;
    }
}

static void poll_no_job(void *data)
{
    finish_poll(data, 0);
}

static int script_poll(void *server, gm_spawner_polled_cb cb, void *data)
{
    struct script_server *s = server;
    if (s->poll_cb || s->cmd)
        return -EBUSY;
    int r;
    if (!s->job_id[0]) {
        r = s->st->host->defer(s->st->host, poll_no_job, s);
    } else {
        char msg[512];
        r = run_command(s, s->st->conf->query_cmd, NULL, NULL, on_polled, msg, sizeof(msg));
        if (r < 0)
            gm_log_warn("ScriptSpawner.query_cmd for job %s: %s", s->job_id, msg);
    }
    if (r < 0)
        return r;
    s->poll_cb = cb;
    s->poll_data = data;
    return 0;
}

/* State. */

static json_t *script_get_state(void *server)
{
    struct script_server *s = server;
    return s->job_id[0] ? json_pack("{s:s}", "job_id", s->job_id) : NULL;
}

static int script_load_state(void *server, const json_t *state)
{
    struct script_server *s = server;
    const char *id = json_string_value(json_object_get(state, "job_id"));
    s->job_id[0] = '\0';
    if (!id)
        return 0;
    if (!valid_job_id(id, strlen(id)))
        return -EINVAL;
    snprintf(s->job_id, sizeof(s->job_id), "%s", id);
    return 0;
}

const struct gm_spawner test_spawner_script = {
    .abi = GM_ABI_VERSION,
    .name = "test-script",
    .options = &script_class,
    .conf_size = sizeof(struct script_conf),
    .default_ip = "127.0.0.1",
    .default_cmd = script_default_cmd,
    .init = script_init,
    .destroy = script_destroy,
    .server_new = script_server_new,
    .server_free = script_server_free,
    .start = script_start,
    .stop = script_stop,
    .poll = script_poll,
    .get_state = script_get_state,
    .load_state = script_load_state,
};
