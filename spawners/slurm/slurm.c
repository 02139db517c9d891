/* SlurmSpawner ("slurm"), as batchspawner 1.3: each server is a SLURM job. The hub renders
 * the batch script (batchspawner's template and variables), submits it with sbatch through
 * exec_prefix (`sudo -E -u {username}`), queries the job with squeue until it runs, and the
 * job's wrapper (batchspawner-singleuser, ours or batchspawner's) reports the port its server
 * took to POST /hub/api/batchspawner; the hub then reaches the server at the job's node.
 *
 * Beyond batchspawner: while the job waits, the progress says where it stands in its
 * partition's queue, why (SLURM's reason in words) and when SLURM expects to start it; a job
 * that ends before its server is up fails the start at once with its state, exit code and the
 * last lines of its output; a batch options form with limits the hub checks.
 *
 *     c.JupyterHub.spawner_class = "batchspawner.SlurmSpawner"
 *     c.SlurmSpawner.req_partition = "interactive"
 *     c.SlurmSpawner.req_runtime = "8:00:00"
 *     c.SlurmSpawner.req_memory = "4G"
 *
 * The state is batchspawner's {"job_id", "job_status"}: a restarted hub (or one that took
 * over from JupyterHub) finds its jobs again. */
#include "slurm.h"

#include <errno.h>
#include <ganymede/log.h>
#include <ganymede/template.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPT(field) offsetof(struct slurm_conf, field)

/* SlurmSpawner's batch script, batchspawner's with --account, --qos, --clusters and GPUs
 * (req_ngpus) added: batchspawner's ignores those settings. */
#define SLURM_SCRIPT                                                                               \
    "\"#!/bin/bash\\n"                                                                             \
    "#SBATCH --output={{homedir}}/jupyterhub_slurmspawner_%j.log\\n"                               \
    "#SBATCH --job-name=spawner-jupyterhub\\n"                                                     \
    "#SBATCH --chdir={{homedir}}\\n"                                                               \
    "#SBATCH --export={{keepvars}}\\n"                                                             \
    "#SBATCH --get-user-env=L\\n"                                                                  \
    "{% if partition  %}#SBATCH --partition={{partition}}\\n"                                      \
    "{% endif %}{% if runtime    %}#SBATCH --time={{runtime}}\\n"                                  \
    "{% endif %}{% if memory     %}#SBATCH --mem={{memory}}\\n"                                    \
    "{% endif %}{% if gres       %}#SBATCH --gres={{gres}}\\n"                                     \
    "{% elif ngpus %}#SBATCH --gres=gpu:{{ngpus}}\\n"                                              \
    "{% endif %}{% if nprocs     %}#SBATCH --cpus-per-task={{nprocs}}\\n"                          \
    "{% endif %}{% if reservation%}#SBATCH --reservation={{reservation}}\\n"                       \
    "{% endif %}{% if account    %}#SBATCH --account={{account}}\\n"                               \
    "{% endif %}{% if qos        %}#SBATCH --qos={{qos}}\\n"                                       \
    "{% endif %}{% if cluster    %}#SBATCH --clusters={{cluster}}\\n"                              \
    "{% endif %}{% if options    %}#SBATCH {{options}}{% endif %}\\n"                              \
    "\\n"                                                                                          \
    "set -euo pipefail\\n"                                                                         \
    "\\n"                                                                                          \
    "trap 'echo SIGTERM received' TERM\\n"                                                         \
    "{{prologue}}\\n"                                                                              \
    "{% if srun %}{{srun}} {% endif %}{{cmd}}\\n"                                                  \
    "echo \\\"jupyterhub-singleuser ended gracefully\\\"\\n"                                       \
    "{{epilogue}}\\n\""

static int check_interval(const json_t *v, const char **why)
{
    *why = "a number of seconds from 0.05 to 3600";
    return json_is_number(v) && json_number_value(v) >= 0.05 && json_number_value(v) <= 3600
               ? 0
               : -EINVAL;
}

