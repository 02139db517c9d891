/* The hub's own settings (JupyterHub.* and Ganymede.*) and the stop a request can ask for. The
 * hub itself is built by the composition root, app/hub.c. */
#include "core/hub.h"
#include "core/options.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

double hub_tornado_setting(const struct hub *hub, const char *name, double def)
{
    json_t *v = json_object_get(hub->conf.tornado_settings, name);
    return json_is_number(v) ? json_number_value(v) : def;
}

int hub_config_load(const struct config *cfg, struct hub_config *conf, char *err, size_t errlen)
{
    memset(conf, 0, sizeof(*conf));
    if (options_init(&hub_jupyterhub_class, conf) < 0 ||
        options_init(&hub_ganymede_class, conf) < 0) {
        snprintf(err, errlen, "out of memory");
        hub_config_release(conf);
        return -ENOMEM;
    }
    const struct gm_option_class *jh[] = {&hub_jupyterhub_class};
    const struct gm_option_class *gm[] = {&hub_ganymede_class};
    void *confs[] = {conf};
    int r = config_apply(cfg, jh, confs, 1, err, errlen);
    if (r == 0)
        r = config_apply(cfg, gm, confs, 1, err, errlen);
    if (r < 0)
        hub_config_release(conf);
    return r;
}

void hub_config_release(struct hub_config *conf)
{
    options_release(&hub_jupyterhub_class, conf);
    options_release(&hub_ganymede_class, conf);
}

static void on_stop_timer(uv_timer_t *t)
{
    struct hub *hub = t->data;
    hub->stop(hub, hub->exit_code);
}

void hub_stop_soon(struct hub *hub, int exit_code)
{
    hub->exit_code = exit_code;
    if (hub->started)
        uv_timer_start(&hub->stop_timer, on_stop_timer, 0, 0);
}
