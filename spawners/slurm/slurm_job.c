/* Start, stop and poll of a SLURM job: the batch commands run one at a time per server on the
 * hub's loop (gm_command), with a timer between queries.
 *
 * Start: the user's account (its home, shell) off the loop, then sbatch with the script on its
 * standard input and the server's environment, then squeue every startup_poll_interval (slower
 * while the job pends, up to pending_poll_interval, with the queue's position and reason as
 * progress) until the job runs on a host and its wrapper has reported the port. A job that is
 * gone before that fails the start at once, with what scontrol and its output file say. A
 * controller that does not answer (state_unknown_re, or a query that fails to run) only delays:
 * start_timeout decides.
 *
 * Stop: scancel, then (unless now) squeue once a second, at most SLURM_STOP_CHECKS times, until
 * the job has left. Poll: squeue; only a job SLURM no longer lists is declared ended. */
#include "slurm.h"

#include <errno.h>
#include <ganymede/log.h>
#include <ganymede/strv.h>
#include <ganymede/shell.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef slurm_step_cb step_cb;

/* Everything a command's completion needs: which server, which step. */
struct step {
    struct slurm_server *srv;
    step_cb next;
};

void slurm_step_started(struct slurm_server *srv, enum slurm_command_kind kind)
{
    srv->st->commands[kind]++;
    srv->command_started_ms = (int64_t)uv_now(srv->st->host->loop);
}

void slurm_step_ended(struct slurm_server *srv, const struct gm_command_result *res)
{
    struct slurm_state *st = srv->st;
    st->command_us += (uint64_t)(uv_now(st->host->loop) - (uint64_t)srv->command_started_ms) * 1000;
    if (res->error || res->exit_status != 0)
        st->command_failures++;
}

static void on_command_done(void *data, const struct gm_command_result *res)
{
    struct step *s = data;
    struct slurm_server *srv = s->srv;
    step_cb next = s->next;
    free(s);
    srv->command = NULL;
    srv->step = NULL;
    slurm_step_ended(srv, res);
    next(srv, res);
}

/* Start @line for @srv (at most one command at a time); @next runs with the result. Returns 0,
 * or a negative errno and @next never runs. */
static int start_command(struct slurm_server *srv, enum slurm_command_kind kind, const char *line,
                         const char *stdin_data, const char *const *env, step_cb next)
{
    struct slurm_state *st = srv->st;
    struct step *s = malloc(sizeof(*s));
    if (!s)
        return -ENOMEM;
    *s = (struct step){.srv = srv, .next = next};
    struct gm_command_request req = {
        .command = line,
        .env = env,
        .stdin_data = stdin_data,
        .stdin_len = stdin_data ? strlen(stdin_data) : 0,
        .max_output = 1 << 20,
        .timeout_ms = (long)(st->conf->command_timeout * 1000),
    };
    slurm_step_started(srv, kind);
    int r = gm_command_run(st->host->loop, &req, on_command_done, s, &srv->command);
    if (r == 0)
        srv->step = s;
    if (r < 0) {
        free(s);
        struct gm_command_result res = {.error = r, .exit_status = 127, .out = "", .err = ""};
        slurm_step_ended(srv, &res);
    }
    return r;
}

/* A step that could not start goes on to @next at once (a completion already runs), with a
 * result saying why. */
static void step_failed(struct slurm_server *srv, int r, step_cb next)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "could not be run: %s", strerror(-r));
    struct gm_command_result res = {
        .error = r, .exit_status = 127, .out = "", .err = "", .message = msg};
    next(srv, &res);
}

/* The same inside a sequence. */
static void run(struct slurm_server *srv, enum slurm_command_kind kind, const char *line,
                const char *stdin_data, const char *const *env, step_cb next)
{
    int r = start_command(srv, kind, line, stdin_data, env, next);
    if (r < 0)
        step_failed(srv, r, next);
}

static int command_for(struct slurm_server *srv, const char *setting, const char *tmpl, char **line,
                       char *err, size_t errlen);

/* The steps both backends take after the submission: a command (its *_cmd setting), or a
 * request to slurmrestd. */
