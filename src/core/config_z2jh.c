/* zero-to-jupyterhub's jupyterhub_config.py, as settings (core/config_z2jh.h). Every block below
 * names the lines of the chart's file it stands for. */
#include "core/config_z2jh.h"

#include "core/config_py.h"
#include "core/config_yaml.h"
#include "util/str.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ganymede/file.h>
#include <ganymede/json.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define Z2JH_FILE_MAX (4 << 20) /* a values.yaml or a secret */
#define ORIGIN        "zero-to-jupyterhub values"

bool config_z2jh_detect(const char *text, size_t len)
{
    /* The chart's file imports its helpers from z2jh.py. */
    return memmem(text, len, "from z2jh import", 16) != NULL;
}

struct z2jh {
    struct config *cfg;
    const char *dir;
    json_t *values;
    char *err;
    size_t errlen;
};

/* A file under @dir, or NULL when it does not exist (or is too large: logged). */
static char *read_small(const char *dir, const char *name, size_t *lenp)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *text = NULL;
    if (gm_file_read(path, Z2JH_FILE_MAX, &text, lenp, NULL) == -EFBIG)
        gm_log_warn("%s is larger than %d MiB: ignored", path, Z2JH_FILE_MAX >> 20);
    return text;
}

static const json_t *get(const struct z2jh *z, const char *key)
{
    const json_t *v = gm_json_at(z->values, key);
    return json_is_null(v) ? NULL : v;
}

static void set(struct z2jh *z, const char *cls, const char *trait, const json_t *v)
{
    config_set(z->cfg, cls, trait, json_deep_copy(v), ORIGIN);
}

static void set_new(struct z2jh *z, const char *cls, const char *trait, json_t *v)
{
    config_set(z->cfg, cls, trait, v, ORIGIN);
}

/* set_config_if_not_none. */
static void set_if(struct z2jh *z, const char *cls, const char *trait, const char *key)
{
    const json_t *v = get(z, key);
    if (v)
        set(z, cls, trait, v);
}

/* get_name: the chart's resource names, one file each in config/. */
static char *name_of(const struct z2jh *z, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "config/%s", name);
    char *v = read_small(z->dir, rel, NULL);
    if (v) {
        size_t n = strlen(v);
        while (n && isspace((unsigned char)v[n - 1]))
            v[--n] = '\0';
        return v;
    }
    return strdup(name); /* the chart's default names are the short ones */
}

/* get_name_env(name, suffix): the Kubernetes service variable of a service whose full name
 * (name_of) is @full. */
