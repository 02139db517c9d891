/* The SLURM spawner's parts and how they talk to each other. Nothing outside spawners/slurm/
 * includes this file except its unit tests.
 *
 *   slurm.c         options (batchspawner's names and defaults), init, the struct gm_spawner,
 *                   state, the port report
 *   slurm_script.c  the template variables, the batch script, the command lines, what the
 *                   commands print (job id, state, host)
 *   slurm_queue.c   where a pending job stands (squeue), SLURM's reasons in words, and what a
 *                   job that ended left (scontrol show job)
 *   slurm_job.c     start, stop and poll: the commands run on the loop (gm_command) in turn
 *   slurm_rest.c    the same steps through slurmrestd (gm_fetch), answered as the commands
 *                   would have answered
 *   slurm_sbatch.c  a batch script's #SBATCH directives as slurmrestd's job properties
 *   slurm_form.c    the batch options form (partition, runtime, memory, CPUs, GPUs) and its
 *                   limits */
#pragma once

#include <ganymede/account.h>
#include <ganymede/buf.h>
#include <ganymede/command.h>
#include <ganymede/fetch.h>
#include <ganymede/host.h>
#include <ganymede/regex.h>
#include <ganymede/spawner.h>
#include <ganymede/timer.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLURM_MESSAGE_MAX  900 /* a message for the user (the hub keeps 1 KiB) */
#define SLURM_JOB_ID_MAX   64
#define SLURM_HOST_MAX     255
#define SLURM_COMMAND_MAX  (64 * 1024) /* a formatted command line */
#define SLURM_SCRIPT_MAX   (1 << 20)   /* a rendered batch script */
#define SLURM_STATUS_MAX   4096        /* job_status kept (what the query printed) */
#define SLURM_OUTPUT_LINES 12          /* lines of a failed job's output in its message */
#define SLURM_STOP_CHECKS  10          /* queries after scancel before giving up (batchspawner) */

/* SlurmSpawner.*, BatchSpawnerRegexStates.* and BatchSpawnerBase.* settings. */
struct slurm_conf {
    /* BatchSpawnerBase */
    char *exec_prefix;
    char *req_queue, *req_host, *req_memory, *req_nprocs, *req_ngpus, *req_runtime;
    char *req_partition, *req_account, *req_options, *req_prologue, *req_epilogue;
    char *req_keepvars_extra;
    char *batch_script;
    char *batchspawner_singleuser_cmd;
    char *batch_submit_cmd, *batch_query_cmd, *batch_cancel_cmd;
    double startup_poll_interval;
    /* BatchSpawnerRegexStates */
    char *state_pending_re, *state_running_re, *state_exechost_re, *state_exechost_exp;
    char *state_unknown_re;
    /* SlurmSpawner */
    char *req_cluster, *req_qos, *req_srun, *req_reservation, *req_gres;
    /* Ganymede */
    char *queue_query_cmd;        /* where pending jobs stand; "" for no queue messages */
    char *job_info_cmd;           /* what an ended job left; "" for none */
    char *output_tail_cmd;        /* the last lines of its output file; "" for none */
    double pending_poll_interval; /* the longest wait between queries while the job pends */
    double command_timeout;       /* seconds a command may take */
    json_t *batch_options;        /* the form's fields and limits, or NULL for no form */
    char *slurmrestd_url;         /* "" for the commands, else slurmrestd's base URL */
    char *slurmrestd_token;       /* its JWT (or $SLURM_JWT); a secret */
    char *slurmrestd_api_version; /* "v0.0.38" */
    char *slurmrestd_ca_file;     /* CA bundle for an https:// slurmrestd, or "" */
    bool slurmrestd_queue;        /* list the jobs (GET /jobs) for the queue position */
};

/* The compiled regular expressions and everything a server needs of its spawner. */
struct slurm_state {
    const struct gm_host *host;
    const struct slurm_conf *conf;
    struct gm_regex *pending_re, *running_re, *exechost_re,
        *unknown_re;  /* unknown_re may be NULL */
    char *rest_url;   /* slurmrestd_url without a trailing '/', or NULL for the commands */
    char *rest_token; /* slurmrestd_token, else $SLURM_JWT */
    /* For /hub/metrics. */
    uint64_t commands[4]; /* by enum slurm_command_kind */
    uint64_t command_failures;
    uint64_t command_us; /* time spent waiting for commands, in all */
};