enum job_step { STEP_QUERY, STEP_CANCEL, STEP_QUEUE, STEP_JOB_INFO };

/* Whether the optional steps are configured. */
static bool step_enabled(const struct slurm_server *srv, enum job_step step)
{
    const struct slurm_conf *conf = srv->st->conf;
    if (step == STEP_QUEUE)
        return srv->st->rest_url ? conf->slurmrestd_queue : conf->queue_query_cmd[0] != '\0';
    if (step == STEP_JOB_INFO)
        return srv->st->rest_url || conf->job_info_cmd[0];
    return true;
}

/* Start @step for @srv. Returns 0, or a negative errno with a message in @err and @next never
 * runs. */
static int start_step(struct slurm_server *srv, enum job_step step, step_cb next, char *err,
                      size_t errlen)
{
    static const struct {
        const char *setting;
        size_t offset;
        enum slurm_command_kind kind;
        int (*rest)(struct slurm_server *, slurm_step_cb);
    } steps[] = {
        [STEP_QUERY] = {"batch_query_cmd", offsetof(struct slurm_conf, batch_query_cmd),
                        SLURM_CMD_QUERY, slurm_rest_query},
        [STEP_CANCEL] = {"batch_cancel_cmd", offsetof(struct slurm_conf, batch_cancel_cmd),
                         SLURM_CMD_CANCEL, slurm_rest_cancel},
        [STEP_QUEUE] = {"queue_query_cmd", offsetof(struct slurm_conf, queue_query_cmd),
                        SLURM_CMD_QUERY, slurm_rest_queue},
        [STEP_JOB_INFO] = {"job_info_cmd", offsetof(struct slurm_conf, job_info_cmd),
                           SLURM_CMD_OTHER, slurm_rest_job_info},
    };
    int r;
    if (srv->st->rest_url) {
        r = steps[step].rest(srv, next);
        if (r == -EINVAL)
            snprintf(err, errlen, "SLURM job id '%s' is not a number", srv->job_id);
        else if (r < 0)
            snprintf(err, errlen, "cannot reach slurmrestd: %s", strerror(-r));
        return r;
    }
    const char *tmpl = *(char *const *)((const char *)srv->st->conf + steps[step].offset);
    char *line = NULL;
    r = command_for(srv, steps[step].setting, tmpl, &line, err, errlen);
    if (r == 0)
        r = start_command(srv, steps[step].kind, line, NULL, NULL, next);
    if (r < 0 && line)
        snprintf(err, errlen, "%s could not be run: %s", steps[step].setting, strerror(-r));
    free(line);
    return r;
}

/* A command's output or, when it failed, its stderr, trimmed: batchspawner's job_status. */
static char *status_text(const struct gm_command_result *res)
{
    const char *t = res->error == 0 && res->exit_status == 0 ? res->out : res->err;
    size_t n = strlen(t);
    while (n && (t[n - 1] == '\n' || t[n - 1] == ' ' || t[n - 1] == '\r'))
        n--;
    while (n && (*t == '\n' || *t == ' ')) {
        t++;
        n--;
    }
    return strndup(t, n < SLURM_STATUS_MAX ? n : SLURM_STATUS_MAX);
}

/* The first line of @text, at most @max bytes of it, for messages. */
static void first_line(const char *text, char *out, size_t max)
{
    size_t n = strcspn(text, "\n");
    snprintf(out, max, "%.*s", (int)n, text);
}

static int command_for(struct slurm_server *srv, const char *setting, const char *tmpl, char **line,
                       char *err, size_t errlen)
{
    return slurm_command_line(srv->st->conf, setting, tmpl, srv->vars, line, err, errlen);
}

static void set_job_var(struct slurm_server *srv)
{
    json_object_set_new(srv->vars, "job_id", json_string(srv->job_id));
}

/* The variables of a server the hub adopted (no start ran in this process): what the
 * commands after the start use (username, job_id, the req_* settings). */
