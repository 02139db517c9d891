/* What the Docker spawner sends and reads: the container create body (as DockerSpawner's
 * create_object builds it through docker-py), the templates of names and volumes
 * (template_namespace, _render_templates), image names, and the server's address from an
 * inspect (get_ip_and_port). Pure functions of their inputs: tests/unit/spawners/docker/
 * test-docker_body.c runs them without an engine. */
#include "docker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Templates. */

int docker_render(const char *tmpl, const struct docker_ns *ns, char **ret, const char **bad)
{
    /* DockerSpawner.template_namespace(): safe_username is username's older name. */
    const struct {
        const char *key;
        const char *value;
    } fields[] = {
        {"username", ns->username},
        {"safe_username", ns->username},
        {"raw_username", ns->raw_username},
        {"servername", ns->servername},
        {"raw_servername", ns->raw_servername},
        {"imagename", ns->imagename},
        {"prefix", ns->prefix},
    };
    json_t *o = json_object();
    for (size_t i = 0; o && i < sizeof(fields) / sizeof(*fields); i++)
        if (json_object_set_new(o, fields[i].key,
                                json_string(fields[i].value ? fields[i].value : "")) < 0) {
            json_decref(o);
            o = NULL;
        }
    if (!o)
        return -ENOMEM;
    struct gm_template_error err;
    const struct gm_format_options opts = {.max_len = strlen(tmpl) + 16 * 1024};
    int r = gm_format(tmpl, o, &opts, ret, &err);
    json_decref(o);
    /* What Python's str.format refuses (an unknown field, a format spec, a positional field,
     * a lone brace) does not format. */
    if (r == -ENOENT || r == -EINVAL || r == -E2BIG) {
        if (bad)
            *bad = tmpl + err.offset;
        return -EINVAL;
    }
    return r;
}

static json_t *render_string(const char *s, const struct docker_ns *ns)
{
    char *out = NULL;
    int r = docker_render(s, ns, &out, NULL);
    if (r == -ENOMEM)
        return NULL;
    json_t *v = json_string(r == 0 ? out : s);
    free(out);
    return v;
}

json_t *docker_render_json(const json_t *v, const struct docker_ns *ns)
{
    if (json_is_string(v))
        return render_string(json_string_value(v), ns);
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!a || json_array_append_new(a, docker_render_json(x, ns)) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            json_t *key = render_string(k, ns);
            json_t *val = docker_render_json(x, ns);
            int r = o && key && val ? json_object_set_new(o, json_string_value(key), val) : -1;
            json_decref(key);
            if (r < 0) {
                if (!o || !key)
                    json_decref(val);
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    return json_deep_copy(v);
}

/* Images. */

int docker_image_split(const char *image, char *repo, size_t repolen, char *tag, size_t taglen)
{
    const char *slash = strrchr(image, '/');
    const char *last = slash ? slash + 1 : image;
    const char *colon = strrchr(last, ':');
    /* A digest (repo@sha256:...) is pulled as it is, with no tag. */
    if (strchr(last, '@'))
        colon = NULL;
    size_t n = colon ? (size_t)(colon - image) : strlen(image);
    const char *t = colon ? colon + 1 : strchr(last, '@') ? "" : "latest";
    if (n == 0 || n >= repolen || strlen(t) >= taglen)
        return -EINVAL;
    memcpy(repo, image, n);
    repo[n] = '\0';
    snprintf(tag, taglen, "%s", t);
    return 0;
}

char *docker_image_name(const char *image)
{
    char *s = strdup(image);
    for (char *p = s; p && *p; p++)
        if (*p == '/' || *p == ':')
            *p = '-';
    return s;
}

/* Volumes: {host-or-volume: "/bind"} or {host-or-volume: {"bind", "mode", "propagation"}}. */

struct bind {
    const char *bind;
    const char *mode;
    const char *propagation;
};

static int bind_of(const char *option, const char *key, const json_t *v, const char *mode,
                   struct bind *ret, char *err, size_t errlen)
{
    ret->mode = mode;
    ret->propagation = NULL;
    if (json_is_string(v)) {
        ret->bind = json_string_value(v);
        return 0;
    }
    const json_t *b = json_object_get(v, "bind");
    const json_t *m = json_object_get(v, "mode");
    const json_t *p = json_object_get(v, "propagation");
    if (!json_is_string(b) || (m && !json_is_string(m)) || (p && !json_is_string(p))) {
        snprintf(err, errlen,
                 "DockerSpawner.%s['%s'] must be a path in the container or a dict with "
                 "\"bind\" (and optionally \"mode\", \"propagation\")",
                 option, key);
        return -EINVAL;
    }
    ret->bind = json_string_value(b);
    if (m)
        ret->mode = json_string_value(m);
    if (p)
        ret->propagation = json_string_value(p);
    return 0;
}

static int render_or_fail(const char *option, const char *tmpl, const struct docker_ns *ns,
                          char **ret, char *err, size_t errlen)
{
    const char *bad = NULL;
    int r = docker_render(tmpl, ns, ret, &bad);
    if (r == -EINVAL)
        snprintf(err, errlen,
                 "DockerSpawner.%s: '%s' does not format at \"%.20s\" (known fields: {username}, "
                 "{raw_username}, {servername}, {raw_servername}, {imagename}, {prefix}; "
                 "{{ and }} for braces)",
                 option, tmpl, bad);
    else if (r < 0)
        snprintf(err, errlen, "out of memory");
    return r;
}

static bool dot_dot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return true;
    return false;
}

