/* spawners/kubernetes/kube_pod.c: the pod, PVC, service and namespace KubeSpawner 7.1 sends,
 * compared with what its make_pod, make_pvc, make_service and make_namespace serialize to
 * (tests/test_objects.py of kubespawner gives the shape of each). */
#include "test.h"
#include "spawners/kubernetes/kube.h"

#include <errno.h>
#include <ganymede/quantity.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad JSON in the test: %s: %s", text, e.text);
    return v;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    if (!json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("got  %s\nwant %s", g ? g : "(null)", w);
    }
    json_decref(want);
}

/* The settings as kube_options.c's defaults (KubeSpawner 7.1's) leave them. */
static char *access_modes[] = {"ReadWriteOnce", NULL};

static void conf_defaults(struct kube_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->slug_scheme = "safe";
    c->component_label = "singleuser-server";
    c->common_labels = parse("{\"app.kubernetes.io/name\": \"jupyterhub\", "
                             "\"app.kubernetes.io/managed-by\": \"kubespawner\", "
                             "\"app\": \"jupyterhub\", \"heritage\": \"jupyterhub\"}");
    c->extra_labels = json_object();
    c->extra_annotations = json_object();
    c->image = "quay.io/jupyterhub/singleuser:latest";
    c->image_pull_policy = "";
    c->image_pull_secrets = json_null();
    c->cmd = json_null();
    c->working_dir = "";
    c->uid = json_null();
    c->gid = json_null();
    c->fs_gid = json_null();
    c->supplemental_gids = json_array();
    c->allow_privilege_escalation = json_false();
    c->container_security_context = json_object();
    c->pod_security_context = json_object();
    c->extra_resource_guarantees = json_object();
    c->extra_resource_limits = json_object();
    c->lifecycle_hooks = json_object();
    c->extra_container_config = json_object();
    c->extra_pod_config = json_object();
    c->init_containers = json_array();
    c->extra_containers = json_array();
    c->volumes = json_array();
    c->volume_mounts = json_array();
    c->node_selector = json_object();
    c->tolerations = json_array();
    c->node_affinity_preferred = json_array();
    c->node_affinity_required = json_array();
    c->pod_affinity_preferred = json_array();
    c->pod_affinity_required = json_array();
    c->pod_anti_affinity_preferred = json_array();
    c->pod_anti_affinity_required = json_array();
    c->service_account = "";
    c->automount_service_account_token = json_null();
    c->scheduler_name = "";
    c->priority_class_name = "";
    c->storage_capacity = "";
    c->storage_class = "";
    c->storage_access_modes = access_modes;
    c->storage_selector = json_object();
    c->storage_extra_labels = json_object();
    c->storage_extra_annotations = json_object();
    c->user_namespace_labels = json_object();
    c->user_namespace_annotations = json_object();
}

static void replace(json_t **field, const char *text)
{
    json_decref(*field);
    *field = parse(text);
}

static void conf_release(struct kube_conf *c)
{
    json_t **fields[] = {
        &c->common_labels,
        &c->extra_labels,
        &c->extra_annotations,
        &c->image_pull_secrets,
        &c->cmd,
        &c->uid,
        &c->gid,
        &c->fs_gid,
        &c->supplemental_gids,
        &c->allow_privilege_escalation,
        &c->container_security_context,
        &c->pod_security_context,
        &c->extra_resource_guarantees,
        &c->extra_resource_limits,
        &c->lifecycle_hooks,
        &c->extra_container_config,
        &c->extra_pod_config,
        &c->init_containers,
        &c->extra_containers,
        &c->volumes,
        &c->volume_mounts,
        &c->node_selector,
        &c->tolerations,
        &c->node_affinity_preferred,
        &c->node_affinity_required,
        &c->pod_affinity_preferred,
        &c->pod_affinity_required,
        &c->pod_anti_affinity_preferred,
        &c->pod_anti_affinity_required,
        &c->automount_service_account_token,
        &c->storage_selector,
        &c->storage_extra_labels,
        &c->storage_extra_annotations,
        &c->user_namespace_labels,
        &c->user_namespace_annotations,
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_decref(*fields[i]);
        *fields[i] = NULL;
    }
}

/* One server of @user, with its names as kube_start sets them. */
struct fixture {
    struct kube_conf conf;
    struct kube_names names;
    struct kube_pod_input in;
    json_t *cmd;
    char pod_name[128];
    char err[KUBE_MESSAGE_MAX];
};

static const char *const alice_env[] = {"JUPYTERHUB_USER=alice", "JUPYTERHUB_API_TOKEN=secret",
                                        NULL};

