/* The authenticator host. */
#include "auth/auth_host.h"
#include "auth/authenticator.h"
#include "auth/authenticators.h"
#include "auth/crypt.h"
#include "auth/oauth2.h"
#include "core/hub.h"
#include "core/options.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHAIN 4

/* The classes from Authenticator down to @leaf, root first. */
/* The class named @name among the built-in bases and @a's own ancestors, or NULL. */
static const struct gm_option_class *parent_class(const struct gm_authenticator *a,
                                                  const char *name)
{
    if (strcmp(name, auth_local_class.name) == 0)
        return &auth_local_class;
    if (strcmp(name, auth_oauth2_class.name) == 0)
        return &auth_oauth2_class;
    for (const struct gm_option_class *const *c = a->ancestors; c && *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

static size_t class_chain(const struct gm_authenticator *a, const struct gm_option_class **out)
{
    const struct gm_option_class *path[MAX_CHAIN];
    size_t n = 0;
    const struct gm_option_class *c = a->options;
    while (c && n < MAX_CHAIN) {
        path[n++] = c;
        if (!c->parent || strcmp(c->parent, "Authenticator") == 0)
            break;
        c = parent_class(a, c->parent);
    }
    out[0] = &auth_authenticator_class;
    for (size_t i = 0; i < n; i++)
        out[1 + i] = path[n - 1 - i];
    return n + 1;
}

int auth_host_init(struct hub *hub, char *err, size_t errlen)
{
    const struct config *cfg = hub->config;
    int r = options_init(&auth_authenticator_class, hub->auth);
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    const char *name = hub->conf.authenticator_class;
    const struct gm_authenticator *a = auth_module_find(name);
    if (!a) {
        struct gm_buf b;
        gm_buf_init(&b, 4096);
        for (const struct gm_authenticator *const *m = auth_modules(); *m; m++)
            gm_buf_printf(&b, "%s%s", m == auth_modules() ? "" : ", ", (*m)->name);
        snprintf(err, errlen,
                 "JupyterHub.authenticator_class (%s): unknown authenticator '%s'; "
                 "this build has: %s",
                 config_origin(cfg, "JupyterHub", "authenticator_class"), name,
                 b.data ? b.data : "");
        gm_buf_free(&b);
        return -EINVAL;
    }
    hub->authenticator = a;
    hub->authenticator_class = a->aliases && a->aliases[0] ? a->aliases[0] : a->name;
    if (a->conf_size) {
        hub->authenticator_conf = calloc(1, a->conf_size);
        if (!hub->authenticator_conf)
            return -ENOMEM;
    }
    const struct gm_option_class *chain[MAX_CHAIN + 1];
    void *confs[MAX_CHAIN + 1];
    size_t n = a->options ? class_chain(a, chain) : 1;
    if (!a->options)
        chain[0] = &auth_authenticator_class;
    confs[0] = hub->auth;
    for (size_t i = 1; i < n; i++) {
        confs[i] = hub->authenticator_conf;
        if (options_init(chain[i], hub->authenticator_conf) < 0) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    r = config_apply(cfg, chain, confs, n, err, errlen);
    if (r < 0)
        return r;
    r = auth_crypt_init(hub->crypt, getenv("JUPYTERHUB_CRYPT_KEY"), err, errlen);
    if (r < 0)
        return r;
    if (hub->auth->enable_auth_state && !auth_crypt_available(hub->crypt)) {
        snprintf(err, errlen,
                 "auth_state is enabled, but encryption is not available: "
                 "Encryption keys must be specified in JUPYTERHUB_CRYPT_KEY env "
                 "(make one with `openssl rand -hex 32`)");
        return -EINVAL;
    }
    return 0;
}

/* After the users and groups are loaded (hub_state_init) the plugin can start. */
int auth_host_start(struct hub *hub, char *err, size_t errlen)
{
    const struct gm_authenticator *a = hub->authenticator;
    hub->auth_base.admin_users = hub->admin_names;
    hub->auth_base.allowed_users = hub->allowed_names;
    hub->auth_base.manage_groups = hub->auth->manage_groups;
    hub->auth_base.enable_auth_state = hub->auth->enable_auth_state;
    if (a->init) {
        int r = a->init(&hub->host, &hub->auth_base, hub->authenticator_conf,
                        &hub->authenticator_state, err, errlen);
        if (r < 0)
            return r;
    }
    if (a->oauth2) {
        int r = oauth2_client_create(hub, &hub->oauth2, err, errlen);
        if (r < 0)
            return r;
    }
    gm_log_info("Using Authenticator: %s (%s)", hub->authenticator_class, a->name);
    return 0;
}

void auth_host_release(struct hub *hub)
{
    const struct gm_authenticator *a = hub->authenticator;
    oauth2_client_free(hub->oauth2);
    hub->oauth2 = NULL;
    if (a && a->destroy && hub->authenticator_state)
        a->destroy(hub->authenticator_state);
    hub->authenticator_state = NULL;
    if (a && a->options && hub->authenticator_conf) {
        const struct gm_option_class *chain[MAX_CHAIN + 1];
        size_t n = class_chain(a, chain);
        for (size_t i = 1; i < n; i++)
            options_release(chain[i], hub->authenticator_conf);
    }
    free(hub->authenticator_conf);
    hub->authenticator_conf = NULL;
    options_release(&auth_authenticator_class, hub->auth);
    memset(hub->crypt, 0, sizeof(*hub->crypt));
}
