/* /hub/api/services[/{name}] (JupyterHub's apihandlers/services.py). */
#include "api/api.h"
#include "auth/rbac.h"
#include "core/hub.h"
#include "services/services.h"

#include <errno.h>
#include <ganymede/log.h>
#include <string.h>

int api_services_get(struct http_request *req)
{
    if (api_need(req, SCOPE_KIND_NONE, NULL, true, API_IDS(SCOPE_LIST_SERVICES)) < 0)
        return 0;
    const struct auth_identity *id = auth_identify(req);
    const struct scope_grant *list = id->scopes->g[SCOPE_LIST_SERVICES];
    struct hub_store *s = &req->hub->store;
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, (size_t)64 << 20);
    gm_buf_putc(&b, '{');
    bool first = true;
    for (size_t i = 0; i < s->services.n; i++) {
        struct hub_service *svc = s->services.v[i];
        if (!list->all && !strset_has(&list->v[SCOPE_KIND_SERVICE], svc->name))
            continue;
        size_t mark = b.len;
        if (!first)
            gm_buf_putc(&b, ',');
        gm_buf_json_string(&b, svc->name);
        gm_buf_putc(&b, ':');
        if (api_write_service(&v, &b, svc) != 0) {
            b.len = mark;
            continue;
        }
        first = false;
    }
    if (gm_buf_putc(&b, '}') < 0) {
        gm_buf_free(&b);
        return -ENOMEM;
    }
    return api_respond_buf(req, 200, &b);
}

static int respond_service(struct http_request *req, int status, struct hub_service *svc)
{
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, 1 << 20);
    if (api_write_service(&v, &b, svc) != 0) {
        gm_buf_free(&b);
        return http_error(req, 404, "No such service: %s", svc->name);
    }
    return api_respond_buf(req, status, &b);
}

int api_service_get(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_SERVICE, name, SCOPE_READ_SERVICES, SCOPE_READ_SERVICES_NAME,
                 SCOPE_READ_ROLES_SERVICES) < 0)
        return 0;
    struct hub_service *svc = store_service_find(&req->hub->store, name);
    if (!svc)
        return http_error(req, 404, "No such service: %s", name);
    return respond_service(req, 200, svc);
}

int api_service_post(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_SERVICE, name, SCOPE_ADMIN_SERVICES) < 0)
        return 0;
    struct hub *hub = req->hub;
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "Invalid service data") < 0)
        return 0;
    int r = 0;
    char err[1024];
    if (store_service_find(&hub->store, name)) {
        r = http_error(req, 409, "Service %s already exists", name);
        goto out;
    }
    if (!body) {
        r = http_error(req, 400, "Invalid service data");
        goto out;
    }
    json_object_set_new(body, "name", json_string(name));
    if (json_array_size(json_object_get(body, "command"))) {
        r = http_error(req, 400, "Can not create managed service %s at runtime", name);
        goto out;
    }
    /* The caller must hold what the service would get. */
    const struct auth_identity *caller = auth_identify(req);
    json_t *want = json_array();
    if (json_is_true(json_object_get(body, "admin"))) {
        struct hub_role *admin = store_role_find(&hub->store, "admin");
        if (admin)
            json_array_extend(want, admin->scopes);
    }
    json_t *allowed = json_object_get(body, "oauth_client_allowed_scopes");
    if (json_is_array(allowed))
        json_array_extend(want, allowed);
    if (json_array_size(want) && rbac_check_token_scopes(&hub->store, caller->user, caller->service,
                                                         want, err, sizeof(err)) < 0) {
        json_decref(want);
        r = http_error(req, 400, "%s", err);
        goto out;
    }
    json_decref(want);
    struct hub_service *svc;
    r = services_apply_spec(hub, body, false, &svc, err, sizeof(err));
    if (r < 0) {
        r = http_error(req, r == -EEXIST ? 409 : 400, "%s", err);
        goto out;
    }
    gm_log_info("%s created service %s", caller->name, name);
    r = respond_service(req, 201, svc);
out:
    json_decref(body);
    return r;
}

int api_service_delete(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_SERVICE, name, SCOPE_ADMIN_SERVICES) < 0)
        return 0;
    struct hub_service *svc = store_service_find(&req->hub->store, name);
    if (!svc)
        return http_error(req, 404, "Service %s does not exist", name);
    if (svc->from_config)
        return http_error(req, 405, "Service %s is not modifiable at runtime", name);
    int r = store_service_delete(&req->hub->store, svc);
    if (r < 0)
        return r;
    gm_log_info("Deleted service %s", name);
    return http_respond_empty(req, 200);
}
