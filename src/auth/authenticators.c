/* The table of compiled-in authenticators. */
#include "auth/authenticators.h"
#include "version.h"

#include <string.h>

#include "authenticators_list.h"

GM_EXTRA_AUTHENTICATOR_DECLS

static const struct gm_authenticator *const modules[] = {
    &auth_shared_password,
    &auth_dummy,
    &auth_null,
#if GM_HAVE_PAM
    &auth_pam,
#endif
    GM_EXTRA_AUTHENTICATORS NULL,
};

const struct gm_authenticator *const *auth_modules(void)
{
    return modules;
}

const struct gm_authenticator *auth_module_find(const char *name)
{
    for (const struct gm_authenticator *const *m = modules; *m; m++) {
        if (strcmp((*m)->name, name) == 0)
            return *m;
        for (const char *const *a = (*m)->aliases; a && *a; a++)
            if (strcmp(*a, name) == 0)
                return *m;
    }
    return NULL;
}
