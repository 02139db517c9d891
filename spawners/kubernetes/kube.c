/* KubeSpawner ("kubernetes", "kubespawner"), as kubespawner 7.1: each server is a pod made
 * through the Kubernetes API, with KubeSpawner's names, labels, annotations and state, so a
 * zero-to-jupyterhub deployment's network policies, services and saved servers work unchanged.
 *
 * One pods cache (and one events cache) per hub, in kube_watch.c, answers every poll and every
 * wait: a spawn makes only the writes it needs (namespace, PVC, pod, service) and reads nothing
 * beyond the watches. The state is KubeSpawner 7's: {"kubespawner_version", "pod_name",
 * "namespace", "dns_name", "pvc_name"}, so a restarted hub, or one taking over from a Python
 * JupyterHub on the same database, finds the running pods.
 *
 *     c.JupyterHub.spawner_class = "kubespawner"
 *     c.KubeSpawner.image = "quay.io/jupyterhub/singleuser:5.5"
 *     c.KubeSpawner.cpu_limit = 2
 *     c.KubeSpawner.mem_limit = "4G"
 *     c.KubeSpawner.storage_pvc_ensure = True
 *     c.KubeSpawner.storage_capacity = "10Gi"
 */
#include "kube.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <ganymede/quantity.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBESPAWNER_VERSION "7.1.0"

static void kube_destroy(void *state)
{
    struct kube_state *st = state;
    if (!st)
        return;
    kube_watch_free(st->pods);
    kube_watch_free(st->events);
    kube_api_release(&st->api);
    free(st->hub_namespace);
    free(st);
}

/* The deprecated singleuser_* names fill their new names, as KubeSpawner's _deprecated_changed. */
static void deprecated_names(struct kube_conf *c)
{
    struct {
        const char *old, *new_;
        char **from, **to;
    } strs[] = {
        {"singleuser_image_spec", "image", &c->singleuser_image_spec, &c->image},
        {"singleuser_image_pull_policy", "image_pull_policy", &c->singleuser_image_pull_policy,
         &c->image_pull_policy},
        {"singleuser_service_account", "service_account", &c->singleuser_service_account,
         &c->service_account},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (!(*strs[i].from)[0])
            continue;
        gm_log_warn("KubeSpawner.%s is deprecated: use KubeSpawner.%s", strs[i].old, strs[i].new_);
        char *v = strdup(*strs[i].from);
        if (v) {
            free(*strs[i].to);
            *strs[i].to = v;
        }
    }
    struct {
        const char *old, *new_;
        json_t **from, **to;
    } js[] = {
        {"singleuser_uid", "uid", &c->singleuser_uid, &c->uid},
        {"singleuser_fs_gid", "fs_gid", &c->singleuser_fs_gid, &c->fs_gid},
        {"singleuser_node_selector", "node_selector", &c->singleuser_node_selector,
         &c->node_selector},
        {"singleuser_extra_labels", "extra_labels", &c->singleuser_extra_labels, &c->extra_labels},
        {"singleuser_extra_annotations", "extra_annotations", &c->singleuser_extra_annotations,
         &c->extra_annotations},
    };
    for (size_t i = 0; i < sizeof(js) / sizeof(js[0]); i++) {
        if (!*js[i].from || json_is_null(*js[i].from))
            continue;
        gm_log_warn("KubeSpawner.%s is deprecated: use KubeSpawner.%s", js[i].old, js[i].new_);
        json_decref(*js[i].to);
        *js[i].to = json_incref(*js[i].from);
    }
}

/* Each template must format for a sample user and give a valid name. */
static int check_templates(const struct kube_conf *c, char *err, size_t errlen)
{
    struct kube_names n;
    if (kube_names_init(&n, c, "jhub", "sample-user", "sample-server", 1) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct {
        const char *setting, *tmpl;
        bool label;
        bool used;
    } t[] = {
        {"pod_name_template", c->pod_name_template, false, true},
        {"pvc_name_template", c->pvc_name_template, false, c->storage_pvc_ensure},
        {"user_namespace_template", c->user_namespace_template, true, c->enable_user_namespaces},
    };
    int r = 0;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) && r == 0; i++) {
        char *out = NULL;
        char why[300];
        r = kube_expand(&n, t[i].tmpl, &out, why, sizeof(why));
        if (r < 0) {
            snprintf(err, errlen, "KubeSpawner.%s (%s) does not format: %s", t[i].setting,
                     t[i].tmpl, why);
        } else if (t[i].used &&
                   !(t[i].label ? kube_is_dns_label(out) : kube_is_dns_subdomain(out))) {
            snprintf(err, errlen,
                     "KubeSpawner.%s (%s) gives \"%s\" for user sample-user, which is not a valid "
                     "Kubernetes name (lower-case letters, digits, '-'%s)",
                     t[i].setting, t[i].tmpl, out, t[i].label ? ", at most 63" : " and '.'");
            r = -EINVAL;
        }
        free(out);
    }
    kube_names_release(&n);
    return r;
}

