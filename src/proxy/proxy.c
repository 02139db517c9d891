/* The proxy's life: settings, starting configurable-http-proxy as a child (or reusing the one a
 * previous hub left running, or talking to an external one), waiting until its API answers,
 * checking every check_running_interval that it is alive (restarting and refilling it when it
 * died), and stopping it at the end when JupyterHub.cleanup_proxy says so. */
#include "core/hub.h"
#include "auth/cookie_secret.h"
#include "core/options.h"
#include "loop/process.h"
#include "proxy/proxy_impl.h"
#include <ganymede/buf.h>
#include "util/str.h"
#include <ganymede/strv.h>
#include "util/url.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ganymede/log.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define START_TIMEOUT_MS 15000
#define START_POLL_MS    100
#define RESTART_GAP_MS   5000

extern char **environ;

static void start_proxy(struct proxy *p);
static void on_check_timer(uv_timer_t *t);
static void on_probe_timer(uv_timer_t *t);
static void spawn_chp(struct proxy *p);

/* Settings. */

int proxy_create(struct hub *hub, struct proxy **ret, char *err, size_t errlen)
{
    struct proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->hub = hub;
    const struct gm_option_class *chain[] = {&proxy_proxy_class, &proxy_chp_class};
    void *confs[] = {&p->conf, &p->conf};
    int r = options_init(&proxy_proxy_class, &p->conf);
    if (r == 0)
        r = options_init(&proxy_chp_class, &p->conf);
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        proxy_free(p);
        return r;
    }
    r = config_apply(hub->config, chain, confs, 2, err, errlen);
    if (r < 0) {
        proxy_free(p);
        return r;
    }
    struct url pub;
    if (url_parse(hub->conf.bind_url, &pub) < 0 || strcmp(pub.scheme, "http") != 0) {
        snprintf(err, errlen, "JupyterHub.bind_url (%s) must be an http:// URL",
                 hub->conf.bind_url);
        proxy_free(p);
        return -EINVAL;
    }
    p->public_ip = strdup(pub.host);
    p->public_port = pub.port;
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    gm_buf_printf(&b, "http://%s%s%s:%d%s", pub.ipv6 ? "[" : "",
                  pub.host[0] ? pub.host : "127.0.0.1", pub.ipv6 ? "]" : "", pub.port,
                  hub->base_url);
    p->public_url = gm_buf_steal(&b);
    if (p->conf.api_url[0]) {
        struct url api;
        if (url_parse(p->conf.api_url, &api) < 0) {
            snprintf(err, errlen, "ConfigurableHTTPProxy.api_url (%s) is not a URL",
                     p->conf.api_url);
            proxy_free(p);
            return -EINVAL;
        }
        p->api_url = strdup(p->conf.api_url);
    } else {
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "http://127.0.0.1:%d", pub.port + 1);
        p->api_url = gm_buf_steal(&b);
    }
    size_t n = p->api_url ? strlen(p->api_url) : 0;
    while (n && p->api_url[n - 1] == '/')
        p->api_url[--n] = '\0';
    /* Without a configured token the hub makes one from its cookie secret: stable across
     * restarts, so that a proxy left running can be reused. */
    char token[65];
    if (p->conf.auth_token[0]) {
        str_copy(token, sizeof(token), p->conf.auth_token);
    } else if (!p->conf.should_start) {
        snprintf(err, errlen,
                 "ConfigurableHTTPProxy.auth_token (or CONFIGPROXY_AUTH_TOKEN) is needed to "
                 "use a proxy that the hub does not start");
        proxy_free(p);
        return -EINVAL;
    } else {
        unsigned char mac[32];
        unsigned len = 0;
        static const char what[] = "ganymede configurable-http-proxy auth token";
        HMAC(EVP_sha256(), hub->cookie_secret->bytes, (int)hub->cookie_secret->len,
             (const unsigned char *)what, sizeof(what) - 1, mac, &len);
        for (unsigned i = 0; i < 32 && i < len; i++)
            snprintf(token + 2 * i, 3, "%02x", mac[i]);
    }
    gm_buf_init(&b, 4096);
    gm_buf_printf(&b, "Authorization: token %s", token);
    p->auth_header = gm_buf_steal(&b);
    explicit_bzero(token, sizeof(token));
    p->hub_routespec = strdup(hub->base_url);
    p->hub_target = strdup(hub->conf.hub_connect_url);
    n = p->hub_target ? strlen(p->hub_target) : 0;
    while (n && p->hub_target[n - 1] == '/')
        p->hub_target[--n] = '\0';
    if (!p->public_ip || !p->public_url || !p->api_url || !p->auth_header || !p->hub_routespec ||
        !p->hub_target) {
        snprintf(err, errlen, "out of memory");
        proxy_free(p);
        return -ENOMEM;
    }
    uv_timer_init(hub->loop, &p->check_timer);
    uv_timer_init(hub->loop, &p->activity_timer);
    uv_timer_init(hub->loop, &p->start_timer);
    p->check_timer.data = p->activity_timer.data = p->start_timer.data = p;
    p->open_handles = 3;
    *ret = p;
    return 0;
}

