/* spawners/docker/docker_api.c: where the engine is (DockerSpawner.host, DOCKER_HOST,
 * client_kwargs), what is refused, and the messages of failed calls. The calls themselves run
 * against a real engine in tests/integration/test_docker_spawner.py. */
#include "test.h"
#include "spawners/docker/docker.h"

#include <stdio.h>
#include <stdlib.h>

static const struct gm_host host; /* only kept, never used by init */

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    if (!v)
        fail_msg("bad JSON in the test: %s", text);
    return v;
}

static void test_endpoints(void **state)
{
    struct docker_api api;
    char err[512] = "";
    json_t *none = parse("{}");
    assert_int_eq(
        docker_api_init(&api, &host, "unix:///var/run/docker.sock", none, err, sizeof(err)), 0);
    assert_string_equal(api.socket, "/var/run/docker.sock");
    assert_string_equal(api.base, "http://localhost");
    assert_false(api.version_known);
    assert_int_eq(api.timeout_ms, 60000);
    docker_api_release(&api);

    assert_int_eq(docker_api_init(&api, &host, "tcp://10.0.0.5:2375", none, err, sizeof(err)), 0);
    assert_null(api.socket);
    assert_string_equal(api.base, "http://10.0.0.5:2375");
    assert_string_equal(api.tcp_host, "10.0.0.5");
    docker_api_release(&api);

    assert_int_eq(docker_api_init(&api, &host, "tcp://docker.example", none, err, sizeof(err)), 0);
    assert_string_equal(api.base, "http://docker.example:2375");
    docker_api_release(&api);

    json_t *kw = parse("{\"base_url\": \"unix:///run/podman/podman.sock\", \"timeout\": 2.5,"
                       " \"version\": \"1.41\", \"tls\": false}");
    assert_int_eq(docker_api_init(&api, &host, "unix:///var/run/docker.sock", kw, err, sizeof(err)),
                  0);
    assert_string_equal(api.socket, "/run/podman/podman.sock");
    assert_string_equal(api.display, "unix:///run/podman/podman.sock");
    assert_int_eq(api.timeout_ms, 2500);
    assert_true(api.version_known);
    assert_string_equal(api.version, "/v1.41");
    docker_api_release(&api);
    json_decref(kw);
    json_decref(none);
}

static void refused(const char *where, const char *kwargs, const char *message)
{
    struct docker_api api;
    char err[512] = "";
    json_t *kw = parse(kwargs);
    assert_int_eq(docker_api_init(&api, &host, where, kw, err, sizeof(err)), -EINVAL);
    if (!strstr(err, message))
        fail_msg("%s %s: \"%s\" lacks \"%s\"", where, kwargs, err, message);
    json_decref(kw);
}

static void test_refused(void **state)
{
    refused("https://docker.example:2376", "{}", "TLS");
    refused("ssh://me@docker.example", "{}", "ssh://");
    refused("npipe:////./pipe/docker_engine", "{}", "npipe://");
    refused("unix://relative.sock", "{}", "absolute path");
    refused("unix:///var/run/docker.sock", "{\"tls\": true}", "client_kwargs[\"tls\"]");
    refused("unix:///var/run/docker.sock", "{\"credstore_env\": {}}", "base_url");
    refused("unix:///var/run/docker.sock", "{\"version\": \"latest\"}", "\"auto\"");
    refused("unix:///var/run/docker.sock", "{\"timeout\": 0}", "client_kwargs[\"timeout\"]");
}

static void test_explain(void **state)
{
    struct docker_api api;
    char err[512] = "", msg[512];
    json_t *kw = parse("{\"timeout\": 3}");
    assert_int_eq(docker_api_init(&api, &host, "unix:///x.sock", kw, err, sizeof(err)), 0);
    struct docker_reply r = {.error = -ETIMEDOUT, .message = "Operation timed out"};
    docker_api_explain(&api, &r, "creating the container", msg, sizeof(msg));
    assert_string_equal(msg, "The Docker engine at unix:///x.sock did not answer in time while "
                             "creating the container (3 s; "
                             "DockerSpawner.client_kwargs[\"timeout\"])");
    r = (struct docker_reply){.error = -ECONNREFUSED, .message = "Couldn't connect to server"};
    docker_api_explain(&api, &r, "starting the container", msg, sizeof(msg));
    assert_string_equal(msg, "Cannot reach the Docker engine at unix:///x.sock while starting "
                             "the container: Couldn't connect to server. Is it running? "
                             "(DockerSpawner.host, DOCKER_HOST)");
    r = (struct docker_reply){.status = 500, .message = "OCI runtime create failed"};
    docker_api_explain(&api, &r, "starting the container", msg, sizeof(msg));
    assert_string_equal(msg, "The Docker engine failed starting the container: OCI runtime "
                             "create failed (HTTP 500)");
    docker_api_release(&api);
    json_decref(kw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_explain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
