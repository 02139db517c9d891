/* The SQL of every table, one file each (db/users.c, db/groups.c, ...). Rows are handed to
 * callbacks as these structs; their strings point into the database's memory and are valid only
 * during the callback. Timestamps are microseconds since the epoch (0 = NULL), stored as
 * JupyterHub's naive-UTC text. Writes return 0 or a negative errno (-EEXIST for a uniqueness
 * conflict). */
#pragma once

#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Row iteration: the callback returns 0 to go on, or a negative errno to stop with it. */
#define DB_EACH(name, row_type)                                                                    \
    int name(struct db *db, int (*cb)(void *ctx, const row_type *row), void *ctx)

/** A reference column: 0 is SQL NULL. */
static inline struct db_arg db_ref(int64_t id)
{
    return id ? DB_INT(id) : (struct db_arg){.type = DB_ARG_NULL};
}

/* users */
struct db_user_row {
    int64_t id;
    const char *name;
    bool admin;
    int64_t created;
    int64_t last_activity;
    const char *cookie_id;
    const void *auth_state; /* encrypted_auth_state, NULL if none */
    size_t auth_state_len;
};
DB_EACH(db_users_each, struct db_user_row);
int db_user_insert(struct db *db, const char *name, bool admin, int64_t created,
                   const char *cookie_id, int64_t *ret_id);
int db_user_set_name(struct db *db, int64_t id, const char *name);
int db_user_set_admin(struct db *db, int64_t id, bool admin);
int db_user_set_last_activity(struct db *db, int64_t id, int64_t when);
int db_user_delete(struct db *db, int64_t id);
int db_user_set_auth_state(struct db *db, int64_t id, const void *blob, size_t len);

/* groups and user_group_map */
struct db_group_row {
    int64_t id;
    const char *name;
    const char *properties; /* JSON text or NULL */
};
struct db_pair_row {
    int64_t a;
    int64_t b;
    bool managed_by_auth;
};
DB_EACH(db_groups_each, struct db_group_row);
DB_EACH(db_group_members_each, struct db_pair_row); /* a = user id, b = group id */
int db_group_insert(struct db *db, const char *name, int64_t *ret_id);
int db_group_delete(struct db *db, int64_t id);
int db_group_set_properties(struct db *db, int64_t id, const char *json);
int db_group_member_add(struct db *db, int64_t group_id, int64_t user_id);
int db_group_member_remove(struct db *db, int64_t group_id, int64_t user_id);

/* roles and the *_role_map tables */
enum db_role_map {
    DB_ROLE_MAP_USER,
    DB_ROLE_MAP_GROUP,
    DB_ROLE_MAP_SERVICE,
    DB_ROLE_MAP_MAX,
};
struct db_role_row {
    int64_t id;
    const char *name;
    const char *description;
    const char *scopes; /* JSON text */
    bool managed_by_auth;
};
DB_EACH(db_roles_each, struct db_role_row);
/* a = bearer id, b = role id */
int db_role_map_each(struct db *db, enum db_role_map map,
                     int (*cb)(void *ctx, const struct db_pair_row *row), void *ctx);
int db_role_insert(struct db *db, const char *name, const char *description, const char *scopes,
                   bool managed_by_auth, int64_t *ret_id);
int db_role_update(struct db *db, int64_t id, const char *description, const char *scopes,
                   bool managed_by_auth);
int db_role_delete(struct db *db, int64_t id);
int db_role_map_add(struct db *db, enum db_role_map map, int64_t bearer_id, int64_t role_id);
int db_role_map_remove(struct db *db, enum db_role_map map, int64_t bearer_id, int64_t role_id);

/* services */
struct db_service_row {
    int64_t id;
    const char *name;
    bool admin;
    const char *url;
    const char *oauth_client_allowed_scopes;
    const char *info;
    bool display;
    bool oauth_no_confirm;
    const char *command;
    const char *cwd;
    const char *environment;
    const char *user;
    bool from_config;
    int pid;
    const char *oauth_client_id;
};
DB_EACH(db_services_each, struct db_service_row);
int db_service_insert(struct db *db, const char *name, int64_t *ret_id);
/** Write every column but id and name from @row. */
int db_service_update(struct db *db, const struct db_service_row *row);
int db_service_delete(struct db *db, int64_t id);

/* oauth_clients */
struct db_client_row {
    int64_t id;
    const char *identifier;
    const char *description;
    const char *secret;
    const char *redirect_uri;
    const char *allowed_scopes;
};
DB_EACH(db_clients_each, struct db_client_row);
int db_client_insert(struct db *db, const struct db_client_row *row, int64_t *ret_id);
int db_client_update(struct db *db, const struct db_client_row *row);
int db_client_delete(struct db *db, int64_t id);

/* api_tokens */
struct db_token_row {
    int64_t id;
    int64_t user_id;    /* 0: none */
    int64_t service_id; /* 0: none */
    const char *hashed;
    const char *prefix;
    const char *client_id;
    const char *session_id;
    int64_t created;
    int64_t expires_at;
    int64_t last_activity;
    const char *note;
    const char *scopes; /* JSON text */
};
DB_EACH(db_tokens_each, struct db_token_row);
int db_token_insert(struct db *db, const struct db_token_row *row, int64_t *ret_id);
int db_token_delete(struct db *db, int64_t id);
int db_token_set_last_activity(struct db *db, int64_t id, int64_t when);

/* spawners and servers */
struct db_spawner_row {
    int64_t id;
    int64_t user_id;
    const char *name;
    int64_t started;
    int64_t last_activity;
    const char *state;
    const char *user_options;
    const char *oauth_client_id;
    int64_t server_id; /* 0: not active */
    const char *proto;
    const char *ip;
    int port;
    const char *base_url;
};
DB_EACH(db_spawners_each, struct db_spawner_row);
int db_spawner_insert(struct db *db, int64_t user_id, const char *name, int64_t *ret_id);
int db_spawner_delete(struct db *db, int64_t id);
int db_spawner_set_last_activity(struct db *db, int64_t id, int64_t when);
/** Write started, state, user_options, oauth_client_id and server_id (0: NULL) of @row->id. */
int db_spawner_update(struct db *db, const struct db_spawner_row *row);
int db_server_insert(struct db *db, const char *proto, const char *ip, int port,
                     const char *base_url, const char *cookie_name, int64_t *ret_id);
int db_server_update(struct db *db, int64_t id, const char *proto, const char *ip, int port);
int db_server_delete(struct db *db, int64_t id);

/* oauth_codes (expires_at in unix seconds, as JupyterHub stores it) */
struct db_oauth_code_row {
    const char *client_id;
    const char *code;
    int64_t expires_at;
    const char *redirect_uri;
    const char *session_id;
    int64_t user_id;
    const char *scopes; /* JSON text */
};
/** The codes that have not expired at @now_s. */
int db_oauth_codes_each(struct db *db, int64_t now_s,
                        int (*cb)(void *ctx, const struct db_oauth_code_row *row), void *ctx);
int db_oauth_code_insert(struct db *db, const struct db_oauth_code_row *row);
int db_oauth_code_delete(struct db *db, const char *code);
/** Delete codes that expired before @now_s. */
int db_oauth_codes_purge(struct db *db, int64_t now_s);
