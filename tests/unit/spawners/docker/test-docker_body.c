/* spawners/docker/docker_body.c: the container create body as dockerspawner builds it through
 * docker-py, names and templates, image names, and where the hub reaches a started container. */
#include "test.h"
#include "spawners/docker/docker.h"

#include <stdio.h>
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
                                        "JUPYTER_IMAGE_SPEC=from-environment", NULL};

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

/* The value at a dotted path: "HostConfig.NetworkMode". */
static const json_t *at(const json_t *v, const char *path)
{
    const json_t *cur = v;
    while (cur && *path) {
        size_t n = strcspn(path, ".");
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        cur = json_object_get(cur, key);
        path += n + (path[n] == '.');
    }
    return cur;
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

static void test_default_body(void **state)
{
    struct docker_conf c;
    conf_defaults(&c);
    struct docker_create cr = alice_create();
    char err[512] = "";
    json_t *body = docker_create_body(&c, &cr, err, sizeof(err));
    assert_non_null(body);
    assert_json_eq(body, "{\"Image\": \"hubtest/hostusr:latest\","
                         " \"Env\": [\"JUPYTERHUB_USER=alice\", \"JUPYTERHUB_API_TOKEN=secret\","
                         "           \"JUPYTER_IMAGE_SPEC=hubtest/hostusr:latest\"],"
                         " \"ExposedPorts\": {\"8888/tcp\": {}},"
                         " \"Labels\": {\"hub.jupyter.org/managed-by\": \"ganymede\","
                         "            \"hub.jupyter.org/username\": \"alice\","
                         "            \"hub.jupyter.org/servername\": \"\"},"
                         " \"HostConfig\": {\"NetworkMode\": \"bridge\","
                         "   \"PortBindings\": {\"8888/tcp\": [{\"HostIp\": \"127.0.0.1\","
                         "                                     \"HostPort\": \"\"}]}}}");
    json_decref(body);
}

/* Everything at once, in docker-py's names as dockerspawner configurations have them. */
static void test_full_body(void **state)
{
    struct docker_conf c;
    conf_defaults(&c);
    c.network_name = "host";
    c.volumes = parse("{\"jupyterhub-user-{username}\": \"/home/jovyan/work\","
                      " \"/srv/shared\": {\"bind\": \"/shared\", \"mode\": \"ro\","
                      "                   \"propagation\": \"rslave\"}}");
    c.read_only_volumes = parse("{\"/srv/data/{raw_username}\": \"/data\"}");
    c.mounts = parse("[{\"type\": \"tmpfs\", \"target\": \"/scratch\", \"tmpfs_size\": \"64m\"}]");
    c.links = parse("{\"db\": \"database\"}");
    c.extra_create_kwargs =
        parse("{\"user\": 1000, \"working_dir\": \"/home/{username}\","
              " \"environment\": {\"EXTRA\": \"1\", \"JUPYTERHUB_USER\": \"override\"},"
              " \"labels\": {\"team\": \"{prefix}\"}}");
    c.extra_host_config = parse("{\"cpu_period\": 50000, \"mem_limit\": \"1g\","
                                " \"device_requests\": [{\"count\": -1,"
                                "                        \"capabilities\": [[\"gpu\"]]}],"
                                " \"Binds\": [\"/usr:/usr:ro\"]}");
    json_t *cmd = parse("[\"jupyterhub-singleuser\", \"--allow-root\"]");
    struct docker_create cr = alice_create();
    cr.cmd = cmd;
    cr.mem_limit = 268435456;
    cr.cpu_limit = 1.5;
    char err[512] = "";
    json_t *body = docker_create_body(&c, &cr, err, sizeof(err));
    assert_non_null(body);
    assert_json_eq(at(body, "Cmd"), "[\"jupyterhub-singleuser\", \"--allow-root\"]");
    assert_json_eq(at(body, "User"), "\"1000\"");
    assert_json_eq(at(body, "WorkingDir"), "\"/home/alice\"");
    /* Env entries of extra_create_kwargs replace the hub's by name, or come after them. */
    assert_json_eq(at(body, "Env"), "[\"JUPYTERHUB_USER=override\","
                                    " \"JUPYTERHUB_API_TOKEN=secret\","
                                    " \"JUPYTER_IMAGE_SPEC=hubtest/hostusr:latest\","
                                    " \"EXTRA=1\"]");
    assert_json_eq(at(body, "Labels.team"), "\"jupyter\"");
    assert_json_eq(json_object_get(at(body, "Labels"), "hub.jupyter.org/managed-by"),
                   "\"ganymede\"");
    assert_json_eq(at(body, "Volumes"),
                   "{\"/home/jovyan/work\": {}, \"/shared\": {}, \"/data\": {}}");
    const json_t *hc = at(body, "HostConfig");
    assert_json_eq(json_object_get(hc, "Binds"),
                   "[\"jupyterhub-user-alice:/home/jovyan/work:rw\","
                   " \"/srv/shared:/shared:ro,rslave\", \"/srv/data/alice:/data:ro\","
                   " \"/usr:/usr:ro\"]");
    assert_json_eq(json_object_get(hc, "Links"), "[\"db:database\"]");
    assert_json_eq(json_object_get(hc, "Mounts"),
                   "[{\"Type\": \"tmpfs\", \"Target\": \"/scratch\","
                   "  \"TmpfsOptions\": {\"SizeBytes\": 67108864}}]");
    /* extra_host_config's cpu_period sets the period of cpu_limit; its mem_limit wins over
     * Spawner.mem_limit, as docker-py's merge does. */
    assert_json_eq(json_object_get(hc, "CpuPeriod"), "50000");
    assert_json_eq(json_object_get(hc, "CpuQuota"), "75000");
    assert_json_eq(json_object_get(hc, "Memory"), "1073741824");
    assert_json_eq(json_object_get(hc, "DeviceRequests"),
                   "[{\"Count\": -1, \"Capabilities\": [[\"gpu\"]]}]");
    /* Host networking: no published port (dockerspawner#253). */
    assert_json_eq(json_object_get(hc, "NetworkMode"), "\"host\"");
    assert_null(json_object_get(hc, "PortBindings"));
    json_decref(body);
    json_decref(cmd);
    json_decref(c.volumes);
    json_decref(c.read_only_volumes);
    json_decref(c.mounts);
    json_decref(c.links);
    json_decref(c.extra_create_kwargs);
    json_decref(c.extra_host_config);
}

static void test_network_choices(void **state)
{
    struct docker_conf c;
    conf_defaults(&c);
    char err[512] = "";
    /* An internal network: reached at its address, nothing published. */
    c.network_name = "jupyterhub-net";
    struct docker_create cr = alice_create();
    cr.internal_ip = true;
    json_t *body = docker_create_body(&c, &cr, err, sizeof(err));
    assert_json_eq(at(body, "HostConfig"), "{\"NetworkMode\": \"jupyterhub-net\"}");
    json_decref(body);
    /* extra_host_config's network_mode wins over network_name, as setdefault does. */
    c.network_name = "bridge";
    c.extra_host_config = parse("{\"network_mode\": \"host\"}");
    cr.internal_ip = false;
    body = docker_create_body(&c, &cr, err, sizeof(err));
    assert_json_eq(at(body, "HostConfig"), "{\"NetworkMode\": \"host\"}");
    json_decref(body);
    json_decref(c.extra_host_config);
    /* extra_create_kwargs' host_config is overridden key by key by the spawner's. */
    c.extra_host_config = NULL;
    c.extra_create_kwargs = parse("{\"host_config\": {\"network_mode\": \"none\","
                                  "                    \"privileged\": false}}");
    body = docker_create_body(&c, &cr, err, sizeof(err));
    assert_json_eq(at(body, "HostConfig.NetworkMode"), "\"bridge\"");
    assert_json_eq(at(body, "HostConfig.Privileged"), "false");
    json_decref(body);
    json_decref(c.extra_create_kwargs);
}

static void test_body_errors(void **state)
{
    struct docker_conf c;
    conf_defaults(&c);
    char err[512] = "";
    struct docker_create cr = alice_create();
    c.volumes = parse("{\"home-{user}\": \"/home/jovyan\"}");
    assert_null(docker_create_body(&c, &cr, err, sizeof(err)));
    assert_non_null(strstr(err, "DockerSpawner.volumes: 'home-{user}' does not format"));
    assert_int_eq(docker_volumes_check(&c, err, sizeof(err)), -EINVAL);
    json_decref(c.volumes);
    c.volumes = parse("{\"home\": \"relative/path\"}");
    assert_int_eq(docker_volumes_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "absolute path in the container"));
    json_decref(c.volumes);
    c.volumes = parse("{\"/srv/homes/{raw_username}\": \"/home/jovyan\"}");
    const struct docker_ns dots = {.username = "-2e-2e", .raw_username = "..", .prefix = "p"};
    cr.ns = &dots;
    assert_null(docker_create_body(&c, &cr, err, sizeof(err)));
    assert_non_null(strstr(err, "'/srv/homes/..' → '/home/jovyan' has a '..' component"));
    cr.ns = &alice_ns;
    json_t *ok = docker_create_body(&c, &cr, err, sizeof(err));
    assert_json_eq(at(ok, "HostConfig.Binds"), "[\"/srv/homes/alice:/home/jovyan:rw\"]");
    json_decref(ok);
    json_decref(c.volumes);
    c.volumes = parse("{\"home\": {\"mode\": \"ro\"}}");
    assert_int_eq(docker_volumes_check(&c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "\"bind\""));
    json_decref(c.volumes);
    c.volumes = NULL;
    c.extra_host_config = parse("{\"mem_limt\": \"1g\"}");
    assert_null(docker_create_body(&c, &cr, err, sizeof(err)));
    assert_string_equal(err, "DockerSpawner.extra_host_config: 'mem_limt' is neither a docker-py "
                             "argument nor a Docker Engine API field (those start with a capital "
                             "letter, e.g. \"Memory\")");
    json_decref(c.extra_host_config);
}

