/* The Authenticator settings every authenticator shares (JupyterHub's Authenticator class):
 * who is an admin, who may log in, and how names are normalised. The authenticator plugin
 * interface builds on this. */
#pragma once

#include <ganymede/plugin.h>
#include <stdbool.h>

struct auth_config {
    char **admin_users;
    char **allowed_users;
    char **blocked_users;
    char *username_pattern;
    json_t *username_map;
    json_t *allow_all;            /* bool, or null: the authenticator's default */
    json_t *allow_existing_users; /* bool, or null: True when allowed_users is set */
    bool auto_login;
    bool enable_auth_state;
    bool manage_groups;
    json_t *refresh_pre_spawn; /* bool, or null: the authenticator's default */
    double auth_refresh_age;   /* seconds; 0 never refreshes on use */
};

extern const struct gm_option_class auth_authenticator_class;
