/* LocalProcessSpawner and SimpleLocalProcessSpawner (JupyterHub's spawner.py): each server is a
 * process on this machine.
 *
 * LocalProcessSpawner, when the hub runs as root (or holds CAP_SETUID and CAP_SETGID), runs it as
 * the system user of the same name (uid, gid, supplementary groups, HOME, SHELL, working directory
 * = home); otherwise as the hub's own user. SimpleLocalProcessSpawner always runs it as the hub's
 * user, with a home made from home_dir_template. Account lookups and directory creation run on the
 * threadpool (NSS may be LDAP). Stop sends SIGINT, then SIGTERM, then SIGKILL, waiting
 * interrupt_timeout, term_timeout and kill_timeout in between. The state is {"pid": N}, as
 * JupyterHub's, so a restarted hub finds the process again (and polls it with kill(pid, 0)).
 *
 * Each server's stdout and stderr go to a file of its own, server-logs/<user>[--<server>].log
 * beside the database (spawn/output.c), emptied at each start: the hub passes its new lines on
 * to its own log output as they come, a hub that takes the server over after a restart goes on
 * from the end of the file, and a server that exits before it answered has the last lines of
 * the file in its failure message (output_tail). Where that directory cannot be used, servers
 * write to the hub's own stdout and stderr as before. */
#include "loop/process.h"
#include "spawn/output.h"
#include <ganymede/buf.h>
#include "util/str.h"
#include <ganymede/strv.h>

#include <errno.h>
#include <ganymede/log.h>
#include <ganymede/spawner.h>
#include <ganymede/template.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct local_conf {
    double interrupt_timeout;
    double term_timeout;
    double kill_timeout;
    char **shell_cmd;
    char *home_dir_template; /* SimpleLocalProcessSpawner */
};

struct local_state {
    const struct gm_host *host;
    const struct local_conf *conf;
    bool simple;
    char *output_dir; /* server-logs in the hub's state directory, or NULL: the hub's output */
};

enum stop_stage {
    STOP_NONE,
    STOP_INT,
    STOP_TERM,
    STOP_KILL,
    STOP_GAVE_UP,
};

struct local_server {
    struct local_state *st;
    char *user;
    char *output_path;           /* its output file, or NULL */
    struct spawn_output *output; /* that file, followed */
    struct loop_process *proc;   /* our child, or NULL */
    pid_t pid;                   /* our child's or an adopted process's, 0 when none */
    bool exited;
    int exit_status;

    /* start in flight: the account lookup on the threadpool */
    bool starting;
    bool start_cancelled;
    bool exec_pending; /* the process is forked, its exec not yet reported */
    uv_work_t work;
    char **argv, **env;
    char *ip;
    int port;
    char *lookup_error;
    int output_errno;        /* the output file could not be opened */
    int out_write, out_read; /* its descriptors, opened on the threadpool */
    char *home, *shell;
    uid_t uid;
    gid_t gid;
    bool switch_user;
    const struct gm_spawn_progress *progress;
    gm_spawner_started_cb start_cb;
    void *start_data;

    /* stop in flight */
    bool stopping;
    bool stop_now; /* asked for with now = true */
    enum stop_stage stage;
    uint64_t deadline; /* loop time (ms) when the current stage gives up */
    uv_timer_t timer;
    gm_spawner_stopped_cb stop_cb;
    void *stop_data;

    /* poll, answered on the next loop iteration */
    gm_spawner_polled_cb poll_cb;
    void *poll_data;

    bool freed; /* server_free ran while the threadpool or a handle still held it */
    int holds;  /* the timer handle and a queued work */
};

#define OPT(field) offsetof(struct local_conf, field)

static const struct gm_option local_options[] = {
    GM_OPTION_X("interrupt_timeout", GM_OPTION_FLOAT, OPT(interrupt_timeout), "10",
                "Seconds to wait after SIGINT before sending SIGTERM.", .check = gm_check_seconds),
    GM_OPTION_X("term_timeout", GM_OPTION_FLOAT, OPT(term_timeout), "5",
                "Seconds to wait after SIGTERM before sending SIGKILL.", .check = gm_check_seconds),
    GM_OPTION_X("kill_timeout", GM_OPTION_FLOAT, OPT(kill_timeout), "5",
                "Seconds to wait after SIGKILL before giving up.", .check = gm_check_seconds),
    GM_OPTION("shell_cmd", GM_OPTION_STRINGS, OPT(shell_cmd), NULL,
              "Run the command through this shell prefix, e.g. [\"bash\", \"-l\", \"-c\"]."),
    GM_OPTION_END,
};

