/* Outgoing HTTP for the hub and its plugins (proxy API, identity providers, Docker and
 * Kubernetes APIs, readiness checks), on libcurl's multi interface driven by the hub's loop: a
 * fetch never blocks. The callback runs exactly once, on the loop thread, unless the fetch is
 * cancelled first.
 *
 *     static void on_pods(void *data, const struct gm_fetch_response *resp)
 *     {
 *         if (resp->error || resp->status != 200)
 *             gm_log_warn("listing pods failed: %d %s", resp->status, resp->message);
 *     }
 *     struct gm_fetch_request req = {.url = "https://kube:6443/api/v1/namespaces/jh/pods",
 *                                    .headers = (const char *const[]){auth, NULL},
 *                                    .ca_pem = ca, .timeout_ms = 10000};
 *     int r = gm_fetch_start(host->fetcher, &req, on_pods, server, &server->fetch);
 *
 * A watch sets .on_line (one JSON event a line), .timeout_ms = -1 and .idle_timeout_ms. */
#pragma once

#include <stddef.h>

struct gm_fetcher;
struct gm_fetch;

/** A line of a streamed response (struct gm_fetch_request.on_line): @line is the line without
 * its "\n" (nor a "\r" before it), NUL-terminated, valid during the call only; @status is the
 * response's HTTP status. Return 0 to read on, anything else to end the transfer: the fetch then
 * completes with -ECANCELED. The call runs inside curl: it must not start a fetch (that is
 * -EDEADLK) nor cancel another one; defer such work to a later loop turn (a watch cache queues
 * the changes it hears and hands them on from a timer). */
typedef int (*gm_fetch_line_cb)(void *data, int status, const char *line, size_t len);

struct gm_fetch_request {
    const char *method;         /* "GET" when NULL */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL (copied) */
    const char *body;           /* request body or NULL (copied) */
    size_t body_len;
    const char *unix_socket; /* send the request over this unix socket (Docker), or NULL */
    long timeout_ms;         /* whole request; 0 means 30 s, -1 none (a stream: see idle) */
    long connect_timeout_ms; /* 0 means 10 s */
    long idle_timeout_ms;    /* fail with -ETIMEDOUT when nothing arrives for this long (rounded
                                up to seconds); 0: no such limit */
    size_t max_response;     /* cap on the response body (on each line when streamed); 0 means
                                16 MiB */
    /* TLS. Files are read by the TLS library at connect time; the *_pem strings are copied. */
    const char *ca_file;   /* CA bundle to trust instead of the system's, or NULL */
    const char *ca_pem;    /* the same as PEM text (a kubeconfig's certificate-authority-data) */
    const char *cert_file; /* client certificate (PEM), or NULL */
    const char *cert_pem;  /* the same as PEM text */
    const char *key_file;  /* the client certificate's private key (PEM), or NULL */
    const char *key_pem;   /* the same as PEM text */
    int insecure;          /* skip TLS verification (tests against self-signed servers) */
    /** Stream the response: each line goes to @on_line as it arrives (Kubernetes watches,
     * Docker's progress), none of it is collected, and the completion gets an empty body. */
    gm_fetch_line_cb on_line;
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
 * negative errno (and @cb never runs): -ESHUTDOWN when @f is NULL (the hub is stopping),
 * -EDEADLK from inside an on_line callback. Everything in @req is copied. */
int gm_fetch_start(struct gm_fetcher *f, const struct gm_fetch_request *req, gm_fetch_cb cb,
                   void *data, struct gm_fetch **ret);

/** Abort a request whose callback has not run; the callback will not run. Safe to call from the
 * request's own on_line callback. */
void gm_fetch_cancel(struct gm_fetch *fetch);

/** A response header's value (case-insensitive name, the last block of headers), or NULL.
 * Valid until the next call or the end of the callback. */
const char *gm_fetch_response_header(const struct gm_fetch_response *resp, const char *name);