static int check_conf(struct kube_conf *c, char *err, size_t errlen)
{
    if (c->profile_form_template[0] || (c->additional_profile_form_template_paths &&
                                        c->additional_profile_form_template_paths[0])) {
        snprintf(err, errlen,
                 "KubeSpawner.profile_form_template and additional_profile_form_template_paths "
                 "are Jinja templates, which Ganymede does not render: leave them unset (the "
                 "form has KubeSpawner's fields)");
        return -EINVAL;
    }
    if (c->storage_pvc_ensure && !c->storage_capacity[0]) {
        snprintf(err, errlen,
                 "KubeSpawner.storage_pvc_ensure needs KubeSpawner.storage_capacity (\"10Gi\")");
        return -EINVAL;
    }
    int64_t q;
    if (c->storage_capacity[0] &&
        gm_quantity_parse(c->storage_capacity, GM_QUANTITY_UNITS, &q, NULL) < 0) {
        snprintf(err, errlen, "KubeSpawner.storage_capacity (%s) is not a Kubernetes quantity",
                 c->storage_capacity);
        return -EINVAL;
    }
    if (c->hub_connect_ip[0] || c->hub_connect_port)
        gm_log_warn("KubeSpawner.hub_connect_ip and hub_connect_port are deprecated and "
                    "ignored: set JupyterHub.hub_connect_url");
    if (c->k8s_api_threadpool_workers)
        gm_log_warn("KubeSpawner.k8s_api_threadpool_workers has no effect");
    int r = kube_profiles_check(c->profile_list, err, errlen);
    if (r < 0)
        return r;
    return check_templates(c, err, errlen);
}

static int kube_init(const struct gm_host *host, void *conf, void **state, char *err, size_t errlen)
{
    struct kube_conf *c = conf;
    deprecated_names(c);
    int r = check_conf(c, err, errlen);
    if (r < 0)
        return r;
    struct kube_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    st->host = host;
    st->conf = c;
    r = kube_api_init(&st->api, host, c, err, errlen);
    if (r < 0) {
        free(st);
        return r;
    }
    const char *ns = c->namespace[0]           ? c->namespace
                     : st->api.creds.namespace ? st->api.creds.namespace
                                               : "default";
    st->hub_namespace = strdup(ns);
    char path[KUBE_PATH_MAX], events_path[KUBE_PATH_MAX];
    struct gm_buf sel;
    gm_buf_init(&sel, 1024);
    gm_buf_puts(&sel, "labelSelector=");
    char label[300];
    snprintf(label, sizeof(label), "component=%s", c->component_label);
    gm_url_encode(&sel, label, NULL);
    if (c->enable_user_namespaces) {
        snprintf(path, sizeof(path), "/api/v1/pods");
        snprintf(events_path, sizeof(events_path), "/api/v1/events");
    } else {
        kube_object_path(path, sizeof(path), "pods", st->hub_namespace, NULL);
        kube_object_path(events_path, sizeof(events_path), "events", st->hub_namespace, NULL);
    }
    r = !st->hub_namespace || sel.error ? -ENOMEM : 0;
    if (r == 0)
        r = kube_watch_new(&st->api, "pods", path, sel.data, true, kube_key_of_object, &st->pods);
    if (r == 0 && c->events_enabled)
        r = kube_watch_new(&st->api, "events", events_path,
                           "fieldSelector=involvedObject.kind%3DPod", false, kube_key_of_event,
                           &st->events);
    gm_buf_free(&sel);
    if (r < 0) {
        snprintf(err, errlen, "cannot start the Kubernetes watches: %s", strerror(-r));
        kube_destroy(st);
        return r;
    }
    gm_log_info(
        "Kubernetes spawner: API server %s (%s), %s %s, image %s", st->api.creds.server,
        st->api.creds.source, c->enable_user_namespaces ? "user namespaces from" : "namespace",
        c->enable_user_namespaces ? c->user_namespace_template : st->hub_namespace, c->image);
    *state = st;
    return 0;
}

