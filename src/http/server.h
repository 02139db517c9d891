/* The hub's HTTP server: libmicrohttpd driven by the hub's loop, a route table, and the request
 * object handlers work with. Handlers run on the loop thread. A handler either sets a response
 * before it returns, or suspends the request (with a timeout) and completes it later from a
 * callback with http_resume().
 *
 *     static int api_info_get(struct http_request *req)
 *     {
 *         return http_respond_json(req, 200, json_pack("{s:s}", "version", "5.5.1"));
 *     }
 */
#pragma once

#include "util/arena.h"
#include <ganymede/buf.h>

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct hub;
struct http_server;
struct http_request;
struct MHD_Connection;

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7,
};

/** Returned by a handler that suspended its request. */
#define HTTP_SUSPENDED 1

/** A handler returns 0 after setting a response, HTTP_SUSPENDED, or a negative errno (answered
 * with the status and message of core/errors.h). */
typedef int (*http_handler_fn)(struct http_request *req);

enum http_route_flags {
    HTTP_ROUTE_API = 1 << 0,         /* JSON errors, OPTIONS answered, CORS headers */
    HTTP_ROUTE_QUIET = 1 << 1,       /* 2xx and 503 logged at debug level (health probes) */
    HTTP_ROUTE_HEAD_AS_GET = 1 << 2, /* HEAD runs the GET handler (body dropped) */
    HTTP_ROUTE_FALLBACK = 1 << 3,    /* only for paths no earlier route has (the 404 handlers):
                                        a known path with another method gets 405 */
};

#define HTTP_MAX_PARAMS 4

/* A route pattern is relative to base_url and made of '/'-separated segments: literal text,
 * "{}" (one non-empty segment, captured and percent-decoded), "{?}" (one possibly empty
 * segment, captured) or a final "**" (the rest of the path, captured raw, possibly empty). */
struct http_route {
    const char *pattern;
    unsigned methods; /* enum http_method mask */
    http_handler_fn handler;
    unsigned flags; /* enum http_route_flags */
};

/* A query or form parameter, decoded (http_query, http_form). */
struct http_query_param {
    const char *name;
    const char *value; /* "" when the parameter has no '=' */
    bool has_value;
    struct http_query_param *next;
};

struct http_header {
    const char *name;
    const char *value;
    struct http_header *next;
};

struct http_request {
    struct http_server *server;
    struct hub *hub;
    struct MHD_Connection *conn;
    struct arena arena;
    enum http_method method;
    const char *method_name;
    const char *uri;   /* as received: raw path and query */
    const char *path;  /* raw (percent-encoded) path */
    const char *query; /* raw query string without '?', "" when none */
    const struct http_route *route;
    const char *params[HTTP_MAX_PARAMS]; /* captures of the route, decoded */
    struct gm_buf body;
    int64_t start_us;
    const char *user; /* who made the request, for the access log (set by auth) */
    void *auth;       /* the authenticated identity (auth/), NULL when anonymous */

    /* The response being built. */
    int status;
    const char *content_type;
    char *resp_body; /* malloc'd, handed to MHD */
    size_t resp_len;
    struct http_header *resp_headers;
    bool responded; /* a response is set */
    bool queued;    /* and handed to MHD */

    /* Suspension. */
    bool suspended;
    bool timer_started;
    uv_timer_t timer;
    /** Called once when the request stops waiting for whatever it waits on (timeout, shutdown,
     * or the connection is done): the owner must forget the request. Cleared by owners that
     * complete the request themselves. */
    void (*detach)(struct http_request *req);
    /** Called when the suspension times out, after detach; must set a response. NULL answers
     * 504. */
    void (*on_timeout)(struct http_request *req);
    void *wait_data;                            /* for the owner of the wait */
    struct http_request *wait_prev, *wait_next; /* list of suspended requests */

    /* Parsed lazily. */
    struct http_query_param *query_params;
    bool query_parsed;
    struct http_query_param *form_params;
    bool form_parsed;
    bool too_large;   /* the body passed the cap: the rest is dropped, then 413 */
    uint64_t drained; /* bytes of such a body read so far */
    bool bad_uri;
    bool first_call_done;

    /* A streamed response (http_stream_*): bytes wait in stream_out until MHD asks for them;
     * when there are none, the connection is parked (suspended) until the next write. */
    bool streaming;
    bool stream_parked;
    bool stream_ended;
    struct gm_buf stream_out;
    size_t stream_off;

    /* The durability gate (http_server_set_gate): the response waits for the writes before it. */
    uint64_t gate_start; /* writes issued when its handler was called */
    uint64_t gate_until; /* and when its response was ready */
    bool gate_passed;
    bool gate_held;
    struct http_request *held_prev, *held_next;
    char arena_initial[1536];
};

/* A response is sent only once the writes issued before it are durable: the database's
 * sequence numbers (db/db.h), seen through these calls. */
struct http_gate {
    uint64_t (*issued)(void *ctx);
    uint64_t (*durable)(void *ctx);
    bool (*failed_in)(void *ctx, uint64_t lo, uint64_t hi); /* a write in (lo, hi] failed */
    bool (*available)(void *ctx);
    void *ctx;
    uint64_t timeout_ms; /* a response held longer becomes a 503 */
};

