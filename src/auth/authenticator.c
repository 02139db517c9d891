/* The Authenticator base settings (names and defaults of JupyterHub 5.5's auth.py). */
#include "auth/authenticator.h"

#include <errno.h>
#include <stddef.h>

#define OPT(field) offsetof(struct auth_config, field)

static const struct gm_option authenticator_options[] = {
    GM_OPTION("admin_users", GM_OPTION_STRINGS, OPT(admin_users), NULL,
              "Users who are made admins (and created if missing) at start."),
    GM_OPTION("allowed_users", GM_OPTION_STRINGS, OPT(allowed_users), NULL,
              "Users allowed to log in; they are created at start and get the user role."),
    GM_OPTION("blocked_users", GM_OPTION_STRINGS, OPT(blocked_users), NULL,
              "Users who may never log in, even if allowed otherwise."),
    GM_OPTION("username_pattern", GM_OPTION_STRING, OPT(username_pattern), "\"\"",
              "Regular expression that valid user names must match from their start."),
    GM_OPTION_X("username_map", GM_OPTION_JSON, OPT(username_map), "{}",
                "Dict mapping normalised user names to the names used in the hub.",
                .check = gm_check_str_dict),
    GM_OPTION_X("allow_all", GM_OPTION_JSON, OPT(allow_all), "null",
                "Allow every user who authenticates (None: the authenticator's default, False "
                "for most).",
                .check = gm_check_bool_or_null),
    GM_OPTION_X("allow_existing_users", GM_OPTION_JSON, OPT(allow_existing_users), "null",
                "Allow users already in the database (None: True when allowed_users is set).",
                .check = gm_check_bool_or_null),
    GM_OPTION("auto_login", GM_OPTION_BOOL, OPT(auto_login), "false",
              "Skip the login page and go straight to the authenticator's login."),
    GM_OPTION("enable_auth_state", GM_OPTION_BOOL, OPT(enable_auth_state), "false",
              "Keep what the authenticator returns as auth_state, encrypted with "
              "JUPYTERHUB_CRYPT_KEY."),
    GM_OPTION("manage_groups", GM_OPTION_BOOL, OPT(manage_groups), "false",
              "Let the authenticator set each user's groups at every login."),
    GM_OPTION("auth_refresh_age", GM_OPTION_FLOAT, OPT(auth_refresh_age), "300",
              "Seconds after which a user's login (auth_state) is refreshed when the user makes "
              "a request; 0 turns it off."),
    GM_OPTION_X("refresh_pre_spawn", GM_OPTION_JSON, OPT(refresh_pre_spawn), "null",
                "Refresh the user's login (auth_state) before starting a server; a login that "
                "cannot be refreshed must log in again (None: True for OAuth authenticators "
                "that keep auth_state).",
                .check = gm_check_bool_or_null),
    GM_OPTION_END,
};

const struct gm_option_class auth_authenticator_class = {
    .name = "Authenticator",
    .help = "Settings shared by every authenticator: admins, allowed and blocked users, names.",
    .options = authenticator_options,
};
