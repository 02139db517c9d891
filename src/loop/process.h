/* Child processes of the hub (local user servers, managed services, the proxy): started with a
 * given environment, directory and identity (uid, gid and the user's supplementary groups, as
 * JupyterHub's LocalProcessSpawner sets them), in a session of their own so that a Ctrl-C at
 * the hub's terminal does not reach them, and watched through a pidfd on the loop. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

struct loop_process;

struct loop_process_options {
    const char *const *argv; /* argv[0] is looked up in the PATH of @env (or the hub's) */
    const char *const *env;  /* "NAME=value", NULL-terminated; NULL: the hub's environment */
    const char *cwd;         /* NULL: the hub's */
    const char *user;        /* run as this account (uid, gid, groups), or NULL: as the hub */
    uid_t uid;               /* with @user */
    gid_t gid;
    int stdout_fd; /* where output goes (-1: the hub's stdout/stderr) */
};

/** Called once when the process ended: @exit_status is its exit code, or 128 + the signal. */
typedef void (*loop_process_exit_cb)(void *data, int exit_status);

/** Start a process, waiting (briefly, blocking) until it exec'd. Returns 0, or a negative errno
 * with a message in @err (-ENOENT when the command is not found, the errno of exec or of
 * changing identity in the child). For the proxy and services; many at once (user servers)
 * use loop_process_spawn. */
int loop_process_start(uv_loop_t *loop, const struct loop_process_options *o,
                       loop_process_exit_cb cb, void *data, struct loop_process **ret, char *err,
                       size_t errlen);

/** The outcome of loop_process_spawn's exec: @status 0 once the program runs, or a negative
 * errno with @message (cannot switch to the user, enter the directory, execute). After a
 * failure the child is gone and its exit is not reported: release the process. */
typedef void (*loop_process_exec_cb)(void *data, int status, const char *message);

/** Start a process without waiting on the loop for its exec: @exec_cb reports the exec once
 * (before @exit_cb, if the program ends). Returns 0, or a negative errno with a message in
 * @err (-ENOENT when the command is not found). */
int loop_process_spawn(uv_loop_t *loop, const struct loop_process_options *o,
                       loop_process_exec_cb exec_cb, loop_process_exit_cb exit_cb, void *data,
                       struct loop_process **ret, char *err, size_t errlen);

pid_t loop_process_pid(const struct loop_process *p);

/** Send @sig to the process (not once it exited). Returns 0 or a negative errno. */
int loop_process_kill(struct loop_process *p, int sig);

/** Stop watching (a process that runs keeps running; the callback will not run) and free.
 * Also needed after the exit callback ran. */
void loop_process_release(struct loop_process *p);

/** Whether a process that is not our child (adopted after a restart) is alive. */
bool loop_process_alive(pid_t pid);

/** Whether a child can be started as another user: the hub is root, or it holds CAP_SETUID
 * and CAP_SETGID (a `ganymede` system user with the capabilities its systemd unit grants). */
bool loop_process_can_switch_user(void);

/** Look @name up in @path (a PATH value); the full path in @out. Returns 0 or -ENOENT. */
int loop_process_which(const char *name, const char *path, char *out, size_t outlen);
