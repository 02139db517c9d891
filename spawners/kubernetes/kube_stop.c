/* Stopping and polling a Kubernetes server.
 *
 * Stop: DELETE the pod with gracePeriodSeconds = delete_grace_period (0 with `now`), as
 * KubeSpawner does, then wait for the pods cache to say DELETED (bounded by the grace period
 * plus k8s_api_request_retry_timeout). A pod already gone counts as stopped. A stop during a
 * start completes the start with -ECANCELED first; a pod whose create is still in flight is
 * deleted once the create answers (the call is not abandoned, so no pod is left behind). The
 * PVC stays; a first start that failed deletes the claim it made.
 *
 * Poll reads the cache only: no pod → exited (1, as KubeSpawner); Pending → running; the
 * notebook container terminated → its exit code (and the pod deleted if
 * delete_stopped_pods); else running. Until the cache's first list is in (at most
 * POLL_SYNC_MS), or while the API server cannot be reached, servers are reported running: an
 * API outage must not make the hub drop servers that are fine. */
#include "kube.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a stop is (struct kube_server.step during KUBE_OP_STOP). */
enum stop_step {
    STOP_DELETING, /* the DELETE is in flight */
    STOP_WAITING,  /* accepted: waiting for the cache's DELETED */
    STOP_CLAIM,    /* the pod is gone; a claim a failed first start made goes too */
};

#define POLL_SYNC_MS     15000
#define POLL_SYNC_STEPMS 100

static void stop_done(struct kube_server *s, int status, const char *message)
{
    gm_spawner_stopped_cb cb = s->stop_cb;
    void *data = s->stop_data;
    s->stop_cb = NULL;
    s->op = KUBE_OP_NONE;
    uv_timer_stop(&s->timer);
    kube_unsubscribe(s);
    if (status == 0) {
        /* KubeSpawner's clear_state: the next start names its pod from the template again. */
        free(s->pod_name);
        s->pod_name = NULL;
        free(s->pod_uid);
        s->pod_uid = NULL;
    }
    if (cb)
        cb(data, status, message);
}

static void on_wait_timeout(uv_timer_t *t)
{
    struct kube_server *s = t->data;
    if (s->op != KUBE_OP_STOP)
        return;
    char msg[KUBE_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "Pod %s/%s was asked to stop but has not gone after %llu s",
             s->namespace, s->pod_name,
             (unsigned long long)(s->st->conf->delete_grace_period +
                                  s->st->conf->k8s_api_request_retry_timeout));
    stop_done(s, -ETIMEDOUT, msg);
}

void kube_stop_on_pod(struct kube_server *s, enum kube_change change, const json_t *pod)
{
    (void)pod;
    if (change == KUBE_DELETED && s->step == STOP_WAITING)
        stop_done(s, 0, NULL);
}

static void on_pvc_deleted(void *data, const struct kube_reply *r)
{
    struct kube_server *s = data;
    s->call = NULL;
    if (s->freed || s->op != KUBE_OP_STOP)
        return;
    if (r->status == 200 || r->status == 202 || r->status == 404) {
        s->pvc_exists = false;
        s->pvc_created = false;
    } else {
        gm_log_warn("Cannot delete the claim %s of '%s' made by its failed start: %s", s->pvc_name,
                    s->user, r->message);
    }
    stop_done(s, 0, NULL);
}

static void after_pod_gone(struct kube_server *s)
{
    if (!s->pvc_created || !s->pvc_name) {
        stop_done(s, 0, NULL);
        return;
    }
    /* The claim this server's first start made, which never held anything. */
    char path[KUBE_PATH_MAX];
    kube_object_path(path, sizeof(path), "persistentvolumeclaims", s->namespace, s->pvc_name);
    if (kube_api_call(&s->st->api, KUBE_DELETE, "DELETE", path, NULL, on_pvc_deleted, s, &s->call) <
        0)
        stop_done(s, 0, NULL);
}

static void on_deleted(void *data, const struct kube_reply *r)
{
    struct kube_server *s = data;
    s->call = NULL;
    if (s->freed || s->op != KUBE_OP_STOP)
        return;
    if (r->status == 404 ||
        ((r->status == 200 || r->status == 202) && !kube_watch_get(s->st->pods, s->pod_sub.key))) {
        s->step = STOP_CLAIM;
        after_pod_gone(s);
        return;
    }
    if (r->status != 200 && r->status != 202) {
        char msg[KUBE_MESSAGE_MAX];
        kube_api_explain(&s->st->api, r, "deleting the pod", msg, sizeof(msg));
        stop_done(s, r->error ? r->error : -EIO, msg);
        return;
    }
    s->step = STOP_WAITING;
    uint64_t wait_ms = (uint64_t)(s->now ? 0 : s->st->conf->delete_grace_period) * 1000 +
                       (uint64_t)s->st->conf->k8s_api_request_retry_timeout * 1000;
    uv_timer_start(&s->timer, on_wait_timeout, wait_ms, 0);
}

