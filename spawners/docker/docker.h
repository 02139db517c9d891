/* The Docker spawner's parts and how they talk to each other. Nothing outside spawners/docker/
 * includes this file except the unit tests of the body builder.
 *
 *   docker.c         options, init, the struct gm_spawner, state, the image choice form
 *   docker_start.c   the start sequence (image, container, start, wait for the server)
 *   docker_stop.c    stop and poll
 *   docker_api.c     Engine API calls over the unix socket (or tcp) with gm_fetch
 *   docker_body.c    the container create body, names, templates, what inspect says
 *   docker_kwargs.c  docker-py's argument names (extra_create_kwargs, extra_host_config) turned
 *                    into the Engine API's field names
 *   docker_text.c    container-name escaping, command splitting, log tails (buffers and URL
 *                    encoding are the toolkit's: <ganymede/buf.h>, <ganymede/encode.h>) */
#pragma once

#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <ganymede/fetch.h>
#include <ganymede/host.h>
#include <ganymede/json.h>
#include <ganymede/spawner.h>
#include <ganymede/template.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define DOCKER_NAME_MAX    255  /* container names, images, volume names */
#define DOCKER_URL_MAX     2048 /* a request path or a server URL */
#define DOCKER_MESSAGE_MAX 900  /* a failure message for the user (the hub keeps 1 KiB) */
#define DOCKER_LOG_LINES   12   /* lines of a failed container's log in its failure message */

/* DockerSpawner.* settings, parsed by the hub from the option table in docker.c. */
struct docker_conf {
    char *image;
    json_t *allowed_images; /* {} (no choice), a list, a dict alias → image, or "*" */
    char *name_template;    /* "": {prefix}-{username}[--{servername}] */
    char *prefix;
    char *escape; /* "" or "legacy" */
    char *network_name;
    json_t *use_internal_ip; /* null: true unless network_name is bridge or host */
    bool use_internal_hostname;
    char *host_ip; /* "": 127.0.0.1, or the host of a tcp:// DOCKER_HOST */
    bool remove;
    json_t *volumes;           /* {host-or-name: bind} or {host: {bind, mode, propagation}} */
    json_t *read_only_volumes; /* {host-or-name: bind} */
    json_t *mounts;            /* list of Mount dicts */
    json_t *links;             /* {container: alias} */
    json_t *extra_create_kwargs;
    json_t *extra_host_config;
    json_t *cmd; /* list of strings, or null: the image's command */
    char *pull_policy;
    char *host;               /* unix:///var/run/docker.sock, tcp://host:port (DOCKER_HOST) */
    json_t *client_kwargs;    /* base_url, timeout, version */
    json_t *post_start_cmd;   /* false, a string or a list */
    json_t *tls_config;       /* not supported: must stay empty */
    char *auth_state_uid_key; /* Ganymede: the container's uid from the user's auth_state */
    char *auth_state_gid_key; /* and its gid */
    /* Deprecated names dockerspawner still accepts. */
    char *container_image;
    char *container_prefix;
    char *container_name_template;
    bool remove_containers;
    json_t *image_whitelist;
    char *container_ip;
    int64_t container_port;
    /* Accepted so that existing configurations start; see docker.c for what each does. */
    char *move_certs_image;
    char *certs_volume_name;
    bool use_docker_client_env;
    char *hub_ip_connect;
    json_t *tls, *tls_verify, *tls_ca, *tls_cert, *tls_key, *tls_assert_hostname;
};

enum docker_pull {
    DOCKER_PULL_IFNOTPRESENT,
    DOCKER_PULL_ALWAYS,
    DOCKER_PULL_NEVER,
    DOCKER_PULL_SKIP,
    DOCKER_PULL_MAX,
};

/** pull_policy's names, as configured (case does not matter there). */
extern const char *const docker_pull_names[DOCKER_PULL_MAX];

/** escapism's escape(), as DockerSpawner uses it (gm_slug_escape): characters outside [a-z0-9]
 * become "-XX" per UTF-8 byte, then lower case; with @legacy, [A-Za-z0-9-] are kept and "_XX"
 * is used (gm_escape). Caller frees; NULL when out of memory or too long. */
char *docker_escape(const char *text, bool legacy);

/** Split a command line into words (whitespace, '' and "" quotes, backslash), as
 * shlex.split does for the usual cases. Returns 0 and a JSON list, or -EINVAL (an open quote). */
int docker_split_command(const char *line, json_t **ret);

/** The last @max_lines lines of a container's log as the Engine returns it (frames of
 * 8-byte headers when the container has no TTY, raw text otherwise), with control characters
 * replaced, in at most @outlen bytes. Returns the length written. */
size_t docker_log_tail(const char *data, size_t len, int max_lines, char *out, size_t outlen);