int kube_object_path(char *out, size_t outlen, const char *kind, const char *namespace,
                     const char *name)
{
    struct gm_buf b;
    gm_buf_init(&b, outlen);
    if (strcmp(kind, "namespaces") == 0) {
        gm_buf_puts(&b, "/api/v1/namespaces");
        namespace = NULL;
    } else {
        gm_buf_puts(&b, "/api/v1/namespaces/");
        gm_url_encode(&b, namespace, NULL);
        gm_buf_printf(&b, "/%s", kind);
    }
    if (name) {
        gm_buf_puts(&b, "/");
        gm_url_encode(&b, name, NULL);
    }
    int r = b.error ? -E2BIG : 0;
    if (r == 0)
        snprintf(out, outlen, "%s", b.data);
    gm_buf_free(&b);
    return r;
}

/* Servers. */

static void on_pod_change(void *data, enum kube_change change, const json_t *pod)
{
    struct kube_server *s = data;
    if (s->op == KUBE_OP_START)
        kube_start_on_pod(s, change, pod);
    else if (s->op == KUBE_OP_STOP)
        kube_stop_on_pod(s, change, pod);
}

static void on_event(void *data, enum kube_change change, const json_t *event)
{
    struct kube_server *s = data;
    if (change != KUBE_DELETED && s->op == KUBE_OP_START)
        kube_start_on_event(s, event);
}

static int kube_server_new(void *state, const char *user, const char *server_name, void **server)
{
    struct kube_state *st = state;
    struct kube_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->st = st;
    s->user = strdup(user);
    s->server_name = strdup(server_name ? server_name : "");
    if (!s->user || !s->server_name ||
        kube_names_init(&s->names, st->conf, st->hub_namespace, user, s->server_name, 0) < 0) {
        free(s->user);
        free(s->server_name);
        free(s);
        return -ENOMEM;
    }
    uv_timer_init(st->host->loop, &s->timer);
    s->timer.data = s;
    s->holds = 2; /* the owner and the timer handle */
    s->pod_sub.fn = on_pod_change;
    s->pod_sub.data = s;
    s->event_sub.fn = on_event;
    s->event_sub.data = s;
    *server = s;
    return 0;
}

void kube_server_hold(struct kube_server *s)
{
    s->holds++;
}

void kube_server_release(struct kube_server *s)
{
    if (--s->holds > 0)
        return;
    kube_names_release(&s->names);
    free(s->user);
    free(s->server_name);
    free(s->pod_name);
    free(s->namespace);
    free(s->pvc_name);
    free(s->dns_name);
    free(s->pod_uid);
    free(s->state_version);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    kube_server_release(h->data);
}

void kube_subscribe(struct kube_server *s)
{
    if (s->subscribed || !s->pod_name || !s->namespace)
        return;
    snprintf(s->pod_sub.key, sizeof(s->pod_sub.key), "%s/%s", s->namespace, s->pod_name);
    snprintf(s->event_sub.key, sizeof(s->event_sub.key), "%s/%s", s->namespace, s->pod_name);
    kube_watch_subscribe(s->st->pods, &s->pod_sub);
    if (s->st->events)
        kube_watch_subscribe(s->st->events, &s->event_sub);
    s->subscribed = true;
}

void kube_unsubscribe(struct kube_server *s)
{
    if (!s->subscribed)
        return;
    kube_watch_unsubscribe(s->st->pods, &s->pod_sub);
    if (s->st->events)
        kube_watch_unsubscribe(s->st->events, &s->event_sub);
    s->subscribed = false;
}

static void kube_server_free(void *server)
{
    struct kube_server *s = server;
    s->freed = true;
    kube_start_abort(s);
    kube_api_cancel(s->call);
    s->call = NULL;
    kube_unsubscribe(s);
    s->op = KUBE_OP_NONE;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    kube_server_release(s);
}

struct deferred {
    struct kube_server *s;
    void (*fn)(void *data);
};

static void run_deferred(void *data)
{
    struct deferred *d = data;
    struct kube_server *s = d->s;
    void (*fn)(void *) = d->fn;
    free(d);
    if (!s->freed)
        fn(s);
    kube_server_release(s);
}

