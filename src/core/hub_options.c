/* The JupyterHub class settings that the core reads, and Ganymede's own limits. Names, types and
 * defaults are JupyterHub 5.5's (see reference/jupyterhub.md §8.2). */
#include "core/hub.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define OPT(field) offsetof(struct hub_config, field)

static int check_log_level(const json_t *v, const char **why)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "WARNING", "ERROR", "CRITICAL"};
    *why = "a level: DEBUG, INFO, WARN, ERROR, CRITICAL or 0-50";
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 && json_integer_value(v) <= 50 ? 0 : -EINVAL;
    if (!json_is_string(v))
        return -EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (strcasecmp(json_string_value(v), names[i]) == 0)
            return 0;
    return -EINVAL;
}

static int check_roles(const json_t *v, const char **why)
{
    *why = "a list of role dicts: {\"name\": str, \"description\": str, \"scopes\": [str], "
           "\"users\": [str], \"groups\": [str], \"services\": [str]}";
    if (!json_is_array(v))
        return -EINVAL;
    size_t i;
    json_t *role;
    json_array_foreach(v, i, role)
    {
        if (!json_is_object(role) || !json_is_string(json_object_get(role, "name")))
            return -EINVAL;
        const char *k;
        json_t *x;
        json_object_foreach(role, k, x)
        {
            if (strcmp(k, "name") == 0 || (strcmp(k, "description") == 0 && json_is_string(x)))
                continue;
            if (strcmp(k, "scopes") != 0 && strcmp(k, "users") != 0 && strcmp(k, "groups") != 0 &&
                strcmp(k, "services") != 0)
                return -EINVAL;
            if (!json_is_array(x))
                return -EINVAL;
            size_t j;
            json_t *item;
            json_array_foreach(x, j, item)
            {
                if (!json_is_string(item))
                    return -EINVAL;
            }
        }
    }
    return 0;
}

static int check_db_kwargs(const json_t *v, const char **why)
{
    *why = "a dict, with connect_args a dict of strings, numbers and booleans";
    if (!json_is_object(v))
        return -EINVAL;
    const json_t *args = json_object_get(v, "connect_args");
    if (!args)
        return 0;
    if (!json_is_object(args))
        return -EINVAL;
    const char *k;
    const json_t *x;
    json_object_foreach((json_t *)args, k, x)
    {
        if (!json_is_string(x) && !json_is_number(x) && !json_is_boolean(x))
            return -EINVAL;
    }
    return 0;
}

static int check_groups(const json_t *v, const char **why)
{
    *why = "a dict of groups: {\"name\": {\"users\": [str], \"properties\": {...}}}";
    if (!json_is_object(v))
        return -EINVAL;
    const char *name;
    json_t *g;
    json_object_foreach((json_t *)v, name, g)
    {
        json_t *users = json_is_array(g) ? g : json_object_get(g, "users");
        if (!json_is_array(g) && !json_is_object(g))
            return -EINVAL;
        if (users && !json_is_array(users))
            return -EINVAL;
        json_t *props = json_is_object(g) ? json_object_get(g, "properties") : NULL;
        if (props && !json_is_object(props))
            return -EINVAL;
        size_t i;
        json_t *u;
        json_array_foreach(users, i, u)
        {
            if (!json_is_string(u))
                return -EINVAL;
        }
    }
    return 0;
}

static int check_services(const json_t *v, const char **why)
{
    *why = "a list of service dicts, each with a \"name\"";
    if (!json_is_array(v))
        return -EINVAL;
    size_t i;
    json_t *svc;
    json_array_foreach(v, i, svc)
    {
        if (!json_is_object(svc) || !json_is_string(json_object_get(svc, "name")))
            return -EINVAL;
    }
    return 0;
}

static int check_token_dict(const json_t *v, const char **why)
{
    int r = gm_check_str_dict(v, why);
    *why = "a dict of {token: name}";
    return r;
}

static int check_nonnegative(const json_t *v, const char **why)
{
    *why = "a number, 0 or more";
    return json_number_value(v) >= 0 ? 0 : -EINVAL;
}

static int check_lease(const json_t *v, const char **why)
{
    *why = "seconds, from 0.3 to 3600";
    double d = json_number_value(v);
    return d >= 0.3 && d <= 3600 ? 0 : -EINVAL;
}

