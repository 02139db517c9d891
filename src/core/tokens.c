/* API tokens: created hashed as JupyterHub hashes them, found by their 4-character prefix, and
 * verified once per process: a matched token remembers the SHA-256 of its plaintext, so that
 * a token from the config hashed with 16384 rounds costs one fast hash per request, not 16384. */
#include "auth/token_hash.h"
#include "core/store_impl.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_token_index(struct hub_store *s, struct hub_token *t)
{
    struct hub_token *first = hmap_get(&s->token_prefix, t->prefix);
    t->prefix_next = first;
    s->n_tokens++;
    return hmap_put(&s->token_prefix, t->prefix, t);
}

static void unindex(struct hub_store *s, struct hub_token *t)
{
    struct hub_token *first = hmap_get(&s->token_prefix, t->prefix);
    if (first == t) {
        if (t->prefix_next)
            hmap_put(&s->token_prefix, t->prefix_next->prefix, t->prefix_next);
        else
            hmap_del(&s->token_prefix, t->prefix);
    } else {
        for (struct hub_token *p = first; p; p = p->prefix_next)
            if (p->prefix_next == t) {
                p->prefix_next = t->prefix_next;
                break;
            }
    }
    s->n_tokens--;
}

void store_token_forget(struct hub_store *s, struct hub_token *t)
{
    unindex(s, t);
    if (t->user)
        ptrvec_remove(&t->user->tokens, t);
    else if (t->service)
        ptrvec_remove(&t->service->tokens, t);
    store_token_free(t);
}

int store_token_create(struct hub_store *s, struct hub_user *u, struct hub_service *svc,
                       const struct store_token_spec *spec, char *token_out, size_t outlen,
                       struct hub_token **ret)
{
    char generated[33];
    const char *plain = spec->token;
    if (!plain) {
        int r = auth_token_new(generated);
        if (r < 0)
            return r;
        plain = generated;
        if (!token_out || outlen < sizeof(generated))
            return -EINVAL;
        str_copy(token_out, outlen, generated);
    }
    char hashed[AUTH_TOKEN_HASHED_MAX];
    int r =
        auth_token_hash(plain, spec->rounds ? spec->rounds : AUTH_TOKEN_ROUNDS_GENERATED, hashed);
    if (r < 0)
        return r;
    struct hub_token *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->user = u;
    t->service = u ? NULL : svc;
    t->hashed = strdup(hashed);
    snprintf(t->prefix, sizeof(t->prefix), "%.*s", AUTH_TOKEN_PREFIX_LEN, plain);
    t->client_id = strdup(spec->client_id ? spec->client_id : "jupyterhub");
    t->session_id = str_dup(spec->session_id);
    t->created = time_now_us();
    t->expires_at = spec->expires_at;
    t->note = strdup(spec->note ? spec->note : "");
    t->scopes = spec->scopes ? json_deep_copy(spec->scopes) : json_pack("[s]", "inherit");
    auth_token_fingerprint(plain, t->fingerprint);
    t->verified = true;
    char *scopes = t->scopes ? store_json_text(t->scopes, "[]") : NULL;
    if (!t->hashed || !t->client_id || !t->note || !scopes ||
        (spec->session_id && !t->session_id)) {
        free(scopes);
        store_token_free(t);
        return -ENOMEM;
    }
    struct db_token_row row = {
        .user_id = u ? u->id : 0,
        .service_id = u ? 0 : svc->id,
        .hashed = t->hashed,
        .prefix = t->prefix,
        .client_id = t->client_id,
        .session_id = t->session_id,
        .created = t->created,
        .expires_at = t->expires_at,
        .note = t->note,
        .scopes = scopes,
    };
    r = db_token_insert(s->db, &row, &t->id);
    free(scopes);
    struct ptrvec *owner = u ? &u->tokens : &svc->tokens;
    if (r == 0 && ptrvec_push(owner, t) < 0) {
        db_token_delete(s->db, t->id);
        r = -ENOMEM;
    }
    if (r == 0 && store_token_index(s, t) < 0) {
        ptrvec_remove(owner, t);
        db_token_delete(s->db, t->id);
        r = -ENOMEM;
    }
    if (r < 0) {
        store_token_free(t);
        return r;
    }
    if (ret)
        *ret = t;
    return 0;
}

int store_token_delete(struct hub_store *s, struct hub_token *t)
{
    int r = db_token_delete(s->db, t->id);
    if (r < 0)
        return r;
    store_token_forget(s, t);
    return 0;
}

static bool matches(struct hub_token *t, const char *token)
{
    if (t->verified) {
        unsigned char fp[32];
        auth_token_fingerprint(token, fp);
        return str_ct_eq(fp, sizeof(fp), t->fingerprint, sizeof(t->fingerprint));
    }
    if (!auth_token_verify(t->hashed, token))
        return false;
    auth_token_fingerprint(token, t->fingerprint);
    t->verified = true;
    return true;
}

struct hub_token *store_token_find(struct hub_store *s, const char *token, int64_t now)
{
    char prefix[AUTH_TOKEN_PREFIX_LEN + 1];
    size_t n = strlen(token);
    if (n < AUTH_TOKEN_PREFIX_LEN || n > 4096)
        return NULL;
    memcpy(prefix, token, AUTH_TOKEN_PREFIX_LEN);
    prefix[AUTH_TOKEN_PREFIX_LEN] = '\0';
    struct hub_token *t = hmap_get(&s->token_prefix, prefix);
    while (t) {
        struct hub_token *next = t->prefix_next;
        if (!t->expires_at || t->expires_at >= now) {
            if (matches(t, token)) {
                if (!t->client_id || (strcmp(t->client_id, "jupyterhub") != 0 &&
                                      !store_client_find(s, t->client_id))) {
                    /* A token of an OAuth client that no longer exists is stale. */
                    store_token_delete(s, t);
                    return NULL;
                }
                return t;
            }
        }
        t = next;
    }
    return NULL;
}

struct hub_token *store_token_by_api_id(const struct hub_user *u, const char *api_id)
{
    int64_t id;
    if (api_id[0] != 'a' || str_to_int64(api_id + 1, &id) < 0)
        return NULL;
    for (size_t i = 0; i < u->tokens.n; i++) {
        struct hub_token *t = u->tokens.v[i];
        if (t->id == id)
            return t;
    }
    return NULL;
}

int store_token_touch(struct hub_store *s, struct hub_token *t, int64_t now)
{
    if (t->last_activity && now - t->last_activity <= s->activity_resolution_us)
        return 0;
    /* See store_spawner_touch. */
    if (!db_available(s->db))
        return 0;
    int r = db_token_set_last_activity(s->db, t->id, now);
    if (r == 0)
        t->last_activity = now;
    return r;
}

static int purge_list(struct hub_store *s, struct ptrvec *tokens, int64_t now)
{
    int n = 0;
    for (size_t i = tokens->n; i-- > 0;) {
        struct hub_token *t = tokens->v[i];
        if (t->expires_at && t->expires_at < now && store_token_delete(s, t) == 0)
            n++;
    }
    return n;
}

int store_tokens_purge_expired(struct hub_store *s, int64_t now)
{
    int n = 0;
    for (size_t i = 0; i < s->users.n; i++)
        n += purge_list(s, &((struct hub_user *)s->users.v[i])->tokens, now);
    for (size_t i = 0; i < s->services.n; i++)
        n += purge_list(s, &((struct hub_service *)s->services.v[i])->tokens, now);
    return n;
}
