/* JSON Web Tokens signed by someone else: an OpenID provider's id_tokens, an LTI 1.3
 * platform's launches. Three parts, each usable alone:
 *
 * - gm_jwt_verify: a compact JWS (RFC 7515) checked against a key set (a JWKS document, RFC
 *   7517, parsed by gm_jwks_parse). Only asymmetric signatures are accepted: RS256/384/512,
 *   PS256/384/512, ES256/384/512 and EdDSA (Ed25519, Ed448); "none" and the HMAC algorithms
 *   (HS256...) are always refused, so a token cannot be "signed" with a public key as an HMAC
 *   secret. The header's kid selects the key; without a kid every key whose type (and alg,
 *   when the JWK names one) fits is tried.
 * - gm_jwt_check_claims: iss, aud (and azp), exp, nbf, iat and nonce, as the caller asks.
 * - struct gm_jwks_cache: a key set fetched from a URL on the hub's loop, kept, and fetched
 *   again only when a token names a key it does not have, at most once per interval.
 *
 * Errors are negative errno values, each naming which check failed, with a sentence in @why
 * ("the signature does not match key \"k1\"") fit for a log line or an error page:
 *   -E2BIG        the token is longer than GM_JWT_MAX_TOKEN
 *   -EBADMSG      not a compact JWS: not three segments, bad base64url, a header or claims
 *                 that are not JSON objects, a "crit" header
 *   -ENOTSUP      the algorithm is not one of the above (none, HS256, ...)
 *   -ENOKEY       no key of the set has the token's kid (or fits its alg): fetch the set again
 *   -EKEYREJECTED the signature does not verify (or the kid's key does not fit the alg)
 *   -EACCES       a claim is wrong (gm_jwt_check_claims)
 *   -ENOMEM
 *
 * Ownership as in plugin.h: pointers are borrowed unless said otherwise. */
#pragma once

#include <ganymede/host.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The longest compact JWS accepted, in bytes. */
#define GM_JWT_MAX_TOKEN (64 << 10)
/** The largest JWKS document accepted, in bytes, and the most keys kept from one. */
#define GM_JWKS_MAX_DOC  (1 << 20)
#define GM_JWKS_MAX_KEYS 64
/** A @why buffer of this size holds every message. */
#define GM_JWT_WHY_MAX 320

/* Key sets. */

struct gm_jwks;

/** Parse a JWKS document ({"keys": [...]}) of @len bytes. Keys that cannot verify
 * signatures are skipped: other key types ("oct" secrets), "use" other than "sig", key_ops
 * without "verify", RSA keys under 2048 bits, unknown curves, malformed numbers. Returns 0
 * and a key set (caller frees with gm_jwks_free; possibly with no key), or -EINVAL (not a
 * JWKS document), -E2BIG (over GM_JWKS_MAX_DOC) or -ENOMEM, with a message in @err. */
int gm_jwks_parse(const char *text, size_t len, struct gm_jwks **ret, char *err, size_t errlen);

/** Free a key set; accepts NULL. */
void gm_jwks_free(struct gm_jwks *keys);

/** How many usable keys the set holds (0 for NULL). */
size_t gm_jwks_count(const struct gm_jwks *keys);

/* Tokens. */

/** Verify the compact JWS @token (NUL-terminated) with @keys (may be NULL: then -ENOKEY for
 * any well-formed token). Claims are not checked: call gm_jwt_check_claims. On success
 * returns 0 and, for each of @ret_header and @ret_claims that is not NULL, a new reference
 * (caller frees with json_decref). Otherwise a negative errno from the list above, with
 * @why (may be NULL) saying what failed. */
int gm_jwt_verify(const struct gm_jwks *keys, const char *token, json_t **ret_header,
                  json_t **ret_claims, char *why, size_t whylen);

/** Decode @token's header and claims WITHOUT checking its signature: only to choose which
 * key set verifies it (an LTI launch's iss and aud pick the platform), or where the token
 * came straight from the issuer over TLS and no keys are configured. Never trust what it
 * returns. Same returns as gm_jwt_verify, minus -ENOTSUP, -ENOKEY and -EKEYREJECTED. */
int gm_jwt_peek(const char *token, json_t **ret_header, json_t **ret_claims, char *why,
                size_t whylen);

/* Claims. */

/** What the claims must say; a NULL string or false flag skips that check. */
struct gm_jwt_expect {
    const char *issuer;   /* `iss` equals it */
    const char *audience; /* `aud` is it or a list holding it; with several audiences `azp`
                             must be present, and `azp` when present must equal it */
    const char *nonce;    /* `nonce` equals it */
    int64_t now;          /* seconds since the epoch; 0 means the current time */
    int64_t leeway;       /* seconds of clock skew allowed for exp, nbf and iat */
    bool require_exp;     /* `exp` must be present (when present it is always checked) */
    bool require_iat;     /* `iat` must be present (when present it must not be in the future) */
};