static int check_form(const json_t *v, const char **why)
{
    char err[SLURM_MESSAGE_MAX];
    *why = "a dict of batch options (see docs/slurm-spawner.md)";
    return json_is_null(v) || slurm_form_check(v, err, sizeof(err)) == 0 ? 0 : -EINVAL;
}

static const struct gm_option base_options[] = {
    GM_OPTION("exec_prefix", GM_OPTION_STRING, OPT(exec_prefix), "\"sudo -E -u {username}\"",
              "Put before every batch command (formatted like them), to run it as the user."),
    GM_OPTION("req_queue", GM_OPTION_STRING, OPT(req_queue), NULL,
              "Queue name to submit the job to ({queue} in the script)."),
    GM_OPTION("req_host", GM_OPTION_STRING, OPT(req_host), NULL,
              "Host name of the batch server ({host} in the script)."),
    GM_OPTION("req_memory", GM_OPTION_STRING, OPT(req_memory), NULL,
              "Memory to request (--mem), e.g. \"4G\"."),
    GM_OPTION("req_nprocs", GM_OPTION_STRING, OPT(req_nprocs), NULL,
              "Number of processors to request (--cpus-per-task)."),
    GM_OPTION("req_ngpus", GM_OPTION_STRING, OPT(req_ngpus), NULL,
              "Number of GPUs to request (--gres=gpu:N unless req_gres is set)."),
    GM_OPTION("req_runtime", GM_OPTION_STRING, OPT(req_runtime), NULL,
              "How long the job may run (--time), e.g. \"8:00:00\"."),
    GM_OPTION("req_partition", GM_OPTION_STRING, OPT(req_partition), NULL,
              "Partition to submit the job to (--partition)."),
    GM_OPTION("req_account", GM_OPTION_STRING, OPT(req_account), NULL,
              "Account to charge the job to (--account)."),
    GM_OPTION("req_options", GM_OPTION_STRING, OPT(req_options), NULL,
              "Other options for the job, put on one #SBATCH line."),
    GM_OPTION("req_prologue", GM_OPTION_STRING, OPT(req_prologue), NULL,
              "Script lines to run before the server starts (module load ...)."),
    GM_OPTION("req_epilogue", GM_OPTION_STRING, OPT(req_epilogue), NULL,
              "Script lines to run after the server ends."),
    GM_OPTION("req_keepvars_extra", GM_OPTION_STRING, OPT(req_keepvars_extra), NULL,
              "More environment variables for the job (comma separated), added to keepvars."),
    GM_OPTION("batch_script", GM_OPTION_STRING, OPT(batch_script), SLURM_SCRIPT,
              "The job script template (Jinja, or str.format without '{{'/'{%'); {cmd} is the "
              "server's command line."),
    GM_OPTION("batchspawner_singleuser_cmd", GM_OPTION_STRING, OPT(batchspawner_singleuser_cmd),
              "\"batchspawner-singleuser\"",
              "The wrapper the job runs the server with: it reports the server's port to the "
              "hub."),
    GM_OPTION("batch_submit_cmd", GM_OPTION_STRING, OPT(batch_submit_cmd), "\"sbatch --parsable\"",
              "Submits the script, given on its standard input; prints the job id."),
    GM_OPTION("batch_query_cmd", GM_OPTION_STRING, OPT(batch_query_cmd),
              "\"squeue -h -j {job_id} -o '%T %B'\"",
              "Prints the job's state and execution host ({job_id})."),
    GM_OPTION("batch_cancel_cmd", GM_OPTION_STRING, OPT(batch_cancel_cmd), "\"scancel {job_id}\"",
              "Cancels the job ({job_id})."),
    GM_OPTION_X("startup_poll_interval", GM_OPTION_FLOAT, OPT(startup_poll_interval), "0.5",
                "Seconds between queries of the job's state while the server starts.",
                .check = check_interval),
    GM_OPTION_END,
};

