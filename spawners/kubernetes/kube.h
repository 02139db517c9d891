/* The Kubernetes spawner's parts and how they talk to each other. Nothing outside
 * spawners/kubernetes/ includes this file except the module's unit tests.
 *
 *   kube.c          init, the struct gm_spawner, servers, state (KubeSpawner 7's shape)
 *   kube_options.c  KubeSpawner 7.1's settings: names, types, defaults, checks
 *   kube_creds.c    where the API server is and how to authenticate: in-cluster service
 *                   account, KUBECONFIG / ~/.kube/config, or k8s_api_host
 *   kube_api.c      API calls on gm_fetch: timeouts, retries where safe, Status messages
 *   kube_watch.c    one list-and-watch cache per kind, shared by every server
 *   kube_names.c    KubeSpawner's template fields ({username}, {user_server}, ...) and names
 *   kube_pod.c      the pod, PVC, service and namespace manifests KubeSpawner makes
 *   kube_start.c    the start: namespace, PVC, pod, events as progress, the pod running
 *   kube_stop.c     stop (delete, wait for DELETED) and poll (from the cache) */
#pragma once

#include <ganymede/buf.h>
#include <ganymede/fetch.h>
#include <ganymede/host.h>
#include <ganymede/spawner.h>
#include <ganymede/template.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#define KUBE_NAME_MAX    253 /* object names (DNS-1123 subdomain) */
#define KUBE_LABEL_MAX   63  /* label values, namespace names */
#define KUBE_PATH_MAX    1024
#define KUBE_MESSAGE_MAX 900 /* a failure message for the user (the hub keeps 1 KiB) */

/* KubeSpawner.* settings, parsed by the hub from the option table in kube_options.c. */
struct kube_conf {
    /* API access */
    char *k8s_api_host;
    char *k8s_api_ssl_ca_cert;
    json_t *k8s_api_verify_ssl; /* None: verify */
    int64_t k8s_api_request_timeout;
    int64_t k8s_api_request_retry_timeout;
    int64_t k8s_api_threadpool_workers; /* accepted, meaningless here */
    /* where and what */
    char *namespace;
    bool enable_user_namespaces;
    char *user_namespace_template;
    json_t *user_namespace_labels;
    json_t *user_namespace_annotations;
    json_t *user_namespace_resource_quota; /* Ganymede: a ResourceQuota spec per user namespace */
    json_t *user_namespace_limit_range;    /* Ganymede: a LimitRange spec per user namespace */
    char *slug_scheme;
    char *pod_name_template;
    char *dns_name_template;
    char *pod_connect_ip;
    char *component_label;
    json_t *common_labels;
    json_t *extra_labels;
    json_t *extra_annotations;
    bool services_enabled;
    bool events_enabled;
    /* the container */
    char *image;
    char *image_pull_policy;    /* "": the API server's default */
    json_t *image_pull_secrets; /* None, a name, or a list of names / {name} */
    json_t *cmd;                /* None: the image's command */
    char *working_dir;
    json_t *uid, *gid, *fs_gid; /* None or an integer */
    json_t *supplemental_gids;
    bool privileged;
    json_t *allow_privilege_escalation; /* False by default; None leaves it out */
    json_t *container_security_context;
    json_t *pod_security_context;
    json_t *extra_resource_guarantees;
    json_t *extra_resource_limits;
    json_t *lifecycle_hooks;
    json_t *extra_container_config;
    json_t *extra_pod_config;
    json_t *init_containers;
    json_t *extra_containers;
    json_t *volumes;
    json_t *volume_mounts;
    json_t *node_selector;
    json_t *tolerations;
    json_t *node_affinity_preferred, *node_affinity_required;
    json_t *pod_affinity_preferred, *pod_affinity_required;
    json_t *pod_anti_affinity_preferred, *pod_anti_affinity_required;
    char *service_account;
    json_t *automount_service_account_token; /* None: the API server's default */
    char *scheduler_name;
    char *priority_class_name;
    /* storage */
    bool storage_pvc_ensure;
    char *pvc_name_template;
    char *storage_capacity;
    char *storage_class;
    char **storage_access_modes;
    json_t *storage_selector;
    json_t *storage_extra_labels;
    json_t *storage_extra_annotations;
    bool delete_pvc;
    bool remember_pvc_name;
    /* lifecycle */
    int64_t delete_grace_period;
    bool delete_stopped_pods;
    int64_t slow_spawn_message_threshold;
    int64_t slow_spawn_message_frequency;
    char *slow_spawn_message;
    /* uid and gid from the identity provider (Ganymede) */
    char *auth_state_uid_key;
    char *auth_state_gid_key;
    /* profiles */
    json_t *profile_list;
    char *profile_form_template;
    char **additional_profile_form_template_paths;
    /* accepted so that existing configurations start */
    bool handle_legacy_names;
    char *secret_name_template;
    char *secret_mount_path;
    char *hub_connect_ip;
    int64_t hub_connect_port;
    /* deprecated names (KubeSpawner < 0.12) */
    char *singleuser_image_spec;
    char *singleuser_image_pull_policy;
    json_t *singleuser_uid;
    json_t *singleuser_fs_gid;
    json_t *singleuser_node_selector;
    char *singleuser_service_account;
    json_t *singleuser_extra_labels;
    json_t *singleuser_extra_annotations;
};

