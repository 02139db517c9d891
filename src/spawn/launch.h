/* Building what a server is started with (spawn/launch.c). */
#pragma once

#include <ganymede/strv.h>

#include <stddef.h>
#include <stdint.h>

struct hub;
struct hub_spawner;

struct spawn_launch {
    struct gm_strv argv;
    struct gm_strv env;
    char *ip;
    int port;
    char *notebook_dir;
    int64_t mem_limit;
    double cpu_limit;
    int64_t mem_guarantee;
    double cpu_guarantee;
};

/** Pick the address and port and build the command line and environment of the server of
 * @sp, whose API token is @token. Returns 0 or a negative errno with a message in @err. */
int spawn_launch_build(struct hub *hub, struct hub_spawner *sp, const char *token,
                       struct spawn_launch *l, char *err, size_t errlen);

void spawn_launch_free(struct spawn_launch *l);

/** Spawner.format_string: @tmpl (the value of Spawner.@option) with {username}, {servername}
 * and {base_url} (gm_format). Returns 0 and the text in *@ret (caller frees), or a negative
 * errno with a message naming the option. */
int spawn_format(struct hub *hub, const struct hub_spawner *sp, const char *option,
                 const char *tmpl, char **ret, char *err, size_t errlen);
