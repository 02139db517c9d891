/* The authenticators compiled into this build, found by name ("dummy") or by the class names
 * existing configs use ("jupyterhub.auth.DummyAuthenticator"). */
#pragma once

#include <ganymede/authenticator.h>

extern const struct gm_authenticator auth_dummy;
extern const struct gm_authenticator auth_shared_password;
extern const struct gm_authenticator auth_null;
extern const struct gm_authenticator auth_pam;
extern const struct gm_option_class auth_dummy_class;
extern const struct gm_option_class auth_shared_password_class;
extern const struct gm_option_class auth_pam_class;
extern const struct gm_option_class auth_local_class;

/** Every compiled-in authenticator, NULL-terminated. */
const struct gm_authenticator *const *auth_modules(void);

/** The authenticator called @name (entry-point name or alias), or NULL. */
const struct gm_authenticator *auth_module_find(const char *name);