static int ensure_vars(struct slurm_server *srv)
{
    if (srv->vars)
        return 0;
    const char *none[] = {NULL};
    srv->vars = slurm_vars(srv->st->conf, srv->user, "", none, none);
    if (!srv->vars)
        return -ENOMEM;
    set_job_var(srv);
    return 0;
}

static void clear_start(struct slurm_server *srv)
{
    srv->starting = false;
    gm_account_lookup_cancel(srv->lookup);
    srv->lookup = NULL;
    gm_strv_free_array(srv->argv);
    gm_strv_free_array(srv->spec_env);
    gm_strv_free_array(srv->env);
    srv->argv = srv->spec_env = srv->env = NULL;
    json_decref(srv->user_options);
    srv->user_options = NULL;
    srv->progress = NULL;
}

static void stop_timer(struct slurm_server *srv)
{
    gm_timer_stop(srv->timer);
    srv->timer = NULL;
}

static void forget_job(struct slurm_server *srv)
{
    srv->job_id[0] = '\0';
    free(srv->job_status);
    srv->job_status = NULL;
    srv->host[0] = '\0';
    srv->port = 0;
}

static void cancel_step(struct slurm_server *srv)
{
    gm_command_cancel(srv->command);
    srv->command = NULL;
    gm_fetch_cancel(srv->fetch);
    srv->fetch = NULL;
    free(srv->step); /* its completion will not run */
    srv->step = NULL;
}

void slurm_cancel_all(struct slurm_server *srv)
{
    cancel_step(srv);
    stop_timer(srv);
    clear_start(srv);
    json_decref(srv->vars);
    srv->vars = NULL;
    srv->start_cb = NULL;
    srv->stop_cb = NULL;
    srv->poll_cb = NULL;
    srv->stopping = srv->polling = false;
}

/* Starting. */

static void start_done(struct slurm_server *srv, int status, const char *url, const char *msg)
{
    gm_spawner_started_cb cb = srv->start_cb;
    void *data = srv->start_data;
    srv->start_cb = NULL;
    stop_timer(srv);
    clear_start(srv);
    if (status < 0)
        gm_log_warn("SLURM job %s of %s did not start: %s", srv->job_id[0] ? srv->job_id : "-",
                    srv->user, msg);
    cb(data, status, url, msg);
}

static void progress(struct slurm_server *srv, int pct, const char *msg)
{
    if (!srv->progress || strcmp(srv->last_message, msg) == 0)
        return;
    if (pct >= 0 && pct < srv->last_pct)
        return; /* behind what was said already (the port came before the query saw the job) */
    if (pct >= 0)
        srv->last_pct = pct;
    snprintf(srv->last_message, sizeof(srv->last_message), "%s", msg);
    srv->progress->emit(srv->progress->ctx, pct, msg, NULL);
}

static void query_start(struct slurm_server *srv);

static void on_query_due(void *data)
{
    struct slurm_server *srv = data;
    stop_timer(srv);
    query_start(srv);
}

static void schedule_query(struct slurm_server *srv, uint64_t ms)
{
    stop_timer(srv);
    if (gm_timer_start(srv->st->host->loop, ms, 0, on_query_due, srv, &srv->timer) < 0)
        start_done(srv, -ENOMEM, NULL, "cannot schedule the next query of the job");
}

static uint64_t startup_ms(const struct slurm_server *srv)
{
    return (uint64_t)(srv->st->conf->startup_poll_interval * 1000);
}

/* Gone before its server was up: say what SLURM and the job's output say. */
static void on_tail(struct slurm_server *srv, const struct gm_command_result *res)
{
    char msg[SLURM_MESSAGE_MAX + 64];
    const char *out = res->out ? res->out : "";
    size_t n = strlen(out);
    /* Keep the end of the output: the message has room for what it has room for. */
    size_t room = SLURM_MESSAGE_MAX - strlen(srv->fail_message) - 40;
    const char *tail = n > room ? out + n - room : out;
    if (res->error == 0 && res->exit_status == 0 && n)
        snprintf(msg, sizeof(msg), "%s Last lines of its output:\n%s", srv->fail_message, tail);
    else
        snprintf(msg, sizeof(msg), "%s", srv->fail_message);
    start_done(srv, -ESRCH, NULL, msg);
}

