/* Hosting the configured authenticator: choosing it by name, parsing its settings (the
 * Authenticator base class, then its own classes), the auth_state key, and its life cycle. */
#pragma once

#include <stddef.h>

struct hub;

/** Set up hub->auth, hub->authenticator and hub->crypt from the configuration. Returns 0 or a
 * negative errno with a message (unknown class, bad settings, missing or bad
 * JUPYTERHUB_CRYPT_KEY while enable_auth_state is on). */
int auth_host_init(struct hub *hub, char *err, size_t errlen);

/** Destroy the authenticator and free its settings. Accepts a hub whose init failed. */
/** Start the authenticator (its init) once users are loaded. */
int auth_host_start(struct hub *hub, char *err, size_t errlen);

void auth_host_release(struct hub *hub);
