/* Drives a libmicrohttpd daemon (created without its own threads, in epoll mode) from the libuv
 * loop: its epoll fd is watched by a uv_poll, its timeout by a uv_timer, and MHD_run() runs on
 * readiness, on the timer, and soon after a connection is resumed. */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>
#include <uv.h>

struct loop_mhd;
typedef void (*loop_mhd_close_cb)(struct loop_mhd *m);

struct loop_mhd {
    uv_poll_t poll;
    uv_timer_t timer;
    struct MHD_Daemon *daemon;
    bool in_run; /* inside MHD_run: a kick is remembered, not executed */
    bool kicked; /* MHD_run is needed again soon */
    int open_handles;
    loop_mhd_close_cb close_cb;
    void *data; /* for the owner */
};

/** Start driving @daemon on @loop. Returns 0 or a negative errno; either way the handles must
 * be closed with loop_mhd_close before @m is freed. */
int loop_mhd_start(struct loop_mhd *m, uv_loop_t *loop, struct MHD_Daemon *daemon);

/** Ask for MHD_run() on the next loop iteration, e.g. after MHD_resume_connection(), which in
 * this mode only marks the connection. Safe to call from inside MHD callbacks. */
void loop_mhd_kick(struct loop_mhd *m);

/** Stop watching and close the handles; @cb runs when both are closed (then @m may be freed).
 * The daemon itself is not stopped. */
void loop_mhd_close(struct loop_mhd *m, loop_mhd_close_cb cb);
