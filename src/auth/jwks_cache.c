/* A key set fetched from a URL and kept (struct gm_jwks_cache in <ganymede/jwt.h>): the keys
 * of an OpenID provider or an LTI platform. Tokens are verified from memory; a token naming a
 * kid the set lacks (a key rotation) makes one fetch, which every token arriving meanwhile
 * waits for, and such fetches are at most one per interval so that forged kids cannot make
 * the hub hammer the provider. */
#include <errno.h>
#include <ganymede/jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_INTERVAL_MS 5000
#define DEFAULT_WAITERS     64
#define USER_AGENT          "User-Agent: Ganymede (JupyterHub-compatible)"

struct gm_jwks_wait {
    struct gm_jwks_cache *c;
    struct gm_jwks_wait *next;
    gm_jwks_verify_cb cb;
    void *data;
    char token[]; /* a copy */
};

struct gm_jwks_cache {
    const struct gm_host *host;
    char *url, *ca_file;
    long interval_ms, timeout_ms, connect_timeout_ms;
    size_t max_waiters;
    bool insecure;

    struct gm_jwks *keys;              /* NULL until a fetch succeeds */
    struct gm_fetch *fetch;            /* in flight, or NULL */
    struct gm_jwks_wait *waiting;      /* for that fetch, in arrival order */
    struct gm_jwks_wait **waiting_end; /* where the next one goes */
    struct gm_jwks_wait *completing;   /* being called back */
    size_t n_waiting;

    bool refetched; /* a fetch for an unknown kid happened, at refetched_ms */
    uint64_t refetched_ms;
    int failed; /* the last fetch's error (0 when it worked), at failed_ms */
    uint64_t failed_ms;
    char error[GM_JWT_WHY_MAX]; /* what went wrong then */
};

static bool http_url(const char *url)
{
    return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0);
}

static char *dup_or_null(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = false;
    return d;
}

