/* Scope expansion, intersection and checks, against what jupyterhub/scopes.py does. */
#include "test.h"
#include "auth/scopes.h"

#include <stdlib.h>

static struct scope_registry reg;

static int setup(void **state)
{
    char err[256];
    json_t *custom = json_loads("{\"custom:read:x\": {\"description\": \"read x\"}, "
                                "\"custom:xyz\": {\"description\": \"x\", \"subscopes\": "
                                "[\"custom:read:x\"]}}",
                                0, NULL);
    int r = scope_registry_init(&reg, custom, err, sizeof(err));
    json_decref(custom);
    return r;
}

static int teardown(void **state)
{
    scope_registry_release(&reg);
    return 0;
}

/* Expand raw scopes for a user and return the sorted expanded strings joined by spaces. */
static char *expand(const char *const *raw, size_t n, const char *user)
{
    struct scope_set *s = scope_set_new(&reg);
    struct scope_owner owner = {.kind = SCOPE_OWNER_USER, .name = user};
    assert_int_equal(scope_expand(&reg, raw, n, user ? &owner : NULL, s), 0);
    struct strset out = {0};
    assert_int_equal(scope_set_strings(s, &reg, &out), 0);
    struct gm_buf b;
    gm_buf_init(&b, 1 << 16);
    gm_buf_puts(&b, "");
    for (size_t i = 0; i < out.n; i++)
        gm_buf_printf(&b, "%s%s", i ? " " : "", out.v[i]);
    strset_free(&out);
    scope_set_free(s);
    return gm_buf_steal(&b);
}

static void check_expand(const char *const *raw, size_t n, const char *user, const char *want)
{
    char *got = expand(raw, n, user);
    if (strcmp(got, want) != 0)
        fail_msg("expanded to\n  %s\nexpected\n  %s", got, want);
    free(got);
}

static void test_subscopes_and_filters(void **state)
{
    const char *a[] = {"read:users"};
    check_expand(a, 1, NULL, "read:users read:users:activity read:users:groups read:users:name");
    const char *b[] = {"users!group=staff"};
    check_expand(b, 1, NULL,
                 "list:users!group=staff read:users!group=staff "
                 "read:users:activity!group=staff read:users:groups!group=staff "
                 "read:users:name!group=staff users!group=staff users:activity!group=staff");
    /* A server filter is not copied onto read:users* subscopes. */
    const char *c[] = {"servers!server=alice/gpu"};
    check_expand(c, 1, NULL,
                 "delete:servers!server=alice/gpu read:servers!server=alice/gpu "
                 "servers!server=alice/gpu");
    /* Unfiltered wins over filtered (reduce_scopes). */
    const char *d[] = {"read:users!user=alice", "read:users:name"};
    check_expand(d, 2, NULL,
                 "read:users!user=alice read:users:activity!user=alice "
                 "read:users:groups!user=alice read:users:name");
    const char *e[] = {"custom:xyz"};
    check_expand(e, 1, NULL, "custom:read:x custom:xyz");
}

static void test_self_and_owner_filters(void **state)
{
    const char *a[] = {"self"};
    check_expand(a, 1, "alice",
                 "access:servers!user=alice delete:servers!user=alice read:servers!user=alice "
                 "read:shares!user=alice read:tokens!user=alice read:users!user=alice "
                 "read:users:activity!user=alice read:users:groups!user=alice "
                 "read:users:name!user=alice read:users:shares!user=alice servers!user=alice "
                 "tokens!user=alice users:activity!user=alice users:shares!user=alice");
    const char *b[] = {"users:activity!user", "access:servers!server"};
    /* !server needs the token's OAuth client; without one it grants nothing. */
    check_expand(b, 2, "bob", "read:users:activity!user=bob users:activity!user=bob");
    /* self means nothing without a user owner. */
    check_expand(a, 1, NULL, "");
}

static struct scope_set *parse(const char *const *raw, size_t n)
{
    struct scope_set *s = scope_set_new(&reg);
    assert_int_equal(scope_expand(&reg, raw, n, NULL, s), 0);
    return s;
}

/* Membership for tests: alice and carol are in staff. */
static bool in_groups(void *ctx, const char *name, const struct strset *groups)
{
    return (strcmp(name, "alice") == 0 || strcmp(name, "carol") == 0) &&
           strset_has(groups, "staff");
}

static const struct scope_membership members = {.user_in_any = in_groups};