static const struct gm_option regex_options[] = {
    GM_OPTION("state_pending_re", GM_OPTION_STRING, OPT(state_pending_re),
              "\"^(?:PENDING|CONFIGURING)\"",
              "Matches the query's output while the job waits to run."),
    GM_OPTION("state_running_re", GM_OPTION_STRING, OPT(state_running_re),
              "\"^(?:RUNNING|COMPLETING)\"", "Matches the query's output while the job runs."),
    GM_OPTION("state_exechost_re", GM_OPTION_STRING, OPT(state_exechost_re),
              "\"\\\\s+((?:[\\\\w_-]+\\\\.?)+)$\"",
              "Its first group is the host the job runs on, in the query's output."),
    GM_OPTION("state_exechost_exp", GM_OPTION_STRING, OPT(state_exechost_exp), NULL,
              "If set, the host is this, with \\1 and \\g<name> replaced by the groups of "
              "state_exechost_re (re.Match.expand)."),
    GM_OPTION("state_unknown_re", GM_OPTION_STRING, OPT(state_unknown_re),
              "\"^slurm_load_jobs error: (?:Socket timed out on send/recv|Unable to contact "
              "slurm controller)\"",
              "Matches the query's output when the controller does not answer: the job is then "
              "neither declared running nor gone."),
    GM_OPTION_END,
};

static const struct gm_option slurm_options[] = {
    GM_OPTION("req_cluster", GM_OPTION_STRING, OPT(req_cluster), NULL,
              "Cluster to submit the job to (--clusters)."),
    GM_OPTION("req_qos", GM_OPTION_STRING, OPT(req_qos), NULL, "QOS of the job (--qos)."),
    GM_OPTION("req_srun", GM_OPTION_STRING, OPT(req_srun), "\"srun\"",
              "Runs the server in a job step; \"\" runs it in the batch script itself."),
    GM_OPTION("req_reservation", GM_OPTION_STRING, OPT(req_reservation), NULL,
              "Reservation to run the job in (--reservation)."),
    GM_OPTION("req_gres", GM_OPTION_STRING, OPT(req_gres), NULL,
              "Generic resources to request (--gres), e.g. \"gpu:a100:1\"."),
    GM_OPTION("queue_query_cmd", GM_OPTION_STRING, OPT(queue_query_cmd),
              "\"squeue -h -t PENDING -S -p,i -o '%i|%P|%r|%S'\"",
              "Ganymede: lists the pending jobs in the order they will start (id|partition|"
              "reason|start), for the position and reason the spawn page shows; \"\" for none."),
    GM_OPTION("job_info_cmd", GM_OPTION_STRING, OPT(job_info_cmd),
              "\"scontrol show job -o {job_id}\"",
              "Ganymede: what a job that ended before its server was up left (state, exit code, "
              "output file), for the failure message; \"\" for none."),
    GM_OPTION("output_tail_cmd", GM_OPTION_STRING, OPT(output_tail_cmd),
              "\"tail -n 12 -- {output_file}\"",
              "Ganymede: prints the last lines of that job's output file ({output_file}), "
              "run as the user; \"\" for none."),
    GM_OPTION_X("pending_poll_interval", GM_OPTION_FLOAT, OPT(pending_poll_interval), "5.0",
                "Ganymede: while the job waits in the queue, the queries slow down from "
                "startup_poll_interval to one every this many seconds.",
                .check = check_interval),
    GM_OPTION_X("command_timeout", GM_OPTION_FLOAT, OPT(command_timeout), "30.0",
                "Ganymede: seconds a batch command may take before it is ended (and counted as "
                "failed).",
                .check = check_interval),
    GM_OPTION_X("batch_options", GM_OPTION_JSON, OPT(batch_options), NULL,
                "Ganymede: the batch options form (partition, runtime, memory, nprocs, ngpus) "
                "with its choices and limits; None for no form.",
                .check = check_form),
    GM_OPTION("slurmrestd_url", GM_OPTION_STRING, OPT(slurmrestd_url), NULL,
              "Ganymede: submit, query and cancel jobs through slurmrestd at this URL "
              "(\"http://slurmctl:6820\") instead of sbatch, squeue and scancel; \"\" for the "
              "commands."),
    GM_OPTION_X("slurmrestd_token", GM_OPTION_STRING, OPT(slurmrestd_token), NULL,
                "Ganymede: the JWT slurmrestd takes (auth/jwt), root's or SlurmUser's: jobs run "
                "as the user named in each request. Read from SLURM_JWT when not set.",
                .env = "SLURM_JWT"),
    GM_OPTION("slurmrestd_api_version", GM_OPTION_STRING, OPT(slurmrestd_api_version),
              "\"v0.0.38\"", "Ganymede: the OpenAPI plugin version of slurmrestd's paths."),
    GM_OPTION("slurmrestd_ca_file", GM_OPTION_STRING, OPT(slurmrestd_ca_file), NULL,
              "Ganymede: CA bundle for an https:// slurmrestd_url (the system's when \"\")."),
    GM_OPTION("slurmrestd_queue", GM_OPTION_BOOL, OPT(slurmrestd_queue), "true",
              "Ganymede: with slurmrestd, list the jobs (GET /jobs) for the queue position the "
              "spawn page shows while a job pends."),
    GM_OPTION_END,
};

