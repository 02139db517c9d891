/* DockerSpawner ("docker"), as dockerspawner 14: each server is a container made from an image
 * through the Docker Engine API (docker_api.c) on the engine's unix socket, with
 * JupyterHub's environment, the user's volumes and limits. Works with Docker Engine and
 * Podman's Docker-compatible API.
 *
 * Start: the image (pulled per pull_policy), a fresh container (a stopped one of ours is
 * replaced, so configuration changes apply, dockerspawner#423; a stranger's of the same name is
 * a conflict), start, then wait until the server answers; a container that exits meanwhile
 * fails the start with its exit code and the last lines of its log. Stop: `docker stop` (the
 * container's StopTimeout, 10 s by default, then SIGKILL), and removal if `remove`. Poll:
 * inspect. The state is {"object_id", "object_name"}, as dockerspawner's, so a restarted hub
 * takes running containers over.
 *
 * Options (DockerSpawner, on top of Spawner's: cmd, args, environment, ip, port, mem_limit,
 * cpu_limit, start_timeout, debug, ...): image, allowed_images, pull_policy, name_template,
 * prefix, escape, network_name, use_internal_ip, use_internal_hostname, host_ip, remove,
 * volumes, read_only_volumes, mounts, links, extra_create_kwargs, extra_host_config,
 * post_start_cmd, host (DOCKER_HOST), client_kwargs; the deprecated container_image,
 * container_prefix, container_name_template, remove_containers, image_whitelist, container_ip;
 * and, so that existing configurations start, tls_config, container_port, move_certs_image and
 * certs_volume_name (refused unless at their defaults), use_docker_client_env, hub_ip_connect
 * and tls* (ignored with a warning, as dockerspawner does).
 *
 *     c.JupyterHub.spawner_class = "docker"
 *     c.DockerSpawner.image = "quay.io/jupyterhub/singleuser:5.5"
 *     c.DockerSpawner.network_name = "host"
 *     c.DockerSpawner.ip = "127.0.0.1"
 *     c.DockerSpawner.volumes = {"jupyterhub-user-{username}": "/home/jovyan/work"}
 *     c.DockerSpawner.mem_limit = "2G"
 *     c.DockerSpawner.remove = True
 */
#include "docker.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPT(field) offsetof(struct docker_conf, field)

static int check_allowed_images(const json_t *v, const char **why)
{
    *why = "a list or dict of images, or \"*\" (any image)";
    if (json_is_string(v))
        return strcmp(json_string_value(v), "*") == 0 ? 0 : -EINVAL;
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x) || !json_string_length(x))
                return -EINVAL;
        }
        return 0;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (!json_is_string(x) || !json_string_length(x))
                return -EINVAL;
        }
        return 0;
    }
    return -EINVAL;
}

static int check_volumes(const json_t *v, const char **why)
{
    *why = "a dict of volume name or host path to a path in the container, or to "
           "{\"bind\": path, \"mode\": \"rw\"|\"ro\"|\"z\"|\"Z\"}";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!json_is_string(x) && !json_is_string(json_object_get(x, "bind")))
            return -EINVAL;
    }
    return 0;
}

static int check_dict(const json_t *v, const char **why)
{
    *why = "a dict (callables cannot be given outside Python)";
    return json_is_object(v) ? 0 : -EINVAL;
}

static int check_mounts(const json_t *v, const char **why)
{
    int r = gm_check_dict_list(v, why);
    *why = "a list of dicts (docker.types.Mount arguments)";
    return r;
}

static int check_post_start(const json_t *v, const char **why)
{
    const char *command_why;
    int r = json_is_false(v) || gm_check_command(v, &command_why) == 0 ? 0 : -EINVAL;
    *why = "False, a command line, or a list of strings";
    return r;
}

static int check_bool_or_none(const json_t *v, const char **why)
{
    *why = "True, False or None (None: True unless network_name is bridge or host)";
    return json_is_boolean(v) ? 0 : -EINVAL;
}