/* Add the binds of one option into @binds (host → "host:bind:mode[,propagation]", a later
 * option replacing an earlier one's entry for the same host) and @points (bind → {}). */
static int add_binds(const char *option, const json_t *vols, const char *mode,
                     const struct docker_ns *ns, json_t *binds, json_t *points, char *err,
                     size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vols, k, v)
    {
        struct bind b;
        int r = bind_of(option, k, v, mode, &b, err, errlen);
        char *host = NULL, *guest = NULL;
        if (r == 0)
            r = render_or_fail(option, k, ns, &host, err, errlen);
        if (r == 0)
            r = render_or_fail(option, b.bind, ns, &guest, err, errlen);
        if (r == 0 && (dot_dot(host) || dot_dot(guest))) {
            /* {raw_username} is the user's name as it is: it must not climb out of a path. */
            snprintf(err, errlen, "DockerSpawner.%s: '%s' → '%s' has a '..' component", option,
                     host, guest);
            r = -EINVAL;
        }
        if (r == 0 && (!host[0] || !guest[0] || guest[0] != '/')) {
            snprintf(err, errlen,
                     "DockerSpawner.%s: '%s' → '%s' needs a volume name or host path and an "
                     "absolute path in the container",
                     option, host, guest);
            r = -EINVAL;
        }
        if (r == 0) {
            json_t *entry =
                json_sprintf("%s:%s:%s%s%s", host, guest, b.mode, b.propagation ? "," : "",
                             b.propagation ? b.propagation : "");
            if (!entry || json_object_set_new(binds, host, entry) < 0 ||
                json_object_set_new(points, guest, json_object()) < 0)
                r = -ENOMEM;
        }
        free(host);
        free(guest);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The Mount dicts of DockerSpawner.mounts, templated (strings only) and in the Engine's
 * field names. */
static int mounts_json(const json_t *mounts, const struct docker_ns *ns, json_t **ret, char *err,
                       size_t errlen)
{
    json_t *rendered = docker_render_json(mounts, ns);
    int r = rendered ? docker_kwargs_mounts(rendered, ret, err, errlen) : -ENOMEM;
    json_decref(rendered);
    return r;
}

int docker_volumes_check(const struct docker_conf *c, char *err, size_t errlen)
{
    struct docker_ns ns = {
        .username = "user",
        .raw_username = "user",
        .servername = "",
        .raw_servername = "",
        .imagename = "image",
        .prefix = "jupyter",
    };
    json_t *binds = json_object(), *points = json_object(), *mounts = NULL;
    int r = binds && points ? 0 : -ENOMEM;
    if (r == 0 && c->volumes)
        r = add_binds("volumes", c->volumes, "rw", &ns, binds, points, err, errlen);
    if (r == 0 && c->read_only_volumes)
        r = add_binds("read_only_volumes", c->read_only_volumes, "ro", &ns, binds, points, err,
                      errlen);
    if (r == 0 && c->mounts)
        r = mounts_json(c->mounts, &ns, &mounts, err, errlen);
    json_decref(binds);
    json_decref(points);
    json_decref(mounts);
    return r;
}

/* The create body. */

/* Env entries of @extra ("K=V" strings or a dict) set over @env by name. */
static int merge_env(json_t *env, const json_t *extra)
{
    json_t *list = json_is_array(extra) ? json_incref((json_t *)extra) : json_array();
    if (json_is_object(extra)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)extra, k, v)
        {
            json_t *e = json_is_string(v) ? json_sprintf("%s=%s", k, json_string_value(v))
                        : json_is_integer(v)
                            ? json_sprintf("%s=%lld", k, (long long)json_integer_value(v))
                            : json_sprintf("%s=%g", k, json_number_value(v));
            json_array_append_new(list, e);
        }
    }
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *kv = json_string_value(x);
        if (!kv)
            continue;
        const char *eq = strchr(kv, '=');
        size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
        size_t j;
        json_t *y;
        bool replaced = false;
        json_array_foreach(env, j, y)
        {
            const char *old = json_string_value(y);
            if (old && strncmp(old, kv, n) == 0 && (old[n] == '=' || old[n] == '\0')) {
                json_array_set(env, j, x);
                replaced = true;
                break;
            }
        }
        if (!replaced && json_array_append(env, x) < 0) {
            json_decref(list);
            return -ENOMEM;
        }
    }
    json_decref(list);
    return 0;
}