static const struct gm_option_class base_class = {
    .name = "BatchSpawnerBase",
    .parent = "Spawner",
    .help = "batchspawner's settings common to its batch spawners; Ganymede runs SLURM's.",
    .options = base_options,
};

static const struct gm_option_class regex_class = {
    .name = "BatchSpawnerRegexStates",
    .parent = "BatchSpawnerBase",
    .help = "How the batch query's output is read: Python regular expressions.",
    .options = regex_options,
};

static const struct gm_option_class slurm_class = {
    .name = "SlurmSpawner",
    .parent = "BatchSpawnerRegexStates",
    .help = "Servers as SLURM jobs, as batchspawner's SlurmSpawner (spawners/slurm).",
    .options = slurm_options,
};

/* The classes between Spawner and SlurmSpawner, from the root down. */
static const struct gm_option_class *const slurm_ancestors[] = {&base_class, &regex_class, NULL};

static int compile(const char *setting, const char *pattern, bool required, struct gm_regex **ret,
                   char *err, size_t errlen)
{
    *ret = NULL;
    if (!pattern[0]) {
        if (!required)
            return 0;
        snprintf(err, errlen, "%s must be set (batchspawner: \"Misconfigured: define %s\")",
                 setting, setting);
        return -EINVAL;
    }
    char why[300];
    int r = gm_regex_compile(pattern, ret, why, sizeof(why));
    if (r < 0)
        snprintf(err, errlen, "%s '%.200s' is not a valid regular expression: %s", setting, pattern,
                 why);
    return r;
}

static void slurm_destroy(void *state)
{
    struct slurm_state *st = state;
    if (!st)
        return;
    gm_regex_free(st->pending_re);
    gm_regex_free(st->running_re);
    gm_regex_free(st->exechost_re);
    gm_regex_free(st->unknown_re);
    free(st->rest_url);
    if (st->rest_token)
        explicit_bzero(st->rest_token, strlen(st->rest_token));
    free(st->rest_token);
    free(st);
}

/* The slurmrestd backend's URL and token, checked. */
static int rest_init(struct slurm_state *st, const struct slurm_conf *conf, char *err,
                     size_t errlen)
{
    const char *url = conf->slurmrestd_url;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen,
                 "SlurmSpawner.slurmrestd_url '%.200s' must be an http:// or https:// URL", url);
        return -EINVAL;
    }
    if (!conf->slurmrestd_token[0]) {
        snprintf(err, errlen,
                 "SlurmSpawner.slurmrestd_url is set but no token is: set "
                 "SlurmSpawner.slurmrestd_token or SLURM_JWT in the hub's environment "
                 "(scontrol token username=root lifespan=...)");
        return -EINVAL;
    }
    for (const char *p = conf->slurmrestd_token; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            snprintf(err, errlen,
                     "SlurmSpawner.slurmrestd_token holds a space or a control "
                     "character: it is not a JWT");
            return -EINVAL;
        }
    if (strlen(conf->slurmrestd_token) > 4000) {
        snprintf(err, errlen, "SlurmSpawner.slurmrestd_token is longer than 4000 bytes");
        return -EINVAL;
    }
    const char *v = conf->slurmrestd_api_version;
    if (!v[0] || strspn(v, "v0123456789.") != strlen(v)) {
        snprintf(err, errlen,
                 "SlurmSpawner.slurmrestd_api_version '%.100s' is not a version "
                 "like v0.0.38",
                 v);
        return -EINVAL;
    }
    if (strncmp(url, "http://", 7) == 0 && strncmp(url + 7, "127.", 4) != 0 &&
        strncmp(url + 7, "localhost", 9) != 0 && strncmp(url + 7, "[::1]", 5) != 0)
        gm_log_warn("SlurmSpawner.slurmrestd_url is plain http to another host: root's token "
                    "and the servers' API tokens cross the network in clear; use https");
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    st->rest_url = strndup(url, n);
    st->rest_token = strdup(conf->slurmrestd_token);
    if (!st->rest_url || !st->rest_token) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

