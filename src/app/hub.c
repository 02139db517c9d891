/* The hub's life cycle. Creation derives the URLs JupyterHub derives, opens and migrates the
 * database and loads secrets; start listens; stop finishes requests and closes every handle so
 * that the loop ends by itself. */
#include "app/app.h"
#include "auth/auth_host.h"
#include "auth/authenticators.h"
#include "auth/oauth2.h"
#include "auth/authenticator.h"
#include "auth/cookie_secret.h"
#include "auth/crypt.h"
#include "auth/scopes.h"
#include "auth/usernames.h"
#include "http/metrics.h"
#include "spawn/spawn.h"
#include "core/log.h"
#include "core/options.h"
#include "db/db.h"
#include "db/migrate.h"
#include "app/routes.h"
#include "http/server.h"
#include "pages/pages.h"
#include "pages/template.h"
#include "loop/fetch.h"
#include "proxy/proxy.h"
#include "services/services.h"
#include "spawn/spawners.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/resident.h"
#include "util/sd_notify.h"
#include "util/str.h"
#include "util/time.h"
#include "util/url.h"
#include "version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct gm_option_class *const core_classes[] = {
    &hub_jupyterhub_class,     &hub_ganymede_class,
    &auth_authenticator_class, &auth_oauth2_class,
    &auth_dummy_class,         &auth_shared_password_class,
#if GM_HAVE_PAM
    &auth_local_class,         &auth_pam_class,
#endif
    &spawn_spawner_class,      &proxy_proxy_class,
    &proxy_chp_class,          NULL,
};

#define MAX_CLASSES 128

/* The core's classes, then every spawner's (built once, at the first call, from main). */
const struct gm_option_class *const *hub_option_classes(void)
{
    static const struct gm_option_class *all[MAX_CLASSES + 1];
    if (all[0])
        return all;
    size_t n = 0;
    for (const struct gm_option_class *const *c = core_classes; *c && n < MAX_CLASSES; c++)
        all[n++] = *c;
    for (const struct gm_authenticator *const *m = auth_modules(); *m && n < MAX_CLASSES; m++) {
        for (const struct gm_option_class *const *a = (*m)->ancestors; a && *a && n < MAX_CLASSES;
             a++)
            all[n++] = *a;
        bool seen = !(*m)->options;
        for (size_t i = 0; i < n && !seen; i++)
            seen = all[i] == (*m)->options;
        if (!seen)
            all[n++] = (*m)->options;
    }
    for (const struct gm_spawner *const *m = spawn_modules(); *m && n < MAX_CLASSES; m++) {
        for (const struct gm_option_class *const *a = (*m)->ancestors; a && *a && n < MAX_CLASSES;
             a++)
            all[n++] = *a;
        bool seen = !(*m)->options;
        for (size_t i = 0; i < n && !seen; i++)
            seen = all[i] == (*m)->options;
        if (!seen && n < MAX_CLASSES)
            all[n++] = (*m)->options;
    }
    all[n] = NULL;
    return all;
}

/* "/" or "/x/y/": leading and trailing slash, as JupyterHub normalises base_url. */
static char *normalise_base_url(const char *s)
{
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    if (s[0] != '/')
        gm_buf_putc(&b, '/');
    gm_buf_puts(&b, s);
    if (b.len == 0 || b.data[b.len - 1] != '/')
        gm_buf_putc(&b, '/');
    return gm_buf_steal(&b);
}