struct http_server_options {
    const char *base_url;           /* "/" or "/prefix/" */
    size_t max_body;                /* bytes; larger bodies get 413 */
    size_t max_url;                 /* bytes; longer URLs get 414 */
    size_t max_header;              /* bytes of request headers */
    unsigned max_json_depth;        /* nesting of JSON bodies */
    unsigned connection_limit;      /* open connections */
    unsigned connection_timeout;    /* seconds of idleness before a connection is closed */
    unsigned header_timeout;        /* seconds to send a request line and headers (0: none) */
    const char *const *headers;     /* NULL-terminated name, value pairs for non-API responses */
    const char *const *api_headers; /* the same for API routes (HTTP_ROUTE_API) */
    /** Called once per completed request with its duration (metrics). */
    void (*observe)(struct http_request *req, double seconds);
    /** Renders an error page for non-API routes (body HTML, malloc'd), or NULL for a plain one. */
    char *(*render_error)(struct http_request *req, int status, const char *message);
};

/** Listen on @addr and serve @routes (NULL-pattern terminated; copied by reference, must
 * outlive the server). @hub is handed to every request. Returns 0, or a negative errno with a
 * message in @err. */
int http_server_create(uv_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen,
                       const struct http_server_options *opts, const struct http_route *routes,
                       struct hub *hub, struct http_server **ret, char *err, size_t errlen);

/** The options the server was created with. */
const struct http_server_options *http_server_options(const struct http_server *s);

/** The port actually bound (useful when asked for port 0). */
int http_server_port(const struct http_server *s);

/** Number of requests in progress. */
size_t http_server_active(const struct http_server *s);

typedef void (*http_server_closed_cb)(void *data);

/** Stop accepting connections, answer suspended requests with 503, let requests in progress
 * finish for up to @grace_ms, then close everything and free @s; @cb runs after that. */
/** Hold responses behind @gate (copied). */
void http_server_set_gate(struct http_server *s, const struct http_gate *gate);

/** The gate moved (more writes durable, or availability changed): send what may go. */
void http_server_gate_moved(struct http_server *s);

void http_server_shutdown(struct http_server *s, unsigned grace_ms, http_server_closed_cb cb,
                          void *data);

/* Requests: reading. */

/** A request header (case-insensitive), or NULL. */
const char *http_header(struct http_request *req, const char *name);

/** The first value of a query parameter, decoded, or NULL. */
const char *http_query(struct http_request *req, const char *name);

/** Whether the query has parameter @name (with or without a value). */
bool http_query_has(struct http_request *req, const char *name);

/** The value of a field of an application/x-www-form-urlencoded body, decoded, or NULL. */
const char *http_form(struct http_request *req, const char *name);

/** The value of cookie @name (surrounding quotes removed), or NULL. In request memory. */
const char *http_cookie(struct http_request *req, const char *name);

struct http_cookie_options {
    const char *path;
    long max_age; /* seconds; 0 for a session cookie; < 0 deletes the cookie */
    bool http_only;
    bool secure;
    const char *same_site; /* "Lax", "None" (with secure), or NULL */
    bool partitioned;      /* CHIPS: kept per top-level site, so it works in another's iframe */
};

/** Add a Set-Cookie header. */
int http_set_cookie(struct http_request *req, const char *name, const char *value,
                    const struct http_cookie_options *o);

/** Whether the request reached the hub over https (directly or per X-Forwarded-Proto). */
bool http_is_https(struct http_request *req);

/** "scheme://host" as the browser sees the hub (the Host header, https per
 * X-Forwarded-Proto), in request memory; NULL when the Host header is not a host name. */
const char *http_origin(struct http_request *req);

/** The client's address as text ("127.0.0.1"), in request memory. */
const char *http_client_ip(struct http_request *req);

/** Parse the body as JSON. An empty body gives 0 and NULL. On bad JSON, too deep nesting or
 * a wrong content type it sets a 400 response and returns -EBADMSG. @ret is a new reference. */
int http_body_json(struct http_request *req, json_t **ret);

/* Requests: responding. */

/** Add a response header (copied). */
int http_set_header(struct http_request *req, const char *name, const char *value);

/** Respond with a body copied from @body. */
int http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                 size_t len);

/** Respond with a malloc'd body (stolen, even on failure). */
int http_respond_owned(struct http_request *req, int status, const char *content_type, char *body,
                       size_t len);

/** Respond with @value serialised compactly (stolen; NULL responds 500). */
int http_respond_json(struct http_request *req, int status, json_t *value);

/** Respond with no body. */
int http_respond_empty(struct http_request *req, int status);

/** Redirect (302 unless @status says otherwise) to @location. */
int http_redirect(struct http_request *req, int status, const char *location);

/** An error in JupyterHub's form: JSON {"status", "message"} on API routes, an HTML page on
 * others. */
int http_error(struct http_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Answer for a negative errno from core/errors.h with its default message. */
int http_error_errno(struct http_request *req, int err);

/* Requests: waiting. */

/** Suspend the request from inside its handler (which then returns HTTP_SUSPENDED). After
 * @timeout_ms, detach and on_timeout run. Returns 0 or a negative errno (not suspended). */
int http_suspend(struct http_request *req, uint64_t timeout_ms);

/** Hand a suspended request whose response is now set back to the server. */
void http_resume(struct http_request *req);

/* Streamed responses (text/event-stream). The handler calls http_stream_start and returns 0;
 * whoever feeds the stream sets req->detach, which runs once when the client goes away or the
 * server shuts down, after which the request must not be touched. */

/** Answer now with @status and @content_type and a body sent as it is written (chunked). At
 * most @max_pending bytes may wait for a slow client. Returns 0 or a negative errno. */
int http_stream_start(struct http_request *req, int status, const char *content_type,
                      size_t max_pending);

/** Send bytes on a started stream. Returns 0, -ENOBUFS when the client does not keep up (the
 * stream is then ended), or -EPIPE after the stream ended. */
int http_stream_write(struct http_request *req, const void *data, size_t len);

/** End the stream: what was written is still sent, then the response completes. */
void http_stream_end(struct http_request *req);
