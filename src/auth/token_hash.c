/* Token hashing compatible with jupyterhub.utils.hash_token / compare_token. */
#include "auth/token_hash.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 1000000u

static int digest(const char *token, unsigned rounds, const char *salt, char hex[129])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    size_t tlen = strlen(token);
    int ok =
        EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) && EVP_DigestUpdate(ctx, salt, strlen(salt));
    for (unsigned i = 0; ok && i < rounds; i++)
        ok = EVP_DigestUpdate(ctx, token, tlen);
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (!ok || len != 64)
        return -EIO;
    return gm_hex_encode(md, len, hex, 129);
}

int auth_token_hash_salted(const char *token, unsigned rounds, const char *salt,
                           char out[AUTH_TOKEN_HASHED_MAX])
{
    char hex[129];
    int r = digest(token, rounds, salt, hex);
    if (r < 0)
        return r;
    int n = snprintf(out, AUTH_TOKEN_HASHED_MAX, "sha512:%u:%s:%s", rounds, salt, hex);
    return n > 0 && n < AUTH_TOKEN_HASHED_MAX ? 0 : -E2BIG;
}

int auth_token_hash(const char *token, unsigned rounds, char out[AUTH_TOKEN_HASHED_MAX])
{
    char salt[17];
    int r = gm_random_hex(salt, 8);
    if (r < 0)
        return r;
    return auth_token_hash_salted(token, rounds, salt, out);
}

bool auth_token_verify(const char *hashed, const char *token)
{
    /* algorithm:rounds:salt:digest */
    const char *p1 = strchr(hashed, ':');
    const char *p2 = p1 ? strchr(p1 + 1, ':') : NULL;
    const char *p3 = p2 ? strchr(p2 + 1, ':') : NULL;
    if (!p3 || (size_t)(p1 - hashed) != 6 || memcmp(hashed, "sha512", 6) != 0)
        return false;
    char rounds_text[16], salt[64];
    if ((size_t)(p2 - p1 - 1) >= sizeof(rounds_text) || (size_t)(p3 - p2 - 1) >= sizeof(salt))
        return false;
    memcpy(rounds_text, p1 + 1, (size_t)(p2 - p1 - 1));
    rounds_text[p2 - p1 - 1] = '\0';
    memcpy(salt, p2 + 1, (size_t)(p3 - p2 - 1));
    salt[p3 - p2 - 1] = '\0';
    int64_t rounds;
    if (str_to_int64(rounds_text, &rounds) < 0 || rounds < 1 || rounds > MAX_ROUNDS)
        return false;
    char hex[129];
    if (digest(token, (unsigned)rounds, salt, hex) < 0)
        return false;
    return str_ct_eq(hex, 128, p3 + 1, strlen(p3 + 1));
}

int auth_token_new(char out[33])
{
    return gm_random_uuid_hex(out);
}

void auth_token_fingerprint(const char *token, unsigned char out[32])
{
    unsigned len = 32;
    EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL);
}