/* Derive base_url and the listening URLs from the settings, as JupyterHub's app.py does. */
static int derive_urls(struct hub *hub, char *err, size_t errlen)
{
    struct hub_config *c = &hub->conf;
    const struct config *cfg = hub->config;
    struct url u;
    if (url_parse(c->bind_url, &u) < 0) {
        snprintf(err, errlen, "JupyterHub.bind_url (%s) is not a URL like http://:8000",
                 config_origin(cfg, "JupyterHub", "bind_url"));
        return -EINVAL;
    }
    const char *base = c->base_url;
    if (!config_get(cfg, "JupyterHub", "base_url") && strcmp(u.path, "/") != 0)
        base = u.path;
    hub->base_url = normalise_base_url(base);
    if (!hub->base_url || strlen(hub->base_url) > 1024 || strstr(hub->base_url, "//")) {
        snprintf(err, errlen, "JupyterHub.base_url (%s) must be a path like /jupyter/",
                 config_origin(cfg, "JupyterHub", "base_url"));
        return -EINVAL;
    }
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    gm_buf_printf(&b, "%shub/", hub->base_url);
    hub->hub_prefix = gm_buf_steal(&b);
    if (config_get(cfg, "JupyterHub", "ip") || config_get(cfg, "JupyterHub", "port")) {
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "%s://%s:%d%s", u.scheme,
                      config_get(cfg, "JupyterHub", "ip") ? c->ip : u.host,
                      config_get(cfg, "JupyterHub", "port") ? (int)c->port : u.port, hub->base_url);
        free(c->bind_url);
        c->bind_url = gm_buf_steal(&b);
    }
    if (!c->hub_bind_url[0]) {
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "http://%s:%d", c->hub_ip, (int)c->hub_port);
        free(c->hub_bind_url);
        c->hub_bind_url = gm_buf_steal(&b);
    }
    if (!c->hub_connect_url[0]) {
        struct url hb;
        if (url_parse(c->hub_bind_url, &hb) < 0) {
            snprintf(err, errlen,
                     "JupyterHub.hub_bind_url (%s) is not a URL like "
                     "http://127.0.0.1:8081",
                     config_origin(cfg, "JupyterHub", "hub_bind_url"));
            return -EINVAL;
        }
        const char *host = c->hub_connect_ip[0] ? c->hub_connect_ip : hb.host;
        if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
            host = "127.0.0.1";
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "http://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                      strchr(host, ':') ? "]" : "", hb.port);
        free(c->hub_connect_url);
        c->hub_connect_url = gm_buf_steal(&b);
    }
    return 0;
}

struct http_server_options hub_http_limits(const struct hub *hub)
{
    return (struct http_server_options){
        .base_url = hub->base_url,
        .max_body = (size_t)hub->conf.max_body_size,
        .max_url = (size_t)hub->conf.max_url_length,
        .max_header = (size_t)hub->conf.max_header_size,
        .max_json_depth = (unsigned)hub->conf.max_json_depth,
        .connection_limit = (unsigned)hub->conf.max_connections,
        .connection_timeout = (unsigned)hub->conf.connection_timeout,
        .header_timeout = (unsigned)hub->conf.header_timeout,
    };
}

int hub_resolve_listen(const char *bind_url, const char *what, struct sockaddr_storage *ss,
                       socklen_t *len, char *err, size_t errlen)
{
    struct url u;
    if (url_parse(bind_url, &u) < 0 || strcmp(u.scheme, "http") != 0) {
        snprintf(err, errlen, "%s (%s) must be an http:// URL with a host and port", what,
                 bind_url);
        return -EINVAL;
    }
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (!u.host[0]) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_ANY);
        in4->sin_port = htons((uint16_t)u.port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET, u.host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)u.port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET6, u.host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)u.port);
        *len = sizeof(*in6);
        return 0;
    }
    if (strcmp(u.host, "localhost") == 0) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in4->sin_port = htons((uint16_t)u.port);
        *len = sizeof(*in4);
        return 0;
    }
    snprintf(err, errlen, "%s (%s): give an IP address to listen on, not a host name", what,
             bind_url);
    return -EINVAL;
}

static int read_logo(struct hub *hub, char *err, size_t errlen)
{
    int fd = open(hub->conf.logo_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "JupyterHub.logo_file %s: %s", hub->conf.logo_file, strerror(errno));
        return -errno;
    }
    char chunk[8192];
    ssize_t n;
    int r = 0;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if ((r = gm_buf_append(&hub->logo, chunk, (size_t)n)) < 0)
            break;
    close(fd);
    if (r < 0 || n < 0) {
        snprintf(err, errlen, "JupyterHub.logo_file %s: unreadable or larger than 4 MiB",
                 hub->conf.logo_file);
        return -EINVAL;
    }
    return 0;
}