static void on_job_info(struct slurm_server *srv, const struct gm_command_result *res)
{
    struct slurm_job_info info;
    memset(&info, 0, sizeof(info));
    size_t len = strlen(srv->fail_message);
    if (res->error == 0 && res->exit_status == 0 && slurm_parse_job_info(res->out, &info) == 0) {
        snprintf(srv->fail_message + len, sizeof(srv->fail_message) - len,
                 " SLURM: state %s, exit code %s%s%s.", info.state,
                 info.exit_code[0] ? info.exit_code : "unknown", info.reason[0] ? ", reason " : "",
                 info.reason);
    }
    const struct slurm_conf *conf = srv->st->conf;
    char *quoted = NULL, *line = NULL, err[256];
    if (info.std_out[0] && conf->output_tail_cmd[0] && gm_shell_quote(info.std_out, &quoted) == 0 &&
        json_object_set_new(srv->vars, "output_file", json_string(quoted)) == 0 &&
        command_for(srv, "output_tail_cmd", conf->output_tail_cmd, &line, err, sizeof(err)) == 0) {
        free(quoted);
        run(srv, SLURM_CMD_OTHER, line, NULL, NULL, on_tail);
        free(line);
        return;
    }
    free(quoted);
    start_done(srv, -ESRCH, NULL, srv->fail_message);
}

static void fail_gone(struct slurm_server *srv)
{
    if (srv->port)
        snprintf(srv->fail_message, sizeof(srv->fail_message),
                 "SLURM job %s ended before its server answered.", srv->job_id);
    else if (srv->host[0])
        snprintf(srv->fail_message, sizeof(srv->fail_message),
                 "SLURM job %s started on %s but ended before its server reported its port.",
                 srv->job_id, srv->host);
    else
        snprintf(srv->fail_message, sizeof(srv->fail_message),
                 "SLURM job %s is gone: it was cancelled or ended before it ran its server.",
                 srv->job_id);
    if (srv->query_printed && srv->job_status && srv->job_status[0]) {
        /* The query printed something none of the state_*_re matched: say what, for the
         * operator whose batch_query_cmd or regular expressions do not fit. */
        char line1[200];
        first_line(srv->job_status, line1, sizeof(line1));
        snprintf(srv->fail_message, sizeof(srv->fail_message),
                 "SLURM job %s: the query printed '%s', which SlurmSpawner.state_running_re and "
                 "state_pending_re do not match, so the job is taken as gone.",
                 srv->job_id, line1);
    }
    char err[SLURM_MESSAGE_MAX];
    if (step_enabled(srv, STEP_JOB_INFO) &&
        start_step(srv, STEP_JOB_INFO, on_job_info, err, sizeof(err)) == 0)
        return;
    start_done(srv, -ESRCH, NULL, srv->fail_message);
}

static void finish_if_ready(struct slurm_server *srv)
{
    if (!srv->host[0] || !srv->port)
        return;
    char url[SLURM_HOST_MAX + 32];
    snprintf(url, sizeof(url), "http://%s:%d", srv->host, srv->port);
    gm_log_info("SLURM job %s of %s: server at %s", srv->job_id, srv->user, url);
    start_done(srv, 0, url, NULL);
}

#define REPORTED "The server reported its port; connecting"

/* The port came (the job's wrapper reported it) and a query saw the job run: both are said
 * in that order, whichever came first, then the start completes. */
void slurm_port_reported(struct slurm_server *srv)
{
    if (!srv->starting || !srv->start_cb)
        return;
    if (srv->command || srv->fetch)
        return; /* the query under way finishes it */
    if (srv->host[0]) {
        progress(srv, 80, REPORTED);
        finish_if_ready(srv);
        return;
    }
    /* The job runs (it reported), but no query has said where yet: ask now rather than at the
     * next scheduled query. */
    stop_timer(srv);
    query_start(srv);
}

