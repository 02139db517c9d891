/* The start of a Kubernetes server, one API write at a time, each step started from the
 * previous one's callback; everything read comes from the shared caches (kube_watch.c):
 *
 *   [user namespaces: namespace, ResourceQuota, LimitRange (409 AlreadyExists is fine)]
 *   [storage_pvc_ensure: PVC (409 is fine: it survives stops)]
 *   wait for the pods cache's first list ──► a pod of the same name left over? delete it and
 *   wait for its DELETED ──► create the pod ──► follow it in the cache and its events:
 *     Running, with an IP, every container ready ──► [services_enabled: the service] ──► done
 *     ErrImagePull, ImagePullBackOff, CrashLoopBackOff, a container that exited, Failed ──►
 *     the start fails at once with the event's words (not at start_timeout)
 *
 * Progress: each of the pod's events as KubeSpawner words it ("<time> [Normal] Pulling image
 * ..."), and slow_spawn_message after slow_spawn_message_threshold. A stop while this runs
 * completes the start with -ECANCELED first (kube_stop.c). */
#include "kube.h"

#include <errno.h>
#include <ganymede/json.h>
#include <ganymede/log.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum step {
    STEP_NAMESPACE,
    STEP_QUOTA,
    STEP_LIMITS,
    STEP_PVC,
    STEP_SYNC,
    STEP_OLD_POD,
    STEP_POD,
    STEP_RUNNING,
    STEP_SERVICE,
};

#define SYNC_POLL_MS 100

static void next_step(struct kube_server *s);

static void clear_start(struct kube_server *s)
{
    json_decref(s->overrides);
    json_decref(s->pod);
    json_decref(s->seen_events);
    free(s->url);
    free(s->failure);
    s->overrides = s->pod = s->seen_events = NULL;
    s->url = s->failure = NULL;
    s->progress = NULL;
    memset(&s->eff, 0, sizeof(s->eff));
}

void kube_start_done(struct kube_server *s, int status, const char *message)
{
    gm_spawner_started_cb cb = s->start_cb;
    void *data = s->start_data;
    char *url = s->url;
    s->url = NULL;
    s->start_cb = NULL;
    s->op = KUBE_OP_NONE;
    uv_timer_stop(&s->timer);
    if (!s->create_awaited) {
        kube_api_cancel(s->call);
        s->call = NULL;
    }
    kube_unsubscribe(s);
    clear_start(s);
    if (status == 0)
        gm_log_info("Pod %s/%s of '%s' is running at %s", s->namespace, s->pod_name, s->user, url);
    else if (status == -ECANCELED)
        gm_log_info("Start of pod %s/%s for '%s' cancelled", s->namespace ? s->namespace : "?",
                    s->pod_name ? s->pod_name : "?", s->user);
    else
        gm_log_warn("Start of pod %s/%s for '%s' failed: %s", s->namespace ? s->namespace : "?",
                    s->pod_name ? s->pod_name : "?", s->user, message ? message : "");
    if (cb)
        cb(data, status, status == 0 ? url : NULL, message);
    free(url);
}

void kube_start_abort(struct kube_server *s)
{
    if (s->op != KUBE_OP_START)
        return;
    s->start_cb = NULL;
    kube_start_done(s, -ECANCELED, NULL);
}

