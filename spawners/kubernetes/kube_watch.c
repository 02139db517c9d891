/* One list-and-watch cache per kind, shared by every server of the hub (client-go's reflector,
 * and KubeSpawner's, without their failure modes):
 *
 *   list (pages of 500) ──► watch from the list's resourceVersion, with bookmarks
 *     ▲                       │ the stream ends (timeoutSeconds, idle, the server closed it)
 *     │ 410 Gone              ▼
 *     └──────────────── resume the watch from the last resourceVersion seen
 *
 * Only a 410 (the resourceVersion fell out of the server's window) lists again; a relist
 * tells subscribers about objects that went (DELETED) or changed meanwhile, so a pod deleted
 * while the API was unreachable is noticed. Failures back off from 0.5 s to 30 s and never
 * give up (kubespawner#209, #938: a reflector that stopped left the hub on a frozen cache). A
 * watch that hears nothing, not even a bookmark, for IDLE_MS is abandoned and resumed. The
 * events cache keeps nothing: its first list only takes the resourceVersion (limit=1), so the
 * hub never reads the cluster's whole event history.
 *
 * Subscribers register for one key ("namespace/name") in a hash table; a change is delivered
 * to the subscribers of its key only. A subscriber may unsubscribe itself from its callback.
 * Changes a watch hears are queued and handed on from a timer, on the next loop turn: the
 * stream's callback runs inside curl, where a subscriber could not make its next API call. */
#include "kube.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS        1024
#define PAGE           500
#define IDLE_MS        150000
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define WATCH_SECONDS  300 /* asked of the server; a little jitter spreads the reconnects */

struct kube_watch {
    struct kube_api *api;
    char *name;
    char *path;
    char *selector;
    bool keep;
    int (*key_of)(const json_t *obj, char *key, size_t keylen);
    json_t *objects; /* key → object */
    json_t *listing; /* a list in progress: key → object */
    char *continue_token;
    char rv[32];
    struct kube_call *call;
    struct gm_fetch *fetch;
    uv_timer_t *timer;
    uv_timer_t *flush; /* hands the queued changes on */
    json_t *queue;     /* [[change, object], ...] heard and not yet applied */
    uint64_t backoff_ms;
    uint64_t watch_started_ms;
    uint64_t lines;
    bool gone;  /* the watch said 410 */
    bool ended; /* this side ended the stream (an ERROR event) */
    bool first_done;
    struct kube_watch_stats stats;
    struct kube_sub *buckets[BUCKETS];
};

static void start_list(struct kube_watch *w);
static void start_watch(struct kube_watch *w);

