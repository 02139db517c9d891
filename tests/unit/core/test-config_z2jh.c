/* src/core/config_z2jh.c: zero-to-jupyterhub's jupyterhub_config.py, read as the settings it
 * would compute from what the chart mounts (the chart's default values with a course hub's
 * values over them, as z2jh.py merges secret/ and existing-secret/). */
#include "test.h"
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0700);
    *slash = '/';
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void copy_fixture(const char *name, const char *rel)
{
    char src[512];
    snprintf(src, sizeof(src), "%s/z2jh/%s", getenv("GM_FIXTURES"), name);
    FILE *f = fopen(src, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    put(rel, buf);
}

/* The course hub of the issue: Auth0 login, 3G guaranteed and 5G at most, the culler on. */
static const char course_values[] =
    "hub:\n"
    "  config:\n"
    "    JupyterHub:\n"
    "      authenticator_class: auth0\n"
    "      cookie_secret: must-not-be-passed-through\n"
    "    Auth0OAuthenticator:\n"
    "      client_id: course-client\n"
    "      oauth_callback_url: https://hub.example.edu/hub/oauth_callback\n"
    "      scope: [openid, email]\n"
    "    Authenticator:\n"
    "      admin_users: [instructor]\n"
    "      allow_all: true\n"
    "  allowNamedServers: true\n"
    "  concurrentSpawnLimit: 64\n"
    "  loadRoles:\n"
    "    tas:\n"
    "      scopes: [admin:servers]\n"
    "      groups: [tas]\n"
    "  services:\n"
    "    grader:\n"
    "      admin: false\n"
    "      apiToken: in-the-values\n"
    "  extraConfig:\n"
    "    00-literal: |\n"
    "      c.KubeSpawner.delete_grace_period = 5\n"
    "    10-python: |\n"
    "      import os\n"
    "      c.KubeSpawner.environment = {'X': os.environ['X']}\n"
    "singleuser:\n"
    "  image:\n"
    "    name: example.edu/course-image\n"
    "    tag: '2026.1'\n"
    "  memory:\n"
    "    limit: 5G\n"
    "    guarantee: 3G\n"
    "  cpu:\n"
    "    limit: 2\n"
    "  extraEnv:\n"
    "    COURSE: phys101\n"
    "  defaultUrl: /lab\n"
    "  cmd: jupyterhub-singleuser\n"
    "  extraTolerations:\n"
    "    - {key: gpu, operator: Exists, effect: NoSchedule}\n"
    "scheduling:\n"
    "  userScheduler:\n"
    "    enabled: true\n"
    "  userPods:\n"
    "    nodeAffinity:\n"
    "      matchNodePurpose: require\n"
    "cull:\n"
    "  timeout: 7200\n"
    "  users: true\n";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/gm-z2jh-XXXXXX");
    assert_non_null(mkdtemp(dir));
    copy_fixture("jupyterhub_config.py", "jupyterhub_config.py");
    copy_fixture("chart-values.yaml", "secret/values.yaml");
    put("existing-secret/values.yaml", course_values);
    put("secret/hub.config.JupyterHub.cookie_secret",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    put("secret/hub.services.grader.apiToken", "grader-token-0123456789");
    put("config/proxy-api", "course-proxy-api");
    put("config/hub", "hub");
    put("config/user-scheduler", "course-user-scheduler");
    setenv("COURSE_PROXY_API_SERVICE_PORT", "8001", 1);
    setenv("HUB_SERVICE_PORT", "8081", 1);
    setenv("POD_NAMESPACE", "phys", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* The test's own files only. */
    const char *files[] = {"jupyterhub_config.py",
                           "secret/values.yaml",
                           "existing-secret/values.yaml",
                           "secret/hub.config.JupyterHub.cookie_secret",
                           "secret/hub.services.grader.apiToken",
                           "config/proxy-api",
                           "config/hub",
                           "config/user-scheduler"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    const char *dirs[] = {"secret", "existing-secret", "config"};
    for (size_t i = 0; i < 3; i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, dirs[i]);
        rmdir(p);
    }
    rmdir(dir);
    return 0;
}

static json_t *load(struct config *cfg)
{
    char path[512], err[512] = "";
    snprintf(path, sizeof(path), "%s/jupyterhub_config.py", dir);
    assert_int_equal(config_init(cfg), 0);
    int r = config_load_file(cfg, path, err, sizeof(err));
    if (r != 0)
        fail_msg("config_load_file: %s", err);
    return cfg->tree;
}

static void expect(const struct config *cfg, const char *cls, const char *trait, const char *json)
{
    json_t *want = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    json_t *got = config_get(cfg, cls, trait);
    if (!json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        fail_msg("%s.%s is %s, expected %s", cls, trait, g ? g : "unset", json);
    }
    json_decref(want);
}

static void test_course_hub(void **state)
{
    (void)state;
    struct config cfg;
    load(&cfg);
    expect(&cfg, "JupyterHub", "spawner_class", "\"kubespawner.KubeSpawner\"");
    expect(&cfg, "ConfigurableHTTPProxy", "api_url", "\"http://course-proxy-api:8001\"");
    expect(&cfg, "ConfigurableHTTPProxy", "should_start", "false");
    expect(&cfg, "JupyterHub", "cleanup_servers", "false");
    expect(&cfg, "JupyterHub", "hub_bind_url", "\"http://:8081\"");
    expect(&cfg, "JupyterHub", "hub_connect_url", "\"http://hub:8081\"");
    expect(&cfg, "JupyterHub", "db_url", "\"sqlite:///jupyterhub.sqlite\"");
    expect(&cfg, "JupyterHub", "allow_named_servers", "true");
    expect(&cfg, "JupyterHub", "concurrent_spawn_limit", "64");
    expect(&cfg, "JupyterHub", "tornado_settings", "{\"slow_spawn_timeout\": 0}");
    /* Secrets come from the secret's files, never from hub.config. */
    expect(&cfg, "JupyterHub", "cookie_secret",
           "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"");
    expect(&cfg, "JupyterHub", "authenticator_class", "\"auth0\"");
    expect(&cfg, "Auth0OAuthenticator", "client_id", "\"course-client\"");
    expect(&cfg, "Authenticator", "admin_users", "[\"instructor\"]");
    expect(&cfg, "KubeSpawner", "namespace", "\"phys\"");
    expect(&cfg, "KubeSpawner", "image", "\"example.edu/course-image:2026.1\"");
    expect(&cfg, "KubeSpawner", "mem_limit", "\"5G\"");
    expect(&cfg, "KubeSpawner", "mem_guarantee", "\"3G\"");
    expect(&cfg, "KubeSpawner", "cpu_limit", "2");
    /* (and not the Python extraConfig's, which is skipped, not half-read) */
    expect(&cfg, "KubeSpawner", "environment", "{\"COURSE\": \"phys101\"}");
    expect(&cfg, "KubeSpawner", "storage_pvc_ensure", "true");
    expect(&cfg, "KubeSpawner", "storage_capacity", "\"10Gi\"");
    expect(&cfg, "KubeSpawner", "volumes",
           "{\"volume-{user_server}\": {\"name\": \"volume-{user_server}\", "
           "\"persistentVolumeClaim\": {\"claimName\": \"{pvc_name}\"}}}");
    expect(&cfg, "KubeSpawner", "volume_mounts",
           "{\"volume-{user_server}\": {\"mountPath\": \"/home/jovyan\", "
           "\"name\": \"volume-{user_server}\"}}");
    expect(&cfg, "KubeSpawner", "scheduler_name", "\"course-user-scheduler\"");
    expect(&cfg, "KubeSpawner", "node_affinity_required",
           "[{\"matchExpressions\": [{\"key\": \"hub.jupyter.org/node-purpose\", "
           "\"operator\": \"In\", \"values\": [\"user\"]}]}]");
    expect(&cfg, "KubeSpawner", "tolerations",
           "[{\"key\": \"hub.jupyter.org/dedicated\", \"operator\": \"Equal\", \"value\": "
           "\"user\", \"effect\": \"NoSchedule\"}, {\"key\": \"hub.jupyter.org_dedicated\", "
           "\"operator\": \"Equal\", \"value\": \"user\", \"effect\": \"NoSchedule\"}, "
           "{\"key\": \"gpu\", \"operator\": \"Exists\", \"effect\": \"NoSchedule\"}]");
    expect(&cfg, "KubeSpawner", "allow_privilege_escalation", "false");
    /* singleuser.cloudMetadata.blockWithIptables, true by the chart's default. */
    expect(&cfg, "KubeSpawner", "init_containers",
           "[{\"name\": \"block-cloud-metadata\", \"image\": "
           "\"quay.io/jupyterhub/k8s-network-tools:set-by-chartpress\", \"command\": "
           "[\"iptables\", \"--append\", \"OUTPUT\", \"--protocol\", \"tcp\", "
           "\"--destination\", \"169.254.169.254\", \"--destination-port\", \"80\", "
           "\"--jump\", \"DROP\"], \"securityContext\": {\"privileged\": true, "
           "\"runAsUser\": 0, \"capabilities\": {\"add\": [\"NET_ADMIN\"]}}, "
           "\"resources\": {}}]");
    expect(&cfg, "KubeSpawner", "delete_grace_period", "5"); /* a literal extraConfig */
    expect(&cfg, "Spawner", "cmd", "[\"jupyterhub-singleuser\"]");
    expect(&cfg, "Spawner", "default_url", "\"/lab\"");
    json_t *labels = config_get(&cfg, "KubeSpawner", "common_labels");
    assert_string_equal(json_string_value(json_object_get(labels, "app.kubernetes.io/managed-by")),
                        "kubespawner");
    assert_string_equal(json_string_value(json_object_get(labels, "app")), "jupyterhub");
    /* The culler as a managed service with its role; the grader with its token. */
    json_t *services = config_get(&cfg, "JupyterHub", "services");
    assert_int_equal(json_array_size(services), 2);
    json_t *cull = json_array_get(services, 0);
    assert_string_equal(json_string_value(json_object_get(cull, "name")), "jupyterhub-idle-culler");
    /* Ganymede's own culler (this very binary), with the chart's flags. */
    json_t *argv = json_deep_copy(json_object_get(cull, "command"));
    assert_non_null(strstr(json_string_value(json_array_get(argv, 0)), "test"));
    json_array_remove(argv, 0);
    char *cmd = json_dumps(argv, JSON_COMPACT);
    assert_string_equal(cmd, "[\"idle-culler\","
                             "\"--timeout=7200\",\"--cull-every=600\",\"--concurrency=10\","
                             "\"--cull-users\"]");
    free(cmd);
    json_decref(argv);
    json_t *grader = json_array_get(services, 1);
    assert_string_equal(json_string_value(json_object_get(grader, "api_token")),
                        "grader-token-0123456789");
    assert_null(json_object_get(grader, "apiToken"));
    json_t *roles = config_get(&cfg, "JupyterHub", "load_roles");
    assert_int_equal(json_array_size(roles), 2);
    char *scopes = json_dumps(json_object_get(json_array_get(roles, 0), "scopes"), JSON_COMPACT);
    assert_string_equal(scopes, "[\"list:users\",\"read:users:activity\",\"read:servers\","
                                "\"delete:servers\",\"admin:users\"]");
    free(scopes);
    assert_string_equal(json_string_value(json_object_get(json_array_get(roles, 1), "name")),
                        "tas");
    config_release(&cfg);
}

static void test_lowercase_section_is_refused(void **state)
{
    (void)state;
    put("existing-secret/values.yaml", "hub:\n  config:\n    loadRoles: {}\n");
    struct config cfg;
    char path[512], err[512] = "";
    snprintf(path, sizeof(path), "%s/jupyterhub_config.py", dir);
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "Invalid hub.config section name: loadRoles"));
    config_release(&cfg);
    put("existing-secret/values.yaml", course_values);
}

static void test_bad_values_yaml_names_the_file(void **state)
{
    (void)state;
    put("existing-secret/values.yaml", "hub: [unclosed\n");
    struct config cfg;
    char path[512], err[512] = "";
    snprintf(path, sizeof(path), "%s/jupyterhub_config.py", dir);
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "existing-secret/values.yaml"));
    config_release(&cfg);
    put("existing-secret/values.yaml", course_values);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_course_hub),
        cmocka_unit_test(test_lowercase_section_is_refused),
        cmocka_unit_test(test_bad_values_yaml_names_the_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
