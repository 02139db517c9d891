/* zero-to-jupyterhub's hub configuration without Python: when the hub is started with the
 * chart's own jupyterhub_config.py (the ConfigMap the chart mounts beside z2jh.py), the settings
 * that file would compute are read straight from what the chart mounted: the values in
 * secret/values.yaml (and existing-secret/values.yaml), the secrets beside them, the resource
 * names in config/, and the environment the chart's Deployment sets. The mapping follows the
 * chart 4.x's files/hub/jupyterhub_config.py line by line. */
#pragma once

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>

/** Whether @text (the file @path) is the chart's jupyterhub_config.py. */
bool config_z2jh_detect(const char *text, size_t len);

/** Set what the chart's jupyterhub_config.py sets, from the files under @dir (the directory of
 * that file: /usr/local/etc/jupyterhub in the hub pod). Returns 0, or -EINVAL with a message. */
int config_z2jh_load(struct config *cfg, const char *dir, char *err, size_t errlen);
