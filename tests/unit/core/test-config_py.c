#include "test.h"
#include "core/config_py.h"

#include <stdlib.h>

static json_t *parse_ok(const char *text)
{
    json_t *tree = json_object(), *origins = json_object();
    char err[512];
    int r = config_py_parse(text, strlen(text), "c.py", tree, origins, err, sizeof(err));
    if (r != 0)
        fail_msg("parse failed: %s", err);
    json_decref(origins);
    return tree;
}

static void parse_err(const char *text, const char *expect)
{
    json_t *tree = json_object();
    char err[512];
    int r = config_py_parse(text, strlen(text), "c.py", tree, NULL, err, sizeof(err));
    json_decref(tree);
    assert_int_not_equal(r, 0);
    if (!strstr(err, expect))
        fail_msg("error '%s' does not contain '%s'", err, expect);
}

static void assert_json(json_t *tree, const char *path_cls, const char *trait, const char *expect)
{
    json_t *v = json_object_get(json_object_get(tree, path_cls), trait);
    assert_non_null(v);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(s, expect);
    free(s);
}

static void test_literals(void **state)
{
    json_t *t = parse_ok("c = get_config()  # noqa\n"
                         "c.JupyterHub.bind_url = 'http://:8000'\n"
                         "c.JupyterHub.port = 8000\n"
                         "c.Spawner.start_timeout = 60 * 5\n"
                         "c.Spawner.cpu_limit = 1.5\n"
                         "c.JupyterHub.admin_access = True\n"
                         "c.JupyterHub.default_url = None\n"
                         "c.Authenticator.admin_users = {'alice', \"bob\"}\n"
                         "c.Spawner.args = ['--debug', '--x=1',]\n"
                         "c.Spawner.cmd = ('jupyterhub-singleuser',)\n"
                         "c.Spawner.environment = {'A': 'b', 'N': -3}\n"
                         "c.Spawner.notebook_dir = r'~\\notebooks'\n"
                         "c.Spawner.default_url = 'a' 'b'\n"
                         "c.X.empty_set = set()\n"
                         "c.X.dict_call = dict(a=1, b='two')\n"
                         "c.X.hex = 0x10\n"
                         "c.X.under = 1_000\n"
                         "c.X.div = 7 // 2\n"
                         "c.X.fdiv = 1 / 4\n");
    assert_json(t, "JupyterHub", "bind_url", "\"http://:8000\"");
    assert_json(t, "JupyterHub", "port", "8000");
    assert_json(t, "Spawner", "start_timeout", "300");
    assert_json(t, "Spawner", "cpu_limit", "1.5");
    assert_json(t, "JupyterHub", "admin_access", "true");
    assert_json(t, "JupyterHub", "default_url", "null");
    assert_json(t, "Authenticator", "admin_users", "[\"alice\",\"bob\"]");
    assert_json(t, "Spawner", "args", "[\"--debug\",\"--x=1\"]");
    assert_json(t, "Spawner", "cmd", "[\"jupyterhub-singleuser\"]");
    assert_json(t, "Spawner", "environment", "{\"A\":\"b\",\"N\":-3}");
    assert_json(t, "Spawner", "notebook_dir", "\"~\\\\notebooks\"");
    assert_json(t, "Spawner", "default_url", "\"ab\"");
    assert_json(t, "X", "empty_set", "[]");
    assert_json(t, "X", "dict_call", "{\"a\":1,\"b\":\"two\"}");
    assert_json(t, "X", "hex", "16");
    assert_json(t, "X", "under", "1000");
    assert_json(t, "X", "div", "3");
    assert_json(t, "X", "fdiv", "0.25");
    json_decref(t);
}

static void test_multiline(void **state)
{
    json_t *t = parse_ok("c.JupyterHub.services = [\n"
                         "    {\n"
                         "        'name': 'culler',  # the idle culler\n"
                         "        'command': [\n"
                         "            'python3', '-m', 'jupyterhub_idle_culler',\n"
                         "        ],\n"
                         "    },\n"
                         "]\n"
                         "c.JupyterHub.template_vars = {'motd': '''line one\n"
                         "line two'''}\n"
                         "c.A.b = 1; c.A.c = 2\n"
                         "c.A.d = \\\n"
                         "    3\n");
    assert_json(
        t, "JupyterHub", "services",
        "[{\"name\":\"culler\",\"command\":[\"python3\",\"-m\",\"jupyterhub_idle_culler\"]}]");
    assert_json(t, "JupyterHub", "template_vars", "{\"motd\":\"line one\\nline two\"}");
    assert_json(t, "A", "c", "2");
    assert_json(t, "A", "d", "3");
    json_decref(t);
}

static void test_escapes(void **state)
{
    json_t *t = parse_ok("c.A.s = 'tab\\tnl\\nq\\'u\\u00e9x\\x41'\n");
    assert_json(t, "A", "s",
                "\"tab\\tnl\\nq'u\xc3\xa9x"
                "A\"");
    json_decref(t);
}

static void test_origins(void **state)
{
    const char *text = "# comment\n\nc.JupyterHub.port = 1\nc.Spawner.cmd = [\n 'x',\n]\n"
                       "c.Spawner.args = []\n";
    json_t *tree = json_object(), *origins = json_object();
    char err[256];
    assert_int_equal(config_py_parse(text, strlen(text), "f.py", tree, origins, err, sizeof(err)),
                     0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(origins, "JupyterHub"), "port")),
        "f.py:3");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(origins, "Spawner"), "args")), "f.py:7");
    json_decref(tree);
    json_decref(origins);
}

static void test_errors(void **state)
{
    parse_err("import os\n", "c.py:1: `import` is not supported");
    parse_err("c.JupyterHub.port = 1\nc.Spawner.cmd = os.environ['X']\n",
              "c.py:2: 'os' is not a literal");
    parse_err("c.A.b = f'x{y}'\n", "f-strings are not supported");
    parse_err("c.A.b = 'unclosed\n", "not closed");
    parse_err("c.A.b = [1, 2\n", "");
    parse_err("if True:\n    c.A.b = 1\n", "`if` is not supported");
    parse_err("c.Spawner.environment['X'] = 'y'\n", "changing part of c.Spawner.environment");
    parse_err("c.Spawner.args += ['x']\n", "`+=` is not supported");
    parse_err("c.A.b = 1 2\n", "unexpected");
    parse_err("def hook(spawner):\n    pass\n", "`def` is not supported");
    parse_err("c.A.b = {1: 2}\n", "dict keys must be strings");
    parse_err("c.A.b = 1 / 0\n", "division by zero");
    parse_err("c.A.b = lambda x: x\n", "'lambda' is not a literal");
    parse_err(
        "c.A.b = " /* deep nesting is bounded */
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
        "nested more than");
}

static void test_literal_cli(void **state)
{
    json_t *v = NULL;
    char err[256];
    assert_int_equal(config_py_parse_literal("['a', 'b']", &v, err, sizeof(err)), 0);
    assert_true(json_is_array(v) && json_array_size(v) == 2);
    json_decref(v);
    assert_int_equal(config_py_parse_literal("-5", &v, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(v), -5);
    json_decref(v);
    assert_int_not_equal(config_py_parse_literal("abc", &v, err, sizeof(err)), 0);
    assert_int_not_equal(config_py_parse_literal("1 2", &v, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals), cmocka_unit_test(test_multiline),
        cmocka_unit_test(test_escapes),  cmocka_unit_test(test_origins),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_literal_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