static void fail(struct kube_server *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct kube_server *s, int status, const char *fmt, ...)
{
    char msg[KUBE_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kube_start_done(s, status, msg);
}

static void fail_reply(struct kube_server *s, const struct kube_reply *r, const char *what)
{
    char msg[KUBE_MESSAGE_MAX];
    kube_api_explain(&s->st->api, r, what, msg, sizeof(msg));
    kube_start_done(s, r->error ? r->error : r->status == 403 ? -EACCES : -EIO, msg);
}

static void emit(struct kube_server *s, int progress, const char *message)
{
    if (s->progress && s->progress->emit)
        s->progress->emit(s->progress->ctx, progress, message, NULL);
}

/* Create @body in the collection of @kind; on_created takes the answer (409 AlreadyExists is
 * fine for what outlives a start: the namespace, its quota, the claim). */
static void on_created(void *data, const struct kube_reply *r);

static void create(struct kube_server *s, const char *kind, const char *namespace, json_t *body,
                   const char *what)
{
    char path[KUBE_PATH_MAX];
    if (!body || kube_object_path(path, sizeof(path), kind, namespace, NULL) < 0) {
        json_decref(body);
        fail(s, -ENOMEM, "cannot make the %s", what);
        return;
    }
    int r = kube_api_call(&s->st->api, KUBE_CREATE, "POST", path, body, on_created, s, &s->call);
    json_decref(body);
    if (r < 0)
        fail(s, r, "cannot ask for the %s: %s", what, strerror(-r));
}

static const char *step_what(int step)
{
    switch (step) {
    case STEP_NAMESPACE:
        return "creating the user's namespace";
    case STEP_QUOTA:
        return "creating the namespace's ResourceQuota";
    case STEP_LIMITS:
        return "creating the namespace's LimitRange";
    case STEP_PVC:
        return "creating the PersistentVolumeClaim";
    case STEP_POD:
        return "creating the pod";
    case STEP_SERVICE:
        return "creating the pod's service";
    default:
        return "starting the server";
    }
}

bool kube_start_await_create(struct kube_server *s)
{
    s->create_awaited = s->op == KUBE_OP_START && s->step == STEP_POD && s->call;
    return s->create_awaited;
}

static void on_created(void *data, const struct kube_reply *r)
{
    struct kube_server *s = data;
    s->call = NULL;
    if (s->create_awaited) {
        /* A stop came while the pod was being made: now it knows whether there is one. */
        s->create_awaited = false;
        if (!s->freed)
            kube_stop_after_create(s);
        return;
    }
    if (s->freed || s->op != KUBE_OP_START)
        return;
    bool exists = r->status == 409 && strcmp(r->reason, "AlreadyExists") == 0;
    if (r->status == 201 || r->status == 200 || (exists && s->step != STEP_POD)) {
        if (s->step == STEP_PVC) {
            s->pvc_exists = true;
            s->pvc_created = r->status != 409;
        }
        if (s->step == STEP_POD) {
            const char *uid =
                json_string_value(json_object_get(json_object_get(r->json, "metadata"), "uid"));
            free(s->pod_uid);
            s->pod_uid = uid ? strdup(uid) : NULL;
            emit(s, 20, "Pod created, waiting for it to be scheduled");
        }
        s->step++;
        next_step(s);
        return;
    }
    if (s->step == STEP_POD && exists) {
        /* A pod of this name appeared between the cache's look and the create: replace it. */
        s->step = STEP_OLD_POD;
        next_step(s);
        return;
    }
    fail_reply(s, r, step_what(s->step));
}

/* The pod's state as the user should hear it, or NULL while it may still come up. */
static const char *fatal_state(const json_t *pod, char *buf, size_t buflen)
{
    const json_t *status = json_object_get(pod, "status");
    const char *phase = json_string_value(json_object_get(status, "phase"));
    const char *lists[] = {"initContainerStatuses", "containerStatuses"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *cs;
        json_array_foreach(json_object_get(status, lists[l]), i, cs)
        {
            const char *name = json_string_value(json_object_get(cs, "name"));
            const json_t *state = json_object_get(cs, "state");
            const json_t *waiting = json_object_get(state, "waiting");
            const char *reason = json_string_value(json_object_get(waiting, "reason"));
            const char *msg = json_string_value(json_object_get(waiting, "message"));
            static const char *const fatal[] = {"ErrImagePull",
                                                "ImagePullBackOff",
                                                "CrashLoopBackOff",
                                                "InvalidImageName",
                                                "CreateContainerConfigError",
                                                "ErrImageNeverPull",
                                                NULL};
            for (const char *const *f = fatal; reason && *f; f++) {
                if (strcmp(reason, *f) == 0) {
                    snprintf(buf, buflen, "container %s: %s%s%s", name ? name : "?", reason,
                             msg ? ": " : "", msg ? msg : "");
                    return buf;
                }
            }
            const json_t *term = json_object_get(state, "terminated");
            bool init = l == 0;
            if (term && !(init && json_integer_value(json_object_get(term, "exitCode")) == 0)) {
                const char *treason = json_string_value(json_object_get(term, "reason"));
                snprintf(buf, buflen, "container %s exited with code %lld%s%s", name ? name : "?",
                         (long long)json_integer_value(json_object_get(term, "exitCode")),
                         treason ? " " : "", treason ? treason : "");
                return buf;
            }
        }
    }
    if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0)) {
        const char *msg = json_string_value(json_object_get(status, "message"));
        snprintf(buf, buflen, "the pod is %s%s%s", phase, msg ? ": " : "", msg ? msg : "");
        return buf;
    }
    return NULL;
}

