/* The output of a local server, kept in a file of its own so that it outlives the hub (spawn/
 * output.c). The server writes the file as its stdout and stderr; while a hub runs, it follows
 * the file and passes each new line on to where its own log goes, and the last lines of the file
 * say why a server that exited at start failed. Nothing outside spawn/ includes this. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SPAWN_OUTPUT_DIR "server-logs"      /* in the hub's state directory */
#define SPAWN_OUTPUT_CAP ((int64_t)8 << 20) /* a file past this is emptied once forwarded */

struct spawn_output;

/** Make the directory of the servers' files, @state_dir/server-logs (mode 0700), or check the
 * one that is there: a directory of the hub's own user that nobody else may write. Its path in
 * @ret (caller frees). Returns 0 or a negative errno with a message in @err. */
int spawn_output_dir(const char *state_dir, char **ret, char *err, size_t errlen);

/** The file of @user's server @server ("" for the default one) in @dir:
 * <dir>/<user>[--<server>].log with both names as gm_slug_escape writes them (letters and
 * digits kept, anything else as -XX), cut and completed with a hash when too long for a file
 * name. NULL when out of memory. */
char *spawn_output_path(const char *dir, const char *user, const char *server);

/** Open @path for a start: created (0600) or emptied, @ret_write for the server's stdout and
 * stderr (appending), @ret_read for the hub; both close-on-exec. Or, when @start is false (a
 * server adopted after a restart), only @ret_read of the file that is there. Blocks briefly
 * (a local file): for the threadpool, or the loop at adoption. Returns 0 or a negative errno. */
int spawn_output_open(const char *path, bool start, int *ret_write, int *ret_read);

/** Follow @fd (the hub's descriptor of the file at @path, taken over) on @loop: new complete
 * lines are passed on to the hub's log output as they come (inotify, or a timer where it cannot
 * watch), from the start of the file or, @from_end, from its end (an adopted server's earlier
 * output was forwarded by the hub before). The file is emptied whenever it grew past @cap bytes
 * and all of it was forwarded. Returns 0 or a negative errno (the descriptor is closed). */
int spawn_output_follow(uv_loop_t *loop, int fd, const char *path, bool from_end, int64_t cap,
                        struct spawn_output **ret);

/** The server ended: forward what is left and stop watching (the file stays open for
 * spawn_output_tail). */
void spawn_output_drain(struct spawn_output *o);

/** The last lines of the file, as spawn_output_tail_text makes them (at most @outlen - 1 bytes
 * of the file's end). Returns their length or a negative errno. */
int spawn_output_tail(struct spawn_output *o, int max_lines, char *out, size_t outlen);

/** The last @max_lines lines of @data, made fit for a message: escape sequences and control
 * characters other than newline and tab dropped, carriage returns as line breaks, bytes that are
 * not UTF-8 as '?', trailing blank space dropped. "..." starts it when the first line is not
 * whole: @cut says @data starts inside the file, and a tail longer than @outlen - 1 keeps its
 * end. Returns the length written to @out (NUL-terminated). */
size_t spawn_output_tail_text(const char *data, size_t len, bool cut, int max_lines, char *out,
                              size_t outlen);

/** Forward what is left, stop following and close the file. Accepts NULL. */
void spawn_output_free(struct spawn_output *o);
