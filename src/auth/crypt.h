/* auth_state encryption compatible with JupyterHub's CryptKeeper: JUPYTERHUB_CRYPT_KEY is a
 * ';'-separated list of 32-byte keys (raw, 44-character urlsafe base64, or 64 hex characters);
 * the first key encrypts, every key may decrypt (MultiFernet); values are Fernet tokens of the
 * JSON text, so a database can be shared with a Python hub. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_CRYPT_MAX_KEYS 8

struct auth_crypt {
    unsigned char keys[AUTH_CRYPT_MAX_KEYS][32];
    size_t n;
};

/** Parse the key list (NULL or "" gives no keys). Returns 0, or -EINVAL with a message naming
 * which key is wrong (never its value). */
int auth_crypt_init(struct auth_crypt *c, const char *env, char *err, size_t errlen);

/** Whether encryption is available (at least one key). */
bool auth_crypt_available(const struct auth_crypt *c);

/** Encrypt @value as a Fernet token (base64url text, caller frees). Returns 0 or -errno. */
int auth_crypt_encrypt(const struct auth_crypt *c, const json_t *value, char **ret, size_t *len);

/** Decrypt a Fernet token with any key. Returns 0 and a new reference, -EBADMSG for a token no
 * key opens, or another -errno. */
int auth_crypt_decrypt(const struct auth_crypt *c, const void *token, size_t len, json_t **ret);

/** Fernet with one key, exposed for tests: @key is 32 bytes, @iv 16 bytes, @now seconds. */
int auth_fernet_encrypt(const unsigned char key[32], const unsigned char iv[16], uint64_t now,
                        const void *plain, size_t n, char **ret, size_t *len);
int auth_fernet_decrypt(const unsigned char key[32], const void *token, size_t len, char **ret,
                        size_t *plain_len);