static void fixture_init(struct fixture *f, const char *user, const char *server)
{
    memset(f, 0, sizeof(*f));
    conf_defaults(&f->conf);
    assert_int_equal(kube_names_init(&f->names, &f->conf, "jhub", user, server, 7), 0);
    const char *safe_user = json_string_value(json_object_get(f->names.fields, "username"));
    const char *us = json_string_value(json_object_get(f->names.fields, "user_server"));
    snprintf(f->pod_name, sizeof(f->pod_name), "jupyter-%s", us);
    char pvc[128];
    snprintf(pvc, sizeof(pvc), "claim-%s", us);
    kube_names_set(&f->names, "pod_name", f->pod_name);
    kube_names_set(&f->names, "pvc_name", pvc);
    kube_names_set(&f->names, "namespace", "jhub");
    (void)safe_user;
    f->cmd = parse("[\"jupyterhub-singleuser\"]");
    f->in = (struct kube_pod_input){
        .conf = &f->conf,
        .names = &f->names,
        .pod_name = f->pod_name,
        .namespace = "jhub",
        .user = user,
        .server_name = server,
        .cmd = f->cmd,
        .env = alice_env,
        .port = 8888,
        .uid = NULL,
        .gid = NULL,
    };
}

static void fixture_release(struct fixture *f)
{
    kube_names_release(&f->names);
    conf_release(&f->conf);
    json_decref(f->cmd);
}

#define ALICE_LABELS                                                                               \
    "\"hub.jupyter.org/username\": \"alice\", \"app.kubernetes.io/name\": \"jupyterhub\", "        \
    "\"app.kubernetes.io/managed-by\": \"kubespawner\", \"app\": \"jupyterhub\", "                 \
    "\"heritage\": \"jupyterhub\""
#define POD_LABELS(server)                                                                         \
    ALICE_LABELS ", \"app.kubernetes.io/component\": \"singleuser-server\", "                      \
                 "\"component\": \"singleuser-server\", \"hub.jupyter.org/servername\": \"" server \
                 "\""
#define VERSIONS                                                                                   \
    "\"hub.jupyter.org/kubespawner-version\": \"7.1.0\", "                                         \
    "\"hub.jupyter.org/jupyterhub-version\": \"5.5.1\""
#define IMAGE "quay.io/jupyterhub/singleuser:latest"

/* test_make_simplest_pod with get_pod_manifest's defaults. */
static const char default_pod[] =
    "{\"apiVersion\": \"v1\", \"kind\": \"Pod\","
    " \"metadata\": {\"name\": \"jupyter-alice\", \"labels\": {" POD_LABELS(
        "") "},"
            "  \"annotations\": {\"hub.jupyter.org/username\": \"alice\", " VERSIONS "}},"
            " \"spec\": {\"restartPolicy\": \"OnFailure\", \"imagePullSecrets\": [],"
            "  \"automountServiceAccountToken\": false, \"volumes\": [],"
            "  \"containers\": [{\"name\": \"notebook\", \"image\": \"" IMAGE "\","
            "   \"args\": [\"jupyterhub-singleuser\"],"
            "   \"ports\": [{\"name\": \"notebook-port\", \"containerPort\": 8888}],"
            "   \"env\": [{\"name\": \"JUPYTERHUB_API_TOKEN\", \"value\": \"secret\"},"
            "            {\"name\": \"JUPYTERHUB_USER\", \"value\": \"alice\"},"
            "            {\"name\": \"JUPYTER_IMAGE\", \"value\": \"" IMAGE "\"},"
            "            {\"name\": \"JUPYTER_IMAGE_SPEC\", \"value\": \"" IMAGE "\"}],"
            "   \"resources\": {\"requests\": {}, \"limits\": {}},"
            "   \"securityContext\": {\"allowPrivilegeEscalation\": false},"
            "   \"volumeMounts\": []}]}}";

static void test_default_pod(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    assert_json_eq(pod, default_pod);
    json_decref(pod);
    fixture_release(&f);
}

static void test_cmd(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    /* No command: the image's own, and no args at all. */
    f.in.cmd = NULL;
    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    assert_non_null(pod);
    json_t *ctr = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_null(json_object_get(ctr, "args"));
    assert_null(json_object_get(ctr, "command"));
    json_decref(pod);
    /* A command: the container's args (KubeSpawner never sets command). */
    json_t *cmd = parse("[\"jupyterhub-singleuser\", \"--debug\"]");
    f.in.cmd = cmd;
    pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    ctr = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_json_eq(json_object_get(ctr, "args"), "[\"jupyterhub-singleuser\", \"--debug\"]");
    assert_null(json_object_get(ctr, "command"));
    json_decref(pod);
    json_decref(cmd);
    /* A command line given as one string is a list of one, as traitlets' Command makes it. */
    cmd = json_string("start-notebook.sh");
    f.in.cmd = cmd;
    pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    ctr = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_json_eq(json_object_get(ctr, "args"), "[\"start-notebook.sh\"]");
    json_decref(pod);
    json_decref(cmd);
    fixture_release(&f);
}

