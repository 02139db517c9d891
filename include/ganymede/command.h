/* Running a command to its end on the hub's loop, for plugins that drive a system through its
 * command-line tools (sbatch, squeue, scancel): argv or a shell command line, an environment,
 * stdin from a buffer, stdout and stderr captured under a cap, the exit status, a timeout that
 * terminates and then kills. The loop never waits: the completion runs exactly once, on the
 * loop thread, unless the run is cancelled first.
 *
 *     static void on_submitted(void *data, const struct gm_command_result *res)
 *     {
 *         if (res->error || res->exit_status != 0)
 *             gm_log_warn("sbatch failed: %s: %s", res->message, res->err);
 *         else
 *             job_set_id(data, res->out);
 *     }
 *     struct gm_command_request req = {
 *         .command = "sudo -E -u alice sbatch --parsable", .env = env,
 *         .stdin_data = script, .stdin_len = strlen(script), .timeout_ms = 30000};
 *     int r = gm_command_run(host->loop, &req, on_submitted, job, &job->command);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct gm_command;

struct gm_command_request {
    const char *const *argv; /* program and arguments, NULL-terminated; argv[0] is looked up in
                                the PATH of @env (or the hub's) */
    const char *command;     /* or a command line for /bin/sh -c: exactly one of the two */
    const char *const *env;  /* the whole environment, "NAME=value", NULL-terminated; NULL: the
                                hub's own */
    const char *cwd;         /* NULL: the hub's working directory */
    const char *stdin_data;  /* written to stdin, which is then closed; NULL: an empty stdin;
                                at most 64 MiB (-E2BIG) */
    size_t stdin_len;
    size_t
        max_output;  /* cap on each of stdout and stderr; more is dropped (and flagged); 0: 1 MiB */
    long timeout_ms; /* SIGTERM after this long, SIGKILL kill_grace_ms later; 0: 60 s; -1: none */
    long kill_grace_ms; /* 0: 5 s */
};

struct gm_command_result {
    int error;       /* 0 when the command ran and exited (whatever its status); -ETIMEDOUT
                        when it was ended for taking too long */
    int exit_status; /* its exit code, or 128 + the signal that ended it */
    const char *out; /* stdout, NUL-terminated, "" when empty; valid during the callback only */
    size_t out_len;
    bool out_truncated; /* more than max_output was written: the rest was dropped */
    const char *err;    /* stderr, likewise */
    size_t err_len;
    bool err_truncated;
    const char *message; /* for logs and users: "exited with status 2", "killed by signal 9",
                            "ended after 30 s (timeout)" */
};

typedef void (*gm_command_cb)(void *data, const struct gm_command_result *res);

/** Start @req (everything in it is copied). Returns 0 and (if @ret is not NULL) a handle for
 * gm_command_cancel, or a negative errno and @cb never runs: -EINVAL for a request with neither
 * or both of argv and command, -ENOENT when the program is not found, -EACCES when it may not
 * be executed. */
int gm_command_run(uv_loop_t *loop, const struct gm_command_request *req, gm_command_cb cb,
                   void *data, struct gm_command **ret);

/** Kill a command whose callback has not run (SIGKILL) and forget it: the callback will not
 * run; the process is still reaped. Accepts NULL. */
void gm_command_cancel(struct gm_command *c);
