/* The Docker Engine API client of the Docker spawner: where the engine is (DockerSpawner.host
 * or DOCKER_HOST, client_kwargs), the API version (negotiated with GET /version on first use,
 * as docker-py's version="auto"), and calls made with the hub's gm_fetch over the unix socket,
 * so nothing blocks the loop. Every call has a timeout (client_kwargs["timeout"], 60 s as
 * docker-py unless configured) and a cap on the answer. */
#include "docker.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_MAX_RESPONSE (64 << 10)

static int set_endpoint(struct docker_api *api, const char *where, char *err, size_t errlen)
{
    bool unix_socket = strncmp(where, "unix://", 7) == 0 || where[0] == '/';
    if (unix_socket) {
        const char *path = where[0] == '/' ? where : where + 7;
        if (path[0] != '/' || strlen(path) >= 108) {
            snprintf(err, errlen,
                     "DockerSpawner.host (%s): a unix socket must be an absolute path of at most "
                     "107 bytes, as unix:///var/run/docker.sock",
                     where);
            return -EINVAL;
        }
        api->socket = strdup(path);
        api->base = strdup("http://localhost");
    } else if (strncmp(where, "tcp://", 6) == 0 || strncmp(where, "http://", 7) == 0) {
        const char *hp = where + (where[0] == 't' ? 6 : 7);
        size_t n = strcspn(hp, "/");
        if (n == 0 || n >= sizeof(api->tcp_host) || hp[n + (hp[n] == '/')] != '\0') {
            snprintf(err, errlen, "DockerSpawner.host (%s) must be tcp://host:port", where);
            return -EINVAL;
        }
        char hostport[sizeof(api->tcp_host) + 8];
        snprintf(hostport, sizeof(hostport), "%.*s", (int)n, hp);
        /* The host alone (IPv6 in brackets keeps them off), for DockerSpawner.host_ip. */
        const char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');
        size_t hn = colon ? (size_t)(colon - hostport) + (hostport[0] == '[') : strlen(hostport);
        snprintf(api->tcp_host, sizeof(api->tcp_host), "%.*s", (int)hn, hostport);
        char base[300];
        /* docker-py's default port for plain tcp is 2375. */
        snprintf(base, sizeof(base), "http://%s%s", hostport, colon ? "" : ":2375");
        api->base = strdup(base);
    } else {
        snprintf(err, errlen,
                 "DockerSpawner.host (%s): only unix:// sockets and plain tcp:// (or http://) "
                 "addresses are supported; TLS (https://, DOCKER_TLS_VERIFY), ssh:// and npipe:// "
                 "are not",
                 where);
        return -EINVAL;
    }
    api->display = strdup(where);
    if (!api->base || !api->display || (unix_socket && !api->socket)) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

int docker_api_init(struct docker_api *api, const struct gm_host *host, const char *docker_host,
                    const json_t *client_kwargs, char *err, size_t errlen)
{
    memset(api, 0, sizeof(*api));
    api->host = host;
    api->timeout_ms = 60000;
    const char *where = docker_host && docker_host[0] ? docker_host : "unix:///var/run/docker.sock";
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)client_kwargs, key, v)
    {
        if (strcmp(key, "base_url") == 0 && json_is_string(v)) {
            where = json_string_value(v);
        } else if (strcmp(key, "timeout") == 0 && json_is_number(v) && json_number_value(v) > 0 &&
                   json_number_value(v) <= 86400) {
            api->timeout_ms = (long)(json_number_value(v) * 1000);
        } else if (strcmp(key, "version") == 0 && json_is_string(v)) {
            const char *ver = json_string_value(v);
            if (strcmp(ver, "auto") != 0) {
                if (strlen(ver) > 10 || strspn(ver, "0123456789.") != strlen(ver) || !ver[0]) {
                    snprintf(err, errlen,
                             "DockerSpawner.client_kwargs[\"version\"] (%s) must be \"auto\" or "
                             "an API version such as \"1.41\"",
                             ver);
                    return -EINVAL;
                }
                snprintf(api->version, sizeof(api->version), "/v%s", ver);
                api->version_known = true;
            }
        } else if ((strcmp(key, "tls") == 0 || strcmp(key, "use_ssh_client") == 0) &&
                   json_is_false(v)) {
            continue;
        } else if (strcmp(key, "max_pool_size") == 0 || strcmp(key, "user_agent") == 0) {
            continue; /* meaningless here: one connection per call, curl's user agent */
        } else {
            snprintf(err, errlen,
                     "DockerSpawner.client_kwargs[\"%s\"] is not supported: Ganymede understands "
                     "base_url (a unix:// or tcp:// address), timeout (seconds) and version",
                     key);
            return -EINVAL;
        }
    }
    int r = set_endpoint(api, where, err, errlen);
    if (r < 0) {
        docker_api_release(api);
        return r;
    }
    const char *tls = getenv("DOCKER_TLS_VERIFY");
    const char *certs = getenv("DOCKER_CERT_PATH");
    if (!api->socket && ((tls && tls[0]) || (certs && certs[0]))) {
        snprintf(err, errlen,
                 "DOCKER_TLS_VERIFY or DOCKER_CERT_PATH is set, but the Docker spawner cannot "
                 "talk TLS to %s: use the engine's unix socket (or a plain tcp:// address)",
                 api->display);
        docker_api_release(api);
        return -EINVAL;
    }
    return 0;
}

void docker_api_release(struct docker_api *api)
{
    free(api->socket);
    free(api->base);
    free(api->display);
    api->socket = api->base = api->display = NULL;
}

