/* The JWKS cache (<ganymede/jwt.h>) against a tiny HTTP server on loopback, run by the same
 * libuv loop as the hub's fetcher: the first token waits for the fetch, later ones are
 * verified from memory, an unknown kid fetches again at most once per interval, waiters are
 * bounded, and every waiter is completed exactly once (or cancelled). */
#include "test.h"
#include "jwt_sign.h"
#include "loop/fetch.h"

#include <ganymede/jwt.h>
#include <stdio.h>

#define INTERVAL_MS 300

static EVP_PKEY *k1, *k2;

/* The server: answers every request with status and body, or never (hang). */
struct server {
    uv_tcp_t tcp;
    int port;
    int status;
    char *body;
    bool hang;
    int requests;
};

struct conn {
    uv_tcp_t tcp;
    struct server *s;
    char in[8192];
    size_t len;
    bool answered;
    uv_write_t write;
    char *out;
};

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    free(c->out);
    free(c);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    struct conn *c = w->data;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct conn *c = h->data;
    *buf = uv_buf_init(c->in + c->len, (unsigned)(sizeof(c->in) - 1 - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    struct conn *c = st->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)st))
            uv_close((uv_handle_t *)st, on_conn_closed);
        return;
    }
    c->len += (size_t)n;
    c->in[c->len] = '\0';
    if (c->answered || !strstr(c->in, "\r\n\r\n"))
        return;
    c->answered = true;
    c->s->requests++;
    if (c->s->hang)
        return;
    size_t blen = strlen(c->s->body);
    size_t cap = blen + 256;
    c->out = malloc(cap);
    int m = snprintf(c->out, cap,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     c->s->status, blen, c->s->body);
    uv_buf_t out = uv_buf_init(c->out, (unsigned)m);
    c->write.data = c;
    uv_write(&c->write, st, &out, 1, on_written);
}

static void on_connection(uv_stream_t *server, int status)
{
    assert_int_equal(status, 0);
    struct conn *c = calloc(1, sizeof(*c));
    c->s = server->data;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void server_start(uv_loop_t *loop, struct server *s)
{
    memset(s, 0, sizeof(*s));
    s->status = 200;
    s->body = strdup("{\"keys\":[]}");
    uv_tcp_init(loop, &s->tcp);
    s->tcp.data = s;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s->tcp, 16, on_connection), 0);
    struct sockaddr_in bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &len);
    s->port = ntohs(bound.sin_port);
}

/* Serve a JWKS of @a and @b (either may be NULL) under their names. */
static void serve_keys(struct server *s, const char *kid_a, EVP_PKEY *a, const char *kid_b,
                       EVP_PKEY *b)
{
    json_t *list = json_array();
    if (a)
        json_array_append_new(list, jwk_of(a, kid_a, NULL));
    if (b)
        json_array_append_new(list, jwk_of(b, kid_b, NULL));
    free(s->body);
    s->body = jwks_text(list);
    s->status = 200;
}

static void serve(struct server *s, int status, const char *body)
{
    free(s->body);
    s->body = strdup(body);
    s->status = status;
}

/* One test's world: a loop, the hub's fetcher, a host, a server and a cache of its URL. */
struct world {
    uv_loop_t loop;
    struct gm_fetcher *fetcher;
    struct gm_host host;
    struct server server;
    struct gm_jwks_cache *cache;
};

static void world_start(struct world *w, size_t max_waiters)
{
    memset(w, 0, sizeof(*w));
    assert_int_equal(uv_loop_init(&w->loop), 0);
    assert_int_equal(loop_fetch_create(&w->loop, &w->fetcher), 0);
    w->host.loop = &w->loop;
    w->host.fetcher = w->fetcher;
    server_start(&w->loop, &w->server);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks", w->server.port);
    struct gm_jwks_cache_config conf = {
        .url = url,
        .refetch_interval_ms = INTERVAL_MS,
        .max_waiters = max_waiters,
        .timeout_ms = 5000,
    };
    assert_int_equal(gm_jwks_cache_new(&w->host, &conf, &w->cache), 0);
}

