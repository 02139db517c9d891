/* PAMAuthenticator ("pam", JupyterHub's default): the system's own users and passwords through
 * libpam, run on the libuv thread pool because PAM blocks (it may wait seconds on a wrong
 * password). Unix groups decide who is allowed (allowed_groups) and who is admin (admin_groups).
 *
 *     c.JupyterHub.authenticator_class = "pam"
 *     c.PAMAuthenticator.service = "login"
 *     c.PAMAuthenticator.check_account = True
 *     c.LocalAuthenticator.allowed_groups = {"jupyter"}
 *     c.PAMAuthenticator.admin_groups = {"wheel"}
 */
#include "auth/authenticators.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct local_conf {
    char **allowed_groups;
    bool create_system_users;
};

struct pam_conf {
    struct local_conf local;
    char *service;
    bool check_account;
    char **admin_groups;
    bool open_sessions;
};

static const struct gm_option local_options[] = {
    GM_OPTION("allowed_groups", GM_OPTION_STRINGS, offsetof(struct pam_conf, local.allowed_groups),
              NULL, "Unix groups whose members may log in."),
    GM_OPTION("create_system_users", GM_OPTION_BOOL,
              offsetof(struct pam_conf, local.create_system_users), "false",
              "Create missing system users (not supported by Ganymede: must stay False)."),
    GM_OPTION_END,
};

const struct gm_option_class auth_local_class = {
    .name = "LocalAuthenticator",
    .parent = "Authenticator",
    .help = "Authenticators of the machine's own users.",
    .options = local_options,
};

static const struct gm_option pam_options[] = {
    GM_OPTION("service", GM_OPTION_STRING, offsetof(struct pam_conf, service), "\"login\"",
              "The PAM service (a file in /etc/pam.d) used to check passwords."),
    GM_OPTION("check_account", GM_OPTION_BOOL, offsetof(struct pam_conf, check_account), "true",
              "Also check that the account is usable (not expired or locked)."),
    GM_OPTION("admin_groups", GM_OPTION_STRINGS, offsetof(struct pam_conf, admin_groups), NULL,
              "Unix groups whose members are admins."),
    GM_OPTION("open_sessions", GM_OPTION_BOOL, offsetof(struct pam_conf, open_sessions), "false",
              "Open PAM sessions when servers start (not supported: must stay False)."),
    GM_OPTION_END,
};

const struct gm_option_class auth_pam_class = {
    .name = "PAMAuthenticator",
    .parent = "LocalAuthenticator",
    .help = "The system's users and passwords, through PAM (authenticator_class = \"pam\").",
    .options = pam_options,
};

struct pam_state {
    const struct gm_host *host;
    const struct pam_conf *conf;
};

struct pam_job {
    uv_work_t work;
    const struct pam_conf *conf;
    char *user;
    char *password;
    gm_authenticate_cb cb;
    void *data;
    /* results */
    bool ok;
    bool admin;
    bool in_allowed_group;
    char message[256];
};

static int converse(int n, const struct pam_message **msg, struct pam_response **resp,
                    void *appdata)
{
    struct pam_job *job = appdata;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            r[i].resp = strdup(job->password);
            break;
        case PAM_PROMPT_ECHO_ON:
            r[i].resp = strdup(job->user);
            break;
        default:
            r[i].resp = NULL;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static bool in_any_group(const char *user, char *const *groups)
{
    if (!groups || !groups[0])
        return false;
    struct passwd pw, *pwp = NULL;
    char buf[4096];
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp)
        return false;
    gid_t gids[256];
    int n = 256;
    if (getgrouplist(user, pw.pw_gid, gids, &n) < 0)
        n = 256;
    for (int i = 0; i < n; i++) {
        struct group gr, *grp = NULL;
        char gbuf[8192];
        if (getgrgid_r(gids[i], &gr, gbuf, sizeof(gbuf), &grp) != 0 || !grp)
            continue;
        for (char *const *g = groups; *g; g++)
            if (strcmp(*g, grp->gr_name) == 0)
                return true;
    }
    return false;
}

