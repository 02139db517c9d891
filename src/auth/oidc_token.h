/* OpenID Connect id_tokens: the provider's signing keys (a JWKS document turned into PEM public
 * keys with OpenSSL) and verification of an id_token's signature (libjwt) and claims. Only
 * asymmetric algorithms are accepted (RS256/384/512, ES256/384/512), and only with a key of
 * the matching type, so a token cannot pick HS256 to be "signed" with a public key. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oidc_keys;

/** Parse a JWKS document. Keys that are not RSA or EC signing keys are skipped. Returns 0 and a
 * key set (possibly empty), or -EINVAL with a message. */
int oidc_keys_parse(const char *text, size_t len, struct oidc_keys **ret, char *err, size_t errlen);

void oidc_keys_free(struct oidc_keys *k);

/* What a valid id_token must say. */
struct oidc_expect {
    const char *issuer;    /* `iss` must equal it, when not NULL */
    const char *client_id; /* `aud` must be or contain it (and `azp`, if present, equal it) */
    const char *nonce;     /* `nonce` must equal it, when not NULL */
    int64_t now;           /* seconds since the epoch */
    int64_t leeway;        /* seconds of clock skew tolerated for exp, iat and nbf */
};

/** The `kid` of a token's header ("" when none), in @out; -EINVAL when the token is not a JWS. */
int oidc_token_kid(const char *token, char *out, size_t outlen);

/** Verify @token with @keys (may be NULL when @unverified) and @e. On success @claims is a new
 * reference to the payload. Returns 0; -ENOKEY when no key matches the token's kid (fetch the
 * keys again); -EACCES when the token is invalid (@why says how). With @unverified, only the
 * claims are checked (oauthenticator's userdata_from_id_token without keys). */
int oidc_token_verify(const struct oidc_keys *keys, const char *token, const struct oidc_expect *e,
                      int unverified, json_t **claims, char *why, size_t whylen);
