/* Services from the configuration (JupyterHub.services) and from the REST API: their rows,
 * their tokens and their admin role. Running managed services (`command`) and their OAuth
 * clients come with the spawning code. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct hub;
struct hub_service;

/** Create or update a service from a spec dict (name, url, api_token, admin, oauth_*,
 * display, info, command, cwd, environment, user). Returns 0, or -EINVAL / -EEXIST with a
 * message (unknown field, wrong type, bad URL, a runtime service clashing with a config one). */
int services_apply_spec(struct hub *hub, const json_t *spec, bool from_config,
                        struct hub_service **ret, char *err, size_t errlen);

/** Apply JupyterHub.services at start and delete config services that are no longer there. */
int services_init(struct hub *hub, char *err, size_t errlen);

/** Add tokens given in the configuration ({token: name}) for users or services, hashed with
 * JupyterHub's rounds for provided tokens. */
int services_add_config_tokens(struct hub *hub, const json_t *tokens, bool for_services, char *err,
                               size_t errlen);
