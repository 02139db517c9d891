/* The hub's objects in memory: users, groups, roles, services, API tokens, servers (spawner
 * rows) and OAuth clients, loaded from the database at start and written through on every
 * change. Every read is served from here (no query per request); the database is the durable
 * copy that JupyterHub could open too.
 *
 * Functions here keep memory and database consistent: they write the row first and change
 * memory only when the write succeeded. They return 0 or a negative errno and do not log. */
#pragma once

#include "util/hmap.h"
#include "util/vec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct db;
struct db_oauth_code_row;
struct scope_registry;
struct scope_set;

/* Timestamps are microseconds since the epoch, UTC; 0 means None. */

struct hub_role {
    int64_t id;
    char *name;
    char *description;
    json_t *scopes; /* raw scopes: a list of strings */
    bool managed_by_auth;
};

struct hub_group {
    int64_t id;
    char *name;
    json_t *properties;  /* an object */
    struct ptrvec users; /* struct hub_user *, in the order they were added */
    struct ptrvec roles; /* struct hub_role * */
};

/* The address of a running server (a row of `servers`). */
struct hub_server_addr {
    int64_t id;
    char *proto;
    char *ip;
    int port;
    char *base_url;
};

/* A row of `spawners`: one server of a user (name "" is the default server). The run-time
 * state (pending, ready, the spawner plugin's object) is added by the spawning code. */
struct hub_spawner {
    int64_t id;
    struct hub_user *user;
    char *name;
    int64_t started;
    int64_t last_activity;
    json_t *state;        /* object or NULL */
    json_t *user_options; /* object or NULL */
    char *oauth_client_id;
    struct hub_server_addr *server; /* non-NULL while the server is active */
    void *run;                      /* spawn/ run-time state, NULL when idle */
};

struct hub_user {
    int64_t id;
    char *name;
    bool admin;
    int64_t created;
    int64_t last_activity;
    char *cookie_id;
    void *auth_state; /* encrypted_auth_state as stored, or NULL */
    size_t auth_state_len;
    struct ptrvec groups;     /* struct hub_group * */
    struct ptrvec roles;      /* struct hub_role *, assigned directly */
    struct ptrvec spawners;   /* struct hub_spawner * */
    struct ptrvec tokens;     /* struct hub_token * */
    struct scope_set *scopes; /* cached expanded scopes, valid while scopes_gen == store gen */
    uint64_t scopes_gen;
    /* The login's freshness (Authenticator.auth_refresh_age), in memory only. */
    int64_t auth_refreshed_us; /* when auth_state was last refreshed or set by a login */
    bool auth_refreshing;      /* a refresh is under way */
    bool auth_stale;           /* the provider refused a refresh: log in again */
};

struct hub_service {
    int64_t id;
    char *name;
    bool admin;
    char *url;
    json_t *info;
    bool display;
    bool oauth_no_confirm;
    json_t *command;
    char *cwd;
    json_t *environment;
    char *user;
    bool from_config;
    json_t *oauth_client_allowed_scopes;
    char *oauth_client_id;
    char *oauth_redirect_uri;
    int pid;
    struct hub_server_addr *server;
    struct ptrvec roles;
    struct ptrvec tokens;
    struct scope_set *scopes;
    uint64_t scopes_gen;
    void *run; /* services/managed.c: token, process, OAuth client of a running service */
};

struct hub_oauth_client {
    int64_t id;
    char *identifier;
    char *description;
    char *secret; /* hashed; "" cannot be used to get tokens */
    char *redirect_uri;
    json_t *allowed_scopes;
};

struct hub_token {
    int64_t id;
    struct hub_user *user; /* exactly one of user and service */
    struct hub_service *service;
    char *hashed;
    char prefix[17];
    char *client_id;
    char *session_id;
    int64_t created;
    int64_t expires_at;
    int64_t last_activity;
    char *note;
    json_t *scopes; /* raw scopes */
    bool verified;  /* fingerprint holds the SHA-256 of the plaintext */
    unsigned char fingerprint[32];
    struct hub_token *prefix_next; /* other tokens with the same prefix */
    struct scope_set *eff;         /* cached effective scopes */
    uint64_t eff_gen;
};

