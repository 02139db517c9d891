/* The spawner plugin interface. A spawner starts, stops and watches one kind of user server
 * (local processes, Docker containers, Kubernetes pods, SLURM jobs); the hub does the rest, as
 * JupyterHub's user.py does around Spawner: it creates the server's API token and OAuth client,
 * builds the environment and command line, enforces start_timeout, waits until the server
 * answers HTTP, adds the proxy route, polls, persists the state and cleans up after a stop.
 *
 * A plugin is one const struct gm_spawner selected by name in the config:
 *     c.JupyterHub.spawner_class = "localprocess"   (or "jupyterhub.spawner.LocalProcessSpawner")
 * Its settings are an option class whose parent is "Spawner" (or another spawner class), parsed
 * into a struct of conf_size bytes that the hub allocates and frees. The Spawner base settings
 * (cmd, args, environment, ip, port, timeouts, ...) are applied by the hub and reach the plugin
 * through struct gm_server_spec.
 *
 * Async operations follow plugin.h: the starting call returns < 0 (the callback never runs) or 0
 * (the callback runs exactly once, later, on the loop thread). At most one of start, stop and
 * poll is in flight per server, except that stop may be called while start is pending: the
 * plugin then completes start with -ECANCELED first, then stop. */
#pragma once

#include <ganymede/buf.h>
#include <ganymede/host.h>
#include <ganymede/plugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** What the hub asks a spawner to start. Everything is borrowed for the duration of the start
 * call only: copy what you keep. */
struct gm_server_spec {
    const char *user;           /* the owner's name */
    const char *server_name;    /* "" for the default server */
    const char *base_url;       /* the server's URL prefix: /user/alice/ or /user/alice/srv/ */
    const char *const *argv;    /* Spawner.cmd + Spawner.args, NULL-terminated */
    const char *const *env;     /* "NAME=value": JupyterHub's environment for the server,
                                   Spawner.env_keep and Spawner.environment, NULL-terminated */
    const char *ip;             /* Spawner.ip: where the server should listen */
    int port;                   /* Spawner.port; the hub picked a free one when it was 0 */
    const char *notebook_dir;   /* Spawner.notebook_dir with {username} expanded, or "" */
    const json_t *user_options; /* what the user chose on the options form ({} if nothing) */
    const json_t *auth_state;   /* the user's decrypted auth_state, or NULL */
    int64_t mem_limit;          /* bytes, 0 = none (Spawner.mem_limit) */
    double cpu_limit;           /* cores, 0 = none (Spawner.cpu_limit) */
    int64_t mem_guarantee;      /* bytes, 0 = none (Spawner.mem_guarantee) */
    double cpu_guarantee;       /* cores, 0 = none (Spawner.cpu_guarantee) */
    int64_t user_id;            /* the owner's id in the database (KubeSpawner's {userid}) */
    const char *const *groups;  /* the owner's groups, NULL-terminated */
};

/** Progress of a start, shown to the user on the spawn page and in the progress stream.
 * @progress is 0-100 or -1 to keep the previous value; @html_message may be NULL. */
struct gm_spawn_progress {
    void (*emit)(void *ctx, int progress, const char *message, const char *html_message);
    void *ctx;
};

/** Start finished: @status 0 and @url where the hub reaches the server ("http://ip:port"),
 * or a negative errno and a @message for the user ("Image not found: ..."). */
typedef void (*gm_spawner_started_cb)(void *data, int status, const char *url, const char *message);

/** Stop finished: @status 0, or a negative errno and a @message. */
typedef void (*gm_spawner_stopped_cb)(void *data, int status, const char *message);

/** Poll finished: @exit_status is GM_SPAWNER_RUNNING while the server runs (or is still
 * starting), else its exit status (0 when unknown). */
typedef void (*gm_spawner_polled_cb)(void *data, int exit_status);
#define GM_SPAWNER_RUNNING (-1)

/** The id at @key (a gm_json_path: "oauth_user.id") in the user's @auth_state, for a setting
 * @setting ("KubeSpawner.auth_state_uid_key") that takes uids or gids from the identity provider
 * instead of a Python hook. Returns 0 and *@id, or -EINVAL with a message for the user in @err:
 * no auth_state (Authenticator.enable_auth_state is off), no such key, or a value that is not
 * an id from 0 to 2147483647 (gm_json_id_at). */
int gm_spawner_id_from_auth_state(const json_t *auth_state, const char *key, const char *setting,
                                  int64_t *id, char *err, size_t errlen);

