/* The Spawner base settings (names and defaults of JupyterHub 5.5's spawner.py). Those whose
 * default depends on the spawner (cmd, env_keep, ip, port) are None here and filled from the
 * plugin's defaults. */
#include "spawn/spawn.h"

#include <errno.h>
#include <ganymede/quantity.h>
#include <stddef.h>
#include <string.h>

#define OPT(field) offsetof(struct spawn_config, field)

static int check_strings_or_null(const json_t *v, const char **why)
{
    *why = "a list of strings or None";
    if (json_is_null(v))
        return 0;
    if (!json_is_array(v))
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

static int check_env(const json_t *v, const char **why)
{
    *why = "a dict of strings (callables cannot be given outside Python)";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!k[0] || strchr(k, '=') || (!json_is_string(x) && !json_is_number(x)))
            return -EINVAL;
    }
    return 0;
}

static int check_bytes(const json_t *v, const char **why)
{
    int64_t bytes;
    *why = "None, a number of bytes, or a size like \"512M\" or \"2G\"";
    return json_is_null(v) || gm_bytes_json(v, &bytes) == 0 ? 0 : -EINVAL;
}

static int check_cores(const json_t *v, const char **why)
{
    *why = "None or a number of cores";
    return json_is_null(v) || (json_is_number(v) && json_number_value(v) >= 0) ? 0 : -EINVAL;
}

static int check_port(const json_t *v, const char **why)
{
    *why = "a port number (0: choose a free one)";
    return json_integer_value(v) >= 0 && json_integer_value(v) < 65536 ? 0 : -EINVAL;
}

static const struct gm_option spawner_options[] = {
    GM_OPTION_X("cmd", GM_OPTION_JSON, OPT(cmd), "null",
                "The command that starts a server (None: the spawner's default, "
                "jupyterhub-singleuser for local processes).",
                .check = check_strings_or_null),
    GM_OPTION("args", GM_OPTION_STRINGS, OPT(args), NULL, "Extra arguments appended to cmd."),
    GM_OPTION_X("environment", GM_OPTION_JSON, OPT(environment), "{}",
                "Extra environment variables for the server ({username} and {servername} are "
                "expanded).",
                .check = check_env),
    GM_OPTION_X("env_keep", GM_OPTION_JSON, OPT(env_keep), "null",
                "Variables passed on from the hub's environment (None: the spawner's default).",
                .check = check_strings_or_null),
    GM_OPTION("ip", GM_OPTION_STRING, OPT(ip), "\"\"",
              "The address the server listens on (\"\": the spawner's default)."),
    GM_OPTION_X("port", GM_OPTION_INT, OPT(port), "0",
                "The port the server listens on (0: a free port, or the spawner's default).",
                .check = check_port),
    GM_OPTION_X("start_timeout", GM_OPTION_FLOAT, OPT(start_timeout), "60",
                "Seconds the spawner may take to start the server.", .check = gm_check_seconds),
    GM_OPTION_X("http_timeout", GM_OPTION_FLOAT, OPT(http_timeout), "30",
                "Seconds the started server may take to answer HTTP.", .check = gm_check_seconds),
    GM_OPTION_X("poll_interval", GM_OPTION_FLOAT, OPT(poll_interval), "30",
                "Seconds between checks that a running server is still alive (0: never).",
                .check = gm_check_seconds),
    GM_OPTION_X("poll_jitter", GM_OPTION_FLOAT, OPT(poll_jitter), "0.1",
                "Random fraction added to poll_interval so that polls spread out.",
                .check = gm_check_seconds),
    GM_OPTION("notebook_dir", GM_OPTION_STRING, OPT(notebook_dir), "\"\"",
              "The server's root directory ({username} expanded; \"\": the home)."),
    GM_OPTION("default_url", GM_OPTION_STRING, OPT(default_url), "\"\"",
              "The page a server opens on, e.g. /lab ({username} expanded)."),
    GM_OPTION("debug", GM_OPTION_BOOL, OPT(debug), "false",
              "Start servers with debug logging (JUPYTERHUB_DEBUG=1)."),
    GM_OPTION("disable_user_config", GM_OPTION_BOOL, OPT(disable_user_config), "false",
              "Make servers ignore the user's own Jupyter config files."),
    GM_OPTION_X("mem_limit", GM_OPTION_JSON, OPT(mem_limit), "null",
                "Memory a server may use (None, bytes, or \"512M\", \"2G\").",
                .check = check_bytes),
    GM_OPTION_X("mem_guarantee", GM_OPTION_JSON, OPT(mem_guarantee), "null",
                "Memory guaranteed to a server (None, bytes, or \"512M\", \"2G\").",
                .check = check_bytes),
    GM_OPTION_X("cpu_limit", GM_OPTION_JSON, OPT(cpu_limit), "null",
                "CPU cores a server may use (None or a number).", .check = check_cores),
    GM_OPTION_X("cpu_guarantee", GM_OPTION_JSON, OPT(cpu_guarantee), "null",
                "CPU cores guaranteed to a server (None or a number).", .check = check_cores),
    GM_OPTION("options_form", GM_OPTION_STRING, OPT(options_form), "\"\"",
              "HTML form fields shown on the spawn page; the submitted fields become "
              "user_options."),
    GM_OPTION("oauth_client_allowed_scopes", GM_OPTION_STRINGS, OPT(oauth_client_allowed_scopes),
              NULL, "Scopes the server's OAuth client may request beyond access to the server."),
    GM_OPTION_X("server_token_scopes", GM_OPTION_JSON, OPT(server_token_scopes), "null",
                "Scopes of the server's own API token (None: the `server` role).",
                .check = check_strings_or_null),
    GM_OPTION_X("consecutive_failure_limit", GM_OPTION_INT, OPT(consecutive_failure_limit), "0",
                "Stop the hub after this many failed starts in a row (0: never).",
                .check = gm_check_seconds),
    GM_OPTION("hub_connect_url", GM_OPTION_STRING, OPT(hub_connect_url), "\"\"",
              "The hub's URL as servers should reach it (\"\": JupyterHub.hub_connect_url)."),
    GM_OPTION_END,
};

const struct gm_option_class spawn_spawner_class = {
    .name = "Spawner",
    .help = "Settings shared by every spawner: command, environment, timeouts, limits.",
    .options = spawner_options,
};
