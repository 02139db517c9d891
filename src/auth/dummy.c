/* DummyAuthenticator ("dummy"): any user name with any password, or with
 * DummyAuthenticator.password when it is set (deprecated in JupyterHub 5.3). For testing only.
 *
 *     c.JupyterHub.authenticator_class = "dummy"
 *     c.DummyAuthenticator.password = "only-for-tests"   # optional
 */
#include "auth/authenticators.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>

struct dummy_conf {
    char *password;
};

static const struct gm_option dummy_options[] = {
    GM_OPTION("password", GM_OPTION_STRING, offsetof(struct dummy_conf, password), "\"\"",
              "Deprecated: the one password every user logs in with (empty: any password)."),
    GM_OPTION_END,
};

const struct gm_option_class auth_dummy_class = {
    .name = "DummyAuthenticator",
    .parent = "Authenticator",
    .help = "Lets anybody log in, for testing (authenticator_class = \"dummy\").",
    .options = dummy_options,
};

struct dummy {
    const struct gm_host *host;
    const struct dummy_conf *conf;
};

struct dummy_call {
    gm_authenticate_cb cb;
    void *data;
    json_t *result;
};

static void finish(void *p)
{
    struct dummy_call *c = p;
    c->cb(c->data, 0, c->result, NULL);
    free(c);
}

static int dummy_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                      void *conf, void **state, char *err, size_t errlen)
{
    struct dummy *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->host = host;
    d->conf = conf;
    if (d->conf->password[0])
        gm_log_warn("DummyAuthenticator.password is deprecated in JupyterHub 5.3. Use "
                    "SharedPasswordAuthenticator.user_password instead.");
    gm_log_warn("Using testing authenticator DummyAuthenticator! This is not meant for "
                "production!");
    *state = d;
    return 0;
}

static void dummy_destroy(void *state)
{
    free(state);
}

static int dummy_authenticate(void *state, const json_t *data, gm_authenticate_cb cb, void *cb_data)
{
    struct dummy *d = state;
    const char *user = json_string_value(json_object_get(data, "username"));
    const char *password = json_string_value(json_object_get(data, "password"));
    struct dummy_call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->data = cb_data;
    bool ok = user && (!d->conf->password[0] ||
                       (password && str_ct_eq(password, strlen(password), d->conf->password,
                                              strlen(d->conf->password))));
    c->result = ok ? json_pack("{s:s}", "name", user) : NULL;
    int r = d->host->defer(d->host, finish, c);
    if (r < 0) {
        json_decref(c->result);
        free(c);
    }
    return r;
}

static const char *const dummy_aliases[] = {"jupyterhub.auth.DummyAuthenticator",
                                            "DummyAuthenticator", NULL};

const struct gm_authenticator auth_dummy = {
    .abi = GM_ABI_VERSION,
    .name = "dummy",
    .aliases = dummy_aliases,
    .options = &auth_dummy_class,
    .conf_size = sizeof(struct dummy_conf),
    .allow_all_by_default = true,
    .init = dummy_init,
    .destroy = dummy_destroy,
    .authenticate = dummy_authenticate,
};
