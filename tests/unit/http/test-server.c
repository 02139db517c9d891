/* The HTTP server on a real loop, driven by the hub's own outgoing HTTP (curl multi on the same
 * loop): a suspended request completes later while other requests are served meanwhile. */
#include "test.h"
#include "http/server.h"
#include "loop/fetch.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

struct ctx {
    uv_loop_t loop;
    struct http_server *server;
    struct gm_fetcher *fetcher;
    int port;
    char order[16]; /* which responses arrived, in order */
    int statuses[8];
    char bodies[8][256];
    int pending;
    uv_timer_t slow_timer;
    struct http_request *slow_req;
    bool closed;
};

static struct ctx *g; /* the test's context, for handlers */

static int h_fast(struct http_request *req)
{
    return http_respond(req, 200, "text/plain", "fast", 4);
}

static void slow_done(uv_timer_t *t)
{
    struct http_request *req = g->slow_req;
    g->slow_req = NULL;
    req->detach = NULL;
    http_respond(req, 200, "text/plain", "slow", 4);
    http_resume(req);
}

static void slow_detach(struct http_request *req)
{
    g->slow_req = NULL;
    uv_timer_stop(&g->slow_timer);
}

static int h_slow(struct http_request *req)
{
    g->slow_req = req;
    req->detach = slow_detach;
    uv_timer_start(&g->slow_timer, slow_done, 150, 0);
    assert_int_equal(http_suspend(req, 5000), 0);
    return HTTP_SUSPENDED;
}

static int h_hang(struct http_request *req)
{
    assert_int_equal(http_suspend(req, 50), 0);
    return HTTP_SUSPENDED;
}

static int h_json(struct http_request *req)
{
    json_t *v = NULL;
    if (http_body_json(req, &v) < 0)
        return 0;
    return http_respond_json(req, 200, json_pack("{s:o}", "got", v ? v : json_null()));
}

static const struct http_route routes[] = {
    {"fast", HTTP_GET, h_fast, 0},
    {"slow", HTTP_GET, h_slow, 0},
    {"hang", HTTP_GET, h_hang, HTTP_ROUTE_API},
    {"json", HTTP_POST, h_json, HTTP_ROUTE_API},
    {NULL, 0, NULL, 0},
};

static void on_response(void *data, const struct gm_fetch_response *resp)
{
    int i = (int)(intptr_t)data;
    g->statuses[i] = resp->status;
    snprintf(g->bodies[i], sizeof(g->bodies[i]), "%s", resp->body);
    size_t n = strlen(g->order);
    g->order[n] = (char)('0' + i);
    g->order[n + 1] = '\0';
    g->pending--;
}

static void fetch(int i, const char *method, const char *path, const char *body, size_t len)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", g->port, path);
    const char *headers[] = {"Content-Type: application/json", NULL};
    struct gm_fetch_request r = {
        .method = method, .url = url, .body = body, .body_len = len, .headers = headers};
    assert_int_equal(gm_fetch_start(g->fetcher, &r, on_response, (void *)(intptr_t)i, NULL), 0);
    g->pending++;
}

static void run_until_done(void)
{
    for (int i = 0; i < 1000 && g->pending > 0; i++)
        uv_run(&g->loop, UV_RUN_ONCE);
    assert_int_equal(g->pending, 0);
}

static int setup(void **state)
{
    g = calloc(1, sizeof(*g));
    uv_loop_init(&g->loop);
    uv_timer_init(&g->loop, &g->slow_timer);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct http_server_options opts = {.base_url = "/",
                                       .max_body = 1024,
                                       .max_url = 512,
                                       .max_header = 8192,
                                       .max_json_depth = 4,
                                       .connection_limit = 100,
                                       .connection_timeout = 10};
    char err[256];
    int r = http_server_create(&g->loop, (struct sockaddr *)&sin, sizeof(sin), &opts, routes, NULL,
                               &g->server, err, sizeof(err));
    if (r < 0)
        fail_msg("%s", err);
    g->port = http_server_port(g->server);
    assert_int_equal(loop_fetch_create(&g->loop, &g->fetcher), 0);
    *state = g;
    return 0;
}

static void on_closed(void *data)
{
    g->closed = true;
}

static int teardown(void **state)
{
    http_server_shutdown(g->server, 1000, on_closed, NULL);
    loop_fetch_destroy(g->fetcher);
    uv_close((uv_handle_t *)&g->slow_timer, NULL);
    for (int i = 0; i < 1000 && !g->closed; i++)
        uv_run(&g->loop, UV_RUN_ONCE);
    uv_run(&g->loop, UV_RUN_DEFAULT);
    assert_true(g->closed);
    assert_int_equal(uv_loop_close(&g->loop), 0); /* every handle was closed */
    free(g);
    return 0;
}

static void test_suspend_does_not_block_others(void **state)
{
    fetch(0, "GET", "/slow", NULL, 0);
    /* Let the slow request reach its handler before the fast one is sent. */
    for (int i = 0; i < 50 && !g->slow_req; i++)
        uv_run(&g->loop, UV_RUN_ONCE);
    assert_non_null(g->slow_req);
    fetch(1, "GET", "/fast", NULL, 0);
    fetch(2, "GET", "/fast", NULL, 0);
    run_until_done();
    /* Both fast requests were answered while the slow one waited. */
    assert_string_equal(g->order + 2, "0");
    assert_int_equal(g->statuses[0], 200);
    assert_string_equal(g->bodies[0], "slow");
    assert_int_equal(g->statuses[1], 200);
    assert_string_equal(g->bodies[1], "fast");
}

static void test_suspend_timeout(void **state)
{
    fetch(0, "GET", "/hang", NULL, 0);
    run_until_done();
    assert_int_equal(g->statuses[0], 504);
    assert_non_null(strstr(g->bodies[0], "\"status\":504"));
}

static void test_bodies(void **state)
{
    fetch(0, "POST", "/json", "{\"a\": [1]}", 10);
    char big[2048];
    memset(big, ' ', sizeof(big));
    fetch(1, "POST", "/json", big, sizeof(big));
    fetch(2, "POST", "/json", "{not json", 9);
    fetch(3, "POST", "/json", "[[[[[[1]]]]]]", 13);
    fetch(4, "GET", "/nowhere", NULL, 0);
    fetch(5, "DELETE", "/fast", NULL, 0);
    run_until_done();
    assert_int_equal(g->statuses[0], 200);
    assert_string_equal(g->bodies[0], "{\"got\":{\"a\":[1]}}");
    assert_int_equal(g->statuses[1], 413);
    assert_int_equal(g->statuses[2], 400);
    assert_non_null(strstr(g->bodies[2], "Invalid JSON"));
    assert_int_equal(g->statuses[3], 400);
    assert_non_null(strstr(g->bodies[3], "nested more than 4"));
    assert_int_equal(g->statuses[4], 404);
    assert_int_equal(g->statuses[5], 405);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_suspend_does_not_block_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bodies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
