/* What a server is started with: its URL prefix, OAuth client id, port, command line and the
 * environment of JupyterHub's Spawner.get_env (reference/jupyterhub.md §4.1). */
#include "spawn/launch.h"
#include "core/hub.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <ganymede/quantity.h>
#include "spawn/spawn.h"
#include "util/str.h"

#include <ganymede/template.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

char *spawn_routespec(struct hub *hub, const struct hub_spawner *sp)
{
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    gm_buf_printf(&b, "%suser/", hub->base_url);
    gm_url_encode(&b, sp->user->name, "@~");
    gm_buf_putc(&b, '/');
    if (sp->name[0]) {
        gm_url_encode(&b, sp->name, "@~");
        gm_buf_putc(&b, '/');
    }
    return gm_buf_steal(&b);
}

char *spawn_client_id(const struct hub_spawner *sp)
{
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    gm_buf_puts(&b, "jupyterhub-user-");
    gm_url_encode(&b, sp->user->name, "/");
    if (sp->name[0]) {
        gm_buf_putc(&b, '-');
        gm_url_encode(&b, sp->name, "/");
    }
    return gm_buf_steal(&b);
}

int spawn_format(struct hub *hub, const struct hub_spawner *sp, const char *option,
                 const char *tmpl, char **ret, char *err, size_t errlen)
{
    /* Spawner.format_string: str.format with template_namespace() (username, base_url),
     * plus servername as the hub's other templates have it. */
    char *base = spawn_routespec(hub, sp);
    json_t *ns = base ? json_pack("{ss ss ss}", "username", sp->user->name, "servername", sp->name,
                                  "base_url", base)
                      : NULL;
    free(base);
    if (!ns) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct gm_template_error e;
    int r = gm_format(tmpl, ns, NULL, ret, &e);
    json_decref(ns);
    if (r < 0)
        snprintf(err, errlen,
                 "Spawner.%s ('%s') does not format: %s (known fields: {username}, "
                 "{servername}, {base_url}; {{ and }} for braces)",
                 option, tmpl, r == -ENOMEM ? "out of memory" : e.message);
    return r;
}

/* "512M", "2G", 1073741824 → bytes (JupyterHub's ByteSpecification); 0 when unset. The option
 * table's check has refused anything else. */
static int64_t bytes_of(const json_t *v)
{
    int64_t bytes = 0;
    return gm_bytes_json(v, &bytes) == 0 ? bytes : 0;
}

static int free_port(const char *ip, int *ret)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (!ip[0] || inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        if (!ip[0])
            in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        len = sizeof(*in6);
    } else {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in4);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    close(fd);
    *ret = ntohs(ss.ss_family == AF_INET6 ? in6->sin6_port : in4->sin_port);
    return 0;
}

static int json_list_text(const json_t *list, char **out)
{
    *out = json_dumps(list, JSON_COMPACT);
    return *out ? 0 : -ENOMEM;
}

int spawn_launch_build(struct hub *hub, struct hub_spawner *sp, const char *token,
                       struct spawn_launch *l, char *err, size_t errlen)
{
    const struct spawn_config *c = &hub->spawn->conf;
    const struct gm_spawner *plugin = hub->spawn->plugin;
    memset(l, 0, sizeof(*l));
    l->ip = strdup(c->ip[0] ? c->ip : plugin->default_ip ? plugin->default_ip : "127.0.0.1");
    l->port = (int)(c->port || c->port_set ? c->port : plugin->default_port);
    if (!l->ip)
        return -ENOMEM;
    if (l->port == 0) {
        int r = free_port(l->ip, &l->port);
        if (r < 0) {
            snprintf(err, errlen, "cannot find a free port on %s: %s", l->ip, strerror(-r));
            return r;
        }
    }
    char *default_url = NULL;
    int fr = spawn_format(hub, sp, "notebook_dir", c->notebook_dir, &l->notebook_dir, err, errlen);
    if (fr == 0)
        fr = spawn_format(hub, sp, "default_url", c->default_url, &default_url, err, errlen);
    if (fr < 0) {
        spawn_launch_free(l);
        return fr;
    }
    char *base = spawn_routespec(hub, sp);
    char *client = spawn_client_id(sp);
    if (!l->notebook_dir || !base || !client || !default_url) {
        free(base);
        free(client);
        free(default_url);
        return -ENOMEM;
    }
    l->mem_limit = bytes_of(c->mem_limit);
    l->cpu_limit = json_is_number(c->cpu_limit) ? json_number_value(c->cpu_limit) : 0;
    l->mem_guarantee = bytes_of(c->mem_guarantee);
    l->cpu_guarantee = json_is_number(c->cpu_guarantee) ? json_number_value(c->cpu_guarantee) : 0;