static const struct gm_option simple_options[] = {
    GM_OPTION("home_dir_template", GM_OPTION_STRING, OPT(home_dir_template), "\"/tmp/{username}\"",
              "Each user's home directory ({username} expanded), created if missing."),
    GM_OPTION_END,
};

const struct gm_option_class spawn_local_class = {
    .name = "LocalProcessSpawner",
    .parent = "Spawner",
    .help = "Each server is a process on this machine, run as the user's system account when "
            "the hub runs as root; its output goes to server-logs/ beside the database and on to "
            "the hub's log (docs/local-spawner.md).",
    .options = local_options,
};

const struct gm_option_class spawn_simple_class = {
    .name = "SimpleLocalProcessSpawner",
    .parent = "LocalProcessSpawner",
    .help = "Each server is a process of the hub's own user, with a home directory per user "
            "(for trying things out and tests).",
    .options = simple_options,
};

static int local_init_common(const struct gm_host *host, void *conf, void **state, bool simple)
{
    struct local_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->host = host;
    st->conf = conf;
    st->simple = simple;
    char why[512];
    if (spawn_output_dir(host->state_dir, &st->output_dir, why, sizeof(why)) < 0)
        gm_log_warn("Servers' output goes to the hub's own output, not to files: %s", why);
    *state = st;
    return 0;
}

static int local_init(const struct gm_host *host, void *conf, void **state, char *err,
                      size_t errlen)
{
    (void)err;
    (void)errlen;
    return local_init_common(host, conf, state, false);
}

/* home_dir_template.format(username=...), as SimpleLocalProcessSpawner does. NULL with a
 * message in @msg when it does not format. */
static char *expand_user(const char *tmpl, const char *user, char *msg, size_t msglen)
{
    json_t *ns = json_pack("{ss}", "username", user);
    char *s = NULL;
    struct gm_template_error e;
    int r = ns ? gm_format(tmpl, ns, NULL, &s, &e) : -ENOMEM;
    json_decref(ns);
    if (r < 0)
        snprintf(msg, msglen,
                 "SimpleLocalProcessSpawner.home_dir_template (%s) does not format: %s", tmpl,
                 r == -ENOMEM ? "out of memory" : e.message);
    return s;
}

static int simple_init(const struct gm_host *host, void *conf, void **state, char *err,
                       size_t errlen)
{
    const struct local_conf *c = conf;
    if (!strstr(c->home_dir_template, "{username}")) {
        snprintf(err, errlen,
                 "SimpleLocalProcessSpawner.home_dir_template (%s) must contain {username}",
                 c->home_dir_template);
        return -EINVAL;
    }
    /* A template that cannot format is refused now rather than at each user's start. */
    char *probe = expand_user(c->home_dir_template, "user", err, errlen);
    if (!probe)
        return -EINVAL;
    free(probe);
    return local_init_common(host, conf, state, true);
}

static void local_destroy(void *state)
{
    struct local_state *st = state;
    if (st)
        free(st->output_dir);
    free(st);
}

