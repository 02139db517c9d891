/* gm_command_run (include/ganymede/command.h): uv_spawn with three pipes, in a session of its
 * own so that a timeout ends the whole process group (a shell's children, sudo's command). The
 * run completes once the process exited and both output pipes reached their end, or shortly
 * after the exit when something the command left behind keeps a pipe open; the object is freed
 * when its last handle closed. */
#include <ganymede/buf.h>

#include <errno.h>
#include <ganymede/command.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMAND_DEFAULT_OUTPUT     (1u << 20)
#define COMMAND_DEFAULT_TIMEOUT_MS 60000L
#define COMMAND_DEFAULT_GRACE_MS   5000L
#define COMMAND_DRAIN_MS           1000 /* how long output is read after the exit */
#define COMMAND_MAX_STDIN          (64u << 20)

enum command_phase {
    COMMAND_RUNNING,    /* the timer is the timeout */
    COMMAND_TERMINATED, /* SIGTERM sent: the timer is the grace before SIGKILL */
    COMMAND_DRAINING,   /* exited: the timer bounds the wait for the pipes' end */
    COMMAND_PHASE_MAX,
};

struct gm_command {
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_timer_t timer;
    uv_write_t write;
    char *stdin_copy;
    struct gm_buf out_buf, err_buf;
    bool out_truncated, err_truncated;
    bool out_eof, err_eof;
    bool exited, timed_out, cancelled, done;
    int exit_status;
    int open_handles; /* initialised handles not yet closed: freed at 0 */
    enum command_phase phase;
    long timeout_ms, grace_ms;
    gm_command_cb cb;
    void *data;
};

static void on_closed(uv_handle_t *h)
{
    struct gm_command *c = h->data;
    if (--c->open_handles > 0)
        return;
    gm_buf_free(&c->out_buf);
    gm_buf_free(&c->err_buf);
    free(c->stdin_copy);
    free(c);
}

static void close_handle(struct gm_command *c, void *handle)
{
    uv_handle_t *h = handle;
    (void)c;
    if (!uv_is_closing(h))
        uv_close(h, on_closed);
}

static void close_all(struct gm_command *c)
{
    close_handle(c, &c->proc);
    close_handle(c, &c->in);
    close_handle(c, &c->out);
    close_handle(c, &c->err);
    close_handle(c, &c->timer);
}

static void finish(struct gm_command *c)
{
    if (c->done)
        return;
    c->done = true;
    uv_timer_stop(&c->timer);
    if (!c->cancelled) {
        char message[96];
        int sig = c->exit_status > 128 ? c->exit_status - 128 : 0;
        if (c->timed_out)
            snprintf(message, sizeof(message), "ended after %.3g s (timeout)",
                     (double)c->timeout_ms / 1000.0);
        else if (sig)
            snprintf(message, sizeof(message), "killed by signal %d", sig);
        else
            snprintf(message, sizeof(message), "exited with status %d", c->exit_status);
        struct gm_command_result res = {
            .error = c->timed_out ? -ETIMEDOUT : 0,
            .exit_status = c->exit_status,
            .out = c->out_buf.data ? c->out_buf.data : "",
            .out_len = c->out_buf.len,
            .out_truncated = c->out_truncated,
            .err = c->err_buf.data ? c->err_buf.data : "",
            .err_len = c->err_buf.len,
            .err_truncated = c->err_truncated,
            .message = message,
        };
        c->cb(c->data, &res);
    }
    close_all(c);
}

static void signal_group(struct gm_command *c, int sig)
{
    if (c->exited)
        return;
    /* The process leads its own group (UV_PROCESS_DETACHED makes a new session). */
    if (kill(-c->proc.pid, sig) < 0)
        uv_process_kill(&c->proc, sig);
}

static void on_timer(uv_timer_t *t)
{
    struct gm_command *c = t->data;
    switch (c->phase) {
    case COMMAND_RUNNING:
        c->timed_out = true;
        c->phase = COMMAND_TERMINATED;
        signal_group(c, SIGTERM);
        uv_timer_start(&c->timer, on_timer, (uint64_t)c->grace_ms, 0);
        break;
    case COMMAND_TERMINATED:
        signal_group(c, SIGKILL);
        break;
    case COMMAND_DRAINING:
    default:
        finish(c);
        break;
    }
}