    /* The command line: Spawner.cmd (or the spawner's default) + Spawner.args. */
    int r = 0;
    if (json_is_array(c->cmd)) {
        size_t i;
        json_t *x;
        json_array_foreach(c->cmd, i, x)
        {
            if (r == 0)
                r = gm_strv_push(&l->argv, json_string_value(x));
        }
    } else {
        r = gm_strv_extend(&l->argv, plugin->default_cmd);
    }
    if (r == 0)
        r = gm_strv_extend(&l->argv, (const char *const *)c->args);

    /* Variables kept from the hub's environment come first; the hub's own win. */
    struct gm_strv *e = &l->env;
    if (json_is_array(c->env_keep)) {
        size_t i;
        json_t *x;
        json_array_foreach(c->env_keep, i, x)
        {
            const char *v = getenv(json_string_value(x));
            if (v && r == 0)
                r = gm_strv_setenv(e, json_string_value(x), v);
        }
    } else {
        for (const char *const *k = plugin->default_env_keep; k && *k && r == 0; k++) {
            const char *v = getenv(*k);
            if (v)
                r = gm_strv_setenv(e, *k, v);
        }
    }
    char api_url[2048];
    const char *connect = c->hub_connect_url[0] ? c->hub_connect_url : hub->conf.hub_connect_url;
    size_t cl = strlen(connect);
    while (cl && connect[cl - 1] == '/')
        cl--;
    snprintf(api_url, sizeof(api_url), "%.*s%sapi", (int)cl, connect, hub->hub_prefix);
    json_t *access = json_array();
    json_array_append_new(access,
                          json_sprintf("access:servers!server=%s/%s", sp->user->name, sp->name));
    json_array_append_new(access, json_sprintf("access:servers!user=%s", sp->user->name));
    json_t *allowed = json_array();
    for (char **s = c->oauth_client_allowed_scopes; s && *s && allowed; s++)
        json_array_append_new(allowed, json_string(*s));
    char *access_text = NULL, *allowed_text = NULL;
    if (!access || !allowed || json_list_text(access, &access_text) < 0 ||
        json_list_text(allowed, &allowed_text) < 0)
        r = -ENOMEM;
    json_decref(access);
    json_decref(allowed);
    struct {
        const char *name;
        char *value;
        bool owned;
    } vars[] = {
        {"JUPYTERHUB_API_TOKEN", (char *)token, false},
        {"JPY_API_TOKEN", (char *)token, false},
        {"JUPYTERHUB_CLIENT_ID", client, false},
        {"JUPYTERHUB_HOST", "", false},
        {"JUPYTERHUB_OAUTH_CALLBACK_URL", NULL, true},
        {"JUPYTERHUB_OAUTH_SCOPES", access_text, false},
        {"JUPYTERHUB_OAUTH_ACCESS_SCOPES", access_text, false},
        {"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES", allowed_text, false},
        {"JUPYTERHUB_USER", sp->user->name, false},
        {"JUPYTERHUB_SERVER_NAME", sp->name, false},
        {"JUPYTERHUB_API_URL", api_url, false},
        {"JUPYTERHUB_ACTIVITY_URL", NULL, true},
        {"JUPYTERHUB_BASE_URL", hub->base_url, false},
        {"JUPYTERHUB_SERVICE_PREFIX", base, false},
        {"JUPYTERHUB_SERVICE_URL", NULL, true},
        {"JUPYTERHUB_PUBLIC_URL", "", false},
        {"JUPYTERHUB_PUBLIC_HUB_URL", "", false},
        {"JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED", "0", false},
    };
    if (r == 0) {
        struct gm_buf b;
        gm_buf_init(&b, 8192);
        gm_buf_printf(&b, "%soauth_callback", base);
        vars[4].value = gm_buf_steal(&b);
        gm_buf_init(&b, 8192);
        gm_buf_printf(&b, "%s/users/", api_url);
        gm_url_encode(&b, sp->user->name, "@~");
        gm_buf_puts(&b, "/activity");
        vars[11].value = gm_buf_steal(&b);
        gm_buf_init(&b, 8192);
        gm_buf_printf(&b, "http://%s%s%s:%d%s", strchr(l->ip, ':') ? "[" : "", l->ip,
                      strchr(l->ip, ':') ? "]" : "", l->port, base);
        vars[14].value = gm_buf_steal(&b);
    }
    for (size_t i = 0; i < sizeof(vars) / sizeof(*vars) && r == 0; i++)
        r = vars[i].value ? gm_strv_setenv(e, vars[i].name, vars[i].value) : -ENOMEM;
    for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
        if (vars[i].owned)
            free(vars[i].value);
    if (r == 0 && l->notebook_dir[0])
        r = gm_strv_setenv(e, "JUPYTERHUB_ROOT_DIR", l->notebook_dir);
    if (r == 0 && default_url[0])
        r = gm_strv_setenv(e, "JUPYTERHUB_DEFAULT_URL", default_url);
    if (r == 0 && c->debug)
        r = gm_strv_setenv(e, "JUPYTERHUB_DEBUG", "1");
    if (r == 0 && c->disable_user_config)
        r = gm_strv_setenv(e, "JUPYTERHUB_DISABLE_USER_CONFIG", "1");
    struct {
        const char *name;
        const json_t *value;
        bool bytes;
    } resources[] = {
        {"MEM_LIMIT", c->mem_limit, true},
        {"MEM_GUARANTEE", c->mem_guarantee, true},
        {"CPU_LIMIT", c->cpu_limit, false},
        {"CPU_GUARANTEE", c->cpu_guarantee, false},
    };
    for (size_t i = 0; i < 4 && r == 0; i++) {
        if (!resources[i].value || json_is_null(resources[i].value))
            continue;
        char text[64];
        if (resources[i].bytes)
            snprintf(text, sizeof(text), "%lld", (long long)bytes_of(resources[i].value));
        else
            snprintf(text, sizeof(text), "%g", json_number_value(resources[i].value));
        r = gm_strv_setenv(e, resources[i].name, text);
    }
    /* Spawner.environment last, as JupyterHub applies it. */
    const char *k;
    json_t *v;
    json_object_foreach(c->environment, k, v)
    {
        if (r != 0)
            break;
        if (json_is_string(v)) {
            r = gm_strv_setenv(e, k, json_string_value(v));
        } else {
            char text[64];
            if (json_is_integer(v))
                snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
            else
                snprintf(text, sizeof(text), "%g", json_number_value(v));
            r = gm_strv_setenv(e, k, text);
        }
    }
    free(access_text);
    free(allowed_text);
    free(base);
    free(client);
    free(default_url);
    if (r == 0 && (!gm_strv_get(&l->argv) || !gm_strv_get(&l->env)))
        r = -ENOMEM;
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        spawn_launch_free(l);
    }
    return r;
}

void spawn_launch_free(struct spawn_launch *l)
{
    gm_strv_free(&l->env);
    gm_strv_free(&l->argv);
    free(l->ip);
    free(l->notebook_dir);
    memset(l, 0, sizeof(*l));
}