static void world_stop(struct world *w)
{
    gm_jwks_cache_free(w->cache);
    if (w->fetcher)
        loop_fetch_destroy(w->fetcher);
    uv_close((uv_handle_t *)&w->server.tcp, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    free(w->server.body);
    assert_int_equal(uv_loop_close(&w->loop), 0);
}

/* What a waiter's callback saw. */
struct outcome {
    int calls;
    int status;
    char sub[32];
    char why[GM_JWT_WHY_MAX];
    struct gm_jwks_wait *cancel; /* cancelled from inside the callback */
};

static void on_verified(void *data, int status, json_t *header, json_t *claims, const char *why)
{
    struct outcome *o = data;
    o->calls++;
    o->status = status;
    snprintf(o->why, sizeof(o->why), "%s", why);
    snprintf(o->sub, sizeof(o->sub), "%s",
             status == 0 ? json_string_value(json_object_get(claims, "sub")) : "");
    if (status == 0)
        assert_non_null(header);
    if (o->cancel)
        gm_jwks_wait_cancel(o->cancel);
}

/* Run the loop until @o has been called back (or 3 s). */
static void wait_for(struct world *w, struct outcome *o)
{
    uint64_t until = uv_now(&w->loop) + 3000;
    while (o->calls == 0 && uv_now(&w->loop) < until)
        uv_run(&w->loop, UV_RUN_ONCE);
    assert_int_equal(o->calls, 1);
}

static void on_timer(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void sleep_loop(struct world *w, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&w->loop, &t);
    uv_timer_start(&t, on_timer, ms, 0);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&w->loop, UV_RUN_NOWAIT);
}

static int verify_async(struct world *w, const char *token, struct outcome *o,
                        struct gm_jwks_wait **wait)
{
    json_t *claims = NULL;
    int r = gm_jwks_cache_verify(w->cache, token, on_verified, o, wait, NULL, &claims, o->why,
                                 sizeof(o->why));
    if (r == 0) {
        snprintf(o->sub, sizeof(o->sub), "%s", json_string_value(json_object_get(claims, "sub")));
        json_decref(claims);
    }
    return r;
}

static const char claims_a[] = "{\"sub\":\"alice\"}";

static void test_fetch_once_then_cached(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, 0);
    serve_keys(&w.server, "k1", k1, NULL, NULL);
    char *t = sign(k1, "RS256", "k1", claims_a);
    struct outcome o = {0};
    assert_int_equal(verify_async(&w, t, &o, NULL), GM_JWKS_PENDING);
    assert_int_equal(o.calls, 0); /* never from inside the call */
    wait_for(&w, &o);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.sub, "alice");
    assert_int_equal(w.server.requests, 1);
    /* From memory now, synchronously. */
    struct outcome o2 = {0};
    assert_int_equal(verify_async(&w, t, &o2, NULL), 0);
    assert_string_equal(o2.sub, "alice");
    assert_non_null(gm_jwks_cache_keys(w.cache));
    assert_int_equal(gm_jwks_cache_prefetch(w.cache), 0); /* cached: nothing to do */
    sleep_loop(&w, 20);
    assert_int_equal(w.server.requests, 1);
    assert_int_equal(o2.calls, 0);
    /* Bad tokens never cause a fetch. */
    char *none = sign_none("k9", claims_a);
    assert_int_equal(verify_async(&w, none, &o2, NULL), -ENOTSUP);
    assert_int_equal(verify_async(&w, "x.y", &o2, NULL), -EBADMSG);
    char *forged = sign(k2, "RS256", "k1", claims_a);
    assert_int_equal(verify_async(&w, forged, &o2, NULL), -EKEYREJECTED);
    assert_int_equal(w.server.requests, 1);
    free(none);
    free(forged);
    free(t);
    world_stop(&w);
}

static void test_prefetch(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, 0);
    serve_keys(&w.server, "k1", k1, NULL, NULL);
    assert_int_equal(gm_jwks_cache_prefetch(w.cache), 0);
    assert_int_equal(gm_jwks_cache_prefetch(w.cache), 0); /* one fetch in flight */
    char *t = sign(k1, "RS256", "k1", claims_a);
    struct outcome o = {0};
    assert_int_equal(verify_async(&w, t, &o, NULL), GM_JWKS_PENDING); /* joins it */
    wait_for(&w, &o);
    assert_int_equal(o.status, 0);
    assert_int_equal(w.server.requests, 1);
    free(t);
    world_stop(&w);
}

