/* The Kubernetes API client of the Kubernetes spawner: requests on the hub's gm_fetch (never
 * blocking the loop), each bounded by k8s_api_request_timeout, with the bearer token read
 * through kube_creds_token (so a rotated service-account token is used at once), the CA and
 * client certificate of the credentials, and the API's Status objects turned into messages.
 *
 * Retries (kubespawner's exponential_backoff around each call, made safer): a GET, PUT or
 * DELETE that got no answer, a 429 or a 5xx is sent again after 0.2 s, doubling up to 5 s (or
 * the server's Retry-After), until k8s_api_request_retry_timeout. A POST is sent again only
 * when it cannot have been received (connection refused) or was refused with 429: a create
 * that timed out may have been done, and the caller's next step (a 409 AlreadyExists) says
 * so. Requests are counted by verb for the benchmark's requests-per-spawn figure. */
#include "kube.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE        (8 << 20)
#define RETRY_FIRST_MS      200
#define RETRY_MAX_MS        5000
#define RETRY_AFTER_MAX_S   30
#define CONNECT_TIMEOUT_CAP 10000

const char *const kube_verb_names[KUBE_VERB_MAX] = {
    [KUBE_GET] = "get",       [KUBE_LIST] = "list",     [KUBE_WATCH] = "watch",
    [KUBE_CREATE] = "create", [KUBE_UPDATE] = "update", [KUBE_PATCH] = "patch",
    [KUBE_DELETE] = "delete",
};

int kube_api_init(struct kube_api *api, const struct gm_host *host, const struct kube_conf *conf,
                  char *err, size_t errlen)
{
    memset(api, 0, sizeof(*api));
    api->host = host;
    api->timeout_ms = (long)conf->k8s_api_request_timeout * 1000;
    api->retry_timeout_ms = (long)conf->k8s_api_request_retry_timeout * 1000;
    if (api->retry_timeout_ms < api->timeout_ms)
        api->retry_timeout_ms = api->timeout_ms;
    return kube_creds_load(&api->creds, conf, err, errlen);
}

void kube_api_release(struct kube_api *api)
{
    kube_creds_release(&api->creds);
}

struct kube_call {
    struct kube_api *api;
    enum kube_verb verb;
    char *method;
    char *path;
    char *body;
    kube_api_cb cb;
    void *data;
    struct gm_fetch *fetch;
    uv_timer_t *timer; /* between attempts; closed (and freed) on its own */
    uint64_t deadline_ms;
    uint64_t delay_ms;
    int attempts;
};

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void call_free(struct kube_call *c)
{
    if (c->timer) {
        uv_timer_stop(c->timer);
        uv_close((uv_handle_t *)c->timer, on_timer_closed);
    }
    free(c->method);
    free(c->path);
    free(c->body);
    free(c);
}

/* The request as gm_fetch takes it, with the credentials of now. */
static void fill_request(struct kube_api *api, struct gm_fetch_request *req, char *auth,
                         size_t authlen, const char **headers, bool json_body)
{
    const char *token = kube_creds_token(&api->creds, uv_now(api->host->loop));
    size_t h = 0;
    headers[h++] = "Accept: application/json";
    if (json_body)
        headers[h++] = "Content-Type: application/json";
    if (token[0]) {
        snprintf(auth, authlen, "Authorization: Bearer %s", token);
        headers[h++] = auth;
    }
    headers[h] = NULL;
    struct kube_creds *cr = &api->creds;
    req->headers = headers;
    req->ca_file = cr->ca_file;
    req->ca_pem = cr->ca_pem;
    req->cert_file = cr->cert_file;
    req->cert_pem = cr->cert_pem;
    req->key_file = cr->key_file;
    req->key_pem = cr->key_pem;
    req->insecure = cr->insecure;
    req->connect_timeout_ms =
        api->timeout_ms < CONNECT_TIMEOUT_CAP ? api->timeout_ms : CONNECT_TIMEOUT_CAP;
}