static void on_queue(struct slurm_server *srv, const struct gm_command_result *res)
{
    char msg[SLURM_MESSAGE_MAX];
    if (res->error == 0 && res->exit_status == 0 &&
        slurm_queue_message(srv->job_id, res->out, msg, sizeof(msg)) == 0)
        progress(srv, 20, msg);
    else
        progress(srv, 20, "Pending in queue...");
    schedule_query(srv, srv->port ? 0 : srv->poll_ms); /* it reported meanwhile: it runs */
}

/* What a query says: its output (or stderr) kept as job_status, read by the state_*_re. A query
 * that did not run to its end (a timeout, a command that could not start) proves nothing: the
 * job is then UNKNOWN, never gone. */
static enum slurm_job_status take_query(struct slurm_server *srv,
                                        const struct gm_command_result *res)
{
    free(srv->job_status);
    srv->job_status = status_text(res);
    if (!srv->job_status)
        return SLURM_JOB_UNKNOWN;
    srv->query_printed = res->error == 0 && res->exit_status == 0;
    enum slurm_job_status js = slurm_classify(srv->st, srv->job_status);
    return js == SLURM_JOB_NOTFOUND && res->error ? SLURM_JOB_UNKNOWN : js;
}

static void on_start_query(struct slurm_server *srv, const struct gm_command_result *res)
{
    enum slurm_job_status js = take_query(srv, res);
    const struct slurm_conf *conf = srv->st->conf;
    char msg[SLURM_MESSAGE_MAX], line1[300];
    switch (js) {
    case SLURM_JOB_RUNNING:
        srv->poll_ms = startup_ms(srv);
        if (!srv->host[0] && slurm_exechost(srv->st, srv->job_status, srv->host) < 0) {
            first_line(srv->job_status, line1, sizeof(line1));
            snprintf(msg, sizeof(msg),
                     "SLURM job %s runs, but SlurmSpawner.state_exechost_re finds no host in "
                     "what the query printed: '%s'",
                     srv->job_id, line1);
            start_done(srv, -EPROTO, NULL, msg);
            return;
        }
        snprintf(msg, sizeof(msg), "Job %s is running on %s; waiting for its server to start",
                 srv->job_id, srv->host);
        progress(srv, 50, msg);
        if (srv->port)
            progress(srv, 80, REPORTED);
        finish_if_ready(srv);
        if (srv->start_cb)
            schedule_query(srv, srv->poll_ms);
        return;
    case SLURM_JOB_PENDING: {
        uint64_t max = (uint64_t)(conf->pending_poll_interval * 1000);
        uint64_t next = srv->poll_ms * 2;
        srv->poll_ms = next > max ? (max > startup_ms(srv) ? max : startup_ms(srv)) : next;
        char err[SLURM_MESSAGE_MAX];
        if (step_enabled(srv, STEP_QUEUE) &&
            start_step(srv, STEP_QUEUE, on_queue, err, sizeof(err)) == 0)
            return;
        progress(srv, 20, "Pending in queue...");
        schedule_query(srv, srv->poll_ms);
        return;
    }
    case SLURM_JOB_UNKNOWN:
        first_line(srv->job_status && srv->job_status[0] ? srv->job_status : res->message, line1,
                   sizeof(line1));
        snprintf(msg, sizeof(msg),
                 "SLURM does not answer about job %s (%s); still waiting (Spawner.start_timeout "
                 "decides)",
                 srv->job_id, line1);
        progress(srv, -1, msg);
        srv->poll_ms = (uint64_t)(conf->pending_poll_interval * 1000);
        schedule_query(srv, srv->poll_ms);
        return;
    case SLURM_JOB_NOTFOUND:
        fail_gone(srv);
        return;
    }
}

static void query_start(struct slurm_server *srv)
{
    char err[SLURM_MESSAGE_MAX];
    int r = start_step(srv, STEP_QUERY, on_start_query, err, sizeof(err));
    if (r == -EINVAL || r == -E2BIG)
        start_done(srv, r, NULL, err); /* a setting that does not format */
    else if (r < 0)
        step_failed(srv, r, on_start_query);
}