extern const struct gm_option_class kube_class;

/** What a profile overrides of the Spawner settings the hub applied (0 / NULL: unchanged). */
struct kube_spawner_overrides {
    double cpu_limit, cpu_guarantee;
    int64_t mem_limit, mem_guarantee;
    const json_t *environment;
};

/** @base with a profile's kubespawner_override applied, into @out (a shallow copy: values are
 * borrowed from @overrides, and @out is never released). A dict merges into a dict setting as
 * KubeSpawner's recursive_update (the merged dict replaces the value in @overrides). Returns 0 or
 * -EINVAL with a message naming the setting. */
int kube_conf_override(const struct kube_conf *base, json_t *overrides, struct kube_conf *out,
                       struct kube_spawner_overrides *sp, char *err, size_t errlen);

/* kube_creds.c */

struct kube_creds {
    char *server;     /* "https://10.0.0.1:443", no trailing '/' */
    char *token;      /* a static bearer token, or NULL */
    char *token_file; /* a token file re-read when it changes (a rotated service account) */
    char *ca_file, *ca_pem;
    char *cert_file, *cert_pem;
    char *key_file, *key_pem;
    bool insecure;
    char *namespace;  /* the service account's or the context's namespace, or NULL */
    char source[300]; /* "in-cluster", "kubeconfig /root/.kube/config (context x)" */
    /* the token file as last read */
    char *file_token;
    struct timespec file_mtime;
    uint64_t file_size; /* with the mtime, tells a rewritten file */
    uint64_t file_checked_ms;
};

/** Find the API server and credentials: KubeSpawner.k8s_api_host (with in-cluster or
 * kubeconfig credentials for it), else in-cluster (KUBERNETES_SERVICE_HOST/_PORT and the
 * service account in /var/run/secrets/kubernetes.io/serviceaccount, or GANYMEDE_KUBE_SA_DIR),
 * else KUBECONFIG / ~/.kube/config (its current context). Returns 0 or -EINVAL with a message
 * naming what is wrong. */
int kube_creds_load(struct kube_creds *c, const struct kube_conf *conf, char *err, size_t errlen);
/** The bearer token to send now ("" for none): a token file is re-read when it changed, looked
 * at no more than once a second. */
const char *kube_creds_token(struct kube_creds *c, uint64_t now_ms);
void kube_creds_release(struct kube_creds *c);

/* kube_api.c */

enum kube_verb {
    KUBE_GET,
    KUBE_LIST,
    KUBE_WATCH,
    KUBE_CREATE,
    KUBE_UPDATE,
    KUBE_PATCH,
    KUBE_DELETE,
    KUBE_VERB_MAX,
};
extern const char *const kube_verb_names[KUBE_VERB_MAX];

struct kube_api {
    const struct gm_host *host;
    struct kube_creds creds;
    long timeout_ms;       /* k8s_api_request_timeout */
    long retry_timeout_ms; /* k8s_api_request_retry_timeout */
    uint64_t requests[KUBE_VERB_MAX];
    uint64_t failures; /* calls that ended without an answer or with >= 500 */
};

struct kube_reply {
    int status;          /* HTTP status, 0 when none arrived */
    int error;           /* 0 or a negative errno (-ETIMEDOUT, -ECONNREFUSED, ...) */
    json_t *json;        /* the body parsed, or NULL; borrowed during the callback */
    const char *message; /* a Status's message with its causes, the transport's error, or "" */
    const char *reason;  /* a Status's reason ("AlreadyExists", "Expired") or "" */
};

typedef void (*kube_api_cb)(void *data, const struct kube_reply *reply);
struct kube_call;