/* JupyterHub.db_kwargs are SQLAlchemy's create_engine arguments: connect_args reach the
 * driver, which here is libpq; the engine's own (pool_size, pool_pre_ping, echo, ...) mean
 * nothing to a hub with one connection. */
static int apply_db_kwargs(const json_t *kwargs, struct db_location *loc, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)kwargs, key, v)
    {
        if (strcmp(key, "connect_args") != 0) {
            gm_log_info("JupyterHub.db_kwargs: %s is an SQLAlchemy engine setting; Ganymede keeps "
                        "one connection and ignores it",
                        key);
            continue;
        }
        const char *arg;
        json_t *x;
        json_object_foreach(v, arg, x)
        {
            char text[1024];
            if (json_is_string(x))
                str_copy(text, sizeof(text), json_string_value(x));
            else if (json_is_boolean(x))
                str_copy(text, sizeof(text), json_is_true(x) ? "1" : "0");
            else if (json_is_integer(x))
                snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(x));
            else
                snprintf(text, sizeof(text), "%g", json_number_value(x));
            int r = db_location_set_option(loc, arg, text, err, errlen);
            if (r == -ENOTSUP) {
                gm_log_info("JupyterHub.db_kwargs: connect_args are for PostgreSQL; %s is "
                            "ignored on SQLite",
                            arg);
                continue;
            }
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* Start-up holds the loop: the lease is renewed by hand between its long steps. */
static int renew_lease(struct hub *hub, char *err, size_t errlen)
{
    int r = db_renew_lease(hub->db);
    if (r < 0)
        snprintf(err, errlen,
                 "another hub took the lease of the database %s while this one was starting "
                 "(Ganymede.db_lease_seconds is %g s)",
                 db_display(hub->db), hub->conf.db_lease_seconds);
    return r;
}

/* The database's directory, made absolute: files that must outlive the hub (servers' output)
 * go beside the database, which is where an admin looks for the hub's state. */
static int find_state_dir(struct hub *hub, const struct db_location *loc, char *err, size_t errlen)
{
    char dir[4096] = ".";
    const char *slash = loc->memory ? NULL : strrchr(loc->path, '/');
    if (slash && slash == loc->path)
        str_copy(dir, sizeof(dir), "/");
    else if (slash)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - loc->path), loc->path);
    hub->state_dir = realpath(dir, NULL);
    if (!hub->state_dir) {
        snprintf(err, errlen, "cannot find the directory of the database (%s): %s", dir,
                 strerror(errno));
        return -errno;
    }
    return 0;
}

/* The hub and the state of its parts in one allocation: struct hub points into it, so that
 * core/hub.h needs none of the parts' headers and the pointers are never NULL. */
struct app_hub {
    struct hub hub;
    struct auth_cookie_secret cookie_secret;
    struct auth_config auth;
    struct auth_usernames usernames;
    struct auth_crypt crypt;
    struct scope_registry scopes;
    struct http_metrics request_metrics;
    struct http_metrics spawn_metrics;
    struct spawn_host spawn;
};