/* On a thread of the pool: nothing here touches the hub. */
static void pam_work(uv_work_t *w)
{
    struct pam_job *job = w->data;
    struct pam_conv conv = {converse, job};
    pam_handle_t *pamh = NULL;
    int rc = pam_start(job->conf->service, job->user, &conv, &pamh);
    if (rc == PAM_SUCCESS)
        rc = pam_authenticate(pamh, 0);
    if (rc == PAM_SUCCESS && job->conf->check_account) {
        rc = pam_acct_mgmt(pamh, 0);
        if (rc != PAM_SUCCESS)
            snprintf(job->message, sizeof(job->message), "%s", pam_strerror(pamh, rc));
    }
    if (pamh)
        pam_end(pamh, rc);
    job->ok = rc == PAM_SUCCESS;
    if (job->ok) {
        job->admin = in_any_group(job->user, job->conf->admin_groups);
        job->in_allowed_group = in_any_group(job->user, job->conf->local.allowed_groups);
    }
}

static void pam_after(uv_work_t *w, int status)
{
    struct pam_job *job = w->data;
    json_t *result = NULL;
    if (status == 0 && job->ok) {
        result = json_pack("{s:s}", "name", job->user);
        if (job->admin)
            json_object_set_new(result, "admin", json_true());
        if (job->in_allowed_group)
            json_object_set_new(result, "allowed", json_true());
    } else if (job->message[0]) {
        gm_log_warn("PAM account check failed for '%s': %s", job->user, job->message);
    }
    if (job->password) {
        memset(job->password, 0, strlen(job->password));
        free(job->password);
    }
    job->cb(job->data, status == 0 ? 0 : -ECANCELED, result, NULL);
    free(job->user);
    free(job);
}

static int pam_auth_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                         void *conf, void **state, char *err, size_t errlen)
{
    const struct pam_conf *c = conf;
    if (c->local.create_system_users) {
        snprintf(err, errlen,
                 "LocalAuthenticator.create_system_users is not supported by "
                 "Ganymede; create the users with adduser");
        return -EINVAL;
    }
    if (c->open_sessions)
        gm_log_warn("PAMAuthenticator.open_sessions is not supported by Ganymede; it is "
                    "ignored");
    if (getuid() != 0 && access("/etc/shadow", R_OK) != 0)
        gm_log_warn("The hub is not root and cannot read /etc/shadow: PAM can only check the "
                    "password of the hub's own user. Run as root or add the hub's user to the "
                    "shadow group.");
    struct pam_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->host = host;
    s->conf = c;
    *state = s;
    return 0;
}

static void pam_destroy(void *state)
{
    free(state);
}

static int pam_authenticate_start(void *state, const json_t *data, gm_authenticate_cb cb,
                                  void *cb_data)
{
    struct pam_state *s = state;
    const char *user = json_string_value(json_object_get(data, "username"));
    const char *password = json_string_value(json_object_get(data, "password"));
    if (!user || !password || !user[0])
        return -EINVAL;
    struct pam_job *job = calloc(1, sizeof(*job));
    if (!job)
        return -ENOMEM;
    job->conf = s->conf;
    job->user = strdup(user);
    job->password = strdup(password);
    job->cb = cb;
    job->data = cb_data;
    job->work.data = job;
    int r = (job->user && job->password) ? 0 : -ENOMEM;
    if (r == 0)
        r = uv_queue_work(s->host->loop, &job->work, pam_work, pam_after);
    if (r < 0) {
        free(job->user);
        free(job->password);
        free(job);
    }
    return r;
}

static const char *const pam_aliases[] = {"jupyterhub.auth.PAMAuthenticator", "PAMAuthenticator",
                                          NULL};

const struct gm_authenticator auth_pam = {
    .abi = GM_ABI_VERSION,
    .name = "pam",
    .aliases = pam_aliases,
    .options = &auth_pam_class,
    .conf_size = sizeof(struct pam_conf),
    .init = pam_auth_init,
    .destroy = pam_destroy,
    .authenticate = pam_authenticate_start,
};
