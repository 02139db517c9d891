/* Child processes. Not uv_spawn: it drops the supplementary groups of the target user
 * (setgroups(0, NULL)), which LocalProcessSpawner keeps. Between fork and exec the child only
 * makes async-signal-safe calls; everything it needs (the program's path, argv, env, the group
 * list) is prepared before the fork. A CLOEXEC pipe reports a failed exec back, as uv_spawn
 * does. Exit is seen through a pidfd polled by the loop (or a short timer where pidfds are
 * missing), and the child is reaped with waitpid: libuv only reaps its own children. */
#include "loop/process.h"
#include "util/str.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_GROUPS       1024
#define FALLBACK_POLL_MS 100

struct loop_process {
    pid_t pid;
    int pidfd; /* -1 when polling with the timer */
    bool exited;
    bool released;
    int open_handles;
    uv_poll_t poll;
    uv_timer_t timer;
    loop_process_exit_cb cb;
    void *data;

    /* loop_process_spawn: the exec report read on the loop */
    loop_process_exec_cb exec_cb;
    int report_fd; /* the pipe's read end until the report (or EOF) came, else -1 */
    uv_poll_t report_poll;
    bool exec_failed; /* the exit that follows is not reported */
    char *what;       /* argv[0] and the directory, for the message */
    char *cwd;
};

extern char **environ;

int loop_process_which(const char *name, const char *path, char *out, size_t outlen)
{
    if (strchr(name, '/')) {
        if (strlen(name) >= outlen)
            return -ENAMETOOLONG;
        memcpy(out, name, strlen(name) + 1);
        return access(out, X_OK) == 0 ? 0 : -errno;
    }
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, ":");
        int w = snprintf(out, outlen, "%.*s/%s", (int)n, n ? p : ".", name);
        struct stat st;
        if (w > 0 && (size_t)w < outlen && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return 0;
        p += n;
        if (*p == ':')
            p++;
    }
    return -ENOENT;
}

static const char *env_get(const char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* The calling thread's capability sets (capget), or -errno. */
static int caps_get(struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3])
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    memset(caps, 0, sizeof(caps[0]) * _LINUX_CAPABILITY_U32S_3);
    return syscall(SYS_capget, &hdr, caps) < 0 ? -errno : 0;
}

/* In the child: no capability left in any set, ambient included. Async-signal-safe. */
static int caps_drop_all(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
    memset(none, 0, sizeof(none));
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -errno; /* EINVAL: a kernel without ambient capabilities */
    return syscall(SYS_capset, &hdr, none) < 0 ? -errno : 0;
}

/* In the child: every ambient capability but @keep lowered (EINVAL for those not held). */
static void caps_lower_ambient_except(int keep)
{
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (cap != keep)
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0);
}

/* In the child: become the user, go to the directory, exec. On failure write errno and the
 * step to the pipe and exit. Only async-signal-safe calls. */
static void child(int errfd, const char *prog, char *const *argv, char *const *envp,
                  const struct loop_process_options *o, const gid_t *groups, int ngroups)
{
    int step = 0;
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP and RT signals */
    if (setsid() < 0)
        goto fail;
    step = 1;
    if (o->stdout_fd >= 0 && (dup2(o->stdout_fd, 1) < 0 || dup2(o->stdout_fd, 2) < 0))
        goto fail;
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        if (devnull > 2)
            close(devnull);
    }
    /* Keep only 0-2 and the error pipe (moved to 3). */
    if (errfd != 3) {
        if (dup2(errfd, 3) < 0)
            goto fail;
        errfd = 3;
    }
    fcntl(errfd, F_SETFD, FD_CLOEXEC);
    syscall(SYS_close_range, 4U, ~0U, 0U);
    step = 2;
    if (o->user) {
        if (setgroups((size_t)ngroups, groups) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0)
            goto fail;
        /* A hub that switches users through capabilities (CAP_SETUID and CAP_SETGID, as the
         * Debian package's unit grants them) keeps them across setuid between two non-root
         * ids: the user's program gets none, neither ambient nor in any set. */
        if (o->uid != 0 && caps_drop_all() < 0)
            goto fail;
    } else {
        /* A child that stays the hub's user (the proxy, a service) keeps at most
         * CAP_NET_BIND_SERVICE (a proxy on port 80 or 443) of the unit's ambient set. */
        caps_lower_ambient_except(CAP_NET_BIND_SERVICE);
    }
    step = 3;
    if (o->cwd && chdir(o->cwd) < 0)
        goto fail;
    step = 4;
    execve(prog, argv, envp);
fail:;
    int report[2] = {errno, step};
    ssize_t w = write(errfd, report, sizeof(report));
    (void)w;
    _exit(127);
}

static void on_report_closed(uv_handle_t *h);
static bool take_report(struct loop_process *p);