const char *const docker_pull_names[DOCKER_PULL_MAX] = {
    [DOCKER_PULL_IFNOTPRESENT] = "ifnotpresent",
    [DOCKER_PULL_ALWAYS] = "always",
    [DOCKER_PULL_NEVER] = "never",
    [DOCKER_PULL_SKIP] = "skip",
};

static int check_pull_policy(const json_t *v, const char **why)
{
    *why = "one of ifnotpresent, always, never, skip";
    for (size_t i = 0; i < DOCKER_PULL_MAX; i++)
        if (strcasecmp(json_string_value(v), docker_pull_names[i]) == 0)
            return 0;
    return -EINVAL;
}

static int check_escape(const json_t *v, const char **why)
{
    *why = "\"\" (the safe default) or \"legacy\" (callables cannot be given outside Python)";
    const char *s = json_string_value(v);
    return !s[0] || strcmp(s, "legacy") == 0 ? 0 : -EINVAL;
}

static const struct gm_option docker_options[] = {
    GM_OPTION("image", GM_OPTION_STRING, OPT(image), "\"quay.io/jupyterhub/singleuser:5.5\"",
              "The image servers run (its jupyterhub should match the hub's API)."),
    GM_OPTION_X("allowed_images", GM_OPTION_JSON, OPT(allowed_images), "{}",
                "Images users may choose on the spawn form: a list, a dict of label to image, or "
                "\"*\" for any (empty: only `image`).",
                .check = check_allowed_images),
    GM_OPTION_X("pull_policy", GM_OPTION_STRING, OPT(pull_policy), "\"ifnotpresent\"",
                "When to pull the image: ifnotpresent, always, never (fail if missing) or skip.",
                .check = check_pull_policy),
    GM_OPTION("name_template", GM_OPTION_STRING, OPT(name_template), "\"\"",
              "Container name with {prefix}, {username}, {servername}, {imagename}, "
              "{raw_username} (\"\": {prefix}-{username}, or {prefix}-{username}--{servername}"
              " for named servers)."),
    GM_OPTION("prefix", GM_OPTION_STRING, OPT(prefix), "\"jupyter\"",
              "The {prefix} of container names."),
    GM_OPTION_X("escape", GM_OPTION_STRING, OPT(escape), "\"\"",
                "How {username} is escaped in names: \"\" (lower-case letters and digits, others "
                "as -XX) or \"legacy\" (letters, digits and -, others as _XX).",
                .check = check_escape),
    GM_OPTION("network_name", GM_OPTION_STRING, OPT(network_name), "\"bridge\"",
              "The Docker network containers join (\"host\": the host's network, no published "
              "port)."),
    GM_OPTION_X("use_internal_ip", GM_OPTION_JSON, OPT(use_internal_ip), "null",
                "Reach servers at their address on network_name instead of a published port "
                "(None: True unless network_name is bridge or host).",
                .check = check_bool_or_none),
    GM_OPTION("use_internal_hostname", GM_OPTION_BOOL, OPT(use_internal_hostname), "false",
              "Reach servers by container name (the hub on the same Docker network)."),
    GM_OPTION("host_ip", GM_OPTION_STRING, OPT(host_ip), "\"\"",
              "The host address of published ports (\"\": 127.0.0.1, or the host of a tcp:// "
              "DOCKER_HOST)."),
    GM_OPTION("remove", GM_OPTION_BOOL, OPT(remove), "false",
              "Delete each container (and its anonymous volumes) when its server stops."),
    GM_OPTION_X("volumes", GM_OPTION_JSON, OPT(volumes), "{}",
                "Volume names or host paths ({username} expanded) mounted at paths in the "
                "container; a named volume is created on first use and kept.",
                .check = check_volumes),
    GM_OPTION_X("read_only_volumes", GM_OPTION_JSON, OPT(read_only_volumes), "{}",
                "Like volumes, mounted read-only.", .check = check_volumes),
    GM_OPTION("auth_state_uid_key", GM_OPTION_STRING, OPT(auth_state_uid_key), "\"\"",
              "Ganymede: the container's uid from this path in the user's auth_state "
              "(\"oauth_user.id\"); the start is refused when it is missing."),
    GM_OPTION("auth_state_gid_key", GM_OPTION_STRING, OPT(auth_state_gid_key), "\"\"",
              "Ganymede: the container's gid from this path in the user's auth_state (with "
              "auth_state_uid_key)."),
    GM_OPTION_X("mounts", GM_OPTION_JSON, OPT(mounts), "[]",
                "Docker mounts (docker.types.Mount arguments or Engine fields; strings "
                "templated).",
                .check = check_mounts),
    GM_OPTION_X("links", GM_OPTION_JSON, OPT(links), "{}", "Docker links: {container: alias}.",
                .check = gm_check_str_dict),
    GM_OPTION_X("extra_create_kwargs", GM_OPTION_JSON, OPT(extra_create_kwargs), "{}",
                "More container settings: docker-py create_container arguments (\"user\", "
                "\"working_dir\", ...) or Engine API fields (\"User\"); strings templated.",
                .check = check_dict),
    GM_OPTION_X("extra_host_config", GM_OPTION_JSON, OPT(extra_host_config), "{}",
                "More HostConfig settings: docker-py create_host_config arguments "
                "(\"device_requests\", \"network_mode\", ...) or Engine API fields; strings "
                "templated.",
                .check = check_dict),
    GM_OPTION_X("cmd", GM_OPTION_JSON, OPT(cmd), "null",
                "The command that starts a server, before Spawner.args (None: the image's own "
                "command).",
                .check = gm_check_command),
    GM_OPTION_X("post_start_cmd", GM_OPTION_JSON, OPT(post_start_cmd), "false",
                "A command run in the container after it started (docker exec); its output is "
                "logged.",
                .check = check_post_start),
    GM_OPTION_X("host", GM_OPTION_STRING, OPT(host), "\"unix:///var/run/docker.sock\"",
                "Where the Docker (or Podman) engine listens: unix:///path or tcp://host:port.",
                .env = "DOCKER_HOST"),
    GM_OPTION_X("client_kwargs", GM_OPTION_JSON, OPT(client_kwargs), "{}",
                "Engine client settings: base_url (overrides host), timeout (seconds per call, "
                "default 60), version (\"auto\" or e.g. \"1.41\").",
                .check = check_dict),
    GM_OPTION_X("tls_config", GM_OPTION_JSON, OPT(tls_config), "{}",
                "TLS to a remote engine: not supported (use the unix socket); must stay empty.",
                .check = check_dict),
    GM_OPTION("container_image", GM_OPTION_STRING, OPT(container_image), "\"\"",
              "Deprecated: use image."),
    GM_OPTION("container_prefix", GM_OPTION_STRING, OPT(container_prefix), "\"\"",
              "Deprecated: use prefix."),
    GM_OPTION("container_name_template", GM_OPTION_STRING, OPT(container_name_template), "\"\"",
              "Deprecated: use name_template."),
    GM_OPTION("remove_containers", GM_OPTION_BOOL, OPT(remove_containers), "false",
              "Deprecated: use remove."),
    GM_OPTION_X("image_whitelist", GM_OPTION_JSON, OPT(image_whitelist), "null",
                "Deprecated: use allowed_images.", .check = check_allowed_images),
    GM_OPTION("container_ip", GM_OPTION_STRING, OPT(container_ip), "\"\"",
              "Deprecated: use host_ip."),
    GM_OPTION("container_port", GM_OPTION_INT, OPT(container_port), "8888",
              "Deprecated: use port (Spawner.port); any other value is refused."),
    GM_OPTION("move_certs_image", GM_OPTION_STRING, OPT(move_certs_image), "\"busybox:1.30.1\"",
              "For internal_ssl, which Ganymede does not support: must keep its default."),
    GM_OPTION("certs_volume_name", GM_OPTION_STRING, OPT(certs_volume_name),
              "\"{prefix}ssl-{username}\"",
              "For internal_ssl, which Ganymede does not support: must keep its default."),
    GM_OPTION("use_docker_client_env", GM_OPTION_BOOL, OPT(use_docker_client_env), "true",
              "Deprecated and ignored, as in dockerspawner: DOCKER_HOST is always read."),
    GM_OPTION("hub_ip_connect", GM_OPTION_STRING, OPT(hub_ip_connect), "\"\"",
              "Deprecated and ignored, as in dockerspawner: use JupyterHub.hub_connect_ip."),
    GM_OPTION("tls", GM_OPTION_JSON, OPT(tls), "null",
              "Deprecated and ignored, as in dockerspawner (tls_config)."),
    GM_OPTION("tls_verify", GM_OPTION_JSON, OPT(tls_verify), "null",
              "Deprecated and ignored, as in dockerspawner (tls_config)."),
    GM_OPTION("tls_ca", GM_OPTION_JSON, OPT(tls_ca), "null",
              "Deprecated and ignored, as in dockerspawner (tls_config)."),
    GM_OPTION("tls_cert", GM_OPTION_JSON, OPT(tls_cert), "null",
              "Deprecated and ignored, as in dockerspawner (tls_config)."),
    GM_OPTION("tls_key", GM_OPTION_JSON, OPT(tls_key), "null",
              "Deprecated and ignored, as in dockerspawner (tls_config)."),
    GM_OPTION("tls_assert_hostname", GM_OPTION_JSON, OPT(tls_assert_hostname), "null",
              "Deprecated and ignored, as in dockerspawner (tls_config)."),
    GM_OPTION_END,
};

