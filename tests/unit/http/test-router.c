#include "test.h"
#include "http/router.h"

static int h1(struct http_request *r)
{
    return 0;
}
static int h2(struct http_request *r)
{
    return 0;
}
static int h3(struct http_request *r)
{
    return 0;
}

static const struct http_route routes[] = {
    {"hub/api/users/{}", HTTP_GET | HTTP_DELETE, h1, HTTP_ROUTE_API},
    {"hub/api/users/{}/servers/{?}", HTTP_POST, h2, HTTP_ROUTE_API},
    {"hub/static/**", HTTP_GET, h3, 0},
    {NULL, 0, NULL, 0},
};

static struct http_request *req_for(const char *path, enum http_method m)
{
    struct http_request *req = calloc(1, sizeof(*req));
    arena_init(&req->arena, req->arena_initial, sizeof(req->arena_initial), 1 << 20);
    req->path = path;
    req->method = m;
    return req;
}

static void done(struct http_request *req)
{
    arena_free(&req->arena);
    free(req);
}

static void test_match_and_decode(void **state)
{
    struct http_router *r;
    assert_int_equal(http_router_create("/jh/", routes, &r), 0);
    const struct http_route *route;
    unsigned allowed;
    struct http_request *req = req_for("/jh/hub/api/users/al%2Fice", HTTP_GET);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_OK);
    assert_ptr_equal(route->handler, h1);
    assert_string_equal(req->params[0], "al/ice"); /* %2F stays inside the segment */
    done(req);

    req = req_for("/jh/hub/api/users/bob/servers/", HTTP_POST);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_OK);
    assert_ptr_equal(route->handler, h2);
    assert_string_equal(req->params[0], "bob");
    assert_string_equal(req->params[1], ""); /* {?} may be empty */
    done(req);

    req = req_for("/jh/hub/static/js/a%20b.js", HTTP_GET);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_OK);
    assert_string_equal(req->params[0], "js/a%20b.js"); /* ** stays raw */
    done(req);
    http_router_free(r);
}

static void test_no_match(void **state)
{
    struct http_router *r;
    assert_int_equal(http_router_create("/", routes, &r), 0);
    const struct http_route *route;
    unsigned allowed;
    struct http_request *req = req_for("/hub/api/users/", HTTP_GET);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_NONE);
    done(req);
    req = req_for("/hub/api/users/x", HTTP_PUT);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_METHOD);
    assert_int_equal(allowed, HTTP_GET | HTTP_DELETE);
    done(req);
    req = req_for("/hub/api/users/%zz", HTTP_GET);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_BAD_ENCODING);
    done(req);
    req = req_for("/other/hub/api/users/x", HTTP_GET);
    assert_int_equal(http_router_match(r, req, &route, &allowed), HTTP_MATCH_NONE);
    done(req);
    http_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_match_and_decode),
                                       cmocka_unit_test(test_no_match)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