int hub_create(uv_loop_t *loop, const struct config *cfg, struct hub **ret, char *err,
               size_t errlen)
{
    struct app_hub *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    struct hub *hub = &a->hub;
    hub->cookie_secret = &a->cookie_secret;
    hub->auth = &a->auth;
    hub->usernames = &a->usernames;
    hub->crypt = &a->crypt;
    hub->scopes = &a->scopes;
    hub->request_metrics = &a->request_metrics;
    hub->spawn_metrics = &a->spawn_metrics;
    hub->spawn = &a->spawn;
    hub->loop = loop;
    hub->config = cfg;
    hub->start_us = time_mono_us();
    hub->started_wall_us = time_now_us();
    int r = hub_config_load(cfg, &hub->conf, err, errlen);
    if (r < 0) {
        free(a);
        return r;
    }
    r = derive_urls(hub, err, errlen);
    if (r < 0)
        goto fail;
    r = auth_cookie_secret_load(hub->conf.cookie_secret, hub->conf.cookie_secret_file,
                                hub->cookie_secret, err, errlen);
    if (r < 0)
        goto fail;
    struct db_location loc;
    r = db_parse_url(hub->conf.db_url, NULL, &loc, err, errlen);
    if (r < 0)
        goto fail;
    r = apply_db_kwargs(hub->conf.db_kwargs, &loc, err, errlen);
    if (r < 0)
        goto fail;
    loc.lease_ms = (unsigned)(hub->conf.db_lease_seconds * 1000);
    /* Another hub holds the lease: stand by until it lapses, then open as its holder. */
    while ((r = db_open(&loc, loop, &hub->db, err, errlen)) == -EBUSY) {
        r = hub_standby_wait(hub, &loc, err, errlen);
        if (r < 0)
            goto fail;
    }
    if (r < 0)
        goto fail;
    r = find_state_dir(hub, &loc, err, errlen);
    if (r < 0)
        goto fail;
    struct db_migrate_result mig;
    r = db_migrate(hub->db, hub->conf.upgrade_db, &mig, err, errlen);
    if (r == 0)
        r = renew_lease(hub, err, errlen);
    if (r < 0)
        goto fail;
    if (mig.created)
        gm_log_info("Created the database %s (JupyterHub 5.x schema)",
                    loc.memory ? "in memory" : loc.display);
    else if (mig.upgraded)
        gm_log_info("Upgraded the database %s from %s; backup at %s", loc.display, mig.from,
                    mig.backup[0] ? mig.backup : "(none)");
    r = loop_fetch_create(loop, &hub->fetcher);
    if (r < 0) {
        snprintf(err, errlen, "cannot start outgoing HTTP: %s", strerror(-r));
        goto fail;
    }
    hub_host_init(hub);
    r = page_templates_create(hub->conf.template_paths, &hub->templates);
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    page_static_version(hub->static_version);
    gm_buf_init(&hub->logo, 4 << 20);
    if (hub->conf.logo_file[0]) {
        r = read_logo(hub, err, errlen);
        if (r < 0)
            goto fail;
    }
    r = auth_host_init(hub, err, errlen);
    if (r == 0)
        r = hub_state_init(hub, err, errlen);
    if (r == 0)
        r = renew_lease(hub, err, errlen);
    if (r == 0)
        r = auth_host_start(hub, err, errlen);
    if (r == 0)
        r = spawn_host_init(hub, err, errlen);
    if (r == 0)
        r = proxy_create(hub, &hub->proxy, err, errlen);
    if (r == 0)
        proxy_spawn_router(hub->proxy, &hub->spawn->router);
    /* Loading the database leaves freed temporary memory behind: give it back. */
    malloc_trim(0);
    if (r < 0)
        goto fail;
    *ret = hub;
    return 0;
fail:
    hub_free(hub);
    return r;
}

void hub_hold_stop_signals(bool hold)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* Whether a jupyter_server package is installed where Debian's python3 finds packages. */
static bool have_jupyter_server(void)
{
    static const char *const patterns[] = {
        "/usr/lib/python3/dist-packages/jupyter_server/__init__.py",
        "/usr/local/lib/python3*/dist-packages/jupyter_server/__init__.py",
        "/usr/lib/python3*/site-packages/jupyter_server/__init__.py",
    };
    for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
        glob_t g;
        int r = glob(patterns[i], 0, NULL, &g);
        size_t n = r == 0 ? g.gl_pathc : 0;
        globfree(&g);
        if (n)
            return true;
    }
    return false;
}

/* The built-in spawner: every server is a process of the hub's user with its home under
 * ./users, so that a newcomer can start a server with nothing set up. Debian's
 * jupyterhub-singleuser 3.0 has no jupyter_server to run on: it is told to use the classic
 * notebook app (debian-notes.md); as root, the server needs --allow-root. */
