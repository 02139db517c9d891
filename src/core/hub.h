/* The hub context: the one object that owns all state (configuration, loop handles, database,
 * HTTP server, outgoing HTTP). The parts above the core (auth, http, spawn) keep their state here
 * behind pointers to their own types, so that this header needs none of theirs; the composition
 * root (app/hub.c) allocates that state with the hub and runs its life cycle. */
#pragma once

#include "core/config.h"
#include "core/store.h"
#include <ganymede/buf.h>

#include <ganymede/authenticator.h>
#include <ganymede/host.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* JupyterHub.* and Ganymede.* settings (tables in core/hub_options.c). */
struct hub_config {
    char *bind_url;
    char *base_url;
    char *ip;
    int64_t port;
    char *hub_bind_url;
    char *hub_ip;
    int64_t hub_port;
    char *hub_connect_url;
    char *hub_connect_ip;
    char *db_url;
    json_t *db_kwargs;
    bool upgrade_db;
    char *cookie_secret;
    char *cookie_secret_file;
    char *pid_file;
    json_t *log_level;
    char *config_file;
    int64_t api_page_default_limit;
    int64_t api_page_max_limit;
    double activity_resolution;
    int64_t token_expires_in_max_seconds;
    json_t *load_roles;
    json_t *load_groups;
    json_t *custom_scopes;
    json_t *services;
    json_t *api_tokens;
    json_t *service_tokens;
    char **admin_users; /* deprecated: Authenticator.admin_users */
    bool trust_user_provided_tokens;
    bool authenticate_prometheus;
    bool cleanup_servers;
    bool cleanup_proxy;
    char *authenticator_class;
    double cookie_max_age_days;
    bool redirect_to_server;
    char *default_url;
    bool shutdown_on_logout;
    char **template_paths;
    json_t *template_vars;
    char *logo_file;
    bool allow_named_servers;
    int64_t named_server_limit_per_user;
    char *spawner_class;
    int64_t concurrent_spawn_limit;
    int64_t active_server_limit;
    double last_activity_interval;
    json_t *tornado_settings;
    int64_t oauth_token_expires_in;
    char *default_server_name;
    double implicit_spawn_seconds;
    /* Ganymede */
    int64_t max_body_size;
    int64_t max_url_length;
    int64_t max_header_size;
    int64_t max_json_depth;
    int64_t max_connections;
    int64_t connection_timeout;
    int64_t header_timeout;
    double shutdown_timeout;
    double db_lease_seconds;
};

struct oauth2_client;

struct auth_config;
struct auth_cookie_secret;
struct auth_crypt;
struct auth_usernames;
struct http_metrics;
struct scope_registry;
struct spawn_host;

/* The pointers to the parts' state are set by hub_create (app/hub.c) and never NULL. */
struct hub {
    uv_loop_t *loop;
    const struct config *config;
    struct hub_config conf;
    char *base_url;   /* normalised: "/" or "/prefix/" */
    char *hub_prefix; /* base_url + "hub/" */
    char *state_dir;  /* the database's directory (gm_host.state_dir) */
    struct db *db;
    struct http_server *http;
    struct gm_fetcher *fetcher;
    struct auth_cookie_secret *cookie_secret;
    struct auth_config *auth;         /* Authenticator.* settings */
    struct auth_usernames *usernames; /* compiled name rules */
    const struct gm_authenticator *authenticator;
    void *authenticator_conf;     /* the plugin's settings struct */
    void *authenticator_state;    /* what its init returned */
    struct oauth2_client *oauth2; /* the OAuth client, for OAuth authenticators */
    struct http_route *routes;    /* the route table, with the authenticator's pages */
    char **auth_route_patterns;   /* their patterns */
    struct gm_authenticator_base auth_base;
    char **admin_names; /* admin_users, allowed_users, blocked_users, normalised */
    char **allowed_names;
    char **blocked_names;
    struct auth_crypt *crypt;
    struct gm_host host;
    struct page_templates *templates;
    char static_version[17]; /* ?v= of static URLs */
    struct gm_buf logo;      /* JupyterHub.logo_file, read at start */
    struct scope_registry *scopes;
    struct hub_store store;
    struct http_metrics *request_metrics;
    struct http_metrics *spawn_metrics;
    const char *authenticator_class; /* the class name reported by /hub/api/info */
    struct spawn_host *spawn;
    struct proxy *proxy;
    int64_t started_wall_us;
    uv_timer_t stop_timer;
    /* The clean stop, hub_stop of the composition root (app/hub.c), set by hub_create. */
    void (*stop)(struct hub *hub, int exit_code);
    char *csp;                   /* Content-Security-Policy of pages */
    char *api_csp;               /* and of API responses */
    const char *page_headers[5]; /* name, value pairs added to every page response */
    const char *api_headers[5];  /* and to every API response */
    uv_prepare_t log_flush;      /* writes the log lines of each loop iteration */
    uv_timer_t maintenance;      /* core/maintenance.c */
    uint64_t maintenance_ticks;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool started;
    bool stopping;
    int exit_code;
    int64_t start_us;
    struct hub_standby *standby; /* while another hub holds the lease (app/standby.c) */
};

/** The JupyterHub.* and Ganymede.* option classes (core/hub_options.c). */
extern const struct gm_option_class hub_jupyterhub_class;
extern const struct gm_option_class hub_ganymede_class;

/** Apply the JupyterHub and Ganymede settings of @cfg to @conf (filled with defaults first).
 * Returns 0 or -EINVAL with a message in @err. Release with hub_config_release. */
int hub_config_load(const struct config *cfg, struct hub_config *conf, char *err, size_t errlen);

void hub_config_release(struct hub_config *conf);

/** Fill hub->host (core/host.c). */
void hub_host_init(struct hub *hub);

/** hub->stop from a timer, so that the request asking for it is answered first
 * (core/hub_config.c). */
void hub_stop_soon(struct hub *hub, int exit_code);

/** Start the periodic housekeeping (core/maintenance.c); closed with the other handles. */
void hub_maintenance_start(struct hub *hub);

/** A number from JupyterHub.tornado_settings (slow_spawn_timeout, ...), or @def. */
double hub_tornado_setting(const struct hub *hub, const char *name, double def);

/** The JupyterHub REST API version Ganymede implements. */
#define HUB_JUPYTERHUB_VERSION "5.5.1"
