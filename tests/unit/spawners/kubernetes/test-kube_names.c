/* spawners/kubernetes/kube_names.c: KubeSpawner 7's template fields (_expand_user_properties in
 * kubespawner/spawner.py) and the checks of the names they make. The expected values are what
 * KubeSpawner itself gives: its tests (test_pod_name_*, test_pod_name_collision,
 * test_expansion_hyphens, test_variable_expansion, test_spawn_enable_user_namespaces) and
 * _expand_user_properties run with kubespawner/slugs.py for the other names. The slugs
 * themselves are tested in tests/unit/util/test-template.c. */
#include "test.h"
#include "spawners/kubernetes/kube.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define LONG_USER   "a-very-long-user-name-that-goes-on-and-on-and-on" /* 48: safe as it is */
#define LONG_SERVER "an-even-longer-server-name-than-the-user-name-x"  /* 47 */

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

/* kube_names_init reads only slug_scheme of the configuration. */
static void names(struct kube_names *n, const char *scheme, const char *hub_namespace,
                  const char *user, const char *server, int64_t user_id)
{
    struct kube_conf c;
    memset(&c, 0, sizeof(c));
    c.slug_scheme = (char *)scheme;
    assert_int_eq(kube_names_init(n, &c, hub_namespace, user, server, user_id), 0);
}

static void check_fields(const char *scheme, const char *user, const char *server, const char *want)
{
    struct kube_names n;
    names(&n, scheme, "default", user, server, 7);
    assert_int_eq(n.scheme, strcmp(scheme, "escape") == 0 ? GM_SLUG_ESCAPE : GM_SLUG_SAFE);
    assert_json_eq(n.fields, want);
    kube_names_release(&n);
}

/* @tmpl expanded for @user / @server under @scheme (hub namespace "default"). */
static void check_expand(const char *scheme, const char *user, const char *server, const char *tmpl,
                         const char *want)
{
    struct kube_names n;
    names(&n, scheme, "default", user, server, 7);
    char *got = NULL, err[256] = "";
    int r = kube_expand(&n, tmpl, &got, err, sizeof(err));
    if (r != 0)
        fail_msg("%s: %d %s", tmpl, r, err);
    if (strcmp(got, want) != 0)
        fail_msg("%s for %s/%s (%s): got \"%s\", want \"%s\"", tmpl, user, server ? server : "-",
                 scheme, got, want);
    free(got);
    kube_names_release(&n);
}