static void test_full_pod(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "gpu");
    struct kube_conf *c = &f.conf;
    c->image = "jupyter/scipy:2024";
    c->image_pull_policy = "IfNotPresent";
    replace(&c->image_pull_secrets, "[\"reg-a\", {\"name\": \"reg-b\"}]");
    c->working_dir = "/home/{username}";
    json_t *uid = json_integer(1000), *gid = json_integer(100);
    f.in.uid = uid;
    f.in.gid = gid;
    replace(&c->fs_gid, "100");
    replace(&c->supplemental_gids, "[200, 300]");
    c->privileged = true;
    replace(&c->allow_privilege_escalation, "true");
    replace(&c->container_security_context,
            "{\"runAsNonRoot\": true, \"allowPrivilegeEscalation\": false}");
    replace(&c->pod_security_context, "{\"fsGroupChangePolicy\": \"OnRootMismatch\"}");
    replace(&c->extra_resource_guarantees, "{\"nvidia.com/gpu\": \"1\"}");
    replace(&c->extra_resource_limits, "{\"nvidia.com/gpu\": 2}");
    f.in.mem_limit = 1073741824;
    f.in.mem_guarantee = 536870912;
    f.in.cpu_limit = 2;
    f.in.cpu_guarantee = 0.5;
    /* Not expanded by KubeSpawner, but its key becomes camelCase. */
    replace(&c->lifecycle_hooks,
            "{\"post_start\": {\"exec\": {\"command\": [\"sh\", \"-c\", \"echo {username}\"]}}}");
    replace(&c->extra_container_config,
            "{\"env_from\": [{\"configMapRef\": {\"name\": \"cfg-{username}\"}}], "
            "\"stdin\": true}");
    replace(&c->extra_pod_config, "{\"dns_policy\": \"ClusterFirst\", \"hostname\": "
                                  "\"{username}-host\", \"restartPolicy\": null}");
    replace(&c->init_containers, "[{\"name\": \"init\", \"image\": \"busybox\", "
                                 "\"command\": [\"chown\", \"{username}\"]}]");
    replace(&c->extra_containers,
            "[{\"name\": \"sidecar\", \"image\": \"nginx\", \"image_pull_policy\": \"Always\"}]");
    replace(&c->volumes,
            "[{\"name\": \"home\", \"persistentVolumeClaim\": {\"claimName\": \"{pvc_name}\"}}]");
    replace(&c->volume_mounts, "[{\"name\": \"home\", \"mount_path\": \"/home/{username}\", "
                               "\"read_only\": null}]");
    replace(&c->node_selector, "{\"disk\": \"ssd\"}");
    replace(&c->tolerations,
            "[{\"key\": \"gpu\", \"operator\": \"Exists\", \"effect\": \"NoSchedule\"}]");
    replace(&c->node_affinity_required,
            "[{\"matchExpressions\": [{\"key\": \"zone\", \"operator\": \"In\", "
            "\"values\": [\"a\"]}]}]");
    replace(&c->node_affinity_preferred,
            "[{\"weight\": 1, \"preference\": {\"matchExpressions\": [{\"key\": \"fast\", "
            "\"operator\": \"Exists\"}]}}]");
    replace(&c->pod_affinity_required,
            "[{\"topologyKey\": \"kubernetes.io/hostname\", \"labelSelector\": "
            "{\"matchLabels\": {\"app\": \"db\"}}}]");
    replace(&c->pod_anti_affinity_preferred,
            "[{\"weight\": 5, \"podAffinityTerm\": {\"topologyKey\": \"zone\"}}]");
    c->service_account = "sa-{username}";
    c->scheduler_name = "my-scheduler";
    c->priority_class_name = "high";
    replace(&c->extra_labels, "{\"team\": \"{username}-team\", \"app\": \"not-this\"}");
    replace(&c->extra_annotations, "{\"note\": \"for {username}\"}");
    const char *const env[] = {"A=1", "B=$(A)-x", "JUPYTER_IMAGE=mine", "A=2", NULL};
    f.in.env = env;

    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    if (!pod)
        fail_msg("%s", f.err);
    assert_json_eq(
        pod,
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\","
        " \"metadata\": {\"name\": \"jupyter-alice--gpu\","
        "  \"labels\": {" POD_LABELS(
            "gpu") ", \"team\": \"alice-team\"},"
                   "  \"annotations\": {\"hub.jupyter.org/username\": \"alice\","
                   "   \"hub.jupyter.org/servername\": \"gpu\", " VERSIONS
                   ", \"note\": \"for alice\"}},"
                   " \"spec\": {"
                   "  \"imagePullSecrets\": [{\"name\": \"reg-a\"}, {\"name\": \"reg-b\"}],"
                   "  \"nodeSelector\": {\"disk\": \"ssd\"},"
                   "  \"securityContext\": {\"fsGroup\": 100, \"supplementalGroups\": [200, 300],"
                   "   \"fsGroupChangePolicy\": \"OnRootMismatch\"},"
                   "  \"serviceAccountName\": \"sa-alice\","
                   "  \"containers\": [{\"name\": \"notebook\", \"image\": \"jupyter/scipy:2024\","
                   "   \"imagePullPolicy\": \"IfNotPresent\", \"args\": "
                   "[\"jupyterhub-singleuser\"],"
                   "   \"ports\": [{\"name\": \"notebook-port\", \"containerPort\": 8888}],"
                   "   \"env\": [{\"name\": \"A\", \"value\": \"2\"},"
                   "            {\"name\": \"JUPYTER_IMAGE\", \"value\": \"mine\"},"
                   "            {\"name\": \"JUPYTER_IMAGE_SPEC\", \"value\": "
                   "\"jupyter/scipy:2024\"},"
                   "            {\"name\": \"B\", \"value\": \"$(A)-x\"}],"
                   "   \"workingDir\": \"/home/alice\","
                   "   \"resources\": {\"requests\": {\"cpu\": \"500m\", \"memory\": \"512Mi\","
                   "                                \"nvidia.com/gpu\": \"1\"},"
                   "                   \"limits\": {\"cpu\": \"2\", \"memory\": \"1Gi\","
                   "                              \"nvidia.com/gpu\": 2}},"
                   "   \"securityContext\": {\"runAsUser\": 1000, \"runAsGroup\": 100,"
                   "    \"privileged\": true, \"allowPrivilegeEscalation\": false,"
                   "    \"runAsNonRoot\": true},"
                   "   \"volumeMounts\": [{\"name\": \"home\", \"mountPath\": \"/home/alice\"}],"
                   "   \"lifecycle\": {\"postStart\": {\"exec\": {\"command\": [\"sh\", \"-c\","
                   "    \"echo {username}\"]}}},"
                   "   \"envFrom\": [{\"configMapRef\": {\"name\": \"cfg-{username}\"}}],"
                   "   \"stdin\": true},"
                   "   {\"name\": \"sidecar\", \"image\": \"nginx\", \"imagePullPolicy\": "
                   "\"Always\"}],"
                   "  \"tolerations\": [{\"key\": \"gpu\", \"operator\": \"Exists\","
                   "   \"effect\": \"NoSchedule\"}],"
                   "  \"initContainers\": [{\"name\": \"init\", \"image\": \"busybox\","
                   "   \"command\": [\"chown\", \"alice\"]}],"
                   "  \"volumes\": [{\"name\": \"home\","
                   "   \"persistentVolumeClaim\": {\"claimName\": \"claim-alice--gpu\"}}],"
                   "  \"schedulerName\": \"my-scheduler\","
                   "  \"affinity\": {"
                   "   \"nodeAffinity\": {"
                   "    \"requiredDuringSchedulingIgnoredDuringExecution\": {\"nodeSelectorTerms\":"
                   "     [{\"matchExpressions\": [{\"key\": \"zone\", \"operator\": \"In\","
                   "       \"values\": [\"a\"]}]}]},"
                   "    \"preferredDuringSchedulingIgnoredDuringExecution\": [{\"weight\": 1,"
                   "     \"preference\": {\"matchExpressions\": [{\"key\": \"fast\","
                   "      \"operator\": \"Exists\"}]}}]},"
                   "   \"podAffinity\": {\"requiredDuringSchedulingIgnoredDuringExecution\":"
                   "    [{\"topologyKey\": \"kubernetes.io/hostname\","
                   "      \"labelSelector\": {\"matchLabels\": {\"app\": \"db\"}}}]},"
                   "   \"podAntiAffinity\": {\"preferredDuringSchedulingIgnoredDuringExecution\":"
                   "    [{\"weight\": 5, \"podAffinityTerm\": {\"topologyKey\": \"zone\"}}]}},"
                   "  \"priorityClassName\": \"high\","
                   "  \"dnsPolicy\": \"ClusterFirst\", \"hostname\": \"alice-host\"}}");
    json_decref(pod);

    /* automount_service_account_token given: as it is, service account or not. */
    replace(&c->automount_service_account_token, "true");
    c->service_account = "";
    pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    json_t *spec = json_object_get(pod, "spec");
    assert_json_eq(json_object_get(spec, "automountServiceAccountToken"), "true");
    assert_null(json_object_get(spec, "serviceAccountName"));
    json_decref(pod);
    /* None and a service account: left to the API server. */
    replace(&c->automount_service_account_token, "null");
    c->service_account = "hub";
    pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    spec = json_object_get(pod, "spec");
    assert_null(json_object_get(spec, "automountServiceAccountToken"));
    assert_json_eq(json_object_get(spec, "serviceAccountName"), "\"hub\"");
    /* allow_privilege_escalation None leaves the field to the container_security_context. */
    json_decref(pod);
    replace(&c->allow_privilege_escalation, "null");
    replace(&c->container_security_context, "{}");
    c->privileged = false;
    pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    json_t *ctr = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_json_eq(json_object_get(ctr, "securityContext"),
                   "{\"runAsUser\": 1000, \"runAsGroup\": 100}");
    json_decref(pod);
    f.in.uid = NULL;
    f.in.gid = NULL;
    pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    ctr = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_null(json_object_get(ctr, "securityContext"));
    json_decref(pod);
    json_decref(uid);
    json_decref(gid);
    fixture_release(&f);
}