static const struct gm_option jupyterhub_options[] = {
    GM_OPTION(
        "bind_url", GM_OPTION_STRING, OPT(bind_url), "\"http://:8000\"",
        "The public URL of the whole hub, where the proxy listens; a path in it sets base_url."),
    GM_OPTION("base_url", GM_OPTION_STRING, OPT(base_url), "\"/\"",
              "The URL prefix of the hub and every user server (e.g. /jupyter/)."),
    GM_OPTION("ip", GM_OPTION_STRING, OPT(ip), "\"\"",
              "Deprecated: the public IP address; use bind_url. Only read when set."),
    GM_OPTION("port", GM_OPTION_INT, OPT(port), "8000",
              "Deprecated: the public port; use bind_url. Only read when set."),
    GM_OPTION("hub_bind_url", GM_OPTION_STRING, OPT(hub_bind_url), "\"\"",
              "The URL the hub itself listens on; default http://hub_ip:hub_port."),
    GM_OPTION("hub_ip", GM_OPTION_STRING, OPT(hub_ip), "\"127.0.0.1\"",
              "The IP address the hub listens on (when hub_bind_url is not set)."),
    GM_OPTION("hub_port", GM_OPTION_INT, OPT(hub_port), "8081",
              "The port the hub listens on (when hub_bind_url is not set)."),
    GM_OPTION(
        "hub_connect_url", GM_OPTION_STRING, OPT(hub_connect_url), "\"\"",
        "The URL servers and the proxy use to reach the hub; default derived from hub_bind_url."),
    GM_OPTION(
        "hub_connect_ip", GM_OPTION_STRING, OPT(hub_connect_ip), "\"\"",
        "The IP address servers and the proxy use to reach the hub (when hub_connect_url is not "
        "set)."),
    GM_OPTION(
        "db_url", GM_OPTION_STRING, OPT(db_url), "\"sqlite:///jupyterhub.sqlite\"",
        "The database: sqlite:///relative/path, sqlite:////absolute/path, sqlite:// (memory) or "
        "postgresql://user:password@host:port/dbname?sslmode=..."),
    GM_OPTION_X("db_kwargs", GM_OPTION_JSON, OPT(db_kwargs), "{}",
                "SQLAlchemy's engine arguments: on PostgreSQL, connect_args are libpq connection "
                "options (as in the URL's query); pool and echo settings are ignored.",
                .check = check_db_kwargs),
    GM_OPTION("upgrade_db", GM_OPTION_BOOL, OPT(upgrade_db), "false",
              "Upgrade a database made by JupyterHub 3.x or 4.x at start (a backup copy is written "
              "first)."),
    GM_OPTION("cookie_secret", GM_OPTION_STRING, OPT(cookie_secret), "\"\"",
              "The secret that signs cookies, hex-encoded; prefer cookie_secret_file."),
    GM_OPTION(
        "cookie_secret_file", GM_OPTION_STRING, OPT(cookie_secret_file),
        "\"jupyterhub_cookie_secret\"",
        "File holding the cookie secret (64 hex characters, mode 0600); created when missing."),
    GM_OPTION("pid_file", GM_OPTION_STRING, OPT(pid_file), "\"\"",
              "File to write the hub's process id to, if set."),
    GM_OPTION_X("log_level", GM_OPTION_JSON, OPT(log_level), "\"INFO\"",
                "The lowest level of log lines written: DEBUG, INFO, WARN, ERROR or CRITICAL.",
                .check = check_log_level),
    GM_OPTION_X("api_page_default_limit", GM_OPTION_INT, OPT(api_page_default_limit), "50",
                "Page size of paginated API lists when the request gives no limit.",
                .check = gm_check_positive),
    GM_OPTION_X("api_page_max_limit", GM_OPTION_INT, OPT(api_page_max_limit), "200",
                "Largest page of API lists; unpaginated lists are cut at this many items.",
                .check = gm_check_positive),
    GM_OPTION("activity_resolution", GM_OPTION_FLOAT, OPT(activity_resolution), "30",
              "Seconds between writes of a token's or user's last_activity."),
    GM_OPTION("token_expires_in_max_seconds", GM_OPTION_INT, OPT(token_expires_in_max_seconds), "0",
              "Longest lifetime of API tokens requested through the API (0: no limit)."),
    GM_OPTION_X("load_roles", GM_OPTION_JSON, OPT(load_roles), "[]",
                "Roles to create at start, with their scopes and members.", .check = check_roles),
    GM_OPTION_X("load_groups", GM_OPTION_JSON, OPT(load_groups), "{}",
                "Groups to create at start, with their users and properties.",
                .check = check_groups),
    GM_OPTION_X("custom_scopes", GM_OPTION_JSON, OPT(custom_scopes), "{}",
                "Extra scopes named custom:..., each with a description and optional subscopes.",
                .check = gm_check_dict),
    GM_OPTION_X("services", GM_OPTION_JSON, OPT(services), "[]",
                "Services: dicts with name, url, api_token, admin, oauth_* fields and roles.",
                .check = check_services),
    GM_OPTION_X("api_tokens", GM_OPTION_JSON, OPT(api_tokens), "{}",
                "Tokens for users, as {token: username}, hashed with 16384 rounds.",
                .check = check_token_dict),
    GM_OPTION_X("service_tokens", GM_OPTION_JSON, OPT(service_tokens), "{}",
                "Tokens for services, as {token: service name}, hashed with 16384 rounds.",
                .check = check_token_dict),
    GM_OPTION("admin_users", GM_OPTION_STRINGS, OPT(admin_users), NULL,
              "Deprecated alias of Authenticator.admin_users."),
    GM_OPTION("trust_user_provided_tokens", GM_OPTION_BOOL, OPT(trust_user_provided_tokens),
              "false", "Hash tokens from the config with one round instead of 16384."),
    GM_OPTION("authenticate_prometheus", GM_OPTION_BOOL, OPT(authenticate_prometheus), "true",
              "Require the read:metrics scope for /hub/metrics."),
    GM_OPTION("cleanup_servers", GM_OPTION_BOOL, OPT(cleanup_servers), "false",
              "Stop user servers when the hub stops (Ganymede's default False lets them run "
              "and takes them over at the next start)."),
    GM_OPTION("cleanup_proxy", GM_OPTION_BOOL, OPT(cleanup_proxy), "false",
              "Stop the proxy the hub started when the hub stops (Ganymede's default False "
              "keeps users' connections through a hub restart)."),
    GM_OPTION("spawner_class", GM_OPTION_STRING, OPT(spawner_class), "\"localprocess\"",
              "How servers start: localprocess, simple (or a class path such as "
              "jupyterhub.spawner.LocalProcessSpawner)."),
    GM_OPTION_X("concurrent_spawn_limit", GM_OPTION_INT, OPT(concurrent_spawn_limit), "100",
                "Most servers starting at once; more get 429 (0: no limit).",
                .check = check_nonnegative),
    GM_OPTION_X("active_server_limit", GM_OPTION_INT, OPT(active_server_limit), "0",
                "Most servers running or starting at once; more get 429 (0: no limit).",
                .check = check_nonnegative),
    GM_OPTION_X("last_activity_interval", GM_OPTION_FLOAT, OPT(last_activity_interval), "300",
                "Seconds between readings of activity from the proxy (and route checks).",
                .check = check_nonnegative),
    GM_OPTION_X("tornado_settings", GM_OPTION_JSON, OPT(tornado_settings), "{}",
                "Web settings; Ganymede reads slow_spawn_timeout and slow_stop_timeout (10 s).",
                .check = gm_check_dict),
    GM_OPTION_X("oauth_token_expires_in", GM_OPTION_INT, OPT(oauth_token_expires_in), "0",
                "Seconds OAuth tokens of servers and services last (0: cookie_max_age_days).",
                .check = check_nonnegative),
    GM_OPTION("default_server_name", GM_OPTION_STRING, OPT(default_server_name), "\"\"",
              "The server started by default when named servers are allowed (\"\": the unnamed "
              "one)."),
    GM_OPTION_X("implicit_spawn_seconds", GM_OPTION_FLOAT, OPT(implicit_spawn_seconds), "0",
                "Seconds before the not-running page starts the server by itself (0: never).",
                .check = check_nonnegative),
    GM_OPTION("authenticator_class", GM_OPTION_STRING, OPT(authenticator_class), "\"pam\"",
              "How users log in: pam, shared-password, dummy, null (or a class path such as "
              "jupyterhub.auth.PAMAuthenticator)."),
    GM_OPTION("cookie_max_age_days", GM_OPTION_FLOAT, OPT(cookie_max_age_days), "14",
              "Days a login cookie stays valid."),
    GM_OPTION("redirect_to_server", GM_OPTION_BOOL, OPT(redirect_to_server), "true",
              "After login, go to the user's server (starting it) rather than the home page."),
    GM_OPTION("default_url", GM_OPTION_STRING, OPT(default_url), "\"\"",
              "Where /hub/ and a login without `next` lead (default: the user's server or home)."),
    GM_OPTION("shutdown_on_logout", GM_OPTION_BOOL, OPT(shutdown_on_logout), "false",
              "Stop the user's servers when they log out."),
    GM_OPTION("template_paths", GM_OPTION_STRINGS, OPT(template_paths), NULL,
              "Folders searched first for page templates, by file name (Ganymede's {{var}} "
              "syntax, not Jinja)."),
    GM_OPTION_X("template_vars", GM_OPTION_JSON, OPT(template_vars), "{}",
                "Extra values given to every page template (e.g. announcement).",
                .check = gm_check_dict),
    GM_OPTION("logo_file", GM_OPTION_STRING, OPT(logo_file), "\"\"",
              "Image file served as the logo at /hub/logo (default: Ganymede's)."),
    GM_OPTION("allow_named_servers", GM_OPTION_BOOL, OPT(allow_named_servers), "false",
              "Let users run several servers, each with a name, besides their default one."),
    GM_OPTION("named_server_limit_per_user", GM_OPTION_INT, OPT(named_server_limit_per_user), "0",
              "Most named servers a user may have (0: no limit)."),
    GM_OPTION("config_file", GM_OPTION_STRING, OPT(config_file), "\"jupyterhub_config.py\"",
              "The config file read at start when -f is not given (if it exists)."),
    GM_OPTION_END,
};