static void on_closed(uv_handle_t *h)
{
    struct loop_process *p = h->data;
    if (--p->open_handles > 0)
        return;
    if (p->pidfd >= 0)
        close(p->pidfd); /* only now: the poll handle watched it until closed */
    free(p->what);
    free(p->cwd);
    free(p);
}

static void close_handles(struct loop_process *p)
{
    if (p->report_fd >= 0 && !uv_is_closing((uv_handle_t *)&p->report_poll)) {
        uv_poll_stop(&p->report_poll);
        uv_close((uv_handle_t *)&p->report_poll, on_report_closed);
    }
    if (p->pidfd >= 0) {
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, on_closed);
    }
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, on_closed);
}

/* Reap if it ended; report once. */
static void check_exit(struct loop_process *p)
{
    if (p->exited)
        return;
    int status;
    pid_t w = waitpid(p->pid, &status, WNOHANG);
    if (w == 0 || (w < 0 && errno == EINTR))
        return;
    p->exited = true;
    if (p->exec_cb && !p->exec_failed)
        take_report(p); /* the child is gone: its report (or EOF) is in the pipe */
    int code = w < 0                 ? 0
               : WIFEXITED(status)   ? WEXITSTATUS(status)
               : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                     : 0;
    if (p->pidfd >= 0)
        uv_poll_stop(&p->poll);
    uv_timer_stop(&p->timer);
    if (!p->released && p->cb && !p->exec_failed)
        p->cb(p->data, code);
}

static void on_pidfd(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    check_exit(h->data);
}

static void on_timer(uv_timer_t *t)
{
    check_exit(t->data);
}

/* The child's report of a failed start ({errno, step}) as a message. */
static int report_error(const int report[2], const char *what, const char *cwd, char *err,
                        size_t errlen)
{
    static const char *const steps[] = {"start a session", "redirect output", "switch to the user",
                                        "enter the directory", "execute"};
    int step = report[1] >= 0 && report[1] <= 4 ? report[1] : 4;
    snprintf(err, errlen, "cannot %s for %s%s%s: %s", steps[step], what, step == 3 ? " in " : "",
             step == 3 && cwd ? cwd : "", strerror(report[0]));
    return report[0] > 0 ? -report[0] : -EIO;
}

/* Fork the child; @p gets the pid and @report_fd the read end of the exec report pipe. */
static int launch(const struct loop_process_options *o, struct loop_process *p, int *report_fd,
                  char *err, size_t errlen)
{
    if (!o->argv || !o->argv[0] || !o->argv[0][0]) {
        snprintf(err, errlen, "no command to run");
        return -EINVAL;
    }
    const char *const *env = o->env ? o->env : (const char *const *)environ;
    char prog[4096];
    int r = loop_process_which(o->argv[0], env_get(env, "PATH"), prog, sizeof(prog));
    if (r < 0) {
        snprintf(err, errlen, "command not found: %s", o->argv[0]);
        return -ENOENT;
    }
    gid_t groups[MAX_GROUPS];
    int ngroups = MAX_GROUPS;
    if (o->user && getgrouplist(o->user, o->gid, groups, &ngroups) < 0)
        ngroups = 0; /* more than MAX_GROUPS: keep the primary group only */
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -errno;
    }
    pid_t pid = fork();
    if (pid == 0)
        child(pipefd[1], prog, (char *const *)o->argv, (char *const *)env, o, groups, ngroups);
    int fork_errno = errno;
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        snprintf(err, errlen, "fork: %s", strerror(fork_errno));
        return -fork_errno;
    }
    p->pid = pid;
    *report_fd = pipefd[0];
    return 0;
}

/* Watch for the exit: the pidfd on the loop, or a timer where there are no pidfds. */
static void watch_exit(uv_loop_t *loop, struct loop_process *p)
{
    p->pidfd = pidfd_open(p->pid, 0);
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->open_handles++;
    if (p->pidfd >= 0 && uv_poll_init(loop, &p->poll, p->pidfd) == 0) {
        p->poll.data = p;
        p->open_handles++;
        uv_poll_start(&p->poll, UV_READABLE, on_pidfd);
    } else {
        if (p->pidfd >= 0)
            close(p->pidfd);
        p->pidfd = -1;
        uv_timer_start(&p->timer, on_timer, FALLBACK_POLL_MS, FALLBACK_POLL_MS);
    }
}

int loop_process_start(uv_loop_t *loop, const struct loop_process_options *o,
                       loop_process_exit_cb cb, void *data, struct loop_process **ret, char *err,
                       size_t errlen)
{
    struct loop_process *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    int fd = -1;
    int r = launch(o, p, &fd, err, errlen);
    if (r < 0) {
        free(p);
        return r;
    }
    /* Blocks only until the child execs (the pipe closes) or reports why it could not. */
    int report[2] = {0, 0};
    ssize_t n;
    do
        n = read(fd, report, sizeof(report));
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n == (ssize_t)sizeof(report)) {
        waitpid(p->pid, NULL, 0);
        free(p);
        return report_error(report, o->argv[0], o->cwd, err, errlen);
    }
    p->cb = cb;
    p->data = data;
    p->report_fd = -1;
    watch_exit(loop, p);
    *ret = p;
    return 0;
}