/* The fields, as _expand_user_properties's ns dict for user id 7 in namespace "default". */
static const char *const want_plain_safe = "{"
                                           "\"userid\":7,"
                                           "\"unescaped_username\":\"user1\","
                                           "\"unescaped_servername\":\"\","
                                           "\"hubnamespace\":\"user\","
                                           "\"username\":\"user1\","
                                           "\"servername\":\"\","
                                           "\"user_server\":\"user1\","
                                           "\"safe_username\":\"user1\","
                                           "\"safe_servername\":\"\","
                                           "\"safe_user_server\":\"user1\","
                                           "\"escaped_username\":\"user1\","
                                           "\"escaped_servername\":\"\","
                                           "\"escaped_user_server\":\"user1--\","
                                           "\"pod_name\":\"pod_name_unavailable!\","
                                           "\"pvc_name\":\"pvc_name_unavailable!\","
                                           "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_plain_escape = "{"
                                             "\"userid\":7,"
                                             "\"unescaped_username\":\"user1\","
                                             "\"unescaped_servername\":\"\","
                                             "\"hubnamespace\":\"user\","
                                             "\"username\":\"user1\","
                                             "\"servername\":\"\","
                                             "\"user_server\":\"user1\","
                                             "\"safe_username\":\"user1\","
                                             "\"safe_servername\":\"\","
                                             "\"safe_user_server\":\"user1\","
                                             "\"escaped_username\":\"user1\","
                                             "\"escaped_servername\":\"\","
                                             "\"escaped_user_server\":\"user1--\","
                                             "\"pod_name\":\"pod_name_unavailable!\","
                                             "\"pvc_name\":\"pvc_name_unavailable!\","
                                             "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_alice_safe =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"Alice@Example.org\","
    "\"unescaped_servername\":\"\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"alice-example-org---cfd44c4f\","
    "\"servername\":\"\","
    "\"user_server\":\"alice-example-org---cfd44c4f\","
    "\"safe_username\":\"alice-example-org---cfd44c4f\","
    "\"safe_servername\":\"\","
    "\"safe_user_server\":\"alice-example-org---cfd44c4f\","
    "\"escaped_username\":\"-41lice-40-45xample-2eorg\","
    "\"escaped_servername\":\"\","
    "\"escaped_user_server\":\"-41lice-40-45xample-2eorg--\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_alice_escape =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"Alice@Example.org\","
    "\"unescaped_servername\":\"\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"-41lice-40-45xample-2eorg\","
    "\"servername\":\"\","
    "\"user_server\":\"-41lice-40-45xample-2eorg\","
    "\"safe_username\":\"alice-example-org---cfd44c4f\","
    "\"safe_servername\":\"\","
    "\"safe_user_server\":\"alice-example-org---cfd44c4f\","
    "\"escaped_username\":\"-41lice-40-45xample-2eorg\","
    "\"escaped_servername\":\"\","
    "\"escaped_user_server\":\"-41lice-40-45xample-2eorg--\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_named_safe =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"user.name\","
    "\"unescaped_servername\":\"My Server\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"user-name---c69f268f\","
    "\"servername\":\"my-server---c2d9a82f\","
    "\"user_server\":\"user-name---c69f268f--my-server---c2d9a82f\","
    "\"safe_username\":\"user-name---c69f268f\","
    "\"safe_servername\":\"my-server---c2d9a82f\","
    "\"safe_user_server\":\"user-name---c69f268f--my-server---c2d9a82f\","
    "\"escaped_username\":\"user-2ename\","
    "\"escaped_servername\":\"-4dy-20-53erver\","
    "\"escaped_user_server\":\"user-2ename---4dy-20-53erver\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_named_escape =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"user.name\","
    "\"unescaped_servername\":\"My Server\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"user-2ename\","
    "\"servername\":\"-4dy-20-53erver\","
    "\"user_server\":\"user-2ename---4dy-20-53erver\","
    "\"safe_username\":\"user-name---c69f268f\","
    "\"safe_servername\":\"my-server---c2d9a82f\","
    "\"safe_user_server\":\"user-name---c69f268f--my-server---c2d9a82f\","
    "\"escaped_username\":\"user-2ename\","
    "\"escaped_servername\":\"-4dy-20-53erver\","
    "\"escaped_user_server\":\"user-2ename---4dy-20-53erver\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_long_safe =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"a-very-long-user-name-that-goes-on-and-on-and-on\","
    "\"unescaped_servername\":\"an-even-longer-server-name-than-the-user-name-x\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"a-very-long-user-name-that-goes-on-and-on-and-on\","
    "\"servername\":\"an-even-longer-server-name-than-the-user-name-x\","
    "\"user_server\":\"a-very-long-user--an-even-longer-se---f6a91375\","
    "\"safe_username\":\"a-very-long-user-name-that-goes-on-and-on-and-on\","
    "\"safe_servername\":\"an-even-longer-server-name-than-the-user-name-x\","
    "\"safe_user_server\":\"a-very-long-user--an-even-longer-se---f6a91375\","
    "\"escaped_username\":\"a-2dvery-2dlong-2duser-2dname-2dthat-2dgoes-2don-2dand-2don-2dand-"
    "2don\","
    "\"escaped_servername\":\"an-2deven-2dlonger-2dserver-2dname-2dthan-2dthe-2duser-2dname-2dx\","
    "\"escaped_user_server\":\"a-2dvery-2dlong-2duser-2dname-2dthat-2dgoes-2don-2dand-2don-2dand-"
    "2don--an-2deven-2dlonger-2dserver-2dname-2dthan-2dthe-2duser-2dname-2dx\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_long_escape =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"a-very-long-user-name-that-goes-on-and-on-and-on\","
    "\"unescaped_servername\":\"an-even-longer-server-name-than-the-user-name-x\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"a-2dvery-2dlong-2duser-2dname-2dthat-2dgoes-2don-2dand-2don-2dand-2don\","
    "\"servername\":\"an-2deven-2dlonger-2dserver-2dname-2dthan-2dthe-2duser-2dname-2dx\","
    "\"user_server\":\"a-2dvery-2dlong-2duser-2dname-2dthat-2dgoes-2don-2dand-2don-2dand-2don--an-"
    "2deven-2dlonger-2dserver-2dname-2dthan-2dthe-2duser-2dname-2dx\","
    "\"safe_username\":\"a-very-long-user-name-that-goes-on-and-on-and-on\","
    "\"safe_servername\":\"an-even-longer-server-name-than-the-user-name-x\","
    "\"safe_user_server\":\"a-very-long-user--an-even-longer-se---f6a91375\","
    "\"escaped_username\":\"a-2dvery-2dlong-2duser-2dname-2dthat-2dgoes-2don-2dand-2don-2dand-"
    "2don\","
    "\"escaped_servername\":\"an-2deven-2dlonger-2dserver-2dname-2dthan-2dthe-2duser-2dname-2dx\","
    "\"escaped_user_server\":\"a-2dvery-2dlong-2duser-2dname-2dthat-2dgoes-2don-2dand-2don-2dand-"
    "2don--an-2deven-2dlonger-2dserver-2dname-2dthan-2dthe-2duser-2dname-2dx\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";
static const char *const want_a47_safe =
    "{"
    "\"userid\":7,"
    "\"unescaped_username\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
    "\"unescaped_servername\":\"\","
    "\"hubnamespace\":\"user\","
    "\"username\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
    "\"servername\":\"\","
    "\"user_server\":\"aaaaaaaaaaaaaaaaa--x---b191b19d\","
    "\"safe_username\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
    "\"safe_servername\":\"\","
    "\"safe_user_server\":\"aaaaaaaaaaaaaaaaa--x---b191b19d\","
    "\"escaped_username\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
    "\"escaped_servername\":\"\","
    "\"escaped_user_server\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa--\","
    "\"pod_name\":\"pod_name_unavailable!\","
    "\"pvc_name\":\"pvc_name_unavailable!\","
    "\"namespace\":\"namespace_unavailable!\"}";

static void test_plain_user(void **state)
{
    (void)state;
    check_fields("safe", "user1", "", want_plain_safe);
    check_fields("safe", "user1", NULL, want_plain_safe); /* NULL is the default server too */
    check_fields("escape", "user1", "", want_plain_escape);
}

static void test_slug_user(void **state)
{
    (void)state;
    check_fields("safe", "Alice@Example.org", "", want_alice_safe);
    check_fields("escape", "Alice@Example.org", "", want_alice_escape);
}

static void test_named_server(void **state)
{
    (void)state;
    check_fields("safe", "user.name", "My Server", want_named_safe);
    check_fields("escape", "user.name", "My Server", want_named_escape);
}

/* Two slugs over 48 characters together: {safe_user_server} is one multi_slug. */
static void test_long_names(void **state)
{
    (void)state;
    check_fields("safe", LONG_USER, LONG_SERVER, want_long_safe);
    check_fields("escape", LONG_USER, LONG_SERVER, want_long_escape);
}

/* len(safe_username) + 0 + 2 > 48 counts the "--" even for the default server, so a 47
 * character name has multi_slug([name, ""]), whose empty part is "x". */
static void test_long_user_default_server(void **state)
{
    (void)state;
    char user[48];
    memset(user, 'a', 47);
    user[47] = '\0';
    check_fields("safe", user, "", want_a47_safe);
}

static void test_hubnamespace_userid(void **state)
{
    (void)state;
    struct kube_names n;
    names(&n, "safe", "jhub", "user1", "", 1234567890123);
    assert_string_equal(json_string_value(json_object_get(n.fields, "hubnamespace")), "jhub");
    json_t *id = json_object_get(n.fields, "userid");
    assert_true(json_is_integer(id)); /* a number, as self.user.id */
    assert_true(json_integer_value(id) == 1234567890123);
    char *got = NULL;
    assert_int_eq(kube_expand(&n, "{hubnamespace}-{username}", &got, NULL, 0), 0);
    assert_string_equal(got, "jhub-user1");
    free(got);
    assert_int_eq(kube_expand(&n, "u{userid}", &got, NULL, 0), 0);
    assert_string_equal(got, "u1234567890123");
    free(got);
    kube_names_release(&n);

    names(&n, "escape", "default", "user1", "", 0);
    assert_string_equal(json_string_value(json_object_get(n.fields, "hubnamespace")), "user");
    assert_int_eq(kube_expand(&n, "{userid}", &got, NULL, 0), 0);
    assert_string_equal(got, "0");
    free(got);
    kube_names_release(&n);

    /* only "default" itself becomes "user" */
    names(&n, "safe", "default-ns", "user1", "", 0);
    assert_string_equal(json_string_value(json_object_get(n.fields, "hubnamespace")), "default-ns");
    kube_names_release(&n);
}

/* KubeSpawner's default templates, with the names its tests use. */
static void test_default_templates(void **state)
{
    (void)state;
    /* test_pod_name_no_named_servers, test_pod_name_named_servers */
    check_expand("safe", "user", "", "jupyter-{user_server}", "jupyter-user");
    check_expand("safe", "user", "server", "jupyter-{user_server}", "jupyter-user--server");
    /* test_pod_name_escaping, test_pod_name_custom_template */
    check_expand("safe", "some_user", "test-server!", "jupyter-{user_server}",
                 "jupyter-some-user---7d3a4d4e--test-server---cb54a9af");
    check_expand("safe", "some_user", "", "prefix-{user_server}-suffix",
                 "prefix-some-user---7d3a4d4e-suffix");
    /* test_pod_name_collision */
    check_expand("safe", "user-has-dash", "", "jupyter-{user_server}", "jupyter-user-has-dash");
    check_expand("safe", "user-has-dash", "", "claim-{user_server}", "claim-user-has-dash");
    check_expand("safe", "user-has", "dash", "jupyter-{user_server}", "jupyter-user-has--dash");
    check_expand("safe", "user-has", "dash", "claim-{user_server}", "claim-user-has--dash");
    /* test_variable_expansion's user1 */
    check_expand("safe", "user1", "", "pod-name-template-{username}", "pod-name-template-user1");
    /* test_spawn_enable_user_namespaces: MockUser "mock@name" */
    check_expand("safe", "mock@name", "", "{hubnamespace}-{username}", "user-mock-name---6241db84");
    check_expand("safe", "user1", "", "{hubnamespace}-{username}", "user-user1");
    check_expand("escape", "Alice@Example.org", "", "{hubnamespace}-{username}",
                 "user--41lice-40-45xample-2eorg");
    /* the others; 28 + 20 + 2 > 48: one multi_slug of both */
    check_expand("safe", "Alice@Example.org", "My Server", "jupyter-{user_server}",
                 "jupyter-alice-example-org--my-server---3d7102c9");
    check_expand("escape", "user.name", "My Server", "jupyter-{user_server}",
                 "jupyter-user-2ename---4dy-20-53erver");
    check_expand("escape", "user.name", "", "claim-{user_server}", "claim-user-2ename");
    check_expand("safe", LONG_USER, LONG_SERVER, "jupyter-{user_server}",
                 "jupyter-a-very-long-user--an-even-longer-se---f6a91375");
    check_expand("safe", LONG_USER, LONG_SERVER, "claim-{user_server}",
                 "claim-a-very-long-user--an-even-longer-se---f6a91375");
}

/* The trailing '-' rule: rstrip('-') unless the template itself ends in '-'. */
static void test_trailing_dashes(void **state)
{
    (void)state;
    /* the legacy template, before {user_server} */
    check_expand("safe", "user1", "", "jupyter-{username}--{servername}", "jupyter-user1");
    check_expand("escape", "user1", "", "jupyter-{username}--{servername}", "jupyter-user1");
    check_expand("escape", "user.name", "My Server", "jupyter-{username}--{servername}",
                 "jupyter-user-2ename---4dy-20-53erver");
    check_expand("escape", "Alice@Example.org", "", "jupyter-{username}--{servername}",
                 "jupyter--41lice-40-45xample-2eorg");
    check_expand("escape", "user1", "", "{escaped_user_server}", "user1");
    check_expand("escape", "user1", "", "claim-{username}--{servername}", "claim-user1");
    /* every trailing '-' goes, the ones of the value included */
    check_expand("safe", "a-b--", "", "{unescaped_username}", "a-b");
    check_expand("safe", "user1", "", "x-{servername}", "x");
    /* a template ending in '-' keeps it (test_expansion_hyphens) */
    check_expand("safe", "mock@name", "", "{unescaped_username}-", "mock@name-");
    check_expand("safe", "mock@name", "", "--", "--");
    check_expand("safe", "mock@name", "", "-x", "-x");
    check_expand("safe", "user1", "", "jupyter-{username}--{servername}-", "jupyter-user1---");
    check_expand("safe", "user1", "", "{username}-", "user1-");
    /* only trailing ones: leading and inner dashes stay */
    check_expand("escape", "-x-", "", "{unescaped_username}", "-x");
    check_expand("safe", "user1", "", "", "");
    /* braces as str.format writes them (test_variable_expansion's VAR4) */
    check_expand("safe", "user1", "", "VAR4-{{username}}-{{SHELL}}", "VAR4-{username}-{SHELL}");
}

static void test_names_set(void **state)
{
    (void)state;
    struct kube_names n;
    names(&n, "safe", "default", "user1", "", 7);
    char *got = NULL;
    assert_int_eq(kube_expand(&n, "{pod_name}/{pvc_name}/{namespace}", &got, NULL, 0), 0);
    assert_string_equal(got, "pod_name_unavailable!/pvc_name_unavailable!/namespace_unavailable!");
    free(got);
    kube_names_set(&n, "pod_name", "jupyter-user1");
    kube_names_set(&n, "pvc_name", "claim-user1");
    kube_names_set(&n, "namespace", "jhub");
    assert_int_eq(kube_expand(&n, "{namespace}/{pod_name}/{pvc_name}", &got, NULL, 0), 0);
    assert_string_equal(got, "jhub/jupyter-user1/claim-user1");
    free(got);
    kube_names_release(&n);
}

static void expect_error(const struct kube_names *n, const char *tmpl, int want,
                         const char *in_message)
{
    char *got = (char *)"untouched", err[256] = "";
    int r = kube_expand(n, tmpl, &got, err, sizeof(err));
    if (r != want)
        fail_msg("%s: got %d (%s), want %d", tmpl, r, err, want);
    assert_string_equal(got, "untouched");
    assert_true(err[0] != '\0');
    if (in_message && !strstr(err, in_message))
        fail_msg("%s: the message \"%s\" does not name %s", tmpl, err, in_message);
    /* no message buffer is fine */
    assert_int_eq(kube_expand(n, tmpl, &got, NULL, 0), want);
}

static void test_expand_errors(void **state)
{
    (void)state;
    struct kube_names n;
    names(&n, "safe", "default", "user1", "", 7);
    /* KeyError */
    expect_error(&n, "jupyter-{nope}", -ENOENT, "nope");
    expect_error(&n, "{user}", -ENOENT, "user");
    expect_error(&n, "{Username}", -ENOENT, "Username");
    expect_error(&n, "{username.x}", -EINVAL, NULL); /* AttributeError */
    /* ValueError: single braces, positional fields */
    expect_error(&n, "jupyter-{username", -EINVAL, NULL);
    expect_error(&n, "jupyter-username}", -EINVAL, NULL);
    expect_error(&n, "{", -EINVAL, NULL);
    expect_error(&n, "}", -EINVAL, NULL);
    expect_error(&n, "{}", -EINVAL, NULL); /* IndexError */
    expect_error(&n, "{0}", -EINVAL, NULL);
    kube_names_release(&n);
}

static void test_expand_json(void **state)
{
    (void)state;
    struct kube_names n;
    names(&n, "safe", "default", "user1", "", 7);
    json_t *in = parse("{\"{username}\": \"{username}\","
                       " \"list\": [\"x-{servername}\", \"{nope}\", \"{\", \"a}\", 3, 1.5, true,"
                       "          null, {\"c\": \"{userid}\"}, [[\"{user_server}-\"]]],"
                       " \"env\": {\"VAR3\": {\"valueFrom\": {\"secretKeyRef\":"
                       "          {\"name\": \"VAR3-SECRET-{username}\"}}},"
                       "          \"VAR4\": \"VAR4-{{username}}-{{SHELL}}\"},"
                       " \"empty\": {}, \"none\": []}");
    json_t *out = kube_expand_json(&n, in);
    /* keys stay as they are; values that do not format are kept */
    assert_json_eq(out, "{\"{username}\": \"user1\","
                        " \"list\": [\"x\", \"{nope}\", \"{\", \"a}\", 3, 1.5, true, null,"
                        "          {\"c\": \"7\"}, [[\"user1-\"]]],"
                        " \"env\": {\"VAR3\": {\"valueFrom\": {\"secretKeyRef\":"
                        "          {\"name\": \"VAR3-SECRET-user1\"}}},"
                        "          \"VAR4\": \"VAR4-{username}-{SHELL}\"},"
                        " \"empty\": {}, \"none\": []}");
    assert_true(out != in);
    /* the input is untouched */
    assert_string_equal(json_string_value(json_object_get(in, "{username}")), "{username}");
    json_decref(out);
    json_decref(in);

    /* scalars */
    json_t *s = json_string("claim-{user_server}");
    out = kube_expand_json(&n, s);
    assert_json_eq(out, "\"claim-user1\"");
    json_decref(out);
    json_decref(s);
    json_t *i = json_integer(5);
    out = kube_expand_json(&n, i);
    assert_json_eq(out, "5");
    json_decref(out);
    json_decref(i);
    kube_names_release(&n);
}

static char *repeat(char c, size_t len)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, c, len);
    s[len] = '\0';
    return s;
}

