/* The ganymede command: parse the command line, read the configuration, and run the hub or a
 * subcommand. The only file that may end the process. */
#include "services/idle_culler.h"
#include "core/config.h"
#include "app/app.h"
#include "core/log.h"
#include "core/options.h"
#include "db/db.h"
#include "db/migrate.h"
#include "util/str.h"
#include "version.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

static const char usage[] =
    "Usage: ganymede [upgrade-db] [options]\n"
    "\n"
    "Ganymede is a JupyterHub-compatible hub: the same REST API, database, configuration\n"
    "and single-user contract, in one C process.\n"
    "\n"
    "Subcommands:\n"
    "  (none)                 run the hub\n"
    "  upgrade-db             bring the database to the current schema (a backup is written)\n"
    "\n"
    "Options:\n"
    "  -f, --config FILE      config file: jupyterhub_config.py (literal assignments only),\n"
    "                         .json or .yaml; default ./jupyterhub_config.py if it exists\n"
    "  --Class.trait=VALUE    set any setting, e.g. --JupyterHub.bind_url=http://:9000\n"
    "  --debug                log at DEBUG level\n"
    "  --log-level LEVEL      DEBUG, INFO, WARN, ERROR or CRITICAL\n"
    "  --ip, --port, --base-url, --url, --db, --pid-file VALUE\n"
    "                         JupyterHub's short forms of JupyterHub.ip, .port, .base_url,\n"
    "                         .bind_url, .db_url, .pid_file\n"
    "  --upgrade-db           upgrade a JupyterHub 3.x/4.x database at start\n"
    "  --generate-config      write a commented config file (jupyterhub_config.py, or the -f\n"
    "                         path; '-f -' writes to standard output)\n"
    "  -y, --answer-yes       let --generate-config overwrite an existing file\n"
    "  --help-config[=FORMAT] list every setting; FORMAT is text (default), markdown or py\n"
    "  --version              print the version\n"
    "  -h, --help             print this help\n";

static const struct {
    const char *flag;
    const char *key;
} aliases[] = {
    {"ip", "JupyterHub.ip"},
    {"port", "JupyterHub.port"},
    {"base-url", "JupyterHub.base_url"},
    {"url", "JupyterHub.bind_url"},
    {"db", "JupyterHub.db_url"},
    {"pid-file", "JupyterHub.pid_file"},
    {"log-level", "JupyterHub.log_level"},
};

struct cli {
    const char *config_file;
    bool config_given;
    const char *subcommand;
    bool generate_config;
    bool answer_yes;
    const char *help_config; /* NULL, or the format */
    bool version;
    bool help;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ganymede: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun `ganymede --help` for the options.\n");
    return 2;
}

/* Parse argv into @cli and settings into @flags (a config of command-line values). */
static int parse_args(int argc, char **argv, struct cli *cli, struct config *flags)
{
    const struct gm_option_class *const *classes = hub_option_classes();
    char err[1024];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (cli->subcommand)
                return usage_error("unexpected argument '%s'", a);
            if (strcmp(a, "upgrade-db") != 0)
                return usage_error("unknown subcommand '%s'", a);
            cli->subcommand = a;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "--help-all") == 0) {
            cli->help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            cli->version = true;
            continue;
        }
        if (strcmp(a, "--debug") == 0) {
            config_set(flags, "JupyterHub", "log_level", json_string("DEBUG"), "--debug");
            continue;
        }
        if (strcmp(a, "--upgrade-db") == 0) {
            config_set(flags, "JupyterHub", "upgrade_db", json_true(), "--upgrade-db");
            continue;
        }
        if (strcmp(a, "--generate-config") == 0) {
            cli->generate_config = true;
            continue;
        }
        if (strcmp(a, "-y") == 0 || strcmp(a, "--answer-yes") == 0) {
            cli->answer_yes = true;
            continue;
        }
        if (strcmp(a, "--help-config") == 0) {
            cli->help_config = "text";
            continue;
        }
        if (str_has_prefix(a, "--help-config=")) {
            cli->help_config = a + strlen("--help-config=");
            continue;
        }
        /* Options with a value: --name=value or --name value. */
        const char *name = a[1] == '-' ? a + 2 : a + 1;
        const char *eq = strchr(name, '=');
        char key[256];
        size_t klen = eq ? (size_t)(eq - name) : strlen(name);
        if (klen == 0 || klen >= sizeof(key))
            return usage_error("'%s' is not an option", a);
        memcpy(key, name, klen);
        key[klen] = '\0';
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            value = argv[++i];
        }
        if (strcmp(key, "f") == 0 || strcmp(key, "config") == 0) {
            cli->config_file = value;
            cli->config_given = true;
            continue;
        }
        const char *setting = NULL;
        for (size_t j = 0; j < sizeof(aliases) / sizeof(*aliases); j++)
            if (strcmp(key, aliases[j].flag) == 0)
                setting = aliases[j].key;
        if (!setting && strchr(key, '.'))
            setting = key;
        if (!setting)
            return usage_error("unknown option '%s'", a);
        if (config_set_arg(flags, classes, setting, value, err, sizeof(err)) < 0) {
            fprintf(stderr, "ganymede: %s\n", err);
            return 2;
        }
    }
    return 0;
}