static void test_unknown_kid_is_rate_limited(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, 0);
    serve_keys(&w.server, "k1", k1, NULL, NULL);
    char *t1 = sign(k1, "RS256", "k1", claims_a), *t2 = sign(k2, "PS256", "k2", claims_a);
    struct outcome o = {0};
    assert_int_equal(verify_async(&w, t1, &o, NULL), GM_JWKS_PENDING);
    wait_for(&w, &o);
    /* k2 is unknown: one fetch, which does not have it either. */
    struct outcome o2 = {0};
    assert_int_equal(verify_async(&w, t2, &o2, NULL), GM_JWKS_PENDING);
    wait_for(&w, &o2);
    assert_int_equal(o2.status, -ENOKEY);
    assert_non_null(strstr(o2.why, "no key \"k2\""));
    assert_int_equal(w.server.requests, 2);
    /* The provider publishes k2 now, but the interval has not passed: no fetch. */
    serve_keys(&w.server, "k1", k1, "k2", k2);
    struct outcome o3 = {0};
    assert_int_equal(verify_async(&w, t2, &o3, NULL), -ENOKEY);
    assert_non_null(strstr(o3.why, "fetched again"));
    assert_int_equal(verify_async(&w, t1, &o3, NULL), 0); /* known keys still work */
    sleep_loop(&w, 20);
    assert_int_equal(w.server.requests, 2);
    assert_int_equal(o3.calls, 0);
    /* After the interval, one fetch finds it. */
    sleep_loop(&w, INTERVAL_MS + 20);
    struct outcome o4 = {0};
    assert_int_equal(verify_async(&w, t2, &o4, NULL), GM_JWKS_PENDING);
    wait_for(&w, &o4);
    assert_int_equal(o4.status, 0);
    assert_int_equal(w.server.requests, 3);
    struct outcome o5 = {0};
    assert_int_equal(verify_async(&w, t2, &o5, NULL), 0);
    assert_int_equal(verify_async(&w, t1, &o5, NULL), 0);
    free(t1);
    free(t2);
    world_stop(&w);
}

static void test_waiters_bounded_and_cancelled(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, 3);
    serve_keys(&w.server, "k1", k1, NULL, NULL);
    char *t = sign(k1, "RS256", "k1", claims_a);
    struct outcome o[4] = {{0}};
    struct gm_jwks_wait *wait[4] = {NULL};
    for (int i = 0; i < 3; i++)
        assert_int_equal(verify_async(&w, t, &o[i], &wait[i]), GM_JWKS_PENDING);
    assert_int_equal(verify_async(&w, t, &o[3], &wait[3]), -EBUSY);
    assert_non_null(strstr(o[3].why, "3 tokens wait"));
    /* The first waiter's callback cancels the third; the second is cancelled now. */
    o[0].cancel = wait[2];
    gm_jwks_wait_cancel(wait[1]);
    wait_for(&w, &o[0]);
    sleep_loop(&w, 20);
    assert_int_equal(o[0].status, 0);
    assert_int_equal(o[1].calls, 0);
    assert_int_equal(o[2].calls, 0);
    assert_int_equal(o[3].calls, 0);
    assert_int_equal(w.server.requests, 1);
    free(t);
    world_stop(&w);
}

static void test_fetch_failures(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, 0);
    serve(&w.server, 500, "{}");
    char *t = sign(k1, "RS256", "k1", claims_a);
    struct outcome o = {0};
    assert_int_equal(verify_async(&w, t, &o, NULL), GM_JWKS_PENDING);
    wait_for(&w, &o);
    assert_int_equal(o.status, -EPROTO);
    assert_non_null(strstr(o.why, "HTTP 500"));
    /* Right after a failure the error stands, without a fetch. */
    struct outcome o2 = {0};
    assert_int_equal(verify_async(&w, t, &o2, NULL), -EPROTO);
    assert_non_null(strstr(o2.why, "ms ago"));
    assert_int_equal(w.server.requests, 1);
    /* Not a key set. */
    sleep_loop(&w, INTERVAL_MS + 20);
    serve(&w.server, 200, "<html>");
    struct outcome o3 = {0};
    assert_int_equal(verify_async(&w, t, &o3, NULL), GM_JWKS_PENDING);
    wait_for(&w, &o3);
    assert_int_equal(o3.status, -EPROTO);
    assert_non_null(strstr(o3.why, "not usable"));
    /* And then a good one. */
    sleep_loop(&w, INTERVAL_MS + 20);
    serve_keys(&w.server, "k1", k1, NULL, NULL);
    struct outcome o4 = {0};
    assert_int_equal(verify_async(&w, t, &o4, NULL), GM_JWKS_PENDING);
    wait_for(&w, &o4);
    assert_int_equal(o4.status, 0);
    assert_int_equal(w.server.requests, 3);
    free(t);
    world_stop(&w);
}

