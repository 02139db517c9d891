/* Where the Kubernetes API server is and how to authenticate to it, found as KubeSpawner finds
 * it (kubespawner/clients.py load_config): the kubernetes client's load_incluster_config, else
 * its load_kube_config, then KubeSpawner's own settings on top.
 *
 *   in-cluster   KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT set (and not empty): the
 *                server https://HOST:PORT, the service account's token (re-read when the
 *                kubelet rotates it), ca.crt and namespace from
 *                /var/run/secrets/kubernetes.io/serviceaccount, or the directory that
 *                GANYMEDE_KUBE_SA_DIR names
 *   kubeconfig   $KUBECONFIG or ~/.kube/config: its current-context's cluster (server,
 *                certificate-authority[-data], insecure-skip-tls-verify), user (token,
 *                tokenFile, client-certificate[-data], client-key[-data]) and namespace;
 *                exec and auth-provider plugins and username/password are refused
 *   neither      only with KubeSpawner.k8s_api_host: that server, without credentials
 *
 * Options read (kube_options.c declares them):
 *
 *   KubeSpawner.k8s_api_host         replaces the server found ("https://10.0.0.1:6443")
 *   KubeSpawner.k8s_api_ssl_ca_cert  a CA file that replaces the one found
 *   KubeSpawner.k8s_api_verify_ssl   False: do not verify the server's certificate; True:
 *                                    verify even if the kubeconfig says otherwise
 *
 * Example: c.KubeSpawner.k8s_api_host = "http://127.0.0.1:8001" (kubectl proxy). */
#include "kube.h"

#include <ganymede/file.h>