static void on_submitted(struct slurm_server *srv, const struct gm_command_result *res)
{
    char msg[SLURM_MESSAGE_MAX];
    if (res->error || res->exit_status != 0) {
        char *why = status_text(res);
        snprintf(msg, sizeof(msg), "Submitting the batch job failed (%s): %s", res->message,
                 why && why[0] ? why : "(no output)");
        free(why);
        start_done(srv, -EIO, NULL, msg);
        return;
    }
    if (slurm_parse_job_id(res->out, srv->job_id) < 0) {
        char line1[300];
        first_line(res->out, line1, sizeof(line1));
        snprintf(msg, sizeof(msg),
                 "The batch job was submitted but no job id is in what the submit command "
                 "printed: '%s'",
                 line1);
        start_done(srv, -EPROTO, NULL, msg);
        return;
    }
    set_job_var(srv);
    gm_log_info("SLURM job %s submitted for %s", srv->job_id, srv->user);
    snprintf(msg, sizeof(msg), "Job %s submitted to SLURM", srv->job_id);
    progress(srv, 10, msg);
    srv->poll_ms = startup_ms(srv);
    schedule_query(srv, srv->poll_ms);
}

/* UserEnvMixin: USER, HOME and SHELL of the account, over what the server's environment has. */
static int build_env(struct slurm_server *srv, const struct gm_account *a)
{
    struct gm_strv sv = {0};
    int r = gm_strv_extend(&sv, (const char *const *)srv->spec_env);
    const char *names[] = {"USER", "HOME", "SHELL"};
    const char *values[] = {srv->user, a->home, a->shell};
    for (size_t i = 0; i < 3 && r == 0; i++)
        if (values[i][0])
            r = gm_strv_setenv(&sv, names[i], values[i]);
    if (r == 0 && !(srv->env = gm_strv_steal(&sv)))
        r = -ENOMEM;
    gm_strv_free(&sv);
    return r;
}

static void on_account(void *data, int status, const struct gm_account *a)
{
    struct slurm_server *srv = data;
    srv->lookup = NULL;
    char msg[SLURM_MESSAGE_MAX];
    if (status == -ENOENT) {
        snprintf(msg, sizeof(msg),
                 "No such user: '%s'. The SLURM spawner submits jobs as the user's account of the "
                 "same name (its home is {homedir}): create the account, or map the name with "
                 "Authenticator.username_map",
                 srv->user);
        start_done(srv, -ENOENT, NULL, msg);
        return;
    }
    if (status < 0) {
        snprintf(msg, sizeof(msg), "cannot look up the account of '%s': %s", srv->user,
                 strerror(-status));
        start_done(srv, status, NULL, msg);
        return;
    }
    const struct slurm_conf *conf = srv->st->conf;
    if (srv->st->rest_url && a->uid == 0) {
        /* slurmrestd runs the job as whoever the request names, with root's token: no sudoers
         * rule stands between a hub user called root and a root job. */
        snprintf(msg, sizeof(msg),
                 "'%s' is the system's root account: the SLURM spawner does not submit jobs "
                 "for root through slurmrestd",
                 srv->user);
        start_done(srv, -EPERM, NULL, msg);
        return;
    }
    json_decref(srv->vars);
    srv->vars = slurm_vars(conf, srv->user, a->home, (const char *const *)srv->spec_env,
                           (const char *const *)srv->argv);
    if (!srv->vars || build_env(srv, a) < 0) {
        start_done(srv, -ENOMEM, NULL, "out of memory");
        return;
    }
    int r = slurm_form_values(conf->batch_options, srv->user_options, srv->vars, msg, sizeof(msg));
    if (r < 0) {
        start_done(srv, r, NULL, msg);
        return;
    }
    char *script = NULL, *line = NULL;
    if (!srv->st->rest_url)
        r = command_for(srv, "batch_submit_cmd", conf->batch_submit_cmd, &line, msg, sizeof(msg));
    if (r == 0)
        r = slurm_format("batch_script", conf->batch_script, srv->vars, SLURM_SCRIPT_MAX, &script,
                         msg, sizeof(msg));
    if (r < 0) {
        free(line);
        start_done(srv, r, NULL, msg);
        return;
    }
    gm_log_info("Submitting the batch job of %s: %s", srv->user, line ? line : "to slurmrestd");
    gm_log_debug("Batch script of %s:\n%s", srv->user, script);
    progress(srv, 5, "Submitting the batch job");
    srv->submitted_ms = (int64_t)uv_now(srv->st->host->loop);
    if (line)
        r = start_command(srv, SLURM_CMD_SUBMIT, line, script, (const char *const *)srv->env,
                          on_submitted);
    else
        r = slurm_rest_submit(srv, script, (const char *const *)srv->env, on_submitted, msg,
                              sizeof(msg));
    free(line);
    free(script);
    if (r == -EINVAL)
        start_done(srv, r, NULL, msg); /* a directive slurmrestd cannot take */
    else if (r < 0)
        step_failed(srv, r, on_submitted);
}