/* Dicts are taken in the order of their keys (_sorted_dict_values). */
static void test_dict_settings_sorted(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    struct kube_conf *c = &f.conf;
    replace(&c->volumes, "{\"b\": {\"name\": \"vb\", \"emptyDir\": {}},"
                         " \"a\": {\"name\": \"{username}-a\", \"emptyDir\": {}}}");
    replace(&c->volume_mounts, "{\"z\": {\"name\": \"vb\", \"mountPath\": \"/b\"},"
                               " \"y\": {\"name\": \"va\", \"mountPath\": \"/a\"}}");
    replace(&c->init_containers, "{\"2\": {\"name\": \"second\"}, \"1\": {\"name\": \"first\"}}");
    replace(&c->extra_containers, "{\"x\": {\"name\": \"x\"}, \"w\": {\"name\": \"w\"}}");
    replace(&c->tolerations, "{\"k2\": {\"key\": \"two\"}, \"k1\": {\"key\": \"one\"}}");
    replace(&c->node_affinity_required, "{\"b\": {\"matchFields\": []}, "
                                        "\"a\": {\"matchExpressions\": []}}");
    replace(&c->pod_anti_affinity_required, "{}");
    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    if (!pod)
        fail_msg("%s", f.err);
    json_t *spec = json_object_get(pod, "spec");
    assert_json_eq(json_object_get(spec, "volumes"),
                   "[{\"name\": \"alice-a\", \"emptyDir\": {}}, {\"name\": \"vb\", "
                   "\"emptyDir\": {}}]");
    json_t *containers = json_object_get(spec, "containers");
    assert_int_equal(json_array_size(containers), 3);
    assert_json_eq(json_object_get(json_array_get(containers, 0), "volumeMounts"),
                   "[{\"name\": \"va\", \"mountPath\": \"/a\"}, {\"name\": \"vb\", "
                   "\"mountPath\": \"/b\"}]");
    assert_json_eq(json_array_get(containers, 1), "{\"name\": \"w\"}");
    assert_json_eq(json_array_get(containers, 2), "{\"name\": \"x\"}");
    assert_json_eq(json_object_get(spec, "initContainers"),
                   "[{\"name\": \"first\"}, {\"name\": \"second\"}]");
    assert_json_eq(json_object_get(spec, "tolerations"),
                   "[{\"key\": \"one\"}, {\"key\": \"two\"}]");
    assert_json_eq(json_object_get(spec, "affinity"),
                   "{\"nodeAffinity\": {\"requiredDuringSchedulingIgnoredDuringExecution\": "
                   "{\"nodeSelectorTerms\": [{\"matchExpressions\": []}, {\"matchFields\": "
                   "[]}]}}}");
    json_decref(pod);
    fixture_release(&f);
}

