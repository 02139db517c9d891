/* The Docker spawner's pure parts (spawners/docker/docker_body.c, docker_kwargs.c,
 * docker_text.c): the container create body, names and templates, docker-py argument names,
 * image names, the server's address from an inspect, log tails. No engine needed. */
#include "test.h"
#include "spawners/docker/docker.h"

#include <stdlib.h>

/* A configuration as the option table's defaults leave it. */
static void conf_defaults(struct docker_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->image = "hubtest/hostusr:latest";
    c->name_template = "";
    c->prefix = "jupyter";
    c->escape = "";
    c->network_name = "bridge";
    c->host_ip = "";
    c->pull_policy = "ifnotpresent";
}

static const struct docker_ns alice_ns = {
    .username = "alice",
    .raw_username = "alice",
    .servername = "",
    .raw_servername = "",
    .imagename = "hubtest-hostusr-latest",
    .prefix = "jupyter",
};

static const char *const alice_env[] = {"JUPYTERHUB_USER=alice", "JUPYTERHUB_API_TOKEN=secret",
                                        NULL};

static struct docker_create alice_create(void)
{
    struct docker_create cr = {
        .image = "hubtest/hostusr:latest",
        .env = alice_env,
        .ns = &alice_ns,
        .user = "alice",
        .server_name = "",
        .port = 8888,
        .host_ip = "127.0.0.1",
    };
    return cr;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad JSON in the test: %s: %s", text, e.text);
    return v;
}

/* The string at a dotted path: "HostConfig.NetworkMode". */
static const char *str_at(const json_t *v, const char *path)
{
    const json_t *cur = v;
    while (cur && *path) {
        size_t n = strcspn(path, ".");
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        cur = json_object_get(cur, key);
        path += n + (path[n] == '.');
    }
    return json_string_value(cur);
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", g, w);
    }
    json_decref(want);
}

static void test_default_body(void **state)
{
    struct docker_conf c;
    conf_defaults(&c);
    struct docker_create cr = alice_create();
    char err[512] = "";
    json_t *body = docker_create_body(&c, &cr, err, sizeof(err));
    assert_non_null(body);
    assert_string_equal(str_at(body, "Image"), "hubtest/hostusr:latest");
    assert_null(json_object_get(body, "Cmd")); /* the image's command */
    assert_json_eq(json_object_get(body, "Env"),
                   "[\"JUPYTERHUB_USER=alice\", \"JUPYTERHUB_API_TOKEN=secret\", "
                   "\"JUPYTER_IMAGE_SPEC=hubtest/hostusr:latest\"]");
    assert_json_eq(json_object_get(body, "ExposedPorts"), "{\"8888/tcp\": {}}");
    assert_json_eq(
        json_object_get(body, "Labels"),
        "{\"hub.jupyter.org/managed-by\": \"ganymede\", "
        "\"hub.jupyter.org/username\": \"alice\", \"hub.jupyter.org/servername\": \"\"}");
    assert_json_eq(json_object_get(body, "HostConfig"),
                   "{\"NetworkMode\": \"bridge\", \"PortBindings\": {\"8888/tcp\": "
                   "[{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}]}}");
    assert_null(json_object_get(body, "Volumes"));
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