static void test_escape(void **state)
{
    struct {
        const char *in;
        bool legacy;
        const char *out;
    } cases[] = {
        {"alice", false, "alice"},
        {"Alice.Smith@x.org", false, "-41lice-2e-53mith-40x-2eorg"},
        {"user--foo", false, "user-2d-2dfoo"},
        {"\xc3\xa9t\xc3\xa9", false, "-c3-a9t-c3-a9"},
        {"Alice-b.c", true, "Alice-b_2Ec"},
        /* escapism writes bytes below 0x10 with one hex digit. */
        {"a\tb", false, "a-9b"},
        {"a\tb", true, "a_9b"},
        {"", false, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *s = docker_escape(cases[i].in, cases[i].legacy);
        assert_string_equal(s, cases[i].out);
        free(s);
    }
}

static void test_render(void **state)
{
    const struct docker_ns ns = {
        .username = "-41lice",
        .raw_username = "Alice",
        .servername = "gpu",
        .raw_servername = "GPU",
        .imagename = "quay.io-jupyter-scipy-notebook-latest",
        .prefix = "jupyter",
    };
    char *s = NULL;
    const char *bad = NULL;
    assert_int_eq(docker_render("{prefix}-{username}--{servername}", &ns, &s, &bad), 0);
    assert_string_equal(s, "jupyter--41lice--gpu");
    free(s);
    assert_int_eq(
        docker_render("{raw_username}/{raw_servername}/{safe_username}/{imagename}", &ns, &s, &bad),
        0);
    assert_string_equal(s, "Alice/GPU/-41lice/quay.io-jupyter-scipy-notebook-latest");
    free(s);
    assert_int_eq(docker_render("{{literal}} }}", &ns, &s, &bad), 0);
    assert_string_equal(s, "{literal} }");
    free(s);
    /* What Python's str.format refuses. */
    assert_int_eq(docker_render("x-{nope}", &ns, &s, &bad), -EINVAL);
    assert_string_equal(bad, "{nope}");
    assert_int_eq(docker_render("{username:>10}", &ns, &s, &bad), -EINVAL);
    assert_int_eq(docker_render("{}", &ns, &s, &bad), -EINVAL);
    assert_int_eq(docker_render("a}b", &ns, &s, &bad), -EINVAL);
    assert_int_eq(docker_render("open {username", &ns, &s, &bad), -EINVAL);
    /* In JSON, what does not format stays as it is (DockerSpawner._render_templates). */
    json_t *in = parse("{\"{username}\": [\"{prefix}\", \"{unknown}\", 7, {\"a\": \"{{x}}\"}]}");
    json_t *out = docker_render_json(in, &ns);
    assert_json_eq(out, "{\"-41lice\": [\"jupyter\", \"{unknown}\", 7, {\"a\": \"{x}\"}]}");
    json_decref(in);
    json_decref(out);
}

static void test_images(void **state)
{
    struct {
        const char *image, *repo, *tag, *name;
    } cases[] = {
        {"hubtest/hostusr", "hubtest/hostusr", "latest", "hubtest-hostusr"},
        {"hubtest/hostusr:other", "hubtest/hostusr", "other", "hubtest-hostusr-other"},
        {"registry:5000/team/img", "registry:5000/team/img", "latest", "registry-5000-team-img"},
        {"registry:5000/team/img:1.2", "registry:5000/team/img", "1.2",
         "registry-5000-team-img-1.2"},
        {"img@sha256:abc", "img@sha256:abc", "", "img@sha256-abc"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char repo[256], tag[256];
        assert_int_eq(docker_image_split(cases[i].image, repo, sizeof(repo), tag, sizeof(tag)), 0);
        assert_string_equal(repo, cases[i].repo);
        assert_string_equal(tag, cases[i].tag);
        char *name = docker_image_name(cases[i].image);
        assert_string_equal(name, cases[i].name);
        free(name);
    }
    char repo[8], tag[8];
    assert_int_eq(docker_image_split("a/very/long/name", repo, sizeof(repo), tag, sizeof(tag)),
                  -EINVAL);
    assert_int_eq(docker_image_split(":tag", repo, sizeof(repo), tag, sizeof(tag)), -EINVAL);
}

static void test_ownership(void **state)
{
    json_t *ours = parse("{\"Config\": {\"Labels\": {\"hub.jupyter.org/managed-by\": \"ganymede\","
                         " \"hub.jupyter.org/username\": \"alice\","
                         " \"hub.jupyter.org/servername\": \"gpu\"}, \"Env\": []}}");
    assert_true(docker_container_is_ours(ours, "alice", "gpu"));
    assert_false(docker_container_is_ours(ours, "alice", ""));
    assert_false(docker_container_is_ours(ours, "bob", "gpu"));
    assert_false(docker_container_is_jupyterhubs(ours, "alice", "gpu"));
    json_t *old = parse("{\"Config\": {\"Labels\": null, \"Env\": [\"PATH=/usr/bin\","
                        " \"JUPYTERHUB_USER=alice\", \"JUPYTERHUB_SERVER_NAME=\"]}}");
    assert_false(docker_container_is_ours(old, "alice", ""));
    assert_true(docker_container_is_jupyterhubs(old, "alice", ""));
    assert_false(docker_container_is_jupyterhubs(old, "alice", "gpu"));
    assert_false(docker_container_is_jupyterhubs(old, "alic", ""));
    json_t *stranger = parse("{\"Config\": {\"Env\": [\"PATH=/usr/bin\"]}}");
    assert_false(docker_container_is_ours(stranger, "alice", ""));
    assert_false(docker_container_is_jupyterhubs(stranger, "alice", ""));
    json_decref(ours);
    json_decref(old);
    json_decref(stranger);
}

static void test_server_url(void **state)
{
    char url[256], err[512];
    struct docker_where w = {
        .network = "bridge",
        .host_ip = "127.0.0.1",
        .ip = "0.0.0.0",
        .port = 8888,
        .name = "jupyter-alice",
    };
    /* Host networking: where the server listens, a wildcard meaning host_ip. */
    json_t *host = parse("{\"HostConfig\": {\"NetworkMode\": \"host\"}, \"NetworkSettings\": {}}");
    assert_int_eq(docker_server_url(host, &w, url, sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://127.0.0.1:8888");
    w.ip = "10.1.2.3";
    assert_int_eq(docker_server_url(host, &w, url, sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://10.1.2.3:8888");
    w.ip = "::1";
    assert_int_eq(docker_server_url(host, &w, url, sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://[::1]:8888");
    w.ip = "0.0.0.0";
    /* A published port. */
    json_t *bridge = parse("{\"HostConfig\": {\"NetworkMode\": \"bridge\"}, \"NetworkSettings\":"
                           " {\"Ports\": {\"8888/tcp\": [{\"HostIp\": \"0.0.0.0\","
                           "                               \"HostPort\": \"32768\"}]},"
                           "  \"Networks\": {\"bridge\": {\"IPAddress\": \"172.17.0.2\"}}}}");
    assert_int_eq(docker_server_url(bridge, &w, url, sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://127.0.0.1:32768");
    w.port = 9999;
    assert_int_eq(docker_server_url(bridge, &w, url, sizeof(url), err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "port 9999/tcp is not published"));
    w.port = 8888;
    /* The internal address on the network, or a clear error when not on it. */
    w.internal_ip = true;
    assert_int_eq(docker_server_url(bridge, &w, url, sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://172.17.0.2:8888");
    w.network = "jhub";
    assert_int_eq(docker_server_url(bridge, &w, url, sizeof(url), err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "docker network create jhub"));
    w.internal_hostname = true;
    assert_int_eq(docker_server_url(bridge, &w, url, sizeof(url), err, sizeof(err)), 0);
    assert_string_equal(url, "http://jupyter-alice:8888");
    json_decref(host);
    json_decref(bridge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_body),    cmocka_unit_test(test_full_body),
        cmocka_unit_test(test_network_choices), cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_escape),          cmocka_unit_test(test_render),
        cmocka_unit_test(test_images),          cmocka_unit_test(test_ownership),
        cmocka_unit_test(test_server_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
