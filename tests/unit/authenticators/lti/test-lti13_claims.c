/* authenticators/lti/lti13_claims.c: the LTI claims a verified launch must hold, the user name
 * it gives, what its roles make the user, and where the browser goes after it. */
#include "test.h"
#include "authenticators/lti/lti.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NOW        1800000000
#define INSTRUCTOR "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
#define LEARNER    "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"

static const char *const admins[] = {"Instructor", NULL};

static struct lti13_rules rules(json_t *groups)
{
    return (struct lti13_rules){.username_key = "email",
                                .max_age = 600,
                                .leeway = 5,
                                .admin_roles = admins,
                                .role_groups = groups};
}

static json_t *launch(void)
{
    return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:[s],s:{s:s},s:{s:s,s:s},s:{s:s}}", "sub",
                     "u-1", "email", "ada@example.org", "nonce", "n", "iat", (json_int_t)NOW - 10,
                     LTI13_CLAIM "version", "1.3.0", LTI13_CLAIM "message_type",
                     "LtiResourceLinkRequest", LTI13_CLAIM "deployment_id", "1",
                     LTI13_CLAIM "target_link_uri", "https://hub.example.org/hub/",
                     LTI13_CLAIM "roles", LEARNER, LTI13_CLAIM "resource_link", "id", "link-1",
                     LTI13_CLAIM "context", "id", "c1", "label", "HUB101", LTI13_CLAIM "custom",
                     "uname", "ada");
}

static void refused(json_t *claims, const char *says)
{
    struct lti13_rules r = rules(NULL);
    char why[300] = "";
    assert_int_equal(lti13_check_claims(&r, claims, NOW, why, sizeof(why)), -EACCES);
    if (!strstr(why, says))
        fail_msg("'%s' does not say '%s'", why, says);
    json_decref(claims);
}

static void test_claims(void **state)
{
    (void)state;
    struct lti13_rules r = rules(NULL);
    char why[300];
    json_t *c = launch();
    assert_int_equal(lti13_check_claims(&r, c, NOW, why, sizeof(why)), 0);
    json_decref(c);

    c = launch();
    json_object_set_new(c, LTI13_CLAIM "version", json_string("1.1"));
    refused(c, "not 1.3.0");
    c = launch();
    json_object_del(c, LTI13_CLAIM "deployment_id");
    refused(c, "no deployment_id claim");
    c = launch();
    json_object_set_new(c, LTI13_CLAIM "deployment_id", json_string(""));
    refused(c, "deployment_id is empty");
    c = launch();
    json_object_del(c, LTI13_CLAIM "roles");
    refused(c, "no roles claim");
    c = launch();
    json_object_set_new(c, LTI13_CLAIM "message_type", json_string("LtiSubmissionReview"));
    refused(c, "not LtiResourceLinkRequest or LtiDeepLinkingRequest");
    c = launch();
    json_object_set_new(c, LTI13_CLAIM "resource_link", json_object());
    refused(c, "no resource_link id");
    c = launch();
    json_object_set_new(json_object_get(c, LTI13_CLAIM "context"), "label", json_string(""));
    refused(c, "empty label");
    c = launch();
    json_object_set_new(c, "iat", json_integer(NOW - 606));
    refused(c, "more than 600 s ago");
    c = launch();
    json_object_del(c, "iat");
    refused(c, "iat");

    /* Deep linking needs no resource link. */
    c = launch();
    json_object_set_new(c, LTI13_CLAIM "message_type", json_string("LtiDeepLinkingRequest"));
    json_object_del(c, LTI13_CLAIM "resource_link");
    assert_int_equal(lti13_check_claims(&r, c, NOW, why, sizeof(why)), 0);
    json_decref(c);
    /* Within the leeway. */
    c = launch();
    json_object_set_new(c, "iat", json_integer(NOW - 604));
    assert_int_equal(lti13_check_claims(&r, c, NOW, why, sizeof(why)), 0);
    json_decref(c);
}

static void test_username(void **state)
{
    (void)state;
    struct lti13_rules r = rules(NULL);
    char name[64], why[200];
    json_t *c = launch();
    assert_int_equal(lti13_username(&r, c, name, sizeof(name), why, sizeof(why)), 0);
    assert_string_equal(name, "ada@example.org");
    r.username_key = "custom_uname";
    assert_int_equal(lti13_username(&r, c, name, sizeof(name), why, sizeof(why)), 0);
    assert_string_equal(name, "ada");
    r.username_key = "given_name"; /* absent: sub, as ltiauthenticator */
    assert_int_equal(lti13_username(&r, c, name, sizeof(name), why, sizeof(why)), 0);
    assert_string_equal(name, "u-1");
    json_object_del(c, "sub");
    assert_int_equal(lti13_username(&r, c, name, sizeof(name), why, sizeof(why)), -EACCES);
    assert_non_null(strstr(why, "no user name"));
    r.username_key = "email";
    assert_int_equal(lti13_username(&r, c, name, 4, why, sizeof(why)), -EACCES);
    json_decref(c);
}

static void test_roles(void **state)
{
    (void)state;
    json_t *map = json_pack("{s:s,s:s}", INSTRUCTOR, "teachers", "Learner", "students");
    struct lti13_rules r = rules(map);
    json_t *c = launch();
    assert_false(lti13_is_admin(&r, c));
    json_t *g = lti13_groups(&r, c);
    assert_int_equal(json_array_size(g), 1);
    assert_string_equal(json_string_value(json_array_get(g, 0)), "students");
    json_decref(g);
    json_object_set_new(
        c, LTI13_CLAIM "roles",
        json_pack("[s,s,s]", INSTRUCTOR, LEARNER, "urn:lti:role:ims/lis/Instructor"));
    assert_true(lti13_is_admin(&r, c)); /* "Instructor" names the role after its '#' */
    g = lti13_groups(&r, c);
    assert_int_equal(json_array_size(g), 2);
    json_decref(g);
    /* A full URI matches only itself. */
    const char *const uri_only[] = {"http://other.example/#Instructor", NULL};
    r.admin_roles = uri_only;
    assert_false(lti13_is_admin(&r, c));
    json_decref(c);
    json_decref(map);
}

static void test_next(void **state)
{
    (void)state;
    char out[256];
    const char *origin = "https://hub.example.org", *prefix = "/hub/lti13/";
    lti13_next("/hub/spawn", "https://hub.example.org/user/x/lab", origin, prefix, out,
               sizeof(out));
    assert_string_equal(out, "/hub/spawn");
    lti13_next(NULL, "https://hub.example.org/user/x/lab?path=a.ipynb", origin, prefix, out,
               sizeof(out));
    assert_string_equal(out, "/user/x/lab?path=a.ipynb");
    const char *const nowhere[] = {"https://evil.example/user/x", "https://hub.example.org.evil/x",
                                   "https://hub.example.org/hub/lti13/oauth_callback",
                                   "https://hub.example.org//evil.example/", "javascript:x"};
    for (size_t i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++) {
        lti13_next(NULL, nowhere[i], origin, prefix, out, sizeof(out));
        if (out[0])
            fail_msg("%s led to '%s'", nowhere[i], out);
    }
    const char *const bad_next[] = {"https://evil.example/", "//evil.example/", "/\\evil", "x/y"};
    for (size_t i = 0; i < sizeof(bad_next) / sizeof(bad_next[0]); i++) {
        lti13_next(bad_next[i], "https://hub.example.org/user/x/", origin, prefix, out,
                   sizeof(out));
        if (out[0])
            fail_msg("next %s led to '%s'", bad_next[i], out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_username),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