static const char *network_mode(const json_t *hc, const char *network_name)
{
    const char *m = json_string_value(json_object_get(hc, "NetworkMode"));
    return m ? m : network_name;
}

static int host_config(const struct docker_conf *c, const struct docker_create *cr, json_t **ret,
                       char *err, size_t errlen)
{
    json_t *hc = json_object();
    json_t *binds = json_object(), *points = json_object(), *extra = NULL, *rendered = NULL;
    int r = hc && binds && points ? 0 : -ENOMEM;
    if (r == 0 && c->volumes)
        r = add_binds("volumes", c->volumes, "rw", cr->ns, binds, points, err, errlen);
    if (r == 0 && c->read_only_volumes)
        r = add_binds("read_only_volumes", c->read_only_volumes, "ro", cr->ns, binds, points, err,
                      errlen);
    if (r == 0 && json_object_size(binds)) {
        json_t *list = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(binds, k, v)
        {
            json_array_append(list, v);
        }
        json_object_set_new(hc, "Binds", list);
    }
    if (r == 0 && json_object_size(c->links)) {
        json_t *list = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(c->links, k, v)
        {
            json_array_append_new(list, json_sprintf("%s:%s", k, json_string_value(v)));
        }
        json_object_set_new(hc, "Links", docker_render_json(list, cr->ns));
        json_decref(list);
    }
    if (r == 0 && json_array_size(c->mounts)) {
        json_t *mounts = NULL;
        r = mounts_json(c->mounts, cr->ns, &mounts, err, errlen);
        if (r == 0)
            json_object_set_new(hc, "Mounts", mounts);
    }
    if (r == 0 && c->extra_host_config) {
        rendered = docker_render_json(c->extra_host_config, cr->ns);
        r = rendered ? docker_kwargs_host_config(rendered, &extra, err, errlen) : -ENOMEM;
    }
    if (r == 0 && cr->mem_limit > 0)
        json_object_set_new(hc, "Memory", json_integer(cr->mem_limit));
    if (r == 0 && cr->cpu_limit > 0) {
        /* Docker's CPU units are microseconds of a period (100 ms unless extra_host_config
         * says otherwise). */
        json_t *p = json_object_get(extra, "CpuPeriod");
        json_int_t period =
            json_is_integer(p) && json_integer_value(p) > 0 ? json_integer_value(p) : 100000;
        json_object_set_new(hc, "CpuPeriod", json_integer(period));
        json_object_set_new(hc, "CpuQuota", json_integer((json_int_t)(cr->cpu_limit * period)));
    }
    if (r == 0 && extra) {
        /* Binds from extra_host_config add to those of volumes (a dict in docker-py, where
         * the same merge happens by host path). */
        json_t *eb = json_object_get(extra, "Binds");
        json_t *ob = json_object_get(hc, "Binds");
        if (json_is_array(eb) && json_is_array(ob)) {
            json_array_extend(ob, eb);
            json_object_del(extra, "Binds");
        }
        r = gm_json_merge(hc, extra);
    }
    const char *mode = network_mode(hc, c->network_name);
    if (r == 0 && !json_object_get(hc, "NetworkMode"))
        json_object_set_new(hc, "NetworkMode", json_string(c->network_name));
    /* Host networking shares the host's ports: publishing one would be refused or ignored
     * (dockerspawner#253), and the server is reached where it listens. */
    if (r == 0 && !cr->internal_ip && strcmp(mode, "host") != 0 &&
        !json_object_get(hc, "PortBindings")) {
        char key[32];
        snprintf(key, sizeof(key), "%d/tcp", cr->port);
        json_t *pb = json_pack("{s:[{s:s,s:s}]}", key, "HostIp", cr->host_ip, "HostPort", "");
        r = pb ? json_object_set_new(hc, "PortBindings", pb) : -ENOMEM;
    }
    json_decref(rendered);
    json_decref(extra);
    json_decref(binds);
    if (r == 0 && json_object_size(points))
        *ret = json_pack("{s:o,s:o}", "HostConfig", hc, "Volumes", points);
    else if (r == 0) {
        json_decref(points);
        *ret = json_pack("{s:o}", "HostConfig", hc);
    } else {
        json_decref(hc);
        json_decref(points);
        if (r == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        return r;
    }
    return *ret ? 0 : -ENOMEM;
}

json_t *docker_create_body(const struct docker_conf *c, const struct docker_create *cr, char *err,
                           size_t errlen)
{
    json_t *body = json_object();
    json_t *env = json_array();
    json_t *hcv = NULL, *extra = NULL, *rendered = NULL;
    int r = body && env ? 0 : -ENOMEM;
    for (const char *const *e = cr->env; r == 0 && e && *e; e++)
        r = json_array_append_new(env, json_string(*e));
    /* As DockerSpawner.get_env: the image, over anything of the same name. */
    json_t *spec = json_pack("[s+]", "JUPYTER_IMAGE_SPEC=", cr->image);
    if (r == 0)
        r = spec ? merge_env(env, spec) : -ENOMEM;
    json_decref(spec);
    char port[32];
    snprintf(port, sizeof(port), "%d/tcp", cr->port);
    if (r == 0) {
        json_object_set_new(body, "Image", json_string(cr->image));
        if (cr->cmd)
            json_object_set_new(body, "Cmd", json_deep_copy(cr->cmd));
        json_object_set_new(body, "ExposedPorts", json_pack("{s:{}}", port));
        json_object_set_new(body, "Labels",
                            json_pack("{s:s,s:s,s:s}", DOCKER_LABEL_MANAGED, "ganymede",
                                      DOCKER_LABEL_USER, cr->user, DOCKER_LABEL_SERVER,
                                      cr->server_name));
        r = host_config(c, cr, &hcv, err, errlen);
    }
    if (r == 0 && c->extra_create_kwargs) {
        rendered = docker_render_json(c->extra_create_kwargs, cr->ns);
        r = rendered ? docker_kwargs_create(rendered, &extra, err, errlen) : -ENOMEM;
    }
    if (r == 0 && extra) {
        json_t *xenv = json_object_get(extra, "Env");
        if (xenv) {
            r = merge_env(env, xenv);
            json_object_del(extra, "Env");
        }
        if (r == 0)
            r = gm_json_merge(body, extra);
    }
    if (r == 0 && cr->run_as)
        json_object_set_new(body, "User", json_string(cr->run_as));
    if (r == 0) {
        json_object_set(body, "Env", env);
        /* As docker-py: HostConfig from extra_create_kwargs, then ours (with
         * extra_host_config) over it key by key. */
        json_t *hc = json_object_get(hcv, "HostConfig");
        json_t *old = json_object_get(body, "HostConfig");
        if (json_is_object(old))
            json_object_update(old, hc);
        else
            json_object_set(body, "HostConfig", hc);
        json_t *points = json_object_get(hcv, "Volumes");
        json_t *vold = json_object_get(body, "Volumes");
        if (points && json_is_object(vold))
            json_object_update(vold, points);
        else if (points)
            json_object_set(body, "Volumes", points);
    }
    json_decref(env);
    json_decref(hcv);
    json_decref(extra);
    json_decref(rendered);
    if (r < 0) {
        if (r == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        json_decref(body);
        return NULL;
    }
    return body;
}

bool docker_container_is_ours(const json_t *inspect, const char *user, const char *server_name)
{
    const json_t *labels = json_object_get(json_object_get(inspect, "Config"), "Labels");
    const char *managed = json_string_value(json_object_get(labels, DOCKER_LABEL_MANAGED));
    const char *u = json_string_value(json_object_get(labels, DOCKER_LABEL_USER));
    const char *s = json_string_value(json_object_get(labels, DOCKER_LABEL_SERVER));
    return managed && strcmp(managed, "ganymede") == 0 && u && strcmp(u, user) == 0 && s &&
           strcmp(s, server_name) == 0;
}

bool docker_container_is_jupyterhubs(const json_t *inspect, const char *user,
                                     const char *server_name)
{
    const json_t *env = json_object_get(json_object_get(inspect, "Config"), "Env");
    const char *u = NULL, *s = "";
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *kv = json_string_value(e);
        if (kv && strncmp(kv, "JUPYTERHUB_USER=", 16) == 0)
            u = kv + 16;
        else if (kv && strncmp(kv, "JUPYTERHUB_SERVER_NAME=", 23) == 0)
            s = kv + 23;
    }
    return u && strcmp(u, user) == 0 && strcmp(s, server_name) == 0;
}

static bool wildcard(const char *ip)
{
    return !ip || !ip[0] || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

static void format_url(char *url, size_t len, const char *ip, long port)
{
    bool v6 = strchr(ip, ':') != NULL;
    snprintf(url, len, "http://%s%s%s:%ld", v6 ? "[" : "", ip, v6 ? "]" : "", port);
}

int docker_server_url(const json_t *inspect, const struct docker_where *w, char *url, size_t urllen,
                      char *err, size_t errlen)
{
    const json_t *settings = json_object_get(inspect, "NetworkSettings");
    const char *mode =
        json_string_value(json_object_get(json_object_get(inspect, "HostConfig"), "NetworkMode"));
    if (mode && strcmp(mode, "host") == 0) {
        format_url(url, urllen, wildcard(w->ip) ? w->host_ip : w->ip, w->port);
        return 0;
    }
    if (w->internal_hostname) {
        format_url(url, urllen, w->name, w->port);
        return 0;
    }
    if (w->internal_ip) {
        const json_t *net = json_object_get(json_object_get(settings, "Networks"), w->network);
        const char *ip = json_string_value(json_object_get(net, "IPAddress"));
        if (!net) {
            snprintf(err, errlen,
                     "The container is not on the Docker network '%s' "
                     "(DockerSpawner.network_name): create it with `docker network create %s`",
                     w->network, w->network);
            return -EINVAL;
        }
        if (!ip || !ip[0]) {
            snprintf(err, errlen, "The container has no address on the Docker network '%s'",
                     w->network);
            return -EINVAL;
        }
        format_url(url, urllen, ip, w->port);
        return 0;
    }
    char key[32];
    snprintf(key, sizeof(key), "%d/tcp", w->port);
    const json_t *b = json_array_get(json_object_get(json_object_get(settings, "Ports"), key), 0);
    const char *ip = json_string_value(json_object_get(b, "HostIp"));
    const char *port = json_string_value(json_object_get(b, "HostPort"));
    char *end = NULL;
    long p = port ? strtol(port, &end, 10) : 0;
    if (!b || !port || !end || *end || p <= 0 || p > 65535) {
        snprintf(err, errlen,
                 "The container's port %s is not published on the host (network '%s'); set "
                 "DockerSpawner.use_internal_ip or use host networking",
                 key, mode ? mode : w->network);
        return -EINVAL;
    }
    format_url(url, urllen, wildcard(ip) ? w->host_ip : ip, p);
    return 0;
}