/* The names a template may use, as DockerSpawner.template_namespace(). */
struct docker_ns {
    const char *username;       /* escaped */
    const char *raw_username;   /* as the hub has it */
    const char *servername;     /* escaped, lower case ("" for the default server) */
    const char *raw_servername; /* as the hub has it */
    const char *imagename;      /* the image with / and : turned into - */
    const char *prefix;
};

/** Render a Python format string ("{prefix}-{username}", "{{" for a brace) with @ns through
 * gm_format. Returns 0 and the text (caller frees), -EINVAL with @bad pointing at the offending
 * field or brace when it does not format, or -ENOMEM. */
int docker_render(const char *tmpl, const struct docker_ns *ns, char **ret, const char **bad);

/** Every string (keys too) in @v rendered; strings that do not format are kept as they are, as
 * DockerSpawner._render_templates does. A new reference, or NULL (out of memory). */
json_t *docker_render_json(const json_t *v, const struct docker_ns *ns);

/** Split "repo[:tag]" on the last ':' of the last path part; the tag is "latest" if none. */
int docker_image_split(const char *image, char *repo, size_t repolen, char *tag, size_t taglen);

/** The image with '/' and ':' turned into '-' ({imagename}); caller frees. */
char *docker_image_name(const char *image);

/** Check the templates of volumes, read_only_volumes and mounts with a sample user. */
int docker_volumes_check(const struct docker_conf *c, char *err, size_t errlen);

/** What one container is created from: the configuration plus one start. */
struct docker_create {
    const char *image;
    const json_t *cmd;      /* full command (list), or NULL: the image's own */
    const char *const *env; /* "NAME=value", NULL-terminated */
    const struct docker_ns *ns;
    const char *user; /* labels */
    const char *server_name;
    int port;            /* where the server listens in the container */
    int64_t mem_limit;   /* bytes, 0 = none */
    double cpu_limit;    /* cores, 0 = none */
    const char *host_ip; /* published port's address unless internal */
    bool internal_ip;    /* no published port */
    const char *run_as;  /* the container's User ("1000" or "1000:100") from auth_state, or
                            NULL: the image's (or extra_create_kwargs') */
};

/** The body of POST /containers/create (a new reference), or NULL and a message. */
json_t *docker_create_body(const struct docker_conf *c, const struct docker_create *cr, char *err,
                           size_t errlen);

/** The labels every container of ours carries, and whether an inspected container has them
 * for this user's server (so a stale one may be replaced, while a stranger's is a conflict). */
#define DOCKER_LABEL_MANAGED "hub.jupyter.org/managed-by"
#define DOCKER_LABEL_USER    "hub.jupyter.org/username"
#define DOCKER_LABEL_SERVER  "hub.jupyter.org/servername"
bool docker_container_is_ours(const json_t *inspect, const char *user, const char *server_name);
/** Whether an inspected container was made by a JupyterHub for this server (its environment
 * says JUPYTERHUB_USER and JUPYTERHUB_SERVER_NAME): dockerspawner's, from before Ganymede. */
bool docker_container_is_jupyterhubs(const json_t *inspect, const char *user,
                                     const char *server_name);

/** Where the hub reaches a started container (from its inspect), as DockerSpawner's
 * get_ip_and_port: host networking → @ip:@port (a wildcard @ip becomes @host_ip); internal
 * hostname; internal IP on @network; or the published port. Returns 0 and "http://ip:port" in
 * @url, or -EINVAL and a message. */
struct docker_where {
    const char *network; /* DockerSpawner.network_name */
    bool internal_ip;
    bool internal_hostname;
    const char *host_ip;
    const char *ip;   /* Spawner.ip: where the server listens */
    int port;         /* Spawner.port */
    const char *name; /* container name */
};
int docker_server_url(const json_t *inspect, const struct docker_where *w, char *url, size_t urllen,
                      char *err, size_t errlen);

/* docker_kwargs.c: docker-py's create_container and create_host_config arguments, or Engine API
 * fields (names starting with a capital letter pass through), as Engine API JSON. */

/** Turn extra_host_config into HostConfig fields. Returns 0 and a new object, or -EINVAL. */
int docker_kwargs_host_config(const json_t *in, json_t **ret, char *err, size_t errlen);
/** Turn extra_create_kwargs into create body fields ("host_config" → "HostConfig", converted
 * as above). Returns 0 and a new object, or -EINVAL. */
int docker_kwargs_create(const json_t *in, json_t **ret, char *err, size_t errlen);
/** DockerSpawner.mounts (docker.types.Mount arguments or Engine fields) as HostConfig.Mounts. */
int docker_kwargs_mounts(const json_t *in, json_t **ret, char *err, size_t errlen);
/** docker-py's parse_bytes: 1024, "512m", "2g", "1.5G" → bytes; -1 when it does not parse. */
int64_t docker_parse_bytes(const json_t *v);

/* docker_api.c: the Engine API. */

