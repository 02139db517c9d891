/* Every URL the hub serves, relative to base_url, in one table (JupyterHub's handler lists in
 * the apihandlers and handlers/pages.py modules). First match wins. */
#include "http/routes.h"
#include "api/api.h"
#include "pages/pages.h"

#define GET HTTP_GET
#define API HTTP_ROUTE_API

const struct http_route http_routes[] = {
    {"hub/health", HTTP_GET | HTTP_HEAD, api_health_get, HTTP_ROUTE_QUIET},
    {"hub/api/health", HTTP_GET | HTTP_HEAD, api_health_get, API | HTTP_ROUTE_QUIET},
    {"hub/api", GET, api_root_get, API},
    {"hub/api/", GET, api_root_get, API},
    {"hub/api/**", HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE,
     api_not_found, API},
    {"hub", HTTP_GET | HTTP_HEAD, page_add_slash, 0},
    {"hub/**", HTTP_GET | HTTP_HEAD | HTTP_POST, page_not_found, 0},
    {"**", HTTP_GET | HTTP_HEAD, page_prefix_redirect, 0},
    {NULL, 0, NULL, 0},
};