static int builtin_spawner(struct config *cfg, char *err, size_t errlen)
{
    if (config_get(cfg, "JupyterHub", "spawner_class"))
        return 0;
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd))) {
        snprintf(err, errlen, "cannot read the current directory: %s", strerror(errno));
        return -errno;
    }
    config_set(cfg, "JupyterHub", "spawner_class", json_string("simple"), "built-in default");
    if (!config_get(cfg, "SimpleLocalProcessSpawner", "home_dir_template"))
        config_set(cfg, "SimpleLocalProcessSpawner", "home_dir_template",
                   json_sprintf("%s/users/{username}", cwd), "built-in default");
    if (!config_get(cfg, "Spawner", "args") && geteuid() == 0)
        config_set(cfg, "Spawner", "args", json_pack("[s]", "--allow-root"), "built-in default");
    if (!config_get(cfg, "Spawner", "environment") && !getenv("JUPYTERHUB_SINGLEUSER_APP") &&
        !have_jupyter_server())
        config_set(
            cfg, "Spawner", "environment",
            json_pack("{s:s}", "JUPYTERHUB_SINGLEUSER_APP", "notebook.notebookapp.NotebookApp"),
            "built-in default");
    gm_log_info("No config file: servers run as the hub's user with homes in %s/users "
                "(spawner_class = simple)",
                cwd);
    return 0;
}

int hub_builtin_defaults(struct config *cfg, char *err, size_t errlen)
{
    if (json_array_size(cfg->files))
        return 0;
    int r = builtin_spawner(cfg, err, errlen);
    if (r < 0 || config_get(cfg, "JupyterHub", "authenticator_class"))
        return r;
    static const char path[] = "ganymede_password";
    char password[64] = "";
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(password, sizeof(password), f))
            password[0] = '\0';
        fclose(f);
        password[strcspn(password, "\r\n")] = '\0';
    }
    if (strlen(password) < 8) {
        r = gm_random_alnum(password, 16);
        if (r < 0)
            return r;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, password, strlen(password)) != (ssize_t)strlen(password) ||
            write(fd, "\n", 1) != 1) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -EIO;
        }
        close(fd);
    }
    config_set(cfg, "JupyterHub", "authenticator_class", json_string("shared-password"),
               "built-in default");
    if (!config_get(cfg, "SharedPasswordAuthenticator", "user_password"))
        config_set(cfg, "SharedPasswordAuthenticator", "user_password", json_string(password),
                   "built-in default");
    if (!config_get(cfg, "Authenticator", "allow_all"))
        config_set(cfg, "Authenticator", "allow_all", json_true(), "built-in default");
    gm_log_info("No config file: users log in with any name and the shared password in "
                "./%s (authenticator_class = shared-password)",
                path);
    return 0;
}

/* Request durations by method, route and status, as jupyterhub_request_duration_seconds. */
static void observe_request(struct http_request *req, double seconds)
{
    char labels[512];
    snprintf(labels, sizeof(labels), "code=\"%d\",handler=\"%s\",method=\"%s\"",
             req->status ? req->status : 499, req->route ? req->route->pattern : "unknown",
             req->method_name ? req->method_name : "?");
    metrics_observe(req->hub->request_metrics, labels, seconds);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct hub *hub = s->data;
    if (hub->stopping) {
        gm_log_info("Received %s again; already stopping", strsignal(signum));
        return;
    }
    gm_log_info("Received %s, stopping the hub", strsignal(signum));
    hub_stop(hub, 0);
}

/* Before the loop waits for I/O: write the log lines of this iteration at once. */
static void on_prepare(uv_prepare_t *p)
{
    (void)p;
    log_flush();
}

static void on_proxy_started(void *data, int status, const char *message)
{
    struct hub *hub = data;
    if (hub->stopping)
        return;
    if (status < 0) {
        gm_log_error("Cannot use the proxy: %s", message);
        hub_stop(hub, 1);
        return;
    }
    services_start(hub);
    gm_log_info("Ganymede is running at %s", proxy_public_url(hub->proxy));
    sd_notify_send("READY=1");
    /* Starting touched much of libcrypto, libc and sqlite once; let those pages go. */
    size_t kb = resident_release_file_pages();
    gm_log_debug("Released %zu KiB of start-up code pages", kb);
}