struct docker_api {
    const struct gm_host *host;
    char *socket;       /* unix socket path, or NULL for tcp */
    char *base;         /* "http://localhost" or "http://host:port" */
    char *display;      /* the address as configured, for messages */
    char version[24];   /* "/v1.41" once known */
    bool version_known; /* from client_kwargs, or negotiated with GET /version */
    long timeout_ms;    /* client_kwargs timeout (docker-py: 60 s) */
    char tcp_host[256]; /* the host of a tcp:// address, for host_ip */
};

/** Parse DockerSpawner.host / client_kwargs (base_url, timeout, version). */
int docker_api_init(struct docker_api *api, const struct gm_host *host, const char *docker_host,
                    const json_t *client_kwargs, char *err, size_t errlen);
void docker_api_release(struct docker_api *api);

struct docker_reply {
    int status;       /* HTTP status, 0 when no answer */
    int error;        /* 0 or a negative errno (-ETIMEDOUT, -ECONNREFUSED, -EIO, ...) */
    const char *body; /* valid during the callback */
    size_t body_len;
    json_t *json;        /* the body parsed, or NULL; borrowed during the callback */
    const char *message; /* the Engine's "message", or the transport's error, or "" */
};

typedef void (*docker_api_cb)(void *data, const struct docker_reply *reply);
struct docker_call;

/** Call the Engine: @path starts with '/' and is already encoded ("/containers/x/json"); the
 * version prefix is added (negotiated first if needed). @timeout_ms 0 means the client's
 * timeout. Returns 0 (@cb runs once later) or a negative errno. */
int docker_api_call(struct docker_api *api, const char *method, const char *path,
                    const json_t *body, long timeout_ms, size_t max_response, docker_api_cb cb,
                    void *data, struct docker_call **ret);
/** Abandon a call: its callback will not run (accepts NULL). */
void docker_api_cancel(struct docker_call *call);

/** A sentence saying why a call failed, naming @what was done ("creating the container"). */
void docker_api_explain(const struct docker_api *api, const struct docker_reply *r,
                        const char *what, char *out, size_t outlen);

/* docker.c, docker_start.c, docker_stop.c: the spawner. */

struct docker_state {
    const struct gm_host *host;
    const struct docker_conf *conf;
    struct docker_api api;
    enum docker_pull pull;
    json_t *allowed; /* NULL: no choice; "*"; or an object alias → image */
    bool internal_ip;
    char host_ip[256];
    json_t *post_start; /* the command as a list, or NULL */
    int stop_grace_s;   /* the container's StopTimeout (extra_create_kwargs), else 10 */
};

enum docker_op {
    DOCKER_OP_NONE,
    DOCKER_OP_START,
    DOCKER_OP_STOP,
    DOCKER_OP_MAX,
};

struct docker_server {
    struct docker_state *st;
    char *user;
    char *server_name;
    char *name; /* the container's name: rendered at start, or from the state */
    char *id;   /* the container's id, NULL when there is none */

    enum docker_op op;
    int step;                 /* where the start or stop sequence is */
    struct docker_call *call; /* the Engine call in flight for start or stop */
    struct gm_fetch *probe;   /* the server's HTTP check in flight */
    uv_timer_t timer;         /* between HTTP checks */
    uint64_t probe_delay_ms;

    /* start */
    char *image;
    json_t *cmd;  /* the full command, or NULL: the image's */
    json_t *args; /* Spawner.args, after the image's command when cmd is None */
    bool need_image_cmd;
    char *failure; /* a failure found before anything was asked of the engine */
    char **env;
    char *ip;
    char *base_url;
    int port;
    int64_t mem_limit;
    double cpu_limit;
    char run_as[32]; /* "uid[:gid]" from auth_state, "" for the image's user */
    char *url;
    int exit_code; /* of a container that stopped during the start */
    bool oom_killed;
    const struct gm_spawn_progress *progress;
    gm_spawner_started_cb start_cb;
    void *start_data;

    /* stop */
    bool now;
    gm_spawner_stopped_cb stop_cb;
    void *stop_data;

    /* poll */
    struct docker_call *poll_call;
    gm_spawner_polled_cb poll_cb;
    void *poll_data;

    bool freed;
    int holds; /* the owner, the timer handle, deferred calls */
};

/** Keep @s alive until docker_server_release (a deferred call, a handle). */
void docker_server_hold(struct docker_server *s);
void docker_server_release(struct docker_server *s);
/** Run @fn(@s) on a later loop iteration, holding @s. */
int docker_server_defer(struct docker_server *s, void (*fn)(void *data));

int docker_start(void *server, const struct gm_server_spec *spec,
                 const struct gm_spawn_progress *progress, gm_spawner_started_cb cb, void *data);
/** Complete a pending start (@status < 0: failed with @message); frees what it held. */
void docker_start_done(struct docker_server *s, int status, const char *message);
/** Stop whatever the start has in flight (its callback is not run). */
void docker_start_abort(struct docker_server *s);
int docker_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data);
int docker_poll(void *server, gm_spawner_polled_cb cb, void *data);