static unsigned bucket_of(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

int kube_key_of_object(const json_t *obj, char *key, size_t keylen)
{
    const json_t *md = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    if (!name)
        return -EINVAL;
    int n = snprintf(key, keylen, "%s/%s", ns ? ns : "", name);
    return n < 0 || (size_t)n >= keylen ? -E2BIG : 0;
}

int kube_key_of_event(const json_t *obj, char *key, size_t keylen)
{
    const json_t *io = json_object_get(obj, "involvedObject");
    const char *ns = json_string_value(json_object_get(io, "namespace"));
    const char *name = json_string_value(json_object_get(io, "name"));
    if (!name)
        return -EINVAL;
    int n = snprintf(key, keylen, "%s/%s", ns ? ns : "", name);
    return n < 0 || (size_t)n >= keylen ? -E2BIG : 0;
}

static void notify(struct kube_watch *w, const char *key, enum kube_change change,
                   const json_t *obj)
{
    struct kube_sub *s = w->buckets[bucket_of(key)];
    while (s) {
        struct kube_sub *next = s->next;
        if (strcmp(s->key, key) == 0)
            s->fn(s->data, change, obj);
        s = next;
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void on_backoff(uv_timer_t *t)
{
    struct kube_watch *w = t->data;
    if (w->first_done && !w->gone)
        start_watch(w);
    else
        start_list(w);
}

/* Try again later: after a failure (doubling), or at once (0). */
static void again(struct kube_watch *w, bool failed)
{
    uint64_t delay = 0;
    if (failed) {
        w->stats.errors++;
        delay = w->backoff_ms ? w->backoff_ms : BACKOFF_MIN_MS;
        w->backoff_ms = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    }
    uv_timer_start(w->timer, on_backoff, delay, 0);
}

/* Apply one object of a watch or a list page. */
static void apply(struct kube_watch *w, enum kube_change change, const json_t *obj, bool notify_)
{
    char key[sizeof(((struct kube_sub *)0)->key)];
    if (w->key_of(obj, key, sizeof(key)) < 0)
        return;
    if (w->keep) {
        if (change == KUBE_DELETED)
            json_object_del(w->objects, key);
        else
            json_object_set(w->objects, key, (json_t *)obj);
        w->stats.objects = json_object_size(w->objects);
    }
    if (notify_)
        notify(w, key, change, obj);
}

/* A list is complete: swap it in, telling subscribers what went and what changed. */
static void list_done(struct kube_watch *w)
{
    json_array_clear(w->queue); /* the list supersedes what the old watch said */
    json_t *old = w->objects;
    json_t *fresh = w->listing;
    w->objects = fresh;
    w->listing = NULL;
    w->stats.objects = json_object_size(fresh);
    bool relist = w->first_done;
    if (!w->first_done) {
        w->first_done = true;
        w->stats.synced = true;
        gm_log_info("Kubernetes %s cache: %zu objects at resourceVersion %s", w->name,
                    json_object_size(fresh), w->rv);
    } else {
        w->stats.relists++;
        gm_log_warn("Kubernetes %s cache listed again (resourceVersion expired): %zu objects",
                    w->name, json_object_size(fresh));
    }
    if (w->keep) {
        const char *k;
        json_t *o;
        void *tmp;
        json_object_foreach_safe(old, tmp, k, o)
        {
            json_t *now = json_object_get(fresh, k);
            if (!now) {
                char key[sizeof(((struct kube_sub *)0)->key)];
                snprintf(key, sizeof(key), "%s", k); /* json_object_del frees k */
                json_incref(o);
                json_object_del(old, k);
                notify(w, key, KUBE_DELETED, o);
                json_decref(o);
            }
        }
        json_object_foreach_safe(fresh, tmp, k, o)
        {
            json_t *was = json_object_get(old, k);
            const char *rv_was = json_string_value(
                json_object_get(json_object_get(was, "metadata"), "resourceVersion"));
            const char *rv_now = json_string_value(
                json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
            if (!was)
                notify(w, k, KUBE_ADDED, o);
            else if (relist && (!rv_was || !rv_now || strcmp(rv_was, rv_now) != 0))
                notify(w, k, KUBE_MODIFIED, o);
        }
    }
    json_decref(old);
    w->gone = false;
    w->backoff_ms = 0;
    start_watch(w);
}

static void on_listed(void *data, const struct kube_reply *r)
{
    struct kube_watch *w = data;
    w->call = NULL;
    if (r->error == -ECANCELED || r->error == -ESHUTDOWN) {
        return; /* the hub is shutting down */
    }
    const json_t *items = json_object_get(r->json, "items");
    const json_t *md = json_object_get(r->json, "metadata");
    const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
    if (r->status != 200 || !json_is_array(items) || !rv || strlen(rv) >= sizeof(w->rv)) {
        gm_log_warn("Listing Kubernetes %s failed: %s (HTTP %d); trying again", w->name,
                    r->message && r->message[0] ? r->message : "no usable answer", r->status);
        snprintf(w->stats.last_error, sizeof(w->stats.last_error), "%.200s (HTTP %d)",
                 r->message && r->message[0] ? r->message : "no usable answer", r->status);
        json_decref(w->listing);
        w->listing = NULL;
        free(w->continue_token);
        w->continue_token = NULL;
        again(w, true);
        return;
    }
    if (!w->continue_token) /* the first page's version is the list's */
        snprintf(w->rv, sizeof(w->rv), "%s", rv);
    w->stats.last_event_ms = uv_now(w->api->host->loop);
    if (w->keep) {
        size_t i;
        json_t *o;
        json_array_foreach(items, i, o)
        {
            char key[sizeof(((struct kube_sub *)0)->key)];
            if (w->key_of(o, key, sizeof(key)) == 0)
                json_object_set(w->listing, key, o);
        }
    }
    const char *cont = json_string_value(json_object_get(md, "continue"));
    free(w->continue_token);
    w->continue_token = w->keep && cont && cont[0] ? strdup(cont) : NULL;
    if (w->continue_token) {
        start_list(w);
        return;
    }
    list_done(w);
}

static void start_list(struct kube_watch *w)
{
    if (!w->continue_token) {
        json_decref(w->listing);
        w->listing = json_object();
    }
    struct gm_buf p;
    gm_buf_init(&p, KUBE_PATH_MAX * 2);
    gm_buf_printf(&p, "%s?limit=%d", w->path, w->keep ? PAGE : 1);
    if (w->selector[0])
        gm_buf_printf(&p, "&%s", w->selector);
    if (w->continue_token) {
        gm_buf_puts(&p, "&continue=");
        gm_url_encode(&p, w->continue_token, NULL);
    }
    int r = p.error || !w->listing
                ? -ENOMEM
                : kube_api_call(w->api, KUBE_LIST, "GET", p.data, NULL, on_listed, w, &w->call);
    gm_buf_free(&p);
    if (r == -ESHUTDOWN)
        return;
    if (r < 0) {
        gm_log_warn("Cannot list Kubernetes %s: %s", w->name, strerror(-r));
        again(w, true);
    }
}

/* The changes the watch heard, applied and handed to subscribers outside curl. */
static void on_flush(uv_timer_t *t)
{
    struct kube_watch *w = t->data;
    json_t *q = w->queue;
    w->queue = json_array();
    if (!w->queue) {
        w->queue = q; /* out of memory: try again a little later */
        uv_timer_start(w->flush, on_flush, 10, 0);
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(q, i, c)
    {
        apply(w, (enum kube_change)json_integer_value(json_array_get(c, 0)), json_array_get(c, 1),
              true);
    }
    json_decref(q);
}

static int on_line(void *data, int status, const char *line, size_t len)
{
    struct kube_watch *w = data;
    w->stats.last_event_ms = uv_now(w->api->host->loop);
    w->lines++;
    if (status != 200)
        return 0; /* the body is a Status: the completion reports it */
    json_t *ev = json_loadb(line, len, 0, NULL);
    const char *type = json_string_value(json_object_get(ev, "type"));
    const json_t *obj = json_object_get(ev, "object");
    if (!type || !json_is_object(obj)) {
        json_decref(ev);
        return 0;
    }
    if (strcmp(type, "ERROR") == 0) {
        json_int_t code = json_integer_value(json_object_get(obj, "code"));
        gm_log_info("Kubernetes %s watch: %s (%lld)", w->name,
                    json_string_value(json_object_get(obj, "message"))
                        ? json_string_value(json_object_get(obj, "message"))
                        : "error",
                    (long long)code);
        w->gone = code == 410;
        w->ended = true;
        json_decref(ev);
        return 1; /* end this watch */
    }
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    if (rv && strlen(rv) < sizeof(w->rv))
        snprintf(w->rv, sizeof(w->rv), "%s", rv);
    int change = strcmp(type, "ADDED") == 0      ? KUBE_ADDED
                 : strcmp(type, "MODIFIED") == 0 ? KUBE_MODIFIED
                 : strcmp(type, "DELETED") == 0  ? KUBE_DELETED
                                                 : -1;
    if (change >= 0) {
        json_array_append_new(w->queue, json_pack("[iO]", change, obj));
        if (!uv_is_active((uv_handle_t *)w->flush))
            uv_timer_start(w->flush, on_flush, 0, 0);
    }
    json_decref(ev);
    return 0;
}

static void on_watch_done(void *data, const struct gm_fetch_response *resp)
{
    struct kube_watch *w = data;
    w->fetch = NULL;
    bool ended = w->ended;
    w->ended = false;
    if (resp->error == -ECANCELED && !ended) {
        return; /* the hub is shutting down */
    }
    if (w->gone) {
        start_list(w);
        return;
    }
    if (resp->status == 410) { /* a watch refused at once: too old */
        w->gone = true;
        start_list(w);
        return;
    }
    uint64_t ran = uv_now(w->api->host->loop) - w->watch_started_ms;
    bool failed = resp->error != 0 || resp->status != 200 || (w->lines == 0 && ran < 1000);
    if (failed)
        gm_log_warn("Kubernetes %s watch ended: %s (HTTP %d); resuming from %s", w->name,
                    resp->error ? resp->message : "no events", resp->status, w->rv);
    else
        w->backoff_ms = 0;
    w->stats.restarts++;
    again(w, failed);
}

static void start_watch(struct kube_watch *w)
{
    struct gm_buf p;
    gm_buf_init(&p, KUBE_PATH_MAX * 2);
    gm_buf_printf(&p,
                  "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=", w->path,
                  WATCH_SECONDS + (int)(uv_now(w->api->host->loop) % 60));
    gm_url_encode(&p, w->rv, NULL);
    if (w->selector[0])
        gm_buf_printf(&p, "&%s", w->selector);
    w->lines = 0;
    w->watch_started_ms = uv_now(w->api->host->loop);
    int r = p.error
                ? -ENOMEM
                : kube_api_stream(w->api, p.data, IDLE_MS, on_line, on_watch_done, w, &w->fetch);
    gm_buf_free(&p);
    if (r == -ESHUTDOWN)
        return;
    if (r < 0) {
        gm_log_warn("Cannot watch Kubernetes %s: %s", w->name, strerror(-r));
        again(w, true);
    }
}

int kube_watch_new(struct kube_api *api, const char *name, const char *path, const char *selector,
                   bool keep, int (*key_of)(const json_t *obj, char *key, size_t keylen),
                   struct kube_watch **ret)
{
    struct kube_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->api = api;
    w->name = strdup(name);
    w->path = strdup(path);
    w->selector = strdup(selector ? selector : "");
    w->keep = keep;
    w->key_of = key_of;
    w->objects = json_object();
    w->queue = json_array();
    w->timer = malloc(sizeof(*w->timer));
    w->flush = malloc(sizeof(*w->flush));
    if (!w->name || !w->path || !w->selector || !w->objects || !w->queue || !w->timer ||
        !w->flush) {
        free(w->timer);
        free(w->flush);
        w->timer = w->flush = NULL;
        kube_watch_free(w);
        return -ENOMEM;
    }
    uv_timer_init(api->host->loop, w->timer);
    w->timer->data = w;
    uv_timer_init(api->host->loop, w->flush);
    w->flush->data = w;
    start_list(w);
    *ret = w;
    return 0;
}

void kube_watch_free(struct kube_watch *w)
{
    if (!w)
        return;
    kube_api_cancel(w->call);
    gm_fetch_cancel(w->fetch);
    uv_timer_t *timers[] = {w->timer, w->flush};
    for (size_t i = 0; i < 2; i++) {
        if (timers[i]) {
            uv_timer_stop(timers[i]);
            uv_close((uv_handle_t *)timers[i], on_timer_closed);
        }
    }
    json_decref(w->queue);
    json_decref(w->objects);
    json_decref(w->listing);
    free(w->continue_token);
    free(w->name);
    free(w->path);
    free(w->selector);
    free(w);
}

const json_t *kube_watch_get(const struct kube_watch *w, const char *key)
{
    return json_object_get(w->objects, key);
}

void kube_watch_each(const struct kube_watch *w, kube_watch_each_cb fn, void *data)
{
    const char *k;
    json_t *o;
    json_object_foreach(w->objects, k, o) fn(data, o);
}

void kube_watch_subscribe(struct kube_watch *w, struct kube_sub *sub)
{
    unsigned b = bucket_of(sub->key);
    sub->prev = NULL;
    sub->next = w->buckets[b];
    if (sub->next)
        sub->next->prev = sub;
    w->buckets[b] = sub;
}

void kube_watch_unsubscribe(struct kube_watch *w, struct kube_sub *sub)
{
    unsigned b = bucket_of(sub->key);
    if (sub->prev)
        sub->prev->next = sub->next;
    else if (w->buckets[b] == sub)
        w->buckets[b] = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    sub->next = sub->prev = NULL;
}

void kube_watch_get_stats(const struct kube_watch *w, struct kube_watch_stats *st)
{
    *st = w->stats;
    snprintf(st->resource_version, sizeof(st->resource_version), "%s", w->rv);
}