enum slurm_command_kind { SLURM_CMD_SUBMIT, SLURM_CMD_QUERY, SLURM_CMD_CANCEL, SLURM_CMD_OTHER };

/* What a query says of the job. */
enum slurm_job_status {
    SLURM_JOB_NOTFOUND, /* ended, cancelled or unknown to SLURM: gone */
    SLURM_JOB_RUNNING,
    SLURM_JOB_PENDING,
    SLURM_JOB_UNKNOWN, /* the controller did not answer: try again */
};

struct slurm_server {
    struct slurm_state *st;
    char *user;
    char *server_name;
    char job_id[SLURM_JOB_ID_MAX];
    char *job_status; /* the last query's output (or stderr), as batchspawner keeps it */
    char host[SLURM_HOST_MAX + 1]; /* where the job runs, once it runs */
    int port;                      /* what the job reported, 0 until then */

    /* A start in flight. */
    bool starting;
    struct gm_account_lookup *lookup;
    char **argv;     /* the server's command line (the spec's, copied) */
    char **spec_env; /* the server's environment (the spec's, copied) */
    json_t *user_options;
    json_t *vars; /* the template variables, job_id included once known */
    char **env;   /* the submit command's environment: the server's, USER, HOME, SHELL */
    const struct gm_spawn_progress *progress;
    gm_spawner_started_cb start_cb;
    void *start_data;
    uint64_t poll_ms; /* the next wait between queries */
    int64_t submitted_ms;
    char last_message[SLURM_MESSAGE_MAX]; /* the last progress message (not repeated) */
    int last_pct;                         /* and its percentage (never lowered) */
    bool query_printed; /* the last query exited 0: job_status is its output, not its stderr */
    char fail_message[SLURM_MESSAGE_MAX]; /* while a failed start gathers its details */

    /* A stop in flight. */
    bool stopping;
    bool stop_now;
    int stop_checks;
    gm_spawner_stopped_cb stop_cb;
    void *stop_data;

    /* A poll in flight. */
    bool polling;
    gm_spawner_polled_cb poll_cb;
    void *poll_data;

    struct gm_command *command; /* the one command running for this server */
    struct gm_fetch *fetch;     /* or the one request to slurmrestd */
    void *step;                 /* the data its completion is given: freed with it, or by a
                                   cancel */
    struct gm_timer *timer;     /* the next query */
    int64_t command_started_ms;
};

/* A step's completion: a command's result, or a request's in the same words. */
typedef void (*slurm_step_cb)(struct slurm_server *srv, const struct gm_command_result *res);

/* slurm_script.c */

/** The template variables of @srv's start, as batchspawner's get_req_subvars: every req_*
 * setting without its prefix, username, homedir, keepvars (the names in @env, then
 * req_keepvars_extra) and cmd (batchspawner_singleuser_cmd and @argv, shell-quoted). A new
 * object, or NULL without memory. The batch options a user chose go in with
 * slurm_form_values. */
json_t *slurm_vars(const struct slurm_conf *conf, const char *user, const char *home,
                   const char *const *env, const char *const *argv);

/** A setting formatted with @vars (batchspawner's format_template: Jinja when it holds "{{" or
 * "{%", else str.format). Returns 0 and *@ret (caller frees), or a negative errno with a
 * message naming @setting in @err. */
int slurm_format(const char *setting, const char *tmpl, const json_t *vars, size_t max, char **ret,
                 char *err, size_t errlen);

/** exec_prefix and @tmpl (a *_cmd setting) formatted and joined by a space, as batchspawner
 * builds its commands. */
int slurm_command_line(const struct slurm_conf *conf, const char *setting, const char *tmpl,
                       const json_t *vars, char **ret, char *err, size_t errlen);

/** SlurmSpawner.parse_job_id: the last line of sbatch's output up to a ';', which must be a
 * number. Returns 0 and the id in @id, or -EINVAL. */
int slurm_parse_job_id(const char *out, char id[SLURM_JOB_ID_MAX]);

/** What @job_status says, by the state_*_re of @st (running first, then pending, then
 * unknown, as batchspawner checks them). */
