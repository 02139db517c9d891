/* OAuth 1.0 (RFC 5849) HMAC-SHA1 signatures, as LTI 1.1 launches are signed: the signature
 * base string of a request and its signature, for the LTI 1.1 authenticator (lti11.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct oauth1_param {
    const char *name;  /* decoded */
    const char *value; /* decoded */
};

/** The signature base string (RFC 5849 3.4.1) of a @method request to @url (scheme://host[:port]
 * /path; the query is ignored: its parameters belong in @params) with @n @params, which must
 * not include oauth_signature. Written to @out. Returns its length, or -ENOSPC when @outlen is
 * too small, -EINVAL for a URL that is not http(s)://host/.... */
long oauth1_base_string(const char *method, const char *url, const struct oauth1_param *params,
                        size_t n, char *out, size_t outlen);

/** base64(HMAC-SHA1(key, @base)) with key = pct(@consumer_secret) "&" pct(@token_secret)
 * (RFC 5849 3.4.2), into @out (at least 29 bytes). Returns 0 or a negative errno. */
int oauth1_hmac_sha1(const char *base, const char *consumer_secret, const char *token_secret,
                     char *out, size_t outlen);

/** Whether @signature (base64 as sent) is that of @base, compared in constant time. */
bool oauth1_verify(const char *base, const char *consumer_secret, const char *signature);

/** The parameters of an `Authorization: OAuth ...` header (RFC 5849 3.5.1), decoded, realm
 * left out: a new object of strings, or NULL with the reason in @err (not an OAuth header,
 * not name="value" pairs, a value that does not decode, more than 32 of them). */
json_t *oauth1_header_params(const char *header, char *err, size_t errlen);
