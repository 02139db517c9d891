/* Every URL the hub serves, relative to base_url, in one table (JupyterHub's handler lists in
 * the apihandlers and handlers/pages.py modules). First match wins. */
#include "app/routes.h"
#include "api/api.h"
#include "pages/pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GET    HTTP_GET
#define POST   HTTP_POST
#define PUT    HTTP_PUT
#define PATCH  HTTP_PATCH
#define DELETE HTTP_DELETE
#define API    HTTP_ROUTE_API

const struct http_route app_routes[] = {
    {"hub/health", GET | HTTP_HEAD, api_health_get, HTTP_ROUTE_QUIET},
    {"hub/api/health", GET | HTTP_HEAD, api_health_get, API | HTTP_ROUTE_QUIET},
    {"hub/metrics", GET, api_metrics_get, HTTP_ROUTE_QUIET},
    {"hub/api/metrics", GET, api_metrics_get, API | HTTP_ROUTE_QUIET},
    {"hub/api", GET, api_root_get, API},
    {"hub/api/", GET, api_root_get, API},
    {"hub/api/info", GET, api_info_get, API},
    {"hub/api/shutdown", POST, api_shutdown_post, API},
    {"hub/api/batchspawner", POST, api_batchspawner_post, API},
    {"hub/api/user", GET, api_self_get, API},
    {"hub/api/users", GET, api_users_get, API},
    {"hub/api/users", POST, api_users_post, API},
    {"hub/api/users/{}", GET, api_user_get, API},
    {"hub/api/users/{}", POST, api_user_post, API},
    {"hub/api/users/{}", PATCH, api_user_patch, API},
    {"hub/api/users/{}", DELETE, api_user_delete, API},
    {"hub/api/users/{}/activity", POST, api_user_activity_post, API},
    {"hub/api/users/{}/server", POST, api_server_post, API},
    {"hub/api/users/{}/server", DELETE, api_server_delete, API},
    {"hub/api/users/{}/server/progress", GET, api_server_progress, API},
    {"hub/api/users/{}/servers/{?}", POST, api_server_post, API},
    {"hub/api/users/{}/servers/{?}", DELETE, api_server_delete, API},
    {"hub/api/users/{}/servers/{?}/progress", GET, api_server_progress, API},
    {"hub/api/users/{}/tokens", GET, api_tokens_get, API},
    {"hub/api/users/{}/tokens", POST, api_tokens_post, API},
    {"hub/api/users/{}/tokens/{?}", GET, api_token_get, API},
    {"hub/api/users/{}/tokens/{?}", DELETE, api_token_delete, API},
    {"hub/api/groups", GET, api_groups_get, API},
    {"hub/api/groups", POST, api_groups_post, API},
    {"hub/api/groups/{}", GET, api_group_get, API},
    {"hub/api/groups/{}", POST, api_group_post, API},
    {"hub/api/groups/{}", DELETE, api_group_delete, API},
    {"hub/api/groups/{}/users", POST, api_group_users_post, API},
    {"hub/api/groups/{}/users", DELETE, api_group_users_delete, API},
    {"hub/api/groups/{}/properties", PUT, api_group_properties_put, API},
    {"hub/api/proxy", GET, api_proxy_get, API},
    {"hub/api/proxy", POST, api_proxy_post, API},
    {"hub/api/proxy", PATCH, api_proxy_patch, API},
    {"hub/api/services", GET, api_services_get, API},
    {"hub/api/services/{}", GET, api_service_get, API},
    {"hub/api/services/{}", POST, api_service_post, API},
    {"hub/api/services/{}", DELETE, api_service_delete, API},
    {"hub/api/oauth2/authorize", GET | HTTP_HEAD, page_oauth_authorize_get, 0},
    {"hub/api/oauth2/authorize", POST, page_oauth_authorize_post, 0},
    {"hub/api/oauth2/token", POST, api_oauth_token_post, API},
    {"hub/api/**", GET | HTTP_HEAD | POST | PUT | PATCH | DELETE, api_not_found,
     API | HTTP_ROUTE_FALLBACK},
    {"hub", GET | HTTP_HEAD, page_add_slash, 0},
    {"hub/", GET | HTTP_HEAD, page_root, 0},
    {"hub/login", GET | HTTP_HEAD, page_login_get, 0},
    {"hub/login", POST, page_login_post, 0},
    {"hub/logout", GET | HTTP_HEAD, page_logout, 0},
    {"hub/oauth_login", GET, page_oauth_login, 0},
    {"hub/oauth_callback", GET, page_oauth_callback, 0},
    {"hub/home", GET | HTTP_HEAD, page_home, 0},
    {"hub/token", GET | HTTP_HEAD, page_token, 0},
    {"hub/admin", GET | HTTP_HEAD, page_admin, 0},
    {"hub/spawn", GET | HTTP_HEAD, page_spawn, 0},
    {"hub/spawn", POST, page_spawn_post, 0},
    {"hub/spawn/{}", GET | HTTP_HEAD, page_spawn, 0},
    {"hub/spawn/{}", POST, page_spawn_post, 0},
    {"hub/spawn/{}/{?}", GET | HTTP_HEAD, page_spawn, 0},
    {"hub/spawn/{}/{?}", POST, page_spawn_post, 0},
    {"hub/spawn-pending/{}", GET | HTTP_HEAD, page_spawn_pending, 0},
    {"hub/spawn-pending/{}/{?}", GET | HTTP_HEAD, page_spawn_pending, 0},
    {"hub/user/{}", GET | HTTP_HEAD | POST | PUT | PATCH | DELETE, page_user_url, 0},
    {"hub/user/{}/**", GET | HTTP_HEAD | POST | PUT | PATCH | DELETE, page_user_url, 0},
    {"hub/user-redirect/**", GET | HTTP_HEAD, page_user_redirect, 0},
    {"hub/error/{}", GET | HTTP_HEAD, page_proxy_error, HTTP_ROUTE_QUIET},
    {"hub/static/**", GET | HTTP_HEAD, page_static, HTTP_ROUTE_QUIET},
    {"hub/logo", GET | HTTP_HEAD, page_logo, HTTP_ROUTE_QUIET},
    {"hub/**", GET | HTTP_HEAD | POST, page_not_found, HTTP_ROUTE_FALLBACK},
    {"**", GET | HTTP_HEAD, page_prefix_redirect, HTTP_ROUTE_FALLBACK},
    {NULL, 0, NULL, 0},
};

static bool is_catch_all(const struct http_route *r)
{
    return r->flags & HTTP_ROUTE_FALLBACK;
}

int app_routes_with(const struct http_route *extra, size_t n, struct http_route **ret)
{
    size_t total = 0;
    while (app_routes[total].pattern)
        total++;
    struct http_route *t = calloc(total + n + 1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    size_t k = 0, i = 0;
    for (; i < total && !is_catch_all(&app_routes[i]); i++)
        t[k++] = app_routes[i];
    for (size_t j = 0; j < n; j++)
        t[k++] = extra[j];
    for (; i < total; i++)
        t[k++] = app_routes[i];
    *ret = t;
    return 0;
}