static void on_report_closed(uv_handle_t *h)
{
    struct loop_process *p = h->data;
    close(p->report_fd);
    p->report_fd = -1;
    on_closed(h);
}

/* Read the exec report: a failure's {errno, step}, or EOF once the child exec'd. Reports it
 * once; returns false when there is nothing to read yet. */
static bool take_report(struct loop_process *p)
{
    if (p->report_fd < 0 || uv_is_closing((uv_handle_t *)&p->report_poll))
        return true;
    int report[2] = {0, 0};
    ssize_t n;
    do
        n = read(p->report_fd, report, sizeof(report));
    while (n < 0 && errno == EINTR);
    int read_errno = errno;
    if (n < 0 && (read_errno == EAGAIN || read_errno == EWOULDBLOCK))
        return false;
    uv_poll_stop(&p->report_poll);
    uv_close((uv_handle_t *)&p->report_poll, on_report_closed);
    char err[512] = "";
    int status = 0;
    if (n != 0 && !p->exited) {
        /* A child that reported exits right after; one whose report cannot be read is ended.
         * Either way it is reaped now, before anyone releases it. */
        if (n != (ssize_t)sizeof(report))
            kill(p->pid, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        p->exited = true;
    }
    if (n == (ssize_t)sizeof(report)) {
        status = report_error(report, p->what, p->cwd, err, sizeof(err));
        p->exec_failed = true;
    } else if (n != 0) {
        status = -EIO;
        snprintf(err, sizeof(err), "cannot start %s: %s", p->what,
                 n < 0 ? strerror(read_errno) : "a short report from the child");
        p->exec_failed = true;
    }
    if (!p->released && p->exec_cb)
        p->exec_cb(p->data, status, status < 0 ? err : NULL);
    return true;
}

static void on_report(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    take_report(h->data);
}

int loop_process_spawn(uv_loop_t *loop, const struct loop_process_options *o,
                       loop_process_exec_cb exec_cb, loop_process_exit_cb exit_cb, void *data,
                       struct loop_process **ret, char *err, size_t errlen)
{
    struct loop_process *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->report_fd = -1;
    p->what = strdup(o->argv && o->argv[0] ? o->argv[0] : "");
    p->cwd = o->cwd ? strdup(o->cwd) : NULL;
    int r = !p->what || (o->cwd && !p->cwd) ? -ENOMEM : launch(o, p, &p->report_fd, err, errlen);
    if (r == 0 && (fcntl(p->report_fd, F_SETFL, O_NONBLOCK) < 0 ||
                   uv_poll_init(loop, &p->report_poll, p->report_fd) < 0)) {
        /* Cannot watch the pipe (never seen): give the start up. */
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        close(p->report_fd);
        r = -EIO;
        snprintf(err, errlen, "cannot watch the start of %s", p->what);
    }
    if (r < 0) {
        if (r == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        free(p->what);
        free(p->cwd);
        free(p);
        return r;
    }
    p->cb = exit_cb;
    p->data = data;
    p->exec_cb = exec_cb;
    if (p->report_fd >= 0) {
        p->report_poll.data = p;
        p->open_handles++;
        uv_poll_start(&p->report_poll, UV_READABLE | UV_DISCONNECT, on_report);
    }
    watch_exit(loop, p);
    *ret = p;
    return 0;
}

pid_t loop_process_pid(const struct loop_process *p)
{
    return p->pid;
}

int loop_process_kill(struct loop_process *p, int sig)
{
    if (p->exited)
        return -ESRCH;
    return kill(p->pid, sig) == 0 ? 0 : -errno;
}

void loop_process_release(struct loop_process *p)
{
    if (!p)
        return;
    /* A child that still runs is left running (a server outliving a hub restart); once the hub
     * is gone, init reaps it. */
    p->released = true;
    close_handles(p);
}

/* A zombie (exited, not yet reaped by an init that may never reap it, as in many containers)
 * is dead for us, though kill(pid, 0) still succeeds. */
static bool is_zombie(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, stat, sizeof(stat) - 1);
    close(fd);
    if (n <= 0)
        return false;
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')'); /* the name may contain spaces and parentheses */
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

bool loop_process_can_switch_user(void)
{
    if (geteuid() == 0)
        return true;
    struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
    uint32_t need = (1U << CAP_SETUID) | (1U << CAP_SETGID);
    return caps_get(caps) == 0 && (caps[0].effective & need) == need;
}

bool loop_process_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    if (kill(pid, 0) < 0 && errno != EPERM)
        return false;
    return !is_zombie(pid);
}