int slurm_start(void *server, const struct gm_server_spec *spec,
                const struct gm_spawn_progress *prog, gm_spawner_started_cb cb, void *data)
{
    struct slurm_server *srv = server;
    if (srv->starting || srv->stopping || srv->polling)
        return -EBUSY;
    forget_job(srv);
    srv->argv = gm_strv_dup_array(spec->argv);
    srv->spec_env = gm_strv_dup_array(spec->env);
    srv->user_options = spec->user_options ? json_deep_copy(spec->user_options) : json_object();
    if (!srv->argv || !srv->spec_env || !srv->user_options) {
        clear_start(srv);
        return -ENOMEM;
    }
    srv->progress = prog;
    srv->last_message[0] = '\0';
    srv->last_pct = 0;
    srv->start_cb = cb;
    srv->start_data = data;
    srv->starting = true;
    int r = gm_account_lookup(srv->st->host->loop, srv->user, on_account, srv, &srv->lookup);
    if (r < 0) {
        srv->start_cb = NULL;
        clear_start(srv);
        return r;
    }
    return 0;
}

/* Stopping. */

static void stop_done(struct slurm_server *srv, int status, const char *msg)
{
    gm_spawner_stopped_cb cb = srv->stop_cb;
    void *data = srv->stop_data;
    srv->stop_cb = NULL;
    srv->stopping = false;
    stop_timer(srv);
    if (status == 0)
        forget_job(srv);
    cb(data, status, msg);
}

static void stop_check(struct slurm_server *srv);

static void on_stop_check_due(void *data)
{
    struct slurm_server *srv = data;
    stop_timer(srv);
    stop_check(srv);
}

static void on_stop_query(struct slurm_server *srv, const struct gm_command_result *res)
{
    enum slurm_job_status js = take_query(srv, res);
    if (js != SLURM_JOB_RUNNING && js != SLURM_JOB_UNKNOWN) {
        stop_done(srv, 0, NULL);
        return;
    }
    if (++srv->stop_checks >= SLURM_STOP_CHECKS) {
        gm_log_warn("SLURM job %s of %s at %s:%d possibly failed to terminate", srv->job_id,
                    srv->user, srv->host[0] ? srv->host : "?", srv->port);
        stop_done(srv, 0, NULL);
        return;
    }
    if (gm_timer_start(srv->st->host->loop, 1000, 0, on_stop_check_due, srv, &srv->timer) < 0)
        stop_done(srv, 0, NULL);
}

static void stop_check(struct slurm_server *srv)
{
    char err[SLURM_MESSAGE_MAX];
    if (start_step(srv, STEP_QUERY, on_stop_query, err, sizeof(err)) < 0)
        stop_done(srv, 0, NULL);
}

static void on_cancelled(struct slurm_server *srv, const struct gm_command_result *res)
{
    if (res->error || res->exit_status != 0) {
        char *why = status_text(res);
        gm_log_warn("Cancelling SLURM job %s of %s: %s: %s", srv->job_id, srv->user, res->message,
                    why ? why : "");
        free(why);
    }
    if (srv->stop_now) {
        stop_done(srv, 0, NULL);
        return;
    }
    srv->stop_checks = 0;
    stop_check(srv);
}