static int local_server_new(void *state, const char *user, const char *server_name, void **server)
{
    struct local_state *st = state;
    struct local_server *s = calloc(1, sizeof(*s));
    if (!s || !(s->user = strdup(user)) ||
        (st->output_dir &&
         !(s->output_path = spawn_output_path(st->output_dir, user, server_name)))) {
        if (s)
            free(s->user);
        free(s);
        return -ENOMEM;
    }
    s->out_write = s->out_read = -1;
    s->st = state;
    uv_timer_init(s->st->host->loop, &s->timer);
    s->timer.data = s;
    s->holds = 1;
    *server = s;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void clear_start(struct local_server *s)
{
    close_fd(&s->out_write);
    close_fd(&s->out_read);
    gm_strv_free_array(s->argv);
    gm_strv_free_array(s->env);
    free(s->ip);
    free(s->lookup_error);
    free(s->home);
    free(s->shell);
    s->argv = s->env = NULL;
    s->ip = s->lookup_error = s->home = s->shell = NULL;
}

static void release_hold(struct local_server *s)
{
    if (--s->holds > 0)
        return;
    clear_start(s);
    free(s->output_path);
    free(s->user);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    release_hold(h->data);
}

static void local_server_free(void *server)
{
    struct local_server *s = server;
    s->freed = true;
    loop_process_release(s->proc);
    s->proc = NULL;
    spawn_output_free(s->output);
    s->output = NULL;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

/* mkdir -p with mode 0700 for the last component. */
static int make_dirs(const char *path)
{
    char tmp[4096];
    if (str_copy(tmp, sizeof(tmp), path) < 0)
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Threadpool: find the account (or make the simple home). No loop state is touched. */
static void lookup_work(uv_work_t *w)
{
    struct local_server *s = w->data;
    char msg[512] = "";
    if (s->st->simple) {
        s->home = expand_user(s->st->conf->home_dir_template, s->user, msg, sizeof(msg));
        int r = s->home ? make_dirs(s->home) : -EINVAL;
        if (r < 0 && s->home)
            snprintf(msg, sizeof(msg), "cannot create the home directory %s: %s",
                     s->home ? s->home : "", strerror(-r));
        s->shell = strdup("/bin/sh");
        s->switch_user = false;
    } else {
        bool can_switch = loop_process_can_switch_user(); /* root, or CAP_SETUID and CAP_SETGID */
        struct passwd pw, *res = NULL;
        char scratch[16384];
        int r = can_switch ? getpwnam_r(s->user, &pw, scratch, sizeof(scratch), &res)
                           : getpwuid_r(geteuid(), &pw, scratch, sizeof(scratch), &res);
        if (!res) {
            if (can_switch)
                snprintf(msg, sizeof(msg),
                         "No such user: '%s'. LocalProcessSpawner runs each server as the "
                         "system user of the same name: create the account (or use "
                         "SimpleLocalProcessSpawner)",
                         s->user);
            else
                snprintf(msg, sizeof(msg), "cannot look up the hub's own account: %s",
                         strerror(r ? r : ENOENT));
        } else {
            s->home = strdup(pw.pw_dir);
            s->shell = strdup(pw.pw_shell && pw.pw_shell[0] ? pw.pw_shell : "/bin/sh");
            s->uid = pw.pw_uid;
            s->gid = pw.pw_gid;
            s->switch_user = can_switch;
        }
    }
    if (msg[0])
        s->lookup_error = strdup(msg);
    else if (s->output_path)
        s->output_errno = -spawn_output_open(s->output_path, true, &s->out_write, &s->out_read);
}

static void start_done(struct local_server *s, int status, const char *url, const char *msg)
{
    s->starting = false;
    gm_spawner_started_cb cb = s->start_cb;
    s->start_cb = NULL;
    clear_start(s);
    cb(s->start_data, status, url, msg);
}

static void finish_stop(struct local_server *s, int status, const char *msg);

static void on_process_exit(void *data, int exit_status)
{
    struct local_server *s = data;
    s->exited = true;
    s->exit_status = exit_status;
    /* The watcher is done (the child is reaped); a next start makes a new one. */
    loop_process_release(s->proc);
    s->proc = NULL;
    spawn_output_drain(s->output); /* its last words come before the news of its exit */
    gm_log_info("Server of '%s' (pid %d) exited with status %d", s->user, (int)s->pid, exit_status);
    if (s->stopping)
        finish_stop(s, 0, NULL);
}

static void send_signal(struct local_server *s);
static void arm_stage(struct local_server *s);

/* The child exec'd (or could not): the start completes, unless a stop came meanwhile. */
static void on_exec(void *data, int status, const char *message)
{
    struct local_server *s = data;
    s->exec_pending = false;
    if (status < 0) {
        loop_process_release(s->proc);
        s->proc = NULL;
        s->pid = 0;
        start_done(s, status, NULL, message);
        if (s->stopping)
            finish_stop(s, 0, NULL);
        return;
    }
    gm_log_info("Started the server of '%s' as pid %d%s", s->user, (int)s->pid,
                s->switch_user ? " as that user" : "");
    if (s->start_cancelled) {
        start_done(s, -ECANCELED, NULL, "Spawn cancelled");
        s->stage = s->stop_now ? STOP_KILL : STOP_INT;
        send_signal(s);
        arm_stage(s);
        return;
    }
    char url[300];
    snprintf(url, sizeof(url), "http://%s%s%s:%d", strchr(s->ip, ':') ? "[" : "", s->ip,
             strchr(s->ip, ':') ? "]" : "", s->port);
    start_done(s, 0, url, NULL);
}

/* Quote an argument for shell_cmd, as Python's shlex.quote. */
static void shell_quote(struct gm_buf *b, const char *arg)
{
    if (arg[0] && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "@%+=:,./-_") == strlen(arg)) {
        gm_buf_puts(b, arg);
        return;
    }
    gm_buf_putc(b, '\'');
    for (const char *p = arg; *p; p++) {
        if (*p == '\'')
            gm_buf_puts(b, "'\"'\"'");
        else
            gm_buf_putc(b, *p);
    }
    gm_buf_putc(b, '\'');
}

static void lookup_finish(struct local_server *s, int status)
{
    if (status == UV_ECANCELED || s->start_cancelled) {
        start_done(s, -ECANCELED, NULL, "Spawn cancelled");
        if (s->stopping && !s->freed)
            finish_stop(s, 0, NULL);
        return;
    }
    if (s->lookup_error) {
        char msg[512];
        str_copy(msg, sizeof(msg), s->lookup_error);
        start_done(s, -ENOENT, NULL, msg);
        return;
    }
    struct gm_strv env = {0}, argv = {0};
    int r = gm_strv_extend(&env, (const char *const *)s->env);
    if (r == 0 && (r = gm_strv_setenv(&env, "USER", s->user)) == 0 &&
        (r = gm_strv_setenv(&env, "HOME", s->home)) == 0)
        r = gm_strv_setenv(&env, "SHELL", s->shell);
    if (r == 0 && s->st->conf->shell_cmd && s->st->conf->shell_cmd[0]) {
        struct gm_buf line;
        gm_buf_init(&line, 1 << 20);
        for (char **a = s->argv; a && *a; a++) {
            if (a != s->argv)
                gm_buf_putc(&line, ' ');
            shell_quote(&line, *a);
        }
        r = gm_strv_extend(&argv, (const char *const *)s->st->conf->shell_cmd);
        if (r == 0)
            r = gm_strv_push(&argv, line.data ? line.data : "");
        gm_buf_free(&line);
    } else if (r == 0) {
        r = gm_strv_extend(&argv, (const char *const *)s->argv);
    }
    char err[512] = "out of memory";
    struct loop_process_options o = {
        .argv = (const char *const *)gm_strv_get(&argv),
        .env = (const char *const *)gm_strv_get(&env),
        .cwd = s->home,
        .user = s->switch_user ? s->user : NULL,
        .uid = s->uid,
        .gid = s->gid,
        .stdout_fd = s->out_write,
    };
    if (s->output_errno)
        gm_log_warn("Cannot open %s (%s): the server of '%s' writes to the hub's own output",
                    s->output_path, strerror(s->output_errno), s->user);
    if (r == 0 && o.argv && o.env)
        r = loop_process_spawn(s->st->host->loop, &o, on_exec, on_process_exit, s, &s->proc, err,
                               sizeof(err));
    else
        r = -ENOMEM;
    gm_strv_free(&env);
    gm_strv_free(&argv);
    close_fd(&s->out_write); /* the child has its copy */
    if (r < 0) {
        start_done(s, r, NULL, err);
        return;
    }
    if (s->out_read >= 0) {
        int fd = s->out_read;
        s->out_read = -1;
        if (spawn_output_follow(s->st->host->loop, fd, s->output_path, false, SPAWN_OUTPUT_CAP,
                                &s->output) < 0)
            s->output = NULL;
    }
    s->pid = loop_process_pid(s->proc);
    s->exited = false;
    s->exit_status = 0;
    s->exec_pending = true;
}

static void lookup_done(uv_work_t *w, int status)
{
    struct local_server *s = w->data;
    if (!s->freed)
        lookup_finish(s, status);
    release_hold(s);
}

static int local_start(void *server, const struct gm_server_spec *spec,
                       const struct gm_spawn_progress *progress, gm_spawner_started_cb cb,
                       void *data)
{
    struct local_server *s = server;
    if (s->starting || s->stopping)
        return -EBUSY;
    if (!spec->argv || !spec->argv[0])
        return -EINVAL;
    clear_start(s);
    /* The previous run's file is done with (this start empties it). */
    spawn_output_free(s->output);
    s->output = NULL;
    s->output_errno = 0;
    s->argv = gm_strv_dup_array(spec->argv);
    s->env = gm_strv_dup_array(spec->env);
    s->ip = strdup(spec->ip && spec->ip[0] ? spec->ip : "127.0.0.1");
    if (!s->argv || !s->env || !s->ip) {
        clear_start(s);
        return -ENOMEM;
    }
    s->port = spec->port;
    s->progress = progress;
    s->start_cb = cb;
    s->start_data = data;
    s->start_cancelled = false;
    s->work.data = s;
    int r = uv_queue_work(s->st->host->loop, &s->work, lookup_work, lookup_done);
    if (r < 0) {
        clear_start(s);
        return r;
    }
    s->holds++;
    s->starting = true;
    progress->emit(progress->ctx, 50, "Spawning server...", NULL);
    return 0;
}

/* Stop: escalate signals on a timer until the process is gone. */
static void on_stop_timer_cb(uv_timer_t *t);

static double stage_timeout(const struct local_server *s)
{
    const struct local_conf *c = s->st->conf;
    return s->stage == STOP_INT    ? c->interrupt_timeout
           : s->stage == STOP_TERM ? c->term_timeout
                                   : c->kill_timeout;
}

static void finish_stop(struct local_server *s, int status, const char *msg)
{
    s->stopping = false;
    /* Stopped: its file is read to the end and no longer needed (a hub with many users would
     * otherwise keep a descriptor for every server that ever ran). */
    spawn_output_free(s->output);
    s->output = NULL;
    uv_timer_stop(&s->timer);
    gm_spawner_stopped_cb cb = s->stop_cb;
    s->stop_cb = NULL;
    cb(s->stop_data, status, msg);
}

static bool gone(struct local_server *s)
{
    if (s->exited)
        return true;
    if (s->proc)
        return false;
    return !loop_process_alive(s->pid); /* adopted after a restart: not our child */
}

static void send_signal(struct local_server *s)
{
    static const int sigs[] = {0, SIGINT, SIGTERM, SIGKILL};
    int sig = sigs[s->stage];
    if (s->proc)
        loop_process_kill(s->proc, sig);
    else if (s->pid > 0)
        kill(s->pid, sig);
}

/* Our child's exit is reported by on_process_exit; an adopted process is checked every 100 ms. */
static void arm_stage(struct local_server *s)
{
    uint64_t ms = (uint64_t)(stage_timeout(s) * 1000);
    s->deadline = uv_now(s->st->host->loop) + ms;
    uv_timer_start(&s->timer, on_stop_timer_cb, s->proc || ms < 100 ? ms : 100, 0);
}

static void on_stop_timer(uv_timer_t *t)
{
    struct local_server *s = t->data;
    if (!s->stopping)
        return;
    if (gone(s)) {
        finish_stop(s, 0, NULL);
        return;
    }
    if (uv_now(s->st->host->loop) < s->deadline) {
        uv_timer_start(&s->timer, on_stop_timer_cb, 100, 0);
        return;
    }
    if (s->stage == STOP_KILL) {
        char msg[200];
        snprintf(msg, sizeof(msg), "the server of '%s' (pid %d) did not stop after SIGKILL",
                 s->user, (int)s->pid);
        finish_stop(s, -ETIMEDOUT, msg);
        return;
    }
    s->stage++;
    gm_log_info("Sending %s to the server of '%s' (pid %d)",
                s->stage == STOP_TERM ? "SIGTERM" : "SIGKILL", s->user, (int)s->pid);
    send_signal(s);
    arm_stage(s);
}

static void on_stop_timer_cb(uv_timer_t *t)
{
    on_stop_timer(t);
}

static void stop_deferred(void *data)
{
    struct local_server *s = data;
    if (!s->freed && s->stopping)
        finish_stop(s, 0, NULL);
    release_hold(s);
}

static int local_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data)
{
    struct local_server *s = server;
    if (s->stopping)
        return -EBUSY;
    if (s->starting) {
        /* The lookup (or the exec) reports the start as cancelled, then the stop follows. */
        s->start_cancelled = true;
        s->stop_now = now;
        if (!s->exec_pending)
            uv_cancel((uv_req_t *)&s->work);
    } else if (s->pid <= 0 || gone(s)) {
        int r = s->st->host->defer(s->st->host, stop_deferred, s);
        if (r < 0)
            return r;
        s->holds++;
    } else {
        s->stage = now ? STOP_KILL : STOP_INT;
        gm_log_info("Stopping the server of '%s' (pid %d) with %s", s->user, (int)s->pid,
                    now ? "SIGKILL" : "SIGINT");
        send_signal(s);
        arm_stage(s);
    }
    s->stop_cb = cb;
    s->stop_data = data;
    s->stopping = true;
    return 0;
}

static void poll_deferred(void *data)
{
    struct local_server *s = data;
    gm_spawner_polled_cb cb = s->poll_cb;
    s->poll_cb = NULL;
    if (!s->freed && cb) {
        if (s->starting || (s->pid > 0 && !gone(s))) {
            cb(s->poll_data, GM_SPAWNER_RUNNING);
        } else {
            spawn_output_drain(s->output); /* an adopted process: seen gone only now */
            cb(s->poll_data, s->exited ? s->exit_status : 0);
        }
    }
    release_hold(s);
}

static int local_poll(void *server, gm_spawner_polled_cb cb, void *data)
{
    struct local_server *s = server;
    if (s->poll_cb)
        return -EBUSY;
    int r = s->st->host->defer(s->st->host, poll_deferred, s);
    if (r < 0)
        return r;
    s->holds++;
    s->poll_cb = cb;
    s->poll_data = data;
    return 0;
}

static json_t *local_get_state(void *server)
{
    struct local_server *s = server;
    if (s->pid <= 0 || gone(s))
        return NULL;
    return json_pack("{s:i}", "pid", (json_int_t)s->pid);
}

/* A server that outlived the previous hub writes on to its file: follow it from where that hub
 * stopped reading (its end, near enough). */
static void follow_adopted(struct local_server *s)
{
    spawn_output_free(s->output);
    s->output = NULL;
    int fd = -1;
    int r = s->output_path ? spawn_output_open(s->output_path, false, NULL, &fd) : -ENOENT;
    if (r == 0)
        r = spawn_output_follow(s->st->host->loop, fd, s->output_path, true, SPAWN_OUTPUT_CAP,
                                &s->output);
    if (r < 0 && s->output_path)
        gm_log_info("Not following the output of the server of '%s' (pid %d) in %s: %s", s->user,
                    (int)s->pid, s->output_path, strerror(-r));
}

static int local_load_state(void *server, const json_t *state)
{
    struct local_server *s = server;
    json_t *pid = json_object_get(state, "pid");
    if (json_is_integer(pid) && json_integer_value(pid) > 0 &&
        json_integer_value(pid) <= 0x7fffffff) {
        s->pid = (pid_t)json_integer_value(pid);
        s->proc = NULL;
        s->exited = false;
        follow_adopted(s);
    }
    return 0;
}

static int local_output_tail(void *server, int max_lines, char *out, size_t outlen)
{
    struct local_server *s = server;
    return spawn_output_tail(s->output, max_lines, out, outlen);
}

static const char *const local_cmd[] = {"jupyterhub-singleuser", NULL};
static const char *const local_env_keep[] = {
    "PATH", "PYTHONPATH", "CONDA_ROOT",      "CONDA_DEFAULT_ENV",         "VIRTUAL_ENV",
    "LANG", "LC_ALL",     "LD_LIBRARY_PATH", "JUPYTERHUB_SINGLEUSER_APP", NULL,
};

static const char *const local_aliases[] = {"jupyterhub.spawner.LocalProcessSpawner",
                                            "LocalProcessSpawner", "default", NULL};
static const char *const simple_aliases[] = {"jupyterhub.spawner.SimpleLocalProcessSpawner",
                                             "SimpleLocalProcessSpawner", NULL};

#define LOCAL_COMMON                                                                               \
    .abi = GM_ABI_VERSION, .conf_size = sizeof(struct local_conf), .default_ip = "127.0.0.1",      \
    .default_port = 0, .default_cmd = local_cmd, .default_env_keep = local_env_keep,               \
    .destroy = local_destroy, .server_new = local_server_new, .server_free = local_server_free,    \
    .start = local_start, .stop = local_stop, .poll = local_poll, .get_state = local_get_state,    \
    .load_state = local_load_state, .output_tail = local_output_tail

const struct gm_spawner spawn_local = {
    LOCAL_COMMON,
    .name = "localprocess",
    .aliases = local_aliases,
    .options = &spawn_local_class,
    .init = local_init,
};

const struct gm_spawner spawn_simple = {
    LOCAL_COMMON,
    .name = "simple",
    .aliases = simple_aliases,
    .options = &spawn_simple_class,
    .init = simple_init,
};