/** Call the API: @path starts with '/' and is encoded ("/api/v1/namespaces/ns/pods"). GET,
 * PUT and DELETE are retried with backoff (honouring Retry-After) on no answer, 429 and 5xx
 * until k8s_api_request_retry_timeout; POST only when the request cannot have been received
 * (connection refused) or on 429. Returns 0 (@cb runs once later) or a negative errno. */
int kube_api_call(struct kube_api *api, enum kube_verb verb, const char *method, const char *path,
                  const json_t *body, kube_api_cb cb, void *data, struct kube_call **ret);
/** Abandon a call: its callback will not run (accepts NULL). */
void kube_api_cancel(struct kube_call *call);
/** Start a watch (a stream of JSON lines to @on_line) on @path: no retries, an idle timeout. */
int kube_api_stream(struct kube_api *api, const char *path, long idle_timeout_ms,
                    gm_fetch_line_cb on_line, gm_fetch_cb done, void *data, struct gm_fetch **ret);
/** A sentence for the user saying why a call failed while doing @what. */
void kube_api_explain(const struct kube_api *api, const struct kube_reply *r, const char *what,
                      char *out, size_t outlen);
int kube_api_init(struct kube_api *api, const struct gm_host *host, const struct kube_conf *conf,
                  char *err, size_t errlen);
void kube_api_release(struct kube_api *api);

/* kube_watch.c */

/** What a subscriber hears: an object of its key was added, changed or deleted. */
enum kube_change {
    KUBE_ADDED,
    KUBE_MODIFIED,
    KUBE_DELETED,
};

struct kube_sub {
    char key[KUBE_NAME_MAX + KUBE_LABEL_MAX + 2]; /* "namespace/name" */
    void (*fn)(void *data, enum kube_change change, const json_t *obj);
    void *data;
    struct kube_sub *next, *prev;
};

struct kube_watch_stats {
    bool synced;            /* the first list is in */
    uint64_t last_event_ms; /* loop time of the last line received (bookmarks too), 0: none */
    uint64_t relists;       /* lists after the first (410 Gone) */
    uint64_t errors;        /* watches or lists that failed */
    uint64_t restarts;      /* watches resumed from the last resourceVersion */
    size_t objects;         /* objects in the cache */
    char resource_version[32];
    char last_error[256]; /* why the last list failed, "" if none did */
};

struct kube_watch;

/** A shared cache of the objects at @path ("/api/v1/namespaces/ns/pods", "/api/v1/pods") that
 * match @selector (a query string such as "labelSelector=component%3Dsingleuser-server", or
 * ""). @keep: whether objects are kept (pods) or only passed to subscribers (events). @key_of
 * picks the subscriber key of an object ("namespace/name" of the pod an event is about).
 * Lists in pages, then watches from the list's resourceVersion with bookmarks; a watch that
 * ends resumes from the last resourceVersion; only 410 Gone relists; failures back off from
 * 0.5 s to 30 s and never give up. */
int kube_watch_new(struct kube_api *api, const char *name, const char *path, const char *selector,
                   bool keep, int (*key_of)(const json_t *obj, char *key, size_t keylen),
                   struct kube_watch **ret);
void kube_watch_free(struct kube_watch *w);
/** The cached object of @key, or NULL (borrowed until the next loop turn). */
const json_t *kube_watch_get(const struct kube_watch *w, const char *key);
/** Each cached object, for adoption by labels. */
typedef void (*kube_watch_each_cb)(void *data, const json_t *obj);
void kube_watch_each(const struct kube_watch *w, kube_watch_each_cb fn, void *data);
void kube_watch_subscribe(struct kube_watch *w, struct kube_sub *sub);
void kube_watch_unsubscribe(struct kube_watch *w, struct kube_sub *sub);
void kube_watch_get_stats(const struct kube_watch *w, struct kube_watch_stats *st);
/** The metadata.namespace/metadata.name key, and the involvedObject's (events). */
int kube_key_of_object(const json_t *obj, char *key, size_t keylen);
int kube_key_of_event(const json_t *obj, char *key, size_t keylen);

/* kube_names.c */

/** The template fields of one server, as KubeSpawner's _expand_user_properties. */
struct kube_names {
    enum gm_slug_scheme scheme;
    json_t *fields; /* {username, servername, user_server, safe_*, escaped_*, unescaped_*,
                       userid, hubnamespace, pod_name, pvc_name, namespace} */
};

