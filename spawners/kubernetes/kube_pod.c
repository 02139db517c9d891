/* The objects KubeSpawner 7.1 sends to the API server: the pod (objects.make_pod with
 * spawner.get_pod_manifest's arguments), the PVC (make_pvc, get_pvc_manifest), the service
 * (make_service, get_service_manifest) and a user namespace (make_namespace), written as the
 * Python client serializes its models: camelCase, None fields left out, empty lists and dicts
 * kept. Pure functions of the settings and one start: tests/unit/spawners/kubernetes/
 * test-kube_pod.c runs them without a cluster.
 *
 * Settings that KubeSpawner turns into client models (volumes, volume mounts, containers,
 * tolerations, affinity terms, lifecycle hooks, extra_container_config, extra_pod_config) have
 * their top-level snake_case keys written in camelCase, as get_k8s_model and update_k8s_model
 * map them ("dns_policy" becomes "dnsPolicy"), and their None fields left out; what is nested
 * deeper is sent as it is. */
#include "kube.h"

#include <errno.h>
#include <ganymede/quantity.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBESPAWNER_VERSION "7.1.0"
#define JUPYTERHUB_VERSION  "5.5.1"

#define ENV_MAX 4096 /* environment variables of one pod */

/* The toolkit's "" stands for KubeSpawner's None in string settings. */
static bool set(const char *s)
{
    return s && s[0];
}

static int put(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a dict";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "None";
    }
}

/* Quantities. */

int kube_bytes_quantity(int64_t bytes, char *out, size_t outlen)
{
    if (bytes < 0)
        return -EINVAL;
    return gm_quantity_format(bytes, GM_QUANTITY_UNITS, GM_QUANTITY_BINARY_SI, out, outlen);
}

int kube_cores_quantity(double cores, char *out, size_t outlen)
{
    if (!isfinite(cores) || cores < 0 || cores > 1e9)
        return -EINVAL;
    /* KubeSpawner sends the float (0.5) and the API server keeps it as a quantity
     * ("500m"): the shortest decimal text of the number, parsed exactly, says the same. */
    char text[64];
    snprintf(text, sizeof(text), "%.15g", cores);
    int64_t nano;
    int r = gm_quantity_parse(text, GM_QUANTITY_NANO, &nano, NULL);
    if (r < 0)
        return r;
    return gm_quantity_format(nano, GM_QUANTITY_NANO, GM_QUANTITY_DECIMAL_SI, out, outlen);
}

/* Client models: top-level keys in camelCase, None fields left out. */

static const struct {
    const char *snake, *camel;
} irregular[] = {
    {"host_ipc", "hostIPC"},
    {"host_pid", "hostPID"},
    {"downward_api", "downwardAPI"},
    {"scale_io", "scaleIO"},
    {"set_hostname_as_fqdn", "setHostnameAsFQDN"},
};

static void camel_case(const char *key, char *out, size_t outlen)
{
    for (size_t i = 0; i < sizeof(irregular) / sizeof(irregular[0]); i++)
        if (strcmp(key, irregular[i].snake) == 0) {
            snprintf(out, outlen, "%s", irregular[i].camel);
            return;
        }
    size_t n = 0;
    for (const char *p = key; *p && n + 1 < outlen; p++) {
        if (*p == '_' && p[1] && p != key) {
            p++;
            out[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        } else
            out[n++] = *p;
    }
    out[n] = '\0';
}

/* Set @key of @target (model-mapped) to a copy of @v, or remove it when @v is None: what
 * setattr does on a model before serialization. */
static int model_set(json_t *target, const char *key, const json_t *v)
{
    char name[256];
    camel_case(key, name, sizeof(name));
    if (json_is_null(v)) {
        json_object_del(target, name);
        return 0;
    }
    return put(target, name, json_deep_copy(v));
}

/* get_k8s_model(Model, @v): @what names the setting in a message. */
static json_t *model(const json_t *v, const char *what, char *err, size_t errlen)
{
    if (!json_is_object(v)) {
        snprintf(err, errlen, "KubeSpawner.%s must be a dict, not %s", what, type_name(v));
        return NULL;
    }
    json_t *o = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!o || model_set(o, k, x) < 0) {
            json_decref(o);
            oom(err, errlen);
            return NULL;
        }
    }
    if (!o)
        oom(err, errlen);
    return o;
}

/* _sorted_dict_values: a dict's values in the order of its keys, a list as it is, None as an
 * empty list. A new reference, or NULL with a message. */
