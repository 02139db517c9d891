/* Service specs (JupyterHub's app.service_from_spec and _add_tokens). */
#include "services/services.h"
#include "auth/rbac.h"
#include "auth/token_hash.h"
#include "auth/usernames.h"
#include "core/hub.h"
#include "util/str.h"
#include "util/url.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum field_type {
    F_STRING,
    F_BOOL,
    F_LIST,
    F_DICT,
};

static const struct {
    const char *name;
    enum field_type type;
} fields[] = {
    {"name", F_STRING},
    {"admin", F_BOOL},
    {"url", F_STRING},
    {"api_token", F_STRING},
    {"oauth_client_id", F_STRING},
    {"oauth_redirect_uri", F_STRING},
    {"oauth_no_confirm", F_BOOL},
    {"oauth_client_allowed_scopes", F_LIST},
    {"oauth_roles", F_LIST},
    {"command", F_LIST},
    {"cwd", F_STRING},
    {"environment", F_DICT},
    {"user", F_STRING},
    {"display", F_BOOL},
    {"info", F_DICT},
};

static int check_spec(const json_t *spec, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)spec, k, v)
    {
        size_t i;
        for (i = 0; i < sizeof(fields) / sizeof(*fields); i++)
            if (strcmp(fields[i].name, k) == 0)
                break;
        if (i == sizeof(fields) / sizeof(*fields)) {
            snprintf(err, errlen, "No such service field: %s", k);
            return -EINVAL;
        }
        bool ok = json_is_null(v) && fields[i].type != F_BOOL;
        switch (fields[i].type) {
        case F_STRING:
            ok = ok || json_is_string(v);
            break;
        case F_BOOL:
            ok = json_is_boolean(v);
            break;
        case F_LIST:
            ok = ok || json_is_array(v);
            break;
        case F_DICT:
            ok = ok || json_is_object(v);
            break;
        }
        static const char *const type_names[] = {"a string", "a boolean", "a list", "a dict"};
        if (!ok) {
            snprintf(err, errlen, "service.%s must be %s", k, type_names[fields[i].type]);
            return -EINVAL;
        }
    }
    const char *name = json_string_value(json_object_get(spec, "name"));
    if (!name || !name[0] || strlen(name) > 255 || strchr(name, '/')) {
        snprintf(err, errlen, "service names must be 1 to 255 characters without '/'");
        return -EINVAL;
    }
    const char *url = json_string_value(json_object_get(spec, "url"));
    struct url u;
    if (url && url[0] &&
        (url_parse(url, &u) < 0 || (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https")))) {
        snprintf(err, errlen, "Unsupported URL for service %s: %s. Must be http[s]://host:port",
                 name, url);
        return -EINVAL;
    }
    return 0;
}

static void set_string(char **field, const json_t *v)
{
    const char *s = json_string_value(v);
    char *copy = strdup(s ? s : "");
    if (copy) {
        free(*field);
        *field = copy;
    }
}

static void set_json(json_t **field, const json_t *v, json_t *empty)
{
    json_decref(*field);
    *field = v && !json_is_null(v) ? json_deep_copy(v) : empty;
    if (*field != empty)
        json_decref(empty);
}

int services_apply_spec(struct hub *hub, const json_t *spec, bool from_config,
                        struct hub_service **ret, char *err, size_t errlen)
{
    int r = check_spec(spec, err, errlen);
    if (r < 0)
        return r;
    struct hub_store *s = &hub->store;
    const char *name = json_string_value(json_object_get(spec, "name"));
    struct hub_service *svc = store_service_find(s, name);
    bool created = !svc;
    if (svc && svc->from_config != from_config) {
        snprintf(err, errlen,
                 from_config ? "The service %s from the config file is trying to "
                               "modify a runtime-created service with the same name"
                             : "Service %s already exists",
                 name);
        return -EEXIST;
    }
    if (!svc && (r = store_service_ensure(s, name, &svc)) < 0) {
        snprintf(err, errlen, "cannot create service %s: %s", name, strerror(-r));
        return r;
    }
    svc->from_config = from_config;
    svc->admin = json_is_true(json_object_get(spec, "admin"));
    set_string(&svc->url, json_object_get(spec, "url"));
    set_string(&svc->cwd, json_object_get(spec, "cwd"));
    set_string(&svc->user, json_object_get(spec, "user"));
    set_string(&svc->oauth_redirect_uri, json_object_get(spec, "oauth_redirect_uri"));
    json_t *display = json_object_get(spec, "display");
    svc->display = display ? json_is_true(display) : true;
    svc->oauth_no_confirm = json_is_true(json_object_get(spec, "oauth_no_confirm"));
    set_json(&svc->info, json_object_get(spec, "info"), json_object());
    set_json(&svc->command, json_object_get(spec, "command"), json_array());
    set_json(&svc->environment, json_object_get(spec, "environment"), json_object());
    set_json(&svc->oauth_client_allowed_scopes,
             json_object_get(spec, "oauth_client_allowed_scopes"), json_array());
    const char *client = json_string_value(json_object_get(spec, "oauth_client_id"));
    free(svc->oauth_client_id);
    svc->oauth_client_id = client && client[0] ? strdup(client) : NULL;
    if ((r = store_service_save(s, svc)) < 0) {
        snprintf(err, errlen, "cannot save service %s: %s", name, strerror(-r));
        return r;
    }
    if (created && svc->admin)
        gm_log_warn("Service %s sets `admin: True`, which is deprecated in JupyterHub 2.0; "
                    "assign roles with JupyterHub.load_roles instead",
                    name);
    if ((r = rbac_assign_default_roles(s, NULL, svc)) < 0) {
        snprintf(err, errlen, "cannot assign roles to service %s", name);
        return r;
    }
    const char *token = json_string_value(json_object_get(spec, "api_token"));
    if (token && token[0]) {
        json_t *one = json_pack("{s:s}", token, name);
        r = services_add_config_tokens(hub, one, true, err, errlen);
        json_decref(one);
        if (r < 0)
            return r;
    }
    if (ret)
        *ret = svc;
    return 0;
}

int services_init(struct hub *hub, char *err, size_t errlen)
{
    struct hub_store *s = &hub->store;
    const json_t *specs = hub->conf.services;
    size_t i;
    json_t *spec;
    json_array_foreach(specs, i, spec)
    {
        int r = services_apply_spec(hub, spec, true, NULL, err, errlen);
        if (r < 0) {
            char msg[1024];
            snprintf(msg, sizeof(msg), "JupyterHub.services: %s", err);
            snprintf(err, errlen, "%s", msg);
            return r;
        }
    }
    /* Config services that are no longer configured go. */
    for (size_t k = s->services.n; k-- > 0;) {
        struct hub_service *svc = s->services.v[k];
        if (!svc->from_config)
            continue;
        bool configured = false;
        json_array_foreach(specs, i, spec)
        {
            configured = configured ||
                         strcmp(json_string_value(json_object_get(spec, "name")), svc->name) == 0;
        }
        if (!configured) {
            gm_log_warn("Deleting service %s: it is no longer in JupyterHub.services", svc->name);
            int r = store_service_delete(s, svc);
            if (r < 0) {
                snprintf(err, errlen, "cannot delete service: %s", strerror(-r));
                return r;
            }
        }
    }
    return 0;
}

int services_add_config_tokens(struct hub *hub, const json_t *tokens, bool for_services, char *err,
                               size_t errlen)
{
    struct hub_store *s = &hub->store;
    const char *token;
    json_t *v;
    json_object_foreach((json_t *)tokens, token, v)
    {
        const char *name = json_string_value(v);
        if (strlen(token) < 8) {
            snprintf(err, errlen, "a token for %s in the config is shorter than 8 characters",
                     name);
            return -EINVAL;
        }
        if (store_token_find(s, token, 0))
            continue; /* already stored (matching costs the rounds once per start) */
        struct hub_user *u = NULL;
        struct hub_service *svc = NULL;
        int r;
        if (for_services) {
            if (!store_service_find(s, name))
                gm_log_warn("service %s not in services, creating implicitly. It is "
                            "recommended to register services using services list.",
                            name);
            r = store_service_ensure(s, name, &svc);
        } else {
            char norm[4 * AUTH_USERNAME_MAX + 4];
            if (auth_username_normalize(hub->usernames, name, norm, sizeof(norm)) < 0 ||
                !auth_username_valid(hub->usernames, norm)) {
                snprintf(err, errlen, "Token user name '%s' is not valid", name);
                return -EINVAL;
            }
            u = store_user_find(s, norm);
            r = 0;
            if (!u && (r = store_user_create(s, norm, false, &u)) == 0)
                r = rbac_assign_default_roles(s, u, NULL);
        }
        if (r < 0) {
            snprintf(err, errlen, "cannot add the config token of %s: %s", name, strerror(-r));
            return r;
        }
        struct hub_role *token_role = store_role_find(s, "token");
        struct store_token_spec spec = {
            .token = token,
            .rounds = hub->conf.trust_user_provided_tokens ? AUTH_TOKEN_ROUNDS_GENERATED
                                                           : AUTH_TOKEN_ROUNDS_PROVIDED,
            .scopes = token_role ? token_role->scopes : NULL,
            .note = "from config",
        };
        gm_log_info("Adding API token for %s: %s", for_services ? "service" : "user", name);
        r = store_token_create(s, u, svc, &spec, NULL, 0, NULL);
        if (r < 0) {
            snprintf(err, errlen, "cannot add the config token of %s: %s", name, strerror(-r));
            return r;
        }
    }
    return 0;
}

char *services_routespec(struct hub *hub, const struct hub_service *svc)
{
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    gm_buf_printf(&b, "%sservices/", hub->base_url);
    gm_url_encode(&b, svc->name, "@~");
    gm_buf_putc(&b, '/');
    return gm_buf_steal(&b);
}

int services_route_target(const struct hub_service *svc, char *out, size_t outlen)
{
    struct url u;
    if (!svc->url || !svc->url[0] || url_parse(svc->url, &u) < 0)
        return -ENOENT;
    int n = snprintf(out, outlen, "%s://%s%s%s:%d", u.scheme, u.ipv6 ? "[" : "", u.host,
                     u.ipv6 ? "]" : "", u.port);
    return n > 0 && (size_t)n < outlen ? 0 : -ENAMETOOLONG;
}