static void write_pid_file(struct hub *hub)
{
    if (!hub->conf.pid_file[0])
        return;
    int fd = open(hub->conf.pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        gm_log_warn("Cannot write pid_file %s: %s", hub->conf.pid_file, strerror(errno));
        return;
    }
    char text[32];
    int n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    if (write(fd, text, (size_t)n) != n)
        gm_log_warn("Cannot write pid_file %s: %s", hub->conf.pid_file, strerror(errno));
    close(fd);
}

int hub_start(struct hub *hub, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int r = hub_resolve_listen(hub->conf.hub_bind_url, "JupyterHub.hub_bind_url", &ss, &sl, err,
                               errlen);
    if (r < 0)
        return r;
    struct gm_buf csp;
    gm_buf_init(&csp, 4096);
    gm_buf_printf(&csp, "frame-ancestors 'none'; report-uri %ssecurity/csp-report",
                  hub->hub_prefix);
    hub->csp = gm_buf_steal(&csp);
    gm_buf_init(&csp, 4096);
    gm_buf_printf(&csp, "%s; default-src 'none'", hub->csp);
    hub->api_csp = gm_buf_steal(&csp);
    if (!hub->csp || !hub->api_csp) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    const char *page_headers[] = {"X-JupyterHub-Version", HUB_JUPYTERHUB_VERSION,
                                  "Content-Security-Policy", hub->csp, NULL};
    const char *api_headers[] = {"X-JupyterHub-Version", HUB_JUPYTERHUB_VERSION,
                                 "Content-Security-Policy", hub->api_csp, NULL};
    memcpy(hub->page_headers, page_headers, sizeof(page_headers));
    memcpy(hub->api_headers, api_headers, sizeof(api_headers));
    struct http_server_options opts = hub_http_limits(hub);
    opts.observe = observe_request;
    opts.render_error = page_render_error;
    opts.headers = hub->page_headers;
    opts.api_headers = hub->api_headers;
    struct http_route extra[APP_AUTH_ROUTES_MAX];
    size_t n_extra = 0;
    r = page_auth_routes_build(hub, app_routes, extra, APP_AUTH_ROUTES_MAX, &n_extra, err, errlen);
    if (r < 0)
        return r;
    if (app_routes_with(extra, n_extra, &hub->routes) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r = http_server_create(hub->loop, (struct sockaddr *)&ss, sl, &opts, hub->routes, hub,
                           &hub->http, err, errlen);
    if (r < 0)
        return r;
    hub_db_gate_start(hub);
    uv_timer_init(hub->loop, &hub->stop_timer);
    hub->stop_timer.data = hub;
    hub->stop = hub_stop;
    hub_maintenance_start(hub);
    uv_prepare_init(hub->loop, &hub->log_flush);
    uv_prepare_start(&hub->log_flush, on_prepare);
    log_set_buffered(true);
    uv_signal_init(hub->loop, &hub->sigterm);
    uv_signal_init(hub->loop, &hub->sigint);
    hub->sigterm.data = hub->sigint.data = hub;
    uv_signal_start(&hub->sigterm, on_signal, SIGTERM);
    uv_signal_start(&hub->sigint, on_signal, SIGINT);
    hub_hold_stop_signals(false); /* a stop asked during a takeover arrives now */
    hub->started = true;
    write_pid_file(hub);
    /* Listening on port 0 (tests): servers and the proxy reach the port actually bound. */
    struct url connect;
    if (url_parse(hub->conf.hub_connect_url, &connect) == 0 && connect.port == 0) {
        struct gm_buf b;
        gm_buf_init(&b, 4096);
        gm_buf_printf(&b, "%s://%s%s%s:%d", connect.scheme, connect.ipv6 ? "[" : "", connect.host,
                      connect.ipv6 ? "]" : "", http_server_port(hub->http));
        char *u = gm_buf_steal(&b);
        if (u) {
            free(hub->conf.hub_connect_url);
            hub->conf.hub_connect_url = u;
        }
    }
    struct url bound;
    url_parse(hub->conf.hub_bind_url, &bound);
    gm_log_info("Ganymede is listening on http://%s%s%s:%d%s (JupyterHub API %s)",
                bound.ipv6 ? "[" : "", bound.host[0] ? bound.host : "0.0.0.0",
                bound.ipv6 ? "]" : "", http_server_port(hub->http), hub->hub_prefix,
                HUB_JUPYTERHUB_VERSION);
    spawn_host_adopt(hub);
    r = proxy_start(hub->proxy, on_proxy_started, hub);
    if (r < 0) {
        snprintf(err, errlen, "cannot start the proxy: %s", strerror(-r));
        return r;
    }
    return 0;
}

/* Stopping: HTTP first (no new work), then the servers (stopped or left running), then the
 * proxy, then outgoing HTTP, the database and the last handles. */
/* The proxy goes, and with it the spawner host's route table (its calls are forgotten). */
static void free_proxy(struct hub *hub)
{
    proxy_free(hub->proxy);
    hub->proxy = NULL;
    hub->spawn->router = (struct spawn_router){0};
}

static void on_proxy_closed(void *data)
{
    struct hub *hub = data;
    free_proxy(hub);
    loop_fetch_destroy(hub->fetcher);
    hub->fetcher = NULL;
    hub->host.fetcher = NULL; /* what plugins and the key caches see: -ESHUTDOWN from now on */
    db_close(hub->db);
    hub->db = NULL;
    if (hub->conf.pid_file[0])
        unlink(hub->conf.pid_file);
    if (hub->started) {
        log_set_buffered(false);
        uv_close((uv_handle_t *)&hub->log_flush, NULL);
        uv_close((uv_handle_t *)&hub->maintenance, NULL);
        uv_close((uv_handle_t *)&hub->sigterm, NULL);
        uv_close((uv_handle_t *)&hub->sigint, NULL);
        uv_close((uv_handle_t *)&hub->stop_timer, NULL);
    }
    gm_log_info("Ganymede stopped");
}

static void on_spawners_stopped(struct hub *hub)
{
    services_stop(hub);
    if (hub->proxy)
        proxy_shutdown(hub->proxy, on_proxy_closed, hub);
    else
        on_proxy_closed(hub);
}

static void on_http_closed(void *data)
{
    struct hub *hub = data;
    hub->http = NULL;
    spawn_host_shutdown(hub, on_spawners_stopped);
}

void hub_stop(struct hub *hub, int exit_code)
{
    if (hub->stopping)
        return;
    hub->stopping = true;
    hub->exit_code = exit_code;
    sd_notify_send("STOPPING=1");
    /* Cut off from the database, or its lease lapsed: another hub may own the servers now. */
    if (hub->db && !db_available(hub->db) &&
        (hub->conf.cleanup_servers || hub->conf.cleanup_proxy)) {
        gm_log_warn("Leaving the servers and the proxy running: this hub cannot reach its "
                    "database or its lease lapsed, so another hub may own them");
        hub->conf.cleanup_servers = false;
        hub->conf.cleanup_proxy = false;
    }
    if (!hub->http) {
        on_http_closed(hub);
        return;
    }
    http_server_shutdown(hub->http, (unsigned)(hub->conf.shutdown_timeout * 1000), on_http_closed,
                         hub);
}

void hub_free(struct hub *hub)
{
    if (!hub)
        return;
    free_proxy(hub);
    spawn_host_release(hub);
    if (hub->fetcher)
        loop_fetch_destroy(hub->fetcher);
    db_close(hub->db);
    free(hub->base_url);
    free(hub->hub_prefix);
    free(hub->state_dir);
    free(hub->csp);
    free(hub->api_csp);
    auth_host_release(hub);
    page_auth_routes_free(hub);
    free(hub->routes);
    hub->routes = NULL;
    hub_state_release(hub);
    page_templates_free(hub->templates);
    gm_buf_free(&hub->logo);
    metrics_release(hub->request_metrics);
    metrics_release(hub->spawn_metrics);
    options_release(&auth_authenticator_class, hub->auth);
    hub_config_release(&hub->conf);
    free((struct app_hub *)hub);
}
