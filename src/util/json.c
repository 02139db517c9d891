/* The toolkit's JSON path lookups (include/ganymede/json.h). */
#include <ganymede/json.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Parse @n ASCII digits at @s as a list index; false if they are not that or overflow. */
static bool parse_index(const char *s, size_t n, size_t *ret)
{
    if (n == 0 || n > 18)
        return false;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *ret = v;
    return true;
}

int gm_json_path(const json_t *root, const char *path, const json_t **ret)
{
    if (!path)
        return -EINVAL;
    size_t len = strnlen(path, GM_JSON_PATH_MAX + 1);
    if (len > GM_JSON_PATH_MAX)
        return -ENAMETOOLONG;
    if (!root)
        return -ENOENT;
    const json_t *v = root;
    if (len == 0) {
        *ret = v;
        return 0;
    }
    /* Check the whole path's shape first, so that a malformed one is -EINVAL whatever the
     * document holds. */
    if (path[0] == '.' || path[len - 1] == '.' || strstr(path, ".."))
        return -EINVAL;
    char key[GM_JSON_PATH_MAX + 1];
    const char *p = path;
    while (v) {
        size_t n = strcspn(p, ".");
        if (json_is_object(v)) {
            /* json_object_getn is jansson >= 2.14; the build accepts 2.13. */
            memcpy(key, p, n);
            key[n] = '\0';
            v = json_object_get(v, key);
        } else if (json_is_array(v)) {
            size_t i;
            v = parse_index(p, n, &i) ? json_array_get(v, i) : NULL;
        } else {
            v = NULL;
        }
        if (!p[n])
            break;
        p += n + 1;
    }
    if (!v)
        return -ENOENT;
    *ret = v;
    return 0;
}

const json_t *gm_json_at(const json_t *root, const char *path)
{
    const json_t *v = NULL;
    return gm_json_path(root, path, &v) == 0 ? v : NULL;
}

int gm_json_id_at(const json_t *root, const char *path, int64_t *ret)
{
    const json_t *v;
    int r = gm_json_path(root, path, &v);
    if (r < 0)
        return r;
    int64_t id;
    if (json_is_integer(v)) {
        id = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
            return -EINVAL;
        id = 0;
        for (size_t i = 0; i < n; i++)
            id = id * 10 + (s[i] - '0');
    } else {
        return -EINVAL;
    }
    if (id < 0 || id > 2147483647)
        return -ERANGE;
    *ret = id;
    return 0;
}

int gm_json_merge(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        json_t *old = json_object_get(dst, k);
        int r = json_is_object(old) && json_is_object(v)
                    ? gm_json_merge(old, v)
                    : json_object_set_new(dst, k, json_deep_copy(v));
        if (r < 0)
            return -ENOMEM;
    }
    return 0;
}