/* test_make_pod_with_env_dependency_sorted, with plain NAME=value entries. */
static void test_env_order(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    const char *const env[] = {"NAME_SELF_REF=$(NAME_SELF_REF)",
                               "NAME_1B=$(NAME_2)",
                               "NAME_1A=$(NAME_2)",
                               "NAME_0=$(NAME_2)",
                               "NAME_2=$(NAME_3A)",
                               "NAME_3B=NAME_3B_VALUE",
                               "NAME_3A=NAME_3A_VALUE",
                               "NAME_CIRCLE_B=$(NAME_CIRCLE_A)",
                               "NAME_CIRCLE_A=$(NAME_CIRCLE_B)",
                               "NAME_EMPTY=",
                               "NAME_ODD=$()$(NAME_3B",
                               NULL};
    f.in.env = env;
    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    json_t *ctr = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_json_eq(json_object_get(ctr, "env"),
                   "[{\"name\": \"JUPYTER_IMAGE\", \"value\": \"" IMAGE "\"},"
                   " {\"name\": \"JUPYTER_IMAGE_SPEC\", \"value\": \"" IMAGE "\"},"
                   " {\"name\": \"NAME_3A\", \"value\": \"NAME_3A_VALUE\"},"
                   " {\"name\": \"NAME_3B\", \"value\": \"NAME_3B_VALUE\"},"
                   " {\"name\": \"NAME_EMPTY\", \"value\": \"\"},"
                   " {\"name\": \"NAME_ODD\", \"value\": \"$()$(NAME_3B\"},"
                   " {\"name\": \"NAME_SELF_REF\", \"value\": \"$(NAME_SELF_REF)\"},"
                   " {\"name\": \"NAME_2\", \"value\": \"$(NAME_3A)\"},"
                   " {\"name\": \"NAME_0\", \"value\": \"$(NAME_2)\"},"
                   " {\"name\": \"NAME_1A\", \"value\": \"$(NAME_2)\"},"
                   " {\"name\": \"NAME_1B\", \"value\": \"$(NAME_2)\"},"
                   " {\"name\": \"NAME_CIRCLE_A\", \"value\": \"$(NAME_CIRCLE_B)\"},"
                   " {\"name\": \"NAME_CIRCLE_B\", \"value\": \"$(NAME_CIRCLE_A)\"}]");
    json_decref(pod);
    fixture_release(&f);
}

