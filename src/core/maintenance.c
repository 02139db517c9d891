/* Periodic housekeeping on the loop: expired tokens and OAuth codes are deleted (JupyterHub's
 * purge_expired_tokens_interval, an hour), memory freed after a burst of requests goes back to
 * the kernel (glibc keeps freed memory of a busy hour until told otherwise), and library code
 * pages touched once are let go (util/resident.h). */
#include "core/hub.h"
#include "db/rows.h"
#include "util/resident.h"
#include "util/time.h"

#include <ganymede/log.h>
#include <malloc.h>

#define TICK_MS           60000
#define PURGE_EVERY_TICKS 60

static void on_tick(uv_timer_t *t)
{
    struct hub *hub = t->data;
    if (++hub->maintenance_ticks % PURGE_EVERY_TICKS == 0) {
        int64_t now = time_now_us();
        int n = store_tokens_purge_expired(&hub->store, now);
        store_oauth_codes_purge(&hub->store, now / 1000000);
        if (n > 0)
            gm_log_info("Deleted %d expired token(s)", n);
    }
    malloc_trim(0);
    resident_release_file_pages();
}

void hub_maintenance_start(struct hub *hub)
{
    uv_timer_init(hub->loop, &hub->maintenance);
    hub->maintenance.data = hub;
    uv_timer_start(&hub->maintenance, on_tick, TICK_MS, TICK_MS);
    uv_unref((uv_handle_t *)&hub->maintenance);
}