/** Fill @n for @user / @server_name (id @user_id) under @conf; @hub_namespace is the hub's
 * own namespace. The pod_name, pvc_name and namespace fields are "<x>_unavailable!" until
 * kube_names_set. Returns 0 or a negative errno. */
int kube_names_init(struct kube_names *n, const struct kube_conf *conf, const char *hub_namespace,
                    const char *user, const char *server_name, int64_t user_id);
void kube_names_set(struct kube_names *n, const char *field, const char *value);
void kube_names_release(struct kube_names *n);
/** @tmpl expanded as KubeSpawner does (trailing '-' stripped unless the template ends in one).
 * Returns 0 and a string (caller frees), or a negative errno with a message in @err. */
int kube_expand(const struct kube_names *n, const char *tmpl, char **ret, char *err, size_t errlen);
/** Every string in @v (not keys) expanded; strings that do not format are kept as they are.
 * A new reference or NULL. */
json_t *kube_expand_json(const struct kube_names *n, const json_t *v);
/** Whether @s is a valid DNS-1123 label (namespaces, service names) or subdomain (pods, PVCs). */
bool kube_is_dns_label(const char *s);
bool kube_is_dns_subdomain(const char *s);

/* kube_pod.c */

/** What one pod is made from: the configuration (after a profile's overrides) plus one start. */
struct kube_pod_input {
    const struct kube_conf *conf;
    const struct kube_names *names;
    const char *pod_name;
    const char *namespace;
    const char *user;
    const char *server_name;
    const json_t *cmd;      /* the full command (list), or NULL: the image's */
    const char *const *env; /* "NAME=value" from the hub, NULL-terminated */
    int port;
    int64_t mem_limit, mem_guarantee; /* bytes, 0: none */
    double cpu_limit, cpu_guarantee;  /* cores, 0: none */
    const json_t *uid, *gid;          /* None or integers (from auth_state when configured) */
};

/** The pod (a new reference), or NULL and a message naming the setting at fault. */
json_t *kube_pod_manifest(const struct kube_pod_input *in, char *err, size_t errlen);
/** The PVC of storage_pvc_ensure (a new reference), or NULL and a message. */
json_t *kube_pvc_manifest(const struct kube_conf *conf, const struct kube_names *names,
                          const char *user, const char *server_name, const char *pvc_name,
                          char *err, size_t errlen);
/** The service of services_enabled, owned by the pod (@pod_uid). */
json_t *kube_service_manifest(const struct kube_conf *conf, const struct kube_names *names,
                              const char *user, const char *server_name, const char *pod_name,
                              const char *pod_uid, int port);
/** A user namespace with user_namespace_labels and _annotations. */
json_t *kube_namespace_manifest(const struct kube_conf *conf, const struct kube_names *names,
                                const char *namespace);
/** The labels every pod of ours carries: common labels, extra_labels, component, username
 * and servername (what zero-to-jupyterhub's network policies select). */
json_t *kube_pod_labels(const struct kube_conf *conf, const struct kube_names *names,
                        const char *user, const char *server_name);
/** Bytes as Kubernetes writes a memory quantity ("1Gi"), cores as a cpu quantity ("500m"). */
int kube_bytes_quantity(int64_t bytes, char *out, size_t outlen);
int kube_cores_quantity(double cores, char *out, size_t outlen);

/* kube_profiles.c */

/** The longest value taken from a form or user_options for one profile option (bytes). */
#define KUBE_PROFILE_VALUE_MAX 4096

/** Check profile_list at init: a list of profiles, or (KubeSpawner 7.1) a dict of them whose
 * keys only order them (sorted). Returns 0 or -EINVAL with a message naming the profile and
 * the key at fault. Whether kubespawner_override's keys are settings is the caller's check. */
int kube_profiles_check(const json_t *profile_list, char *err, size_t errlen);
/** The profile form, as KubeSpawner's form.html renders it, for @user in @groups (their
 * groups, NULL-terminated; NULL: none), offering only the profiles whose allowed_groups let
 * them in, with @user_options (the server's last ones, or NULL) preselected. The caller frees
 * it; NULL when there is no profile_list (or out of memory). */
char *kube_profiles_form(const json_t *profile_list, const char *user, const char *const *groups,
                         const json_t *user_options);
/** The submitted form ({field: [values]}) as user_options ({"profile": slug, <option>: value,
 * "<option>--unlisted-choice": value}), as KubeSpawner's _options_from_form. *@ret is a new
 * object. -EINVAL with a message for a form that is not {field: [strings]}. */
