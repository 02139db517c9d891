/* Shell quoting for plugins that hand a command line to /bin/sh (gm_command_request.command, a
 * batch script): Python's shlex.quote and shlex.join, as batchspawner builds its {cmd}.
 *
 *     char *line;
 *     int r = gm_shell_join(spec->argv, &line);     ("jupyterhub-singleuser" "--debug")
 *     ...
 *     free(line);
 */
#pragma once

#include <stddef.h>

/** The longest result of the functions below (1 MiB): longer is -E2BIG. */
#define GM_SHELL_MAX (1 << 20)

/** shlex.quote(@word): @word itself when it is made only of letters, digits and @%+=:,./-_
 * (and not empty), else in single quotes with each ' written as '"'"'. The caller frees *@ret.
 * Returns 0, -E2BIG or -ENOMEM. */
int gm_shell_quote(const char *word, char **ret);

/** shlex.join(@argv): the quoted words of the NULL-terminated @argv separated by one space
 * ("" for an empty list). The caller frees *@ret. Returns 0, -EINVAL (@argv NULL), -E2BIG or
 * -ENOMEM. */
int gm_shell_join(const char *const *argv, char **ret);