static const struct gm_option_class docker_class = {
    .name = "DockerSpawner",
    .parent = "Spawner",
    .help = "Each server is a Docker (or Podman) container, created through the Engine API "
            "(spawner_class = \"docker\").",
    .options = docker_options,
};

/* Deprecated names: one that is set gives its value to the new name, with a warning, as
 * dockerspawner's observers do. */
static int apply_deprecated(struct docker_conf *c, char *err, size_t errlen)
{
    struct {
        const char *old, *new_name;
        char **from, **to;
    } strings[] = {
        {"container_image", "image", &c->container_image, &c->image},
        {"container_prefix", "prefix", &c->container_prefix, &c->prefix},
        {"container_name_template", "name_template", &c->container_name_template,
         &c->name_template},
        {"container_ip", "host_ip", &c->container_ip, &c->host_ip},
    };
    for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++) {
        if (!(*strings[i].from)[0])
            continue;
        gm_log_warn("DockerSpawner.%s is deprecated; use DockerSpawner.%s", strings[i].old,
                    strings[i].new_name);
        char *v = strdup(*strings[i].from);
        if (!v) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        free(*strings[i].to);
        *strings[i].to = v;
    }
    if (c->remove_containers) {
        gm_log_warn("DockerSpawner.remove_containers is deprecated; use DockerSpawner.remove");
        c->remove = true;
    }
    if (c->container_port != 8888) {
        snprintf(err, errlen,
                 "DockerSpawner.container_port (%lld) is deprecated: set DockerSpawner.port "
                 "instead",
                 (long long)c->container_port);
        return -EINVAL;
    }
    if (strcmp(c->move_certs_image, "busybox:1.30.1") != 0 ||
        strcmp(c->certs_volume_name, "{prefix}ssl-{username}") != 0) {
        snprintf(err, errlen,
                 "DockerSpawner.move_certs_image and certs_volume_name serve internal_ssl, which "
                 "Ganymede does not support: remove them");
        return -EINVAL;
    }
    if (!c->use_docker_client_env)
        gm_log_warn("DockerSpawner.use_docker_client_env is deprecated and ignored: DOCKER_HOST "
                    "is always read");
    if (c->hub_ip_connect[0])
        gm_log_warn("DockerSpawner.hub_ip_connect is deprecated and ignored: use "
                    "JupyterHub.hub_connect_ip");
    if (c->tls || c->tls_verify || c->tls_ca || c->tls_cert || c->tls_key || c->tls_assert_hostname)
        gm_log_warn("DockerSpawner.tls, tls_verify, tls_ca, tls_cert, tls_key and "
                    "tls_assert_hostname are ignored (dockerspawner ignores them too)");
    if (c->image_whitelist) {
        gm_log_warn("DockerSpawner.image_whitelist is deprecated; use "
                    "DockerSpawner.allowed_images");
        json_decref(c->allowed_images);
        c->allowed_images = json_incref(c->image_whitelist);
    }
    return 0;
}