static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *sorted_values(const json_t *v, const char *setting, char *err, size_t errlen)
{
    if (!v || json_is_null(v))
        return json_array();
    if (json_is_array(v))
        return json_deep_copy(v);
    if (!json_is_object(v)) {
        snprintf(err, errlen, "KubeSpawner.%s must be a list or a dict, not %s", setting,
                 type_name(v));
        return NULL;
    }
    size_t n = json_object_size(v), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    json_t *out = json_array();
    if (!keys || !out) {
        free(keys);
        json_decref(out);
        oom(err, errlen);
        return NULL;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        (void)x;
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), key_cmp);
    for (i = 0; i < n; i++)
        if (json_array_append_new(out, json_deep_copy(json_object_get(v, keys[i]))) < 0) {
            json_decref(out);
            out = NULL;
            oom(err, errlen);
            break;
        }
    free(keys);
    return out;
}

/* A list setting (after _sorted_dict_values and, when @names is not NULL, _expand_all) with
 * each element made a model. An empty list when the setting is unset or empty. */
static json_t *model_list(const json_t *v, const char *setting, const struct kube_names *names,
                          char *err, size_t errlen)
{
    json_t *list = sorted_values(v, setting, err, errlen);
    if (!list)
        return NULL;
    if (names) {
        json_t *x = kube_expand_json(names, list);
        json_decref(list);
        if (!(list = x)) {
            oom(err, errlen);
            return NULL;
        }
    }
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        char what[128];
        snprintf(what, sizeof(what), "%s[%zu]", setting, i);
        json_t *m = out ? model(x, what, err, errlen) : NULL;
        if (!m || json_array_append_new(out, m) < 0) {
            json_decref(out);
            out = NULL;
            break;
        }
    }
    json_decref(list);
    return out;
}

/* update_k8s_model(target, changes): each key of @changes replaces the target's. */
static int model_update(json_t *target, const json_t *changes, const char *setting, char *err,
                        size_t errlen)
{
    if (!changes || json_is_null(changes))
        return 0;
    if (!json_is_object(changes)) {
        snprintf(err, errlen, "KubeSpawner.%s must be a dict, not %s", setting, type_name(changes));
        return -EINVAL;
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)changes, k, x)
    {
        if (model_set(target, k, x) < 0)
            return oom(err, errlen);
    }
    return 0;
}

/* A dict setting: NULL or None as {}, anything but a dict refused. */
static int check_dict(const json_t *v, const char *setting, char *err, size_t errlen)
{
    if (!v || json_is_null(v) || json_is_object(v))
        return 0;
    snprintf(err, errlen, "KubeSpawner.%s must be a dict, not %s", setting, type_name(v));
    return -EINVAL;
}

