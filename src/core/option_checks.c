/* What many option tables share (<ganymede/plugin.h>): value checks, and filling a setting
 * from a deprecated alias. */
#include <errno.h>
#include <ganymede/plugin.h>
#include <stdlib.h>
#include <string.h>

int gm_option_fill_string(char **field, const char *value)
{
    if ((*field && (*field)[0]) || !value || !value[0])
        return 0;
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int gm_check_positive(const json_t *v, const char **why)
{
    *why = "a positive number";
    return json_number_value(v) > 0 ? 0 : -EINVAL;
}

int gm_check_seconds(const json_t *v, const char **why)
{
    *why = "a number of seconds, 0 or more";
    return json_number_value(v) >= 0 ? 0 : -EINVAL;
}

int gm_check_bool_or_null(const json_t *v, const char **why)
{
    *why = "True, False or None";
    return json_is_boolean(v) || json_is_null(v) ? 0 : -EINVAL;
}

int gm_check_dict(const json_t *v, const char **why)
{
    *why = "a dict";
    return json_is_object(v) ? 0 : -EINVAL;
}

int gm_check_str_dict(const json_t *v, const char **why)
{
    *why = "a dict of strings";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!json_is_string(x))
            return -EINVAL;
    }
    return 0;
}

int gm_check_dict_list(const json_t *v, const char **why)
{
    *why = "a list of dicts";
    if (!json_is_array(v))
        return -EINVAL;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_object(x))
            return -EINVAL;
    }
    return 0;
}

int gm_check_command(const json_t *v, const char **why)
{
    *why = "None (the image's command), a command line, or a list of strings";
    if (json_is_null(v) || json_is_string(v))
        return 0;
    if (!json_is_array(v))
        return -EINVAL;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return -EINVAL;
    }
    return 0;
}