int kube_profiles_from_form(const json_t *profile_list, const json_t *form, json_t **ret, char *err,
                            size_t errlen);
/** The overrides of the profile @user_options choose (the default one when they name none)
 * for a user in @groups: the profile's kubespawner_override, then each option's choice's
 * (an unlisted choice's with "{value}" replaced), merged in that order into one new object of
 * setting -> value in *@out, or NULL when nothing is overridden. The caller applies it as
 * KubeSpawner's _apply_overrides: a dict value is merged recursively into a dict setting, a
 * null inside it deleting that key; any other value replaces the setting. -EINVAL with a
 * message for a profile that does not exist or is not open to @groups, a choice that does not
 * exist, or an unlisted value that is not enabled or fails validation_regex; -EACCES when no
 * profile is open to @groups. */
int kube_profiles_apply(const json_t *profile_list, const char *const *groups,
                        const json_t *user_options, json_t **out, char *err, size_t errlen);

/* kube.c, kube_start.c, kube_stop.c: the spawner. */

struct kube_state {
    const struct gm_host *host;
    const struct kube_conf *conf;
    struct kube_api api;
    char *hub_namespace;       /* namespace, or the service account's, or "default" */
    struct kube_watch *pods;   /* pods of ours (component label) */
    struct kube_watch *events; /* pod events, or NULL (events_enabled false) */
};

enum kube_op {
    KUBE_OP_NONE,
    KUBE_OP_START,
    KUBE_OP_STOP,
};

struct kube_server {
    struct kube_state *st;
    char *user;
    char *server_name;
    struct kube_names names;
    char *pod_name;
    char *namespace;
    char *pvc_name;
    char *dns_name;
    char *pod_uid; /* of the pod this start made, to filter its events */
    bool pvc_exists;
    char *state_version; /* kubespawner_version of a loaded state */

    enum kube_op op;
    int step;
    struct kube_call *call;
    struct kube_sub pod_sub;
    struct kube_sub event_sub;
    bool subscribed;
    uv_timer_t timer; /* slow-spawn messages; poll's wait for the first list */
    uint64_t started_ms;

    /* start */
    json_t *overrides;    /* the profile's settings, or NULL */
    struct kube_conf eff; /* the settings with the profile's overrides (borrowed values) */
    struct kube_spawner_overrides spo;
    char *failure;       /* a failure found before anything was asked of the API */
    bool pvc_created;    /* by this start (a failed first start deletes it again) */
    bool create_awaited; /* a stop waits for the pod create in flight to answer */
    json_t *pod;         /* the manifest being created */
    char *url;
    int port;
    json_t *seen_events; /* event name → count already shown */
    const struct gm_spawn_progress *progress;
    gm_spawner_started_cb start_cb;
    void *start_data;

    /* stop */
    bool now;
    gm_spawner_stopped_cb stop_cb;
    void *stop_data;

    bool freed;
    int holds;
};

void kube_server_hold(struct kube_server *s);
void kube_server_release(struct kube_server *s);
int kube_server_defer(struct kube_server *s, void (*fn)(void *data));
/** The path of the pod ("/api/v1/namespaces/ns/pods/name"), or of its collection when @name
 * is NULL; likewise for other kinds. */
int kube_object_path(char *out, size_t outlen, const char *kind, const char *namespace,
                     const char *name);
void kube_subscribe(struct kube_server *s);
void kube_unsubscribe(struct kube_server *s);

int kube_start(void *server, const struct gm_server_spec *spec,
               const struct gm_spawn_progress *progress, gm_spawner_started_cb cb, void *data);
void kube_start_done(struct kube_server *s, int status, const char *message);
void kube_start_abort(struct kube_server *s);
/** A stop during a start: when the pod's create is in flight, keep it (the stop waits for its
 * answer, kube_stop_after_create, rather than racing it with a DELETE). Returns whether so. */
bool kube_start_await_create(struct kube_server *s);
void kube_stop_after_create(struct kube_server *s);
/** The pod or one of its events changed (subscriptions of a start or stop). */
void kube_start_on_pod(struct kube_server *s, enum kube_change change, const json_t *pod);
void kube_start_on_event(struct kube_server *s, const json_t *event);
int kube_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data);
void kube_stop_on_pod(struct kube_server *s, enum kube_change change, const json_t *pod);
int kube_poll(void *server, gm_spawner_polled_cb cb, void *data);
void kube_delete_forever(void *server);