struct hub_store {
    struct db *db;
    const struct scope_registry *scopes;
    struct ptrvec users;         /* by id, ascending */
    struct ptrvec users_by_name; /* sorted by name */
    struct hmap user_index;      /* name → user */
    struct hmap cookie_index;    /* cookie_id → user */
    struct ptrvec groups;        /* by id */
    struct hmap group_index;
    struct ptrvec roles;
    struct hmap role_index;
    struct ptrvec services;
    struct hmap service_index;
    struct ptrvec clients;
    struct hmap client_index;
    struct hmap token_prefix; /* prefix → first token */
    struct hmap oauth_codes;  /* code → struct hub_oauth_code (core/oauth_codes.c) */
    size_t n_tokens;
    /* Bumped by every change that can change someone's scopes (roles, memberships, admin
     * flags, names): cached scope sets compare against it. */
    uint64_t rbac_gen;
    int64_t activity_resolution_us;
};

/* An OAuth authorization code of the hub's provider, until it is exchanged or expires. */
struct hub_oauth_code {
    char *client_id;
    char *code;
    int64_t expires_at; /* unix seconds */
    char *redirect_uri;
    char *session_id;
    int64_t user_id;
    char *scopes; /* JSON text */
};

/* Life cycle. */

/** Load everything from @db. @scopes must outlive the store. */
int store_load(struct hub_store *s, struct db *db, const struct scope_registry *scopes, char *err,
               size_t errlen);

/** Free all objects; accepts a zeroed store. */
void store_release(struct hub_store *s);

/* Users (core/users.c). */

struct hub_user *store_user_find(const struct hub_store *s, const char *name);
struct hub_user *store_user_by_cookie_id(const struct hub_store *s, const char *cookie_id);
int store_user_create(struct hub_store *s, const char *name, bool admin, struct hub_user **ret);
int store_user_rename(struct hub_store *s, struct hub_user *u, const char *name);
int store_user_set_admin(struct hub_store *s, struct hub_user *u, bool admin);
int store_user_delete(struct hub_store *s, struct hub_user *u);
/** Move last_activity forward (never back); written when it moved by more than the activity
 * resolution, or always with @force. */
int store_user_touch(struct hub_store *s, struct hub_user *u, int64_t when, bool force);
/** A copy of the encrypted auth_state blob (caller frees), or NULL. */
int store_user_auth_state(struct hub_store *s, const struct hub_user *u, void **ret, size_t *len);
int store_user_set_auth_state(struct hub_store *s, struct hub_user *u, const void *blob,
                              size_t len);
/** The names of @u's groups, NULL-terminated (borrowed strings; the caller frees the array),
 * or NULL when out of memory. */
const char **store_user_group_names(const struct hub_user *u);

/** Whether @u is in any group of @groups. */
bool store_user_in_any_group(const struct hub_user *u, const struct strset *groups);

/* OAuth codes (core/oauth_codes.c). */

/** Keep a new code (copied from @row), after dropping those expired at @row's issue time
 * @now_s. -ENOBUFS when too many wait to be exchanged. */
int store_oauth_code_add(struct hub_store *s, const struct db_oauth_code_row *row, int64_t now_s);
/** Take the code away (it is good for one exchange) and hand it to the caller, who frees it
 * with store_oauth_code_free; NULL if there is none. */
struct hub_oauth_code *store_oauth_code_take(struct hub_store *s, const char *code);
void store_oauth_code_free(struct hub_oauth_code *c);
/** Drop the codes that expired before @now_s. */
int store_oauth_codes_purge(struct hub_store *s, int64_t now_s);
int store_oauth_code_load(void *ctx, const struct db_oauth_code_row *row);
void store_oauth_codes_release(struct hub_store *s);

/* Groups (core/groups.c). */

struct hub_group *store_group_find(const struct hub_store *s, const char *name);
int store_group_create(struct hub_store *s, const char *name, struct hub_group **ret);
int store_group_delete(struct hub_store *s, struct hub_group *g);
int store_group_add_user(struct hub_store *s, struct hub_group *g, struct hub_user *u);
int store_group_remove_user(struct hub_store *s, struct hub_group *g, struct hub_user *u);
/** Replace the properties (steals @props). */
int store_group_set_properties(struct hub_store *s, struct hub_group *g, json_t *props);

/* Roles (core/roles.c). */

