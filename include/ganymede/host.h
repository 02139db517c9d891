/* What the hub offers its plugins: the loop they run on, outgoing HTTP, and a way to complete
 * a request on a later loop iteration. Borrowed by plugins for their whole life. */
#pragma once

#include <ganymede/fetch.h>
#include <uv.h>

struct gm_host {
    uv_loop_t *loop;
    struct gm_fetcher *fetcher;
    const char *base_url;   /* "/" or "/prefix/" */
    const char *hub_prefix; /* base_url + "hub/" */
    void *hub;              /* the hub, for the host functions below */
    /** Where the hub keeps what must outlive it (the database's directory, absolute; the
     * working directory when the database is not a file). */
    const char *state_dir;
    /** Call @fn(@data) on a later loop iteration (never from inside this call). Returns 0 or a
     * negative errno. */
    int (*defer)(const struct gm_host *host, void (*fn)(void *data), void *data);
};
