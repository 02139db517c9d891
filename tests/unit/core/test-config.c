#include "test.h"
#include "core/config.h"
#include "core/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A small registry: a base class, a subclass and a sibling subclass, as Spawner,
 * LocalProcessSpawner and DockerSpawner relate. */
struct base_conf {
    char *cmd0;
    char **args;
    double timeout;
    bool debug;
    int64_t port;
    json_t *env;
};
struct sub_conf {
    char *home;
    char *policy;
};

static const char *const policies[] = {"always", "never", NULL};

static const struct gm_option base_opts[] = {
    GM_OPTION("cmd0", GM_OPTION_STRING, offsetof(struct base_conf, cmd0), "\"run\"", "Command."),
    GM_OPTION("args", GM_OPTION_STRINGS, offsetof(struct base_conf, args), NULL, "Arguments."),
    GM_OPTION("timeout", GM_OPTION_FLOAT, offsetof(struct base_conf, timeout), "60", "Timeout."),
    GM_OPTION("debug", GM_OPTION_BOOL, offsetof(struct base_conf, debug), NULL, "Debug."),
    GM_OPTION_X("port", GM_OPTION_INT, offsetof(struct base_conf, port), "0", "Port.",
                .env = "GM_TEST_PORT"),
    GM_OPTION("environment", GM_OPTION_JSON, offsetof(struct base_conf, env), "{}", "Env."),
    GM_OPTION_END,
};
static const struct gm_option sub_opts[] = {
    GM_OPTION("home", GM_OPTION_STRING, offsetof(struct sub_conf, home), "\"/home\"", "Home."),
    GM_OPTION_END,
};
static const struct gm_option sibling_opts[] = {
    GM_OPTION_X("pull_policy", GM_OPTION_STRING, offsetof(struct sub_conf, policy), "\"always\"",
                "Pull policy.", .choices = policies),
    GM_OPTION_END,
};
static const struct gm_option_class base_cls = {
    .name = "Spawner", .help = "Base.", .options = base_opts};
static const struct gm_option_class sub_cls = {
    .name = "LocalProcessSpawner", .parent = "Spawner", .help = "Sub.", .options = sub_opts};
static const struct gm_option_class sibling_cls = {
    .name = "DockerSpawner", .parent = "Spawner", .help = "Sibling.", .options = sibling_opts};
static const struct gm_option_class *const registry[] = {&base_cls, &sub_cls, &sibling_cls, NULL};

static char *write_temp(const char *suffix, const char *text)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/gm-test-XXXXXX%s", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load_text(struct config *cfg, const char *suffix, const char *text, char *err,
                     size_t errlen)
{
    char *path = write_temp(suffix, text);
    int r = config_load_file(cfg, path, err, errlen);
    unlink(path);
    free(path);
    return r;
}

static void apply_chain(struct config *cfg, struct base_conf *b, struct sub_conf *s, int expect,
                        const char *expect_err)
{
    memset(b, 0, sizeof(*b));
    memset(s, 0, sizeof(*s));
    assert_int_equal(options_init(&base_cls, b), 0);
    assert_int_equal(options_init(&sub_cls, s), 0);
    const struct gm_option_class *chain[] = {&base_cls, &sub_cls};
    void *confs[] = {b, s};
    char err[512] = "";
    int r = config_apply(cfg, chain, confs, 2, err, sizeof(err));
    if (r != expect)
        fail_msg("config_apply: %d (%s)", r, err);
    assert_int_equal(r, expect);
    if (expect_err && !strstr(err, expect_err))
        fail_msg("error '%s' lacks '%s'", err, expect_err);
}

static void release(struct base_conf *b, struct sub_conf *s)
{
    options_release(&base_cls, b);
    options_release(&sub_cls, s);
}

static void test_json_file_and_inheritance(void **state)
{
    struct config cfg;
    char err[512];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".json",
                               "{\"Spawner\": {\"cmd0\": \"base\", \"timeout\": 5, "
                               "\"args\": [\"-x\"]}, \"LocalProcessSpawner\": "
                               "{\"cmd0\": \"sub\", \"home\": \"/h\"}}",
                               err, sizeof(err)),
                     0);
    assert_int_equal(config_check(&cfg, registry, err, sizeof(err)), 0);
    struct base_conf b;
    struct sub_conf s;
    apply_chain(&cfg, &b, &s, 0, NULL);
    assert_string_equal(b.cmd0, "sub"); /* the subclass wins */
    assert_true(b.timeout == 5.0);      /* an integer for a float */
    assert_string_equal(b.args[0], "-x");
    assert_null(b.args[1]);
    assert_string_equal(s.home, "/h");
    release(&b, &s);
    config_release(&cfg);
}

static void test_yaml_and_z2jh(void **state)
{
    struct config cfg;
    char err[512];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".yaml",
                               "proxy:\n  secretToken: x\n"
                               "hub:\n  config:\n    Spawner:\n      debug: yes\n"
                               "      port: 8888\n      environment:\n        A: '1'\n",
                               err, sizeof(err)),
                     0);
    struct base_conf b;
    struct sub_conf s;
    apply_chain(&cfg, &b, &s, 0, NULL);
    assert_true(b.debug);
    assert_int_equal(b.port, 8888);
    assert_string_equal(json_string_value(json_object_get(b.env, "A")), "1");
    release(&b, &s);
    /* Errors in YAML files name the line of the setting. */
    assert_int_equal(load_text(&cfg, ".yml", "Spawner:\n  port: 'eighty'\n", err, sizeof(err)), 0);
    apply_chain(&cfg, &b, &s, -EINVAL, ":2) must be an integer, not a string");
    release(&b, &s);
    config_release(&cfg);
}