enum store_bearer {
    STORE_BEARER_USER,
    STORE_BEARER_GROUP,
    STORE_BEARER_SERVICE,
    STORE_BEARER_MAX,
};

struct hub_role *store_role_find(const struct hub_store *s, const char *name);
/** Create or update a role (description and raw scopes are copied). */
int store_role_put(struct hub_store *s, const char *name, const char *description,
                   const json_t *scopes, bool managed_by_auth, struct hub_role **ret);
int store_role_delete(struct hub_store *s, struct hub_role *r);
int store_role_grant(struct hub_store *s, struct hub_role *r, enum store_bearer kind, void *bearer);
int store_role_strip(struct hub_store *s, struct hub_role *r, enum store_bearer kind, void *bearer);

/* Services (core/services.c). */

struct hub_service *store_service_find(const struct hub_store *s, const char *name);
/** Create a service row, or return the existing one. */
int store_service_ensure(struct hub_store *s, const char *name, struct hub_service **ret);
/** Write the service's columns after changing the struct. */
int store_service_save(struct hub_store *s, struct hub_service *svc);
int store_service_delete(struct hub_store *s, struct hub_service *svc);

/* OAuth clients (core/services.c). */

struct hub_oauth_client *store_client_find(const struct hub_store *s, const char *identifier);
int store_client_put(struct hub_store *s, const char *identifier, const char *description,
                     const char *secret_hashed, const char *redirect_uri,
                     const json_t *allowed_scopes, struct hub_oauth_client **ret);
int store_client_delete(struct hub_store *s, struct hub_oauth_client *c);

/* API tokens (core/tokens.c). */

struct store_token_spec {
    const char *token;    /* plaintext; NULL generates one (returned in @token_out) */
    unsigned rounds;      /* hash rounds: 1 for generated, 16384 for provided */
    const json_t *scopes; /* raw scopes (already checked) */
    const char *note;
    const char *client_id; /* default "jupyterhub" */
    const char *session_id;
    int64_t expires_at; /* 0: never */
};

/** Create a token for a user or a service. @token_out (33+ bytes) receives a generated
 * plaintext. */
int store_token_create(struct hub_store *s, struct hub_user *u, struct hub_service *svc,
                       const struct store_token_spec *spec, char *token_out, size_t outlen,
                       struct hub_token **ret);
/** Find the unexpired token whose plaintext is @token (prefix lookup, then the verified
 * fingerprint or the stored hash). Expired matches and tokens of deleted OAuth clients are
 * deleted on the way. */
struct hub_token *store_token_find(struct hub_store *s, const char *token, int64_t now);
int store_token_delete(struct hub_store *s, struct hub_token *t);
/** A user's token by its REST id ("a123"), or NULL. */
struct hub_token *store_token_by_api_id(const struct hub_user *u, const char *api_id);
/** Record use: last_activity written at most once per activity resolution. */
int store_token_touch(struct hub_store *s, struct hub_token *t, int64_t now);
/** Delete every token whose expires_at has passed. Returns how many. */
int store_tokens_purge_expired(struct hub_store *s, int64_t now);

/* Spawner rows and their servers rows (core/spawners.c). */

struct hub_spawner *store_spawner_find(const struct hub_user *u, const char *name);
/** The spawner row named @name of @u, created if missing. */
int store_spawner_ensure(struct hub_store *s, struct hub_user *u, const char *name,
                         struct hub_spawner **ret);
/** Delete an idle spawner row (-EBUSY while it has a server or run-time state). */
int store_spawner_delete(struct hub_store *s, struct hub_spawner *sp);
/** Move a server's last_activity forward (never back). */
int store_spawner_touch(struct hub_store *s, struct hub_spawner *sp, int64_t when);
/** Write started, state, user_options and oauth_client_id after changing them. */
int store_spawner_save(struct hub_store *s, struct hub_spawner *sp);
/** Record the address of the spawner's server (a servers row, linked from the spawner). */
int store_server_set(struct hub_store *s, struct hub_spawner *sp, const char *proto, const char *ip,
                     int port, const char *base_url);
/** Forget the server: delete its row, clear server_id and started. */
int store_server_clear(struct hub_store *s, struct hub_spawner *sp);

/** Bump rbac_gen: cached scopes are recomputed on next use. */
void store_rbac_changed(struct hub_store *s);