const char *proxy_public_url(const struct proxy *p)
{
    return p->public_url;
}

const char *proxy_api_url(const struct proxy *p)
{
    return p->api_url;
}

/* Starting: wait for the API, then fill the routes. */

/* The first route check after the start is done: the hub's own route is in, users can come. */
static void on_first_check(void *data, int status, const char *message)
{
    struct proxy *p = data;
    proxy_done_cb cb = p->start_cb;
    p->start_cb = NULL;
    if (status < 0)
        gm_log_warn("The proxy's routes could not be set yet (%s); the next check retries",
                    message);
    if (cb)
        cb(p->start_data, 0, "");
}

static void started(struct proxy *p, int status, const char *message)
{
    uv_timer_stop(&p->start_timer);
    bool first = p->starting;
    p->starting = false;
    p->restarting = false;
    proxy_done_cb cb = p->start_cb;
    p->start_cb = NULL;
    if (status == 0) {
        proxy_routes_started(p);
        if (p->conf.should_start && !uv_is_active((uv_handle_t *)&p->check_timer)) {
            uint64_t ms = (uint64_t)(p->conf.check_running_interval * 1000);
            uv_timer_start(&p->check_timer, on_check_timer, ms, ms);
        }
        /* As JupyterHub's start awaits check_routes: the start is reported once the routes
         * are in, so that nobody is sent to a public URL that answers 404 meanwhile. */
        if (first && cb) {
            p->start_cb = cb;
            if (proxy_check_routes(p, on_first_check, p) == 0)
                return;
            p->start_cb = NULL;
        } else {
            proxy_check_routes(p, NULL, NULL);
        }
    }
    if (first && cb)
        cb(p->start_data, status, message);
    else if (status < 0)
        gm_log_error("The proxy did not come back: %s", message);
}

static void probe(struct proxy *p);

static void on_probe(struct proxy *p, const struct proxy_reply *r)
{
    if (r->status == 0) {
        gm_log_info("The proxy's API answers at %s", p->api_url);
        started(p, 0, "");
        return;
    }
    if (r->status == -EACCES) {
        started(p, r->status, r->message);
        return;
    }
    if ((int64_t)uv_now(p->hub->loop) >= p->start_deadline_ms) {
        char msg[600];
        snprintf(msg, sizeof(msg), "the proxy did not answer within %d seconds: %s",
                 START_TIMEOUT_MS / 1000, r->message);
        started(p, -ETIMEDOUT, msg);
        return;
    }
    if (p->conf.should_start && p->exited) {
        started(p, -ECHILD, "configurable-http-proxy exited as it started (see its output above)");
        return;
    }
    uv_timer_start(&p->start_timer, on_probe_timer, START_POLL_MS, 0);
}

static void on_probe_timer(uv_timer_t *t)
{
    probe(t->data);
}

static void probe(struct proxy *p)
{
    struct proxy_call_target t = {.done = on_probe, .cbdata = p};
    if (proxy_call(p, "GET", "", NULL, false, &t) < 0)
        started(p, -EIO, "cannot reach the proxy's API");
}

static void restart_proxy(struct proxy *p);

/* The hub sees its proxy die at once (a pidfd): it restarts it right away instead of on the
 * next liveness check, unless it did so moments ago (a proxy that cannot stay up is then
 * retried every check_running_interval). */