static void test_pvc(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    struct kube_conf *c = &f.conf;
    c->storage_capacity = "10Gi";
    json_t *pvc = kube_pvc_manifest(c, &f.names, "alice", "", "claim-alice", f.err, sizeof(f.err));
    assert_json_eq(pvc,
                   "{\"apiVersion\": \"v1\", \"kind\": \"PersistentVolumeClaim\","
                   " \"metadata\": {\"name\": \"claim-alice\", \"labels\": {" ALICE_LABELS
                   ", \"app.kubernetes.io/component\": \"singleuser-server\","
                   "   \"component\": \"singleuser-storage\"},"
                   "  \"annotations\": {\"hub.jupyter.org/username\": \"alice\", " VERSIONS "}},"
                   " \"spec\": {\"accessModes\": [\"ReadWriteOnce\"],"
                   "  \"resources\": {\"requests\": {\"storage\": \"10Gi\"}}}}");
    json_decref(pvc);

    c->storage_class = "fast";
    replace(&c->storage_selector, "{\"matchLabels\": {\"owner\": \"{username}\"}}");
    replace(&c->storage_extra_labels, "{\"x\": \"{username}\", \"component\": \"not-this\"}");
    replace(&c->storage_extra_annotations, "{\"y\": \"{servername}!\"}");
    pvc = kube_pvc_manifest(c, &f.names, "alice", "", "claim-alice", f.err, sizeof(f.err));
    assert_json_eq(pvc, "{\"apiVersion\": \"v1\", \"kind\": \"PersistentVolumeClaim\","
                        " \"metadata\": {\"name\": \"claim-alice\", \"labels\": {" ALICE_LABELS
                        ", \"x\": \"alice\", \"app.kubernetes.io/component\": "
                        "\"singleuser-server\", \"component\": \"singleuser-storage\"},"
                        "  \"annotations\": {\"hub.jupyter.org/username\": \"alice\", " VERSIONS
                        ", \"y\": \"!\", \"volume.beta.kubernetes.io/storage-class\": \"fast\"}},"
                        " \"spec\": {\"accessModes\": [\"ReadWriteOnce\"],"
                        "  \"resources\": {\"requests\": {\"storage\": \"10Gi\"}},"
                        "  \"storageClassName\": \"fast\","
                        "  \"selector\": {\"matchLabels\": {\"owner\": \"alice\"}}}}");
    json_decref(pvc);

    /* No capacity: None, which the API server refuses, as it does KubeSpawner's. */
    c->storage_capacity = "";
    replace(&c->storage_selector, "[]");
    pvc = kube_pvc_manifest(c, &f.names, "alice", "", "claim-alice", f.err, sizeof(f.err));
    assert_null(pvc);
    assert_string_equal(f.err, "KubeSpawner.storage_selector must be a dict, not a list");
    replace(&c->storage_selector, "{}");
    pvc = kube_pvc_manifest(c, &f.names, "alice", "", "claim-alice", f.err, sizeof(f.err));
    assert_json_eq(json_object_get(json_object_get(pvc, "spec"), "resources"),
                   "{\"requests\": {\"storage\": null}}");
    json_decref(pvc);
    fixture_release(&f);
}

static void test_service(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    replace(&f.conf.extra_labels, "{\"team\": \"{username}\"}");
    json_t *svc =
        kube_service_manifest(&f.conf, &f.names, "alice", "", "jupyter-alice", "uid-123", 8888);
    assert_json_eq(
        svc, "{\"apiVersion\": \"v1\", \"kind\": \"Service\","
             " \"metadata\": {\"name\": \"jupyter-alice\","
             "  \"labels\": {" ALICE_LABELS ", \"team\": \"alice\"},"
             "  \"annotations\": {\"hub.jupyter.org/username\": \"alice\", " VERSIONS "},"
             "  \"ownerReferences\": [{\"apiVersion\": \"v1\", \"kind\": \"Pod\","
             "   \"name\": \"jupyter-alice\", \"uid\": \"uid-123\", \"blockOwnerDeletion\": true,"
             "   \"controller\": false}]},"
             " \"spec\": {\"type\": \"ClusterIP\","
             "  \"ports\": [{\"name\": \"http\", \"port\": 8888, \"targetPort\": 8888}],"
             "  \"selector\": {" POD_LABELS("") ", \"team\": \"alice\"}}}");
    json_decref(svc);
    fixture_release(&f);
}