static void stop_begin(void *data)
{
    struct kube_server *s = data;
    if (s->op != KUBE_OP_STOP || s->create_awaited)
        return; /* (kube_stop_after_create goes on once the create answered) */
    if (!s->pod_name || !s->namespace) {
        stop_done(s, 0, NULL);
        return;
    }
    kube_subscribe(s);
    s->step = STOP_DELETING;
    char path[KUBE_PATH_MAX];
    kube_object_path(path, sizeof(path), "pods", s->namespace, s->pod_name);
    json_t *body = json_pack("{s:s,s:s,s:I}", "kind", "DeleteOptions", "apiVersion", "v1",
                             "gracePeriodSeconds",
                             (json_int_t)(s->now ? 0 : s->st->conf->delete_grace_period));
    gm_log_info("Deleting pod %s/%s of '%s'", s->namespace, s->pod_name, s->user);
    int r = kube_api_call(&s->st->api, KUBE_DELETE, "DELETE", path, body, on_deleted, s, &s->call);
    json_decref(body);
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot delete pod %s: %s", s->pod_name, strerror(-r));
        stop_done(s, r, msg);
    }
}

void kube_stop_after_create(struct kube_server *s)
{
    if (s->op == KUBE_OP_STOP)
        stop_begin(s);
}

int kube_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data)
{
    struct kube_server *s = server;
    if (s->op == KUBE_OP_STOP)
        return -EBUSY;
    if (s->op == KUBE_OP_START) {
        /* A create in flight is not abandoned: the pod it makes is deleted by the stop. */
        gm_spawner_started_cb start_cb = s->start_cb;
        void *start_data = s->start_data;
        s->start_cb = NULL;
        kube_start_await_create(s);
        kube_start_done(s, -ECANCELED, NULL);
        if (start_cb)
            start_cb(start_data, -ECANCELED, NULL, "The start was cancelled");
    }
    s->op = KUBE_OP_STOP;
    s->now = now;
    s->stop_cb = cb;
    s->stop_data = data;
    int r = kube_server_defer(s, stop_begin);
    if (r < 0) {
        s->op = KUBE_OP_NONE;
        s->stop_cb = NULL;
        return r;
    }
    return 0;
}

/* Poll. */

struct poll_ctx {
    struct kube_server *s;
    gm_spawner_polled_cb cb;
    void *data;
    uv_timer_t timer;
    uint64_t deadline_ms;
};

static void on_poll_timer_closed(uv_handle_t *h)
{
    struct poll_ctx *p = h->data;
    kube_server_release(p->s);
    free(p);
}

static void on_delete_stopped(void *data, const struct kube_reply *r)
{
    char *key = data;
    if (r->status != 200 && r->status != 202 && r->status != 404)
        gm_log_warn("Cannot delete the stopped pod %s: %s", key, r->message);
    free(key);
}

static int poll_status(struct kube_server *s)
{
    if (!s->pod_name || !s->namespace)
        return 0;
    char key[sizeof(s->pod_sub.key)];
    snprintf(key, sizeof(key), "%s/%s", s->namespace, s->pod_name);
    const json_t *pod = kube_watch_get(s->st->pods, key);
    if (!pod)
        return 1;
    const json_t *status = json_object_get(pod, "status");
    const char *phase = json_string_value(json_object_get(status, "phase"));
    if (phase && strcmp(phase, "Pending") == 0)
        return GM_SPAWNER_RUNNING;
    const json_t *css = json_object_get(status, "containerStatuses");
    if (!css)
        return 1;
    size_t i;
    json_t *cs;
    json_array_foreach(css, i, cs)
    {
        const char *name = json_string_value(json_object_get(cs, "name"));
        if (!name || strcmp(name, "notebook") != 0)
            continue;
        const json_t *state = json_object_get(cs, "state");
        const json_t *term = json_object_get(state, "terminated");
        /* Beyond KubeSpawner: a server in a crash loop is not running (its restarts back off
         * for minutes), nor is one whose image cannot be pulled. */
        const char *waiting =
            json_string_value(json_object_get(json_object_get(state, "waiting"), "reason"));
        bool stuck =
            !term && waiting &&
            (strcmp(waiting, "CrashLoopBackOff") == 0 || strcmp(waiting, "ErrImagePull") == 0 ||
             strcmp(waiting, "ImagePullBackOff") == 0 || strcmp(waiting, "InvalidImageName") == 0);
        if (stuck)
            term = json_object_get(json_object_get(cs, "lastState"), "terminated");
        if (!term && !stuck)
            break;
        int code = term ? (int)json_integer_value(json_object_get(term, "exitCode")) : 1;
        if (stuck && code == 0)
            code = 1;
        if (s->st->conf->delete_stopped_pods) {
            char path[KUBE_PATH_MAX];
            char *k = strdup(key);
            kube_object_path(path, sizeof(path), "pods", s->namespace, s->pod_name);
            if (!k || kube_api_call(&s->st->api, KUBE_DELETE, "DELETE", path, NULL,
                                    on_delete_stopped, k, NULL) < 0)
                free(k);
        }
        return code;
    }
    return GM_SPAWNER_RUNNING;
}