static void maybe_finish(struct gm_command *c)
{
    if (c->exited && c->out_eof && c->err_eof)
        finish(c);
}

static void on_process_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
    struct gm_command *c = p->data;
    c->exited = true;
    c->exit_status = term_signal ? 128 + term_signal : (int)exit_status;
    c->phase = COMMAND_DRAINING;
    uv_timer_start(&c->timer, on_timer, COMMAND_DRAIN_MS, 0);
    maybe_finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    static char space[65536]; /* the loop is one thread: copied out before the next read */
    *b = uv_buf_init(space, sizeof(space));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct gm_command *c = s->data;
    bool is_out = s == (uv_stream_t *)&c->out;
    if (n > 0) {
        struct gm_buf *to = is_out ? &c->out_buf : &c->err_buf;
        size_t room = to->max - to->len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        bool kept = take == 0 || gm_buf_append(to, b->base, take) == 0;
        if (!kept || take < (size_t)n) {
            if (is_out)
                c->out_truncated = true;
            else
                c->err_truncated = true;
        }
        return;
    }
    if (n == 0)
        return;
    /* End of the stream, or an error reading it: either way nothing more comes. */
    if (is_out)
        c->out_eof = true;
    else
        c->err_eof = true;
    close_handle(c, s);
    maybe_finish(c);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status; /* a command that does not read its stdin is its own business */
    struct gm_command *c = w->data;
    close_handle(c, &c->in);
}

int gm_command_run(uv_loop_t *loop, const struct gm_command_request *req, gm_command_cb cb,
                   void *data, struct gm_command **ret)
{
    if (!loop || !req || !cb || !req->argv == !req->command || (req->argv && !req->argv[0]))
        return -EINVAL;
    if (req->stdin_len > COMMAND_MAX_STDIN)
        return -E2BIG;
    struct gm_command *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->data = data;
    c->timeout_ms = req->timeout_ms ? req->timeout_ms : COMMAND_DEFAULT_TIMEOUT_MS;
    c->grace_ms = req->kill_grace_ms > 0 ? req->kill_grace_ms : COMMAND_DEFAULT_GRACE_MS;
    size_t cap = req->max_output ? req->max_output : COMMAND_DEFAULT_OUTPUT;
    gm_buf_init(&c->out_buf, cap);
    gm_buf_init(&c->err_buf, cap);
    if (req->stdin_data && req->stdin_len) {
        c->stdin_copy = malloc(req->stdin_len);
        if (!c->stdin_copy) {
            free(c);
            return -ENOMEM;
        }
        memcpy(c->stdin_copy, req->stdin_data, req->stdin_len);
    }
    uv_pipe_init(loop, &c->in, 0);
    uv_pipe_init(loop, &c->out, 0);
    uv_pipe_init(loop, &c->err, 0);
    uv_timer_init(loop, &c->timer);
    c->open_handles = 4;
    c->proc.data = c->in.data = c->out.data = c->err.data = c->timer.data = c->write.data = c;

    const char *sh[] = {"/bin/sh", "-c", req->command, NULL};
    char **args = (char **)(req->command ? sh : req->argv);
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&c->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&c->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&c->err},
    };
    uv_process_options_t o = {
        .exit_cb = on_process_exit,
        .file = args[0],
        .args = args,
        .env = (char **)req->env,
        .cwd = req->cwd,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int r = uv_spawn(loop, &c->proc, &o);
    c->open_handles++; /* initialised by uv_spawn even when it fails, so closed in any case */
    if (r < 0) {
        c->done = true;
        close_all(c);
        return r;
    }
    uv_read_start((uv_stream_t *)&c->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&c->err, on_alloc, on_read);
    uv_buf_t in = uv_buf_init(c->stdin_copy, (unsigned)req->stdin_len);
    if (!c->stdin_copy || uv_write(&c->write, (uv_stream_t *)&c->in, &in, 1, on_written) < 0)
        close_handle(c, &c->in);
    if (c->timeout_ms > 0)
        uv_timer_start(&c->timer, on_timer, (uint64_t)c->timeout_ms, 0);
    if (ret)
        *ret = c;
    return 0;
}

void gm_command_cancel(struct gm_command *c)
{
    if (!c || c->done)
        return;
    c->cancelled = true;
    signal_group(c, SIGKILL);
}
