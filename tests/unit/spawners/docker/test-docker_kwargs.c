/* spawners/docker/docker_kwargs.c: docker-py's create_container and create_host_config
 * arguments (as dockerspawner configurations have them) turned into Engine API fields. */
#include "test.h"
#include "spawners/docker/docker.h"

#include <stdio.h>
#include <stdlib.h>

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad JSON in the test: %s: %s", text, e.text);
    return v;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    if (!json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("got  %s\nwant %s", g ? g : "(null)", w);
    }
    json_decref(want);
}

static void host_config_is(const char *in, const char *want)
{
    json_t *v = parse(in), *out = NULL;
    char err[512] = "";
    int r = docker_kwargs_host_config(v, &out, err, sizeof(err));
    if (r < 0)
        fail_msg("%s: %s", in, err);
    assert_json_eq(out, want);
    json_decref(v);
    json_decref(out);
}

static void host_config_fails(const char *in, const char *message)
{
    json_t *v = parse(in), *out = NULL;
    char err[512] = "";
    assert_int_eq(docker_kwargs_host_config(v, &out, err, sizeof(err)), -EINVAL);
    assert_null(out);
    if (!strstr(err, message))
        fail_msg("%s: message \"%s\" lacks \"%s\"", in, err, message);
    json_decref(v);
}

static void test_host_config(void **state)
{
    host_config_is("{\"mem_limit\": \"2g\", \"memswap_limit\": \"512m\", \"shm_size\": 1024,"
                   " \"cpu_period\": 50000, \"network_mode\": \"host\", \"read_only\": true}",
                   "{\"Memory\": 2147483648, \"MemorySwap\": 536870912, \"ShmSize\": 1024,"
                   " \"CpuPeriod\": 50000, \"NetworkMode\": \"host\", \"ReadonlyRootfs\": true}");
    /* Engine names pass as they are. */
    host_config_is("{\"Memory\": 5, \"Runtime\": \"nvidia\"}",
                   "{\"Memory\": 5, \"Runtime\": \"nvidia\"}");
    /* GPUs, dockerspawner#244. */
    host_config_is("{\"device_requests\": [{\"driver\": \"nvidia\", \"count\": -1,"
                   "  \"capabilities\": [[\"gpu\"]], \"device_ids\": [\"0\"]}]}",
                   "{\"DeviceRequests\": [{\"Driver\": \"nvidia\", \"Count\": -1,"
                   "  \"Capabilities\": [[\"gpu\"]], \"DeviceIDs\": [\"0\"]}]}");
    host_config_is("{\"port_bindings\": {\"8888\": [\"127.0.0.1\"], \"9000/udp\": 9001,"
                   " \"7000\": null, \"6000\": [\"10.0.0.1\", 6001],"
                   " \"5000\": [[\"127.0.0.1\", 5001], 5002]}}",
                   "{\"PortBindings\": {"
                   " \"8888/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}],"
                   " \"9000/udp\": [{\"HostIp\": \"\", \"HostPort\": \"9001\"}],"
                   " \"7000/tcp\": [{\"HostIp\": \"\", \"HostPort\": \"\"}],"
                   " \"6000/tcp\": [{\"HostIp\": \"10.0.0.1\", \"HostPort\": \"6001\"}],"
                   " \"5000/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"5001\"},"
                   "                {\"HostIp\": \"\", \"HostPort\": \"5002\"}]}}");
    host_config_is("{\"binds\": {\"/srv\": {\"bind\": \"/mnt\", \"mode\": \"ro\"}, \"/a\": \"/b\"},"
                   " \"links\": {\"db\": \"database\"}, \"extra_hosts\": {\"hub\": \"10.0.0.1\"}}",
                   "{\"Binds\": [\"/srv:/mnt:ro\", \"/a:/b:rw\"], \"Links\": [\"db:database\"],"
                   " \"ExtraHosts\": [\"hub:10.0.0.1\"]}");
    host_config_is(
        "{\"devices\": [\"/dev/fuse\", \"/dev/sda:/dev/xvda:r\"],"
        " \"tmpfs\": [\"/run:size=64m\", \"/tmp\"],"
        " \"ulimits\": [{\"name\": \"nofile\", \"soft\": 1024, \"hard\": 2048}],"
        " \"log_config\": {\"type\": \"json-file\", \"config\": {\"max-size\": \"1m\"}},"
        " \"restart_policy\": {\"Name\": \"on-failure\", \"MaximumRetryCount\": 3}}",
        "{\"Devices\": [{\"PathOnHost\": \"/dev/fuse\","
        "               \"PathInContainer\": \"/dev/fuse\", \"CgroupPermissions\": \"rwm\"},"
        "              {\"PathOnHost\": \"/dev/sda\", \"PathInContainer\": \"/dev/xvda\","
        "               \"CgroupPermissions\": \"r\"}],"
        " \"Tmpfs\": {\"/run\": \"size=64m\", \"/tmp\": \"\"},"
        " \"Ulimits\": [{\"Name\": \"nofile\", \"Soft\": 1024, \"Hard\": 2048}],"
        " \"LogConfig\": {\"Type\": \"json-file\", \"Config\": {\"max-size\": \"1m\"}},"
        " \"RestartPolicy\": {\"Name\": \"on-failure\", \"MaximumRetryCount\": 3}}");
    host_config_is("{\"mounts\": [{\"target\": \"/data\", \"source\": \"vol\","
                   "  \"read_only\": true, \"no_copy\": true},"
                   " {\"type\": \"bind\", \"target\": \"/x\", \"source\": \"/y\","
                   "  \"propagation\": \"rshared\"}]}",
                   "{\"Mounts\": [{\"Target\": \"/data\", \"Source\": \"vol\", \"ReadOnly\": true,"
                   "  \"VolumeOptions\": {\"NoCopy\": true}, \"Type\": \"volume\"},"
                   " {\"Type\": \"bind\", \"Target\": \"/x\", \"Source\": \"/y\","
                   "  \"BindOptions\": {\"Propagation\": \"rshared\"}}]}");
    host_config_fails("{\"mem_limt\": \"1g\"}", "'mem_limt' is neither a docker-py argument");
    host_config_fails("{\"mem_limit\": \"lots\"}", "'mem_limit' must be a number of bytes");
    host_config_fails("{\"device_requests\": {\"count\": 1}}", "must be a list of dicts");
    host_config_fails("{\"ulimits\": [{\"nme\": \"nofile\"}]}", "'nme' is neither");
    host_config_fails("[]", "must be a dict");
}