/* allowed_images as an object alias → image (a list becomes {image: image}), "*", or NULL. */
static json_t *allowed_of(const json_t *v)
{
    if (json_is_string(v))
        return json_incref((json_t *)v);
    json_t *o = json_object();
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            json_object_set(o, json_string_value(x), x);
        }
    } else if (json_is_object(v)) {
        json_object_update(o, (json_t *)v);
    }
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int check_name(const char *what, const char *s, char *err, size_t errlen)
{
    if (strlen(s) > DOCKER_NAME_MAX) {
        snprintf(err, errlen, "DockerSpawner.%s is longer than %d characters", what,
                 DOCKER_NAME_MAX);
        return -EINVAL;
    }
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, errlen, "DockerSpawner.%s (%s) has a space or control character", what,
                     s);
            return -EINVAL;
        }
    return 0;
}

static void docker_destroy(void *state)
{
    struct docker_state *st = state;
    if (!st)
        return;
    docker_api_release(&st->api);
    json_decref(st->allowed);
    json_decref(st->post_start);
    free(st);
}

static int docker_init(const struct gm_host *host, void *conf, void **state, char *err,
                       size_t errlen)
{
    struct docker_conf *c = conf;
    int r = apply_deprecated(c, err, errlen);
    if (r < 0)
        return r;
    if (json_object_size(c->tls_config)) {
        snprintf(err, errlen,
                 "DockerSpawner.tls_config is not supported: Ganymede talks to the engine over "
                 "its unix socket (or plain tcp); remove tls_config");
        return -EINVAL;
    }
    if ((r = check_name("image", c->image, err, errlen)) < 0 ||
        (r = check_name("prefix", c->prefix, err, errlen)) < 0 ||
        (r = check_name("network_name", c->network_name, err, errlen)) < 0)
        return r;
    if (!c->image[0]) {
        snprintf(err, errlen, "DockerSpawner.image must be set");
        return -EINVAL;
    }
    /* Templates that cannot format are refused now rather than at each user's start. */
    struct docker_ns ns = {
        .username = "user",
        .raw_username = "user",
        .servername = "srv",
        .raw_servername = "srv",
        .imagename = "image",
        .prefix = c->prefix,
    };
    char *name = NULL;
    const char *bad = NULL;
    if (c->name_template[0] && docker_render(c->name_template, &ns, &name, &bad) < 0) {
        snprintf(err, errlen,
                 "DockerSpawner.name_template (%s) does not format at \"%.20s\" (known fields: "
                 "{prefix}, {username}, {raw_username}, {servername}, {raw_servername}, "
                 "{imagename})",
                 c->name_template, bad ? bad : "");
        return -EINVAL;
    }
    free(name);
    if (c->auth_state_gid_key[0] && !c->auth_state_uid_key[0]) {
        snprintf(err, errlen,
                 "DockerSpawner.auth_state_gid_key needs DockerSpawner.auth_state_uid_key (a "
                 "container's User names a uid first)");
        return -EINVAL;
    }
    if ((r = docker_volumes_check(c, err, errlen)) < 0)
        return r;
    json_t *probe = NULL;
    if (c->extra_create_kwargs &&
        (r = docker_kwargs_create(c->extra_create_kwargs, &probe, err, errlen)) < 0)
        return r;
    json_decref(probe);
    probe = NULL;
    if (c->extra_host_config &&
        (r = docker_kwargs_host_config(c->extra_host_config, &probe, err, errlen)) < 0)
        return r;
    json_decref(probe);

    struct docker_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    st->host = host;
    st->conf = c;
    r = docker_api_init(&st->api, host, c->host, c->client_kwargs, err, errlen);
    if (r < 0) {
        free(st);
        return r;
    }
    /* The grace period of a stop, for the timeout of the call that waits for it. */
    const json_t *grace = json_object_get(c->extra_create_kwargs, "StopTimeout");
    if (!grace)
        grace = json_object_get(c->extra_create_kwargs, "stop_timeout");
    st->stop_grace_s = json_is_integer(grace) && json_integer_value(grace) >= 0 &&
                               json_integer_value(grace) <= 3600
                           ? (int)json_integer_value(grace)
                           : 10;
    for (int i = 0; i < DOCKER_PULL_MAX; i++)
        if (strcasecmp(c->pull_policy, docker_pull_names[i]) == 0)
            st->pull = (enum docker_pull)i;
    st->allowed = allowed_of(c->allowed_images);
    st->internal_ip =
        json_is_boolean(c->use_internal_ip)
            ? json_is_true(c->use_internal_ip)
            : strcmp(c->network_name, "bridge") != 0 && strcmp(c->network_name, "host") != 0;
    snprintf(st->host_ip, sizeof(st->host_ip), "%s",
             c->host_ip[0]         ? c->host_ip
             : st->api.tcp_host[0] ? st->api.tcp_host
                                   : "127.0.0.1");
    if (json_is_string(c->post_start_cmd)) {
        if (docker_split_command(json_string_value(c->post_start_cmd), &st->post_start) < 0) {
            snprintf(err, errlen, "DockerSpawner.post_start_cmd has an unterminated quote");
            docker_destroy(st);
            return -EINVAL;
        }
    } else if (json_is_array(c->post_start_cmd) && json_array_size(c->post_start_cmd)) {
        st->post_start = json_incref(c->post_start_cmd);
    }
    gm_log_info("Docker spawner: engine at %s, image %s, network %s", st->api.display, c->image,
                c->network_name);
    *state = st;
    return 0;
}