struct docker_call {
    struct docker_api *api;
    char *method;
    char *path;
    char *body;
    long timeout_ms;
    size_t max_response;
    docker_api_cb cb;
    void *data;
    struct gm_fetch *fetch;
    bool negotiating;
};

static void call_free(struct docker_call *c)
{
    free(c->method);
    free(c->path);
    free(c->body);
    free(c);
}

static void on_fetched(void *data, const struct gm_fetch_response *resp);

static int start_fetch(struct docker_call *c, const char *method, const char *path,
                       const char *body, long timeout_ms, size_t max)
{
    struct docker_api *api = c->api;
    char url[DOCKER_URL_MAX + 320];
    int n =
        snprintf(url, sizeof(url), "%s%s%s", api->base, c->negotiating ? "" : api->version, path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return -E2BIG;
    static const char *const json_headers[] = {"Content-Type: application/json", NULL};
    struct gm_fetch_request req = {
        .method = method,
        .url = url,
        .headers = body ? json_headers : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .unix_socket = api->socket,
        .timeout_ms = timeout_ms ? timeout_ms : api->timeout_ms,
        .connect_timeout_ms = api->timeout_ms < 10000 ? api->timeout_ms : 10000,
        .max_response = max ? max : 4 << 20,
    };
    return gm_fetch_start(api->host->fetcher, &req, on_fetched, c, &c->fetch);
}

static void deliver(struct docker_call *c, const struct gm_fetch_response *resp)
{
    struct docker_reply reply = {
        .status = resp->status,
        .error = resp->error,
        .body = resp->body ? resp->body : "",
        .body_len = resp->body_len,
        .message = resp->error ? resp->message : "",
    };
    if (resp->body_len && (resp->body[0] == '{' || resp->body[0] == '['))
        reply.json = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, NULL);
    const char *m = json_string_value(json_object_get(reply.json, "message"));
    if (m && !resp->error)
        reply.message = m;
    c->cb(c->data, &reply);
    json_decref(reply.json);
}

static void on_fetched(void *data, const struct gm_fetch_response *resp)
{
    struct docker_call *c = data;
    c->fetch = NULL;
    if (c->negotiating) {
        c->negotiating = false;
        json_t *v = resp->status == 200 ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
        const char *ver = json_string_value(json_object_get(v, "ApiVersion"));
        if (ver && strlen(ver) < sizeof(c->api->version) - 3 &&
            strspn(ver, "0123456789.") == strlen(ver)) {
            snprintf(c->api->version, sizeof(c->api->version), "/v%s", ver);
            c->api->version_known = true;
            gm_log_debug("Docker engine at %s speaks API %s", c->api->display, ver);
        }
        json_decref(v);
        if (c->api->version_known) {
            int r = start_fetch(c, c->method, c->path, c->body, c->timeout_ms, c->max_response);
            if (r == 0)
                return;
            struct gm_fetch_response failed = {.error = r, .message = strerror(-r), .body = ""};
            deliver(c, &failed);
        } else if (resp->error || resp->status != 200) {
            deliver(c, resp);
        } else {
            struct gm_fetch_response odd = {
                .status = 502,
                .message = "",
                .body = "{\"message\": \"GET /version did not give an ApiVersion\"}",
            };
            odd.body_len = strlen(odd.body);
            deliver(c, &odd);
        }
        call_free(c);
        return;
    }
    deliver(c, resp);
    call_free(c);
}

int docker_api_call(struct docker_api *api, const char *method, const char *path,
                    const json_t *body, long timeout_ms, size_t max_response, docker_api_cb cb,
                    void *data, struct docker_call **ret)
{
    struct docker_call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->api = api;
    c->method = strdup(method);
    c->path = strdup(path);
    c->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    c->timeout_ms = timeout_ms;
    c->max_response = max_response;
    c->cb = cb;
    c->data = data;
    if (!c->method || !c->path || (body && !c->body)) {
        call_free(c);
        return -ENOMEM;
    }
    int r;
    if (api->version_known) {
        r = start_fetch(c, method, path, c->body, timeout_ms, max_response);
    } else {
        c->negotiating = true;
        r = start_fetch(c, "GET", "/version", NULL, 0, VERSION_MAX_RESPONSE);
    }
    if (r < 0) {
        call_free(c);
        return r;
    }
    if (ret)
        *ret = c;
    return 0;
}

void docker_api_cancel(struct docker_call *c)
{
    if (!c)
        return;
    gm_fetch_cancel(c->fetch);
    call_free(c);
}

void docker_api_explain(const struct docker_api *api, const struct docker_reply *r,
                        const char *what, char *out, size_t outlen)
{
    if (r->error == -ETIMEDOUT) {
        snprintf(out, outlen,
                 "The Docker engine at %s did not answer in time while %s (%g s; "
                 "DockerSpawner.client_kwargs[\"timeout\"])",
                 api->display, what, (double)api->timeout_ms / 1000);
    } else if (r->error || r->status == 0) {
        snprintf(out, outlen,
                 "Cannot reach the Docker engine at %s while %s: %s. Is it running? "
                 "(DockerSpawner.host, DOCKER_HOST)",
                 api->display, what, r->message && r->message[0] ? r->message : "no answer");
    } else {
        snprintf(out, outlen, "The Docker engine failed %s: %.400s (HTTP %d)", what,
                 r->message && r->message[0] ? r->message : "no reason given", r->status);
    }
}