int gm_jwks_cache_new(const struct gm_host *host, const struct gm_jwks_cache_config *conf,
                      struct gm_jwks_cache **ret)
{
    if (!host || !conf || !ret || !http_url(conf->url))
        return -EINVAL;
    struct gm_jwks_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    bool ok = true;
    c->host = host;
    c->url = dup_or_null(conf->url, &ok);
    c->ca_file = dup_or_null(conf->ca_file, &ok);
    c->interval_ms =
        conf->refetch_interval_ms > 0 ? conf->refetch_interval_ms : DEFAULT_INTERVAL_MS;
    c->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 10000;
    c->connect_timeout_ms = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms : 5000;
    c->max_waiters = conf->max_waiters ? conf->max_waiters : DEFAULT_WAITERS;
    c->insecure = conf->insecure;
    c->waiting_end = &c->waiting;
    if (!ok) {
        gm_jwks_cache_free(c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

/* Call back and free every waiter of the fetch that ended (@status < 0: its error). */
static void complete_waiters(struct gm_jwks_cache *c, int status, const char *message)
{
    c->completing = c->waiting;
    c->waiting = NULL;
    c->waiting_end = &c->waiting;
    c->n_waiting = 0;
    while (c->completing) {
        struct gm_jwks_wait *w = c->completing;
        c->completing = w->next;
        char why[GM_JWT_WHY_MAX];
        json_t *header = NULL, *claims = NULL;
        int r = status;
        if (r == 0)
            r = gm_jwt_verify(c->keys, w->token, &header, &claims, why, sizeof(why));
        else
            snprintf(why, sizeof(why), "%s", message);
        w->cb(w->data, r, header, claims, why);
        json_decref(header);
        json_decref(claims);
        free(w);
    }
}

static void on_fetch(void *data, const struct gm_fetch_response *resp)
{
    struct gm_jwks_cache *c = data;
    c->fetch = NULL;
    int status = 0;
    char err[200] = "";
    if (resp->error) {
        status = resp->error;
        snprintf(c->error, sizeof(c->error), "the key set at %.100s could not be fetched: %.150s",
                 c->url, resp->error == -ETIMEDOUT ? "timed out" : resp->message);
    } else if (resp->status != 200) {
        status = -EPROTO;
        snprintf(c->error, sizeof(c->error), "the key set at %.120s answered HTTP %d", c->url,
                 resp->status);
    } else {
        struct gm_jwks *keys = NULL;
        status = gm_jwks_parse(resp->body, resp->body_len, &keys, err, sizeof(err));
        if (status == 0) {
            gm_jwks_free(c->keys);
            c->keys = keys;
        } else {
            if (status != -ENOMEM)
                status = -EPROTO;
            snprintf(c->error, sizeof(c->error), "the key set at %.100s is not usable: %.150s",
                     c->url, err);
        }
    }
    c->failed = status;
    if (status < 0)
        c->failed_ms = uv_now(c->host->loop);
    else
        c->error[0] = '\0';
    complete_waiters(c, status, c->error);
}

static int start_fetch(struct gm_jwks_cache *c)
{
    static const char *const headers[] = {"Accept: application/jwk-set+json, application/json",
                                          USER_AGENT, NULL};
    struct gm_fetch_request req = {
        .url = c->url,
        .headers = headers,
        .timeout_ms = c->timeout_ms,
        .connect_timeout_ms = c->connect_timeout_ms,
        .max_response = GM_JWKS_MAX_DOC,
        .ca_file = c->ca_file,
        .insecure = c->insecure,
    };
    if (!c->host->fetcher)
        return -ESHUTDOWN;
    return gm_fetch_start(c->host->fetcher, &req, on_fetch, c, &c->fetch);
}

void gm_jwks_cache_free(struct gm_jwks_cache *c)
{
    if (!c)
        return;
    if (c->fetch)
        gm_fetch_cancel(c->fetch);
    c->fetch = NULL;
    complete_waiters(c, -ECANCELED, "the key set is no longer fetched (shutting down)");
    gm_jwks_free(c->keys);
    free(c->url);
    free(c->ca_file);
    free(c);
}

int gm_jwks_cache_prefetch(struct gm_jwks_cache *c)
{
    if (!c)
        return -EINVAL;
    if (c->keys || c->fetch)
        return 0;
    return start_fetch(c);
}

const struct gm_jwks *gm_jwks_cache_keys(const struct gm_jwks_cache *c)
{
    return c ? c->keys : NULL;
}

/* Whether a token that needs a fetch may have one now; if not, why not. */
static int may_fetch(struct gm_jwks_cache *c, int verified, char *why, size_t whylen)
{
    uint64_t now = uv_now(c->host->loop);
    if (!c->keys && c->failed && now - c->failed_ms < (uint64_t)c->interval_ms) {
        if (why && whylen)
            snprintf(why, whylen, "%s (%llu ms ago)", c->error,
                     (unsigned long long)(now - c->failed_ms));
        return c->failed;
    }
    if (c->keys && c->refetched && now - c->refetched_ms < (uint64_t)c->interval_ms) {
        size_t n = why ? strlen(why) : 0;
        if (why && n < whylen)
            snprintf(why + n, whylen - n, " (fetched again %llu ms ago)",
                     (unsigned long long)(now - c->refetched_ms));
        return verified;
    }
    return 0;
}

int gm_jwks_cache_verify(struct gm_jwks_cache *c, const char *token, gm_jwks_verify_cb cb,
                         void *data, struct gm_jwks_wait **ret_wait, json_t **ret_header,
                         json_t **ret_claims, char *why, size_t whylen)
{
    if (!c || !token || !cb)
        return -EINVAL;
    int r = gm_jwt_verify(c->keys, token, ret_header, ret_claims, why, whylen);
    if (r != -ENOKEY)
        return r;
    if (c->n_waiting >= c->max_waiters) {
        if (why && whylen)
            snprintf(why, whylen, "%zu tokens wait for the key set at %.120s already", c->n_waiting,
                     c->url);
        return -EBUSY;
    }
    size_t len = strlen(token); /* at most GM_JWT_MAX_TOKEN: gm_jwt_verify checked */
    struct gm_jwks_wait *w = malloc(sizeof(*w) + len + 1);
    if (!w)
        return -ENOMEM;
    if (!c->fetch) {
        r = may_fetch(c, r, why, whylen);
        if (r == 0) {
            bool refetch = c->keys != NULL;
            r = start_fetch(c);
            if (r == 0 && refetch) {
                c->refetched = true;
                c->refetched_ms = uv_now(c->host->loop);
            } else if (r < 0 && why && whylen) {
                snprintf(why, whylen, "the key set at %.120s could not be fetched: %s", c->url,
                         strerror(-r));
            }
        }
        if (r < 0) {
            free(w);
            return r;
        }
    }
    w->c = c;
    w->cb = cb;
    w->data = data;
    w->next = NULL;
    memcpy(w->token, token, len + 1);
    *c->waiting_end = w;
    c->waiting_end = &w->next;
    c->n_waiting++;
    if (ret_wait)
        *ret_wait = w;
    return GM_JWKS_PENDING;
}

static bool unlink_from(struct gm_jwks_wait **list, struct gm_jwks_wait *w)
{
    for (struct gm_jwks_wait **p = list; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return true;
        }
    return false;
}

void gm_jwks_wait_cancel(struct gm_jwks_wait *w)
{
    if (!w)
        return;
    struct gm_jwks_cache *c = w->c;
    if (unlink_from(&c->waiting, w)) {
        c->n_waiting--;
        c->waiting_end = &c->waiting;
        while (*c->waiting_end)
            c->waiting_end = &(*c->waiting_end)->next;
        free(w);
    } else if (unlink_from(&c->completing, w)) {
        free(w); /* cancelled by an earlier waiter's callback */
    }
}
