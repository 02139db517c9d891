/* Fernet (https://github.com/fernet/spec) with OpenSSL: version 0x80, 8-byte big-endian
 * timestamp, 16-byte IV, AES-128-CBC with PKCS#7 padding, HMAC-SHA256 over all of it; the
 * whole token in urlsafe base64. Signing key = key[0:16], encryption key = key[16:32]. */
#include "auth/crypt.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int auth_crypt_init(struct auth_crypt *c, const char *env, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (!env)
        return 0;
    const char *p = env;
    int index = 0;
    while (*p) {
        size_t n = strcspn(p, ";");
        const char *key = p;
        while (n && (*key == ' ' || *key == '\t')) {
            key++;
            n--;
        }
        while (n && (key[n - 1] == ' ' || key[n - 1] == '\t'))
            n--;
        if (n) {
            index++;
            if (c->n == AUTH_CRYPT_MAX_KEYS) {
                snprintf(err, errlen, "JUPYTERHUB_CRYPT_KEY has more than %d keys",
                         AUTH_CRYPT_MAX_KEYS);
                return -EINVAL;
            }
            unsigned char raw[64];
            long len = -1;
            char text[128];
            if (n < sizeof(text)) {
                memcpy(text, key, n);
                text[n] = '\0';
                if (n == 44)
                    len = gm_base64url_decode(text, n, raw, sizeof(raw));
                else if (n == 64)
                    len = gm_hex_decode(text, n, raw, sizeof(raw));
                else if (n == 32) {
                    memcpy(raw, text, 32);
                    len = 32;
                }
            }
            if (len != 32) {
                snprintf(err, errlen,
                         "JUPYTERHUB_CRYPT_KEY: key %d is not 32 bytes (give 32 "
                         "bytes as 64 hex characters, e.g. `openssl rand -hex 32`)",
                         index);
                memset(raw, 0, sizeof(raw));
                return -EINVAL;
            }
            memcpy(c->keys[c->n++], raw, 32);
            memset(raw, 0, sizeof(raw));
        }
        p += strcspn(p, ";");
        if (*p == ';')
            p++;
    }
    return 0;
}

bool auth_crypt_available(const struct auth_crypt *c)
{
    return c && c->n > 0;
}

int auth_fernet_encrypt(const unsigned char key[32], const unsigned char iv[16], uint64_t now,
                        const void *plain, size_t n, char **ret, size_t *len)
{
    size_t cap = 1 + 8 + 16 + n + 16 + 32;
    unsigned char *tok = malloc(cap);
    if (!tok)
        return -ENOMEM;
    tok[0] = 0x80;
    for (int i = 0; i < 8; i++)
        tok[1 + i] = (unsigned char)(now >> (56 - 8 * i));
    memcpy(tok + 9, iv, 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int out1 = 0, out2 = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key + 16, iv) &&
             EVP_EncryptUpdate(ctx, tok + 25, &out1, plain, (int)n) &&
             EVP_EncryptFinal_ex(ctx, tok + 25 + out1, &out2);
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        free(tok);
        return -EIO;
    }
    size_t body = 25 + (size_t)out1 + (size_t)out2;
    unsigned int maclen = 32;
    if (!HMAC(EVP_sha256(), key, 16, tok, body, tok + body, &maclen)) {
        free(tok);
        return -EIO;
    }
    /* urlsafe base64 with padding, as Python's base64.urlsafe_b64encode. */
    struct gm_buf b;
    gm_buf_init(&b, (size_t)1 << 30);
    int r = gm_base64url_encode(&b, tok, body + 32, true);
    free(tok);
    if (r < 0) {
        gm_buf_free(&b);
        return r;
    }
    *len = b.len;
    *ret = gm_buf_steal(&b);
    return 0;
}

int auth_fernet_decrypt(const unsigned char key[32], const void *token, size_t len, char **ret,
                        size_t *plain_len)
{
    if (len > (16 << 20))
        return -EBADMSG;
    unsigned char *tok = malloc(len);
    if (!tok)
        return -ENOMEM;
    long n = gm_base64url_decode(token, len, tok, len);
    if (n < 1 + 8 + 16 + 16 + 32 || tok[0] != 0x80 || (n - 25 - 32) % 16 != 0) {
        free(tok);
        return -EBADMSG;
    }
    size_t body = (size_t)n - 32;
    unsigned char mac[32];
    unsigned int maclen = 32;
    if (!HMAC(EVP_sha256(), key, 16, tok, body, mac, &maclen) ||
        !str_ct_eq(mac, 32, tok + body, 32)) {
        free(tok);
        return -EBADMSG;
    }
    unsigned char *plain = malloc(body);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int out1 = 0, out2 = 0;
    int ok = plain && ctx && EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key + 16, tok + 9) &&
             EVP_DecryptUpdate(ctx, plain, &out1, tok + 25, (int)(body - 25)) &&
             EVP_DecryptFinal_ex(ctx, plain + out1, &out2);
    EVP_CIPHER_CTX_free(ctx);
    free(tok);
    if (!ok) {
        free(plain);
        return -EBADMSG;
    }
    plain[out1 + out2] = '\0';
    *ret = (char *)plain;
    *plain_len = (size_t)(out1 + out2);
    return 0;
}

int auth_crypt_encrypt(const struct auth_crypt *c, const json_t *value, char **ret, size_t *len)
{
    if (!auth_crypt_available(c))
        return -ENOKEY;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return -ENOMEM;
    unsigned char iv[16];
    int r = gm_random_bytes(iv, sizeof(iv));
    if (r == 0)
        r = auth_fernet_encrypt(c->keys[0], iv, (uint64_t)time(NULL), text, strlen(text), ret, len);
    free(text);
    return r;
}

int auth_crypt_decrypt(const struct auth_crypt *c, const void *token, size_t len, json_t **ret)
{
    if (!auth_crypt_available(c))
        return -ENOKEY;
    for (size_t i = 0; i < c->n; i++) {
        char *plain = NULL;
        size_t n = 0;
        if (auth_fernet_decrypt(c->keys[i], token, len, &plain, &n) != 0)
            continue;
        json_t *v = json_loadb(plain, n, JSON_DECODE_ANY, NULL);
        free(plain);
        if (!v)
            return -EBADMSG;
        *ret = v;
        return 0;
    }
    return -EBADMSG;
}
