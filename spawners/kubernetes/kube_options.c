/* KubeSpawner 7.1's settings (kubespawner/spawner.py): names, types and defaults as there, so a
 * zero-to-jupyterhub configuration reads unchanged. Settings that take Python callables there
 * (modify_pod_hook, after_pod_created_hook, get_pod_url, a callable uid) are not options here:
 * the hub warns that they are ignored, as for the other modules. Beyond KubeSpawner:
 * user_namespace_resource_quota, user_namespace_limit_range, auth_state_uid_key and
 * auth_state_gid_key. */
#include "kube.h"

#include <errno.h>
#include <ganymede/quantity.h>
#include <string.h>

#define OPT(field) offsetof(struct kube_conf, field)

static int check_int_or_none(const json_t *v, const char **why)
{
    *why = "None or an integer from 0 to 2147483647 (callables cannot be given outside Python)";
    return json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0 &&
                               json_integer_value(v) <= 2147483647)
               ? 0
               : -EINVAL;
}

static int check_ints(const json_t *v, const char **why)
{
    *why = "a list of integers (group ids)";
    if (!json_is_array(v))
        return -EINVAL;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (check_int_or_none(x, why) < 0 || json_is_null(x))
            return -EINVAL;
    }
    return 0;
}

/* A list of dicts, or a dict of them whose values are taken in key order (_sorted_dict_values). */
static int check_list_or_dict(const json_t *v, const char **why)
{
    if (json_is_array(v))
        return gm_check_dict_list(v, why);
    *why = "a list of dicts, or a dict of dicts (taken in the order of their keys)";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!json_is_object(x))
            return -EINVAL;
    }
    return 0;
}

static int check_dict_or_none(const json_t *v, const char **why)
{
    *why = "a dict or None";
    return json_is_null(v) || json_is_object(v) ? 0 : -EINVAL;
}

static int check_quantities(const json_t *v, const char **why)
{
    *why = "a dict of resource name to Kubernetes quantity (\"1\", \"500m\", \"2Gi\")";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        int64_t q;
        if (json_is_integer(x) && json_integer_value(x) >= 0)
            continue;
        if (!json_is_string(x) ||
            gm_quantity_parse(json_string_value(x), GM_QUANTITY_MILLI, &q, NULL) < 0 || q < 0)
            return -EINVAL;
    }
    return 0;
}

static int check_pull_secrets(const json_t *v, const char **why)
{
    *why = "None, a secret name, or a list of names or of {\"name\": name}";
    if (json_is_null(v) || json_is_string(v))
        return 0;
    if (!json_is_array(v))
        return -EINVAL;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x) && !json_is_string(json_object_get(x, "name")))
            return -EINVAL;
    }
    return 0;
}

static int check_profiles(const json_t *v, const char **why)
{
    *why = "a list of profiles (dicts), or a dict of them keyed by slug (callables cannot be "
           "given outside Python)";
    return json_is_array(v) || json_is_object(v) ? 0 : -EINVAL;
}

static int check_nonnegative(const json_t *v, const char **why)
{
    *why = "an integer >= 0";
    return json_integer_value(v) >= 0 ? 0 : -EINVAL;
}

static int check_timeout(const json_t *v, const char **why)
{
    *why = "a number of seconds from 1 to 3600";
    return json_integer_value(v) >= 1 && json_integer_value(v) <= 3600 ? 0 : -EINVAL;
}

static const char *const slug_schemes[] = {"safe", "escape", NULL};
static const char *const pull_policies[] = {"", "Always", "IfNotPresent", "Never", NULL};