#include <errno.h>
#include <fcntl.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <ganymede/yaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CREDS_SA_DIR         "/var/run/secrets/kubernetes.io/serviceaccount"
#define CREDS_TOKEN_MAX      (64 << 10) /* a token file */
#define CREDS_NAMESPACE_MAX  4096       /* the service account's namespace file */
#define CREDS_KUBECONFIG_MAX (4 << 20)  /* kubeconfigs with embedded certificates are ~10 KiB */
#define CREDS_CHECK_MS       1000       /* how often a token file is looked at */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* What a negative errno from read_file means, for a message ("... /x/token is empty"). */
static const char *file_problem(int r)
{
    if (r == -EFBIG)
        return "is too large";
    if (r == -EISDIR)
        return "is not a regular file";
    if (r == -ENOENT)
        return "does not exist";
    return strerror(-r);
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* Trim @s (of @n bytes) in place; returns it. */
static char *trim(char *s, size_t n)
{
    while (n > 0 && is_space(s[n - 1]))
        n--;
    s[n] = '\0';
    size_t i = 0;
    while (s[i] && is_space(s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
    return s;
}

/* A token goes into an Authorization header: visible ASCII only. */
static bool token_ok(const char *t)
{
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            return false;
    return true;
}

/* Read a token file: the trimmed content (caller frees) and its status. Returns 0, a negative
 * errno from read_file, -ENODATA (empty) or -EILSEQ (characters a token cannot have). */
static int read_token(const char *path, char **ret, struct stat *st)
{
    char *text;
    size_t n;
    int r = gm_file_read(path, CREDS_TOKEN_MAX, &text, &n, st);
    if (r < 0)
        return r;
    trim(text, n);
    if (!text[0])
        r = -ENODATA;
    else if (!token_ok(text))
        r = -EILSEQ;
    if (r < 0) {
        free(text);
        return r;
    }
    *ret = text;
    return 0;
}

static const char *token_problem(int r)
{
    if (r == -ENODATA)
        return "is empty";
    if (r == -EILSEQ)
        return "holds characters a bearer token cannot have (spaces, control characters)";
    if (r == -EFBIG)
        return "is larger than 64 KiB";
    return file_problem(r);
}

static void remember_file(struct kube_creds *c, const struct stat *st)
{
    c->file_mtime = st->st_mtim;
    c->file_size = (uint64_t)st->st_size;
}

static int set_token_file(struct kube_creds *c, const char *path, const char *what, char *err,
                          size_t errlen)
{
    struct stat st;
    char *tok;
    int r = read_token(path, &tok, &st);
    if (r < 0)
        return fail(err, errlen, "%s: the token file %s %s", what, path, token_problem(r));
    c->token_file = strdup(path);
    if (!c->token_file) {
        free(tok);
        return -ENOMEM;
    }
    c->file_token = tok;
    remember_file(c, &st);
    return 0;
}

/* The server without trailing '/' (caller frees), or NULL when out of memory. */
static char *server_dup(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return strndup(s, n);
}

static int load_incluster(struct kube_creds *c, const char *host, const char *port, char *err,
                          size_t errlen)
{
    const char *dir = getenv("GANYMEDE_KUBE_SA_DIR");
    if (!dir || !dir[0])
        dir = CREDS_SA_DIR;
    const char *what = "in-cluster (KUBERNETES_SERVICE_HOST is set)";
    char path[KUBE_PATH_MAX];
    if (strlen(dir) + sizeof("/namespace") > sizeof(path))
        return fail(err, errlen, "%s: the service account directory %s is too long", what, dir);

    /* IPv6 addresses go in brackets, as the client's _join_host_port does. */
    char server[KUBE_PATH_MAX];
    int n = snprintf(server, sizeof(server),
                     strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
    if (n < 0 || (size_t)n >= sizeof(server))
        return fail(err, errlen, "%s: KUBERNETES_SERVICE_HOST and _PORT are too long", what);
    c->server = strdup(server);
    if (!c->server)
        return -ENOMEM;

    snprintf(path, sizeof(path), "%s/token", dir);
    int r = set_token_file(c, path, what, err, errlen);
    if (r < 0)
        return r;

    snprintf(path, sizeof(path), "%s/ca.crt", dir);
    struct stat st;
    if (stat(path, &st) < 0)
        return fail(err, errlen, "%s: the service account's CA certificate %s %s", what, path,
                    file_problem(-errno));
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return fail(err, errlen, "%s: the service account's CA certificate %s %s", what, path,
                    S_ISREG(st.st_mode) ? "is empty" : "is not a regular file");
    c->ca_file = strdup(path);
    if (!c->ca_file)
        return -ENOMEM;

    /* The namespace file is optional (KubeSpawner falls back to "default"). */
    snprintf(path, sizeof(path), "%s/namespace", dir);
    char *text;
    size_t len;
    r = gm_file_read(path, CREDS_NAMESPACE_MAX, &text, &len, &st);
    if (r == 0) {
        trim(text, len);
        if (text[0])
            c->namespace = text;
        else
            free(text);
    } else if (r != -ENOENT) {
        return fail(err, errlen, "%s: the service account's namespace file %s %s", what, path,
                    file_problem(r));
    }
    snprintf(c->source, sizeof(c->source), "in-cluster (service account %s)", dir);
    return 0;
}

/* The kubeconfig being read, for messages and relative paths. */
struct kcfg {
    const char *path;
    char dir[KUBE_PATH_MAX];
    char *err;
    size_t errlen;
};

/* @p resolved against the kubeconfig's directory (caller frees), as the client's FileOrData
 * does (os.path.join(base, p): an absolute @p is kept). */
static char *resolve(const struct kcfg *k, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(k->dir) + strlen(p) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", k->dir, p);
    return s;
}

/* The string at @key of @obj: NULL when absent, null or "", *@bad when of another type. */
static const char *get_str(const json_t *obj, const char *key, bool *bad)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    const char *s = json_string_value(v);
    return s[0] ? s : NULL;
}

/* The @field of the entry named @name in the list @list of the document ("contexts",
 * "context"), or NULL. */
static const json_t *find_named(const json_t *doc, const char *list, const char *name,
                                const char *field)
{
    const json_t *arr = json_object_get(doc, list);
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        const json_t *nm = json_object_get(e, "name");
        if (json_is_string(nm) && strcmp(json_string_value(nm), name) == 0) {
            const json_t *f = json_object_get(e, field);
            /* An entry without its body reads as an empty one: the entry itself has none of
             * a body's keys. */
            return json_is_object(f) ? f : e;
        }
    }
    return NULL;
}

/* A file or base64 data pair ("certificate-authority", "certificate-authority-data"): the data
 * wins, as in the client's FileOrData. Sets *@file or *@pem (caller frees). */
static int file_or_data(const struct kcfg *k, const json_t *obj, const char *kind, const char *name,
                        const char *key, char **file, char **pem)
{
    char data_key[64];
    snprintf(data_key, sizeof(data_key), "%s-data", key);
    bool bad = false;
    const char *data = get_str(obj, data_key, &bad);
    const char *path = get_str(obj, key, &bad);
    if (bad)
        return fail(k->err, k->errlen, "kubeconfig %s: %s '%s': %s and %s must be strings", k->path,
                    kind, name, key, data_key);
    if (data) {
        size_t n = strlen(data);
        char *out = malloc(n / 4 * 3 + 4);
        if (!out)
            return -ENOMEM;
        long m = gm_base64_decode(data, n, out, n / 4 * 3 + 3);
        if (m <= 0 || memchr(out, '\0', (size_t)m)) {
            free(out);
            return fail(k->err, k->errlen, "kubeconfig %s: %s '%s': %s is not base64 of a PEM file",
                        k->path, kind, name, data_key);
        }
        out[m] = '\0';
        *pem = out;
        return 0;
    }
    if (path) {
        char *full = resolve(k, path);
        if (!full)
            return -ENOMEM;
        struct stat st;
        int r = stat(full, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EISDIR;
        if (r == 0 && access(full, R_OK) < 0)
            r = -errno;
        if (r < 0) {
            fail(k->err, k->errlen, "kubeconfig %s: %s '%s': %s %s %s", k->path, kind, name, key,
                 full, file_problem(r));
            free(full);
            return -EINVAL;
        }
        *file = full;
    }
    return 0;
}

static int load_cluster(struct kube_creds *c, const struct kcfg *k, const json_t *cluster,
                        const char *name)
{
    bool bad = false;
    const char *server = get_str(cluster, "server", &bad);
    if (!server)
        return fail(k->err, k->errlen, "kubeconfig %s: cluster '%s' has no server", k->path, name);
    c->server = server_dup(server);
    if (!c->server)
        return -ENOMEM;
    int r =
        file_or_data(k, cluster, "cluster", name, "certificate-authority", &c->ca_file, &c->ca_pem);
    if (r < 0)
        return r;
    const json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");
    if (insecure && !json_is_boolean(insecure) && !json_is_null(insecure))
        return fail(k->err, k->errlen,
                    "kubeconfig %s: cluster '%s': insecure-skip-tls-verify must be true or false",
                    k->path, name);
    c->insecure = json_is_true(insecure);
    return 0;
}

static int load_user(struct kube_creds *c, const struct kcfg *k, const json_t *user,
                     const char *name)
{
    bool bad = false;
    const char *token = get_str(user, "token", &bad);
    const char *token_file = get_str(user, "tokenFile", &bad);
    const char *username = get_str(user, "username", &bad);
    const char *password = get_str(user, "password", &bad);
    if (bad)
        return fail(k->err, k->errlen,
                    "kubeconfig %s: user '%s': token, tokenFile, username and password must be "
                    "strings",
                    k->path, name);
    const char *fix = "use a token, a tokenFile or a client certificate, or run the hub in the "
                      "cluster with a service account";
    /* The client's order: auth-provider, token (tokenFile), exec, username/password. */
    const json_t *provider = json_object_get(user, "auth-provider");
    if (provider && !json_is_null(provider)) {
        const char *pname = json_string_value(json_object_get(provider, "name"));
        return fail(k->err, k->errlen,
                    "kubeconfig %s: user '%s' authenticates with the auth-provider plugin '%s', "
                    "which Ganymede does not support: %s",
                    k->path, name, pname ? pname : "?", fix);
    }
    int r;
    if (token) {
        if (!token_ok(token))
            return fail(k->err, k->errlen,
                        "kubeconfig %s: user '%s': token holds characters a bearer token cannot "
                        "have (spaces, control characters)",
                        k->path, name);
        c->token = strdup(token);
        if (!c->token)
            return -ENOMEM;
    } else if (token_file) {
        char *full = resolve(k, token_file);
        if (!full)
            return -ENOMEM;
        char what[KUBE_PATH_MAX + 300];
        snprintf(what, sizeof(what), "kubeconfig %s: user '%s'", k->path, name);
        r = set_token_file(c, full, what, k->err, k->errlen);
        free(full);
        if (r < 0)
            return r;
    } else {
        const json_t *exec = json_object_get(user, "exec");
        if (exec && !json_is_null(exec)) {
            const char *cmd = json_string_value(json_object_get(exec, "command"));
            return fail(k->err, k->errlen,
                        "kubeconfig %s: user '%s' authenticates with an exec plugin ('%s'), which "
                        "Ganymede does not support: %s",
                        k->path, name, cmd ? cmd : "?", fix);
        }
        if (username || password)
            return fail(k->err, k->errlen,
                        "kubeconfig %s: user '%s' authenticates with a username and password "
                        "(basic auth), which Ganymede does not support: %s",
                        k->path, name, fix);
    }
    r = file_or_data(k, user, "user", name, "client-certificate", &c->cert_file, &c->cert_pem);
    if (r < 0)
        return r;
    r = file_or_data(k, user, "user", name, "client-key", &c->key_file, &c->key_pem);
    if (r < 0)
        return r;
    bool has_cert = c->cert_file || c->cert_pem, has_key = c->key_file || c->key_pem;
    if (has_cert != has_key)
        return fail(k->err, k->errlen, "kubeconfig %s: user '%s' has a %s but no %s", k->path, name,
                    has_cert ? "client-certificate" : "client-key",
                    has_cert ? "client-key" : "client-certificate");
    return 0;
}

static int load_doc(struct kube_creds *c, const struct kcfg *k, const json_t *doc)
{
    if (!json_is_object(doc))
        return fail(k->err, k->errlen, "kubeconfig %s: not a kubeconfig (not a YAML mapping)",
                    k->path);
    bool bad = false;
    const char *current = get_str(doc, "current-context", &bad);
    if (!current)
        return fail(k->err, k->errlen,
                    "kubeconfig %s: no current-context (choose one with kubectl config "
                    "use-context NAME)",
                    k->path);
    const json_t *ctx = find_named(doc, "contexts", current, "context");
    if (!ctx)
        return fail(k->err, k->errlen, "kubeconfig %s: current-context '%s' is not in contexts",
                    k->path, current);
    const char *cluster_name = get_str(ctx, "cluster", &bad);
    const char *user_name = get_str(ctx, "user", &bad);
    const char *ns = get_str(ctx, "namespace", &bad);
    if (bad)
        return fail(k->err, k->errlen,
                    "kubeconfig %s: context '%s': cluster, user and namespace must be strings",
                    k->path, current);
    if (!cluster_name)
        return fail(k->err, k->errlen, "kubeconfig %s: context '%s' names no cluster", k->path,
                    current);
    const json_t *cluster = find_named(doc, "clusters", cluster_name, "cluster");
    if (!cluster)
        return fail(k->err, k->errlen,
                    "kubeconfig %s: context '%s' names cluster '%s', which is not in clusters",
                    k->path, current, cluster_name);
    const json_t *user = NULL;
    if (user_name) {
        user = find_named(doc, "users", user_name, "user");
        if (!user)
            return fail(k->err, k->errlen,
                        "kubeconfig %s: context '%s' names user '%s', which is not in users",
                        k->path, current, user_name);
    }
    int r = load_cluster(c, k, cluster, cluster_name);
    if (r < 0)
        return r;
    if (user && (r = load_user(c, k, user, user_name)) < 0)
        return r;
    if (ns && !(c->namespace = strdup(ns)))
        return -ENOMEM;
    snprintf(c->source, sizeof(c->source), "kubeconfig %s (context %s)", k->path, current);
    return 0;
}

/* Expand a leading "~/" as os.path.expanduser does (from $HOME). */
static bool expand_home(const char *p, char *out, size_t outlen)
{
    int n;
    if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
        const char *home = getenv("HOME");
        if (!home || !home[0])
            return false;
        n = snprintf(out, outlen, "%s%s", home, p + 1);
    } else {
        n = snprintf(out, outlen, "%s", p);
    }
    return n >= 0 && (size_t)n < outlen;
}

/* The kubeconfig to read: the first existing file of $KUBECONFIG's ':'-separated list, else
 * ~/.kube/config. The client merges every file of the list (the first to set a value wins);
 * reading only the first existing one is enough for the configurations a hub is given (one
 * file), and says plainly which file the credentials came from. Returns 0, or -ENOENT with
 * what was looked for in @looked. */
static int find_kubeconfig(char *out, size_t outlen, char *looked, size_t lookedlen)
{
    const char *list = getenv("KUBECONFIG");
    struct stat st;
    if (list && list[0]) {
        snprintf(looked, lookedlen, "KUBECONFIG=%s", list);
        const char *p = list;
        while (*p) {
            size_t n = strcspn(p, ":");
            char one[KUBE_PATH_MAX];
            if (n > 0 && n < sizeof(one)) {
                memcpy(one, p, n);
                one[n] = '\0';
                if (expand_home(one, out, outlen) && stat(out, &st) == 0)
                    return 0;
            }
            p += n;
            if (*p == ':')
                p++;
        }
        return -ENOENT;
    }
    snprintf(looked, lookedlen, "~/.kube/config");
    if (expand_home("~/.kube/config", out, outlen) && stat(out, &st) == 0)
        return 0;
    return -ENOENT;
}

static int load_kubeconfig(struct kube_creds *c, const char *path, char *err, size_t errlen)
{
    struct kcfg k = {.path = path, .err = err, .errlen = errlen};
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(k.dir, sizeof(k.dir), ".");
    else if (slash == path)
        snprintf(k.dir, sizeof(k.dir), "/");
    else
        snprintf(k.dir, sizeof(k.dir), "%.*s", (int)(slash - path), path);
    char *text;
    size_t len;
    struct stat st;
    int r = gm_file_read(path, CREDS_KUBECONFIG_MAX, &text, &len, &st);
    if (r < 0)
        return fail(err, errlen, "kubeconfig %s %s", path, file_problem(r));
    json_t *doc = NULL;
    char yerr[KUBE_PATH_MAX + 200];
    r = gm_yaml_parse(text, len, path, &doc, yerr, sizeof(yerr));
    free(text);
    if (r < 0)
        return fail(err, errlen, "kubeconfig %s", yerr);
    r = load_doc(c, &k, doc);
    json_decref(doc);
    return r;
}

int kube_creds_load(struct kube_creds *c, const struct kube_conf *conf, char *err, size_t errlen)
{
    struct kube_creds n;
    memset(&n, 0, sizeof(n));
    const char *api_host =
        conf && conf->k8s_api_host && conf->k8s_api_host[0] ? conf->k8s_api_host : NULL;
    const char *ca_cert = conf && conf->k8s_api_ssl_ca_cert && conf->k8s_api_ssl_ca_cert[0]
                              ? conf->k8s_api_ssl_ca_cert
                              : NULL;
    if (api_host && strncmp(api_host, "https://", 8) != 0 && strncmp(api_host, "http://", 7) != 0)
        return fail(err, errlen,
                    "KubeSpawner.k8s_api_host '%s' must start with https:// or http:// (as "
                    "https://10.0.0.1:6443)",
                    api_host);

    /* As KubeSpawner: in-cluster when both variables are set and not empty (the client
     * raises otherwise and KubeSpawner goes on to the kubeconfig). */
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    char path[KUBE_PATH_MAX], looked[KUBE_PATH_MAX + 32];
    int r;
    if (host && host[0] && port && port[0]) {
        r = load_incluster(&n, host, port, err, errlen);
    } else if (find_kubeconfig(path, sizeof(path), looked, sizeof(looked)) == 0) {
        r = load_kubeconfig(&n, path, err, errlen);
    } else if (api_host) {
        snprintf(n.source, sizeof(n.source), "no credentials (not in a cluster, no %.200s)",
                 looked);
        r = 0;
    } else {
        r = fail(err, errlen,
                 "no Kubernetes API server: not in a cluster (KUBERNETES_SERVICE_HOST is not "
                 "set) and no kubeconfig (%s does not exist); set KUBECONFIG, or "
                 "KubeSpawner.k8s_api_host to use a server without credentials",
                 looked);
    }
    if (r < 0)
        goto fail;

    size_t used = strlen(n.source);
    if (api_host) {
        free(n.server);
        n.server = server_dup(api_host);
        if (!n.server) {
            r = -ENOMEM;
            goto fail;
        }
        used += (size_t)snprintf(n.source + used, sizeof(n.source) - used, "; server %s", n.server);
        if (used >= sizeof(n.source))
            used = sizeof(n.source) - 1;
    }
    if (ca_cert) {
        if (access(ca_cert, R_OK) < 0) {
            r = fail(err, errlen, "KubeSpawner.k8s_api_ssl_ca_cert %s %s", ca_cert,
                     file_problem(-errno));
            goto fail;
        }
        free(n.ca_file);
        free(n.ca_pem);
        n.ca_pem = NULL;
        n.ca_file = strdup(ca_cert);
        if (!n.ca_file) {
            r = -ENOMEM;
            goto fail;
        }
        used += (size_t)snprintf(n.source + used, sizeof(n.source) - used, "; CA %s", ca_cert);
        if (used >= sizeof(n.source))
            used = sizeof(n.source) - 1;
    }
    /* None keeps what was found; True verifies even where the kubeconfig said not to. */
    const json_t *verify = conf ? conf->k8s_api_verify_ssl : NULL;
    if (json_is_boolean(verify))
        n.insecure = json_is_false(verify);
    if (n.insecure)
        snprintf(n.source + used, sizeof(n.source) - used, "; TLS not verified");
    *c = n;
    return 0;
fail:
    if (r == -ENOMEM)
        snprintf(err, errlen, "out of memory while reading the Kubernetes credentials");
    kube_creds_release(&n);
    return r;
}

/* Look at the token file again: re-read it when its mtime or size changed. A file that cannot
 * be read is logged once (until it changes again) and the token read before is kept: the API
 * server says 401 if it has expired, and the next rotation brings a good one. */
static void refresh(struct kube_creds *c)
{
    struct stat st;
    if (stat(c->token_file, &st) < 0) {
        int e = errno;
        /* A file we could not stat is remembered with an mtime no file has. */
        if (c->file_mtime.tv_nsec != -1)
            gm_log_warn("Kubernetes token file %s %s; keeping the token read before", c->token_file,
                        file_problem(-e));
        c->file_mtime.tv_sec = 0;
        c->file_mtime.tv_nsec = -1;
        return;
    }
    if (st.st_mtim.tv_sec == c->file_mtime.tv_sec && st.st_mtim.tv_nsec == c->file_mtime.tv_nsec &&
        (uint64_t)st.st_size == c->file_size)
        return;
    char *tok;
    struct stat rst;
    int r = read_token(c->token_file, &tok, &rst);
    if (r < 0) {
        gm_log_warn("Kubernetes token file %s %s; keeping the token read before", c->token_file,
                    token_problem(r));
        remember_file(c, &st);
        return;
    }
    free(c->file_token);
    c->file_token = tok;
    remember_file(c, &rst);
}

const char *kube_creds_token(struct kube_creds *c, uint64_t now_ms)
{
    if (c->token)
        return c->token;
    if (!c->token_file)
        return "";
    if (c->file_checked_ms == 0 || now_ms < c->file_checked_ms ||
        now_ms - c->file_checked_ms >= CREDS_CHECK_MS) {
        c->file_checked_ms = now_ms;
        refresh(c);
    }
    return c->file_token ? c->file_token : "";
}

void kube_creds_release(struct kube_creds *c)
{
    if (!c)
        return;
    free(c->server);
    free(c->token);
    free(c->token_file);
    free(c->ca_file);
    free(c->ca_pem);
    free(c->cert_file);
    free(c->cert_pem);
    free(c->key_file);
    free(c->key_pem);
    free(c->namespace);
    free(c->file_token);
    memset(c, 0, sizeof(*c));
}