static void test_create(void **state)
{
    json_t *v = parse("{\"command\": \"start.sh 'a b'\", \"entrypoint\": [\"tini\", \"--\"],"
                      " \"user\": 1000, \"working_dir\": \"/w\", \"ports\": [8080, \"53/udp\","
                      " [9000, \"sctp\"]], \"volumes\": [\"/cache\"], \"labels\": [\"a\"],"
                      " \"stop_timeout\": 30, \"healthcheck\": {\"test\": \"curl -f x\","
                      " \"interval\": 1000000000}, \"host_config\": {\"cap_add\": [\"SYS_ADMIN\"]},"
                      " \"Hostname\": \"nb\"}");
    json_t *out = NULL;
    char err[512] = "";
    assert_int_eq(docker_kwargs_create(v, &out, err, sizeof(err)), 0);
    assert_json_eq(out, "{\"Cmd\": [\"start.sh\", \"a b\"], \"Entrypoint\": [\"tini\", \"--\"],"
                        " \"User\": \"1000\", \"WorkingDir\": \"/w\","
                        " \"ExposedPorts\": {\"8080/tcp\": {}, \"53/udp\": {}, \"9000/sctp\": {}},"
                        " \"Volumes\": {\"/cache\": {}}, \"Labels\": {\"a\": \"\"},"
                        " \"StopTimeout\": 30,"
                        " \"Healthcheck\": {\"Test\": [\"CMD-SHELL\", \"curl -f x\"],"
                        "                   \"Interval\": 1000000000},"
                        " \"HostConfig\": {\"CapAdd\": [\"SYS_ADMIN\"]}, \"Hostname\": \"nb\"}");
    json_decref(out);
    json_decref(v);
    v = parse("{\"name\": \"mine\"}");
    assert_int_eq(docker_kwargs_create(v, &out, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'name' is set by the spawner"));
    json_decref(v);
    v = parse("{\"command\": \"unterminated 'quote\"}");
    assert_int_eq(docker_kwargs_create(v, &out, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "DockerSpawner.extra_create_kwargs: 'command'"));
    json_decref(v);
}

static void test_parse_bytes(void **state)
{
    struct {
        const char *json;
        int64_t bytes;
    } cases[] = {
        {"1024", 1024},
        {"\"1024\"", 1024},
        {"\"512m\"", 512LL << 20},
        {"\"512M\"", 512LL << 20},
        {"\"2g\"", 2LL << 30},
        {"\"1.5G\"", 3LL << 29},
        {"\"10kb\"", 10240},
        {"\"1t\"", 1LL << 40},
        {"\"3b\"", 3},
        {"\"lots\"", -1},
        {"\"12x\"", -1},
        {"-5", -1},
        {"\"\"", -1},
        {"null", -1},
        {"\"5mbb\"", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        json_t *v = parse(cases[i].json);
        int64_t got = docker_parse_bytes(v);
        if (got != cases[i].bytes)
            fail_msg("%s: got %lld, want %lld", cases[i].json, (long long)got,
                     (long long)cases[i].bytes);
        json_decref(v);
    }
}

static void test_deep_merge(void **state)
{
    json_t *dst = parse("{\"a\": {\"b\": 1, \"c\": [1]}, \"d\": 2}");
    json_t *src = parse("{\"a\": {\"c\": [2], \"e\": 3}, \"d\": {\"x\": 1}}");
    assert_int_eq(gm_json_merge(dst, src), 0);
    assert_json_eq(dst, "{\"a\": {\"b\": 1, \"c\": [2], \"e\": 3}, \"d\": {\"x\": 1}}");
    json_decref(dst);
    json_decref(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_config),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_parse_bytes),
        cmocka_unit_test(test_deep_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
