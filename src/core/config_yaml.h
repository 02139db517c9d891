/* YAML config files (jupyterhub_config.yaml, or a zero-to-jupyterhub values.yaml whose
 * hub.config block holds the settings), read with libyaml into the same JSON tree as the other
 * formats. Scalars resolve as PyYAML's safe_load does (YAML 1.1: yes/no are booleans). */
#pragma once

#include <jansson.h>
#include <stddef.h>

/** Parse @len bytes of YAML. On success @ret is the document as JSON and @origins mirrors its
 * mappings: each mapping becomes an object whose "" key is "file:line" of the mapping and whose
 * other keys are the origins of its values ("file:line" strings, or objects for mappings).
 * Returns 0, or -EINVAL with a message naming the file and line in @err. */
int config_yaml_parse(const char *text, size_t len, const char *filename, json_t **ret,
                      json_t **origins, char *err, size_t errlen);
