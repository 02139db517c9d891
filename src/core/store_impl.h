/* Helpers shared by the files that implement core/store.h (store.c, users.c, groups.c,
 * roles.c, services.c, tokens.c); nothing else includes this. */
#pragma once

#include "core/store.h"
#include "db/rows.h"

/** JSON text of @v (caller frees), "[]" / "{}" style for NULL per @empty. */
char *store_json_text(const json_t *v, const char *empty);

/** Parse JSON text from a column; NULL or bad text gives @fallback parsed. */
json_t *store_json_parse(const char *text, const char *fallback);

/* Freeing objects (memory only). */
void store_user_free(struct hub_user *u);
void store_group_free(struct hub_group *g);
void store_role_free(struct hub_role *r);
void store_service_free(struct hub_service *svc);
void store_client_free(struct hub_oauth_client *c);
void store_token_free(struct hub_token *t);
void store_spawner_free(struct hub_spawner *sp);

/** Add a loaded or new token to the prefix index. */
int store_token_index(struct hub_store *s, struct hub_token *t);

/** Remove a token from its owner and the prefix index, and free it (memory only). */
void store_token_forget(struct hub_store *s, struct hub_token *t);

/** Remove a role from every bearer in memory. */
void store_role_forget_bearers(struct hub_store *s, struct hub_role *r);

/** Binary search of a vector of objects sorted by id (users, groups, services). */
void *store_find_by_id(const struct ptrvec *pv, int64_t id, size_t id_offset);