static void test_connection_refused(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct gm_fetcher *f = NULL;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(loop_fetch_create(&loop, &f), 0);
    struct gm_host host = {.loop = &loop, .fetcher = f};
    struct gm_jwks_cache *c = NULL;
    struct gm_jwks_cache_config conf = {.url = "http://127.0.0.1:1/jwks"};
    assert_int_equal(gm_jwks_cache_new(&host, &conf, &c), 0);
    char *t = sign(k1, "RS256", "k1", claims_a);
    struct outcome o = {0};
    assert_int_equal(gm_jwks_cache_verify(c, t, on_verified, &o, NULL, NULL, NULL, NULL, 0),
                     GM_JWKS_PENDING);
    while (o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(o.status == -ECONNREFUSED || o.status == -EIO);
    assert_non_null(strstr(o.why, "could not be fetched"));
    /* Bad settings. */
    struct gm_jwks_cache *bad = NULL;
    struct gm_jwks_cache_config ftp = {.url = "ftp://x/jwks"};
    assert_int_equal(gm_jwks_cache_new(&host, &ftp, &bad), -EINVAL);
    assert_int_equal(gm_jwks_cache_verify(c, NULL, on_verified, &o, NULL, NULL, NULL, NULL, 0),
                     -EINVAL);
    gm_jwks_cache_free(c);
    gm_jwks_cache_free(NULL);
    free(t);
    loop_fetch_destroy(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_shutdown(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, 0);
    w.server.hang = true;
    char *t = sign(k1, "RS256", "k1", claims_a);
    /* Freeing the cache completes its waiters with -ECANCELED, once. */
    struct outcome o = {0};
    assert_int_equal(verify_async(&w, t, &o, NULL), GM_JWKS_PENDING);
    while (w.server.requests == 0)
        uv_run(&w.loop, UV_RUN_ONCE);
    gm_jwks_cache_free(w.cache);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, -ECANCELED);
    /* So does the hub's fetcher shutting down under a cache. */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/jwks", w.server.port);
    struct gm_jwks_cache_config conf = {.url = url};
    assert_int_equal(gm_jwks_cache_new(&w.host, &conf, &w.cache), 0);
    struct outcome o2 = {0};
    assert_int_equal(verify_async(&w, t, &o2, NULL), GM_JWKS_PENDING);
    loop_fetch_destroy(w.fetcher);
    w.fetcher = NULL;
    w.host.fetcher = NULL;
    uv_run(&w.loop, UV_RUN_NOWAIT);
    assert_int_equal(o2.calls, 1);
    assert_int_equal(o2.status, -ECANCELED);
    /* Afterwards there is nothing to fetch with. */
    sleep_loop(&w, INTERVAL_MS + 20);
    gm_jwks_cache_free(w.cache);
    assert_int_equal(gm_jwks_cache_new(&w.host, &conf, &w.cache), 0);
    struct outcome o3 = {0};
    assert_int_equal(verify_async(&w, t, &o3, NULL), -ESHUTDOWN);
    assert_int_equal(gm_jwks_cache_prefetch(w.cache), -ESHUTDOWN);
    assert_int_equal(o2.calls + o3.calls, 1);
    free(t);
    world_stop(&w);
}

static int setup(void **state)
{
    (void)state;
    k1 = EVP_RSA_gen(2048);
    k2 = EVP_RSA_gen(2048);
    return k1 && k2 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_once_then_cached),
        cmocka_unit_test(test_prefetch),
        cmocka_unit_test(test_unknown_kid_is_rate_limited),
        cmocka_unit_test(test_waiters_bounded_and_cancelled),
        cmocka_unit_test(test_fetch_failures),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