static void on_nothing_to_stop(void *data)
{
    struct slurm_server *srv = data;
    stop_timer(srv);
    stop_done(srv, 0, NULL);
}

int slurm_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data)
{
    struct slurm_server *srv = server;
    if (srv->stopping)
        return -EALREADY;
    if (srv->polling) {
        /* The hub never polls and stops at once; a poll cannot complete after a stop. */
        return -EBUSY;
    }
    cancel_step(srv);
    stop_timer(srv);
    if (srv->starting && srv->start_cb)
        start_done(srv, -ECANCELED, NULL, "the start was cancelled");
    clear_start(srv);
    srv->stopping = true;
    srv->stop_now = now;
    srv->stop_cb = cb;
    srv->stop_data = data;
    if (!srv->job_id[0] || ensure_vars(srv) < 0) {
        /* Nothing submitted: done, on a later turn of the loop. */
        if (gm_timer_start(srv->st->host->loop, 0, 0, on_nothing_to_stop, srv, &srv->timer) < 0) {
            srv->stopping = false;
            srv->stop_cb = NULL;
            return -ENOMEM;
        }
        return 0;
    }
    gm_log_info("Stopping SLURM job %s of %s", srv->job_id, srv->user);
    char err[SLURM_MESSAGE_MAX];
    int r = start_step(srv, STEP_CANCEL, on_cancelled, err, sizeof(err));
    if (r == -EINVAL || r == -E2BIG) {
        gm_log_error("Cannot cancel SLURM job %s: %s", srv->job_id, err);
        if (gm_timer_start(srv->st->host->loop, 0, 0, on_nothing_to_stop, srv, &srv->timer) < 0) {
            srv->stopping = false;
            srv->stop_cb = NULL;
            return -ENOMEM;
        }
        return 0;
    }
    if (r < 0) {
        srv->stopping = false;
        srv->stop_cb = NULL;
    }
    return r;
}

/* Polling. */

static void poll_done(struct slurm_server *srv, int exit_status)
{
    gm_spawner_polled_cb cb = srv->poll_cb;
    void *data = srv->poll_data;
    srv->poll_cb = NULL;
    srv->polling = false;
    stop_timer(srv);
    cb(data, exit_status);
}

static void on_poll_query(struct slurm_server *srv, const struct gm_command_result *res)
{
    enum slurm_job_status js = take_query(srv, res);
    if (js == SLURM_JOB_UNKNOWN)
        gm_log_warn("SLURM job %s of %s: the query did not say (%s); taken as still running",
                    srv->job_id, srv->user,
                    srv->job_status && srv->job_status[0] ? srv->job_status : res->message);
    if (js != SLURM_JOB_NOTFOUND) {
        poll_done(srv, GM_SPAWNER_RUNNING);
        return;
    }
    gm_log_info("SLURM job %s of %s is no longer in the queue", srv->job_id, srv->user);
    forget_job(srv);
    poll_done(srv, 1);
}

static void on_poll_nothing(void *data)
{
    struct slurm_server *srv = data;
    stop_timer(srv);
    poll_done(srv, 1);
}

int slurm_poll(void *server, gm_spawner_polled_cb cb, void *data)
{
    struct slurm_server *srv = server;
    if (srv->starting || srv->stopping || srv->polling)
        return -EBUSY;
    srv->polling = true;
    srv->poll_cb = cb;
    srv->poll_data = data;
    char err[SLURM_MESSAGE_MAX];
    int r = !srv->job_id[0] ? -ENOENT : ensure_vars(srv);
    if (r == 0)
        r = start_step(srv, STEP_QUERY, on_poll_query, err, sizeof(err));
    if (r == -ENOENT || r == -EINVAL || r == -E2BIG) {
        /* batchspawner: no job id (or one no query can name) is a job not found. */
        if (gm_timer_start(srv->st->host->loop, 0, 0, on_poll_nothing, srv, &srv->timer) < 0) {
            srv->polling = false;
            srv->poll_cb = NULL;
            return -ENOMEM;
        }
        return 0;
    }
    if (r < 0) {
        srv->polling = false;
        srv->poll_cb = NULL;
    }
    return r;
}