static int slurm_init(const struct gm_host *host, void *confp, void **state, char *err,
                      size_t errlen)
{
    struct slurm_conf *conf = confp;
    static const struct {
        const char *name;
        size_t offset;
    } commands[] = {
        {"SlurmSpawner.batch_submit_cmd", OPT(batch_submit_cmd)},
        {"SlurmSpawner.batch_query_cmd", OPT(batch_query_cmd)},
        {"SlurmSpawner.batch_cancel_cmd", OPT(batch_cancel_cmd)},
        {"SlurmSpawner.batch_script", OPT(batch_script)},
    };
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const char *v = *(char **)((char *)conf + commands[i].offset);
        if (!v[0]) {
            snprintf(err, errlen, "%s must be set", commands[i].name);
            return -EINVAL;
        }
    }
    struct gm_template_error te;
    if ((strstr(conf->batch_script, "{{") || strstr(conf->batch_script, "{%")) &&
        gm_render_check(conf->batch_script, &te) < 0) {
        snprintf(err, errlen, "SlurmSpawner.batch_script does not parse (line %u, column %u): %s",
                 te.line, te.column, te.message);
        return -EINVAL;
    }
    struct slurm_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    st->host = host;
    st->conf = conf;
    int r = compile("SlurmSpawner.state_pending_re", conf->state_pending_re, true, &st->pending_re,
                    err, errlen);
    if (r == 0)
        r = compile("SlurmSpawner.state_running_re", conf->state_running_re, true, &st->running_re,
                    err, errlen);
    if (r == 0)
        r = compile("SlurmSpawner.state_exechost_re", conf->state_exechost_re, true,
                    &st->exechost_re, err, errlen);
    if (r == 0)
        r = compile("SlurmSpawner.state_unknown_re", conf->state_unknown_re, false, &st->unknown_re,
                    err, errlen);
    if (r == 0 && !conf->state_exechost_exp[0] && gm_regex_groups(st->exechost_re) < 1) {
        snprintf(err, errlen,
                 "SlurmSpawner.state_exechost_re needs a group (the host) unless "
                 "state_exechost_exp is set");
        r = -EINVAL;
    }
    if (r == 0 && conf->slurmrestd_url[0])
        r = rest_init(st, conf, err, errlen);
    if (r < 0) {
        slurm_destroy(st);
        return r;
    }
    *state = st;
    return 0;
}

static int slurm_server_new(void *state, const char *user, const char *server_name, void **ret)
{
    struct slurm_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->st = state;
    srv->user = strdup(user);
    srv->server_name = strdup(server_name);
    if (!srv->user || !srv->server_name) {
        free(srv->user);
        free(srv->server_name);
        free(srv);
        return -ENOMEM;
    }
    *ret = srv;
    return 0;
}

static void slurm_server_free(void *server)
{
    struct slurm_server *srv = server;
    slurm_cancel_all(srv);
    free(srv->job_status);
    free(srv->user);
    free(srv->server_name);
    free(srv);
}

static json_t *slurm_get_state(void *server)
{
    struct slurm_server *srv = server;
    if (!srv->job_id[0])
        return NULL;
    return json_pack("{s:s,s:s}", "job_id", srv->job_id, "job_status",
                     srv->job_status ? srv->job_status : "");
}

