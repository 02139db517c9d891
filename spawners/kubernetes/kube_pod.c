/* PLACEHOLDER (a helper replaces it): manifests. */
#include "kube.h"

#include <errno.h>
#include <stdio.h>

json_t *kube_pod_manifest(const struct kube_pod_input *in, char *err, size_t errlen)
{
    (void)in;
    snprintf(err, errlen, "not written yet");
    return NULL;
}

json_t *kube_pvc_manifest(const struct kube_conf *conf, const struct kube_names *names,
                          const char *user, const char *server_name, const char *pvc_name,
                          char *err, size_t errlen)
{
    (void)conf, (void)names, (void)user, (void)server_name, (void)pvc_name;
    snprintf(err, errlen, "not written yet");
    return NULL;
}

json_t *kube_service_manifest(const struct kube_conf *conf, const struct kube_names *names,
                              const char *user, const char *server_name, const char *pod_name,
                              const char *pod_uid, int port)
{
    (void)conf, (void)names, (void)user, (void)server_name, (void)pod_name, (void)pod_uid,
        (void)port;
    return NULL;
}

json_t *kube_namespace_manifest(const struct kube_conf *conf, const struct kube_names *names,
                                const char *namespace)
{
    (void)conf, (void)names, (void)namespace;
    return NULL;
}

json_t *kube_pod_labels(const struct kube_conf *conf, const struct kube_names *names,
                        const char *user, const char *server_name)
{
    (void)conf, (void)names, (void)user, (void)server_name;
    return NULL;
}

int kube_bytes_quantity(int64_t bytes, char *out, size_t outlen)
{
    (void)bytes, (void)out, (void)outlen;
    return -ENOSYS;
}

int kube_cores_quantity(double cores, char *out, size_t outlen)
{
    (void)cores, (void)out, (void)outlen;
    return -ENOSYS;
}