static bool empty(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

/* A dict setting with _expand_all: a new reference ({} when unset), or NULL. */
static json_t *expanded_dict(const struct kube_names *names, const json_t *v)
{
    if (!v || json_is_null(v))
        return json_object();
    return kube_expand_json(names, v);
}

/* Labels and annotations. */

/* _build_common_labels(@extra): @extra is expanded already. */
static json_t *common_labels(const struct kube_conf *conf, const char *user, const json_t *extra)
{
    char *slug = NULL;
    if (gm_slug_safe(user, GM_SLUG_LABEL, 0, &slug) < 0)
        return NULL;
    json_t *labels = json_object();
    int r = labels ? put(labels, "hub.jupyter.org/username", json_string(slug)) : -ENOMEM;
    free(slug);
    if (r == 0 && json_is_object(extra))
        r = json_object_update(labels, (json_t *)extra);
    if (r == 0 && json_is_object(conf->common_labels))
        r = json_object_update(labels, conf->common_labels);
    if (r < 0) {
        json_decref(labels);
        return NULL;
    }
    return labels;
}

/* _build_pod_labels(@extra). */
static json_t *pod_labels(const struct kube_conf *conf, const char *user, const char *server_name,
                          const json_t *extra)
{
    json_t *labels = common_labels(conf, user, extra);
    char *slug = NULL;
    const char *component = conf->component_label ? conf->component_label : "";
    int r =
        labels ? gm_slug_safe(server_name ? server_name : "", GM_SLUG_LABEL, 0, &slug) : -ENOMEM;
    if (r >= 0)
        r = put(labels, "app.kubernetes.io/component", json_string(component));
    if (r >= 0)
        r = put(labels, "component", json_string(component));
    if (r >= 0)
        r = put(labels, "hub.jupyter.org/servername", json_string(slug));
    free(slug);
    if (r < 0) {
        json_decref(labels);
        return NULL;
    }
    return labels;
}

json_t *kube_pod_labels(const struct kube_conf *conf, const struct kube_names *names,
                        const char *user, const char *server_name)
{
    if (check_dict(conf->extra_labels, "extra_labels", NULL, 0) < 0)
        return NULL;
    json_t *extra = expanded_dict(names, conf->extra_labels);
    json_t *labels = extra ? pod_labels(conf, user, server_name, extra) : NULL;
    json_decref(extra);
    return labels;
}

/* _build_common_annotations(@extra): @extra is expanded already. */
static json_t *common_annotations(const char *user, const char *server_name, const json_t *extra)
{
    json_t *a = json_object();
    int r = a ? put(a, "hub.jupyter.org/username", json_string(user)) : -ENOMEM;
    if (r == 0 && set(server_name))
        r = put(a, "hub.jupyter.org/servername", json_string(server_name));
    if (r == 0)
        r = put(a, "hub.jupyter.org/kubespawner-version", json_string(KUBESPAWNER_VERSION));
    if (r == 0)
        r = put(a, "hub.jupyter.org/jupyterhub-version", json_string(JUPYTERHUB_VERSION));
    if (r == 0 && json_is_object(extra))
        r = json_object_update(a, (json_t *)extra);
    if (r < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* An object's metadata: name, labels, annotations (both stolen). */
static json_t *metadata(const char *name, json_t *labels, json_t *annotations)
{
    if (!labels || !annotations) {
        json_decref(labels);
        json_decref(annotations);
        return NULL;
    }
    return json_pack("{s:s,s:o,s:o}", "name", name, "labels", labels, "annotations", annotations);
}

/* The environment: "NAME=value" entries as a dict would keep them (a later one replacing an
 * earlier one of the same name), JUPYTER_IMAGE_SPEC and JUPYTER_IMAGE added as get_env does,
 * then ordered as make_pod does: by name in rounds, each round taking the variables whose
 * $(NAME) references are all defined by earlier rounds, what never resolves last. */

struct env_var {
    const char *name;
    size_t name_len;
    const char *value;
    int round; /* 0: not placed yet */
};

static int env_index(const struct env_var *vars, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (vars[i].name_len == len && memcmp(vars[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* Whether every $(NAME) in @v's value other than itself is a variable placed before @round. */
static bool env_resolved(const struct env_var *vars, size_t n, const struct env_var *v, int round)
{
    for (const char *p = v->value; (p = strstr(p, "$(")); p++) {
        const char *q = p + 2;
        while (*q && *q != ')')
            q++;
        if (*q != ')' || q == p + 2)
            continue;
        size_t len = (size_t)(q - (p + 2));
        bool self = len == v->name_len && memcmp(p + 2, v->name, len) == 0;
        int i = env_index(vars, n, p + 2, len);
        if (!self && (i < 0 || vars[i].round == 0 || vars[i].round >= round))
            return false;
        p = q;
    }
    return true;
}

static int env_cmp(const void *a, const void *b)
{
    const struct env_var *x = *(const struct env_var *const *)a;
    const struct env_var *y = *(const struct env_var *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static int env_append(json_t *env, struct env_var **picked, size_t n)
{
    qsort(picked, n, sizeof(*picked), env_cmp);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s%,s:s}", "name", picked[i]->name, picked[i]->name_len, "value",
                              picked[i]->value);
        if (!e || json_array_append_new(env, e) < 0)
            return -ENOMEM;
    }
    return 0;
}

static json_t *env_list(const char *const *entries, const char *image, char *err, size_t errlen)
{
    size_t cap = 2;
    for (const char *const *e = entries; e && *e; e++)
        cap++;
    if (cap > ENV_MAX) {
        snprintf(err, errlen, "more than %d environment variables", ENV_MAX);
        return NULL;
    }
    struct env_var *vars = calloc(cap, sizeof(*vars));
    struct env_var **picked = calloc(cap, sizeof(*picked));
    json_t *env = json_array();
    if (!vars || !picked || !env)
        goto nomem;
    size_t n = 0;
    for (const char *const *e = entries; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e)
            continue;
        size_t len = (size_t)(eq - *e);
        int i = env_index(vars, n, *e, len);
        struct env_var *v = i >= 0 ? &vars[i] : &vars[n++];
        *v = (struct env_var){.name = *e, .name_len = len, .value = eq + 1};
    }
    static const char *const image_vars[] = {"JUPYTER_IMAGE_SPEC", "JUPYTER_IMAGE"};
    for (size_t k = 0; k < 2; k++)
        if (env_index(vars, n, image_vars[k], strlen(image_vars[k])) < 0)
            vars[n++] = (struct env_var){.name = image_vars[k],
                                         .name_len = strlen(image_vars[k]),
                                         .value = image ? image : ""};
    for (int round = 1;; round++) {
        size_t np = 0;
        for (size_t i = 0; i < n; i++)
            if (vars[i].round == 0 && env_resolved(vars, n, &vars[i], round))
                picked[np++] = &vars[i];
        if (np == 0) {
            for (size_t i = 0; i < n; i++)
                if (vars[i].round == 0)
                    picked[np++] = &vars[i];
            if (env_append(env, picked, np) < 0)
                goto nomem;
            break;
        }
        for (size_t i = 0; i < np; i++)
            picked[i]->round = round;
        if (env_append(env, picked, np) < 0)
            goto nomem;
    }
    free(vars);
    free(picked);
    return env;
nomem:
    free(vars);
    free(picked);
    json_decref(env);
    oom(err, errlen);
    return NULL;
}

/* The pod. */

/* One resource quantity of extra_resource_guarantees/limits: a string Kubernetes parses, or a
 * number. */
static int check_quantity(const char *setting, const char *key, const json_t *v, char *err,
                          size_t errlen)
{
    int64_t q;
    if (json_is_integer(v) || json_is_real(v))
        return 0;
    if (json_is_string(v)) {
        int r = gm_quantity_parse(json_string_value(v), GM_QUANTITY_UNITS, &q, NULL);
        if (r == 0 || r == -ERANGE)
            return 0;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(err, errlen, "KubeSpawner.%s[\"%s\"] (%s) is not a Kubernetes quantity", setting, key,
             json_is_string(v) ? json_string_value(v)
             : text            ? text
                               : "?");
    free(text);
    return -EINVAL;
}

static int resources_of(json_t *into, int64_t mem, double cpu, const json_t *extra,
                        const char *setting, char *err, size_t errlen)
{
    char q[GM_QUANTITY_TEXT_MAX];
    if (cpu > 0) {
        if (kube_cores_quantity(cpu, q, sizeof(q)) < 0) {
            snprintf(err, errlen, "%g cores is not a CPU quantity", cpu);
            return -EINVAL;
        }
        if (put(into, "cpu", json_string(q)) < 0)
            return oom(err, errlen);
    }
    if (mem > 0) {
        if (kube_bytes_quantity(mem, q, sizeof(q)) < 0) {
            snprintf(err, errlen, "%lld bytes is not a memory quantity", (long long)mem);
            return -EINVAL;
        }
        if (put(into, "memory", json_string(q)) < 0)
            return oom(err, errlen);
    }
    int r = check_dict(extra, setting, err, errlen);
    if (r < 0 || !json_is_object(extra))
        return r;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)extra, k, x)
    {
        if ((r = check_quantity(setting, k, x, err, errlen)) < 0)
            return r;
        if (put(into, k, json_deep_copy(x)) < 0)
            return oom(err, errlen);
    }
    return 0;
}

/* A security context: @base (stolen) updated with @extra, whose keys must be camelCase.
 * *@ret is NULL when the result is empty (None). */
static int security_context(json_t *base, const json_t *extra, const char *setting, json_t **ret,
                            char *err, size_t errlen)
{
    int r = check_dict(extra, setting, err, errlen);
    const char *k;
    json_t *x;
    if (r == 0 && json_is_object(extra))
        json_object_foreach((json_t *)extra, k, x)
        {
            if (strchr(k, '_')) {
                snprintf(err, errlen,
                         "KubeSpawner.%s's keys should have k8s camelCase names, got '%s'", setting,
                         k);
                r = -EINVAL;
                break;
            }
            if (put(base, k, json_deep_copy(x)) < 0) {
                r = oom(err, errlen);
                break;
            }
        }
    if (r < 0 || json_object_size(base) == 0) {
        json_decref(base);
        base = NULL;
    }
    if (r == 0)
        *ret = base;
    return r;
}

/* An id setting: None, or an integer (int() of a string of digits too). */
static int id_of(const json_t *v, const char *setting, json_t **ret, char *err, size_t errlen)
{
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        *ret = json_integer(json_integer_value(v));
        return *ret ? 0 : oom(err, errlen);
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (s[0] && end && *end == '\0' && errno == 0) {
            *ret = json_integer(n);
            return *ret ? 0 : oom(err, errlen);
        }
    }
    snprintf(err, errlen, "KubeSpawner.%s must be None or an integer, not %s", setting,
             type_name(v));
    return -EINVAL;
}

static int container_security(const struct kube_pod_input *in, json_t **ret, char *err,
                              size_t errlen)
{
    const struct kube_conf *c = in->conf;
    json_t *csc = json_object();
    json_t *uid = NULL, *gid = NULL;
    if (!csc)
        return oom(err, errlen);
    int r = id_of(in->uid, "uid", &uid, err, errlen);
    if (r == 0)
        r = id_of(in->gid, "gid", &gid, err, errlen);
    if (r == 0 && uid)
        r = put(csc, "runAsUser", uid), uid = NULL;
    if (r == 0 && gid)
        r = put(csc, "runAsGroup", gid), gid = NULL;
    if (r == 0 && c->privileged)
        r = put(csc, "privileged", json_true());
    if (r == 0 && c->allow_privilege_escalation && !json_is_null(c->allow_privilege_escalation))
        r = put(csc, "allowPrivilegeEscalation",
                json_boolean(json_is_true(c->allow_privilege_escalation)));
    json_decref(uid);
    json_decref(gid);
    if (r < 0) {
        json_decref(csc);
        return r == -ENOMEM ? oom(err, errlen) : r;
    }
    return security_context(csc, c->container_security_context, "container_security_context", ret,
                            err, errlen);
}

static int pod_security(const struct kube_conf *c, json_t **ret, char *err, size_t errlen)
{
    json_t *psc = json_object();
    json_t *fs = NULL;
    if (!psc)
        return oom(err, errlen);
    int r = id_of(c->fs_gid, "fs_gid", &fs, err, errlen);
    if (r == 0 && fs)
        r = put(psc, "fsGroup", fs);
    if (r == 0 && !empty(c->supplemental_gids)) {
        json_t *gids = json_array();
        size_t i;
        json_t *x;
        if (!json_is_array(c->supplemental_gids)) {
            snprintf(err, errlen, "KubeSpawner.supplemental_gids must be a list, not %s",
                     type_name(c->supplemental_gids));
            r = -EINVAL;
        } else if (!gids)
            r = -ENOMEM;
        if (r == 0)
            json_array_foreach(c->supplemental_gids, i, x)
            {
                json_t *g = NULL;
                char what[64];
                snprintf(what, sizeof(what), "supplemental_gids[%zu]", i);
                if ((r = id_of(x, what, &g, err, errlen)) < 0)
                    break;
                if (!g) {
                    snprintf(err, errlen, "KubeSpawner.%s must be an integer, not None", what);
                    r = -EINVAL;
                    break;
                }
                if (json_array_append_new(gids, g) < 0) {
                    r = -ENOMEM;
                    break;
                }
            }
        if (r == 0)
            r = put(psc, "supplementalGroups", gids);
        else
            json_decref(gids);
    }
    if (r < 0) {
        json_decref(psc);
        return r == -ENOMEM ? oom(err, errlen) : r;
    }
    return security_context(psc, c->pod_security_context, "pod_security_context", ret, err, errlen);
}

/* A string setting expanded as _expand_user_properties does. */
static int expand_setting(const struct kube_names *names, const char *setting, const char *tmpl,
                          char **ret, char *err, size_t errlen)
{
    char why[256] = "";
    int r = kube_expand(names, tmpl, ret, why, sizeof(why));
    if (r == -ENOMEM)
        return oom(err, errlen);
    if (r < 0)
        snprintf(err, errlen, "KubeSpawner.%s (%s) does not format: %s", setting, tmpl, why);
    return r;
}

static json_t *notebook_container(const struct kube_pod_input *in, char *err, size_t errlen)
{
    const struct kube_conf *c = in->conf;
    json_t *ctr = json_object();
    json_t *requests = json_object(), *limits = json_object();
    json_t *env = NULL, *mounts = NULL, *csc = NULL;
    char *wd = NULL;
    int r = ctr && requests && limits ? 0 : -ENOMEM;
    if (r == 0)
        r = put(ctr, "name", json_string("notebook"));
    if (r == 0)
        r = put(ctr, "image", json_string(c->image ? c->image : ""));
    if (r == 0 && set(c->image_pull_policy))
        r = put(ctr, "imagePullPolicy", json_string(c->image_pull_policy));
    if (r == 0 && in->cmd && !json_is_null(in->cmd))
        r = put(ctr, "args",
                json_is_string(in->cmd) ? json_pack("[O]", in->cmd) : json_deep_copy(in->cmd));
    if (r == 0)
        r = put(ctr, "ports",
                json_pack("[{s:s,s:i}]", "name", "notebook-port", "containerPort", in->port));
    if (r < 0)
        goto fail;
    if (!(env = env_list(in->env, c->image, err, errlen)) || (r = put(ctr, "env", env)) < 0)
        goto fail_quiet;
    if (set(c->working_dir)) {
        if ((r = expand_setting(in->names, "working_dir", c->working_dir, &wd, err, errlen)) < 0)
            goto fail_quiet;
        if ((r = put(ctr, "workingDir", json_string(wd))) < 0)
            goto fail;
    }
    r = resources_of(requests, in->mem_guarantee, in->cpu_guarantee, c->extra_resource_guarantees,
                     "extra_resource_guarantees", err, errlen);
    if (r == 0)
        r = resources_of(limits, in->mem_limit, in->cpu_limit, c->extra_resource_limits,
                         "extra_resource_limits", err, errlen);
    if (r < 0)
        goto fail_quiet;
    r = put(ctr, "resources", json_pack("{s:O,s:O}", "requests", requests, "limits", limits));
    if (r < 0)
        goto fail;
    if ((r = container_security(in, &csc, err, errlen)) < 0)
        goto fail_quiet;
    if (csc && (r = put(ctr, "securityContext", csc)) < 0)
        goto fail;
    if (!(mounts = model_list(c->volume_mounts, "volume_mounts", in->names, err, errlen)) ||
        (r = put(ctr, "volumeMounts", mounts)) < 0)
        goto fail_quiet;
    if (!empty(c->lifecycle_hooks)) {
        json_t *hooks = model(c->lifecycle_hooks, "lifecycle_hooks", err, errlen);
        if (!hooks || (r = put(ctr, "lifecycle", hooks)) < 0)
            goto fail_quiet;
    }
    if (!empty(c->extra_container_config) &&
        (r = model_update(ctr, c->extra_container_config, "extra_container_config", err, errlen)) <
            0)
        goto fail_quiet;
    free(wd);
    json_decref(requests);
    json_decref(limits);
    return ctr;
fail:
    oom(err, errlen);
fail_quiet:
    free(wd);
    json_decref(requests);
    json_decref(limits);
    json_decref(ctr);
    return NULL;
}

static json_t *pull_secrets(const json_t *v, char *err, size_t errlen)
{
    if (!v || json_is_null(v))
        return json_array();
    if (json_is_string(v))
        return json_pack("[{s:s}]", "name", json_string_value(v));
    if (!json_is_array(v)) {
        snprintf(err, errlen, "KubeSpawner.image_pull_secrets must be a list or a string, not %s",
                 type_name(v));
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        char what[64];
        snprintf(what, sizeof(what), "image_pull_secrets[%zu]", i);
        json_t *ref = json_is_string(x) ? json_pack("{s:s}", "name", json_string_value(x))
                                        : model(x, what, err, errlen);
        if (!ref || !out || json_array_append_new(out, ref) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* One of nodeAffinity, podAffinity, podAntiAffinity into @affinity, when either list is set;
 * @node: the required terms sit in a NodeSelector. */
static int affinity_of(json_t *affinity, const char *key, const json_t *preferred,
                       const char *preferred_setting, const json_t *required,
                       const char *required_setting, bool node, char *err, size_t errlen)
{
    json_t *pref = model_list(preferred, preferred_setting, NULL, err, errlen);
    json_t *req = pref ? model_list(required, required_setting, NULL, err, errlen) : NULL;
    json_t *a = req ? json_object() : NULL;
    int r = a ? 0 : -EINVAL;
    if (pref && req && !a)
        r = oom(err, errlen);
    if (r == 0 && json_array_size(pref))
        r = put(a, "preferredDuringSchedulingIgnoredDuringExecution", json_incref(pref));
    if (r == 0 && json_array_size(req))
        r = put(a, "requiredDuringSchedulingIgnoredDuringExecution",
                node ? json_pack("{s:O}", "nodeSelectorTerms", req) : json_incref(req));
    if (r == 0 && json_object_size(a))
        r = put(affinity, key, json_incref(a));
    if (r == -ENOMEM)
        oom(err, errlen);
    json_decref(pref);
    json_decref(req);
    json_decref(a);
    return r;
}

static int pod_spec(json_t *spec, const struct kube_pod_input *in, char *err, size_t errlen)
{
    const struct kube_conf *c = in->conf;
    int r;
    json_t *v;
    char *sa = NULL;

    if ((r = put(spec, "restartPolicy", json_string("OnFailure"))) < 0)
        return oom(err, errlen);
    if (!(v = pull_secrets(c->image_pull_secrets, err, errlen)))
        return -EINVAL;
    if (put(spec, "imagePullSecrets", v) < 0)
        return oom(err, errlen);
    if ((r = check_dict(c->node_selector, "node_selector", err, errlen)) < 0)
        return r;
    if (!empty(c->node_selector) && put(spec, "nodeSelector", json_deep_copy(c->node_selector)) < 0)
        return oom(err, errlen);
    if ((r = pod_security(c, &v, err, errlen)) < 0)
        return r;
    if (v && put(spec, "securityContext", v) < 0)
        return oom(err, errlen);

    /* Containers. */
    json_t *containers = json_array();
    if (!containers || put(spec, "containers", containers) < 0)
        return oom(err, errlen);
    if (!(v = notebook_container(in, err, errlen)))
        return -EINVAL;
    if (json_array_append_new(containers, v) < 0)
        return oom(err, errlen);
    if (!(v = model_list(c->extra_containers, "extra_containers", in->names, err, errlen)))
        return -EINVAL;
    r = json_array_extend(containers, v);
    json_decref(v);
    if (r < 0)
        return oom(err, errlen);

    /* The service account: None keeps the API away from the user's pod. */
    if (set(c->service_account) && (r = expand_setting(in->names, "service_account",
                                                       c->service_account, &sa, err, errlen)) < 0)
        return r;
    if (sa) {
        r = put(spec, "serviceAccountName", json_string(sa));
        free(sa);
        if (r < 0)
            return oom(err, errlen);
    }
    const json_t *automount = c->automount_service_account_token;
    r = 0;
    if (automount && !json_is_null(automount))
        r = put(spec, "automountServiceAccountToken", json_boolean(json_is_true(automount)));
    else if (!set(c->service_account))
        r = put(spec, "automountServiceAccountToken", json_false());
    if (r < 0)
        return oom(err, errlen);

    static const struct {
        const char *key, *setting;
        size_t off;
        bool expand, always;
    } lists[] = {
        {"tolerations", "tolerations", offsetof(struct kube_conf, tolerations), false, false},
        {"initContainers", "init_containers", offsetof(struct kube_conf, init_containers), true,
         false},
        {"volumes", "volumes", offsetof(struct kube_conf, volumes), true, true},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        const json_t *setting = *(json_t *const *)((const char *)c + lists[i].off);
        if (!(v = model_list(setting, lists[i].setting, lists[i].expand ? in->names : NULL, err,
                             errlen)))
            return -EINVAL;
        if (!lists[i].always && json_array_size(v) == 0) {
            json_decref(v);
            continue;
        }
        if (put(spec, lists[i].key, v) < 0)
            return oom(err, errlen);
    }
    if (set(c->scheduler_name) && put(spec, "schedulerName", json_string(c->scheduler_name)) < 0)
        return oom(err, errlen);

    json_t *affinity = json_object();
    if (!affinity)
        return oom(err, errlen);
    r = affinity_of(affinity, "nodeAffinity", c->node_affinity_preferred, "node_affinity_preferred",
                    c->node_affinity_required, "node_affinity_required", true, err, errlen);
    if (r == 0)
        r = affinity_of(affinity, "podAffinity", c->pod_affinity_preferred,
                        "pod_affinity_preferred", c->pod_affinity_required, "pod_affinity_required",
                        false, err, errlen);
    if (r == 0)
        r = affinity_of(affinity, "podAntiAffinity", c->pod_anti_affinity_preferred,
                        "pod_anti_affinity_preferred", c->pod_anti_affinity_required,
                        "pod_anti_affinity_required", false, err, errlen);
    if (r == 0 && json_object_size(affinity)) {
        if (put(spec, "affinity", affinity) < 0)
            return oom(err, errlen);
    } else
        json_decref(affinity);
    if (r < 0)
        return r;
    if (set(c->priority_class_name) &&
        put(spec, "priorityClassName", json_string(c->priority_class_name)) < 0)
        return oom(err, errlen);

    if ((r = check_dict(c->extra_pod_config, "extra_pod_config", err, errlen)) < 0)
        return r;
    if (!empty(c->extra_pod_config)) {
        json_t *x = kube_expand_json(in->names, c->extra_pod_config);
        r = x ? model_update(spec, x, "extra_pod_config", err, errlen) : oom(err, errlen);
        json_decref(x);
    }
    return r;
}

json_t *kube_pod_manifest(const struct kube_pod_input *in, char *err, size_t errlen)
{
    const struct kube_conf *c = in->conf;
    if (errlen)
        err[0] = '\0';
    if (check_dict(c->extra_labels, "extra_labels", err, errlen) < 0 ||
        check_dict(c->extra_annotations, "extra_annotations", err, errlen) < 0)
        return NULL;
    json_t *extra = expanded_dict(in->names, c->extra_annotations);
    json_t *meta = metadata(in->pod_name, kube_pod_labels(c, in->names, in->user, in->server_name),
                            extra ? common_annotations(in->user, in->server_name, extra) : NULL);
    json_decref(extra);
    json_t *spec = json_object();
    json_t *pod = meta && spec ? json_pack("{s:s,s:s,s:O,s:O}", "apiVersion", "v1", "kind", "Pod",
                                           "metadata", meta, "spec", spec)
                               : NULL;
    json_decref(meta);
    json_decref(spec);
    if (!pod) {
        oom(err, errlen);
        return NULL;
    }
    if (pod_spec(spec, in, err, errlen) < 0) {
        /* Only running out of memory leaves no message of its own. */
        if (errlen && !err[0])
            oom(err, errlen);
        json_decref(pod);
        return NULL;
    }
    return pod;
}

/* The PVC. */

json_t *kube_pvc_manifest(const struct kube_conf *conf, const struct kube_names *names,
                          const char *user, const char *server_name, const char *pvc_name,
                          char *err, size_t errlen)
{
    if (check_dict(conf->storage_extra_labels, "storage_extra_labels", err, errlen) < 0 ||
        check_dict(conf->storage_extra_annotations, "storage_extra_annotations", err, errlen) < 0 ||
        check_dict(conf->storage_selector, "storage_selector", err, errlen) < 0)
        return NULL;
    json_t *xl = expanded_dict(names, conf->storage_extra_labels);
    json_t *xa = expanded_dict(names, conf->storage_extra_annotations);
    json_t *labels = xl ? common_labels(conf, user, xl) : NULL;
    json_t *annotations = xa ? common_annotations(user, server_name, xa) : NULL;
    json_decref(xl);
    json_decref(xa);
    const char *component = conf->component_label ? conf->component_label : "";
    int r = labels && annotations ? 0 : -ENOMEM;
    if (r == 0)
        r = put(labels, "app.kubernetes.io/component", json_string(component));
    if (r == 0)
        r = put(labels, "component", json_string("singleuser-storage"));
    /* KubeSpawner sets the beta annotation as well as storageClassName. */
    if (r == 0 && set(conf->storage_class))
        r = put(annotations, "volume.beta.kubernetes.io/storage-class",
                json_string(conf->storage_class));
    json_t *modes = json_array();
    if (!modes)
        r = -ENOMEM;
    if (conf->storage_access_modes)
        for (char **m = conf->storage_access_modes; r == 0 && *m; m++)
            if (json_array_append_new(modes, json_string(*m)) < 0)
                r = -ENOMEM;
    json_t *meta = r == 0 ? metadata(pvc_name, labels, annotations) : NULL;
    if (r < 0) {
        json_decref(labels);
        json_decref(annotations);
    }
    json_t *spec =
        meta ? json_pack(
                   "{s:o,s:{s:{s:o}}}", "accessModes", modes, "resources", "requests", "storage",
                   set(conf->storage_capacity) ? json_string(conf->storage_capacity) : json_null())
             : NULL;
    if (!meta)
        json_decref(modes);
    json_t *pvc = spec ? json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "v1", "kind",
                                   "PersistentVolumeClaim", "metadata", meta, "spec", spec)
                       : NULL;
    if (!spec)
        json_decref(meta);
    r = pvc ? 0 : -ENOMEM;
    if (r == 0 && set(conf->storage_class))
        r = put(spec, "storageClassName", json_string(conf->storage_class));
    if (r == 0 && !empty(conf->storage_selector))
        r = put(spec, "selector", kube_expand_json(names, conf->storage_selector));
    if (r < 0) {
        json_decref(pvc);
        oom(err, errlen);
        return NULL;
    }
    return pvc;
}

/* The service. */

json_t *kube_service_manifest(const struct kube_conf *conf, const struct kube_names *names,
                              const char *user, const char *server_name, const char *pod_name,
                              const char *pod_uid, int port)
{
    if (check_dict(conf->extra_labels, "extra_labels", NULL, 0) < 0 ||
        check_dict(conf->extra_annotations, "extra_annotations", NULL, 0) < 0)
        return NULL;
    json_t *xl = expanded_dict(names, conf->extra_labels);
    json_t *xa = expanded_dict(names, conf->extra_annotations);
    json_t *selector = xl ? pod_labels(conf, user, server_name, xl) : NULL;
    json_t *meta = metadata(pod_name, xl ? common_labels(conf, user, xl) : NULL,
                            xa ? common_annotations(user, server_name, xa) : NULL);
    json_decref(xl);
    json_decref(xa);
    json_t *owner = json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", "v1", "kind", "Pod",
                              "name", pod_name, "uid", pod_uid ? pod_uid : "", "blockOwnerDeletion",
                              1, "controller", 0);
    if (!meta || !selector || !owner || put(meta, "ownerReferences", owner) < 0) {
        if (!meta)
            json_decref(owner);
        json_decref(meta);
        json_decref(selector);
        return NULL;
    }
    /* KubeSpawner leaves apiVersion out (the API server takes it from the path); it is
     * written here so that the object says what it is on its own. */
    return json_pack("{s:s,s:s,s:o,s:{s:s,s:[{s:s,s:i,s:i}],s:o}}", "apiVersion", "v1", "kind",
                     "Service", "metadata", meta, "spec", "type", "ClusterIP", "ports", "name",
                     "http", "port", port, "targetPort", port, "selector", selector);
}

/* The namespace. */

json_t *kube_namespace_manifest(const struct kube_conf *conf, const struct kube_names *names,
                                const char *namespace)
{
    if (check_dict(conf->user_namespace_labels, "user_namespace_labels", NULL, 0) < 0 ||
        check_dict(conf->user_namespace_annotations, "user_namespace_annotations", NULL, 0) < 0)
        return NULL;
    json_t *meta = metadata(namespace, expanded_dict(names, conf->user_namespace_labels),
                            expanded_dict(names, conf->user_namespace_annotations));
    return meta ? json_pack("{s:s,s:s,s:o}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                            meta)
                : NULL;
}
