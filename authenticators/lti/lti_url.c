/* The URLs an LTI platform sees: it signs (1.1) and registers (1.3) the tool's URLs as it
 * reaches them, through whatever TLS proxy stands before the hub. */
#include "lti.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The first value of a header's comma-separated list, trimmed, lowercased, into @out. */
static bool first_hop(const char *header, char *out, size_t outlen)
{
    if (!header)
        return false;
    while (*header == ' ')
        header++;
    size_t n = strcspn(header, ", ");
    if (n == 0 || n >= outlen)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)header[i]);
    out[n] = '\0';
    return true;
}

void lti_scheme(const char *uri_scheme, struct gm_request *req, char out[8])
{
    if (strcmp(uri_scheme, "auto") != 0) {
        snprintf(out, 8, "%s", uri_scheme);
        return;
    }
    if ((first_hop(gm_request_header(req, "X-Scheme"), out, 8) ||
         first_hop(gm_request_header(req, "X-Forwarded-Proto"), out, 8)) &&
        (strcmp(out, "https") == 0 || strcmp(out, "http") == 0))
        return;
    snprintf(out, 8, "http");
}

const char *lti_url(const char *uri_scheme, struct gm_request *req, const char *path, char *out,
                    size_t outlen)
{
    const char *url = gm_request_url(req); /* scheme://host/path, the host checked */
    const char *host = url ? strstr(url, "://") : NULL;
    if (!host)
        return NULL;
    host += 3;
    size_t hlen = strcspn(host, "/");
    char scheme[8];
    lti_scheme(uri_scheme, req, scheme);
    int n =
        snprintf(out, outlen, "%s://%.*s%s", scheme, (int)hlen, host, path ? path : host + hlen);
    return n > 0 && (size_t)n < outlen ? out : NULL;
}
