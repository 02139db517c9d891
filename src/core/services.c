/* Services and OAuth clients, in memory and in the database. */
#include "core/store_impl.h"
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hub_service *store_service_find(const struct hub_store *s, const char *name)
{
    return hmap_get(&s->service_index, name);
}

int store_service_ensure(struct hub_store *s, const char *name, struct hub_service **ret)
{
    struct hub_service *svc = store_service_find(s, name);
    if (svc) {
        *ret = svc;
        return 0;
    }
    svc = calloc(1, sizeof(*svc));
    if (!svc)
        return -ENOMEM;
    svc->name = strdup(name);
    svc->url = strdup("");
    svc->cwd = strdup("");
    svc->user = strdup("");
    svc->oauth_redirect_uri = strdup("");
    svc->info = json_object();
    svc->command = json_array();
    svc->environment = json_object();
    svc->oauth_client_allowed_scopes = json_array();
    svc->display = true;
    svc->from_config = true;
    int r = (!svc->name || !svc->url || !svc->cwd || !svc->user || !svc->oauth_redirect_uri ||
             !svc->info || !svc->command || !svc->environment || !svc->oauth_client_allowed_scopes)
                ? -ENOMEM
                : 0;
    if (r == 0)
        r = db_service_insert(s->db, name, &svc->id);
    if (r == 0 && ptrvec_push(&s->services, svc) < 0)
        r = -ENOMEM;
    if (r == 0 && hmap_put(&s->service_index, svc->name, svc) < 0) {
        s->services.n--;
        r = -ENOMEM;
    }
    if (r < 0) {
        if (svc->id)
            db_service_delete(s->db, svc->id);
        store_service_free(svc);
        return r;
    }
    *ret = svc;
    return 0;
}

int store_service_save(struct hub_store *s, struct hub_service *svc)
{
    char *scopes = store_json_text(svc->oauth_client_allowed_scopes, "[]");
    char *info = store_json_text(svc->info, "{}");
    char *command = store_json_text(svc->command, "[]");
    char *env = store_json_text(svc->environment, "{}");
    int r = -ENOMEM;
    if (scopes && info && command && env) {
        struct db_service_row row = {
            .id = svc->id,
            .admin = svc->admin,
            .url = svc->url,
            .oauth_client_allowed_scopes = scopes,
            .info = info,
            .display = svc->display,
            .oauth_no_confirm = svc->oauth_no_confirm,
            .command = command,
            .cwd = svc->cwd,
            .environment = env,
            .user = svc->user,
            .from_config = svc->from_config,
            .pid = svc->pid,
            .oauth_client_id = svc->oauth_client_id,
        };
        r = db_service_update(s->db, &row);
    }
    free(scopes);
    free(info);
    free(command);
    free(env);
    if (r == 0)
        store_rbac_changed(s);
    return r;
}

int store_service_delete(struct hub_store *s, struct hub_service *svc)
{
    int r = db_service_delete(s->db, svc->id);
    if (r < 0)
        return r;
    while (svc->tokens.n)
        store_token_forget(s, svc->tokens.v[svc->tokens.n - 1]);
    hmap_del(&s->service_index, svc->name);
    ptrvec_remove(&s->services, svc);
    store_service_free(svc);
    store_rbac_changed(s);
    return 0;
}

struct hub_oauth_client *store_client_find(const struct hub_store *s, const char *identifier)
{
    return hmap_get(&s->client_index, identifier);
}

int store_client_put(struct hub_store *s, const char *identifier, const char *description,
                     const char *secret_hashed, const char *redirect_uri,
                     const json_t *allowed_scopes, struct hub_oauth_client **ret)
{
    char *scopes = store_json_text(allowed_scopes, "[]");
    if (!scopes)
        return -ENOMEM;
    struct hub_oauth_client *c = store_client_find(s, identifier);
    bool created = !c;
    if (created) {
        c = calloc(1, sizeof(*c));
        if (!c) {
            free(scopes);
            return -ENOMEM;
        }
        c->identifier = strdup(identifier);
    }
    char *desc = strdup(description ? description : "");
    char *secret = strdup(secret_hashed ? secret_hashed : "");
    char *uri = strdup(redirect_uri ? redirect_uri : "");
    json_t *allowed = allowed_scopes ? json_deep_copy(allowed_scopes) : json_array();
    int r = (!c->identifier || !desc || !secret || !uri || !allowed) ? -ENOMEM : 0;
    if (r == 0) {
        struct db_client_row row = {.id = c->id,
                                    .identifier = identifier,
                                    .description = desc,
                                    .secret = secret,
                                    .redirect_uri = uri,
                                    .allowed_scopes = scopes};
        r = created ? db_client_insert(s->db, &row, &c->id) : db_client_update(s->db, &row);
    }
    free(scopes);
    if (r == 0 && created) {
        if (ptrvec_push(&s->clients, c) < 0)
            r = -ENOMEM;
        else if (hmap_put(&s->client_index, c->identifier, c) < 0) {
            s->clients.n--;
            r = -ENOMEM;
        }
        if (r < 0)
            db_client_delete(s->db, c->id);
    }
    if (r < 0) {
        free(desc);
        free(secret);
        free(uri);
        json_decref(allowed);
        if (created)
            store_client_free(c);
        return r;
    }
    free(c->description);
    free(c->secret);
    free(c->redirect_uri);
    json_decref(c->allowed_scopes);
    c->description = desc;
    c->secret = secret;
    c->redirect_uri = uri;
    c->allowed_scopes = allowed;
    if (ret)
        *ret = c;
    return 0;
}

int store_client_delete(struct hub_store *s, struct hub_oauth_client *c)
{
    /* Tokens issued to the client go with it (ON DELETE CASCADE). */
    int r = db_client_delete(s->db, c->id);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s->users.n; i++) {
        struct hub_user *u = s->users.v[i];
        for (size_t j = u->tokens.n; j-- > 0;) {
            struct hub_token *t = u->tokens.v[j];
            if (t->client_id && strcmp(t->client_id, c->identifier) == 0)
                store_token_forget(s, t);
        }
    }
    for (size_t i = 0; i < s->services.n; i++) {
        struct hub_service *svc = s->services.v[i];
        for (size_t j = svc->tokens.n; j-- > 0;) {
            struct hub_token *t = svc->tokens.v[j];
            if (t->client_id && strcmp(t->client_id, c->identifier) == 0)
                store_token_forget(s, t);
        }
    }
    hmap_del(&s->client_index, c->identifier);
    ptrvec_remove(&s->clients, c);
    store_client_free(c);
    return 0;
}