static const struct gm_option ganymede_options[] = {
    GM_OPTION_X("max_body_size", GM_OPTION_INT, OPT(max_body_size), "10485760",
                "Largest request body accepted, in bytes; larger ones are dropped and get 413.",
                .check = gm_check_positive),
    GM_OPTION_X("max_url_length", GM_OPTION_INT, OPT(max_url_length), "8192",
                "Longest request URL accepted, in bytes; longer ones get 414.",
                .check = gm_check_positive),
    GM_OPTION_X("max_header_size", GM_OPTION_INT, OPT(max_header_size), "16384",
                "Largest total size of a request's headers, in bytes.", .check = gm_check_positive),
    GM_OPTION_X("max_json_depth", GM_OPTION_INT, OPT(max_json_depth), "32",
                "Deepest nesting accepted in JSON request bodies.", .check = gm_check_positive),
    GM_OPTION_X("max_connections", GM_OPTION_INT, OPT(max_connections), "4096",
                "Most HTTP connections open at once.", .check = gm_check_positive),
    GM_OPTION_X("connection_timeout", GM_OPTION_INT, OPT(connection_timeout), "120",
                "Seconds an idle HTTP connection stays open.", .check = gm_check_positive),
    GM_OPTION_X("header_timeout", GM_OPTION_INT, OPT(header_timeout), "30",
                "Seconds a client gets to send a request line and its headers, however "
                "steadily it sends them (slow clients); 0: no limit.",
                .check = check_nonnegative),
    GM_OPTION_X("shutdown_timeout", GM_OPTION_FLOAT, OPT(shutdown_timeout), "5",
                "Seconds requests in progress get to finish when the hub stops.",
                .check = gm_check_positive),
    GM_OPTION_X("db_lease_seconds", GM_OPTION_FLOAT, OPT(db_lease_seconds), "3",
                "PostgreSQL: how long the active hub's lease on the database lasts without a "
                "renewal (it renews it every third of that). A standby hub takes over this long "
                "after the active one stops renewing.",
                .check = check_lease),
    GM_OPTION_END,
};

const struct gm_option_class hub_jupyterhub_class = {
    .name = "JupyterHub",
    .help = "The hub: where it listens, its database, its secrets and its limits.",
    .options = jupyterhub_options,
};

const struct gm_option_class hub_ganymede_class = {
    .name = "Ganymede",
    .help = "Settings of Ganymede that JupyterHub does not have.",
    .options = ganymede_options,
};