/* KubeSpawner's is_pod_running. */
static bool pod_running(const json_t *pod)
{
    const json_t *status = json_object_get(pod, "status");
    const char *phase = json_string_value(json_object_get(status, "phase"));
    if (!phase || strcmp(phase, "Running") != 0 ||
        !json_string_value(json_object_get(status, "podIP")))
        return false;
    if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
        return false;
    const json_t *css = json_object_get(status, "containerStatuses");
    if (!json_array_size(css))
        return false;
    size_t i;
    json_t *cs;
    json_array_foreach(css, i, cs)
    {
        if (!json_is_true(json_object_get(cs, "ready")))
            return false;
    }
    return true;
}

static int pod_url(struct kube_server *s, const json_t *pod)
{
    const char *host = json_string_value(json_object_get(json_object_get(pod, "status"), "podIP"));
    char *connect = NULL;
    const struct kube_conf *c = &s->eff;
    if (c->pod_connect_ip[0]) {
        if (kube_expand(&s->names, c->pod_connect_ip, &connect, NULL, 0) < 0)
            return -EINVAL;
        host = connect;
    } else if (c->services_enabled && s->dns_name) {
        host = s->dns_name;
    }
    char url[KUBE_NAME_MAX + 64];
    bool v6 = strchr(host, ':') != NULL;
    snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", s->port);
    free(connect);
    free(s->url);
    s->url = strdup(url);
    return s->url ? 0 : -ENOMEM;
}

void kube_start_on_pod(struct kube_server *s, enum kube_change change, const json_t *pod)
{
    if (s->step == STEP_OLD_POD) {
        /* The old pod went; once its DELETE has answered, make the new one. */
        if (change == KUBE_DELETED && !s->call) {
            s->step = STEP_POD;
            next_step(s);
        }
        return;
    }
    if (s->step != STEP_RUNNING)
        return;
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    if (s->pod_uid && uid && strcmp(uid, s->pod_uid) != 0)
        return; /* the old pod's last words */
    if (change == KUBE_DELETED) {
        fail(s, -EIO, "Pod %s was deleted while it started", s->pod_name);
        return;
    }
    char why[600];
    if (fatal_state(pod, why, sizeof(why))) {
        fail(s, -EIO, "Pod %s cannot start: %s", s->pod_name, why);
        return;
    }
    if (!pod_running(pod))
        return;
    if (pod_url(s, pod) < 0) {
        fail(s, -EINVAL, "KubeSpawner.pod_connect_ip (%s) does not format", s->eff.pod_connect_ip);
        return;
    }
    s->step = s->eff.services_enabled ? STEP_SERVICE : STEP_SERVICE + 1;
    if (s->step == STEP_SERVICE) {
        next_step(s);
        return;
    }
    kube_start_done(s, 0, NULL);
}