int kube_server_defer(struct kube_server *s, void (*fn)(void *data))
{
    struct deferred *d = malloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->s = s;
    d->fn = fn;
    int r = s->st->host->defer(s->st->host, run_deferred, d);
    if (r < 0) {
        free(d);
        return r;
    }
    kube_server_hold(s);
    return 0;
}

/* KubeSpawner 7's state. pod_name and namespace always (they name the pod to look for after a
 * restart); pvc_name once the claim is known to exist. */
static json_t *kube_get_state(void *server)
{
    struct kube_server *s = server;
    if (!s->pod_name)
        return s->pvc_name && s->pvc_exists
                   ? json_pack("{s:s,s:s}", "kubespawner_version", KUBESPAWNER_VERSION, "pvc_name",
                               s->pvc_name)
                   : NULL;
    json_t *st = json_pack("{s:s,s:s,s:s}", "kubespawner_version", KUBESPAWNER_VERSION, "pod_name",
                           s->pod_name, "namespace", s->namespace ? s->namespace : "");
    if (st && s->dns_name)
        json_object_set_new(st, "dns_name", json_string(s->dns_name));
    if (st && s->pvc_name && s->pvc_exists)
        json_object_set_new(st, "pvc_name", json_string(s->pvc_name));
    return st;
}

static int take(char **field, const json_t *v, bool (*valid)(const char *))
{
    const char *s = json_string_value(v);
    if (!s || !s[0] || !valid(s))
        return 0;
    char *c = strdup(s);
    if (!c)
        return -ENOMEM;
    free(*field);
    *field = c;
    return 1;
}

static bool any_name(const char *s)
{
    return strlen(s) <= KUBE_NAME_MAX;
}

static int kube_load_state(void *server, const json_t *state)
{
    struct kube_server *s = server;
    int r = 0;
    if (r >= 0)
        r = take(&s->pod_name, json_object_get(state, "pod_name"), kube_is_dns_subdomain);
    if (r >= 0)
        r = take(&s->namespace, json_object_get(state, "namespace"), kube_is_dns_label);
    if (r >= 0)
        r = take(&s->dns_name, json_object_get(state, "dns_name"), any_name);
    if (r >= 0 && s->st->conf->remember_pvc_name) {
        r = take(&s->pvc_name, json_object_get(state, "pvc_name"), kube_is_dns_subdomain);
        if (r > 0)
            s->pvc_exists = true;
    }
    if (r >= 0)
        r = take(&s->state_version, json_object_get(state, "kubespawner_version"), any_name);
    if (r >= 0 && s->pod_name && !s->namespace && !s->st->conf->enable_user_namespaces) {
        /* A state from before KubeSpawner kept the namespace: the hub's. */
        s->namespace = strdup(s->st->hub_namespace);
        if (!s->namespace)
            r = -ENOMEM;
    }
    if (r >= 0 && s->pod_name && !s->state_version)
        gm_log_info("State of %s/%s is from a KubeSpawner before 7 (pod %s): kept", s->user,
                    s->server_name, s->pod_name);
    return r < 0 ? r : 0;
}

static char *kube_options_form(void *state, const char *user, const char *const *groups)
{
    struct kube_state *st = state;
    return kube_profiles_form(st->conf->profile_list, user, groups, NULL);
}

static int kube_options_from_form(void *state, const json_t *form, json_t **user_options, char *err,
                                  size_t errlen)
{
    struct kube_state *st = state;
    return kube_profiles_from_form(st->conf->profile_list, form, user_options, err, errlen);
}

/* Health of the watches and the API, for /hub/metrics and /hub/health. A cache is current
 * when it has listed and heard something (an event or a bookmark) within STALE_MS. */
#define STALE_MS 180000

static const char *const kinds[] = {"pods", "events"};

static void watch_stats(const struct kube_state *st, struct kube_watch_stats out[2])
{
    memset(out, 0, 2 * sizeof(*out));
    kube_watch_get_stats(st->pods, &out[0]);
    if (st->events)
        kube_watch_get_stats(st->events, &out[1]);
}

