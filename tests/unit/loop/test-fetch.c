/* Outgoing HTTP on a real loop against a scripted loopback server on the same loop: collected
 * bodies, streamed lines split across writes, a reader that ends the stream or cancels it from
 * its own line callback, the per-line cap, and the idle timeout. */
#include "test.h"
#include "loop/fetch.h"

#include <ganymede/timer.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The server: answers one connection with @parts, each written @gap_ms after the previous. */
struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_tcp_t client;
    uv_timer_t timer;
    const char *const *parts;
    size_t next;
    uint64_t gap_ms;
    bool accepted;
    bool got_request;
    int port;
    char url[64];
};

static void on_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void write_next(uv_timer_t *t)
{
    struct server *s = t->data;
    const char *p = s->parts[s->next];
    if (!p)
        return; /* all written: the client ends it (or times out) */
    s->next++;
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)strlen(p));
    if (w && uv_write(w, (uv_stream_t *)&s->client, &b, 1, on_write) < 0)
        free(w);
    uv_timer_start(&s->timer, write_next, s->gap_ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    static char space[65536];
    (void)n;
    *b = uv_buf_init(space, sizeof(space));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct server *s = st->data;
    if (n > 0 && !s->got_request && memmem(b->base, (size_t)n, "\r\n\r\n", 4)) {
        s->got_request = true;
        uv_timer_start(&s->timer, write_next, 0, 0);
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    struct server *s = l->data;
    if (status < 0 || s->accepted)
        return;
    s->accepted = true;
    uv_tcp_init(s->loop, &s->client);
    s->client.data = s;
    if (uv_accept(l, (uv_stream_t *)&s->client) == 0)
        uv_read_start((uv_stream_t *)&s->client, on_alloc, on_read);
}

static void server_start(struct server *s, uv_loop_t *loop, const char *const *parts,
                         uint64_t gap_ms)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->parts = parts;
    s->gap_ms = gap_ms;
    uv_tcp_init(loop, &s->listener);
    uv_timer_init(loop, &s->timer);
    s->listener.data = s->timer.data = s;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_eq(uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0), 0);
    assert_int_eq(uv_listen((uv_stream_t *)&s->listener, 8, on_connection), 0);
    struct sockaddr_in got;
    int len = sizeof(got);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &len);
    s->port = ntohs(got.sin_port);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/watch", s->port);
}

static void server_stop(struct server *s)
{
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->timer, NULL);
    if (s->accepted)
        uv_close((uv_handle_t *)&s->client, NULL);
}

/* The client side. */
struct seen {
    struct gm_fetcher *fetcher;
    struct gm_fetch *fetch;
    char lines[8][64];
    int n_lines;
    int line_status;
    int stop_after; /* return 1 after this many lines (0: never) */
    bool cancel_in_line;
    int done;
    int status;
    int error;
    char body[256];
    struct server *server;
    bool https;
};

static void finish_later(void *data)
{
    struct seen *s = data;
    server_stop(s->server);
    loop_fetch_destroy(s->fetcher);
}

static int on_line(void *data, int status, const char *line, size_t len)
{
    struct seen *s = data;
    assert_int_eq(strlen(line), len);
    if (s->n_lines < 8)
        snprintf(s->lines[s->n_lines], sizeof(s->lines[0]), "%s", line);
    s->n_lines++;
    s->line_status = status;
    if (s->cancel_in_line) {
        gm_fetch_cancel(s->fetch);
        assert_int_eq(gm_timer_start(s->server->loop, 0, 0, finish_later, s, NULL), 0);
        return 0;
    }
    return s->stop_after && s->n_lines >= s->stop_after;
}

static void on_done(void *data, const struct gm_fetch_response *resp)
{
    struct seen *s = data;
    s->done++;
    s->status = resp->status;
    s->error = resp->error;
    snprintf(s->body, sizeof(s->body), "%s", resp->body);
    server_stop(s->server);
    loop_fetch_destroy(s->fetcher);
}

static void run(const char *const *parts, uint64_t gap_ms, struct gm_fetch_request *req,
                struct seen *seen)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct server srv;
    server_start(&srv, &loop, parts, gap_ms);
    seen->server = &srv;
    assert_int_eq(loop_fetch_create(&loop, &seen->fetcher), 0);
    char url[80];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", srv.port);
    req->url = seen->https ? url : srv.url;
    assert_int_eq(gm_fetch_start(seen->fetcher, req, on_done, seen, &seen->fetch), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_eq(uv_loop_close(&loop), 0);
}

