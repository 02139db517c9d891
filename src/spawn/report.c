/* A starting server's report about itself (spawn_report in spawn/spawn.h): batchspawner's
 * POST /hub/api/batchspawner, where a batch job says which port its server took. The token
 * decides which server it is, and only a start in flight takes a report. */
#include "core/hub.h"
#include "spawn/run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int spawn_report(struct hub *hub, const struct hub_token *token, const json_t *body, char *err,
                 size_t errlen)
{
    struct hub_user *u = token->user;
    struct spawn_run *run = NULL;
    for (size_t i = 0; u && i < u->spawners.n && !run; i++) {
        struct spawn_run *r = ((struct hub_spawner *)u->spawners.v[i])->run;
        if (r && r->token_id == token->id)
            run = r;
    }
    if (!run) {
        snprintf(err, errlen, "This token is not the API token of a server being started");
        return 403;
    }
    const struct gm_spawner *plugin = hub->spawn->plugin;
    if (!plugin->report) {
        snprintf(err, errlen, "%s takes no reports from its servers", hub->spawn->class_name);
        return 404;
    }
    if (run->state != SPAWN_STARTING || !run->busy_start) {
        snprintf(err, errlen, "%s's server%s%s is not starting", u->name,
                 run->sp->name[0] ? " " : "", run->sp->name);
        return 409;
    }
    int r = plugin->report(run->server, body, err, errlen);
    if (r == 0)
        return 0;
    if (r == -EALREADY)
        return 409;
    return r == -EINVAL ? 400 : 500;
}
