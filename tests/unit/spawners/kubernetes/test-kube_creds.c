/* spawners/kubernetes/kube_creds.c: the API server and credentials found as KubeSpawner's
 * load_config finds them (the kubernetes client's load_incluster_config, else load_kube_config,
 * then k8s_api_host, k8s_api_ssl_ca_cert and k8s_api_verify_ssl), a rotated service account
 * token, and messages that name the file and what is wrong in it. Every test works in its own
 * temporary directory, with HOME pointing at an empty one. */
#include "test.h"
#include "spawners/kubernetes/kube.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERT_PEM "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
#define CERT_B64                                                                                   \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJjZXJ0Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nMIIEkey\n-----END PRIVATE KEY-----\n"
#define KEY_B64                                                                                    \
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUVrZXkKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo="
#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
#define CA_B64                                                                                     \
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJjYQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="

struct fix {
    char dir[64];
    struct kube_conf conf;
    struct kube_creds creds;
    char err[2048];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char *path_in(const struct fix *f, const char *name)
{
    static char buf[4][512];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", f->dir, name);
    return p;
}

static void put(const struct fix *f, const char *name, const char *text)
{
    FILE *fp = fopen(path_in(f, name), "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/gm-kube-creds-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(mkdir(path_in(f, "home"), 0700), 0);
    assert_int_equal(mkdir(path_in(f, "sa"), 0700), 0);
    assert_int_equal(mkdir(path_in(f, "kc"), 0700), 0);
    setenv("HOME", path_in(f, "home"), 1);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("KUBECONFIG");
    setenv("GANYMEDE_KUBE_SA_DIR", path_in(f, "sa"), 1);
    f->conf.k8s_api_host = "";
    f->conf.k8s_api_ssl_ca_cert = "";
    f->conf.k8s_api_verify_ssl = json_null();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    kube_creds_release(&f->creds);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static int load(struct fix *f)
{
    kube_creds_release(&f->creds);
    f->err[0] = '\0';
    return kube_creds_load(&f->creds, &f->conf, f->err, sizeof(f->err));
}

static void expect_fail(struct fix *f, const char *message)
{
    assert_int_equal(load(f), -EINVAL);
    assert_string_equal(f->err, message);
    /* Nothing is written on failure. */
    assert_null(f->creds.server);
}

static void in_cluster(struct fix *f, const char *host, const char *port)
{
    setenv("KUBERNETES_SERVICE_HOST", host, 1);
    setenv("KUBERNETES_SERVICE_PORT", port, 1);
    put(f, "sa/token", "tok-1\n");
    put(f, "sa/ca.crt", CA_PEM);
    put(f, "sa/namespace", "jhub\n");
}

static void test_in_cluster(void **state)
{
    struct fix *f = *state;
    in_cluster(f, "10.96.0.1", "443");
    /* A kubeconfig is not looked at when in-cluster. */
    put(f, "kc/config", "current-context: x\n");
    setenv("KUBECONFIG", path_in(f, "kc/config"), 1);
    assert_int_equal(load(f), 0);
    struct kube_creds *c = &f->creds;
    assert_string_equal(c->server, "https://10.96.0.1:443");
    assert_null(c->token);
    assert_string_equal(c->token_file, path_in(f, "sa/token"));
    assert_string_equal(kube_creds_token(c, 1000), "tok-1");
    assert_string_equal(c->ca_file, path_in(f, "sa/ca.crt"));
    assert_null(c->ca_pem);
    assert_null(c->cert_file);
    assert_null(c->key_pem);
    assert_false(c->insecure);
    assert_string_equal(c->namespace, "jhub");
    char source[300];
    snprintf(source, sizeof(source), "in-cluster (service account %s)", path_in(f, "sa"));
    assert_string_equal(c->source, source);
    assert_null(strstr(c->source, "tok-1"));
}

static void test_in_cluster_ipv6_and_no_namespace(void **state)
{
    struct fix *f = *state;
    in_cluster(f, "fd00:10:96::1", "6443");
    unlink(path_in(f, "sa/namespace"));
    assert_int_equal(load(f), 0);
    assert_string_equal(f->creds.server, "https://[fd00:10:96::1]:6443");
    assert_null(f->creds.namespace);
}

static void test_in_cluster_errors(void **state)
{
    struct fix *f = *state;
    char msg[1024];
    in_cluster(f, "10.96.0.1", "443");
    unlink(path_in(f, "sa/token"));
    snprintf(msg, sizeof(msg),
             "in-cluster (KUBERNETES_SERVICE_HOST is set): the token file %s does not exist",
             path_in(f, "sa/token"));
    expect_fail(f, msg);

    put(f, "sa/token", " \n");
    snprintf(msg, sizeof(msg),
             "in-cluster (KUBERNETES_SERVICE_HOST is set): the token file %s is empty",
             path_in(f, "sa/token"));
    expect_fail(f, msg);

    put(f, "sa/token", "tok-1\n");
    unlink(path_in(f, "sa/ca.crt"));
    snprintf(msg, sizeof(msg),
             "in-cluster (KUBERNETES_SERVICE_HOST is set): the service account's CA certificate "
             "%s does not exist",
             path_in(f, "sa/ca.crt"));
    expect_fail(f, msg);

    /* Set but empty is not in-cluster (the client raises, KubeSpawner reads the kubeconfig). */
    setenv("KUBERNETES_SERVICE_PORT", "", 1);
    assert_int_equal(load(f), -EINVAL);
    assert_non_null(strstr(f->err, "not in a cluster"));
}

static void test_token_rotation(void **state)
{
    struct fix *f = *state;
    in_cluster(f, "10.96.0.1", "443");
    assert_int_equal(load(f), 0);
    struct kube_creds *c = &f->creds;
    assert_string_equal(kube_creds_token(c, 5000), "tok-1");

    put(f, "sa/token", "tok-22\n");
    /* Looked at no more than once a second. */
    assert_string_equal(kube_creds_token(c, 5500), "tok-1");
    assert_string_equal(kube_creds_token(c, 6001), "tok-22");

    /* The same size: the mtime tells. */
    put(f, "sa/token", "tok-33\n");
    struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 0}, {.tv_sec = 1000000000}};
    assert_int_equal(utimensat(AT_FDCWD, path_in(f, "sa/token"), ts, 0), 0);
    assert_string_equal(kube_creds_token(c, 7002), "tok-33");

    /* A file over 64 KiB, or gone, keeps the token read before. */
    char *big = malloc((64 << 10) + 2);
    memset(big, 'a', (64 << 10) + 1);
    big[(64 << 10) + 1] = '\0';
    put(f, "sa/token", big);
    free(big);
    assert_string_equal(kube_creds_token(c, 8003), "tok-33");
    assert_string_equal(kube_creds_token(c, 9004), "tok-33");
    unlink(path_in(f, "sa/token"));
    assert_string_equal(kube_creds_token(c, 10005), "tok-33");
    put(f, "sa/token", "  tok-44  \n");
    assert_string_equal(kube_creds_token(c, 11006), "tok-44");
}

static void use_kubeconfig(struct fix *f, const char *text)
{
    put(f, "kc/config", text);
    setenv("KUBECONFIG", path_in(f, "kc/config"), 1);
}

static const char *const kc_token = "apiVersion: v1\n"
                                    "kind: Config\n"
                                    "current-context: dev\n"
                                    "contexts:\n"
                                    "- name: other\n"
                                    "  context: {cluster: c2, user: u2}\n"
                                    "- name: dev\n"
                                    "  context:\n"
                                    "    cluster: c1\n"
                                    "    user: u1\n"
                                    "    namespace: team-a\n"
                                    "clusters:\n"
                                    "- name: c1\n"
                                    "  cluster:\n"
                                    "    server: https://k8s.example.org:6443/\n"
                                    "    certificate-authority-data: " CA_B64 "\n"
                                    "- name: c2\n"
                                    "  cluster: {server: https://other:443}\n"
                                    "users:\n"
                                    "- name: u2\n"
                                    "  user: {token: wrong}\n"
                                    "- name: u1\n"
                                    "  user:\n"
                                    "    token: kc-token-1\n";

static void test_kubeconfig_token(void **state)
{
    struct fix *f = *state;
    use_kubeconfig(f, kc_token);
    assert_int_equal(load(f), 0);
    struct kube_creds *c = &f->creds;
    assert_string_equal(c->server, "https://k8s.example.org:6443");
    assert_string_equal(c->token, "kc-token-1");
    assert_string_equal(kube_creds_token(c, 1), "kc-token-1");
    assert_null(c->token_file);
    assert_null(c->ca_file);
    assert_string_equal(c->ca_pem, CA_PEM);
    assert_false(c->insecure);
    assert_string_equal(c->namespace, "team-a");
    char source[300];
    snprintf(source, sizeof(source), "kubeconfig %s (context dev)", path_in(f, "kc/config"));
    assert_string_equal(c->source, source);
}

static void test_kubeconfig_files_and_data(void **state)
{
    struct fix *f = *state;
    assert_int_equal(mkdir(path_in(f, "kc/pki"), 0700), 0);
    put(f, "kc/pki/ca.crt", CA_PEM);
    put(f, "kc/tok", "file-token\n");
    put(f, "key.pem", KEY_PEM);
    char text[2048];
    /* Relative paths are the kubeconfig's directory's; an absolute one is kept. */
    snprintf(text, sizeof(text),
             "current-context: dev\n"
             "contexts: [{name: dev, context: {cluster: c, user: u}}]\n"
             "clusters:\n"
             "- name: c\n"
             "  cluster:\n"
             "    server: https://10.0.0.1\n"
             "    certificate-authority: pki/ca.crt\n"
             "    insecure-skip-tls-verify: true\n"
             "users:\n"
             "- name: u\n"
             "  user:\n"
             "    tokenFile: tok\n"
             "    client-certificate-data: " CERT_B64 "\n"
             "    client-key: %s\n",
             path_in(f, "key.pem"));
    use_kubeconfig(f, text);
    assert_int_equal(load(f), 0);
    struct kube_creds *c = &f->creds;
    assert_string_equal(c->server, "https://10.0.0.1");
    assert_string_equal(c->ca_file, path_in(f, "kc/pki/ca.crt"));
    assert_null(c->ca_pem);
    assert_true(c->insecure);
    assert_null(c->token);
    assert_string_equal(c->token_file, path_in(f, "kc/tok"));
    assert_string_equal(kube_creds_token(c, 1), "file-token");
    assert_string_equal(c->cert_pem, CERT_PEM);
    assert_null(c->cert_file);
    assert_string_equal(c->key_file, path_in(f, "key.pem"));
    assert_null(c->key_pem);
    assert_null(c->namespace);
    assert_non_null(strstr(c->source, "TLS not verified"));

    /* k8s_api_verify_ssl True verifies even so. */
    f->conf.k8s_api_verify_ssl = json_true();
    assert_int_equal(load(f), 0);
    assert_false(f->creds.insecure);
}

static void test_kubeconfig_client_cert_data(void **state)
{
    struct fix *f = *state;
    use_kubeconfig(f, "current-context: kind\n"
                      "contexts: [{name: kind, context: {cluster: kind, user: kind}}]\n"
                      "clusters: [{name: kind, cluster: {server: 'https://127.0.0.1:40000'}}]\n"
                      "users:\n"
                      "- name: kind\n"
                      "  user:\n"
                      "    client-certificate-data: " CERT_B64 "\n"
                      "    client-key-data: " KEY_B64 "\n");
    assert_int_equal(load(f), 0);
    assert_string_equal(f->creds.cert_pem, CERT_PEM);
    assert_string_equal(f->creds.key_pem, KEY_PEM);
    assert_null(f->creds.token);
    assert_string_equal(kube_creds_token(&f->creds, 1), "");
}

static void test_kubeconfig_list_and_home(void **state)
{
    struct fix *f = *state;
    put(f, "kc/b.yaml", kc_token);
    put(f, "kc/c.yaml", "current-context: nope\n");
    char list[1024];
    snprintf(list, sizeof(list), "%s::%s:%s", path_in(f, "kc/missing"), path_in(f, "kc/b.yaml"),
             path_in(f, "kc/c.yaml"));
    setenv("KUBECONFIG", list, 1);
    assert_int_equal(load(f), 0);
    assert_string_equal(f->creds.token, "kc-token-1");
    assert_non_null(strstr(f->creds.source, "kc/b.yaml"));

    /* Without KUBECONFIG: ~/.kube/config. */
    unsetenv("KUBECONFIG");
    assert_int_equal(mkdir(path_in(f, "home/.kube"), 0700), 0);
    put(f, "home/.kube/config", kc_token);
    assert_int_equal(load(f), 0);
    char source[300];
    snprintf(source, sizeof(source), "kubeconfig %s (context dev)",
             path_in(f, "home/.kube/config"));
    assert_string_equal(f->creds.source, source);

    /* A list in which no file exists is no kubeconfig. */
    snprintf(list, sizeof(list), "%s", path_in(f, "kc/missing"));
    setenv("KUBECONFIG", list, 1);
    char msg[2048];
    snprintf(msg, sizeof(msg),
             "no Kubernetes API server: not in a cluster (KUBERNETES_SERVICE_HOST is not set) "
             "and no kubeconfig (KUBECONFIG=%s does not exist); set KUBECONFIG, or "
             "KubeSpawner.k8s_api_host to use a server without credentials",
             list);
    expect_fail(f, msg);
}

static void expect_kc_fail(struct fix *f, const char *text, const char *rest)
{
    use_kubeconfig(f, text);
    char msg[1024];
    snprintf(msg, sizeof(msg), "kubeconfig %s%s", path_in(f, "kc/config"), rest);
    expect_fail(f, msg);
}

static void test_kubeconfig_errors(void **state)
{
    struct fix *f = *state;
    expect_kc_fail(f, "current-context: nope\ncontexts: [{name: dev, context: {cluster: c}}]\n",
                   ": current-context 'nope' is not in contexts");
    expect_kc_fail(f, "apiVersion: v1\n",
                   ": no current-context (choose one with kubectl config use-context NAME)");
    expect_kc_fail(f,
                   "current-context: y\ncontexts: [{name: y, context: {cluster: c, user: z}}]\n"
                   "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
                   "users: [{name: w, user: {token: t}}]\n",
                   ": context 'y' names user 'z', which is not in users");
    expect_kc_fail(f, "current-context: y\ncontexts: [{name: y, context: {cluster: c}}]\n",
                   ": context 'y' names cluster 'c', which is not in clusters");
    expect_kc_fail(f,
                   "current-context: y\ncontexts: [{name: y, context: {cluster: c}}]\n"
                   "clusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]\n",
                   ": cluster 'c' has no server");
    expect_kc_fail(f, "current-context: y\ncontexts: [\n",
                   ":3: did not find expected node "
                   "content while parsing a flow node");
    expect_kc_fail(f, "- a\n", ": not a kubeconfig (not a YAML mapping)");
    expect_kc_fail(f, "", ": not a kubeconfig (not a YAML mapping)");

    char rest[1024];
    snprintf(rest, sizeof(rest), ": cluster 'c': certificate-authority %s does not exist",
             path_in(f, "kc/ca.crt"));
    expect_kc_fail(f,
                   "current-context: y\ncontexts: [{name: y, context: {cluster: c}}]\n"
                   "clusters: [{name: c, cluster: {server: 'https://a',"
                   " certificate-authority: ca.crt}}]\n",
                   rest);
    snprintf(rest, sizeof(rest), ": user 'u': the token file %s does not exist",
             path_in(f, "kc/t"));
    expect_kc_fail(f,
                   "current-context: y\ncontexts: [{name: y, context: {cluster: c, user: u}}]\n"
                   "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
                   "users: [{name: u, user: {tokenFile: t}}]\n",
                   rest);
    expect_kc_fail(f,
                   "current-context: y\ncontexts: [{name: y, context: {cluster: c}}]\n"
                   "clusters: [{name: c, cluster: {server: 'https://a',"
                   " certificate-authority-data: '%%%'}}]\n",
                   ": cluster 'c': certificate-authority-data is not base64 of a PEM file");
    expect_kc_fail(f,
                   "current-context: y\ncontexts: [{name: y, context: {cluster: c, user: u}}]\n"
                   "clusters: [{name: c, cluster: {server: 'https://a'}}]\n"
                   "users: [{name: u, user: {client-certificate-data: " CERT_B64 "}}]\n",
                   ": user 'u' has a client-certificate but no client-key");
}

static void test_unsupported_auth(void **state)
{
    struct fix *f = *state;
    const char *head = "current-context: eks\n"
                       "contexts: [{name: eks, context: {cluster: c, user: u}}]\n"
                       "clusters: [{name: c, cluster: {server: 'https://a'}}]\n";
    const char *fix = "which Ganymede does not support: use a token, a tokenFile or a client "
                      "certificate, or run the hub in the cluster with a service account";
    char text[1024], rest[512];
    snprintf(text, sizeof(text),
             "%susers:\n- name: u\n  user:\n    exec:\n      apiVersion: "
             "client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks]\n",
             head);
    snprintf(rest, sizeof(rest), ": user 'u' authenticates with an exec plugin ('aws'), %s", fix);
    expect_kc_fail(f, text, rest);

    snprintf(text, sizeof(text),
             "%susers:\n- name: u\n  user:\n    token: t\n    auth-provider: {name: gcp}\n", head);
    snprintf(rest, sizeof(rest), ": user 'u' authenticates with the auth-provider plugin 'gcp', %s",
             fix);
    expect_kc_fail(f, text, rest);

    snprintf(text, sizeof(text),
             "%susers:\n- name: u\n  user: {username: admin, password: secret}\n", head);
    snprintf(rest, sizeof(rest),
             ": user 'u' authenticates with a username and password (basic auth), %s", fix);
    expect_kc_fail(f, text, rest);
    assert_null(strstr(f->err, "secret"));

    /* A token comes before an exec plugin, as in the client. */
    snprintf(text, sizeof(text),
             "%susers:\n- name: u\n  user:\n    token: t0\n    exec: {command: aws}\n", head);
    use_kubeconfig(f, text);
    assert_int_equal(load(f), 0);
    assert_string_equal(f->creds.token, "t0");
}

static void test_no_credentials(void **state)
{
    struct fix *f = *state;
    expect_fail(f, "no Kubernetes API server: not in a cluster (KUBERNETES_SERVICE_HOST is not "
                   "set) and no kubeconfig (~/.kube/config does not exist); set KUBECONFIG, or "
                   "KubeSpawner.k8s_api_host to use a server without credentials");

    /* With k8s_api_host: that server, without credentials. */
    f->conf.k8s_api_host = "http://127.0.0.1:8001/";
    assert_int_equal(load(f), 0);
    assert_string_equal(f->creds.server, "http://127.0.0.1:8001");
    assert_null(f->creds.token);
    assert_null(f->creds.token_file);
    assert_null(f->creds.ca_file);
    assert_null(f->creds.ca_pem);
    assert_string_equal(kube_creds_token(&f->creds, 1), "");
    assert_string_equal(f->creds.source, "no credentials (not in a cluster, no ~/.kube/config); "
                                         "server http://127.0.0.1:8001");

    f->conf.k8s_api_host = "127.0.0.1:8001";
    expect_fail(f, "KubeSpawner.k8s_api_host '127.0.0.1:8001' must start with https:// or "
                   "http:// (as https://10.0.0.1:6443)");
}

static void test_api_overrides(void **state)
{
    struct fix *f = *state;
    put(f, "my-ca.crt", CA_PEM);
    use_kubeconfig(f, kc_token);
    f->conf.k8s_api_host = "https://proxy.example.org:8443";
    f->conf.k8s_api_ssl_ca_cert = path_in(f, "my-ca.crt");
    f->conf.k8s_api_verify_ssl = json_false();
    assert_int_equal(load(f), 0);
    struct kube_creds *c = &f->creds;
    assert_string_equal(c->server, "https://proxy.example.org:8443");
    assert_string_equal(c->token, "kc-token-1");
    assert_string_equal(c->ca_file, path_in(f, "my-ca.crt"));
    assert_null(c->ca_pem);
    assert_true(c->insecure);
    assert_string_equal(c->namespace, "team-a");

    /* In-cluster credentials go to k8s_api_host too. */
    in_cluster(f, "10.96.0.1", "443");
    f->conf.k8s_api_ssl_ca_cert = "";
    f->conf.k8s_api_verify_ssl = json_null();
    assert_int_equal(load(f), 0);
    assert_string_equal(c->server, "https://proxy.example.org:8443");
    assert_string_equal(kube_creds_token(c, 1), "tok-1");
    assert_string_equal(c->ca_file, path_in(f, "sa/ca.crt"));
    assert_false(c->insecure);

    char msg[1024];
    f->conf.k8s_api_ssl_ca_cert = path_in(f, "nope.crt");
    snprintf(msg, sizeof(msg), "KubeSpawner.k8s_api_ssl_ca_cert %s does not exist",
             path_in(f, "nope.crt"));
    expect_fail(f, msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_cluster_ipv6_and_no_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_cluster_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_files_and_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_client_cert_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_list_and_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_overrides, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