static void test_namespace(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    json_t *ns = kube_namespace_manifest(&f.conf, &f.names, "jhub-alice");
    assert_json_eq(ns, "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": "
                       "{\"name\": \"jhub-alice\", \"labels\": {}, \"annotations\": {}}}");
    json_decref(ns);
    replace(&f.conf.user_namespace_labels, "{\"owner\": \"{username}\"}");
    replace(&f.conf.user_namespace_annotations, "{\"id\": \"{userid}\"}");
    ns = kube_namespace_manifest(&f.conf, &f.names, "jhub-alice");
    assert_json_eq(ns, "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": "
                       "{\"name\": \"jhub-alice\", \"labels\": {\"owner\": \"alice\"}, "
                       "\"annotations\": {\"id\": \"7\"}}}");
    json_decref(ns);
    fixture_release(&f);
}

/* A user and server whose names are not label values: KubeSpawner's safe_slug, hashed. */
static void test_labels_slug(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "Alice@x", "My Server");
    json_t *labels = kube_pod_labels(&f.conf, &f.names, "Alice@x", "My Server");
    assert_json_eq(labels, "{\"hub.jupyter.org/username\": \"alice-x---5482d92b\","
                           " \"app.kubernetes.io/name\": \"jupyterhub\","
                           " \"app.kubernetes.io/managed-by\": \"kubespawner\","
                           " \"app\": \"jupyterhub\", \"heritage\": \"jupyterhub\","
                           " \"app.kubernetes.io/component\": \"singleuser-server\","
                           " \"component\": \"singleuser-server\","
                           " \"hub.jupyter.org/servername\": \"my-server---c2d9a82f\"}");
    json_decref(labels);
    /* Annotations keep the names as they are. */
    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    assert_json_eq(json_object_get(json_object_get(pod, "metadata"), "annotations"),
                   "{\"hub.jupyter.org/username\": \"Alice@x\", "
                   "\"hub.jupyter.org/servername\": \"My Server\", " VERSIONS "}");
    json_decref(pod);
    /* common_labels win over extra_labels, and the component labels over both. */
    replace(&f.conf.extra_labels, "{\"app\": \"x\", \"component\": \"x\", \"u\": \"{username}\"}");
    replace(&f.conf.common_labels, "{\"app\": \"mine\"}");
    f.conf.component_label = "notebook";
    labels = kube_pod_labels(&f.conf, &f.names, "Alice@x", "My Server");
    assert_json_eq(labels, "{\"hub.jupyter.org/username\": \"alice-x---5482d92b\","
                           " \"app\": \"mine\", \"u\": \"alice-x---5482d92b\","
                           " \"app.kubernetes.io/component\": \"notebook\","
                           " \"component\": \"notebook\","
                           " \"hub.jupyter.org/servername\": \"my-server---c2d9a82f\"}");
    json_decref(labels);
    fixture_release(&f);
}

static void expect_error(struct fixture *f, const char *want)
{
    json_t *pod = kube_pod_manifest(&f->in, f->err, sizeof(f->err));
    if (pod) {
        json_decref(pod);
        fail_msg("a pod was made; wanted the error: %s", want);
    }
    assert_string_equal(f->err, want);
}