static const char *const stream[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: application/json\r\n\r\n",
    "a\r\nbb\n",
    "cc",
    "c\n\n",
    "last",
    NULL,
};

static void test_collected_body(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_fetch_request req = {.timeout_ms = 10000};
    run(stream, 5, &req, &s);
    assert_int_eq(s.done, 1);
    assert_int_eq(s.error, 0);
    assert_int_eq(s.status, 200);
    assert_string_equal(s.body, "a\r\nbb\nccc\n\nlast");
}

static void test_streamed_lines(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_fetch_request req = {.timeout_ms = -1, .idle_timeout_ms = 10000, .on_line = on_line};
    run(stream, 5, &req, &s);
    assert_int_eq(s.done, 1);
    assert_int_eq(s.error, 0);
    assert_int_eq(s.status, 200);
    assert_string_equal(s.body, ""); /* nothing collected */
    assert_int_eq(s.n_lines, 5);
    assert_string_equal(s.lines[0], "a"); /* the \r went with the \n */
    assert_string_equal(s.lines[1], "bb");
    assert_string_equal(s.lines[2], "ccc"); /* put together across writes */
    assert_string_equal(s.lines[3], "");
    assert_string_equal(s.lines[4], "last"); /* unterminated, at the end */
    assert_int_eq(s.line_status, 200);
}

static void test_reader_ends_the_stream(void **state)
{
    (void)state;
    struct seen s = {.stop_after = 2};
    struct gm_fetch_request req = {.timeout_ms = 10000, .on_line = on_line};
    run(stream, 5, &req, &s);
    assert_int_eq(s.done, 1);
    assert_int_eq(s.error, -ECANCELED);
    assert_int_eq(s.n_lines, 2);
}

static void test_cancel_from_the_line_callback(void **state)
{
    (void)state;
    struct seen s = {.cancel_in_line = true};
    struct gm_fetch_request req = {.timeout_ms = 10000, .on_line = on_line};
    run(stream, 5, &req, &s);
    assert_int_eq(s.n_lines, 1);
    assert_int_eq(s.done, 0); /* a cancelled fetch completes never */
}

static void test_line_over_the_cap(void **state)
{
    (void)state;
    static const char *const longline[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "4\r\nok\r\n\r\n",
        "10\r\n0123456789abcdef\r\n",
        "0\r\n\r\n",
        NULL,
    };
    struct seen s = {0};
    struct gm_fetch_request req = {.timeout_ms = 10000, .max_response = 8, .on_line = on_line};
    run(longline, 5, &req, &s);
    assert_int_eq(s.n_lines, 1);
    assert_string_equal(s.lines[0], "ok");
    assert_int_eq(s.done, 1);
    assert_int_eq(s.error, -E2BIG);
}

static void test_idle_stream_times_out(void **state)
{
    (void)state;
    static const char *const stalls[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "6\r\nevent\n\r\n",
        NULL, /* then nothing, with the connection open */
    };
    struct seen s = {0};
    struct gm_fetch_request req = {.timeout_ms = -1, .idle_timeout_ms = 1000, .on_line = on_line};
    run(stalls, 5, &req, &s);
    assert_int_eq(s.n_lines, 1);
    assert_string_equal(s.lines[0], "event");
    assert_int_eq(s.done, 1);
    assert_int_eq(s.error, -ETIMEDOUT);
}

static void test_bad_tls_material_fails_the_fetch(void **state)
{
    (void)state;
    /* PEM text that is no certificate fails the fetch with a message, not the hub. */
    static const char *const nothing[] = {NULL};
    struct seen s = {.https = true};
    struct gm_fetch_request req = {.timeout_ms = 10000,
                                   .ca_pem = "-----BEGIN CERTIFICATE-----\nnot one\n"
                                             "-----END CERTIFICATE-----\n",
                                   .cert_pem = "garbage",
                                   .key_pem = "garbage"};
    run(nothing, 5, &req, &s);
    assert_int_eq(s.done, 1);
    assert_int_eq(s.error, -EIO);
    assert_int_eq(s.status, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collected_body),
        cmocka_unit_test(test_streamed_lines),
        cmocka_unit_test(test_reader_ends_the_stream),
        cmocka_unit_test(test_cancel_from_the_line_callback),
        cmocka_unit_test(test_line_over_the_cap),
        cmocka_unit_test(test_idle_stream_times_out),
        cmocka_unit_test(test_bad_tls_material_fails_the_fetch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