static void test_dns_label(void **state)
{
    (void)state;
    assert_true(kube_is_dns_label("a"));
    assert_true(kube_is_dns_label("9"));
    assert_true(kube_is_dns_label("0abc"));
    assert_true(kube_is_dns_label("jupyter-user1"));
    assert_true(kube_is_dns_label("a--b"));
    assert_true(kube_is_dns_label("jupyter-a-very-long-user--an-even-longer-se---f6a91375"));
    assert_false(kube_is_dns_label(""));
    assert_false(kube_is_dns_label("-a"));
    assert_false(kube_is_dns_label("a-"));
    assert_false(kube_is_dns_label("-"));
    assert_false(kube_is_dns_label("a.b"));
    assert_false(kube_is_dns_label("User1"));
    assert_false(kube_is_dns_label("a_b"));
    assert_false(kube_is_dns_label("a b"));
    assert_false(kube_is_dns_label("pod_name_unavailable!"));
    assert_false(kube_is_dns_label("\xc3\xbc"));
    char *s = repeat('a', 63);
    assert_true(kube_is_dns_label(s));
    free(s);
    s = repeat('a', 64);
    assert_false(kube_is_dns_label(s));
    free(s);
}

static void test_dns_subdomain(void **state)
{
    (void)state;
    assert_true(kube_is_dns_subdomain("a"));
    assert_true(kube_is_dns_subdomain("claim-user1"));
    assert_true(kube_is_dns_subdomain("a.b"));
    assert_true(kube_is_dns_subdomain("a-1.b-2.c"));
    assert_true(kube_is_dns_subdomain("1.2.3"));
    assert_false(kube_is_dns_subdomain(""));
    assert_false(kube_is_dns_subdomain("."));
    assert_false(kube_is_dns_subdomain(".a"));
    assert_false(kube_is_dns_subdomain("a."));
    assert_false(kube_is_dns_subdomain("a..b"));
    assert_false(kube_is_dns_subdomain("-a"));
    assert_false(kube_is_dns_subdomain("a-"));
    assert_false(kube_is_dns_subdomain("a.-b"));
    assert_false(kube_is_dns_subdomain("a-.b"));
    assert_false(kube_is_dns_subdomain("A.b"));
    assert_false(kube_is_dns_subdomain("a.B"));
    assert_false(kube_is_dns_subdomain("a_b"));
    /* 253 characters at most */
    char *s = repeat('a', 253);
    for (size_t i = 63; i < 253; i += 64)
        s[i] = '.';
    assert_true(kube_is_dns_subdomain(s));
    free(s);
    s = repeat('a', 254);
    for (size_t i = 63; i < 254; i += 64)
        s[i] = '.';
    assert_false(kube_is_dns_subdomain(s));
    free(s);
    /* Kubernetes' IsDNS1123Subdomain caps only the whole name: the parts between dots are not
     * labels of 63 at most, so a pod may be named with 64..253 characters and no dot (the
     * escape scheme's long names) */
    s = repeat('a', 64);
    assert_true(kube_is_dns_subdomain(s));
    free(s);
    struct kube_names n;
    names(&n, "escape", "default", LONG_USER, LONG_SERVER, 7);
    assert_int_eq(kube_expand(&n, "jupyter-{user_server}", &s, NULL, 0), 0);
    assert_true(strlen(s) > 63);
    assert_true(kube_is_dns_subdomain(s)); /* a pod KubeSpawner creates */
    assert_false(kube_is_dns_label(s));
    free(s);
    kube_names_release(&n);
    s = repeat('a', 253);
    assert_true(kube_is_dns_subdomain(s));
    s[100] = '.';
    assert_true(kube_is_dns_subdomain(s));
    free(s);
    s = repeat('a', 254);
    assert_false(kube_is_dns_subdomain(s));
    free(s);
}

/* An unknown slug_scheme is the options' check (kube_options.c); anything but "escape" is safe. */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_user),
        cmocka_unit_test(test_slug_user),
        cmocka_unit_test(test_named_server),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_long_user_default_server),
        cmocka_unit_test(test_hubnamespace_userid),
        cmocka_unit_test(test_default_templates),
        cmocka_unit_test(test_trailing_dashes),
        cmocka_unit_test(test_names_set),
        cmocka_unit_test(test_expand_errors),
        cmocka_unit_test(test_expand_json),
        cmocka_unit_test(test_dns_label),
        cmocka_unit_test(test_dns_subdomain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