void kube_start_on_event(struct kube_server *s, const json_t *event)
{
    if (s->step < STEP_POD)
        return;
    const char *uid =
        json_string_value(json_object_get(json_object_get(event, "involvedObject"), "uid"));
    if (s->pod_uid && uid && strcmp(uid, s->pod_uid) != 0)
        return;
    const char *name =
        json_string_value(json_object_get(json_object_get(event, "metadata"), "name"));
    json_int_t count = json_integer_value(json_object_get(event, "count"));
    if (name && s->seen_events) {
        json_t *seen = json_object_get(s->seen_events, name);
        if (seen && json_integer_value(seen) >= count)
            return;
        json_object_set_new(s->seen_events, name, json_integer(count));
    }
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *message = json_string_value(json_object_get(event, "message"));
    const char *reason = json_string_value(json_object_get(event, "reason"));
    const char *when = json_string_value(json_object_get(event, "lastTimestamp"));
    if (!when)
        when = json_string_value(json_object_get(event, "eventTime"));
    char line[KUBE_MESSAGE_MAX];
    snprintf(line, sizeof(line), "%s [%s] %s", when ? when : "", type ? type : "Normal",
             message ? message : (reason ? reason : ""));
    emit(s, -1, line);
    /* The pod does not say why it cannot be scheduled: its events do. */
    if (reason && strcmp(reason, "FailedScheduling") == 0)
        gm_log_info("Pod %s of '%s': %s", s->pod_name, s->user, message ? message : "");
}

static void on_slow(uv_timer_t *t)
{
    struct kube_server *s = t->data;
    if (s->op != KUBE_OP_START)
        return;
    uint64_t secs = (uv_now(s->st->host->loop) - s->started_ms) / 1000;
    json_t *f = json_pack("{s:I}", "seconds", (json_int_t)secs);
    char *msg = NULL;
    if (f && gm_format(s->eff.slow_spawn_message, f, NULL, &msg, NULL) >= 0)
        emit(s, -1, msg);
    free(msg);
    json_decref(f);
    uv_timer_start(&s->timer, on_slow, (uint64_t)s->eff.slow_spawn_message_frequency * 1000, 0);
}

static void on_sync_poll(uv_timer_t *t)
{
    struct kube_server *s = t->data;
    if (s->op == KUBE_OP_START && s->step == STEP_SYNC)
        next_step(s);
}

static void on_old_deleted(void *data, const struct kube_reply *r)
{
    struct kube_server *s = data;
    s->call = NULL;
    if (s->freed || s->op != KUBE_OP_START)
        return;
    if (r->status == 404 || !kube_watch_get(s->st->pods, s->pod_sub.key)) {
        s->step = STEP_POD;
        next_step(s);
    } else if (r->status != 200 && r->status != 202) {
        fail_reply(s, r, "deleting the old pod of the same name");
    }
    /* else: wait for its DELETED (kube_start_on_pod) */
}

