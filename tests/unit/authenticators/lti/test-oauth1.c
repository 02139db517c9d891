/* OAuth 1.0 signatures against the examples of RFC 5849 and of the OAuth 1.0 specification. */
#include "test.h"
#include "../authenticators/lti/oauth1.h"

#include <stdlib.h>

/* RFC 5849 3.4.1.1: the parameters of its example request, decoded. */
static void test_rfc5849_base_string(void **state)
{
    (void)state;
    const struct oauth1_param params[] = {
        {"b5", "=%3D"},
        {"a3", "a"},
        {"c@", ""},
        {"a2", "r b"},
        {"oauth_consumer_key", "9djdj82h48djs9d2"},
        {"oauth_token", "kkk9d7dh3k39sjv7"},
        {"oauth_signature_method", "HMAC-SHA1"},
        {"oauth_timestamp", "137131201"},
        {"oauth_nonce", "7d8f3e4a"},
        {"c2", ""},
        {"a3", "2 q"},
    };
    char out[2048];
    long n = oauth1_base_string("post", "HTTP://EXAMPLE.COM:80/request?b5=%3D%253D", params,
                                sizeof(params) / sizeof(params[0]), out, sizeof(out));
    assert_true(n > 0);
    assert_string_equal(
        out, "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
             "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_"
             "nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D13713120"
             "1%26oauth_token%3Dkkk9d7dh3k39sjv7");
    assert_int_eq(n, (long)strlen(out));
}

/* OAuth Core 1.0 appendix A.5: the photos example, base string and HMAC-SHA1 signature. */
static void test_photos_example_signature(void **state)
{
    (void)state;
    const struct oauth1_param params[] = {
        {"file", "vacation.jpg"},
        {"size", "original"},
        {"oauth_consumer_key", "dpf43f3p2l4k3l03"},
        {"oauth_token", "nnch734d00sl2jdk"},
        {"oauth_signature_method", "HMAC-SHA1"},
        {"oauth_timestamp", "1191242096"},
        {"oauth_nonce", "kllo9940pd9333jh"},
        {"oauth_version", "1.0"},
    };
    char base[2048], sig[64];
    assert_true(oauth1_base_string("GET", "http://photos.example.net/photos", params, 8, base,
                                   sizeof(base)) > 0);
    assert_string_equal(base,
                        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_"
                        "consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_"
                        "signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token"
                        "%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal");
    assert_int_eq(oauth1_hmac_sha1(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", sig, sizeof(sig)),
                  0);
    assert_string_equal(sig, "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
}

static void test_url_forms(void **state)
{
    (void)state;
    const struct oauth1_param none[] = {{"a", "1"}};
    char out[512];
    /* Default ports go, others stay; an empty path is "/"; https keeps 443 only when not default.
     */
    assert_true(
        oauth1_base_string("POST", "https://Hub.Example.org:443", none, 1, out, sizeof(out)) > 0);
    assert_string_equal(out, "POST&https%3A%2F%2Fhub.example.org%2F&a%3D1");
    assert_true(oauth1_base_string("POST", "http://127.0.0.1:8000/hub/lti/launch#x", none, 1, out,
                                   sizeof(out)) > 0);
    assert_string_equal(out, "POST&http%3A%2F%2F127.0.0.1%3A8000%2Fhub%2Flti%2Flaunch&a%3D1");
    assert_true(oauth1_base_string("POST", "https://h:80/p", none, 1, out, sizeof(out)) > 0);
    assert_string_equal(out, "POST&https%3A%2F%2Fh%3A80%2Fp&a%3D1");
    /* Not http(s), no host, too small a buffer. */
    assert_int_eq(oauth1_base_string("POST", "ftp://h/p", none, 1, out, sizeof(out)), -EINVAL);
    assert_int_eq(oauth1_base_string("POST", "http:///p", none, 1, out, sizeof(out)), -EINVAL);
    assert_int_eq(oauth1_base_string("POST", "http://h/p", none, 1, out, 10), -ENOSPC);
}

static void test_verify(void **state)
{
    (void)state;
    const char *base = "POST&http%3A%2F%2Fh%2F&a%3D1";
    char sig[64];
    assert_int_eq(oauth1_hmac_sha1(base, "s3cret", "", sig, sizeof(sig)), 0);
    assert_true(oauth1_verify(base, "s3cret", sig));
    assert_false(oauth1_verify(base, "other", sig));
    assert_false(oauth1_verify("POST&http%3A%2F%2Fh%2F&a%3D2", "s3cret", sig));
    sig[27] = '\0';
    assert_false(oauth1_verify(base, "s3cret", sig));
    assert_false(oauth1_verify(base, "s3cret", ""));
}

/* RFC 5849 3.5.1's example header, then what a launch must not send. */
static void test_header_params(void **state)
{
    (void)state;
    char err[200];
    json_t *p = oauth1_header_params(
        "OAuth realm=\"Example\", oauth_consumer_key=\"9djdj82h48djs9d2\", "
        "oauth_token=\"kkk9d7dh3k39sjv7\",oauth_signature_method=\"HMAC-SHA1\", "
        "oauth_timestamp=\"137131201\", oauth_nonce=\"7d8f3e4a\", "
        "oauth_signature=\"bYT5CMsGcbgUdFHObYMEfcx6bsw%3D\"",
        err, sizeof(err));
    assert_non_null(p);
    assert_null(json_object_get(p, "realm"));
    assert_int_equal(json_object_size(p), 6);
    assert_string_equal(json_string_value(json_object_get(p, "oauth_signature")),
                        "bYT5CMsGcbgUdFHObYMEfcx6bsw=");
    assert_string_equal(json_string_value(json_object_get(p, "oauth_token")), "kkk9d7dh3k39sjv7");
    json_decref(p);
    const char *const bad[] = {"Basic abc",
                               "OAuth oauth_nonce=1",
                               "OAuth oauth_nonce=\"1",
                               "OAuth oauth_nonce=\"%zz\"",
                               "OAuth =\"x\"",
                               "OAuth oauth_nonce=\"%00\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p = oauth1_header_params(bad[i], err, sizeof(err));
        if (p)
            fail_msg("'%s' was taken", bad[i]);
        assert_true(err[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5849_base_string), cmocka_unit_test(test_photos_example_signature),
        cmocka_unit_test(test_url_forms),           cmocka_unit_test(test_verify),
        cmocka_unit_test(test_header_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