static void on_proxy_exit(void *data, int status)
{
    struct proxy *p = data;
    p->exited = true;
    if (p->shutting_down)
        return;
    gm_log_error("configurable-http-proxy exited with status %d", status);
    uint64_t now = uv_now(p->hub->loop);
    bool recent = p->last_restart_ms && now - p->last_restart_ms < RESTART_GAP_MS;
    if (!p->starting && !p->restarting && !recent)
        restart_proxy(p);
}

static void write_pid_file(struct proxy *p, pid_t pid)
{
    if (!p->conf.pid_file[0])
        return;
    int fd = open(p->conf.pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        gm_log_warn("Cannot write %s: %s", p->conf.pid_file, strerror(errno));
        return;
    }
    char text[32];
    int n = snprintf(text, sizeof(text), "%d\n", (int)pid);
    if (write(fd, text, (size_t)n) != n)
        gm_log_warn("Cannot write %s: %s", p->conf.pid_file, strerror(errno));
    close(fd);
}

static pid_t read_pid_file(const struct proxy *p)
{
    if (!p->conf.pid_file[0])
        return 0;
    FILE *f = fopen(p->conf.pid_file, "re");
    if (!f)
        return 0;
    char line[32] = "";
    int64_t pid = 0;
    if (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (str_to_int64(line, &pid) < 0 || pid <= 1 || pid > 0x7fffffff)
            pid = 0;
    }
    fclose(f);
    return (pid_t)pid;
}

/* Which configurable-http-proxy the command runs, for the log: the version in the package.json
 * above the bin/ its executable links to, which is where `configurable-http-proxy --version`
 * reads it too (npm's node_modules/.bin and Debian's /usr/bin both link into the package), so
 * that nothing extra has to run. Read once, before the first start; a command that is not an
 * installed package (a wrapper script, `node` with a path) leaves the version unknown. */
static void read_chp_version(struct proxy *p)
{
    const char *name = json_string_value(json_array_get(p->conf.command, 0));
    if (!name ||
        loop_process_which(name, getenv("PATH"), p->command_path, sizeof(p->command_path)) < 0) {
        p->command_path[0] = '\0';
        return;
    }
    char *real = realpath(p->command_path, NULL);
    char *slash = real ? strrchr(real, '/') : NULL;
    if (!slash) {
        free(real);
        return;
    }
    *slash = '\0';
    char pkg[PATH_MAX + 32];
    json_t *j = NULL;
    if (str_has_suffix(real, "/bin")) {
        real[strlen(real) - 4] = '\0';
        snprintf(pkg, sizeof(pkg), "%s/package.json", real);
        j = json_load_file(pkg, 0, NULL);
    }
    free(real);
    const char *version = json_string_value(json_object_get(j, "version"));
    if (version &&
        str_eq(json_string_value(json_object_get(j, "name")), "configurable-http-proxy") &&
        strlen(version) < sizeof(p->version))
        str_copy(p->version, sizeof(p->version), version);
    json_decref(j);
    int major = 0, minor = 0;
    if (p->version[0] && sscanf(p->version, "%d.%d", &major, &minor) == 2 &&
        (major < 4 || (major == 4 && minor < 5)))
        gm_log_warn("configurable-http-proxy %s (%s) is older than 4.5, the oldest version "
                    "Ganymede is tested with: install a newer one or set "
                    "ConfigurableHTTPProxy.command",
                    p->version, p->command_path);
}

