/* Time in the forms JupyterHub uses: microseconds since the epoch in memory, ISO-8601 with a
 * 'Z' in JSON, naive UTC "YYYY-MM-DD HH:MM:SS.ffffff" in the database. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/** Wall-clock time in microseconds since the epoch (UTC). */
int64_t time_now_us(void);

/** Monotonic time in microseconds, for durations. */
int64_t time_mono_us(void);

/** Format as JupyterHub's JSON timestamps: "2024-05-01T12:00:00.123456Z", microseconds only
 * when non-zero. @out must hold 32 bytes. */
void time_format_iso(int64_t us, char out[32]);

/** Format for the database, as SQLAlchemy stores naive UTC: "2024-05-01 12:00:00.123456".
 * @out must hold 32 bytes. */
void time_format_db(int64_t us, char out[32]);

/** Parse either form above, with 'T' or ' ' between date and time, 0-6 fraction digits, and an
 * optional "Z" or "+00:00"-style offset (converted to UTC). Returns 0 or -EINVAL. */
int time_parse(const char *s, int64_t *ret);
