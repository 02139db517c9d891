/* include/ganymede/yaml.h (src/core/config_yaml.c): documents read as PyYAML 6's safe_load
 * reads them (the expected JSON is json.dumps(yaml.safe_load(text), sort_keys=True)), and
 * messages that name the file and line of a mistake. */
#include "test.h"

#include <ganymede/yaml.h>

#include <stdlib.h>

static char *parse_dump(const char *text)
{
    json_t *doc = NULL;
    char err[256] = "";
    assert_int_equal(gm_yaml_parse(text, strlen(text), "t.yaml", &doc, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    char *s = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(doc);
    assert_non_null(s);
    return s;
}

static void expect(const char *text, const char *json)
{
    char *s = parse_dump(text);
    assert_string_equal(s, json);
    free(s);
}

static void test_scalars_and_structure(void **state)
{
    (void)state;
    expect("a: yes\nb: 'yes'\nc: ~\nd: 12\ne: 1.5\nf: [x, -3, off]\ng: {}\nh: &x {k: v}\n"
           "i: *x\nj: \"007\"\n",
           "{\"a\":true,\"b\":\"yes\",\"c\":null,\"d\":12,\"e\":1.5,\"f\":[\"x\",-3,false],"
           "\"g\":{},\"h\":{\"k\":\"v\"},\"i\":{\"k\":\"v\"},\"j\":\"007\"}");
    expect("- 1\n- two\n", "[1,\"two\"]");
    expect("{}", "{}");
    /* An empty document (or only comments) is None, where "{}" is an empty mapping. */
    expect("", "null");
    expect("# only a comment\n", "null");
}

static void test_length_not_nul(void **state)
{
    (void)state;
    /* Only @len bytes are read: what follows is not part of the document. */
    const char *text = "a: 1\nb: [";
    json_t *doc = NULL;
    char err[256];
    assert_int_equal(gm_yaml_parse(text, 5, "t.yaml", &doc, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "a")), 1);
    assert_int_equal(json_object_size(doc), 1);
    json_decref(doc);
}

static void expect_error(const char *text, const char *prefix, const char *what)
{
    json_t *doc = (json_t *)0x1;
    char err[256] = "";
    assert_int_equal(gm_yaml_parse(text, strlen(text), "/etc/x.yaml", &doc, err, sizeof(err)),
                     -EINVAL);
    /* The out-parameter is untouched on failure. */
    assert_ptr_equal(doc, (json_t *)0x1);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
        fail_msg("message '%s' does not start with '%s' and contain '%s'", err, prefix, what);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("a: b: c\n", "/etc/x.yaml:1: ", "mapping values are not allowed");
    expect_error("a:\n  - x\n b: y\n", "/etc/x.yaml:3: ", "block");
    expect_error("a: [1, 2\n", "/etc/x.yaml:2: ", "flow sequence");
    /* A key that is not a scalar is reported at the line of its mapping. */
    expect_error("x: 1\n? [a]\n: 1\n", "/etc/x.yaml:1: ", "mapping keys must be plain strings");
    expect_error("a: \"\xff\"\n", "/etc/x.yaml:", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_and_structure),
        cmocka_unit_test(test_length_not_nul),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
