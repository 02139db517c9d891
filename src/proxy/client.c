/* Calls to the proxy's REST API, as JupyterHub's ConfigurableHTTPProxy.api_request: a token in
 * the Authorization header, at most `concurrency` in flight (the rest wait in order), connect
 * timeout 3 s, request timeout 10 s, and retries with backoff for up to 30 s when the proxy
 * does not answer or answers 5xx. */
#include "core/hub.h"
#include "proxy/proxy_impl.h"
#include <ganymede/buf.h>
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 3000
#define REQUEST_TIMEOUT_MS 10000
#define RETRY_FOR_MS       30000
#define RETRY_FIRST_MS     100
#define RETRY_MAX_MS       2000
#define MAX_RESPONSE       (64 << 20) /* the route table of a very large hub */

struct proxy_call {
    struct proxy *p;
    char method[8];
    char *url;
    char *body;
    bool retry;
    int64_t deadline_ms;
    unsigned delay_ms;
    struct proxy_call_target target;
    struct gm_fetch *fetch;
    bool queued;
    bool timer_open;
    bool dead; /* cancelled or finished; freed when the timer closed */
    uv_timer_t timer;
    struct proxy_call *next, *prev; /* p->calls */
    struct proxy_call *queue_next;  /* p->queue */
};

static void send_call(struct proxy_call *c);

static void on_timer_closed(uv_handle_t *h)
{
    struct proxy_call *c = h->data;
    free(c->url);
    free(c->body);
    free(c);
}

/* Unlink and free (after the timer handle closed). */
static void release(struct proxy_call *c)
{
    struct proxy *p = c->p;
    if (c->dead)
        return;
    c->dead = true;
    if (c->prev)
        c->prev->next = c->next;
    else if (p->calls == c)
        p->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->queued) {
        struct proxy_call **pp = &p->queue_head;
        while (*pp && *pp != c)
            pp = &(*pp)->queue_next;
        if (*pp)
            *pp = c->queue_next;
        p->queue_tail = NULL;
        for (struct proxy_call *q = p->queue_head; q; q = q->queue_next)
            p->queue_tail = q;
        c->queued = false;
    }
    if (c->fetch) {
        gm_fetch_cancel(c->fetch);
        c->fetch = NULL;
        p->in_flight--;
    }
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* Start queued calls while there is room. */
static void pump(struct proxy *p)
{
    size_t limit = p->conf.concurrency > 0 ? (size_t)p->conf.concurrency : 10;
    while (p->queue_head && p->in_flight < limit) {
        struct proxy_call *c = p->queue_head;
        p->queue_head = c->queue_next;
        if (!p->queue_head)
            p->queue_tail = NULL;
        c->queued = false;
        c->queue_next = NULL;
        send_call(c);
    }
}

static void finish(struct proxy_call *c, int status, const char *message, int http_status,
                   const char *body)
{
    struct proxy *p = c->p;
    struct proxy_call_target t = c->target;
    release(c);
    struct proxy_reply reply = {
        .status = status,
        .message = message,
        .http_status = http_status,
        .body = body ? body : "",
        .cb = t.cb,
        .routes_cb = t.routes_cb,
        .cbdata = t.cbdata,
    };
    if (t.done)
        t.done(p, &reply);
    pump(p);
}

static void on_retry(uv_timer_t *t)
{
    struct proxy_call *c = t->data;
    send_call(c);
}

static void on_response(void *data, const struct gm_fetch_response *resp)
{
    struct proxy_call *c = data;
    struct proxy *p = c->p;
    c->fetch = NULL;
    p->in_flight--;
    int status = resp->status;
    if (status >= 200 && status < 300) {
        finish(c, 0, "", status, resp->body);
        return;
    }
    char msg[512];
    if (status == 0)
        snprintf(msg, sizeof(msg), "the proxy's API at %s does not answer: %s", p->api_url,
                 resp->message);
    else if (status == 401 || status == 403)
        snprintf(msg, sizeof(msg),
                 "the proxy refused the hub's token (%d); check ConfigurableHTTPProxy.auth_token",
                 status);
    else
        snprintf(msg, sizeof(msg), "the proxy answered %d to %s %s", status, c->method,
                 c->url + strlen(p->api_url));
    bool transient = status == 0 || status >= 500;
    int64_t now = (int64_t)uv_now(p->hub->loop);
    if (c->retry && transient && now + c->delay_ms < c->deadline_ms && !p->shutting_down) {
        gm_log_debug("Retrying in %u ms: %s", c->delay_ms, msg);
        uv_timer_start(&c->timer, on_retry, c->delay_ms, 0);
        c->delay_ms = c->delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->delay_ms * 2;
        pump(p);
        return;
    }
    int err = status == 0                      ? (resp->error ? resp->error : -EIO)
              : status == 404                  ? -ENOENT
              : status == 401 || status == 403 ? -EACCES
                                               : -EIO;
    finish(c, err, msg, status, resp->body);
}

static void send_call(struct proxy_call *c)
{
    struct proxy *p = c->p;
    const char *headers[] = {p->auth_header, "Content-Type: application/json",
                             "Accept: application/json", NULL};
    struct gm_fetch_request req = {
        .method = c->method,
        .url = c->url,
        .headers = headers,
        .body = c->body,
        .body_len = c->body ? strlen(c->body) : 0,
        .timeout_ms = REQUEST_TIMEOUT_MS,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .max_response = MAX_RESPONSE,
    };
    int r = gm_fetch_start(p->hub->fetcher, &req, on_response, c, &c->fetch);
    if (r < 0) {
        c->fetch = NULL;
        finish(c, r, "cannot send a request to the proxy", 0, "");
        return;
    }
    p->in_flight++;
}

int proxy_call(struct proxy *p, const char *method, const char *path, const char *body, bool retry,
               const struct proxy_call_target *target)
{
    if (p->shutting_down)
        return -ESHUTDOWN;
    struct proxy_call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    struct gm_buf url;
    gm_buf_init(&url, 16384);
    gm_buf_printf(&url, "%s/api/routes%s", p->api_url, path);
    c->url = gm_buf_steal(&url);
    c->body = str_dup(body);
    if (!c->url || (body && !c->body)) {
        free(c->url);
        free(c->body);
        free(c);
        return -ENOMEM;
    }
    str_copy(c->method, sizeof(c->method), method);
    c->p = p;
    c->retry = retry;
    c->target = *target;
    c->delay_ms = RETRY_FIRST_MS;
    c->deadline_ms = (int64_t)uv_now(p->hub->loop) + RETRY_FOR_MS;
    uv_timer_init(p->hub->loop, &c->timer);
    c->timer.data = c;
    c->next = p->calls;
    if (p->calls)
        p->calls->prev = c;
    p->calls = c;
    c->queued = true;
    if (p->queue_tail)
        p->queue_tail->queue_next = c;
    else
        p->queue_head = c;
    p->queue_tail = c;
    pump(p);
    return 0;
}

void proxy_cancel_calls(struct proxy *p, void *cbdata)
{
    for (struct proxy_call *c = p->calls, *next; c; c = next) {
        next = c->next;
        if (c->target.cbdata == cbdata)
            release(c);
    }
    pump(p);
}

void proxy_cancel_all(struct proxy *p)
{
    while (p->calls)
        release(p->calls);
}
