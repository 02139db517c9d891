/* Log set-up for main.c and the config loader; everything else logs through
 * <ganymede/log.h>. */
#pragma once

#include <ganymede/log.h>
#include <stddef.h>

/** Parse a level name as traitlets does (DEBUG, INFO, WARN/WARNING, ERROR, CRITICAL, any case,
 * or the numbers 10-50). Returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum gm_log_level *ret);

/** Name of a level ("INFO"). */
const char *log_level_name(enum gm_log_level level);

/** Set the lowest level that is written. */
void log_set_level(enum gm_log_level level);

/** Send log lines to @fd (default 2). Lines are written whole with one write(2). */
void log_set_fd(int fd);

/** Gather lines below WARNING in memory until log_flush (the loop calls it once per iteration);
 * off: every line is written at once (start-up, shutdown). Turning it off flushes. */
void log_set_buffered(bool on);

/** Pass on what a child wrote (whole lines, as they are) in order with the log lines, whatever
 * the level: servers' output goes where the hub's log goes. */
void log_write_output(const char *text, size_t len);

/** Write the gathered lines. */
void log_flush(void);
