/* NullAuthenticator ("null"): nobody logs in through the browser; the hub is used through API
 * tokens only.
 *
 *     c.JupyterHub.authenticator_class = "null"
 */
#include "auth/authenticators.h"

static const char *const null_aliases[] = {"jupyterhub.auth.NullAuthenticator", "NullAuthenticator",
                                           NULL};

const struct gm_authenticator auth_null = {
    .abi = GM_ABI_VERSION,
    .name = "null",
    .aliases = null_aliases,
    .login_service = "null",
};
