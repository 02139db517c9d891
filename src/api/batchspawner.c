/* /hub/api/batchspawner: batchspawner's API, where a batch job's server says which port it
 * took (its wrapper, batchspawner-singleuser, sends {"port": N} with the server's own token).
 * batchspawner accepts any token of the user and sets whatever attributes the body names;
 * here only the token of a server being started is taken, and its spawner checks the
 * values. */
#include "api/api.h"
#include "core/hub.h"
#include "spawn/spawn.h"

#include <stdio.h>

int api_batchspawner_post(struct http_request *req)
{
    const struct auth_identity *id = api_caller(req);
    if (!id)
        return 0;
    if (!id->token || !id->user) {
        return http_error(req, 403,
                          "Only a server's own API token may report for it (JUPYTERHUB_API_TOKEN)");
    }
    json_t *body = NULL;
    if (api_body_object(req, &body, true, "body must be a json dict") < 0)
        return 0;
    char err[512];
    int status = spawn_report(req->hub, id->token, body, err, sizeof(err));
    json_decref(body);
    if (status != 0)
        return http_error(req, status, "%s", err);
    return http_respond_json(req, 201,
                             json_pack("{s:s}", "message", "BatchSpawner data configured"));
}