static const struct gm_option kube_options[] = {
    /* The API server. */
    GM_OPTION("k8s_api_host", GM_OPTION_STRING, OPT(k8s_api_host), "\"\"",
              "The API server (\"https://host:port\"); \"\": in-cluster or the kubeconfig's."),
    GM_OPTION("k8s_api_ssl_ca_cert", GM_OPTION_STRING, OPT(k8s_api_ssl_ca_cert), "\"\"",
              "A CA bundle file for the API server (\"\": the service account's or kubeconfig's)."),
    GM_OPTION_X("k8s_api_verify_ssl", GM_OPTION_JSON, OPT(k8s_api_verify_ssl), "null",
                "Verify the API server's certificate (None: yes).", .check = gm_check_bool_or_null),
    GM_OPTION_X("k8s_api_request_timeout", GM_OPTION_INT, OPT(k8s_api_request_timeout), "3",
                "Seconds one API request may take.", .check = check_timeout),
    GM_OPTION_X("k8s_api_request_retry_timeout", GM_OPTION_INT, OPT(k8s_api_request_retry_timeout),
                "30", "Seconds a request may take with its retries.", .check = check_timeout),
    GM_OPTION("k8s_api_threadpool_workers", GM_OPTION_INT, OPT(k8s_api_threadpool_workers), "0",
              "Deprecated in KubeSpawner 3; no effect."),
    /* Names and namespaces. */
    GM_OPTION("namespace", GM_OPTION_STRING, OPT(namespace), "\"\"",
              "The namespace of the pods (\"\": the hub's service account's, else default)."),
    GM_OPTION("enable_user_namespaces", GM_OPTION_BOOL, OPT(enable_user_namespaces), "false",
              "Give each user a namespace from user_namespace_template (created when missing)."),
    GM_OPTION("user_namespace_template", GM_OPTION_STRING, OPT(user_namespace_template),
              "\"{hubnamespace}-{username}\"", "The name of each user's namespace."),
    GM_OPTION_X("user_namespace_labels", GM_OPTION_JSON, OPT(user_namespace_labels), "{}",
                "Labels of user namespaces ({username} expanded).", .check = gm_check_str_dict),
    GM_OPTION_X("user_namespace_annotations", GM_OPTION_JSON, OPT(user_namespace_annotations), "{}",
                "Annotations of user namespaces ({username} expanded).",
                .check = gm_check_str_dict),
    GM_OPTION_X("user_namespace_resource_quota", GM_OPTION_JSON, OPT(user_namespace_resource_quota),
                "null",
                "Ganymede: the spec of a ResourceQuota made in each user namespace (\"hard\": "
                "{\"limits.memory\": \"8Gi\", \"pods\": \"4\"}).",
                .check = check_dict_or_none),
    GM_OPTION_X("user_namespace_limit_range", GM_OPTION_JSON, OPT(user_namespace_limit_range),
                "null",
                "Ganymede: the spec of a LimitRange made in each user namespace (\"limits\": "
                "[...]).",
                .check = check_dict_or_none),
    GM_OPTION_X("slug_scheme", GM_OPTION_STRING, OPT(slug_scheme), "\"safe\"",
                "How names are made DNS-safe: safe (KubeSpawner 7) or escape (before 7).",
                .choices = slug_schemes),
    GM_OPTION("pod_name_template", GM_OPTION_STRING, OPT(pod_name_template),
              "\"jupyter-{user_server}\"", "The name of each pod."),
    GM_OPTION("dns_name_template", GM_OPTION_STRING, OPT(dns_name_template),
              "\"{name}.{namespace}.svc.cluster.local\"",
              "The DNS name of a pod's service ({name}, {namespace})."),
    GM_OPTION("pod_connect_ip", GM_OPTION_STRING, OPT(pod_connect_ip), "\"\"",
              "Where the hub reaches a pod (\"\": its status.podIP), templated per dot-part."),
    GM_OPTION("component_label", GM_OPTION_STRING, OPT(component_label), "\"singleuser-server\"",
              "The component label of pods."),
    GM_OPTION_X("common_labels", GM_OPTION_JSON, OPT(common_labels),
                "{\"app.kubernetes.io/name\": \"jupyterhub\", "
                "\"app.kubernetes.io/managed-by\": \"kubespawner\", \"app\": \"jupyterhub\", "
                "\"heritage\": \"jupyterhub\"}",
                "Labels of every pod and PVC.", .check = gm_check_str_dict),
    GM_OPTION_X("extra_labels", GM_OPTION_JSON, OPT(extra_labels), "{}",
                "More pod labels ({username} expanded).", .check = gm_check_str_dict),
    GM_OPTION_X("extra_annotations", GM_OPTION_JSON, OPT(extra_annotations), "{}",
                "More pod annotations ({username} expanded).", .check = gm_check_str_dict),
    GM_OPTION("services_enabled", GM_OPTION_BOOL, OPT(services_enabled), "false",
              "Give each pod a ClusterIP service and reach it by dns_name."),
    GM_OPTION("events_enabled", GM_OPTION_BOOL, OPT(events_enabled), "true",
              "Show the pod's events as spawn progress."),
    /* The container. */
    GM_OPTION("image", GM_OPTION_STRING, OPT(image), "\"quay.io/jupyterhub/singleuser:latest\"",
              "The image of the notebook container."),
    GM_OPTION_X("image_pull_policy", GM_OPTION_STRING, OPT(image_pull_policy), "\"\"",
                "Always, IfNotPresent or Never (\"\": the API server's default).",
                .choices = pull_policies),
    GM_OPTION_X("image_pull_secrets", GM_OPTION_JSON, OPT(image_pull_secrets), "null",
                "Secrets to pull the image with: a name or a list.", .check = check_pull_secrets),
    GM_OPTION_X("cmd", GM_OPTION_JSON, OPT(cmd), "null",
                "The server's command, given to the container as its args (None: the image's "
                "command).",
                .check = gm_check_command),
    GM_OPTION("working_dir", GM_OPTION_STRING, OPT(working_dir), "\"\"",
              "The container's working directory ({username} expanded)."),
    GM_OPTION_X("uid", GM_OPTION_JSON, OPT(uid), "null", "runAsUser of the notebook container.",
                .check = check_int_or_none),
    GM_OPTION_X("gid", GM_OPTION_JSON, OPT(gid), "null", "runAsGroup of the notebook container.",
                .check = check_int_or_none),
    GM_OPTION_X("fs_gid", GM_OPTION_JSON, OPT(fs_gid), "null", "The pod's fsGroup.",
                .check = check_int_or_none),
    GM_OPTION_X("supplemental_gids", GM_OPTION_JSON, OPT(supplemental_gids), "[]",
                "The pod's supplementalGroups.", .check = check_ints),
    GM_OPTION("privileged", GM_OPTION_BOOL, OPT(privileged), "false",
              "Run the notebook container privileged."),
    GM_OPTION_X("allow_privilege_escalation", GM_OPTION_JSON, OPT(allow_privilege_escalation),
                "false", "allowPrivilegeEscalation of the notebook container (None: unset).",
                .check = gm_check_bool_or_null),
    GM_OPTION_X("container_security_context", GM_OPTION_JSON, OPT(container_security_context), "{}",
                "A securityContext merged over the notebook container's.", .check = gm_check_dict),
    GM_OPTION_X("pod_security_context", GM_OPTION_JSON, OPT(pod_security_context), "{}",
                "A securityContext merged over the pod's.", .check = gm_check_dict),
    GM_OPTION_X("extra_resource_guarantees", GM_OPTION_JSON, OPT(extra_resource_guarantees), "{}",
                "More resource requests ({\"nvidia.com/gpu\": \"1\"}).", .check = check_quantities),
    GM_OPTION_X("extra_resource_limits", GM_OPTION_JSON, OPT(extra_resource_limits), "{}",
                "More resource limits ({\"nvidia.com/gpu\": \"1\"}).", .check = check_quantities),
    GM_OPTION_X("lifecycle_hooks", GM_OPTION_JSON, OPT(lifecycle_hooks), "{}",
                "The notebook container's lifecycle (postStart, preStop).", .check = gm_check_dict),
    GM_OPTION_X("extra_container_config", GM_OPTION_JSON, OPT(extra_container_config), "{}",
                "Fields merged into the notebook container.", .check = gm_check_dict),
    GM_OPTION_X("extra_pod_config", GM_OPTION_JSON, OPT(extra_pod_config), "{}",
                "Fields merged into the pod's spec.", .check = gm_check_dict),
    GM_OPTION_X("init_containers", GM_OPTION_JSON, OPT(init_containers), "[]",
                "Init containers of the pod.", .check = check_list_or_dict),
    GM_OPTION_X("extra_containers", GM_OPTION_JSON, OPT(extra_containers), "[]",
                "More containers in the pod.", .check = check_list_or_dict),
    GM_OPTION_X("volumes", GM_OPTION_JSON, OPT(volumes), "[]",
                "Volumes of the pod ({username}, {pvc_name} expanded).",
                .check = check_list_or_dict),
    GM_OPTION_X("volume_mounts", GM_OPTION_JSON, OPT(volume_mounts), "[]",
                "Volume mounts of the notebook container.", .check = check_list_or_dict),
    GM_OPTION_X("node_selector", GM_OPTION_JSON, OPT(node_selector), "{}",
                "The pod's nodeSelector.", .check = gm_check_str_dict),
    GM_OPTION_X("tolerations", GM_OPTION_JSON, OPT(tolerations), "[]", "The pod's tolerations.",
                .check = check_list_or_dict),
    GM_OPTION_X("node_affinity_preferred", GM_OPTION_JSON, OPT(node_affinity_preferred), "[]",
                "PreferredSchedulingTerms of the pod's nodeAffinity.", .check = check_list_or_dict),
    GM_OPTION_X("node_affinity_required", GM_OPTION_JSON, OPT(node_affinity_required), "[]",
                "NodeSelectorTerms of the pod's required nodeAffinity.",
                .check = check_list_or_dict),
    GM_OPTION_X("pod_affinity_preferred", GM_OPTION_JSON, OPT(pod_affinity_preferred), "[]",
                "WeightedPodAffinityTerms of the pod's podAffinity.", .check = check_list_or_dict),
    GM_OPTION_X("pod_affinity_required", GM_OPTION_JSON, OPT(pod_affinity_required), "[]",
                "PodAffinityTerms of the pod's required podAffinity.", .check = check_list_or_dict),
    GM_OPTION_X("pod_anti_affinity_preferred", GM_OPTION_JSON, OPT(pod_anti_affinity_preferred),
                "[]", "WeightedPodAffinityTerms of the pod's podAntiAffinity.",
                .check = check_list_or_dict),
    GM_OPTION_X("pod_anti_affinity_required", GM_OPTION_JSON, OPT(pod_anti_affinity_required), "[]",
                "PodAffinityTerms of the pod's required podAntiAffinity.",
                .check = check_list_or_dict),
    GM_OPTION("service_account", GM_OPTION_STRING, OPT(service_account), "\"\"",
              "The pod's service account (\"\": none, and no token mounted)."),
    GM_OPTION_X("automount_service_account_token", GM_OPTION_JSON,
                OPT(automount_service_account_token), "null",
                "Mount the service account's token (None: only when service_account is set).",
                .check = gm_check_bool_or_null),
    GM_OPTION("scheduler_name", GM_OPTION_STRING, OPT(scheduler_name), "\"\"",
              "The pod's schedulerName (\"\": the cluster's default)."),
    GM_OPTION("priority_class_name", GM_OPTION_STRING, OPT(priority_class_name), "\"\"",
              "The pod's priorityClassName."),
    /* Storage. */
    GM_OPTION("storage_pvc_ensure", GM_OPTION_BOOL, OPT(storage_pvc_ensure), "false",
              "Create a PersistentVolumeClaim for each server before its pod."),
    GM_OPTION("pvc_name_template", GM_OPTION_STRING, OPT(pvc_name_template),
              "\"claim-{user_server}\"", "The name of each claim."),
    GM_OPTION("storage_capacity", GM_OPTION_STRING, OPT(storage_capacity), "\"\"",
              "The storage requested by each claim (\"10Gi\")."),
    GM_OPTION("storage_class", GM_OPTION_STRING, OPT(storage_class), "\"\"",
              "The claim's storageClassName (\"\": the cluster's default)."),
    GM_OPTION("storage_access_modes", GM_OPTION_STRINGS, OPT(storage_access_modes),
              "[\"ReadWriteOnce\"]", "The claim's accessModes."),
    GM_OPTION_X("storage_selector", GM_OPTION_JSON, OPT(storage_selector), "{}",
                "The claim's selector.", .check = gm_check_dict),
    GM_OPTION_X("storage_extra_labels", GM_OPTION_JSON, OPT(storage_extra_labels), "{}",
                "More labels of claims ({username} expanded).", .check = gm_check_str_dict),
    GM_OPTION_X("storage_extra_annotations", GM_OPTION_JSON, OPT(storage_extra_annotations), "{}",
                "More annotations of claims.", .check = gm_check_str_dict),
    GM_OPTION("delete_pvc", GM_OPTION_BOOL, OPT(delete_pvc), "true",
              "Delete a user's claims when the user is deleted."),
    GM_OPTION("remember_pvc_name", GM_OPTION_BOOL, OPT(remember_pvc_name), "true",
              "Keep using the claim name saved in the server's state."),
    /* Lifecycle. */
    GM_OPTION_X("delete_grace_period", GM_OPTION_INT, OPT(delete_grace_period), "1",
                "Seconds a stopping pod gets before it is killed.", .check = check_nonnegative),
    GM_OPTION("delete_stopped_pods", GM_OPTION_BOOL, OPT(delete_stopped_pods), "true",
              "Delete a pod whose server exited."),
    GM_OPTION_X("slow_spawn_message_threshold", GM_OPTION_INT, OPT(slow_spawn_message_threshold),
                "60", "Seconds of starting before slow_spawn_message is shown.",
                .check = check_nonnegative),
    GM_OPTION_X("slow_spawn_message_frequency", GM_OPTION_INT, OPT(slow_spawn_message_frequency),
                "5", "Seconds between slow_spawn_messages.", .check = gm_check_positive),
    GM_OPTION("slow_spawn_message", GM_OPTION_STRING, OPT(slow_spawn_message),
              "\"Server launch is taking longer than expected. Please be patient! Current time "
              "spent waiting: {seconds} seconds.\"",
              "The progress message of a slow start ({seconds})."),
    GM_OPTION("auth_state_uid_key", GM_OPTION_STRING, OPT(auth_state_uid_key), "\"\"",
              "Ganymede: the uid from this path in the user's auth_state (\"oauth_user.id\")."),
    GM_OPTION("auth_state_gid_key", GM_OPTION_STRING, OPT(auth_state_gid_key), "\"\"",
              "Ganymede: the gid from this path in the user's auth_state."),
    /* Profiles. */
    GM_OPTION_X("profile_list", GM_OPTION_JSON, OPT(profile_list), "[]",
                "Environments users choose from, each with kubespawner_override.",
                .check = check_profiles),
    GM_OPTION("profile_form_template", GM_OPTION_STRING, OPT(profile_form_template), "\"\"",
              "Not supported (Jinja templates): must stay \"\"."),
    GM_OPTION("additional_profile_form_template_paths", GM_OPTION_STRINGS,
              OPT(additional_profile_form_template_paths), NULL,
              "Not supported (Jinja templates): must stay empty."),
    /* Accepted so that existing configurations start. */
    GM_OPTION("handle_legacy_names", GM_OPTION_BOOL, OPT(handle_legacy_names), "true",
              "Accepted; names saved in the state are always kept."),
    GM_OPTION("secret_name_template", GM_OPTION_STRING, OPT(secret_name_template), "\"{pod_name}\"",
              "Accepted; internal_ssl is not supported."),
    GM_OPTION("secret_mount_path", GM_OPTION_STRING, OPT(secret_mount_path),
              "\"/etc/jupyterhub/internal-ssl/\"", "Accepted; internal_ssl is not supported."),
    GM_OPTION("hub_connect_ip", GM_OPTION_STRING, OPT(hub_connect_ip), "\"\"",
              "Deprecated: use JupyterHub.hub_connect_url."),
    GM_OPTION("hub_connect_port", GM_OPTION_INT, OPT(hub_connect_port), "0",
              "Deprecated: use JupyterHub.hub_connect_url."),
    /* Deprecated names. */
    GM_OPTION("singleuser_image_spec", GM_OPTION_STRING, OPT(singleuser_image_spec), "\"\"",
              "Deprecated: image."),
    GM_OPTION("singleuser_image_pull_policy", GM_OPTION_STRING, OPT(singleuser_image_pull_policy),
              "\"\"", "Deprecated: image_pull_policy."),
    GM_OPTION_X("singleuser_uid", GM_OPTION_JSON, OPT(singleuser_uid), "null", "Deprecated: uid.",
                .check = check_int_or_none),
    GM_OPTION_X("singleuser_fs_gid", GM_OPTION_JSON, OPT(singleuser_fs_gid), "null",
                "Deprecated: fs_gid.", .check = check_int_or_none),
    GM_OPTION_X("singleuser_node_selector", GM_OPTION_JSON, OPT(singleuser_node_selector), "null",
                "Deprecated: node_selector.", .check = check_dict_or_none),
    GM_OPTION("singleuser_service_account", GM_OPTION_STRING, OPT(singleuser_service_account),
              "\"\"", "Deprecated: service_account."),
    GM_OPTION_X("singleuser_extra_labels", GM_OPTION_JSON, OPT(singleuser_extra_labels), "null",
                "Deprecated: extra_labels.", .check = check_dict_or_none),
    GM_OPTION_X("singleuser_extra_annotations", GM_OPTION_JSON, OPT(singleuser_extra_annotations),
                "null", "Deprecated: extra_annotations.", .check = check_dict_or_none),
    GM_OPTION_END,
};

