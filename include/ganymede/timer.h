/* Timers on the hub's loop for plugins and the hub: one-shot or repeating, with the handle
 * closing done for the caller (a uv_timer_t must outlive its close callback; a gm_timer frees
 * itself then).
 *
 *     static void on_poll_due(void *data) { struct job *j = data; query_job(j); }
 *     r = gm_timer_start(host->loop, 0, 30000, on_poll_due, job, &job->timer);  (every 30 s)
 *     ...
 *     gm_timer_stop(job->timer);  (in the job's free: the callback never runs again)
 */
#pragma once

#include <stdint.h>
#include <uv.h>

struct gm_timer;

typedef void (*gm_timer_cb)(void *data);

/** Call @cb(@data) on @loop after @timeout_ms, then every @repeat_ms unless it is 0. Returns 0,
 * or a negative errno (and @cb never runs). With @ret, the caller owns the timer and frees it
 * with gm_timer_stop (also after a one-shot timer fired); with @ret NULL, a one-shot timer
 * frees itself after its callback and cannot be stopped (-EINVAL for a repeating one). */
int gm_timer_start(uv_loop_t *loop, uint64_t timeout_ms, uint64_t repeat_ms, gm_timer_cb cb,
                   void *data, struct gm_timer **ret);

/** Start @t again from now with new times (whether it fired or not). Returns 0 or a negative
 * errno. */
int gm_timer_restart(struct gm_timer *t, uint64_t timeout_ms, uint64_t repeat_ms);

/** Stop and free @t; its callback never runs after this. Safe from the timer's own callback.
 * Accepts NULL. */
void gm_timer_stop(struct gm_timer *t);
