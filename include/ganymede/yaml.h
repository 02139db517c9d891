/* Reading YAML documents for the hub's plugins (a kubeconfig, a values file), as PyYAML's
 * yaml.safe_load reads them (of a stream of documents, the first): scalars resolved by YAML 1.1's
 * rules (yes/no/on/off are booleans, ~ and null are None, plain numbers are numbers; quoted scalars
 * stay strings), anchors and aliases expanded, nesting and size bounded. Implemented once, on
 * libyaml, in src/core/config_yaml.c (where the hub reads its own YAML configuration).
 *
 *     json_t *doc;
 *     char err[512];
 *     if (gm_yaml_parse(text, len, "/root/.kube/config", &doc, err, sizeof(err)) < 0)
 *         (err is "/root/.kube/config:3: mapping values are not allowed in this context")
 *
 * Every pointer parameter is borrowed. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/** Parse @len bytes of YAML at @text (need not be NUL-terminated). On success *@ret is the
 * document as JSON (a new reference, caller frees): an empty document is JSON null, as
 * safe_load returns None. @name is the file's name for messages. Returns 0, -EINVAL with
 * "name:line: message" in @err (not YAML, non-scalar mapping keys, text that is not UTF-8, a
 * document nested or aliased too deeply) or -ENOMEM. *@ret is written only on success. */
int gm_yaml_parse(const char *text, size_t len, const char *name, json_t **ret, char *err,
                  size_t errlen);