static void spawn_chp(struct proxy *p)
{
    struct hub *hub = p->hub;
    struct url api;
    url_parse(p->api_url, &api);
    struct gm_strv argv = {0}, env = {0};
    size_t i;
    json_t *x;
    int r = 0;
    json_array_foreach(p->conf.command, i, x)
    {
        if (r == 0)
            r = gm_strv_push(&argv, json_string_value(x));
    }
    char port[16], api_port[16];
    snprintf(port, sizeof(port), "%d", p->public_port);
    snprintf(api_port, sizeof(api_port), "%d", api.port);
    struct gm_buf error_target;
    gm_buf_init(&error_target, 4096);
    gm_buf_printf(&error_target, "%s%serror", p->hub_target, hub->hub_prefix);
    const char *args[] = {"--ip",
                          p->public_ip,
                          "--port",
                          port,
                          "--api-ip",
                          api.host[0] ? api.host : "127.0.0.1",
                          "--api-port",
                          api_port,
                          "--error-target",
                          error_target.data ? error_target.data : "",
                          "--log-level",
                          p->conf.debug ? "debug" : p->conf.log_level,
                          NULL};
    if (r == 0)
        r = gm_strv_extend(&argv, args);
    gm_buf_free(&error_target);
    if (r == 0)
        r = gm_strv_extend(&env, (const char *const *)environ);
    const char *token = p->auth_header + strlen("Authorization: token ");
    if (r == 0)
        r = gm_strv_setenv(&env, "CONFIGPROXY_AUTH_TOKEN", token);
    /* Debian's proxy needs its modules found where Debian puts them (debian-notes.md). */
    if (r == 0 && !getenv("NODE_PATH"))
        r = gm_strv_setenv(&env, "NODE_PATH", "/usr/share/nodejs");
    char err[512] = "out of memory";
    if (r == 0) {
        struct loop_process_options o = {
            .argv = (const char *const *)gm_strv_get(&argv),
            .env = (const char *const *)gm_strv_get(&env),
            .stdout_fd = -1,
        };
        r = o.argv && o.env
                ? loop_process_start(hub->loop, &o, on_proxy_exit, p, &p->proc, err, sizeof(err))
                : -ENOMEM;
    }
    gm_strv_free(&argv);
    gm_strv_free(&env);
    if (r < 0) {
        char msg[700];
        snprintf(msg, sizeof(msg), "cannot start the proxy: %s", err);
        started(p, r, msg);
        return;
    }
    p->exited = false;
    pid_t pid = loop_process_pid(p->proc);
    write_pid_file(p, pid);
    gm_log_info("Started configurable-http-proxy %s (pid %d, %s) on %s, API at %s",
                p->version[0] ? p->version : "of unknown version", (int)pid, p->command_path,
                p->public_url, p->api_url);
    p->start_deadline_ms = (int64_t)uv_now(hub->loop) + START_TIMEOUT_MS;
    probe(p);
}

static void on_old_proxy_timer(uv_timer_t *t);

/* A proxy from the previous run: reuse it if it answers with our token, else replace it. */
static void on_reuse_probe(struct proxy *p, const struct proxy_reply *r)
{
    pid_t pid = p->adopted_pid;
    if (r->status == 0) {
        gm_log_info("Reusing configurable-http-proxy (pid %d) left running by the previous hub",
                    (int)pid);
        started(p, 0, "");
        return;
    }
    gm_log_warn("A proxy from an earlier run (pid %d) does not answer as expected (%s); "
                "replacing it",
                (int)pid, r->message);
    kill(pid, SIGTERM);
    p->start_deadline_ms = (int64_t)uv_now(p->hub->loop) + 2000;
    uv_timer_start(&p->start_timer, on_old_proxy_timer, 20, 0);
}

/* Wait (bounded) for the old proxy to go, so that its ports are free. */
static void on_old_proxy_timer(uv_timer_t *t)
{
    struct proxy *p = t->data;
    pid_t pid = p->adopted_pid;
    if (loop_process_alive(pid) && (int64_t)uv_now(p->hub->loop) < p->start_deadline_ms) {
        uv_timer_start(&p->start_timer, on_old_proxy_timer, 20, 0);
        return;
    }
    if (loop_process_alive(pid))
        kill(pid, SIGKILL);
    p->adopted_pid = 0;
    spawn_chp(p);
}

static void start_proxy(struct proxy *p)
{
    pid_t old = read_pid_file(p);
    if (old > 0 && loop_process_alive(old) && !p->restarting) {
        p->adopted_pid = old;
        struct proxy_call_target t = {.done = on_reuse_probe, .cbdata = p};
        if (proxy_call(p, "GET", "", NULL, false, &t) == 0)
            return;
        p->adopted_pid = 0;
    }
    spawn_chp(p);
}