static const char *name_env(const char *full, const char *suffix)
{
    char var[300];
    snprintf(var, sizeof(var), "%s%s", full, suffix);
    for (char *p = var; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    return getenv(var);
}

/* get_secret_value: existing-secret/ first, then secret/. */
static char *secret(const struct z2jh *z, const char *key)
{
    const char *sources[] = {"existing-secret", "secret"};
    for (size_t i = 0; i < 2; i++) {
        char rel[512];
        snprintf(rel, sizeof(rel), "%s/%s", sources[i], key);
        char *v = read_small(z->dir, rel, NULL);
        if (v)
            return v;
    }
    return NULL;
}

static int load_values(struct z2jh *z)
{
    z->values = json_object();
    const char *sources[] = {"secret/values.yaml", "existing-secret/values.yaml"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *text = read_small(z->dir, sources[i], &len);
        if (!text)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", z->dir, sources[i]);
        json_t *doc = NULL, *origins = NULL;
        int r = config_yaml_parse(text, len, path, &doc, &origins, z->err, z->errlen);
        free(text);
        json_decref(origins);
        if (r < 0)
            return r;
        gm_log_info("Loading %s", path);
        if (json_is_object(doc))
            gm_json_merge(z->values, doc); /* z2jh.py's _merge_dictionaries */
        json_decref(doc);
    }
    return 0;
}

/* c.JupyterHub.* from hub.* (camelCase there). */
static void hub_settings(struct z2jh *z)
{
    static const char *const pairs[][2] = {
        {"concurrent_spawn_limit", "hub.concurrentSpawnLimit"},
        {"active_server_limit", "hub.activeServerLimit"},
        {"base_url", "hub.baseUrl"},
        {"allow_named_servers", "hub.allowNamedServers"},
        {"named_server_limit_per_user", "hub.namedServerLimitPerUser"},
        {"authenticate_prometheus", "hub.authenticatePrometheus"},
        {"redirect_to_server", "hub.redirectToServer"},
        {"shutdown_on_logout", "hub.shutdownOnLogout"},
        {"template_paths", "hub.templatePaths"},
        {"template_vars", "hub.templateVars"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        set_if(z, "JupyterHub", pairs[i][0], pairs[i][1]);
}

/* c.KubeSpawner.* from singleuser.*. */
static void singleuser_settings(struct z2jh *z)
{
    static const char *const pairs[][2] = {
        {"pod_name_template", "singleuser.podNameTemplate"},
        {"start_timeout", "singleuser.startTimeout"},
        {"image_pull_policy", "singleuser.image.pullPolicy"},
        {"events_enabled", "singleuser.events"},
        {"extra_labels", "singleuser.extraLabels"},
        {"extra_annotations", "singleuser.extraAnnotations"},
        {"uid", "singleuser.uid"},
        {"fs_gid", "singleuser.fsGid"},
        {"service_account", "singleuser.serviceAccountName"},
        {"storage_extra_labels", "singleuser.storage.extraLabels"},
        {"node_selector", "singleuser.nodeSelector"},
        {"node_affinity_required", "singleuser.extraNodeAffinity.required"},
        {"node_affinity_preferred", "singleuser.extraNodeAffinity.preferred"},
        {"pod_affinity_required", "singleuser.extraPodAffinity.required"},
        {"pod_affinity_preferred", "singleuser.extraPodAffinity.preferred"},
        {"pod_anti_affinity_required", "singleuser.extraPodAntiAffinity.required"},
        {"pod_anti_affinity_preferred", "singleuser.extraPodAntiAffinity.preferred"},
        {"lifecycle_hooks", "singleuser.lifecycleHooks"},
        {"init_containers", "singleuser.initContainers"},
        {"extra_containers", "singleuser.extraContainers"},
        {"mem_limit", "singleuser.memory.limit"},
        {"mem_guarantee", "singleuser.memory.guarantee"},
        {"cpu_limit", "singleuser.cpu.limit"},
        {"cpu_guarantee", "singleuser.cpu.guarantee"},
        {"extra_resource_limits", "singleuser.extraResource.limits"},
        {"extra_resource_guarantees", "singleuser.extraResource.guarantees"},
        {"environment", "singleuser.extraEnv"},
        {"profile_list", "singleuser.profileList"},
        {"extra_pod_config", "singleuser.extraPodConfig"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        set_if(z, "KubeSpawner", pairs[i][0], pairs[i][1]);

    const char *image = json_string_value(get(z, "singleuser.image.name"));
    if (image && image[0]) {
        const json_t *tag = get(z, "singleuser.image.tag");
        set_new(z, "KubeSpawner", "image",
                json_is_string(tag) && json_string_length(tag)
                    ? json_sprintf("%s:%s", image, json_string_value(tag))
                    : json_string(image));
    }
    /* None, False and True are all meaningful: set whatever the values say. */
    const json_t *ape = gm_json_at(z->values, "singleuser.allowPrivilegeEscalation");
    set_new(z, "KubeSpawner", "allow_privilege_escalation",
            ape ? json_deep_copy(ape) : json_null());

    json_t *secrets = json_array();
    if (json_is_true(get(z, "imagePullSecret.automaticReferenceInjection")) &&
        json_is_true(get(z, "imagePullSecret.create"))) {
        char *n = name_of(z, "image-pull-secret");
        json_array_append_new(secrets, json_string(n ? n : "image-pull-secret"));
        free(n);
    }
    json_array_extend(secrets, (json_t *)get(z, "imagePullSecrets"));
    json_array_extend(secrets, (json_t *)get(z, "singleuser.image.pullSecrets"));
    if (json_array_size(secrets))
        set(z, "KubeSpawner", "image_pull_secrets", secrets);
    json_decref(secrets);

    if (json_is_true(get(z, "scheduling.userScheduler.enabled"))) {
        char *n = name_of(z, "user-scheduler");
        set_new(z, "KubeSpawner", "scheduler_name", json_string(n ? n : "user-scheduler"));
        free(n);
    }
    if (json_is_true(get(z, "scheduling.podPriority.enabled"))) {
        char *n = name_of(z, "priority");
        set_new(z, "KubeSpawner", "priority_class_name", json_string(n ? n : "priority"));
        free(n);
    }
    const char *purpose =
        json_string_value(get(z, "scheduling.userPods.nodeAffinity.matchNodePurpose"));
    if (purpose && (strcmp(purpose, "prefer") == 0 || strcmp(purpose, "require") == 0)) {
        json_t *term =
            json_pack("{s:[{s:s,s:s,s:[s]}]}", "matchExpressions", "key",
                      "hub.jupyter.org/node-purpose", "operator", "In", "values", "user");
        bool prefer = purpose[0] == 'p';
        const char *trait = prefer ? "node_affinity_preferred" : "node_affinity_required";
        json_t *list = json_deep_copy(config_get(z->cfg, "KubeSpawner", trait));
        if (!json_is_array(list)) {
            json_decref(list);
            list = json_array();
        }
        json_array_append_new(
            list, prefer ? json_pack("{s:i,s:o}", "weight", 100, "preference", term) : term);
        set_new(z, "KubeSpawner", trait, list);
    }
    json_t *tolerations = json_array();
    json_array_extend(tolerations, (json_t *)get(z, "scheduling.userPods.tolerations"));
    json_array_extend(tolerations, (json_t *)get(z, "singleuser.extraTolerations"));
    if (json_array_size(tolerations))
        set(z, "KubeSpawner", "tolerations", tolerations);
    json_decref(tolerations);
}

/* singleuser.cloudMetadata.blockWithIptables (the chart's default): a privileged init container
 * that drops the pod's traffic to the cloud's metadata server. */
static void block_cloud_metadata(struct z2jh *z)
{
    const char *name = json_string_value(get(z, "singleuser.networkTools.image.name"));
    const char *tag = json_string_value(get(z, "singleuser.networkTools.image.tag"));
    const char *ip = json_string_value(get(z, "singleuser.cloudMetadata.ip"));
    json_t *c = json_pack("{s:s,s:s++,s:[s,s,s,s,s,s,s,s,s,s,s],s:{s:b,s:i,s:{s:[s]}}}", "name",
                          "block-cloud-metadata", "image",
                          name ? name : "quay.io/jupyterhub/k8s-network-tools", tag ? ":" : "",
                          tag ? tag : "", "command", "iptables", "--append", "OUTPUT", "--protocol",
                          "tcp", "--destination", ip ? ip : "169.254.169.254", "--destination-port",
                          "80", "--jump", "DROP", "securityContext", "privileged", 1, "runAsUser",
                          0, "capabilities", "add", "NET_ADMIN");
    const json_t *res = get(z, "singleuser.networkTools.resources");
    if (c && json_is_object(res))
        json_object_set(c, "resources", (json_t *)res);
    json_t *inits = json_deep_copy(config_get(z->cfg, "KubeSpawner", "init_containers"));
    if (json_is_object(inits)) {
        json_object_set_new(inits, "block-cloud-metadata", c);
    } else {
        if (!json_is_array(inits)) {
            json_decref(inits);
            inits = json_array();
        }
        json_array_append_new(inits, c);
    }
    set_new(z, "KubeSpawner", "init_containers", inits);
}

/* Storage, extraFiles, extraVolumes / extraVolumeMounts. */
static void storage_settings(struct z2jh *z)
{
    json_t *volumes = json_object(), *mounts = json_object();
    const char *type = json_string_value(get(z, "singleuser.storage.type"));
    const json_t *home = get(z, "singleuser.storage.homeMountPath");
    if (type && strcmp(type, "dynamic") == 0) {
        set_if(z, "KubeSpawner", "pvc_name_template", "singleuser.storage.dynamic.pvcNameTemplate");
        const char *vol =
            json_string_value(get(z, "singleuser.storage.dynamic.volumeNameTemplate"));
        if (!vol)
            vol = "volume-{user_server}";
        set_new(z, "KubeSpawner", "storage_pvc_ensure", json_true());
        set_if(z, "KubeSpawner", "storage_class", "singleuser.storage.dynamic.storageClass");
        set_if(z, "KubeSpawner", "storage_access_modes",
               "singleuser.storage.dynamic.storageAccessModes");
        set_if(z, "KubeSpawner", "storage_capacity", "singleuser.storage.capacity");
        json_object_set_new(volumes, vol,
                            json_pack("{s:s,s:{s:s}}", "name", vol, "persistentVolumeClaim",
                                      "claimName", "{pvc_name}"));
        json_t *m = json_pack("{s:O?,s:s}", "mountPath", home, "name", vol);
        const json_t *sub = get(z, "singleuser.storage.dynamic.subPath");
        if (sub)
            json_object_set(m, "subPath", (json_t *)sub);
        json_object_set_new(mounts, vol, m);
    } else if (type && strcmp(type, "static") == 0) {
        json_object_set_new(volumes, "home",
                            json_pack("{s:s,s:{s:O?}}", "name", "home", "persistentVolumeClaim",
                                      "claimName", get(z, "singleuser.storage.static.pvcName")));
        json_t *m = json_pack("{s:O?,s:s}", "mountPath", home, "name", "home");
        const json_t *sub = get(z, "singleuser.storage.static.subPath");
        if (sub)
            json_object_set(m, "subPath", (json_t *)sub);
        json_object_set_new(mounts, "home", m);
    }
    const json_t *files = get(z, "singleuser.extraFiles");
    if (json_object_size(files)) {
        json_t *items = json_array();
        const char *k;
        json_t *f;
        json_object_foreach((json_t *)files, k, f)
        {
            json_t *item = json_pack("{s:s,s:s}", "key", k, "path", k);
            if (json_object_get(f, "mode"))
                json_object_set(item, "mode", json_object_get(f, "mode"));
            json_array_append_new(items, item);
        }
        char *n = name_of(z, "singleuser");
        json_object_set_new(volumes, "files",
                            json_pack("{s:s,s:{s:s,s:o}}", "name", "files", "secret", "secretName",
                                      n ? n : "singleuser", "items", items));
        free(n);
        size_t idx = 0;
        json_object_foreach((json_t *)files, k, f)
        {
            char key[64];
            snprintf(key, sizeof(key), "%zu-files", idx++);
            json_object_set_new(mounts, key,
                                json_pack("{s:O?,s:s,s:s}", "mountPath",
                                          json_object_get(f, "mountPath"), "subPath", k, "name",
                                          "files"));
        }
    }
    const json_t *xv = get(z, "singleuser.storage.extraVolumes");
    if (json_is_object(xv)) {
        json_object_update(volumes, (json_t *)xv);
    } else if (json_is_array(xv)) {
        size_t i;
        json_t *v;
        json_array_foreach(xv, i, v)
        {
            const char *n = json_string_value(json_object_get(v, "name"));
            if (n)
                json_object_set(volumes, n, v);
        }
    }
    const json_t *xm = get(z, "singleuser.storage.extraVolumeMounts");
    if (json_is_object(xm)) {
        json_object_update(mounts, (json_t *)xm);
    } else if (json_is_array(xm)) {
        size_t i;
        json_t *v;
        json_array_foreach(xm, i, v)
        {
            char key[300];
            snprintf(key, sizeof(key), "%zu-%s", i,
                     json_string_value(json_object_get(v, "name"))
                         ? json_string_value(json_object_get(v, "name"))
                         : "");
            json_object_set(mounts, key, v);
        }
    }
    set_new(z, "KubeSpawner", "volumes", volumes);
    set_new(z, "KubeSpawner", "volume_mounts", mounts);
}

/* The idle culler, hub.services and hub.loadRoles. */
static void services_and_roles(struct z2jh *z)
{
    json_t *services = json_array(), *roles = json_array();
    if (json_is_true(get(z, "cull.enabled"))) {
        json_t *role = json_pack("{s:s,s:[s,s,s,s],s:[s]}", "name", "jupyterhub-idle-culler",
                                 "scopes", "list:users", "read:users:activity", "read:servers",
                                 "delete:servers", "services", "jupyterhub-idle-culler");
        /* The chart runs `python3 -m jupyterhub_idle_culler`; Ganymede runs its own, with the
         * same flags, from this very binary (services/idle_culler.c). */
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = '\0';
        json_t *cmd = json_pack("[s,s]", n > 0 ? exe : "ganymede", "idle-culler");
        /* No --url: the chart gives http://localhost:8081<baseUrl>hub/api, the hub's own
         * address in its pod; the culler takes JUPYTERHUB_API_URL, which the hub gives its
         * managed services, and which is that address wherever the hub listens. */
        static const char *const flags[][2] = {{"cull.timeout", "--timeout=%s"},
                                               {"cull.every", "--cull-every=%s"},
                                               {"cull.concurrency", "--concurrency=%s"},
                                               {"cull.maxAge", "--max-age=%s"}};
        for (size_t i = 0; i < 4; i++) {
            const json_t *v = get(z, flags[i][0]);
            if (json_is_integer(v) && json_integer_value(v)) {
                char num[32];
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
                char arg[64];
                snprintf(arg, sizeof(arg), flags[i][1], num);
                json_array_append_new(cmd, json_string(arg));
            }
        }
        if (json_is_true(get(z, "cull.users"))) {
            json_array_append_new(cmd, json_string("--cull-users"));
            json_array_append_new(json_object_get(role, "scopes"), json_string("admin:users"));
        }
        if (!json_is_true(get(z, "cull.adminUsers")))
            json_array_append_new(cmd, json_string("--cull-admin-users=false"));
        if (json_is_true(get(z, "cull.removeNamedServers")))
            json_array_append_new(cmd, json_string("--remove-named-servers"));
        json_array_append_new(
            services, json_pack("{s:s,s:o}", "name", "jupyterhub-idle-culler", "command", cmd));
        json_array_append_new(roles, role);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)get(z, "hub.services"), k, v)
    {
        if (!json_is_object(v))
            continue;
        json_t *s = json_deep_copy(v);
        if (!json_object_get(s, "name"))
            json_object_set_new(s, "name", json_string(k));
        json_object_del(s, "apiToken");
        char key[300];
        snprintf(key, sizeof(key), "hub.services.%s.apiToken", k);
        char *token = secret(z, key);
        if (token)
            json_object_set_new(s, "api_token", json_string(token));
        free(token);
        json_array_append_new(services, s);
    }
    json_object_foreach((json_t *)get(z, "hub.loadRoles"), k, v)
    {
        if (!json_is_object(v))
            continue;
        json_t *r = json_deep_copy(v);
        if (!json_object_get(r, "name"))
            json_object_set_new(r, "name", json_string(k));
        json_array_append_new(roles, r);
    }
    set_new(z, "JupyterHub", "services", services);
    set_new(z, "JupyterHub", "load_roles", roles);
}

/* hub.config passed through, without the secrets the chart keeps elsewhere. */
static int pass_through(struct z2jh *z)
{
    const char *cls;
    json_t *settings;
    json_object_foreach((json_t *)get(z, "hub.config"), cls, settings)
    {
        if (!isupper((unsigned char)cls[0])) {
            snprintf(z->err, z->errlen,
                     "Invalid hub.config section name: %s. hub.config sections must be "
                     "Configurable class names (e.g. JupyterHub). Maybe misplaced or misspelled "
                     "config?",
                     cls);
            return -EINVAL;
        }
        if (!json_is_object(settings))
            continue;
        gm_log_info("Loading pass-through config section hub.config.%s", cls);
        const char *trait;
        json_t *v;
        json_object_foreach(settings, trait, v)
        {
            bool secret_key =
                (strcmp(cls, "JupyterHub") == 0 &&
                 (strcmp(trait, "proxy_auth_token") == 0 || strcmp(trait, "cookie_secret") == 0 ||
                  strcmp(trait, "services") == 0)) ||
                (strcmp(cls, "ConfigurableHTTPProxy") == 0 && strcmp(trait, "auth_token") == 0) ||
                (strcmp(cls, "CryptKeeper") == 0 && strcmp(trait, "keys") == 0);
            if (!secret_key)
                set(z, cls, trait, v);
        }
    }
    return 0;
}

/* The .py files of jupyterhub_config.d, and hub.extraConfig when it is only literal assignments. */
static int extra_files(struct z2jh *z)
{
    char dpath[4096];
    snprintf(dpath, sizeof(dpath), "%s/jupyterhub_config.d", z->dir);
    struct dirent **names = NULL;
    int n = scandir(dpath, &names, NULL, alphasort);
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (r == 0 && str_has_suffix(names[i]->d_name, ".py")) {
            char p[4352];
            snprintf(p, sizeof(p), "%s/%s", dpath, names[i]->d_name);
            gm_log_info("Loading %s config: %s", dpath, names[i]->d_name);
            r = config_load_file(z->cfg, p, z->err, z->errlen);
        }
        free(names[i]);
    }
    free(names);
    if (r < 0)
        return r;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)get(z, "hub.extraConfig"), k, v)
    {
        const char *code = json_string_value(v);
        if (!code)
            continue;
        json_t *tree = json_object(), *origins = json_object();
        char why[512];
        char name[300];
        snprintf(name, sizeof(name), "hub.extraConfig.%s", k);
        if (config_py_parse(code, strlen(code), name, tree, origins, why, sizeof(why)) < 0) {
            gm_log_warn("Skipping %s: Ganymede runs no Python, and it is not only literal "
                        "assignments (%s). Write its settings under hub.config instead",
                        name, why);
        } else {
            gm_log_info("Loading extra config: %s (literal assignments)", k);
            const char *cls;
            json_t *settings;
            json_object_foreach(tree, cls, settings)
            {
                const char *trait;
                json_t *x;
                json_object_foreach(settings, trait, x) set(z, cls, trait, x);
            }
        }
        json_decref(tree);
        json_decref(origins);
    }
    return 0;
}

int config_z2jh_load(struct config *cfg, const char *dir, char *err, size_t errlen)
{
    struct z2jh z = {.cfg = cfg, .dir = dir, .err = err, .errlen = errlen};
    int r = load_values(&z);
    if (r < 0) {
        json_decref(z.values);
        return r;
    }
    gm_log_info("Reading zero-to-jupyterhub's configuration under %s (chart %s)", dir,
                json_string_value(get(&z, "Chart.Version"))
                    ? json_string_value(get(&z, "Chart.Version"))
                    : "?");
    set_new(&z, "JupyterHub", "spawner_class", json_string("kubespawner.KubeSpawner"));
    char *proxy_api = name_of(&z, "proxy-api");
    const char *proxy_port = name_env(proxy_api ? proxy_api : "proxy-api", "_SERVICE_PORT");
    set_new(&z, "ConfigurableHTTPProxy", "api_url",
            json_sprintf("http://%s:%s", proxy_api ? proxy_api : "proxy-api",
                         proxy_port ? proxy_port : "8001"));
    free(proxy_api);
    set_new(&z, "ConfigurableHTTPProxy", "should_start", json_false());
    set_new(&z, "JupyterHub", "cleanup_servers", json_false());
    set_new(&z, "JupyterHub", "last_activity_interval", json_integer(60));
    set_new(&z, "JupyterHub", "tornado_settings", json_pack("{s:i}", "slow_spawn_timeout", 0));

    const char *db = json_string_value(get(&z, "hub.db.type"));
    if (db && strcmp(db, "sqlite-pvc") == 0)
        set_new(&z, "JupyterHub", "db_url", json_string("sqlite:///jupyterhub.sqlite"));
    else if (db && strcmp(db, "sqlite-memory") == 0)
        set_new(&z, "JupyterHub", "db_url", json_string("sqlite://"));
    else
        set_if(&z, "JupyterHub", "db_url", "hub.db.url");
    /* A rolling update starts the new hub pod beside the old one: on SQLite both would write
     * the file; on PostgreSQL the new one stands by, unready, and the rollout waits for it. */
    const char *strategy = json_string_value(get(&z, "hub.deploymentStrategy.type"));
    if (strategy && strcmp(strategy, "RollingUpdate") == 0)
        gm_log_warn("hub.deploymentStrategy.type is RollingUpdate: %s; use Recreate "
                    "(docs/database.md, \"Kubernetes\")",
                    db && strcmp(db, "postgres") == 0
                        ? "the new hub pod stands by until the old one stops, so the rollout "
                          "stalls"
                        : "the new hub pod would write the same SQLite file as the old one");

    hub_settings(&z);
    set_new(&z, "JupyterHub", "hub_bind_url", json_string("http://:8081"));
    char *hub = name_of(&z, "hub");
    const char *hub_port = name_env(hub ? hub : "hub", "_SERVICE_PORT");
    set_new(&z, "JupyterHub", "hub_connect_url",
            json_sprintf("http://%s:%s", hub ? hub : "hub", hub_port ? hub_port : "8081"));
    free(hub);

    /* common labels: the chart's, with managed-by kubespawner. */
    json_t *labels = json_object();
    const json_t *app = get(&z, "nameOverride");
    if (!json_is_string(app) || !json_string_length(app))
        app = get(&z, "Chart.Name");
    const char *appname = json_string_value(app) ? json_string_value(app) : "jupyterhub";
    json_object_set_new(labels, "app.kubernetes.io/name", json_string(appname));
    json_object_set_new(labels, "app", json_string(appname));
    const char *release = json_string_value(get(&z, "Release.Name"));
    if (release && release[0]) {
        json_object_set_new(labels, "app.kubernetes.io/instance", json_string(release));
        json_object_set_new(labels, "release", json_string(release));
    }
    const char *chart = json_string_value(get(&z, "Chart.Name"));
    const char *version = json_string_value(get(&z, "Chart.Version"));
    if (chart && version) {
        char cv[256];
        snprintf(cv, sizeof(cv), "%s-%s", chart, version);
        for (char *p = cv; *p; p++)
            if (*p == '+')
                *p = '_';
        json_object_set_new(labels, "helm.sh/chart", json_string(cv));
        json_object_set_new(labels, "chart", json_string(cv));
    }
    json_object_set_new(labels, "app.kubernetes.io/managed-by", json_string("kubespawner"));
    set_new(&z, "KubeSpawner", "common_labels", labels);
    const char *ns = getenv("POD_NAMESPACE");
    set_new(&z, "KubeSpawner", "namespace", json_string(ns && ns[0] ? ns : "default"));
    set_if(&z, "Spawner", "consecutive_failure_limit", "hub.consecutiveFailureLimit");

    singleuser_settings(&z);
    storage_settings(&z);
    services_and_roles(&z);

    /* An explicit null command is distinct from none given. */
    const json_t *cmd = gm_json_at(z.values, "singleuser.cmd");
    if (cmd)
        set_new(&z, "Spawner", "cmd",
                json_is_string(cmd) ? json_pack("[O]", cmd) : json_deep_copy(cmd));
    set_if(&z, "Spawner", "default_url", "singleuser.defaultUrl");
    if (json_is_true(get(&z, "singleuser.cloudMetadata.blockWithIptables")))
        block_cloud_metadata(&z);
    if (json_is_true(get(&z, "debug.enabled"))) {
        set_new(&z, "JupyterHub", "log_level", json_string("DEBUG"));
        set_new(&z, "Spawner", "debug", json_true());
    }
    char *cookie = secret(&z, "hub.config.JupyterHub.cookie_secret");
    if (cookie) {
        size_t n = strlen(cookie);
        while (n && isspace((unsigned char)cookie[n - 1]))
            cookie[--n] = '\0';
        set_new(&z, "JupyterHub", "cookie_secret", json_string(cookie));
        explicit_bzero(cookie, n);
        free(cookie);
    }
    r = pass_through(&z);
    if (r == 0)
        r = extra_files(&z);
    json_decref(z.values);
    return r;
}
