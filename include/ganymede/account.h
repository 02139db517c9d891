/* The system account of a user name (getpwnam), looked up off the loop: on a cluster the
 * passwd database is often LDAP or SSSD, and a slow directory must not stall the hub. For
 * spawners that run servers as the user's account or need its home (batchspawner's
 * {homedir}, UserEnvMixin's HOME, SHELL).
 *
 *     static void on_account(void *data, int status, const struct gm_account *a)
 *     {
 *         if (status == -ENOENT) ... "No such user"
 *         else if (status == 0) job->home = strdup(a->home);
 *     }
 *     r = gm_account_lookup(host->loop, "alice", on_account, job, &job->lookup);
 */
#pragma once

#include <stdint.h>
#include <uv.h>

struct gm_account {
    const char *name;
    uint32_t uid;
    uint32_t gid;
    const char *home;  /* "" when the entry has none */
    const char *shell; /* "" when the entry has none */
};

struct gm_account_lookup;

/** @status 0 and @account (valid during the callback only), -ENOENT when there is no such
 * account, or another negative errno when the lookup failed. */
typedef void (*gm_account_cb)(void *data, int status, const struct gm_account *account);

/** Look @name up in the thread pool; @cb runs exactly once on the loop thread unless the
 * lookup is cancelled first. Returns 0 (and a handle in *@ret when @ret is not NULL) or a
 * negative errno, and then @cb never runs. */
int gm_account_lookup(uv_loop_t *loop, const char *name, gm_account_cb cb, void *data,
                      struct gm_account_lookup **ret);

/** Forget a lookup whose callback has not run: it never runs. Accepts NULL. */
void gm_account_lookup_cancel(struct gm_account_lookup *l);