static void next_step(struct kube_server *s)
{
    const struct kube_conf *c = &s->eff;
    char path[KUBE_PATH_MAX];
    switch (s->step) {
    case STEP_NAMESPACE:
        if (!c->enable_user_namespaces) {
            s->step = STEP_PVC;
            next_step(s);
            return;
        }
        emit(s, 2, "Creating the namespace");
        create(s, "namespaces", NULL, kube_namespace_manifest(c, &s->names, s->namespace),
               "namespace");
        return;
    case STEP_QUOTA:
        if (!c->user_namespace_resource_quota) {
            s->step++;
            next_step(s);
            return;
        }
        create(s, "resourcequotas", s->namespace,
               json_pack("{s:s,s:s,s:{s:s},s:O}", "apiVersion", "v1", "kind", "ResourceQuota",
                         "metadata", "name", "user-quota", "spec",
                         c->user_namespace_resource_quota),
               "ResourceQuota");
        return;
    case STEP_LIMITS:
        if (!c->user_namespace_limit_range) {
            s->step++;
            next_step(s);
            return;
        }
        create(s, "limitranges", s->namespace,
               json_pack("{s:s,s:s,s:{s:s},s:O}", "apiVersion", "v1", "kind", "LimitRange",
                         "metadata", "name", "user-limits", "spec", c->user_namespace_limit_range),
               "LimitRange");
        return;
    case STEP_PVC: {
        if (!c->storage_pvc_ensure) {
            s->step++;
            next_step(s);
            return;
        }
        emit(s, 5, "Creating the PersistentVolumeClaim");
        char why[KUBE_MESSAGE_MAX];
        json_t *pvc =
            kube_pvc_manifest(c, &s->names, s->user, s->server_name, s->pvc_name, why, sizeof(why));
        if (!pvc) {
            fail(s, -EINVAL, "%s", why);
            return;
        }
        create(s, "persistentvolumeclaims", s->namespace, pvc, "PersistentVolumeClaim");
        return;
    }
    case STEP_SYNC: {
        struct kube_watch_stats ws;
        kube_watch_get_stats(s->st->pods, &ws);
        /* The pods cache has never listed (the API server down since the hub started): wait
         * as long as one call may take with its retries, then say why. */
        uint64_t waited = uv_now(s->st->host->loop) - s->started_ms;
        if (!ws.synced && waited >= (uint64_t)s->st->api.retry_timeout_ms) {
            fail(s, -EIO,
                 "The hub cannot list pods from the Kubernetes API server at %s: %s "
                 "(KubeSpawner.k8s_api_host, the service account or kubeconfig)",
                 s->st->api.creds.server, ws.last_error[0] ? ws.last_error : "no answer yet");
            return;
        }
        if (!ws.synced) {
            uv_timer_start(&s->timer, on_sync_poll, SYNC_POLL_MS, 0);
            return;
        }
        kube_subscribe(s);
        s->step++;
        uv_timer_stop(&s->timer);
        if (c->slow_spawn_message_threshold > 0)
            uv_timer_start(&s->timer, on_slow, (uint64_t)c->slow_spawn_message_threshold * 1000, 0);
    }
        /* fall through */
    case STEP_OLD_POD: {
        s->step = STEP_OLD_POD;
        const json_t *old = kube_watch_get(s->st->pods, s->pod_sub.key);
        if (!old) {
            s->step = STEP_POD;
            next_step(s);
            return;
        }
        gm_log_info("Deleting the old pod %s before starting '%s'", s->pod_sub.key, s->user);
        emit(s, 10, "Deleting the previous pod of this server");
        kube_object_path(path, sizeof(path), "pods", s->namespace, s->pod_name);
        json_t *body = json_pack("{s:s,s:s,s:i}", "kind", "DeleteOptions", "apiVersion", "v1",
                                 "gracePeriodSeconds", 0);
        int r = kube_api_call(&s->st->api, KUBE_DELETE, "DELETE", path, body, on_old_deleted, s,
                              &s->call);
        json_decref(body);
        if (r < 0)
            fail(s, r, "cannot delete the old pod: %s", strerror(-r));
        return;
    }
    case STEP_POD:
        emit(s, 15, "Creating the pod");
        json_decref(s->seen_events);
        s->seen_events = json_object();
        create(s, "pods", s->namespace, json_incref(s->pod), "pod");
        return;
    case STEP_RUNNING: {
        const json_t *pod = kube_watch_get(s->st->pods, s->pod_sub.key);
        if (pod)
            kube_start_on_pod(s, KUBE_MODIFIED, pod);
        return;
    }
    case STEP_SERVICE: {
        emit(s, 95, "Creating the service");
        json_t *svc = kube_service_manifest(c, &s->names, s->user, s->server_name, s->pod_name,
                                            s->pod_uid ? s->pod_uid : "", s->port);
        create(s, "services", s->namespace, svc, "service");
        return;
    }
    default:
        kube_start_done(s, 0, NULL);
        return;
    }
}

