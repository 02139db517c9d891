/* libcurl multi driven by libuv (the pattern of curl's multi-uv example): curl tells us which
 * sockets to watch and when to time out; uv tells curl when they are ready. Each fetch owns its
 * easy handle, copied request data and capped response buffers; a streamed fetch hands its
 * body on line by line instead of collecting it. */
#include "loop/fetch.h"
#include <ganymede/buf.h>
#include "util/str.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_MAX_HEADERS (64 << 10)

struct gm_fetcher {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct gm_fetch *active; /* doubly linked list of fetches in flight */
    size_t n_active;
    int in_line; /* inside an on_line callback, i.e. inside curl: no new transfers */
    bool closing;
};

struct gm_fetch {
    struct gm_fetcher *owner;
    struct gm_fetch *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    struct gm_buf response;
    struct gm_buf response_headers;
    bool too_large;
    gm_fetch_cb cb;
    gm_fetch_line_cb on_line;
    void *data;
    bool in_line_cb; /* inside on_line: a cancel then only marks the fetch */
    bool cancelled;  /* gm_fetch_cancel was called from on_line: free it without a callback */
    bool stopped;    /* on_line asked to end the transfer: complete with -ECANCELED */
    char error[CURL_ERROR_SIZE];
    char header_value[1024]; /* the last value gm_fetch_response_header returned */
};

/* One per socket curl asks us to watch. */
struct fetch_socket {
    uv_poll_t poll;
    struct gm_fetcher *owner;
    curl_socket_t fd;
};

static void check_done(struct gm_fetcher *f);

static void on_socket_ready(uv_poll_t *p, int status, int events)
{
    struct fetch_socket *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    struct gm_fetcher *f = s->owner;
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    check_done(f);
}

