/* src/util/json.c: gm_json_path, gm_json_at and gm_json_id_at (<ganymede/json.h>). */
#include "test.h"

#include <errno.h>
#include <ganymede/json.h>
#include <stdlib.h>

static json_t *doc(void)
{
    json_error_t e;
    json_t *d = json_loads("{\"oauth_user\": {\"groups\": [\"a\", \"b\"], \"name\": \"alice\","
                           " \"orgs\": [{\"name\": \"o1\"}, {\"name\": \"o2\"}],"
                           " \"0\": \"zero-key\", \"\": \"empty\"},"
                           " \"n\": 3, \"s\": \"text\", \"nil\": null}",
                           0, &e);
    assert_non_null(d);
    return d;
}

static void test_found(void **state)
{
    json_t *d = doc();
    const json_t *v = NULL;
    assert_int_equal(gm_json_path(d, "oauth_user.name", &v), 0);
    assert_string_equal(json_string_value(v), "alice");
    assert_int_equal(gm_json_path(d, "oauth_user.groups", &v), 0);
    assert_true(json_is_array(v));
    assert_int_equal(gm_json_path(d, "oauth_user.groups.1", &v), 0);
    assert_string_equal(json_string_value(v), "b");
    assert_int_equal(gm_json_path(d, "oauth_user.orgs.1.name", &v), 0);
    assert_string_equal(json_string_value(v), "o2");
    /* A number is a key on an object. */
    assert_int_equal(gm_json_path(d, "oauth_user.0", &v), 0);
    assert_string_equal(json_string_value(v), "zero-key");
    /* "" is the document itself; null is a value that is there. */
    assert_int_equal(gm_json_path(d, "", &v), 0);
    assert_ptr_equal(v, d);
    assert_int_equal(gm_json_path(d, "nil", &v), 0);
    assert_true(json_is_null(v));
    /* The result is borrowed: the same object the document holds. */
    assert_ptr_equal(gm_json_at(d, "n"), json_object_get(d, "n"));
    json_decref(d);
}

static void test_missing(void **state)
{
    json_t *d = doc();
    const json_t *v = (const json_t *)1;
    assert_int_equal(gm_json_path(d, "nope", &v), -ENOENT);
    assert_ptr_equal(v, (const json_t *)1); /* untouched on failure */
    assert_int_equal(gm_json_path(d, "oauth_user.nope.x", &v), -ENOENT);
    assert_int_equal(gm_json_path(d, "oauth_user.groups.2", &v), -ENOENT);
    assert_int_equal(gm_json_path(d, "oauth_user.groups.x", &v), -ENOENT);
    assert_int_equal(gm_json_path(d, "oauth_user.groups.-1", &v), -ENOENT);
    assert_int_equal(gm_json_path(d, "oauth_user.groups.99999999999999999999", &v), -ENOENT);
    assert_int_equal(gm_json_path(d, "s.length", &v), -ENOENT); /* under a string */
    assert_int_equal(gm_json_path(d, "n.0", &v), -ENOENT);
    assert_int_equal(gm_json_path(d, "nil.x", &v), -ENOENT);
    assert_int_equal(gm_json_path(NULL, "a", &v), -ENOENT);
    assert_null(gm_json_at(d, "oauth_user.orgs.5.name"));
    assert_null(gm_json_at(NULL, ""));
    json_decref(d);
}

static void test_bad_paths(void **state)
{
    json_t *d = doc();
    const json_t *v = NULL;
    assert_int_equal(gm_json_path(d, NULL, &v), -EINVAL);
    assert_int_equal(gm_json_path(d, ".oauth_user", &v), -EINVAL);
    assert_int_equal(gm_json_path(d, "oauth_user.", &v), -EINVAL);
    assert_int_equal(gm_json_path(d, "oauth_user..name", &v), -EINVAL);
    assert_int_equal(gm_json_path(d, ".", &v), -EINVAL);
    assert_null(gm_json_at(d, "a..b"));
    /* The cap: GM_JSON_PATH_MAX bytes are looked up, one more is refused. */
    char *p = malloc(GM_JSON_PATH_MAX + 2);
    memset(p, 'a', GM_JSON_PATH_MAX + 1);
    p[GM_JSON_PATH_MAX + 1] = '\0';
    assert_int_equal(gm_json_path(d, p, &v), -ENAMETOOLONG);
    p[GM_JSON_PATH_MAX] = '\0';
    assert_int_equal(gm_json_path(d, p, &v), -ENOENT);
    free(p);
    json_decref(d);
}

static void test_ids(void **state)
{
    (void)state;
    json_t *d = json_loads("{\"u\": {\"id\": 1001, \"s\": \"42\", \"zero\": 0, \"max\": "
                           "2147483647, \"big\": 2147483648, \"neg\": -1, \"bigs\": "
                           "\"2147483648\", \"long\": \"12345678901\", \"sign\": \"+1\", "
                           "\"empty\": \"\", \"real\": 1.0, \"t\": true, \"nil\": null}}",
                           0, NULL);
    assert_non_null(d);
    int64_t id = -7;
    assert_int_equal(gm_json_id_at(d, "u.id", &id), 0);
    assert_int_equal(id, 1001);
    assert_int_equal(gm_json_id_at(d, "u.s", &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(gm_json_id_at(d, "u.zero", &id), 0);
    assert_int_equal(id, 0);
    assert_int_equal(gm_json_id_at(d, "u.max", &id), 0);
    assert_int_equal(id, 2147483647);
    id = -7;
    assert_int_equal(gm_json_id_at(d, "u.big", &id), -ERANGE);
    assert_int_equal(gm_json_id_at(d, "u.neg", &id), -ERANGE);
    assert_int_equal(gm_json_id_at(d, "u.bigs", &id), -ERANGE);
    assert_int_equal(gm_json_id_at(d, "u.long", &id), -EINVAL);
    assert_int_equal(gm_json_id_at(d, "u.sign", &id), -EINVAL);
    assert_int_equal(gm_json_id_at(d, "u.empty", &id), -EINVAL);
    assert_int_equal(gm_json_id_at(d, "u.real", &id), -EINVAL);
    assert_int_equal(gm_json_id_at(d, "u.t", &id), -EINVAL);
    assert_int_equal(gm_json_id_at(d, "u.nil", &id), -EINVAL);
    assert_int_equal(gm_json_id_at(d, "u.none", &id), -ENOENT);
    assert_int_equal(gm_json_id_at(NULL, "u.id", &id), -ENOENT);
    assert_int_equal(gm_json_id_at(d, "u..id", &id), -EINVAL);
    assert_int_equal(id, -7); /* written only on success */
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
