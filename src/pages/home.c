/* /hub/home (the user's servers) and /hub/token (the user's API tokens), JupyterHub's
 * HomeHandler and TokenPageHandler; both act through the REST API from plain JavaScript. */
#include "api/api.h"
#include "auth/rbac.h"
#include "core/hub.h"
#include "pages/pages.h"
#include "spawn/spawn.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <string.h>

static json_t *iso(int64_t us)
{
    if (!us)
        return json_null();
    char text[32];
    time_format_iso(us, text);
    return json_string(text);
}

static json_t *server_url(struct hub *hub, const char *user, const char *server)
{
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    api_server_url(hub, &b, user, server);
    json_t *v = json_string(b.data ? b.data : "");
    gm_buf_free(&b);
    return v;
}

int page_home(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *u = page_require_user(req);
    if (!u)
        return 0;
    json_t *ctx = page_context(req, u);
    if (!ctx)
        return -ENOMEM;
    struct hub_spawner *def = store_spawner_find(u, "");
    bool active = def && spawn_state(def) != SPAWN_IDLE;
    json_object_set_new(ctx, "default_server_active", json_boolean(active));
    struct gm_buf spawn;
    gm_buf_init(&spawn, 4096);
    if (active)
        api_server_url(hub, &spawn, u->name, "");
    else
        gm_buf_printf(&spawn, "%sspawn", hub->hub_prefix);
    json_object_set_new(ctx, "url", json_string(spawn.data ? spawn.data : ""));
    gm_buf_free(&spawn);
    json_object_set_new(ctx, "allow_named_servers", json_boolean(hub->conf.allow_named_servers));
    json_object_set_new(ctx, "named_server_limit_per_user",
                        json_integer(hub->conf.named_server_limit_per_user));
    json_t *named = json_array();
    for (size_t i = 0; i < u->spawners.n; i++) {
        struct hub_spawner *sp = u->spawners.v[i];
        if (!sp->name[0])
            continue;
        struct gm_buf b;
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "%sspawn/", hub->hub_prefix);
        gm_url_encode(&b, u->name, "@~");
        gm_buf_putc(&b, '/');
        gm_url_encode(&b, sp->name, "@~");
        json_array_append_new(named, json_pack("{s:s,s:o,s:o,s:b,s:b,s:s}", "name", sp->name, "url",
                                               server_url(hub, u->name, sp->name), "last_activity",
                                               iso(sp->last_activity), "active",
                                               spawn_state(sp) != SPAWN_IDLE, "ready",
                                               spawn_ready(sp), "spawn_url", b.data ? b.data : ""));
        gm_buf_free(&b);
    }
    json_object_set_new(ctx, "named_servers", named);
    json_object_set_new(ctx, "scripts", json_pack("[s]", "home.js"));
    json_object_set_new(ctx, "title", json_string("Home"));
    const char *announcement =
        json_string_value(json_object_get(hub->conf.template_vars, "announcement_home"));
    if (announcement)
        json_object_set_new(ctx, "announcement", json_string(announcement));
    return page_respond(req, 200, "home.html", ctx);
}

/* Expiry choices limited by token_expires_in_max_seconds, as JupyterHub's token page. */
static json_t *expiry_options(struct hub *hub)
{
    static const struct {
        const char *label;
        int64_t seconds;
    } choices[] = {{"1 Hour", 3600},        {"1 Day", 86400},        {"1 Week", 7 * 86400},
                   {"1 Month", 30 * 86400}, {"1 Year", 365 * 86400}, {"Never", 0}};
    int64_t max = hub->conf.token_expires_in_max_seconds;
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    for (size_t i = 0; i < sizeof(choices) / sizeof(*choices); i++) {
        int64_t s = choices[i].seconds;
        if (max > 0 && (s == 0 || s > max))
            continue;
        gm_buf_printf(&b, "<option value=\"%lld\"%s>%s</option>", (long long)s,
                      s == 0 || (max > 0 && i == 0) ? " selected" : "", choices[i].label);
    }
    json_t *v = json_string(b.data ? b.data : "");
    gm_buf_free(&b);
    return v;
}

int page_token(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_store *s = &hub->store;
    struct hub_user *u = page_require_user(req);
    if (!u)
        return 0;
    json_t *ctx = page_context(req, u);
    if (!ctx)
        return -ENOMEM;
    json_t *api_tokens = json_array(), *oauth = json_array();
    int64_t now = time_now_us();
    for (size_t i = 0; i < u->tokens.n; i++) {
        struct hub_token *t = u->tokens.v[i];
        if (t->expires_at && t->expires_at < now)
            continue;
        struct strset scopes = {0};
        const struct scope_set *eff = rbac_token_scopes(s, t);
        if (eff)
            scope_set_strings(eff, s->scopes, &scopes);
        json_t *list = json_array();
        for (size_t k = 0; k < scopes.n; k++)
            json_array_append_new(list, json_string(scopes.v[k]));
        strset_free(&scopes);
        char id[32];
        snprintf(id, sizeof(id), "a%lld", (long long)t->id);
        if (!t->client_id || strcmp(t->client_id, "jupyterhub") == 0) {
            json_array_append_new(api_tokens,
                                  json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "id", id, "note", t->note,
                                            "scopes", list, "last_activity", iso(t->last_activity),
                                            "created", iso(t->created), "expires_at",
                                            iso(t->expires_at)));
        } else {
            const struct hub_oauth_client *c = store_client_find(s, t->client_id);
            json_array_append_new(oauth,
                                  json_pack("{s:s,s:s,s:o,s:o,s:o}", "token_id", id, "description",
                                            c && c->description[0] ? c->description : t->client_id,
                                            "scopes", list, "last_activity", iso(t->last_activity),
                                            "created", iso(t->created)));
        }
    }
    json_object_set_new(ctx, "has_api_tokens", json_boolean(json_array_size(api_tokens) > 0));
    json_object_set_new(ctx, "api_tokens", api_tokens);
    json_object_set_new(ctx, "has_oauth_clients", json_boolean(json_array_size(oauth) > 0));
    json_object_set_new(ctx, "oauth_clients", oauth);
    json_object_set_new(ctx, "token_expires_in_options_html", expiry_options(hub));
    json_object_set_new(ctx, "scripts", json_pack("[s]", "token.js"));
    json_object_set_new(ctx, "title", json_string("Token"));
    return page_respond(req, 200, "token.html", ctx);
}
