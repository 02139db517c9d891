/* /hub/api/info, /hub/api/shutdown and /hub/metrics (JupyterHub's apihandlers/hub.py and
 * handlers/metrics.py). */
#include "api/api.h"
#include "core/hub.h"
#include "http/metrics.h"
#include "spawn/spawn.h"
#include "util/time.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int api_info_get(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_READ_HUB) < 0)
        return 0;
    char exe[4096] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    return http_respond_json(req, 200,
                             json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s}}", "version",
                                       HUB_JUPYTERHUB_VERSION, "ganymede", GANYMEDE_VERSION,
                                       "python", "", "sys_executable", exe, "authenticator",
                                       "class", req->hub->authenticator_class, "version",
                                       GANYMEDE_VERSION, "spawner", "class",
                                       req->hub->spawn->class_name, "version", GANYMEDE_VERSION));
}

int api_shutdown_post(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_SHUTDOWN) < 0)
        return 0;
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "Invalid JSON data: expected a dict") < 0)
        return 0;
    struct hub *hub = req->hub;
    static const char *const keys[] = {"proxy", "servers"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v && !json_is_boolean(v)) {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            http_error(req, 400, "%s must be true or false, got %s", keys[i], text ? text : "?");
            free(text);
            json_decref(body);
            return 0;
        }
    }
    if (json_object_get(body, "proxy"))
        hub->conf.cleanup_proxy = json_is_true(json_object_get(body, "proxy"));
    if (json_object_get(body, "servers"))
        hub->conf.cleanup_servers = json_is_true(json_object_get(body, "servers"));
    json_decref(body);
    gm_log_info("Shutdown requested by %s", auth_identify(req)->name);
    hub_stop_soon(hub, 0);
    return http_respond_json(req, 202, json_pack("{s:s}", "message", "Shutting down Hub"));
}

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;
    if (!d)
        return 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n > 2 ? n - 3 : 0; /* ".", ".." and the directory's own fd */
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

int api_metrics_get(struct http_request *req)
{
    struct hub *hub = req->hub;
    if (hub->conf.authenticate_prometheus &&
        API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_READ_METRICS) < 0)
        return 0;
    struct hub_store *s = &hub->store;
    size_t running = 0;
    int64_t now = time_now_us();
    static const struct {
        const char *period;
        int64_t seconds;
    } periods[] = {{"24h", 86400}, {"7d", 7 * 86400}, {"30d", 30 * 86400}};
    size_t active[3] = {0};
    for (size_t i = 0; i < s->users.n; i++) {
        struct hub_user *u = s->users.v[i];
        for (size_t j = 0; j < u->spawners.n; j++)
            running += spawn_ready(u->spawners.v[j]);
        for (int p = 0; p < 3; p++)
            if (u->last_activity && now - u->last_activity <= periods[p].seconds * 1000000)
                active[p]++;
    }
    struct gm_buf b;
    gm_buf_init(&b, (size_t)64 << 20);
    gm_buf_printf(&b,
                  "# HELP jupyterhub_total_users total number of users\n"
                  "# TYPE jupyterhub_total_users gauge\njupyterhub_total_users %zu\n",
                  s->users.n);
    gm_buf_puts(&b, "# HELP jupyterhub_active_users number of users who were active in the given "
                    "time period\n# TYPE jupyterhub_active_users gauge\n");
    for (int p = 0; p < 3; p++)
        gm_buf_printf(&b, "jupyterhub_active_users{period=\"%s\"} %zu\n", periods[p].period,
                      active[p]);
    gm_buf_printf(&b,
                  "# HELP jupyterhub_running_servers the number of user servers currently "
                  "running\n# TYPE jupyterhub_running_servers gauge\n"
                  "jupyterhub_running_servers %zu\n",
                  running);
    gm_buf_puts(&b, "# HELP jupyterhub_request_duration_seconds request duration for all HTTP "
                    "requests\n# TYPE jupyterhub_request_duration_seconds histogram\n");
    metrics_write_histograms(hub->request_metrics, &b, "jupyterhub_request_duration_seconds");
    gm_buf_puts(&b,
                "# HELP jupyterhub_server_spawn_duration_seconds time taken for server spawning "
                "operation\n# TYPE jupyterhub_server_spawn_duration_seconds histogram\n");
    metrics_write_histograms(hub->spawn_metrics, &b, "jupyterhub_server_spawn_duration_seconds");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    gm_buf_printf(&b,
                  "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                  "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                  "process_cpu_seconds_total %.3f\n",
                  cpu);
    gm_buf_printf(&b,
                  "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes %ld\n",
                  rss_bytes());
    gm_buf_printf(&b,
                  "# HELP process_open_fds Number of open file descriptors.\n"
                  "# TYPE process_open_fds gauge\nprocess_open_fds %zu\n",
                  open_fds());
    gm_buf_printf(&b,
                  "# HELP process_start_time_seconds Start time of the process since unix "
                  "epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
                  "process_start_time_seconds %.3f\n",
                  (double)hub->started_wall_us / 1e6);
    if (hub->spawn->plugin->metrics)
        hub->spawn->plugin->metrics(hub->spawn->plugin_state, &b);
    size_t len = b.len;
    char *body = gm_buf_steal(&b);
    if (!body)
        return -ENOMEM;
    return http_respond_owned(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
}