static void test_bad_settings(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, "alice", "");
    struct kube_conf *c = &f.conf;

    replace(&c->extra_resource_limits, "{\"nvidia.com/gpu\": \"x\"}");
    expect_error(&f, "KubeSpawner.extra_resource_limits[\"nvidia.com/gpu\"] (x) is not a "
                     "Kubernetes quantity");
    replace(&c->extra_resource_limits, "{\"nvidia.com/gpu\": \"1 Gi\"}");
    expect_error(&f, "KubeSpawner.extra_resource_limits[\"nvidia.com/gpu\"] (1 Gi) is not a "
                     "Kubernetes quantity");
    replace(&c->extra_resource_limits, "{}");
    replace(&c->extra_resource_guarantees, "{\"ephemeral-storage\": true}");
    expect_error(&f, "KubeSpawner.extra_resource_guarantees[\"ephemeral-storage\"] (true) is not "
                     "a Kubernetes quantity");
    replace(&c->extra_resource_guarantees, "[\"1\"]");
    expect_error(&f, "KubeSpawner.extra_resource_guarantees must be a dict, not a list");
    replace(&c->extra_resource_guarantees, "{}");

    replace(&c->pod_security_context, "{\"run_as_user\": 1}");
    expect_error(&f, "KubeSpawner.pod_security_context's keys should have k8s camelCase names, "
                     "got 'run_as_user'");
    replace(&c->pod_security_context, "{}");
    replace(&c->container_security_context, "{\"read_only_root_filesystem\": true}");
    expect_error(&f, "KubeSpawner.container_security_context's keys should have k8s camelCase "
                     "names, got 'read_only_root_filesystem'");
    replace(&c->container_security_context, "{}");

    replace(&c->volumes, "\"home\"");
    expect_error(&f, "KubeSpawner.volumes must be a list or a dict, not a string");
    replace(&c->volumes, "[{\"name\": \"a\"}, \"home\"]");
    expect_error(&f, "KubeSpawner.volumes[1] must be a dict, not a string");
    replace(&c->volumes, "[]");
    replace(&c->tolerations, "{\"a\": 3}");
    expect_error(&f, "KubeSpawner.tolerations[0] must be a dict, not an integer");
    replace(&c->tolerations, "[]");
    replace(&c->extra_labels, "[]");
    expect_error(&f, "KubeSpawner.extra_labels must be a dict, not a list");
    replace(&c->extra_labels, "{}");
    replace(&c->extra_pod_config, "\"x\"");
    expect_error(&f, "KubeSpawner.extra_pod_config must be a dict, not a string");
    replace(&c->extra_pod_config, "{}");
    replace(&c->supplemental_gids, "[100, null]");
    expect_error(&f, "KubeSpawner.supplemental_gids[1] must be an integer, not None");
    replace(&c->supplemental_gids, "[]");
    replace(&c->image_pull_secrets, "[1]");
    expect_error(&f, "KubeSpawner.image_pull_secrets[0] must be a dict, not an integer");
    replace(&c->image_pull_secrets, "\"regcred\"");
    c->service_account = "sa-{nope}";
    expect_error(&f, "KubeSpawner.service_account (sa-{nope}) does not format: unknown field "
                     "{nope} (KeyError: 'nope')");
    c->service_account = "";
    json_t *uid = json_string("root");
    f.in.uid = uid;
    expect_error(&f, "KubeSpawner.uid must be None or an integer, not a string");
    json_decref(uid);
    f.in.uid = NULL;

    /* And with all of that undone, a pod again. */
    json_t *pod = kube_pod_manifest(&f.in, f.err, sizeof(f.err));
    assert_non_null(pod);
    assert_json_eq(json_object_get(json_object_get(pod, "spec"), "imagePullSecrets"),
                   "[{\"name\": \"regcred\"}]");
    json_decref(pod);
    fixture_release(&f);
}

static void test_quantities(void **state)
{
    (void)state;
    char q[GM_QUANTITY_TEXT_MAX];
    const struct {
        double cores;
        const char *want;
    } cpu[] = {{0.5, "500m"},  {2, "2"},         {1.5, "1500m"}, {0.1, "100m"},
               {0.25, "250m"}, {0.0001, "100u"}, {16, "16"},     {0, "0"}};
    for (size_t i = 0; i < sizeof(cpu) / sizeof(cpu[0]); i++) {
        assert_int_equal(kube_cores_quantity(cpu[i].cores, q, sizeof(q)), 0);
        assert_string_equal(q, cpu[i].want);
    }
    const struct {
        int64_t bytes;
        const char *want;
    } mem[] = {{1073741824, "1Gi"}, {1610612736, "1536Mi"}, {536870912, "512Mi"},
               {1000, "1k"},        {2048, "2Ki"},          {0, "0"}};
    for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
        assert_int_equal(kube_bytes_quantity(mem[i].bytes, q, sizeof(q)), 0);
        assert_string_equal(q, mem[i].want);
    }
    assert_int_equal(kube_cores_quantity(-1, q, sizeof(q)), -EINVAL);
    assert_int_equal(kube_cores_quantity(NAN, q, sizeof(q)), -EINVAL);
    assert_int_equal(kube_cores_quantity(INFINITY, q, sizeof(q)), -EINVAL);
    assert_int_equal(kube_bytes_quantity(-1, q, sizeof(q)), -EINVAL);
    assert_int_equal(kube_bytes_quantity(1073741824, q, 2), -E2BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_pod), cmocka_unit_test(test_cmd),
        cmocka_unit_test(test_full_pod),    cmocka_unit_test(test_dict_settings_sorted),
        cmocka_unit_test(test_env_order),   cmocka_unit_test(test_pvc),
        cmocka_unit_test(test_service),     cmocka_unit_test(test_namespace),
        cmocka_unit_test(test_labels_slug), cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_quantities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
