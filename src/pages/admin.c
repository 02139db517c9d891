/* /hub/admin (JupyterHub's AdminHandler): the control panel is one page of plain JavaScript
 * modules (web/static/js/admin*.js) that does everything through the REST API with the admin's
 * cookie and XSRF token; this handler only checks the admin-ui scope and hands the page what
 * it needs to start. */
#include "auth/identity.h"
#include "core/hub.h"
#include "pages/pages.h"
#include "version.h"

#include <errno.h>

int page_admin(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *u = page_require_user(req);
    if (!u)
        return 0;
    const struct auth_identity *id = auth_identify(req);
    if (!id || !scope_set_holds(id->scopes, SCOPE_ADMIN_UI))
        return http_error(req, 403, "You do not have permission to use the admin panel.");
    json_t *ctx = page_context(req, u);
    if (!ctx)
        return -ENOMEM;
    json_t *admin =
        json_pack("{s:b,s:I,s:I,s:I,s:s,s:s}", "allow_named_servers", hub->conf.allow_named_servers,
                  "named_server_limit_per_user", (json_int_t)hub->conf.named_server_limit_per_user,
                  "api_page_limit", (json_int_t)hub->conf.api_page_default_limit,
                  "api_page_max_limit", (json_int_t)hub->conf.api_page_max_limit, "server_version",
                  HUB_JUPYTERHUB_VERSION, "ganymede_version", GANYMEDE_VERSION);
    char *text = admin ? json_dumps(admin, JSON_COMPACT) : NULL;
    json_decref(admin);
    if (!text) {
        json_decref(ctx);
        return -ENOMEM;
    }
    /* The JSON goes inside a <script>: "</" must not close it. */
    json_t *safe = json_string(text);
    free(text);
    json_object_set_new(ctx, "admin_settings", safe);
    json_object_set_new(ctx, "scripts", json_pack("[s]", "admin.js"));
    json_object_set_new(ctx, "styles", json_pack("[s]", "admin.css"));
    json_object_set_new(ctx, "title", json_string("Admin"));
    return page_respond(req, 200, "admin.html", ctx);
}
