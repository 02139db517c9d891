/* auth_state encryption is Fernet: a token made by Python's cryptography (as JupyterHub's
 * CryptKeeper makes them) decrypts here, and ours decrypt there (tested in the integration
 * tests). The token below was printed by:
 *     python3 -c "from cryptography.fernet import Fernet; import base64, json;
 *       print(Fernet(base64.urlsafe_b64encode(bytes(range(32)))).encrypt(
 *         json.dumps({'access_token': 'abc', 'n': 1}).encode()).decode())"        */
#include "test.h"
#include "auth/crypt.h"

#include <stdlib.h>

static const char python_token[] =
    "gAAAAABrBD60tNILJeSSUDagnuxYObCeTu8tEi2arzlMOQuYL-ZHC5XVyJS2jrsFNYQehPwCf76YpL7vtHbpXAuE_-JS"
    "s24EJBZlp0wFvPv0TwGtuu29Tm4=";

/* The same key as JUPYTERHUB_CRYPT_KEY in hex. */
static const char key_hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void test_python_token_decrypts(void **state)
{
    struct auth_crypt c;
    char err[256];
    assert_int_equal(auth_crypt_init(&c, key_hex, err, sizeof(err)), 0);
    json_t *v = NULL;
    assert_int_equal(auth_crypt_decrypt(&c, python_token, strlen(python_token), &v), 0);
    assert_string_equal(json_string_value(json_object_get(v, "access_token")), "abc");
    json_decref(v);
}

static void test_round_trip_and_rotation(void **state)
{
    struct auth_crypt old, both;
    char err[256];
    assert_int_equal(auth_crypt_init(&old, key_hex, err, sizeof(err)), 0);
    char rotated[200];
    snprintf(rotated, sizeof(rotated), "%s;%s",
             "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100", key_hex);
    assert_int_equal(auth_crypt_init(&both, rotated, err, sizeof(err)), 0);
    assert_int_equal(both.n, 2);
    json_t *state_v = json_pack("{s:s}", "refresh_token", "xyz");
    char *tok = NULL;
    size_t len = 0;
    assert_int_equal(auth_crypt_encrypt(&old, state_v, &tok, &len), 0);
    json_t *back = NULL;
    /* The new key list still opens what the old key encrypted. */
    assert_int_equal(auth_crypt_decrypt(&both, tok, len, &back), 0);
    assert_true(json_equal(back, state_v));
    json_decref(back);
    /* Tampering is detected. */
    tok[len / 2] = tok[len / 2] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_crypt_decrypt(&both, tok, len, &back), -EBADMSG);
    free(tok);
    json_decref(state_v);
}

static void test_bad_keys(void **state)
{
    struct auth_crypt c;
    char err[256];
    assert_int_equal(auth_crypt_init(&c, "too-short", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "key 1 is not 32 bytes"));
    assert_null(strstr(err, "too-short")); /* the key never appears in messages */
    assert_int_equal(auth_crypt_init(&c, "", err, sizeof(err)), 0);
    assert_false(auth_crypt_available(&c));
    /* 44-character urlsafe base64 works too. */
    assert_int_equal(
        auth_crypt_init(&c, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", err, sizeof(err)), 0);
    json_t *v = NULL;
    assert_int_equal(auth_crypt_decrypt(&c, python_token, strlen(python_token), &v), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_python_token_decrypts),
        cmocka_unit_test(test_round_trip_and_rotation),
        cmocka_unit_test(test_bad_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