/* Servers. */

static int docker_server_new(void *state, const char *user, const char *server_name, void **server)
{
    struct docker_state *st = state;
    struct docker_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->st = st;
    s->user = strdup(user);
    s->server_name = strdup(server_name ? server_name : "");
    if (!s->user || !s->server_name) {
        free(s->user);
        free(s->server_name);
        free(s);
        return -ENOMEM;
    }
    uv_timer_init(st->host->loop, &s->timer);
    s->timer.data = s;
    s->holds = 2; /* the owner and the timer handle */
    *server = s;
    return 0;
}

void docker_server_hold(struct docker_server *s)
{
    s->holds++;
}

void docker_server_release(struct docker_server *s)
{
    if (--s->holds > 0)
        return;
    free(s->user);
    free(s->server_name);
    free(s->name);
    free(s->id);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    docker_server_release(h->data);
}

static void docker_server_free(void *server)
{
    struct docker_server *s = server;
    s->freed = true;
    /* The hub frees a server with nothing in flight, except at shutdown: drop it all. */
    docker_start_abort(s);
    docker_api_cancel(s->call);
    s->call = NULL;
    docker_api_cancel(s->poll_call);
    s->poll_call = NULL;
    s->op = DOCKER_OP_NONE;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    docker_server_release(s);
}