struct gm_spawner {
    uint32_t abi;                                   /* GM_ABI_VERSION */
    const char *name;                               /* entry-point name: "localprocess", "docker" */
    const char *const *aliases;                     /* other names: the Python class paths */
    const struct gm_option_class *options;          /* its settings (NULL: only Spawner's) */
    const struct gm_option_class *const *ancestors; /* the classes between Spawner and
                                                       options, NULL-terminated (NULL: none),
                                                       parsed into the same struct */
    size_t conf_size;                               /* bytes of its config struct */
    const char *default_ip;                         /* Spawner.ip unless configured ("127.0.0.1") */
    int default_port;                    /* Spawner.port unless configured (0: pick one) */
    const char *const *default_cmd;      /* Spawner.cmd unless configured; NULL: none (the
                                            image's own command) */
    const char *const *default_env_keep; /* Spawner.env_keep unless configured */
    double default_start_timeout;        /* Spawner.start_timeout unless configured (0: the
                                            Spawner's 60 s); batch queues wait longer */

    /** Check the configuration and create the plugin's state. May be NULL. */
    int (*init)(const struct gm_host *host, void *conf, void **state, char *err, size_t errlen);
    /** Free the state. May be NULL. */
    void (*destroy)(void *state);

    /** Create the object for one server of a user (called before load_state or start). */
    int (*server_new)(void *state, const char *user, const char *server_name, void **server);
    /** Free it; nothing is in flight. */
    void (*server_free)(void *server);

    /** Start the server described by @spec; report progress through @progress (valid until
     * the callback ran). */
    int (*start)(void *server, const struct gm_server_spec *spec,
                 const struct gm_spawn_progress *progress, gm_spawner_started_cb cb, void *data);
    /** Stop it (gracefully unless @now). Also called after a failed start to clean up. */
    int (*stop)(void *server, bool now, gm_spawner_stopped_cb cb, void *data);
    /** Whether it still runs. */
    int (*poll)(void *server, gm_spawner_polled_cb cb, void *data);

    /** What the hub saves in spawners.state to find the server again after a restart (a new
     * reference, or NULL for nothing), and how it gives it back. */
    json_t *(*get_state)(void *server);
    int (*load_state)(void *server, const json_t *state);

    /** The options form's HTML (caller frees), or NULL for none: how users choose an
     * environment (a profile list, an image); @groups are the user's (NULL-terminated), for
     * choices open to some groups only. May be NULL. */
    char *(*options_form)(void *state, const char *user, const char *const *groups);
    /** Turn the submitted form (a JSON object of field → [values]) into user_options (a new
     * reference). Returns 0 or -EINVAL with a message for the user. May be NULL (then every
     * field with one value becomes a string, as JupyterHub's default does). */
    int (*options_from_form)(void *state, const json_t *form, json_t **user_options, char *err,
                             size_t errlen);

    /** Forget the server for good: its user, or this named server, is being deleted. Remove
     * what outlives stops (KubeSpawner's delete_forever deletes the PVC). Called on a server
     * that is not running, with its saved state loaded; the work goes on in the background and
     * must not use @server after this call returns (server_free may follow at once); it logs
     * its own outcome. May be NULL. */
    void (*delete_forever)(void *server);

    /** Prometheus text for /hub/metrics about what the plugin depends on (its API's requests,
     * its caches): complete metrics with their # HELP and # TYPE lines, appended to @out. May
     * be NULL. */
    void (*metrics)(void *state, struct gm_buf *out);
    /** The same for /hub/health: a new JSON object whose "ok" says whether the plugin can do
     * its work now (an API it cannot reach, a cache gone stale: false), or NULL. May be NULL. */
    json_t *(*health)(void *state);

    /** The last lines the server wrote (stdout and stderr), for the message of a server that
     * exited before it answered: at most @max_lines lines in @out (NUL-terminated, valid UTF-8,
     * shortened from the start to fit @outlen). Returns their length, 0 when it wrote nothing,
     * or a negative errno when its output is not known. May be NULL (a module that reports
     * such exits in its own start, as the Docker spawner does). */
    int (*output_tail)(void *server, int max_lines, char *out, size_t outlen);

    /** What a starting server reports about itself, as batchspawner's `batchspawner-singleuser`
     * does: POST /hub/api/batchspawner with the server's own API token and a JSON object
     * (@body: {"port": 40123}), for a server whose port the hub cannot know in advance (a batch
     * job picks it on its node). The hub calls this only while the start is in flight and the
     * token is that server's. Returns 0, or a negative errno and a message for the caller:
     * -EINVAL (a bad value: 400), -EALREADY (reported already: 409). May be NULL (the hub
     * answers 404: this spawner takes no reports). */
    int (*report)(void *server, const json_t *body, char *err, size_t errlen);
};
