/* Creation and shutdown of the hub's outgoing-HTTP engine (<ganymede/fetch.h>). */
#pragma once

#include <ganymede/fetch.h>
#include <uv.h>

/** Create a fetcher on @loop. Returns 0 or a negative errno. */
int loop_fetch_create(uv_loop_t *loop, struct gm_fetcher **ret);

/** Number of requests in flight. */
size_t loop_fetch_active(const struct gm_fetcher *f);

/** Complete every request still in flight with -ECANCELED, close the handles and free @f once
 * they are closed (the loop must run for that). Not from inside a fetch's callback. Accepts
 * NULL. */
void loop_fetch_destroy(struct gm_fetcher *f);