static void begin(void *data)
{
    struct kube_server *s = data;
    if (s->op != KUBE_OP_START)
        return;
    if (s->failure) {
        char msg[KUBE_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s", s->failure);
        kube_start_done(s, -EINVAL, msg);
        return;
    }
    s->started_ms = uv_now(s->st->host->loop);
    next_step(s);
}

/* An id from the user's auth_state at @key (KubeSpawner.auth_state_uid_key / _gid_key). */
static json_t *id_from_auth_state(const json_t *auth_state, const char *key, const char *setting,
                                  char *err, size_t errlen)
{
    char name[64];
    snprintf(name, sizeof(name), "KubeSpawner.%s", setting);
    int64_t id;
    if (gm_spawner_id_from_auth_state(auth_state, key, name, &id, err, errlen) < 0)
        return NULL;
    return json_integer(id);
}

/* The full command: KubeSpawner.cmd + Spawner.args, or NULL (the image's, args ignored). */
static json_t *command_of(struct kube_server *s, const char *const *args)
{
    const json_t *cmd = s->eff.cmd;
    json_t *out = json_is_string(cmd)  ? json_pack("[O]", cmd)
                  : json_is_array(cmd) ? json_deep_copy(cmd)
                                       : NULL;
    if (!out) {
        if (args && args[0])
            gm_log_warn("Ignoring the arguments of '%s' (the image's command is used): set "
                        "KubeSpawner.cmd to pass arguments",
                        s->user);
        return NULL;
    }
    for (const char *const *a = args; a && *a; a++)
        json_array_append_new(out, json_string(*a));
    return out;
}

/* Names and the manifest, from the settings and the spec. Returns 0, or -EINVAL with a
 * message for the user in @err. */
static int prepare(struct kube_server *s, const struct gm_server_spec *spec, char *err,
                   size_t errlen)
{
    const struct kube_conf *base = s->st->conf;
    s->eff = *base;
    if (json_array_size(base->profile_list) || json_object_size(base->profile_list)) {
        int r = kube_profiles_apply(base->profile_list, spec->groups, spec->user_options,
                                    &s->overrides, err, errlen);
        if (r < 0)
            return r;
        if (s->overrides &&
            (r = kube_conf_override(base, s->overrides, &s->eff, &s->spo, err, errlen)) < 0)
            return r;
    }
    const struct kube_conf *c = &s->eff;
    kube_names_release(&s->names);
    if (kube_names_init(&s->names, c, s->st->hub_namespace, s->user, s->server_name,
                        spec->user_id) < 0)
        return -ENOMEM;
    char why[300];
    struct {
        char **field;
        const char *tmpl, *setting, *name;
        bool use;
    } names[] = {
        {&s->namespace, c->user_namespace_template, "user_namespace_template", "namespace",
         c->enable_user_namespaces},
        {&s->pod_name, c->pod_name_template, "pod_name_template", "pod_name", true},
        {&s->pvc_name, c->pvc_name_template, "pvc_name_template", "pvc_name", true},
    };
    if (!c->enable_user_namespaces) {
        free(s->namespace);
        s->namespace = strdup(s->st->hub_namespace);
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].use && !*names[i].field &&
            kube_expand(&s->names, names[i].tmpl, names[i].field, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "KubeSpawner.%s (%s) does not format for '%s': %s",
                     names[i].setting, names[i].tmpl, s->user, why);
            return -EINVAL;
        }
        if (*names[i].field)
            kube_names_set(&s->names, names[i].name, *names[i].field);
    }
    if (!s->namespace || !kube_is_dns_label(s->namespace) || !kube_is_dns_subdomain(s->pod_name) ||
        (c->storage_pvc_ensure && !kube_is_dns_subdomain(s->pvc_name))) {
        snprintf(err, errlen,
                 "The names made for '%s' are not valid Kubernetes names: namespace \"%s\", pod "
                 "\"%s\", claim \"%s\" (KubeSpawner.pod_name_template, pvc_name_template, "
                 "user_namespace_template)",
                 s->user, s->namespace ? s->namespace : "", s->pod_name ? s->pod_name : "",
                 s->pvc_name ? s->pvc_name : "");
        return -EINVAL;
    }
    json_t *dnsf = json_pack("{s:s,s:s}", "name", s->pod_name, "namespace", s->namespace);
    free(s->dns_name);
    s->dns_name = NULL;
    if (!dnsf || gm_format(c->dns_name_template, dnsf, NULL, &s->dns_name, NULL) < 0) {
        json_decref(dnsf);
        snprintf(err, errlen, "KubeSpawner.dns_name_template (%s) does not format",
                 c->dns_name_template);
        return -EINVAL;
    }
    json_decref(dnsf);

    json_t *uid = json_incref(c->uid), *gid = json_incref(c->gid);
    if (c->auth_state_uid_key[0]) {
        json_decref(uid);
        uid = id_from_auth_state(spec->auth_state, c->auth_state_uid_key, "auth_state_uid_key", err,
                                 errlen);
        if (!uid) {
            json_decref(gid);
            return -EINVAL;
        }
    }
    if (c->auth_state_gid_key[0]) {
        json_decref(gid);
        gid = id_from_auth_state(spec->auth_state, c->auth_state_gid_key, "auth_state_gid_key", err,
                                 errlen);
        if (!gid) {
            json_decref(uid);
            return -EINVAL;
        }
    }

    /* The environment: the hub's, the profile's, and the image (KubeSpawner's get_env). */
    size_t n = 0;
    for (const char *const *e = spec->env; e && *e; e++)
        n++;
    size_t extra = 2 + json_object_size(s->spo.environment);
    const char **env = calloc(n + extra + 1, sizeof(*env));
    char **owned = calloc(extra + 1, sizeof(*owned));
    size_t k = 0, o = 0;
    int r = env && owned ? 0 : -ENOMEM;
    for (size_t i = 0; r == 0 && i < n; i++)
        env[k++] = spec->env[i];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)s->spo.environment, key, v)
    {
        char *ex = NULL;
        if (r == 0 && kube_expand(&s->names, json_string_value(v), &ex, NULL, 0) == 0) {
            size_t len = strlen(key) + strlen(ex) + 2;
            owned[o] = malloc(len);
            if (owned[o]) {
                snprintf(owned[o], len, "%s=%s", key, ex);
                env[k++] = owned[o++];
            }
        }
        free(ex);
    }
    const char *image_vars[] = {"JUPYTER_IMAGE_SPEC", "JUPYTER_IMAGE"};
    for (size_t i = 0; r == 0 && i < 2; i++) {
        size_t len = strlen(image_vars[i]) + strlen(c->image) + 2;
        owned[o] = malloc(len);
        if (!owned[o]) {
            r = -ENOMEM;
            break;
        }
        snprintf(owned[o], len, "%s=%s", image_vars[i], c->image);
        env[k++] = owned[o++];
    }

    s->port = spec->port;
    json_t *cmd = command_of(s, spec->argv);
    struct kube_pod_input in = {
        .conf = c,
        .names = &s->names,
        .pod_name = s->pod_name,
        .namespace = s->namespace,
        .user = s->user,
        .server_name = s->server_name,
        .cmd = cmd,
        .env = env,
        .port = s->port,
        .mem_limit = s->spo.mem_limit ? s->spo.mem_limit : spec->mem_limit,
        .mem_guarantee = s->spo.mem_guarantee ? s->spo.mem_guarantee : spec->mem_guarantee,
        .cpu_limit = s->spo.cpu_limit ? s->spo.cpu_limit : spec->cpu_limit,
        .cpu_guarantee = s->spo.cpu_guarantee ? s->spo.cpu_guarantee : spec->cpu_guarantee,
        .uid = uid,
        .gid = gid,
    };
    if (r == 0) {
        s->pod = kube_pod_manifest(&in, err, errlen);
        r = s->pod ? 0 : -EINVAL;
    }
    json_decref(cmd);
    json_decref(uid);
    json_decref(gid);
    for (size_t i = 0; owned && owned[i]; i++)
        free(owned[i]);
    free(owned);
    free(env);
    return r;
}

int kube_start(void *server, const struct gm_server_spec *spec,
               const struct gm_spawn_progress *progress, gm_spawner_started_cb cb, void *data)
{
    struct kube_server *s = server;
    if (s->op != KUBE_OP_NONE)
        return -EBUSY;
    clear_start(s);
    s->pvc_created = false;
    free(s->pod_uid);
    s->pod_uid = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    int r = prepare(s, spec, err, sizeof(err));
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        s->failure = strdup(err);
        if (!s->failure)
            return -ENOMEM;
    }
    s->op = KUBE_OP_START;
    s->step = STEP_NAMESPACE;
    s->progress = progress;
    s->start_cb = cb;
    s->start_data = data;
    r = kube_server_defer(s, begin);
    if (r < 0) {
        s->op = KUBE_OP_NONE;
        s->start_cb = NULL;
        clear_start(s);
        return r;
    }
    return 0;
}