/** Check @claims (a verified token's payload) against @e: exp, nbf and iat when present (or
 * required), then iss, aud/azp and nonce when asked for. Returns 0, or -EACCES with @why
 * naming the claim ("exp: the token expired 75 s ago"), or -EINVAL when @claims is not an
 * object. */
int gm_jwt_check_claims(const json_t *claims, const struct gm_jwt_expect *e, char *why,
                        size_t whylen);

/* A key set fetched from a URL. */

struct gm_jwks_cache;
struct gm_jwks_wait;

struct gm_jwks_cache_config {
    const char *url;          /* http:// or https:// (copied) */
    long refetch_interval_ms; /* at most one fetch for an unknown kid per interval (and
                                 after a failed fetch); 0 means 5 s */
    size_t max_waiters;       /* tokens waiting for one fetch at most; 0 means 64 */
    long timeout_ms;          /* of a fetch; 0 means 10 s */
    long connect_timeout_ms;  /* 0 means 5 s */
    const char *ca_file;      /* CA bundle instead of the system's, or NULL (copied) */
    bool insecure;            /* skip TLS verification (tests with self-signed servers) */
};

/** Called once when a token that had to wait for the key set is verified (status 0) or not:
 * -ENOKEY or -EKEYREJECTED as gm_jwt_verify, -ECANCELED (the cache was freed or the hub's
 * HTTP client shut down), the fetch's error (-ETIMEDOUT, -ECONNREFUSED, -EIO, -ESHUTDOWN),
 * -EPROTO (the URL did not answer 200 with a JWKS document) or -ENOMEM. @header and
 * @claims are borrowed, valid during the call (NULL unless status is 0); @why says what
 * failed ("" on success). */
typedef void (*gm_jwks_verify_cb)(void *data, int status, json_t *header, json_t *claims,
                                  const char *why);

/** A cache of the key set at @conf->url, fetched through @host's fetcher on @host's loop
 * (@host is borrowed for the cache's life). Nothing is fetched until gm_jwks_cache_prefetch
 * or a token needs it. Returns 0 and the cache, -EINVAL (no http(s) URL) or -ENOMEM. */
int gm_jwks_cache_new(const struct gm_host *host, const struct gm_jwks_cache_config *conf,
                      struct gm_jwks_cache **ret);

/** Complete every waiting verification with -ECANCELED, cancel the fetch in flight and free
 * the cache. Accepts NULL. */
void gm_jwks_cache_free(struct gm_jwks_cache *c);

/** Start fetching the key set now if none is cached and no fetch is in flight (at startup,
 * so that the first token does not wait). No completion: tokens that arrive meanwhile wait
 * for this fetch. Returns 0 or a negative errno. */
int gm_jwks_cache_prefetch(struct gm_jwks_cache *c);

/** The key set as cached now (NULL before the first successful fetch); borrowed, valid
 * until the next return to the loop. */
const struct gm_jwks *gm_jwks_cache_keys(const struct gm_jwks_cache *c);

/** The value gm_jwks_cache_verify returns when the token waits for a fetch. */
#define GM_JWKS_PENDING 1

/** Verify @token with the cached key set, fetching the set first when none is cached or the
 * token names a kid the set lacks (rate-limited: between two such fetches at least
 * refetch_interval_ms pass; a token that would need one sooner gets -ENOKEY now).
 *
 * Returns:
 *   0                verified now, from the cache: @ret_header and @ret_claims (each may be
 *                    NULL) are new references (caller frees); @cb never runs.
 *   GM_JWKS_PENDING  the token waits for a fetch; @cb runs exactly once, later, on the loop,
 *                    unless gm_jwks_wait_cancel is called first. @ret_wait (may be NULL)
 *                    is the handle for that, valid until @cb runs.
 *   < 0              refused now, as gm_jwt_verify, or -EBUSY (max_waiters tokens wait
 *                    already), -ENOKEY (a fetch would be needed too soon), the fetch's
 *                    error; @why says why; @cb never runs.
 * Claims are not checked: call gm_jwt_check_claims. */
int gm_jwks_cache_verify(struct gm_jwks_cache *c, const char *token, gm_jwks_verify_cb cb,
                         void *data, struct gm_jwks_wait **ret_wait, json_t **ret_header,
                         json_t **ret_claims, char *why, size_t whylen);

/** Forget a waiting verification: its callback will not run. */
void gm_jwks_wait_cancel(struct gm_jwks_wait *w);
