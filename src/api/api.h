/* REST API handlers, one file per resource, each listed in app/routes.c, and the helpers they
 * share: the one scope check (api_need), pagination, and the JSON models. */
#pragma once

#include "auth/identity.h"
#include "auth/scopes.h"
#include "http/server.h"
#include <ganymede/buf.h>

#include <stdbool.h>

struct hub;

/* api/common.c */

/** The caller, answering 403 "Missing or invalid credentials." when there is none. */
const struct auth_identity *api_caller(struct http_request *req);

/** needs_scope: 0 if the caller holds any of @ids for the resource (kind, value), else the
 * response is set (403 without credentials or without the scope, 404 when the scope is held
 * but filtered to other resources) and -EACCES returned. With @post_filter an unfiltered
 * request also passes with filtered scopes (list endpoints filter afterwards). */
int api_need(struct http_request *req, enum scope_kind kind, const char *value, bool post_filter,
             const int *ids, size_t n);

#define API_IDS(...) (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int)
#define API_NEED(req, kind, value, ...)                                                            \
    api_need((req), (kind), (value), false, API_IDS(__VA_ARGS__))

struct api_page {
    int64_t offset;
    int64_t limit;
    bool envelope; /* the client asked for application/jupyterhub-pagination+json */
};

/** offset/limit as JupyterHub's get_api_pagination; sets 400 and returns -EINVAL on bad input. */
int api_pagination(struct http_request *req, struct api_page *ret);

/** Close a list of items written after "[": either "]" or the pagination envelope. @items is
 * the JSON array text of this page. Responds 200. */
int api_respond_page(struct http_request *req, const struct api_page *page, struct gm_buf *items,
                     size_t total);

/** Respond with the JSON in @b (taken over). */
int api_respond_buf(struct http_request *req, int status, struct gm_buf *b);

/** A JSON body that must be an object (or absent: @ret NULL). Sets 400 for anything else. */
int api_body_object(struct http_request *req, json_t **ret, bool required, const char *what);

/* api/models.c: JSON models, filtered by what the caller may see. */

struct api_view {
    struct hub *hub;
    const struct scope_set *scopes;
    struct scope_membership membership;
    bool include_stopped;
    /* whoami: the caller may always read its own name and groups (its identify scopes) */
    const char *identify_user;
    const char *identify_service;
};

void api_view_init(struct api_view *v, struct http_request *req);

/** Whether the caller holds scope @id for the resource. */
bool api_view_covers(const struct api_view *v, int id, enum scope_kind kind, const char *value);

/** Append a user model; returns 1 if the caller may see nothing of this user (nothing written),
 * 0 when written, < 0 on error. @auth_state is written when the caller holds admin:auth_state
 * (JSON text, or NULL for null). */
int api_write_user(const struct api_view *v, struct gm_buf *b, struct hub_user *u,
                   const char *auth_state);
int api_write_group(const struct api_view *v, struct gm_buf *b, struct hub_group *g);
int api_write_service(const struct api_view *v, struct gm_buf *b, struct hub_service *svc);
int api_write_token(const struct api_view *v, struct gm_buf *b, struct hub_token *t);
/** A JSON timestamp: "...Z" or null. */
int api_write_time(struct gm_buf *b, int64_t us);

/** The URL path of a user's server ("/user/alice/", "/user/alice/gpu/"). */
int api_server_url(struct hub *hub, struct gm_buf *b, const char *user, const char *server);

/* Handlers. */

/* api/root.c */
int api_root_get(struct http_request *req);
int api_health_get(struct http_request *req);
int api_not_found(struct http_request *req);

/* api/hub.c */
int api_info_get(struct http_request *req);
int api_shutdown_post(struct http_request *req);

/* api/users.c */
int api_self_get(struct http_request *req);
int api_users_get(struct http_request *req);
int api_users_post(struct http_request *req);
int api_user_get(struct http_request *req);
int api_user_post(struct http_request *req);
int api_user_patch(struct http_request *req);
int api_user_delete(struct http_request *req);
int api_user_activity_post(struct http_request *req);

/* api/tokens.c */
int api_tokens_get(struct http_request *req);
int api_tokens_post(struct http_request *req);
int api_token_get(struct http_request *req);
int api_token_delete(struct http_request *req);

/* api/groups.c */
int api_groups_get(struct http_request *req);
int api_groups_post(struct http_request *req);
int api_group_get(struct http_request *req);
int api_group_post(struct http_request *req);
int api_group_delete(struct http_request *req);
int api_group_users_post(struct http_request *req);
int api_group_users_delete(struct http_request *req);
int api_group_properties_put(struct http_request *req);

/* api/services.c */
int api_services_get(struct http_request *req);
int api_service_get(struct http_request *req);
int api_service_post(struct http_request *req);
int api_service_delete(struct http_request *req);

/* api/servers.c */
int api_server_post(struct http_request *req);
int api_server_delete(struct http_request *req);
int api_server_progress(struct http_request *req);

/* api/batchspawner.c: a batch job's server reports its port */
int api_batchspawner_post(struct http_request *req);

/* api/oauth.c: the token endpoint (the authorize page is pages/oauth_authorize.c) */
int api_oauth_token_post(struct http_request *req);

/* api/proxy.c */
int api_proxy_get(struct http_request *req);
int api_proxy_post(struct http_request *req);
int api_proxy_patch(struct http_request *req);

/* api/hub.c: Prometheus metrics */
int api_metrics_get(struct http_request *req);