static void test_has_scope(void **state)
{
    const char *raw[] = {"read:users!group=staff", "servers!user=bob", "admin:groups"};
    struct scope_set *s = parse(raw, 3);
    assert_true(scope_has(s, SCOPE_READ_USERS, SCOPE_KIND_USER, "alice", false, &members));
    assert_false(scope_has(s, SCOPE_READ_USERS, SCOPE_KIND_USER, "bob", false, &members));
    /* user ⊂ group, server ⊂ user */
    assert_true(scope_has(s, SCOPE_SERVERS, SCOPE_KIND_SERVER, "bob/gpu", false, &members));
    assert_true(scope_has(s, SCOPE_SERVERS, SCOPE_KIND_SERVER, "bob/", false, &members));
    assert_false(scope_has(s, SCOPE_SERVERS, SCOPE_KIND_SERVER, "bobby/", false, &members));
    /* Unfiltered requests need unfiltered scopes, unless post-filtered. */
    assert_false(scope_has(s, SCOPE_READ_USERS, SCOPE_KIND_NONE, NULL, false, &members));
    assert_true(scope_has(s, SCOPE_READ_USERS, SCOPE_KIND_NONE, NULL, true, &members));
    assert_true(scope_has(s, SCOPE_GROUPS, SCOPE_KIND_GROUP, "any", false, &members));
    assert_false(scope_has(s, SCOPE_TOKENS, SCOPE_KIND_USER, "bob", false, &members));
    scope_set_free(s);
}

static char *strings(const struct scope_set *s)
{
    struct strset out = {0};
    assert_int_equal(scope_set_strings(s, &reg, &out), 0);
    struct gm_buf b;
    gm_buf_init(&b, 1 << 16);
    gm_buf_puts(&b, "");
    for (size_t i = 0; i < out.n; i++)
        gm_buf_printf(&b, "%s%s", i ? " " : "", out.v[i]);
    strset_free(&out);
    return gm_buf_steal(&b);
}

static void check_intersect(const char *const *a, size_t na, const char *const *b, size_t nb,
                            const char *want)
{
    struct scope_set *x = parse(a, na), *y = parse(b, nb);
    struct scope_set *both = scope_intersect(x, y, &members);
    char *got = strings(both);
    if (strcmp(got, want) != 0)
        fail_msg("intersection\n  %s\nexpected\n  %s", got, want);
    free(got);
    scope_set_free(x);
    scope_set_free(y);
    scope_set_free(both);
}

static void test_intersection(void **state)
{
    const char *a1[] = {"read:users:name"}, *b1[] = {"read:users:name!user=alice"};
    check_intersect(a1, 1, b1, 1, "read:users:name!user=alice");
    /* user ⊂ group */
    const char *a2[] = {"read:users:name!user=alice", "read:users:name!user=bob"};
    const char *b2[] = {"read:users:name!group=staff"};
    check_intersect(a2, 2, b2, 1, "read:users:name!user=alice");
    /* server ⊂ user, both directions */
    const char *a3[] = {"delete:servers!server=alice/x"}, *b3[] = {"delete:servers!user=alice"};
    check_intersect(a3, 1, b3, 1, "delete:servers!server=alice/x");
    check_intersect(b3, 1, a3, 1, "delete:servers!server=alice/x");
    /* server ⊂ group */
    const char *b4[] = {"delete:servers!group=staff"};
    check_intersect(a3, 1, b4, 1, "delete:servers!server=alice/x");
    /* nothing in common */
    const char *a5[] = {"read:users!user=bob"}, *b5[] = {"read:users!user=alice"};
    check_intersect(a5, 1, b5, 1, "");
}

static void test_exists(void **state)
{
    char err[256];
    assert_true(scope_exists(&reg, "read:users!user=alice", NULL, err, sizeof(err)));
    assert_true(scope_exists(&reg, "users:activity!user", NULL, err, sizeof(err)));
    assert_true(scope_exists(&reg, "custom:xyz", NULL, err, sizeof(err)));
    assert_false(scope_exists(&reg, "read:nothing", "for token", err, sizeof(err)));
    assert_string_equal(err, "Scope 'read:nothing' for token does not exist");
    assert_false(scope_exists(&reg, "all", NULL, err, sizeof(err)));
    assert_string_equal(err, "Draft scope 'all' is now called 'inherit'");
    assert_false(scope_exists(&reg, "read:users!group", NULL, err, sizeof(err)));
    assert_false(scope_exists(&reg, "read:users!planet=mars", NULL, err, sizeof(err)));
    assert_false(scope_exists(&reg, "read:users!user=", NULL, err, sizeof(err)));
}

static void test_custom_scope_rules(void **state)
{
    struct scope_registry r2;
    char err[256];
    json_t *bad = json_loads("{\"custom:Bad\": {\"description\": \"x\"}}", 0, NULL);
    assert_int_equal(scope_registry_init(&r2, bad, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "invalid scope name 'custom:Bad'"));
    json_decref(bad);
    bad = json_loads("{\"custom:xy1\": {}}", 0, NULL);
    assert_int_equal(scope_registry_init(&r2, bad, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "has no 'description'"));
    json_decref(bad);
    bad = json_loads("{\"custom:xy1\": {\"description\": \"d\", \"subscopes\": [\"read:users\"]}}",
                     0, NULL);
    assert_int_equal(scope_registry_init(&r2, bad, err, sizeof(err)), -EINVAL);
    json_decref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscopes_and_filters),
        cmocka_unit_test(test_self_and_owner_filters),
        cmocka_unit_test(test_has_scope),
        cmocka_unit_test(test_intersection),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_custom_scope_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