static void on_fetched(void *data, const struct gm_fetch_response *resp);

static int send_call(struct kube_call *c)
{
    struct kube_api *api = c->api;
    char url[KUBE_PATH_MAX + 512];
    int n = snprintf(url, sizeof(url), "%s%s", api->creds.server, c->path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return -E2BIG;
    char auth[8192];
    const char *headers[4];
    struct gm_fetch_request req = {
        .method = c->method,
        .url = url,
        .body = c->body,
        .body_len = c->body ? strlen(c->body) : 0,
        .timeout_ms = api->timeout_ms,
        .max_response = MAX_RESPONSE,
    };
    fill_request(api, &req, auth, sizeof(auth), headers, c->body != NULL);
    api->requests[c->verb]++;
    c->attempts++;
    int r = gm_fetch_start(api->host->fetcher, &req, on_fetched, c, &c->fetch);
    explicit_bzero(auth, sizeof(auth));
    return r;
}

/* A Status object's message, with the causes a 422 lists when the message lacks them. */
static void status_message(const json_t *body, char *out, size_t outlen)
{
    const char *m = json_string_value(json_object_get(body, "message"));
    size_t len = (size_t)snprintf(out, outlen, "%s", m ? m : "");
    const json_t *causes = json_object_get(json_object_get(body, "details"), "causes");
    size_t i;
    json_t *cause;
    json_array_foreach(causes, i, cause)
    {
        const char *cm = json_string_value(json_object_get(cause, "message"));
        const char *field = json_string_value(json_object_get(cause, "field"));
        if (!cm || (m && strstr(m, cm)) || len >= outlen)
            continue;
        len += (size_t)snprintf(out + len, outlen - len, "%s%s%s%s", len ? "; " : "",
                                field ? field : "", field ? ": " : "", cm);
    }
}

static bool retryable(const struct kube_call *c, const struct gm_fetch_response *resp)
{
    bool idempotent = strcmp(c->method, "POST") != 0;
    if (resp->error == -ECANCELED || resp->error == -ESHUTDOWN)
        return false; /* the hub is shutting down */
    if (resp->status == 429)
        return true;
    if (resp->error == -ECONNREFUSED)
        return true;
    if (!idempotent)
        return false;
    return resp->error != 0 || resp->status == 0 || resp->status >= 500;
}

static void on_retry(uv_timer_t *t)
{
    struct kube_call *c = t->data;
    int r = send_call(c);
    if (r < 0) {
        struct kube_reply reply = {.error = r, .message = strerror(-r), .reason = ""};
        c->cb(c->data, &reply);
        call_free(c);
    }
}

static bool schedule_retry(struct kube_call *c, const struct gm_fetch_response *resp)
{
    uv_loop_t *loop = c->api->host->loop;
    uint64_t now = uv_now(loop);
    uint64_t delay = c->delay_ms ? c->delay_ms : RETRY_FIRST_MS;
    const char *after = gm_fetch_response_header(resp, "Retry-After");
    if (after) {
        char *end;
        long s = strtol(after, &end, 10);
        if (end != after && s >= 0 && s <= RETRY_AFTER_MAX_S)
            delay = (uint64_t)s * 1000;
    }
    if (now + delay >= c->deadline_ms)
        return false;
    c->delay_ms = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
    if (!c->timer) {
        c->timer = malloc(sizeof(*c->timer));
        if (!c->timer)
            return false;
        uv_timer_init(loop, c->timer);
        c->timer->data = c;
    }
    gm_log_debug("Kubernetes API %s %s: %s; again in %llu ms", c->method, c->path,
                 resp->error ? resp->message : "server error", (unsigned long long)delay);
    uv_timer_start(c->timer, on_retry, delay, 0);
    return true;
}

static void on_fetched(void *data, const struct gm_fetch_response *resp)
{
    struct kube_call *c = data;
    c->fetch = NULL;
    if (retryable(c, resp) && schedule_retry(c, resp))
        return;
    if (resp->error || resp->status == 0 || resp->status >= 500)
        c->api->failures++;
    struct kube_reply reply = {
        .status = resp->status,
        .error = resp->error,
        .message = resp->error ? resp->message : "",
        .reason = "",
    };
    char message[KUBE_MESSAGE_MAX];
    if (resp->body_len && resp->body[0] == '{')
        reply.json = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (!resp->error && resp->status >= 400) {
        const char *kind = json_string_value(json_object_get(reply.json, "kind"));
        if (kind && strcmp(kind, "Status") == 0) {
            status_message(reply.json, message, sizeof(message));
            reply.message = message;
            const char *reason = json_string_value(json_object_get(reply.json, "reason"));
            reply.reason = reason ? reason : "";
        } else {
            snprintf(message, sizeof(message), "%.200s", resp->body_len ? resp->body : "");
            reply.message = message;
        }
    }
    c->cb(c->data, &reply);
    json_decref(reply.json);
    call_free(c);
}

int kube_api_call(struct kube_api *api, enum kube_verb verb, const char *method, const char *path,
                  const json_t *body, kube_api_cb cb, void *data, struct kube_call **ret)
{
    struct kube_call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->api = api;
    c->verb = verb;
    c->method = strdup(method);
    c->path = strdup(path);
    c->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    c->cb = cb;
    c->data = data;
    c->deadline_ms = uv_now(api->host->loop) + (uint64_t)api->retry_timeout_ms;
    if (!c->method || !c->path || (body && !c->body)) {
        call_free(c);
        return -ENOMEM;
    }
    int r = send_call(c);
    if (r < 0) {
        call_free(c);
        return r;
    }
    if (ret)
        *ret = c;
    return 0;
}

void kube_api_cancel(struct kube_call *c)
{
    if (!c)
        return;
    gm_fetch_cancel(c->fetch);
    call_free(c);
}

int kube_api_stream(struct kube_api *api, const char *path, long idle_timeout_ms,
                    gm_fetch_line_cb on_line, gm_fetch_cb done, void *data, struct gm_fetch **ret)
{
    char url[KUBE_PATH_MAX + 512];
    int n = snprintf(url, sizeof(url), "%s%s", api->creds.server, path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return -E2BIG;
    char auth[8192];
    const char *headers[4];
    struct gm_fetch_request req = {
        .url = url,
        .timeout_ms = -1,
        .idle_timeout_ms = idle_timeout_ms,
        .max_response = MAX_RESPONSE,
        .on_line = on_line,
    };
    fill_request(api, &req, auth, sizeof(auth), headers, false);
    api->requests[KUBE_WATCH]++;
    int r = gm_fetch_start(api->host->fetcher, &req, done, data, ret);
    explicit_bzero(auth, sizeof(auth));
    return r;
}

void kube_api_explain(const struct kube_api *api, const struct kube_reply *r, const char *what,
                      char *out, size_t outlen)
{
    if (r->error == -ETIMEDOUT) {
        snprintf(out, outlen,
                 "The Kubernetes API server at %s did not answer in time while %s (%ld s per "
                 "request, %ld s with retries: KubeSpawner.k8s_api_request_timeout, "
                 "k8s_api_request_retry_timeout)",
                 api->creds.server, what, api->timeout_ms / 1000, api->retry_timeout_ms / 1000);
    } else if (r->error || r->status == 0) {
        snprintf(out, outlen, "Cannot reach the Kubernetes API server at %s while %s: %s",
                 api->creds.server, what, r->message && r->message[0] ? r->message : "no answer");
    } else {
        snprintf(out, outlen, "The Kubernetes API refused %s: %.600s (HTTP %d)", what,
                 r->message && r->message[0] ? r->message : "no reason given", r->status);
    }
}
