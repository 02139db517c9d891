/* gm_account_lookup (include/ganymede/account.h): getpwnam_r in libuv's thread pool. */
#include <errno.h>
#include <ganymede/account.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct gm_account_lookup {
    uv_work_t work;
    char *name;
    gm_account_cb cb;
    void *data;
    bool cancelled;
    int status;
    struct passwd pw;
    char scratch[16384];
};

/* Thread pool: nothing of the loop is touched. */
static void lookup_work(uv_work_t *w)
{
    struct gm_account_lookup *l = w->data;
    struct passwd *res = NULL;
    int r = getpwnam_r(l->name, &l->pw, l->scratch, sizeof(l->scratch), &res);
    l->status = res ? 0 : r == 0 || r == ENOENT || r == ESRCH ? -ENOENT : -r;
}

static void lookup_done(uv_work_t *w, int status)
{
    struct gm_account_lookup *l = w->data;
    if (!l->cancelled) {
        if (status < 0)
            l->status = status;
        struct gm_account a = {
            .name = l->name,
            .uid = l->pw.pw_uid,
            .gid = l->pw.pw_gid,
            .home = l->pw.pw_dir ? l->pw.pw_dir : "",
            .shell = l->pw.pw_shell ? l->pw.pw_shell : "",
        };
        l->cb(l->data, l->status, l->status == 0 ? &a : NULL);
    }
    explicit_bzero(l->scratch, sizeof(l->scratch));
    free(l->name);
    free(l);
}

int gm_account_lookup(uv_loop_t *loop, const char *name, gm_account_cb cb, void *data,
                      struct gm_account_lookup **ret)
{
    if (!name || !*name || strlen(name) > 255)
        return -EINVAL;
    struct gm_account_lookup *l = calloc(1, sizeof(*l));
    if (!l || !(l->name = strdup(name))) {
        free(l);
        return -ENOMEM;
    }
    l->cb = cb;
    l->data = data;
    l->work.data = l;
    int r = uv_queue_work(loop, &l->work, lookup_work, lookup_done);
    if (r < 0) {
        free(l->name);
        free(l);
        return r;
    }
    if (ret)
        *ret = l;
    return 0;
}

void gm_account_lookup_cancel(struct gm_account_lookup *l)
{
    if (l)
        l->cancelled = true; /* lookup_done frees it, calling nothing */
}