enum slurm_job_status slurm_classify(const struct slurm_state *st, const char *job_status);

/** The execution host in @job_status (state_exechost_re's first group, or state_exechost_exp
 * expanded). Returns 0, or -ENOENT when it does not match. */
int slurm_exechost(const struct slurm_state *st, const char *job_status,
                   char host[SLURM_HOST_MAX + 1]);

/* slurm_queue.c */

/** Where job @job_id stands, from the queue query's output (lines "id|partition|reason|start",
 * in the order SLURM will start them): a message for the user in @out. Returns 0, or -ENOENT
 * when the job is not among them. */
int slurm_queue_message(const char *job_id, const char *queue_out, char *out, size_t outlen);

/** SLURM's pending reason @code ("Resources", "QOSMaxJobsPerUserLimit") in plain words, or NULL
 * for a code it does not know. */
const char *slurm_reason_words(const char *code);

/** What `scontrol show job -o` says of an ended job: its state, exit code, reason and output
 * file (each "" when absent). */
struct slurm_job_info {
    char state[64];
    char exit_code[32];
    char reason[128];
    char std_out[1024];
};
int slurm_parse_job_info(const char *out, struct slurm_job_info *info);

/* slurm_job.c */

int slurm_start(void *server, const struct gm_server_spec *spec,
                const struct gm_spawn_progress *progress, gm_spawner_started_cb cb, void *data);
int slurm_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data);
int slurm_poll(void *server, gm_spawner_polled_cb cb, void *data);
/** The bookkeeping of every command or request (metrics): started, then ended with @res. */
void slurm_step_started(struct slurm_server *srv, enum slurm_command_kind kind);
void slurm_step_ended(struct slurm_server *srv, const struct gm_command_result *res);
/** The port report arrived: finish the start if the job already runs. */
void slurm_port_reported(struct slurm_server *srv);
/** Cancel what is in flight for @srv (no callback runs). */
void slurm_cancel_all(struct slurm_server *srv);

/* slurm_form.c */

/** Check SlurmSpawner.batch_options. Returns 0 or -EINVAL with a message. */
int slurm_form_check(const json_t *options, char *err, size_t errlen);
char *slurm_options_form(void *state, const char *user, const char *const *groups);
int slurm_options_from_form(void *state, const json_t *form, json_t **user_options, char *err,
                            size_t errlen);
/** The batch options among @user_options, checked against @options (choices, ranges), into
 * @vars as strings; keys that are not batch options are left out. Returns 0, or -EINVAL with
 * a message for the user (a value the form does not allow), or -ENOMEM. */
int slurm_form_values(const json_t *options, const json_t *user_options, json_t *vars, char *err,
                      size_t errlen);

/* slurm_rest.c: each starts a request whose completion runs @next with the result the command
 * would have given (see the file's head). Returns 0, or a negative errno and @next never runs
 * (-EINVAL for a job id that is not a number). */
int slurm_rest_submit(struct slurm_server *srv, const char *script, const char *const *env,
                      slurm_step_cb next, char *err, size_t errlen);
int slurm_rest_query(struct slurm_server *srv, slurm_step_cb next);
int slurm_rest_cancel(struct slurm_server *srv, slurm_step_cb next);
int slurm_rest_queue(struct slurm_server *srv, slurm_step_cb next);
int slurm_rest_job_info(struct slurm_server *srv, slurm_step_cb next);

/* slurm_sbatch.c */

/** slurmrestd's submission for @script: {"script": @script, "job": the properties of its
 * #SBATCH directives, with "environment" as --export takes it from @env ("NAME=value"
 * strings)}. Returns 0 and *@ret, or -EINVAL with a message naming the directive in @err (one
 * it cannot express, a bad value), or -ENOMEM. */
int slurm_rest_job(const char *script, const char *const *env, json_t **ret, char *err,
                   size_t errlen);
/** A SLURM time ("30", "1:30:00", "2-12") in minutes, seconds rounded up; -EINVAL, -ERANGE. */
int slurm_parse_minutes(const char *s, long *ret);
/** A SLURM size ("4G", "4000", "512M") in megabytes, rounded up; -EINVAL, -ERANGE. */
int slurm_parse_megabytes(const char *s, long *ret);
