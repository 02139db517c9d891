/* Outgoing HTTP for the hub and its plugins (proxy API, identity providers, Docker and
 * Kubernetes APIs, readiness checks), on libcurl's multi interface driven by the hub's loop: a
 * fetch never blocks. The callback runs exactly once, on the loop thread, unless the fetch is
 * cancelled first. */
#pragma once

#include <stddef.h>

struct gm_fetcher;
struct gm_fetch;

struct gm_fetch_request {
    const char *method;         /* "GET" when NULL */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL (copied) */
    const char *body;           /* request body or NULL (copied) */
    size_t body_len;
    const char *unix_socket; /* send the request over this unix socket (Docker), or NULL */
    long timeout_ms;         /* whole request; 0 means 30 s */
    long connect_timeout_ms; /* 0 means 10 s */
    size_t max_response;     /* cap on the response body; 0 means 16 MiB */
    const char *ca_file;     /* CA bundle to trust instead of the system's, or NULL */
    int insecure;            /* skip TLS verification (tests against self-signed servers) */
};

struct gm_fetch_response {
    int status;          /* HTTP status, or 0 when no response arrived */
    int error;           /* 0, or negative errno: -ETIMEDOUT, -ECONNREFUSED, -E2BIG, -ECANCELED,
                            -EIO for other transport failures */
    const char *message; /* what went wrong, for logs and users ("" on success) */
    const char *body;    /* NUL-terminated, "" when empty; valid during the callback only */
    size_t body_len;
    const struct gm_fetch *fetch; /* for gm_fetch_response_header() */
};

/** Called once with the outcome; @resp and everything it points to are valid only during the
 * call. */
typedef void (*gm_fetch_cb)(void *data, const struct gm_fetch_response *resp);

/** Start a request. Returns 0 and (if @ret is not NULL) a handle for gm_fetch_cancel, or a
 * negative errno (and @cb never runs). Everything in @req is copied. */
int gm_fetch_start(struct gm_fetcher *f, const struct gm_fetch_request *req, gm_fetch_cb cb,
                   void *data, struct gm_fetch **ret);

/** Abort a request whose callback has not run; the callback will not run. */
void gm_fetch_cancel(struct gm_fetch *fetch);

/** A response header's value (case-insensitive name, the last block of headers), or NULL.
 * Valid until the next call or the end of the callback. */
const char *gm_fetch_response_header(const struct gm_fetch_response *resp, const char *name);
