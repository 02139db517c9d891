/* Reads jupyterhub_config.py files without running Python: only `c = get_config()`, comments and
 * `c.Class.trait = <literal>` lines are accepted, where a literal is a str, int, float, bool,
 * None, list, tuple, dict or set (plus arithmetic on numbers, adjacent string concatenation,
 * and set()/list()/dict(k=v)/tuple() calls). Anything else is an error naming the file, the line
 * and the construct, with the JSON form to use instead. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/** Parse @len bytes of @text (from @filename, for messages) and store every assignment in
 * @tree as tree[Class][trait] = value and origins[Class][trait] = "file:line". Returns 0 or
 * -EINVAL with a message in @err. */
int config_py_parse(const char *text, size_t len, const char *filename, json_t *tree,
                    json_t *origins, char *err, size_t errlen);

/** Parse one literal (as used on the command line: --Class.trait=['a','b']). Returns 0 and a
 * new reference in @ret, or -EINVAL with a message in @err. */
int config_py_parse_literal(const char *text, json_t **ret, char *err, size_t errlen);
