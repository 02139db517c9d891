/* uid and gid from the identity provider, for the spawners' auth_state_uid_key and
 * auth_state_gid_key settings (include/ganymede/spawner.h). */
#include <errno.h>
#include <ganymede/json.h>
#include <ganymede/spawner.h>
#include <stdio.h>

int gm_spawner_id_from_auth_state(const json_t *auth_state, const char *key, const char *setting,
                                  int64_t *id, char *err, size_t errlen)
{
    if (!auth_state) {
        snprintf(err, errlen,
                 "%s is set, but there is no auth_state for this user (set "
                 "Authenticator.enable_auth_state and JUPYTERHUB_CRYPT_KEY, and log in again)",
                 setting);
        return -EINVAL;
    }
    int r = gm_json_id_at(auth_state, key, id);
    if (r == -ENOENT)
        snprintf(err, errlen, "The user's auth_state has no '%s' (%s)", key, setting);
    else if (r < 0)
        snprintf(err, errlen, "The user's auth_state '%s' (%s) is not an id from 0 to 2147483647",
                 key, setting);
    return r < 0 ? -EINVAL : 0;
}