static int generate_config(const struct cli *cli)
{
    const char *path = cli->config_given ? cli->config_file : "jupyterhub_config.py";
    if (strcmp(path, "-") == 0) {
        options_write_reference(stdout, hub_option_classes(), OPTIONS_FORMAT_PY);
        return 0;
    }
    if (!cli->answer_yes && access(path, F_OK) == 0) {
        fprintf(stderr, "ganymede: %s exists; add -y to overwrite it\n", path);
        return 1;
    }
    FILE *f = fopen(path, "we");
    if (!f) {
        fprintf(stderr, "ganymede: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    options_write_reference(f, hub_option_classes(), OPTIONS_FORMAT_PY);
    if (fclose(f) != 0) {
        fprintf(stderr, "ganymede: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("Writing default config to: %s\n", path);
    return 0;
}

/* Command-line settings win over the file: copy them over it with their origins. */
static void merge_flags(struct config *cfg, const struct config *flags)
{
    const char *cls, *trait;
    json_t *section, *value;
    json_object_foreach(flags->tree, cls, section)
    {
        json_object_foreach(section, trait, value)
        {
            config_set(cfg, cls, trait, json_incref(value), config_origin(flags, cls, trait));
        }
    }
}

static int load_config(const struct cli *cli, const struct config *flags, struct config *cfg)
{
    char err[1024];
    const char *path = cli->config_file;
    json_t *cf = config_get(flags, "JupyterHub", "config_file");
    if (!cli->config_given && json_is_string(cf))
        path = json_string_value(cf);
    bool explicit_file = cli->config_given || cf;
    if (!path)
        path = "jupyterhub_config.py";
    if (explicit_file || access(path, F_OK) == 0) {
        int r = config_load_file(cfg, path, err, sizeof(err));
        if (r < 0) {
            gm_log_error("%s", err);
            return 1;
        }
        gm_log_info("Loading config from %s", path);
    } else {
        gm_log_info("No config file (%s not found): using the built-in defaults", path);
    }
    merge_flags(cfg, flags);
    if (hub_builtin_defaults(cfg, err, sizeof(err)) < 0) {
        gm_log_error("%s", err);
        return 1;
    }
    if (config_check(cfg, hub_option_classes(), err, sizeof(err)) < 0) {
        gm_log_error("%s", err);
        return 1;
    }
    return 0;
}

static void apply_log_level(const struct hub_config *conf)
{
    enum gm_log_level level = GM_LOG_INFO;
    const json_t *v = conf->log_level;
    char text[32] = "INFO";
    if (json_is_string(v))
        str_copy(text, sizeof(text), json_string_value(v));
    else if (json_is_integer(v))
        snprintf(text, sizeof(text), "%d", (int)json_integer_value(v));
    if (log_level_parse(text, &level) == 0)
        log_set_level(level);
}

static int upgrade_db(const struct config *cfg)
{
    char err[1024];
    struct hub_config conf;
    if (hub_config_load(cfg, &conf, err, sizeof(err)) < 0) {
        gm_log_error("%s", err);
        return 1;
    }
    apply_log_level(&conf);
    struct db_location loc;
    struct db *db = NULL;
    struct db_migrate_result res;
    int r = db_parse_url(conf.db_url, NULL, &loc, err, sizeof(err));
    if (r == 0)
        r = db_open(&loc, NULL, &db, err, sizeof(err));
    if (r == 0)
        r = db_migrate(db, true, &res, err, sizeof(err));
    db_close(db);
    hub_config_release(&conf);
    if (r < 0) {
        gm_log_error("%s", err);
        return 1;
    }
    if (res.created)
        gm_log_info("Created a new database at %s", loc.display);
    else if (res.upgraded)
        gm_log_info("Upgraded %s from %s to Ganymede schema %d; backup at %s", loc.display,
                    res.from, res.version, res.backup[0] ? res.backup : "(none)");
    else
        gm_log_info("The database %s is up to date (%s)", loc.display, res.from);
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int run_hub(const struct config *cfg)
{
    char err[1024];
    uv_loop_t loop;
    if (uv_loop_init(&loop) < 0) {
        gm_log_error("cannot start the event loop");
        return 1;
    }
    struct hub *hub = NULL;
    int code = 1;
    int r = hub_create(&loop, cfg, &hub, err, sizeof(err));
    if (r == -ECANCELED) {
        gm_log_info("Ganymede stopped (%s)", err);
        code = 0;
    } else if (r < 0) {
        gm_log_error("%s", err);
    } else if (hub_start(hub, err, sizeof(err)) < 0) {
        gm_log_error("%s", err);
        hub_stop(hub, 1);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        uv_run(&loop, UV_RUN_DEFAULT);
        code = hub->exit_code;
    }
    hub_free(hub);
    /* Let handles closed by hub_free finish closing, then the loop must be empty. */
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        gm_log_warn("The event loop still had open handles at exit");
    return code;
}

int main(int argc, char **argv)
{
    /* The idle culler is the same binary (a hub image without Python runs it as a service). */
    if (argc > 1 && strcmp(argv[1], "idle-culler") == 0)
        return idle_culler_main(argc - 1, argv + 1);
    signal(SIGPIPE, SIG_IGN);
    struct cli cli = {0};
    struct config flags, cfg;
    if (config_init(&flags) < 0 || config_init(&cfg) < 0)
        return 1;
    int code = parse_args(argc, argv, &cli, &flags);
    if (code != 0)
        goto out;
    if (cli.help) {
        fputs(usage, stdout);
        goto out;
    }
    if (cli.version) {
        printf("ganymede %s (JupyterHub API %s)\n", GANYMEDE_VERSION, HUB_JUPYTERHUB_VERSION);
        goto out;
    }
    if (cli.help_config) {
        enum options_format f = OPTIONS_FORMAT_MAX;
        if (strcmp(cli.help_config, "text") == 0)
            f = OPTIONS_FORMAT_HELP;
        else if (strcmp(cli.help_config, "markdown") == 0)
            f = OPTIONS_FORMAT_MARKDOWN;
        else if (strcmp(cli.help_config, "py") == 0)
            f = OPTIONS_FORMAT_PY;
        if (f == OPTIONS_FORMAT_MAX) {
            code =
                usage_error("--help-config takes text, markdown or py, not '%s'", cli.help_config);
            goto out;
        }
        options_write_reference(stdout, hub_option_classes(), f);
        goto out;
    }
    if (cli.generate_config) {
        code = generate_config(&cli);
        goto out;
    }
    /* The log level given on the command line applies while the config file is read. */
    json_t *lvl = config_get(&flags, "JupyterHub", "log_level");
    enum gm_log_level level;
    if (json_is_string(lvl) && log_level_parse(json_string_value(lvl), &level) == 0)
        log_set_level(level);
    code = load_config(&cli, &flags, &cfg);
    if (code != 0)
        goto out;
    /* OpenSSL before libcurl initialises it: no error strings and no config file to load. They
     * would only serve TLS error messages, and they make up a good part of the memory the
     * library would otherwise keep resident in every hub. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS | OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cli.subcommand && strcmp(cli.subcommand, "upgrade-db") == 0) {
        code = upgrade_db(&cfg);
    } else {
        struct hub_config conf;
        char err[1024];
        if (hub_config_load(&cfg, &conf, err, sizeof(err)) < 0) {
            gm_log_error("%s", err);
            code = 1;
        } else {
            apply_log_level(&conf);
            hub_config_release(&conf);
            raise_fd_limit();
            gm_log_info("Running Ganymede %s (JupyterHub API %s)", GANYMEDE_VERSION,
                        HUB_JUPYTERHUB_VERSION);
            code = run_hub(&cfg);
        }
    }
    curl_global_cleanup();
out:
    config_release(&flags);
    config_release(&cfg);
    return code;
}
