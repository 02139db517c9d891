/* ConfigurableHTTPProxy.* and Proxy.* settings (names and defaults of JupyterHub 5.5's
 * proxy.py). */
#include "proxy/proxy.h"

#include <errno.h>
#include <ganymede/plugin.h>
#include <stddef.h>
#include <string.h>

#define OPT(field) offsetof(struct proxy_config, field)

static int check_command(const json_t *v, const char **why)
{
    *why = "a non-empty list of strings";
    if (!json_is_array(v) || json_array_size(v) == 0)
        return -EINVAL;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return -EINVAL;
    }
    return 0;
}

static int check_routes(const json_t *v, const char **why)
{
    *why = "a dict of {\"/path/\": \"http://target\"}";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (k[0] != '/' || !json_is_string(x))
            return -EINVAL;
    }
    return 0;
}

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static const struct gm_option chp_options[] = {
    GM_OPTION_X("command", GM_OPTION_JSON, OPT(command), "[\"configurable-http-proxy\"]",
                "The command that starts the proxy.", .check = check_command),
    GM_OPTION("api_url", GM_OPTION_STRING, OPT(api_url), "\"\"",
              "The proxy's REST API (\"\": http://127.0.0.1:<public port + 1>)."),
    GM_OPTION_X("auth_token", GM_OPTION_STRING, OPT(auth_token), "\"\"",
                "The token of the proxy's REST API (\"\": made by the hub when it starts the "
                "proxy).",
                .env = "CONFIGPROXY_AUTH_TOKEN"),
    GM_OPTION("debug", GM_OPTION_BOOL, OPT(debug), "false", "Start the proxy with debug logging."),
    GM_OPTION_X("log_level", GM_OPTION_STRING, OPT(log_level), "\"info\"", "The proxy's log level.",
                .choices = log_levels),
    GM_OPTION_X("check_running_interval", GM_OPTION_FLOAT, OPT(check_running_interval), "5",
                "Seconds between checks that the proxy the hub started is alive.",
                .check = gm_check_positive),
    GM_OPTION("pid_file", GM_OPTION_STRING, OPT(pid_file), "\"jupyterhub-proxy.pid\"",
              "Where the hub keeps the proxy's process id."),
    GM_OPTION_X("concurrency", GM_OPTION_INT, OPT(concurrency), "10",
                "How many requests to the proxy's API may be in flight.",
                .check = gm_check_positive),
    GM_OPTION_END,
};

static const struct gm_option proxy_options[] = {
    GM_OPTION("should_start", GM_OPTION_BOOL, OPT(should_start), "true",
              "Start the proxy as a child of the hub (False: use one that runs already)."),
    GM_OPTION_X("extra_routes", GM_OPTION_JSON, OPT(extra_routes), "{}",
                "Routes added to the proxy besides the hub's: {\"/path/\": \"http://target\"}.",
                .check = check_routes),
    GM_OPTION_END,
};

const struct gm_option_class proxy_proxy_class = {
    .name = "Proxy",
    .help = "Settings shared by proxies.",
    .options = proxy_options,
};

const struct gm_option_class proxy_chp_class = {
    .name = "ConfigurableHTTPProxy",
    .parent = "Proxy",
    .help = "configurable-http-proxy, started by the hub or already running.",
    .options = chp_options,
};