struct deferred {
    struct docker_server *s;
    void (*fn)(void *data);
};

static void run_deferred(void *data)
{
    struct deferred *d = data;
    struct docker_server *s = d->s;
    void (*fn)(void *) = d->fn;
    free(d);
    if (!s->freed)
        fn(s);
    docker_server_release(s);
}

int docker_server_defer(struct docker_server *s, void (*fn)(void *data))
{
    struct deferred *d = malloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->s = s;
    d->fn = fn;
    int r = s->st->host->defer(s->st->host, run_deferred, d);
    if (r < 0) {
        free(d);
        return r;
    }
    docker_server_hold(s);
    return 0;
}

static json_t *docker_get_state(void *server)
{
    struct docker_server *s = server;
    if (!s->id)
        return NULL;
    return json_pack("{s:s,s:s}", "object_id", s->id, "object_name", s->name ? s->name : "");
}

static int docker_load_state(void *server, const json_t *state)
{
    struct docker_server *s = server;
    /* dockerspawner < 0.10 kept "container_id". */
    const char *id = json_string_value(json_object_get(state, "object_id"));
    if (!id)
        id = json_string_value(json_object_get(state, "container_id"));
    const char *name = json_string_value(json_object_get(state, "object_name"));
    if (!id || !id[0] || strlen(id) > 128 || strspn(id, "0123456789abcdef") != strlen(id))
        return 0;
    char *i = strdup(id);
    char *n = name && name[0] && strlen(name) <= DOCKER_NAME_MAX ? strdup(name) : NULL;
    if (!i) {
        free(n);
        return -ENOMEM;
    }
    free(s->id);
    s->id = i;
    if (n) {
        free(s->name);
        s->name = n;
    }
    return 0;
}