static void kube_metrics(void *state, struct gm_buf *b)
{
    struct kube_state *st = state;
    struct kube_watch_stats ws[2];
    watch_stats(st, ws);
    uint64_t now = uv_now(st->host->loop);
    size_t n = st->events ? 2 : 1;
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        {"ganymede_kube_watch_synced", "gauge", "1 once the cache's first list is in"},
        {"ganymede_kube_watch_last_event_age_seconds", "gauge",
         "seconds since the watch last heard from the API server (events and bookmarks)"},
        {"ganymede_kube_watch_relists_total", "counter", "lists after the first (410 Gone)"},
        {"ganymede_kube_watch_errors_total", "counter", "watches and lists that failed"},
        {"ganymede_kube_watch_restarts_total", "counter",
         "watches resumed from the last resourceVersion"},
        {"ganymede_kube_watch_objects", "gauge", "objects in the cache"},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        gm_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[i].name, m[i].help, m[i].name,
                      m[i].type);
        for (size_t k = 0; k < n; k++) {
            double v = i == 0 ? ws[k].synced
                       : i == 1
                           ? (ws[k].last_event_ms ? (double)(now - ws[k].last_event_ms) / 1000 : -1)
                       : i == 2 ? (double)ws[k].relists
                       : i == 3 ? (double)ws[k].errors
                       : i == 4 ? (double)ws[k].restarts
                                : (double)ws[k].objects;
            gm_buf_printf(b, "%s{kind=\"%s\"} %g\n", m[i].name, kinds[k], v);
        }
    }
    gm_buf_puts(b, "# HELP ganymede_kube_api_requests_total Kubernetes API requests by verb\n"
                   "# TYPE ganymede_kube_api_requests_total counter\n");
    for (int v = 0; v < KUBE_VERB_MAX; v++)
        gm_buf_printf(b, "ganymede_kube_api_requests_total{verb=\"%s\"} %llu\n", kube_verb_names[v],
                      (unsigned long long)st->api.requests[v]);
    gm_buf_printf(b,
                  "# HELP ganymede_kube_api_failures_total Kubernetes API calls that got no "
                  "answer or a 5xx after their retries\n"
                  "# TYPE ganymede_kube_api_failures_total counter\n"
                  "ganymede_kube_api_failures_total %llu\n",
                  (unsigned long long)st->api.failures);
}

static json_t *kube_health(void *state)
{
    struct kube_state *st = state;
    struct kube_watch_stats ws[2];
    watch_stats(st, ws);
    uint64_t now = uv_now(st->host->loop);
    json_t *watches = json_object();
    bool ok = true;
    for (size_t k = 0; k < (st->events ? 2u : 1u); k++) {
        double age = ws[k].last_event_ms ? (double)(now - ws[k].last_event_ms) / 1000 : -1;
        bool current = ws[k].synced && ws[k].last_event_ms && now - ws[k].last_event_ms < STALE_MS;
        ok = ok && current;
        json_object_set_new(watches, kinds[k],
                            json_pack("{s:b,s:b,s:f,s:I,s:I,s:I,s:s}", "ok", current, "synced",
                                      ws[k].synced, "last_event_age_seconds", age, "relists",
                                      (json_int_t)ws[k].relists, "errors", (json_int_t)ws[k].errors,
                                      "objects", (json_int_t)ws[k].objects, "resource_version",
                                      ws[k].resource_version));
    }
    return json_pack("{s:s,s:b,s:s,s:o}", "name", "kubernetes", "ok", ok, "api",
                     st->api.creds.server, "watches", watches);
}

/* The first is the class's full path, as /hub/api/info reports it. */
static const char *const kube_aliases[] = {
    "kubespawner.spawner.KubeSpawner",
    "kubespawner.KubeSpawner",
    "kubespawner",
    "KubeSpawner",
    NULL,
};

const struct gm_spawner spawn_kubernetes = {
    .abi = GM_ABI_VERSION,
    .name = "kubernetes",
    .aliases = kube_aliases,
    .options = &kube_class,
    .conf_size = sizeof(struct kube_conf),
    /* KubeSpawner: the server listens on every interface of its pod, on 8888; port = 0 lets
     * the hub choose a free one (pods on the host network). */
    .default_ip = "0.0.0.0",
    .default_port = 8888,
    .default_cmd = NULL,      /* KubeSpawner.cmd, else the image's */
    .default_env_keep = NULL, /* nothing from the hub's own environment */
    .init = kube_init,
    .destroy = kube_destroy,
    .server_new = kube_server_new,
    .server_free = kube_server_free,
    .start = kube_start,
    .stop = kube_stop,
    .poll = kube_poll,
    .get_state = kube_get_state,
    .load_state = kube_load_state,
    .options_form = kube_options_form,
    .options_from_form = kube_options_from_form,
    .delete_forever = kube_delete_forever,
    .metrics = kube_metrics,
    .health = kube_health,
};