static void test_type_errors(void **state)
{
    struct config cfg;
    char err[512];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".py", "c.Spawner.args = 'not a list'\n", err, sizeof(err)),
                     0);
    struct base_conf b;
    struct sub_conf s;
    apply_chain(&cfg, &b, &s, -EINVAL, "Spawner.args (");
    release(&b, &s);
    apply_chain(&cfg, &b, &s, -EINVAL, "must be a list of strings, not a string");
    release(&b, &s);
    config_release(&cfg);
}

static void test_typos_and_unknown(void **state)
{
    struct config cfg;
    char err[512];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".py", "c.Spawner.timeuot = 3\n", err, sizeof(err)), 0);
    assert_int_equal(config_check(&cfg, registry, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "unknown setting Spawner.timeuot"));
    assert_non_null(strstr(err, "did you mean Spawner.timeout?"));
    config_release(&cfg);

    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".json", "{\"Spawnr\": {\"cmd0\": \"x\"}}", err, sizeof(err)),
                     0);
    assert_int_equal(config_check(&cfg, registry, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "did you mean Spawner?"));
    config_release(&cfg);

    /* A JupyterHub setting Ganymede lacks, a sibling's setting on the base class, and a class of
     * another package are accepted (with warnings) so that existing configs start. */
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".py",
                               "c.Spawner.pre_spawn_hook = None\n"
                               "c.Spawner.pull_policy = 'never'\n"
                               "c.NativeAuthenticator.open_signup = True\n",
                               err, sizeof(err)),
                     0);
    assert_int_equal(config_check(&cfg, registry, err, sizeof(err)), 0);
    config_release(&cfg);
}

static void test_choices_and_env(void **state)
{
    struct config cfg;
    char err[512];
    assert_int_equal(config_init(&cfg), 0);
    setenv("GM_TEST_PORT", "9999", 1);
    struct base_conf b;
    struct sub_conf s;
    apply_chain(&cfg, &b, &s, 0, NULL);
    assert_int_equal(b.port, 9999); /* from the environment when the config is silent */
    release(&b, &s);
    assert_int_equal(config_set_arg(&cfg, registry, "Spawner.port", "1234", err, sizeof(err)), 0);
    apply_chain(&cfg, &b, &s, 0, NULL);
    assert_int_equal(b.port, 1234); /* the config wins over the environment */
    release(&b, &s);
    unsetenv("GM_TEST_PORT");
    assert_int_equal(config_set_arg(&cfg, registry, "Spawner.port", "many", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "is not an integer"));
    assert_int_equal(config_set_arg(&cfg, registry, "Spawner.args", "--one", err, sizeof(err)), 0);
    assert_int_equal(json_array_size(config_get(&cfg, "Spawner", "args")), 1);
    assert_int_equal(config_set_arg(&cfg, registry, "Spawner.debug", "yes", err, sizeof(err)), 0);
    assert_true(json_is_true(config_get(&cfg, "Spawner", "debug")));
    assert_string_equal(config_origin(&cfg, "Spawner", "debug"), "--Spawner.debug");
    assert_int_equal(config_set_arg(&cfg, registry, "nodot", "x", err, sizeof(err)), -EINVAL);
    config_release(&cfg);

    const char *why;
    json_t *v = json_string("sometimes");
    assert_int_equal(options_validate(&sibling_opts[0], v, &why), -EINVAL);
    json_decref(v);
}

static void test_file_errors(void **state)
{
    struct config cfg;
    char err[512];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_load_file(&cfg, "/nonexistent/c.py", err, sizeof(err)), -ENOENT);
    assert_int_equal(load_text(&cfg, ".json", "{\"Spawner\": [1]}", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "top-level key 'Spawner'"));
    assert_int_equal(load_text(&cfg, ".json", "{bad json", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not valid JSON"));
    assert_int_equal(load_text(&cfg, ".yaml", "a: [1, 2\n", err, sizeof(err)), -EINVAL);
    assert_int_equal(load_text(&cfg, ".toml", "x = 1", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "must end in .py, .json, .yaml or .yml"));
    config_release(&cfg);
}

static void test_reference(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    options_write_reference(f, registry, OPTIONS_FORMAT_PY);
    fclose(f);
    assert_non_null(strstr(text, "# c.Spawner.timeout = 60"));
    assert_non_null(strstr(text, "# c.Spawner.args = []"));
    assert_non_null(strstr(text, "## Pull policy. One of: 'always', 'never'."));
    /* The generated file is itself a valid config. */
    struct config cfg;
    char err[256];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(load_text(&cfg, ".py", text, err, sizeof(err)), 0);
    config_release(&cfg);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_file_and_inheritance),
        cmocka_unit_test(test_yaml_and_z2jh),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_typos_and_unknown),
        cmocka_unit_test(test_choices_and_env),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
