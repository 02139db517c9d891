/* GET /hub/api/ (the API version, unauthenticated, used by jupyterhub-singleuser and the idle
 * culler at start-up), the health probes, and JSON 404s for unknown API paths. */
#include "api/api.h"
#include "core/hub.h"
#include "version.h"

int api_root_get(struct http_request *req)
{
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    return http_respond_json(
        req, 200,
        json_pack("{s:s,s:s}", "version", HUB_JUPYTERHUB_VERSION, "ganymede", GANYMEDE_VERSION));
}

int api_health_get(struct http_request *req)
{
    return http_respond_empty(req, 200);
}

int api_not_found(struct http_request *req)
{
    return http_error(req, 404, "Not Found");
}