const struct gm_option_class kube_class = {
    .name = "KubeSpawner",
    .parent = "Spawner",
    .help = "Kubernetes: one pod per server (kubespawner.KubeSpawner 7.1).",
    .options = kube_options,
};

/* A profile's kubespawner_override applied to a shallow copy of the settings. Values are
 * borrowed from @overrides, which must outlive @out; @out is never released. Spawner settings
 * that the hub applies (cpu_limit, mem_limit, cpu_guarantee, mem_guarantee, environment) go to
 * @sp instead. */
/* KubeSpawner's recursive_update: dicts merge (and go when they end up empty), None deletes. */
static void recursive_update(json_t *target, const json_t *changes)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)changes, k, v)
    {
        if (json_is_object(v)) {
            json_t *t = json_object_get(target, k);
            if (!json_is_object(t)) {
                t = json_object();
                json_object_set_new(target, k, t);
            }
            recursive_update(t, v);
            if (!json_object_size(t))
                json_object_del(target, k);
        } else if (json_is_null(v)) {
            json_object_del(target, k);
        } else {
            json_object_set(target, k, v);
        }
    }
}

int kube_conf_override(const struct kube_conf *base, json_t *overrides, struct kube_conf *out,
                       struct kube_spawner_overrides *sp, char *err, size_t errlen)
{
    *out = *base;
    memset(sp, 0, sizeof(*sp));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)overrides, k, v)
    {
        if (strcmp(k, "cpu_limit") == 0 || strcmp(k, "cpu_guarantee") == 0) {
            if (!json_is_number(v) || json_number_value(v) < 0) {
                snprintf(err, errlen, "kubespawner_override %s must be a number of cores", k);
                return -EINVAL;
            }
            *(k[4] == 'l' ? &sp->cpu_limit : &sp->cpu_guarantee) = json_number_value(v);
            continue;
        }
        if (strcmp(k, "mem_limit") == 0 || strcmp(k, "mem_guarantee") == 0) {
            int64_t bytes;
            if (gm_bytes_json(v, &bytes) < 0) {
                snprintf(err, errlen,
                         "kubespawner_override %s must be a number of bytes or a size like "
                         "\"2G\"",
                         k);
                return -EINVAL;
            }
            *(k[4] == 'l' ? &sp->mem_limit : &sp->mem_guarantee) = bytes;
            continue;
        }
        if (strcmp(k, "environment") == 0) {
            if (gm_check_str_dict(v, &(const char *){NULL}) < 0) {
                snprintf(err, errlen,
                         "kubespawner_override environment must be a dict of "
                         "strings");
                return -EINVAL;
            }
            sp->environment = v;
            continue;
        }
        const struct gm_option *o = kube_options;
        while (o->name && strcmp(o->name, k) != 0)
            o++;
        if (!o->name) {
            snprintf(err, errlen,
                     "kubespawner_override sets %s, which is not a KubeSpawner setting Ganymede "
                     "knows",
                     k);
            return -EINVAL;
        }
        const char *why = "a value of another type";
        void *field = (char *)out + o->offset;
        bool ok;
        switch (o->type) {
        case GM_OPTION_BOOL:
            ok = json_is_boolean(v);
            if (ok)
                *(bool *)field = json_is_true(v);
            break;
        case GM_OPTION_INT:
            ok = json_is_integer(v);
            if (ok)
                *(int64_t *)field = json_integer_value(v);
            break;
        case GM_OPTION_STRING:
            ok = json_is_string(v) || json_is_null(v);
            if (ok)
                *(const char **)field = json_is_null(v) ? "" : json_string_value(v);
            break;
        case GM_OPTION_JSON:
            ok = true;
            if (json_is_object(v) && json_is_object(*(json_t **)field)) {
                /* A dict merges into the setting's dict; the result replaces the override's
                 * value, so that @overrides owns it. */
                json_t *merged = json_deep_copy(*(json_t **)field);
                if (!merged) {
                    snprintf(err, errlen, "out of memory");
                    return -ENOMEM;
                }
                recursive_update(merged, v);
                json_object_set_new(overrides, k, merged);
                v = merged;
            }
            *(json_t **)field = v;
            break;
        default:
            ok = false;
            why = "a list (not supported in an override)";
            break;
        }
        if (ok && o->check && !json_is_null(v) && o->check(v, &why) < 0)
            ok = false;
        if (ok && o->choices && json_is_string(v)) {
            ok = false;
            for (const char *const *c = o->choices; *c; c++)
                ok = ok || strcmp(*c, json_string_value(v)) == 0;
        }
        if (!ok) {
            snprintf(err, errlen, "kubespawner_override %s must be %s", k, why);
            return -EINVAL;
        }
    }
    return 0;
}