static int slurm_load_state(void *server, const json_t *state)
{
    struct slurm_server *srv = server;
    const char *id = json_string_value(json_object_get(state, "job_id"));
    const char *status = json_string_value(json_object_get(state, "job_status"));
    if (!id || !id[0] || strlen(id) >= SLURM_JOB_ID_MAX)
        return 0;
    snprintf(srv->job_id, sizeof(srv->job_id), "%s", id);
    free(srv->job_status);
    srv->job_status = status ? strndup(status, SLURM_STATUS_MAX) : NULL;
    return 0;
}

/* batchspawner's API: the job's wrapper sends {"port": N}. batchspawner sets any attribute
 * the body names; only the port is taken here, once. */
static int slurm_report(void *server, const json_t *body, char *err, size_t errlen)
{
    struct slurm_server *srv = server;
    const json_t *port = json_object_get(body, "port");
    if (!json_is_integer(port) || json_integer_value(port) < 1 ||
        json_integer_value(port) > 65535) {
        snprintf(err, errlen, "port must be an integer from 1 to 65535");
        return -EINVAL;
    }
    if (!srv->starting) {
        snprintf(err, errlen, "this server is not starting");
        return -EALREADY;
    }
    if (srv->port) {
        snprintf(err, errlen, "the port of this server was reported already (%d)", srv->port);
        return -EALREADY;
    }
    srv->port = (int)json_integer_value(port);
    gm_log_info("SLURM job %s of %s reported port %d", srv->job_id[0] ? srv->job_id : "(new)",
                srv->user, srv->port);
    slurm_port_reported(srv);
    return 0;
}

static void slurm_metrics(void *state, struct gm_buf *out)
{
    struct slurm_state *st = state;
    static const char *const kinds[] = {"submit", "query", "cancel", "other"};
    gm_buf_puts(out, "# HELP ganymede_slurm_commands_total Batch commands the SLURM spawner ran.\n"
                     "# TYPE ganymede_slurm_commands_total counter\n");
    for (size_t i = 0; i < 4; i++)
        gm_buf_printf(out, "ganymede_slurm_commands_total{kind=\"%s\"} %llu\n", kinds[i],
                      (unsigned long long)st->commands[i]);
    gm_buf_printf(out,
                  "# HELP ganymede_slurm_command_failures_total Batch commands that failed to "
                  "run, timed out or exited non-zero.\n"
                  "# TYPE ganymede_slurm_command_failures_total counter\n"
                  "ganymede_slurm_command_failures_total %llu\n"
                  "# HELP ganymede_slurm_command_seconds_total Time spent waiting for batch "
                  "commands.\n"
                  "# TYPE ganymede_slurm_command_seconds_total counter\n"
                  "ganymede_slurm_command_seconds_total %.6f\n",
                  (unsigned long long)st->command_failures, (double)st->command_us / 1e6);
}

/* The first is the class's full path, as /hub/api/info reports it. */
static const char *const slurm_aliases[] = {
    "batchspawner.SlurmSpawner",
    "batchspawner.batchspawner.SlurmSpawner",
    "SlurmSpawner",
    NULL,
};

static const char *const slurm_cmd[] = {"jupyterhub-singleuser", NULL};

const struct gm_spawner spawn_slurm = {
    .abi = GM_ABI_VERSION,
    .name = "slurm",
    .aliases = slurm_aliases,
    .options = &slurm_class,
    .ancestors = slurm_ancestors,
    .conf_size = sizeof(struct slurm_conf),
    .default_ip = "0.0.0.0", /* batchspawner: the job runs on another node */
    .default_port = 0,
    .default_cmd = slurm_cmd,
    .default_env_keep = NULL,     /* Spawner's */
    .default_start_timeout = 300, /* batchspawner's: jobs wait in queues */
    .init = slurm_init,
    .destroy = slurm_destroy,
    .server_new = slurm_server_new,
    .server_free = slurm_server_free,
    .start = slurm_start,
    .stop = slurm_stop,
    .poll = slurm_poll,
    .get_state = slurm_get_state,
    .load_state = slurm_load_state,
    .options_form = slurm_options_form,
    .options_from_form = slurm_options_from_form,
    .metrics = slurm_metrics,
    .report = slurm_report,
};
