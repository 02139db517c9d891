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

/** The routespec of a service: {base_url}services/<name>/ (caller frees). */
char *services_routespec(struct hub *hub, const struct hub_service *svc);

/** Where the proxy sends /services/<name>/: the scheme, host and port of the service's url.
 * Returns 0, or -ENOENT for a service without a url. */
int services_route_target(const struct hub_service *svc, char *out, size_t outlen);

/** After the proxy is up: tokens and OAuth clients for config services with a url, and the
 * processes of managed services (`command`). services/managed.c. */
int services_start(struct hub *hub);

/** At hub stop: stop managed services (SIGTERM) and forget their run-time state. */
void services_stop(struct hub *hub);