static void on_poll_timer(uv_timer_t *t)
{
    struct poll_ctx *p = t->data;
    struct kube_watch_stats ws;
    kube_watch_get_stats(p->s->st->pods, &ws);
    uint64_t now = uv_now(p->s->st->host->loop);
    if (!ws.synced && now < p->deadline_ms && !p->s->freed) {
        uv_timer_start(&p->timer, on_poll_timer, POLL_SYNC_STEPMS, 0);
        return;
    }
    int status = p->s->freed ? GM_SPAWNER_RUNNING
                 : ws.synced ? poll_status(p->s)
                             : GM_SPAWNER_RUNNING;
    if (!ws.synced)
        gm_log_warn("The Kubernetes pods cache has not listed yet: %s/%s of '%s' counts as "
                    "running",
                    p->s->namespace ? p->s->namespace : "?", p->s->pod_name ? p->s->pod_name : "?",
                    p->s->user);
    if (!p->s->freed)
        p->cb(p->data, status);
    uv_close((uv_handle_t *)&p->timer, on_poll_timer_closed);
}

int kube_poll(void *server, gm_spawner_polled_cb cb, void *data)
{
    struct kube_server *s = server;
    struct poll_ctx *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->s = s;
    p->cb = cb;
    p->data = data;
    p->deadline_ms = uv_now(s->st->host->loop) + POLL_SYNC_MS;
    uv_timer_init(s->st->host->loop, &p->timer);
    p->timer.data = p;
    kube_server_hold(s);
    uv_timer_start(&p->timer, on_poll_timer, 0, 0);
    return 0;
}

/* delete_forever: KubeSpawner deletes the server's PVC (delete_pvc) when its user or named
 * server is deleted. The claim's name is the saved one, else the template's. */
struct forget_ctx {
    char *what;
};

static void on_forgotten(void *data, const struct kube_reply *r)
{
    struct forget_ctx *f = data;
    if (r->status == 200 || r->status == 202)
        gm_log_info("Deleted %s", f->what);
    else if (r->status != 404)
        gm_log_warn("Cannot delete %s: %s (HTTP %d)", f->what, r->message, r->status);
    free(f->what);
    free(f);
}

void kube_delete_forever(void *server)
{
    struct kube_server *s = server;
    const struct kube_conf *c = s->st->conf;
    if (!c->delete_pvc || !(c->storage_pvc_ensure || s->pvc_exists))
        return;
    char *pvc = s->pvc_name ? strdup(s->pvc_name) : NULL;
    if (!pvc && kube_expand(&s->names, c->pvc_name_template, &pvc, NULL, 0) < 0)
        return;
    const char *ns = s->namespace ? s->namespace : s->st->hub_namespace;
    char path[KUBE_PATH_MAX];
    struct forget_ctx *f = calloc(1, sizeof(*f));
    size_t len = strlen(pvc) + strlen(ns) + 64;
    if (f)
        f->what = malloc(len);
    if (!f || !f->what ||
        kube_object_path(path, sizeof(path), "persistentvolumeclaims", ns, pvc) < 0) {
        if (f)
            free(f->what);
        free(f);
        free(pvc);
        return;
    }
    snprintf(f->what, len, "the claim %s/%s of '%s'", ns, pvc, s->user);
    free(pvc);
    if (kube_api_call(&s->st->api, KUBE_DELETE, "DELETE", path, NULL, on_forgotten, f, NULL) < 0) {
        free(f->what);
        free(f);
    }
}
