/* GET /hub/api/ (the API version, unauthenticated, used by jupyterhub-singleuser and the idle
 * culler at start-up), the health probes, and JSON 404s for unknown API paths. */
#include "api/api.h"
#include "core/hub.h"
#include "spawn/spawn.h"
#include "version.h"

int api_root_get(struct http_request *req)
{
    http_set_header(req, "Access-Control-Allow-Origin", "*");
    return http_respond_json(
        req, 200,
        json_pack("{s:s,s:s}", "version", HUB_JUPYTERHUB_VERSION, "ganymede", GANYMEDE_VERSION));
}

/* 200 while the hub runs, as JupyterHub's: a liveness probe must not restart the hub for an
 * outage of what it talks to. A spawner that reports its health (the Kubernetes spawner's
 * watches) has it in the body: {"spawner": {"ok": false, ...}}. */
int api_health_get(struct http_request *req)
{
    struct hub *hub = req->hub;
    const struct gm_spawner *s = hub->spawn->plugin;
    json_t *health = s && s->health ? s->health(hub->spawn->plugin_state) : NULL;
    if (!health)
        return http_respond_empty(req, 200);
    return http_respond_json(req, 200, json_pack("{s:o}", "spawner", health));
}

int api_not_found(struct http_request *req)
{
    return http_error(req, 404, "Not Found");
}