static void on_socket_closed(uv_handle_t *h)
{
    free(h->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct gm_fetcher *f = userp;
    struct fetch_socket *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_socket_closed);
            curl_multi_assign(f->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1;
        s->owner = f;
        s->fd = fd;
        if (uv_poll_init_socket(f->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(f->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_socket_ready);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    struct gm_fetcher *f = t->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(f);
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct gm_fetcher *f = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&f->timer);
    else if (!f->closing)
        uv_timer_start(&f->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

int loop_fetch_create(uv_loop_t *loop, struct gm_fetcher **ret)
{
    struct gm_fetcher *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->loop = loop;
    f->multi = curl_multi_init();
    if (!f->multi) {
        free(f);
        return -ENOMEM;
    }
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    *ret = f;
    return 0;
}

size_t loop_fetch_active(const struct gm_fetcher *f)
{
    return f->n_active;
}

/* Hand the line collected in x->response to on_line. Returns -1 when the transfer must end. */
static int emit_line(struct gm_fetch *x, int status)
{
    struct gm_buf *b = &x->response;
    size_t len = b->len;
    if (len && b->data[len - 1] == '\r')
        len--;
    if (b->data)
        b->data[len] = '\0';
    x->in_line_cb = true;
    x->owner->in_line++;
    int r = x->on_line(x->data, status, b->data ? b->data : "", len);
    x->owner->in_line--;
    x->in_line_cb = false;
    gm_buf_reset(b);
    if (x->cancelled)
        return -1;
    if (r != 0) {
        x->stopped = true;
        return -1;
    }
    return 0;
}

static int stream_lines(struct gm_fetch *x, const char *p, size_t n)
{
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (gm_buf_append(&x->response, p, take) < 0) {
            x->too_large = true;
            return -1;
        }
        if (!nl)
            return 0;
        p += take + 1;
        n -= take + 1;
        if (emit_line(x, (int)status) < 0)
            return -1;
    }
    return 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *userp)
{
    struct gm_fetch *x = userp;
    if (x->cancelled || x->stopped)
        return 0;
    if (x->on_line)
        return stream_lines(x, ptr, size * n) < 0 ? 0 : size * n;
    if (gm_buf_append(&x->response, ptr, size * n) < 0) {
        x->too_large = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    return size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *userp)
{
    struct gm_fetch *x = userp;
    /* A new status line (after a 100 Continue or a redirect) starts a new header block. */
    if (size * n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        gm_buf_reset(&x->response_headers);
    if (gm_buf_append(&x->response_headers, ptr, size * n) < 0)
        return 0;
    return size * n;
}

static void unlink_fetch(struct gm_fetch *x)
{
    struct gm_fetcher *f = x->owner;
    if (x->prev)
        x->prev->next = x->next;
    else
        f->active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    f->n_active--;
    curl_multi_remove_handle(f->multi, x->easy);
}

static void free_fetch(struct gm_fetch *x)
{
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    gm_buf_free(&x->response);
    gm_buf_free(&x->response_headers);
    free(x);
}

/* A PEM text as a blob curl copies. */
static CURLcode set_blob(CURL *e, CURLoption opt, const char *pem)
{
    struct curl_blob blob = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY};
    return curl_easy_setopt(e, opt, &blob);
}

static int set_tls(CURL *e, const struct gm_fetch_request *req)
{
    CURLcode c = CURLE_OK;
    if (req->ca_file)
        c = curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (c == CURLE_OK && req->ca_pem)
        c = set_blob(e, CURLOPT_CAINFO_BLOB, req->ca_pem);
    if (c == CURLE_OK && req->cert_file)
        c = curl_easy_setopt(e, CURLOPT_SSLCERT, req->cert_file);
    if (c == CURLE_OK && req->cert_pem)
        c = set_blob(e, CURLOPT_SSLCERT_BLOB, req->cert_pem);
    if (c == CURLE_OK && req->key_file)
        c = curl_easy_setopt(e, CURLOPT_SSLKEY, req->key_file);
    if (c == CURLE_OK && req->key_pem)
        c = set_blob(e, CURLOPT_SSLKEY_BLOB, req->key_pem);
    if (c == CURLE_OK && req->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c == CURLE_OUT_OF_MEMORY)
        return -ENOMEM;
    return c == CURLE_OK ? 0 : -ENOTSUP;
}

int gm_fetch_start(struct gm_fetcher *f, const struct gm_fetch_request *req, gm_fetch_cb cb,
                   void *data, struct gm_fetch **ret)
{
    if (!f)
        return -ESHUTDOWN; /* the hub is shutting down (struct gm_host.fetcher is NULL) */
    if (!req->url || !cb || f->closing)
        return -EINVAL;
    if (f->in_line)
        return -EDEADLK; /* curl refuses new transfers from inside its callbacks */
    struct gm_fetch *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->owner = f;
    x->cb = cb;
    x->on_line = req->on_line;
    x->data = data;
    gm_buf_init(&x->response, req->max_response ? req->max_response : 16 << 20);
    gm_buf_init(&x->response_headers, FETCH_MAX_HEADERS);
    x->easy = curl_easy_init();
    if (!x->easy)
        goto fail;
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    long timeout = req->timeout_ms < 0 ? 0L : req->timeout_ms ? req->timeout_ms : 30000L;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms ? req->connect_timeout_ms : 10000L);
    if (req->idle_timeout_ms > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (req->idle_timeout_ms + 999) / 1000);
    }
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (req->unix_socket)
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    int r = set_tls(e, req);
    if (r < 0) {
        free_fetch(x);
        return r;
    }
    const char *method = req->method ? req->method : "GET";
    if (req->body) {
        x->body = malloc(req->body_len ? req->body_len : 1);
        if (!x->body)
            goto fail;
        memcpy(x->body, req->body, req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 || req->body)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *n = curl_slist_append(x->headers, *h);
        if (!n)
            goto fail;
        x->headers = n;
    }
    /* curl would otherwise send "Expect: 100-continue" for larger bodies and wait for it. */
    struct curl_slist *n = curl_slist_append(x->headers, "Expect:");
    if (!n)
        goto fail;
    x->headers = n;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (curl_multi_add_handle(f->multi, e) != CURLM_OK)
        goto fail;
    x->next = f->active;
    if (f->active)
        f->active->prev = x;
    f->active = x;
    f->n_active++;
    if (ret)
        *ret = x;
    return 0;
fail:
    free_fetch(x);
    return -ENOMEM;
}

static int map_error(CURLcode code, bool too_large)
{
    if (too_large)
        return -E2BIG;
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    default:
        return -EIO;
    }
}

static void complete(struct gm_fetch *x, CURLcode code, int forced_error)
{
    long status = 0;
    if (code == CURLE_OK || x->stopped)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    /* A stream's last line may lack its "\n". */
    if (x->on_line && code == CURLE_OK && !forced_error && x->response.len &&
        emit_line(x, (int)status) < 0 && x->cancelled) {
        free_fetch(x);
        return;
    }
    if (x->on_line)
        gm_buf_reset(&x->response);
    if (x->stopped)
        forced_error = -ECANCELED;
    struct gm_fetch_response resp = {
        .status = (int)status,
        .error = forced_error ? forced_error : map_error(code, x->too_large),
        .message = "",
        .body = x->response.data ? x->response.data : "",
        .body_len = x->response.len,
        .fetch = x,
    };
    if (resp.error == -E2BIG)
        resp.message = "the response was larger than allowed";
    else if (x->stopped)
        resp.message = "the stream was ended by its reader";
    else if (forced_error == -ECANCELED)
        resp.message = "the hub is shutting down";
    else if (resp.error)
        resp.message = x->error[0] ? x->error : curl_easy_strerror(code);
    x->cb(x->data, &resp);
    free_fetch(x);
}

static void check_done(struct gm_fetcher *f)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(f->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct gm_fetch *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode code = msg->data.result;
        unlink_fetch(x);
        if (x->cancelled)
            free_fetch(x);
        else
            complete(x, code, 0);
    }
}

void gm_fetch_cancel(struct gm_fetch *x)
{
    if (!x)
        return;
    if (x->in_line_cb) {
        /* curl is inside its write callback: end the transfer there, free it in check_done. */
        x->cancelled = true;
        return;
    }
    unlink_fetch(x);
    free_fetch(x);
}

const char *gm_fetch_response_header(const struct gm_fetch_response *resp, const char *name)
{
    struct gm_fetch *x = (struct gm_fetch *)resp->fetch;
    if (!x || !x->response_headers.data)
        return NULL;
    size_t n = strlen(name);
    char *line = x->response_headers.data;
    while (line && *line) {
        char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(x->header_value, sizeof(x->header_value), "%.*s", (int)(eol - v), v);
            return x->header_value;
        }
        line = eol + 2;
    }
    return NULL;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct gm_fetcher *f = h->data;
    curl_multi_cleanup(f->multi);
    free(f);
}

void loop_fetch_destroy(struct gm_fetcher *f)
{
    if (!f)
        return;
    f->closing = true;
    while (f->active) {
        struct gm_fetch *x = f->active;
        unlink_fetch(x);
        if (x->cancelled)
            free_fetch(x);
        else
            complete(x, CURLE_OK, -ECANCELED);
    }
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