int proxy_start(struct proxy *p, proxy_done_cb cb, void *data)
{
    /* The hub's own address is known once it listens. */
    free(p->hub_target);
    p->hub_target = strdup(p->hub->conf.hub_connect_url);
    if (!p->hub_target)
        return -ENOMEM;
    size_t n = strlen(p->hub_target);
    while (n && p->hub_target[n - 1] == '/')
        p->hub_target[--n] = '\0';
    p->start_cb = cb;
    p->start_data = data;
    p->starting = true;
    if (!p->conf.should_start) {
        gm_log_info("Using the proxy that runs at %s (ConfigurableHTTPProxy.should_start is "
                    "False)",
                    p->api_url);
        p->start_deadline_ms = (int64_t)uv_now(p->hub->loop) + START_TIMEOUT_MS;
        probe(p);
        return 0;
    }
    read_chp_version(p);
    start_proxy(p);
    return 0;
}

/* Liveness of a proxy the hub runs. */
static void on_check_timer(uv_timer_t *t)
{
    struct proxy *p = t->data;
    if (p->shutting_down || p->starting || p->restarting)
        return;
    bool dead = p->proc ? p->exited : (p->adopted_pid > 0 && !loop_process_alive(p->adopted_pid));
    if (dead)
        restart_proxy(p);
}

static void restart_proxy(struct proxy *p)
{
    gm_log_error("The proxy is gone; starting it again and restoring its routes");
    loop_process_release(p->proc);
    p->proc = NULL;
    p->adopted_pid = 0;
    p->restarting = true;
    p->last_restart_ms = uv_now(p->hub->loop);
    spawn_chp(p);
}

int proxy_reconfigure(struct proxy *p, const char *api_url, const char *auth_token)
{
    if (api_url) {
        char *u = strdup(api_url);
        if (!u)
            return -ENOMEM;
        size_t n = strlen(u);
        while (n && u[n - 1] == '/')
            u[--n] = '\0';
        free(p->api_url);
        p->api_url = u;
    }
    if (auth_token) {
        struct gm_buf b;
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "Authorization: token %s", auth_token);
        char *h = gm_buf_steal(&b);
        if (!h)
            return -ENOMEM;
        free(p->auth_header);
        p->auth_header = h;
    }
    return 0;
}

/* Stop. */

static void on_handle_closed(uv_handle_t *h)
{
    struct proxy *p = h->data;
    if (--p->open_handles == 0 && p->closed_cb)
        p->closed_cb(p->closed_data);
}

void proxy_shutdown(struct proxy *p, void (*cb)(void *data), void *data)
{
    p->shutting_down = true;
    p->closed_cb = cb;
    p->closed_data = data;
    proxy_cancel_all(p);
    if (p->current_check) {
        proxy_check_free(p->current_check);
        p->current_check = NULL;
    }
    struct proxy_check_waiter *lists[] = {p->check_waiters, p->next_waiters};
    for (size_t i = 0; i < 2; i++)
        for (struct proxy_check_waiter *w = lists[i], *next; w; w = next) {
            next = w->next;
            free(w);
        }
    p->check_waiters = p->next_waiters = NULL;
    pid_t pid = p->proc && !p->exited ? loop_process_pid(p->proc) : p->adopted_pid;
    if (p->hub->conf.cleanup_proxy && p->conf.should_start && pid > 0) {
        gm_log_info("Stopping configurable-http-proxy (pid %d; JupyterHub.cleanup_proxy)",
                    (int)pid);
        kill(pid, SIGTERM);
        if (p->conf.pid_file[0])
            unlink(p->conf.pid_file);
    } else if (pid > 0) {
        gm_log_info("Leaving configurable-http-proxy (pid %d) running for the next start",
                    (int)pid);
    }
    loop_process_release(p->proc);
    p->proc = NULL;
    uv_close((uv_handle_t *)&p->check_timer, on_handle_closed);
    uv_close((uv_handle_t *)&p->activity_timer, on_handle_closed);
    uv_close((uv_handle_t *)&p->start_timer, on_handle_closed);
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    options_release(&proxy_chp_class, &p->conf);
    options_release(&proxy_proxy_class, &p->conf);
    free(p->api_url);
    free(p->auth_header);
    free(p->public_url);
    free(p->public_ip);
    free(p->hub_routespec);
    free(p->hub_target);
    free(p);
}