/* The image choice: a <select name="image"> when there are two images or more, as
 * dockerspawner's default options_form. */
static char *docker_options_form(void *state, const char *user, const char *const *groups)
{
    (void)user;
    (void)groups;
    struct docker_state *st = state;
    if (!json_is_object(st->allowed) || json_object_size(st->allowed) < 2)
        return NULL;
    struct gm_buf b;
    gm_buf_init(&b, 256 * 1024);
    gm_buf_puts(&b, "<label for=\"image\">Select an image:</label>\n"
                    "<select class=\"form-control\" name=\"image\" id=\"image\" required "
                    "autofocus>\n");
    const char *k;
    json_t *v;
    json_object_foreach(st->allowed, k, v)
    {
        bool selected =
            strcmp(json_string_value(v), st->conf->image) == 0 || strcmp(k, st->conf->image) == 0;
        gm_buf_puts(&b, "<option value=\"");
        gm_buf_html_escape(&b, k);
        gm_buf_puts(&b, selected ? "\" selected>" : "\">");
        gm_buf_html_escape(&b, k);
        gm_buf_puts(&b, "</option>\n");
    }
    gm_buf_puts(&b, "</select>\n");
    if (b.error) {
        gm_buf_free(&b);
        return NULL; /* over 256 KiB of choices, or out of memory: no form */
    }
    return gm_buf_steal(&b);
}

static int docker_options_from_form(void *state, const json_t *form, json_t **user_options,
                                    char *err, size_t errlen)
{
    (void)state;
    json_t *opts = json_object();
    if (!opts) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    const char *image = json_string_value(json_array_get(json_object_get(form, "image"), 0));
    if (image && image[0])
        json_object_set_new(opts, "image", json_string(image));
    *user_options = opts;
    return 0;
}

/* The first is the class's full path, as /hub/api/info reports it (JupyterHub gives
 * module.name). */
static const char *const docker_aliases[] = {
    "dockerspawner.dockerspawner.DockerSpawner",
    "dockerspawner.DockerSpawner",
    "DockerSpawner",
    NULL,
};

const struct gm_spawner spawn_docker = {
    .abi = GM_ABI_VERSION,
    .name = "docker",
    .aliases = docker_aliases,
    .options = &docker_class,
    .conf_size = sizeof(struct docker_conf),
    /* The server listens on every interface of its container; the hub picks a free port
     * (dockerspawner fixes 8888, which host networking cannot share). */
    .default_ip = "0.0.0.0",
    .default_port = 0,
    .default_cmd = NULL,      /* DockerSpawner.cmd, else the image's */
    .default_env_keep = NULL, /* nothing from the hub's own environment */
    .init = docker_init,
    .destroy = docker_destroy,
    .server_new = docker_server_new,
    .server_free = docker_server_free,
    .start = docker_start,
    .stop = docker_stop,
    .poll = docker_poll,
    .get_state = docker_get_state,
    .load_state = docker_load_state,
    .options_form = docker_options_form,
    .options_from_form = docker_options_from_form,
};
