/* KubeSpawner's profile_list: the check at init, the spawn form (kubespawner/templates/form.html
 * rendered as KubeSpawner renders it), the submitted form turned into user_options
 * (_options_from_form), and user_options turned into the settings they override
 * (_validate_user_options, _get_profile, _load_profile). Each call works on an initialized copy
 * of the list, as _get_initialized_profile_list makes it: missing slugs made from display_name
 * (python-slugify), a default choice and profile filled in.
 *
 * Beyond KubeSpawner, a profile may say "allowed_groups": [names]; it is then neither shown
 * to nor accepted from users in none of them, and the list is initialized (its default
 * chosen) after that filtering.
 *
 * Options (struct kube_conf): profile_list. Example:
 *
 *     c.KubeSpawner.profile_list = [
 *         {"display_name": "Small", "default": True,
 *          "kubespawner_override": {"mem_limit": "1G"}},
 *         {"display_name": "GPU", "allowed_groups": ["gpu"],
 *          "kubespawner_override": {"extra_resource_limits": {"nvidia.com/gpu": "1"}},
 *          "profile_options": {"image": {
 *              "display_name": "Image",
 *              "choices": {"base": {"display_name": "Base",
 *                                   "kubespawner_override": {"image": "jupyter/base"}}},
 *              "unlisted_choice": {"enabled": True, "display_name": "Other image",
 *                                  "validation_regex": "^jupyter/.+:.+$",
 *                                  "kubespawner_override": {"image": "{value}"}}}}},
 *     ] */
#include "kube.h"

#include <ganymede/buf.h>
#include <ganymede/regex.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The form grows with the list, which only the admin writes; the cap keeps a mistake finite. */
#define PROFILES_FORM_MAX (4u << 20)
#define SLUG_MAX          4096 /* the longest display_name a slug is made of */

/* Python's truth value of a JSON value. */
static bool py_truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_TRUE:
        return true;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    }
    return false;
}

/* Python's str() of a JSON value, as Jinja prints it ("" for a missing one: Undefined). */
static void py_str(struct gm_buf *b, const json_t *v, bool escape)
{
    if (!v)
        return;
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (escape)
            gm_buf_html_escape(b, json_string_value(v));
        else
            gm_buf_puts(b, json_string_value(v));
        return;
    case JSON_NULL:
        gm_buf_puts(b, "None");
        return;
    case JSON_TRUE:
        gm_buf_puts(b, "True");
        return;
    case JSON_FALSE:
        gm_buf_puts(b, "False");
        return;
    case JSON_INTEGER:
        gm_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    default: {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        if (!s) {
            b->error = b->error ? b->error : -ENOMEM;
            return;
        }
        if (escape)
            gm_buf_html_escape(b, s);
        else
            gm_buf_puts(b, s);
        free(s);
    }
    }
}

/* python-slugify's slugify(text) with its defaults, for ASCII text: quotes to dashes, HTML
 * character references decoded, digits' thousands commas dropped, lower case, every run of
 * other characters one '-', no '-' at either end. It differs for non-ASCII text, which
 * python-slugify transliterates with unidecode ("é" -> "e", "北京" -> "bei-jing"): here a few
 * Latin-1 letters lose their accents and other characters are dropped. A slug that comes out
 * empty is refused by kube_profiles_check (give the profile a "slug"). */
static const char *latin1_fold(unsigned c)
{
    static const char *const table[64] = {
        "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
        "D", "N", "O", "O", "O", "O", "O",  "x", "O", "U", "U", "U", "U", "Y", "Th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  "/", "o", "u", "u", "u", "u", "y", "th", "y",
    };
    return c >= 0xc0 && c <= 0xff ? table[c - 0xc0] : "";
}

static int slugify(const char *text, char **ret)
{
    struct gm_buf pre, b;
    gm_buf_init(&pre, SLUG_MAX * 4);
    gm_buf_init(&b, SLUG_MAX * 4);
    /* Quotes, then non-ASCII, then character references, in python-slugify's order. */
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        if (*p == '\'') {
            while (*p == '\'')
                p++;
            gm_buf_putc(&pre, '-');
        } else if (*p < 0x80) {
            gm_buf_putc(&pre, (char)*p++);
        } else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            gm_buf_puts(&pre, latin1_fold((unsigned)(*p & 0x1f) << 6 | (p[1] & 0x3f)));
            p += 2;
        } else {
            p++;
            while ((*p & 0xc0) == 0x80)
                p++;
        }
    }
    if (pre.error) {
        int r = pre.error;
        gm_buf_free(&pre);
        return r;
    }
    const char *s = pre.data ? pre.data : "";
    /* Decoded, lower-cased, quotes removed: one character at a time; 0 stands for a character
     * that is not an ASCII letter or digit. */
    struct gm_buf dec;
    gm_buf_init(&dec, SLUG_MAX * 4);
    for (size_t i = 0; s[i];) {
        char c = s[i];
        if (c == '&') {
            static const struct {
                const char *name;
                char c;
            } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}};
            size_t j = i + 1;
            bool done = false;
            for (size_t k = 0; k < sizeof(named) / sizeof(named[0]) && !done; k++)
                if (!strncmp(s + j, named[k].name, strlen(named[k].name))) {
                    gm_buf_putc(&dec, named[k].c);
                    i = j + strlen(named[k].name);
                    done = true;
                }
            if (!done && s[j] == '#') {
                bool hex = s[j + 1] == 'x';
                size_t k = j + 1 + hex, start = k;
                unsigned long cp = 0;
                while (s[k] &&
                       (hex ? strchr("0123456789abcdefABCDEF", s[k]) != NULL
                            : (s[k] >= '0' && s[k] <= '9')) &&
                       k - start < 8) {
                    cp = cp * (hex ? 16 : 10) +
                         (unsigned long)(s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10);
                    k++;
                }
                if (k > start && s[k] == ';') {
                    /* Non-ASCII references are not transliterated: python-slugify decodes
                     * them after unidecode, so they become separators (or a letter and a
                     * separator, which this does not reproduce). */
                    gm_buf_putc(&dec, cp > 0 && cp < 0x80 ? (char)cp : '-');
                    i = k + 1;
                    done = true;
                }
            }
            if (!done) {
                gm_buf_putc(&dec, c);
                i++;
            }
        } else {
            gm_buf_putc(&dec, c);
            i++;
        }
    }
    gm_buf_free(&pre);
    const char *d = dec.data ? dec.data : "";
    bool dash = false;
    for (size_t i = 0; d[i] && !dec.error; i++) {
        char c = d[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c == '\'')
            continue;
        /* A comma between digits goes (python-slugify's NUMBERS_PATTERN). */
        if (c == ',' && i > 0 && d[i - 1] >= '0' && d[i - 1] <= '9' && d[i + 1] >= '0' &&
            d[i + 1] <= '9')
            continue;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && b.len)
                gm_buf_putc(&b, '-');
            dash = false;
            gm_buf_putc(&b, c);
        } else {
            dash = true;
        }
    }
    int r = dec.error ? dec.error : b.error;
    gm_buf_free(&dec);
    if (r < 0) {
        gm_buf_free(&b);
        return r;
    }
    char *out = gm_buf_steal(&b);
    if (!out)
        return -ENOMEM;
    *ret = out;
    return 0;
}

/* re.match(@py, @s): a match that starts at the beginning (and may end before the end). */
static int py_re_match(const char *py, const char *s, bool *ret)
{
    struct gm_regex *re;
    char msg[200];
    int r = gm_regex_compile(py, &re, msg, sizeof(msg));
    if (r < 0)
        return r;
    r = gm_regex_match(re, s, NULL, 0);
    gm_regex_free(re);
    if (r < 0)
        return r;
    *ret = r == 1;
    return 0;
}

/* The profiles in order: a list as it is, a dict's values by sorted keys (what
 * _sorted_dict_values does). A new list, or NULL when out of memory. */
static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *profiles_in_order(const json_t *profile_list, json_t **keys)
{
    json_t *list = json_array();
    json_t *names = json_array();
    if (!list || !names)
        goto fail;
    if (json_is_array(profile_list)) {
        size_t i;
        json_t *p;
        json_array_foreach(profile_list, i, p)
        {
            char name[32];
            snprintf(name, sizeof(name), "%zu", i);
            if (json_array_append(list, p) || json_array_append_new(names, json_string(name)))
                goto fail;
        }
    } else if (json_is_object(profile_list)) {
        size_t n = json_object_size(profile_list), i = 0;
        const char **k = calloc(n ? n : 1, sizeof(*k));
        if (!k)
            goto fail;
        const char *key;
        json_t *p;
        json_object_foreach((json_t *)profile_list, key, p) k[i++] = key;
        qsort(k, n, sizeof(*k), key_cmp);
        for (i = 0; i < n; i++) {
            if (json_array_append(list, json_object_get(profile_list, k[i])) ||
                json_array_append_new(names, json_sprintf("'%s'", k[i]))) {
                free(k);
                goto fail;
            }
        }
        free(k);
    }
    if (keys)
        *keys = names;
    else
        json_decref(names);
    return list;
fail:
    json_decref(list);
    json_decref(names);
    return NULL;
}

static bool in_groups(const json_t *profile, const char *const *groups)
{
    const json_t *allowed = json_object_get(profile, "allowed_groups");
    if (!allowed || json_is_null(allowed))
        return true;
    size_t i;
    const json_t *g;
    json_array_foreach(allowed, i, g)
    {
        for (const char *const *u = groups; u && *u; u++)
            if (json_is_string(g) && !strcmp(json_string_value(g), *u))
                return true;
    }
    return false;
}

/* _get_initialized_profile_list on the profiles open to @groups (all when @all): deep copies
 * with slugs, a default choice per option with choices, unlisted_choice filled in, and a
 * default profile. NULL when out of memory or a slug cannot be made (only for a list that
 * kube_profiles_check refused). */
static json_t *profiles_init(const json_t *profile_list, const char *const *groups, bool all)
{
    json_t *in = profiles_in_order(profile_list, NULL);
    json_t *out = json_array();
    if (!in || !out)
        goto fail;
    size_t i;
    json_t *p;
    json_array_foreach(in, i, p)
    {
        if (!json_is_object(p) || (!all && !in_groups(p, groups)))
            continue;
        json_t *c = json_deep_copy(p);
        if (!c || json_array_append_new(out, c))
            goto fail;
        if (!json_object_get(c, "slug")) {
            char *slug = NULL;
            const char *dn = json_string_value(json_object_get(c, "display_name"));
            if (!dn || slugify(dn, &slug) < 0 ||
                json_object_set_new(c, "slug", json_string(slug))) {
                free(slug);
                goto fail;
            }
            free(slug);
        }
        const char *ok;
        json_t *opt;
        json_object_foreach(json_object_get(c, "profile_options"), ok, opt)
        {
            if (!json_is_object(opt))
                continue;
            json_t *choices = json_object_get(opt, "choices");
            if (json_is_object(choices) && json_object_size(choices)) {
                bool any = false;
                const char *ck;
                json_t *ch;
                json_object_foreach(choices, ck, ch) any =
                    any || py_truthy(json_object_get(ch, "default"));
                if (!any) {
                    void *it = json_object_iter(choices);
                    json_t *first = json_object_iter_value(it);
                    if (json_is_object(first) && json_object_set_new(first, "default", json_true()))
                        goto fail;
                }
            }
            json_t *u = json_object_get(opt, "unlisted_choice");
            if (!u) {
                u = json_object();
                if (json_object_set_new(opt, "unlisted_choice", u))
                    goto fail;
            }
            if (!json_is_object(u))
                continue;
            if (!json_object_get(u, "enabled") && json_object_set_new(u, "enabled", json_false()))
                goto fail;
            if (py_truthy(json_object_get(u, "enabled")) &&
                !json_object_get(u, "display_name_in_choices") &&
                json_object_set_new(u, "display_name_in_choices", json_string("Other...")))
                goto fail;
        }
    }
    bool any = false;
    json_array_foreach(out, i, p) any = any || py_truthy(json_object_get(p, "default"));
    if (!any && json_array_size(out) &&
        json_object_set_new(json_array_get(out, 0), "default", json_true()))
        goto fail;
    json_decref(in);
    return out;
fail:
    json_decref(in);
    json_decref(out);
    return NULL;
}

/* Checks */

static int check_override(const json_t *holder, const char *where, char *err, size_t errlen)
{
    const json_t *o = json_object_get(holder, "kubespawner_override");
    if (o && !json_is_object(o)) {
        snprintf(err, errlen, "profile_list: %s: kubespawner_override must be a dict", where);
        return -EINVAL;
    }
    return 0;
}

static int check_profile(const json_t *p, const char *name, char *err, size_t errlen)
{
    char where[600];
    const json_t *dn = json_object_get(p, "display_name");
    if (!json_is_string(dn)) {
        snprintf(err, errlen, "profile_list: profile %s %s", name,
                 dn ? "has a display_name that is not a string" : "has no display_name");
        return -EINVAL;
    }
    if (json_string_length(dn) > SLUG_MAX) {
        snprintf(err, errlen, "profile_list: profile %s: display_name is longer than %d bytes",
                 name, SLUG_MAX);
        return -EINVAL;
    }
    const json_t *slug = json_object_get(p, "slug");
    if (slug && (!json_is_string(slug) || !json_string_length(slug))) {
        snprintf(err, errlen, "profile_list: profile %s (\"%s\"): slug must be a non-empty string",
                 name, json_string_value(dn));
        return -EINVAL;
    }
    snprintf(where, sizeof(where), "profile %s (\"%.200s\")", name, json_string_value(dn));
    if (check_override(p, where, err, errlen) < 0)
        return -EINVAL;
    const json_t *groups = json_object_get(p, "allowed_groups");
    if (groups && !json_is_null(groups)) {
        bool ok = json_is_array(groups);
        size_t i;
        const json_t *g;
        json_array_foreach(groups, i, g) ok = ok && json_is_string(g);
        if (!ok) {
            snprintf(err, errlen, "profile_list: %s: allowed_groups must be a list of group names",
                     where);
            return -EINVAL;
        }
    }
    const json_t *opts = json_object_get(p, "profile_options");
    if (!opts)
        return 0;
    if (!json_is_object(opts)) {
        snprintf(err, errlen, "profile_list: %s: profile_options must be a dict", where);
        return -EINVAL;
    }
    const char *ok;
    const json_t *opt;
    json_object_foreach((json_t *)opts, ok, opt)
    {
        char owhere[800];
        snprintf(owhere, sizeof(owhere), "%s, profile_options['%.100s']", where, ok);
        if (!json_is_object(opt)) {
            snprintf(err, errlen, "profile_list: %s must be a dict", owhere);
            return -EINVAL;
        }
        const json_t *choices = json_object_get(opt, "choices");
        if (choices && !json_is_object(choices)) {
            snprintf(err, errlen, "profile_list: %s: choices must be a dict", owhere);
            return -EINVAL;
        }
        const char *ck;
        const json_t *ch;
        int defaults = 0;
        json_object_foreach((json_t *)choices, ck, ch)
        {
            char cwhere[1000];
            snprintf(cwhere, sizeof(cwhere), "%s, choices['%.100s']", owhere, ck);
            if (!json_is_object(ch)) {
                snprintf(err, errlen, "profile_list: %s must be a dict", cwhere);
                return -EINVAL;
            }
            if (check_override(ch, cwhere, err, errlen) < 0)
                return -EINVAL;
            defaults += py_truthy(json_object_get(ch, "default"));
        }
        if (defaults > 1) {
            snprintf(err, errlen, "profile_list: %s: more than one choice is the default", owhere);
            return -EINVAL;
        }
        const json_t *u = json_object_get(opt, "unlisted_choice");
        if (!u)
            continue;
        char uwhere[1000];
        snprintf(uwhere, sizeof(uwhere), "%s, unlisted_choice", owhere);
        if (!json_is_object(u)) {
            snprintf(err, errlen, "profile_list: %s must be a dict", uwhere);
            return -EINVAL;
        }
        if (check_override(u, uwhere, err, errlen) < 0)
            return -EINVAL;
        const json_t *rx = json_object_get(u, "validation_regex");
        if (rx && !json_is_null(rx)) {
            struct gm_regex *re;
            char why[300];
            if (!json_is_string(rx)) {
                snprintf(err, errlen, "profile_list: %s: validation_regex must be a string",
                         uwhere);
                return -EINVAL;
            }
            int r = gm_regex_compile(json_string_value(rx), &re, why, sizeof(why));
            if (r < 0) {
                snprintf(err, errlen,
                         "profile_list: %s: validation_regex '%.200s' is not valid: %s", uwhere,
                         json_string_value(rx), why);
                return r;
            }
            gm_regex_free(re);
        }
    }
    return 0;
}

int kube_profiles_check(const json_t *profile_list, char *err, size_t errlen)
{
    if (!profile_list || json_is_null(profile_list))
        return 0;
    if (!json_is_array(profile_list) && !json_is_object(profile_list)) {
        snprintf(err, errlen, "profile_list must be a list of profiles or a dict of them");
        return -EINVAL;
    }
    json_t *names = NULL;
    json_t *list = profiles_in_order(profile_list, &names);
    json_t *init = NULL;
    int r = -ENOMEM;
    if (!list)
        goto done;
    size_t i;
    json_t *p;
    int defaults = 0;
    json_array_foreach(list, i, p)
    {
        const char *name = json_string_value(json_array_get(names, i));
        if (!json_is_object(p)) {
            snprintf(err, errlen, "profile_list: profile %s must be a dict", name);
            r = -EINVAL;
            goto done;
        }
        if ((r = check_profile(p, name, err, errlen)) < 0)
            goto done;
        defaults += py_truthy(json_object_get(p, "default"));
    }
    if (defaults > 1) {
        snprintf(err, errlen, "profile_list: more than one profile is the default");
        r = -EINVAL;
        goto done;
    }
    r = -ENOMEM;
    init = profiles_init(profile_list, NULL, true);
    if (!init)
        goto done;
    json_array_foreach(init, i, p)
    {
        const char *slug = json_string_value(json_object_get(p, "slug"));
        const char *name = json_string_value(json_array_get(names, i));
        if (!slug || !*slug) {
            snprintf(err, errlen,
                     "profile_list: profile %s (\"%.200s\"): no slug can be made of its "
                     "display_name: give it a \"slug\"",
                     name, json_string_value(json_object_get(p, "display_name")));
            r = -EINVAL;
            goto done;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(slug,
                        json_string_value(json_object_get(json_array_get(init, j), "slug")))) {
                snprintf(err, errlen,
                         "profile_list: profiles %s and %s have the same slug '%.200s': give "
                         "one of them another \"slug\"",
                         json_string_value(json_array_get(names, j)), name, slug);
                r = -EINVAL;
                goto done;
            }
    }
    r = 0;
done:
    if (r == -ENOMEM)
        snprintf(err, errlen, "profile_list: out of memory");
    json_decref(list);
    json_decref(names);
    json_decref(init);
    return r;
}

/* The form */

/* Jinja's |tojson: json.dumps (", " and ": ", ASCII only, order kept), then <, >, & and '
 * as \u escapes. */
static void form_tojson(struct gm_buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    if (!s) {
        b->error = b->error ? b->error : -ENOMEM;
        return;
    }
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '\\':
            /* An escape as Python writes it: \u00e9, not jansson's \u00E9. */
            gm_buf_putc(b, *p++);
            gm_buf_putc(b, *p);
            if (*p == 'u')
                for (int i = 0; i < 4 && p[1]; i++) {
                    p++;
                    gm_buf_putc(b, (char)(*p >= 'A' && *p <= 'F' ? *p | 0x20 : *p));
                }
            break;
        case '<':
            gm_buf_puts(b, "\\u003c");
            break;
        case '>':
            gm_buf_puts(b, "\\u003e");
            break;
        case '&':
            gm_buf_puts(b, "\\u0026");
            break;
        case '\'':
            gm_buf_puts(b, "\\u0027");
            break;
        default:
            gm_buf_putc(b, *p);
        }
    }
    free(s);
}

/* kubespawner/templates/style.css, included by form.html (its final newline dropped, as Jinja
 * does when it loads a template). */
static const char form_style[] =
    "/*\n"
    "    .profile divs holds two div tags: one for a radio button, and one\n"
    "    for the profile's content.\n"
    "*/\n"
    "#kubespawner-profiles-list .profile {\n"
    "  display: flex;\n"
    "  flex-direction: row;\n"
    "  font-weight: normal;\n"
    "  border-bottom: 1px solid #ccc;\n"
    "  padding-bottom: 12px;\n"
    "}\n"
    "\n"
    "#kubespawner-profiles-list .profile .radio {\n"
    "  padding: 12px;\n"
    "}\n"
    "\n"
    "/* .option divs holds a label and a select tag */\n"
    "#kubespawner-profiles-list .profile .option {\n"
    "  display: flex;\n"
    "  flex-direction: row;\n"
    "  align-items: center;\n"
    "  padding-bottom: 12px;\n"
    "}\n"
    "\n"
    "#kubespawner-profiles-list .profile .option label {\n"
    "  font-weight: normal;\n"
    "  margin-right: 8px;\n"
    "  min-width: 96px;\n"
    "}\n"
    "\n"
    "/* Make .hidden win over the .option flex rule */\n"
    "#kubespawner-profiles-list .profile .option.hidden,\n"
    "#kubespawner-profiles-list .js-other-input-container.hidden {\n"
    "  display: none;\n"
    "}";

/* The script at the end of form.html, after `const userOptions = {{ user_options|tojson }}`. */
static const char form_script_tail[] =
    ";\n"
    "  $('.js-profile-option-select, .js-profile-option-label').click(function() {\n"
    "    // we need this bit of JS to select the profile when a <select> inside is clicked.\n"
    "    $(this).parents('.js-profile-label')\n"
    "      .find('input[type=radio]')\n"
    "      .prop('checked', true);\n"
    "  });\n"
    "\n"
    "  // If the user selects \"Other\" in the dropdown, show the free text field\n"
    "  $('.js-profile-option-select').change(function() {\n"
    "    const selectionValue = $(this).val();\n"
    "    const $otherInputContainer = "
    "$(this).parents('.js-options-container').find('.js-other-input-container');\n"
    "    const $otherInput = $(this).parents('.js-options-container').find('.js-other-input');\n"
    "    if (selectionValue === 'unlisted-choice') {\n"
    "\n"
    "      // if the Select box is selected with a value that is not 'unlisted-choice',\n"
    "      // we remove the \"name\" attribute for the unlisted-choice input\n"
    "      // and vice-versa, so that we only submit valid form values\n"
    "      // and don't leave the complexity of figuring out which value\n"
    "      // to use to the back-end.\n"
    "\n"
    "      // This can probably be done cleaner by completely refactoring\n"
    "      // how we send values from the frontend.\n"
    "      $(this).data('name', $(this).attr('name'));\n"
    "      $(this).removeAttr('name');\n"
    "      $otherInput.attr('name', $otherInput.data('name'));\n"
    "      $otherInputContainer.removeClass('hidden');\n"
    "    } else {\n"
    "      $otherInput.removeAttr('name');\n"
    "      $(this).attr('name', $(this).data('name'));\n"
    "      $otherInputContainer.addClass('hidden');\n"
    "    }\n"
    "  });\n"
    "\n"
    "  // wrapping in a document.ready to make clear this is executed once\n"
    "  // on page load\n"
    "  $(document).ready(() => {\n"
    "    // Pre-select options from previously saved user_options\n"
    "    const savedProfile = userOptions && userOptions.profile;\n"
    "    if (savedProfile) {\n"
    "      $(`label[for=\"profile-item-${savedProfile}\"] "
    ".js-profile-option-select`).each(function() {\n"
    "        // name format: profile-option-{slug}--{optionKey}\n"
    "        const optionKey = $(this).attr('name').split('--').pop();\n"
    "        const unlistedValue = userOptions[optionKey + '--unlisted-choice'];\n"
    "        const savedValue = userOptions[optionKey];\n"
    "        if (unlistedValue) {\n"
    "          $(this).val('unlisted-choice');\n"
    "          "
    "$(this).parents('.js-options-container').find('.js-other-input').val(unlistedValue);\n"
    "        } else if (savedValue) {\n"
    "          $(this).val(savedValue);\n"
    "        }\n"
    "      });\n"
    "    }\n"
    "    // trigger the `change` event on the select inputs,\n"
    "    // so that if \"Other\" is selected on page load, the corresponding\n"
    "    // free-text input shows\n"
    "    $('.js-profile-option-select').trigger('change');\n"
    "  });\n"
    "\n"
    "</script>";

/* Text for the form: HTML-escaped (KubeSpawner's Jinja environment does not autoescape, so
 * markup in a display_name shows as text here instead of being interpreted). */
static void put(struct gm_buf *b, const json_t *v)
{
    py_str(b, v, true);
}

static void form_option(struct gm_buf *b, const char *slug, const char *k, const json_t *option)
{
    const json_t *u = json_object_get(option, "unlisted_choice");
    bool unlisted = py_truthy(json_object_get(u, "enabled"));
    gm_buf_puts(b, "\n              <div class=\"js-options-container\">"
                   "\n                <div class=\"option\">"
                   "\n                  <label for=\"profile-option-");
    gm_buf_html_escape(b, slug);
    gm_buf_puts(b, "--");
    gm_buf_html_escape(b, k);
    gm_buf_puts(b, "\"\n                         class=\"js-profile-option-label\">");
    put(b, json_object_get(option, "display_name"));
    gm_buf_puts(b, "</label>\n                  <select name=\"profile-option-");
    gm_buf_html_escape(b, slug);
    gm_buf_puts(b, "--");
    gm_buf_html_escape(b, k);
    gm_buf_puts(b, "\"\n                          id=\"profile-option-");
    gm_buf_html_escape(b, slug);
    gm_buf_puts(b, "--");
    gm_buf_html_escape(b, k);
    gm_buf_puts(b,
                "\"\n                          class=\"form-control js-profile-option-select\">");
    const char *ck;
    const json_t *choice;
    json_object_foreach((json_t *)json_object_get(option, "choices"), ck, choice)
    {
        gm_buf_puts(b, "\n                      <option value=\"");
        gm_buf_html_escape(b, ck);
        gm_buf_puts(b, "\" ");
        if (py_truthy(json_object_get(choice, "default")))
            gm_buf_puts(b, "selected");
        gm_buf_putc(b, '>');
        put(b, json_object_get(choice, "display_name"));
        gm_buf_puts(b, "</option>");
    }
    if (unlisted) {
        gm_buf_puts(b, "\n                      <option value=\"unlisted-choice\">");
        put(b, json_object_get(u, "display_name_in_choices"));
        gm_buf_puts(b, "</option>");
    }
    gm_buf_puts(b, "\n                  </select>\n                </div>");
    if (unlisted) {
        gm_buf_puts(b, "\n                  <div class=\"option hidden js-other-input-container\">"
                       "\n                    <label for=\"profile-option-");
        gm_buf_html_escape(b, slug);
        gm_buf_puts(b, "--");
        gm_buf_html_escape(b, k);
        gm_buf_puts(b, "--unlisted-choice\">\n                      ");
        put(b, json_object_get(u, "display_name"));
        gm_buf_puts(b, "\n                    </label>"
                       "\n                    <input data-name=\"profile-option-");
        gm_buf_html_escape(b, slug);
        gm_buf_puts(b, "--");
        gm_buf_html_escape(b, k);
        gm_buf_puts(b, "--unlisted-choice\"\n                           id=\"profile-option-");
        gm_buf_html_escape(b, slug);
        gm_buf_puts(b, "--");
        gm_buf_html_escape(b, k);
        gm_buf_puts(b, "--unlisted-choice\"");
        const json_t *rx = json_object_get(u, "validation_regex");
        if (py_truthy(rx)) {
            gm_buf_puts(b, "\n                           pattern=\"");
            put(b, rx);
            gm_buf_putc(b, '"');
        }
        gm_buf_puts(b, "\n                           title=\"");
        put(b, json_object_get(u, "validation_message"));
        gm_buf_puts(b, "\"\n                           class=\"form-control js-other-input\" />"
                       "\n                  </div>");
    }
    gm_buf_puts(b, "\n              </div>");
}

static void form_profile(struct gm_buf *b, const json_t *p, const json_t *chosen)
{
    const char *slug = json_string_value(json_object_get(p, "slug"));
    if (!slug)
        slug = "";
    gm_buf_puts(b, "\n    <label for=\"profile-item-");
    gm_buf_html_escape(b, slug);
    gm_buf_puts(b, "\"\n           class=\"profile js-profile-label\">"
                   "\n      <div class=\"radio\">"
                   "\n        <input type=\"radio\""
                   "\n               name=\"profile\""
                   "\n               id=\"profile-item-");
    gm_buf_html_escape(b, slug);
    gm_buf_puts(b, "\"\n               value=\"");
    gm_buf_html_escape(b, slug);
    gm_buf_puts(b, "\"\n               ");
    /* {% if user_options.profile == profile.slug %}checked {% elif not user_options.profile
     * and profile.default %}checked {% endif %} */
    if (json_is_string(chosen) && !strcmp(json_string_value(chosen), slug))
        gm_buf_puts(b, "checked ");
    else if (!py_truthy(chosen) && py_truthy(json_object_get(p, "default")))
        gm_buf_puts(b, "checked ");
    gm_buf_puts(b, " />\n      </div>\n      <div>\n        <h3>");
    put(b, json_object_get(p, "display_name"));
    gm_buf_puts(b, "</h3>");
    const json_t *desc = json_object_get(p, "description");
    if (py_truthy(desc)) {
        gm_buf_puts(b, "<p>");
        put(b, desc);
        gm_buf_puts(b, "</p>");
    }
    const json_t *opts = json_object_get(p, "profile_options");
    if (py_truthy(opts)) {
        gm_buf_puts(b, "\n          <div>");
        const char *k;
        const json_t *option;
        json_object_foreach((json_t *)opts, k, option) form_option(b, slug, k, option);
        gm_buf_puts(b, "\n          </div>");
    }
    gm_buf_puts(b, "\n      </div>\n    </label>");
}

static int validate(const json_t *list, const json_t *user_options, const json_t **ret, char *err,
                    size_t errlen);

char *kube_profiles_form(const json_t *profile_list, const char *user, const char *const *groups,
                         const json_t *user_options)
{
    (void)user;
    if (!py_truthy(profile_list))
        return NULL;
    json_t *list = profiles_init(profile_list, groups, false);
    if (!list)
        return NULL;
    /* Saved user_options that no longer fit the list (or came unchecked through the REST API)
     * preselect nothing, as _render_options_form intends. KubeSpawner still hands the
     * unchecked ones to the template; here they are dropped, also from the script. */
    json_t *empty = json_object();
    const json_t *uo = json_is_object(user_options) ? user_options : empty;
    char msg[KUBE_MESSAGE_MAX];
    const json_t *profile;
    if (json_object_size(uo) && validate(list, uo, &profile, msg, sizeof(msg)) < 0)
        uo = empty;
    struct gm_buf b;
    gm_buf_init(&b, PROFILES_FORM_MAX);
    gm_buf_puts(&b, "<style>");
    gm_buf_puts(&b, form_style);
    gm_buf_puts(&b, "</style>\n<div class=\"form-group\" id=\"kubespawner-profiles-list\">");
    size_t i;
    const json_t *p;
    json_array_foreach(list, i, p) form_profile(&b, p, json_object_get(uo, "profile"));
    gm_buf_puts(&b, "\n</div>\n<script>\n  const userOptions = ");
    form_tojson(&b, uo);
    gm_buf_puts(&b, form_script_tail);
    json_decref(list);
    json_decref(empty);
    char *out = NULL;
    if (!b.error)
        out = gm_buf_steal(&b);
    gm_buf_free(&b);
    return out;
}

/* The submitted form */

int kube_profiles_from_form(const json_t *profile_list, const json_t *form, json_t **ret, char *err,
                            size_t errlen)
{
    (void)profile_list; /* _options_from_form reads only the form */
    if (!json_is_object(form)) {
        snprintf(err, errlen, "The form must be a set of fields");
        return -EINVAL;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)form, k, v)
    {
        size_t i;
        const json_t *s;
        bool ok = json_is_array(v);
        json_array_foreach(v, i, s) ok =
            ok && json_is_string(s) && json_string_length(s) <= KUBE_PROFILE_VALUE_MAX;
        if (!ok) {
            snprintf(err, errlen,
                     "Form field '%.100s' must be a list of strings of at most %d bytes", k,
                     KUBE_PROFILE_VALUE_MAX);
            return -EINVAL;
        }
    }
    json_t *uo = json_object();
    if (!uo)
        goto nomem;
    const char *slug = json_string_value(json_array_get(json_object_get(form, "profile"), 0));
    if (slug && *slug) {
        struct gm_buf prefix;
        gm_buf_init(&prefix, KUBE_PROFILE_VALUE_MAX + 64);
        gm_buf_printf(&prefix, "profile-option-%s--", slug);
        if (prefix.error || json_object_set_new(uo, "profile", json_string(slug))) {
            gm_buf_free(&prefix);
            goto nomem;
        }
        json_object_foreach((json_t *)form, k, v)
        {
            const json_t *first = json_array_get(v, 0);
            if (first && !strncmp(k, prefix.data, prefix.len) &&
                json_object_set(uo, k + prefix.len, (json_t *)first)) {
                gm_buf_free(&prefix);
                goto nomem;
            }
        }
        gm_buf_free(&prefix);
    }
    *ret = uo;
    return 0;
nomem:
    json_decref(uo);
    snprintf(err, errlen, "Out of memory");
    return -ENOMEM;
}

/* user_options to overrides */

/* "a, b, c" of the slugs, for messages. */
static void slugs_of(const json_t *list, char *out, size_t outlen)
{
    size_t i, n = 0;
    const json_t *p;
    out[0] = '\0';
    json_array_foreach(list, i, p)
    {
        int w = snprintf(out + n, outlen - n, "%s%s", i ? ", " : "",
                         json_string_value(json_object_get(p, "slug")));
        if (w < 0 || (size_t)w >= outlen - n)
            break;
        n += (size_t)w;
    }
}

static void value_str(const json_t *v, char *out, size_t outlen)
{
    struct gm_buf b;
    gm_buf_init(&b, outlen > 1 ? outlen - 1 : 0);
    py_str(&b, v, false);
    snprintf(out, outlen, "%s", b.error ? "(too long)" : b.data ? b.data : "");
    gm_buf_free(&b);
}

/* _get_profile and _validate_user_options on the initialized @list. Unlike KubeSpawner,
 * the profile's options are checked also when "profile" is missing (the default profile):
 * there KubeSpawner applies an unlisted value without checking it. A choice that is not one
 * of the option's is refused here; KubeSpawner fails with a KeyError. */
static int validate(const json_t *list, const json_t *user_options, const json_t **ret, char *err,
                    size_t errlen)
{
    const json_t *slug = json_object_get(user_options, "profile");
    const json_t *profile = NULL;
    size_t i;
    const json_t *p;
    if (!py_truthy(slug)) {
        json_array_foreach(list, i, p) if (!profile && py_truthy(json_object_get(p, "default")))
            profile = p;
    } else {
        json_array_foreach(list, i, p) if (!profile && json_is_string(slug) &&
                                           json_equal(json_object_get(p, "slug"), (json_t *)slug))
            profile = p;
        if (!profile) {
            char s[200], opts[600];
            value_str(slug, s, sizeof(s));
            slugs_of(list, opts, sizeof(opts));
            snprintf(err, errlen, "No such profile: %s. Options include: %s", s, opts);
            return -EINVAL;
        }
    }
    const char *name;
    const json_t *option;
    json_object_foreach((json_t *)json_object_get(profile, "profile_options"), name, option)
    {
        char key[600];
        snprintf(key, sizeof(key), "%s--unlisted-choice", name);
        const json_t *unlisted = json_object_get(user_options, key);
        const json_t *choice = json_object_get(user_options, name);
        if (!py_truthy(unlisted) && !py_truthy(choice))
            continue;
        if (py_truthy(unlisted)) {
            const json_t *u = json_object_get(option, "unlisted_choice");
            if (!py_truthy(json_object_get(u, "enabled"))) {
                snprintf(err, errlen, "Received unlisted_choice for %s without being enabled.",
                         name);
                return -EINVAL;
            }
            if (!json_is_string(unlisted) ||
                json_string_length(unlisted) > KUBE_PROFILE_VALUE_MAX) {
                snprintf(err, errlen,
                         "Received unlisted_choice for %s that is not a string of at most %d "
                         "bytes.",
                         name, KUBE_PROFILE_VALUE_MAX);
                return -EINVAL;
            }
            const char *rx = json_string_value(json_object_get(u, "validation_regex"));
            bool ok = true;
            if (rx && *rx && (py_re_match(rx, json_string_value(unlisted), &ok) < 0 || !ok)) {
                snprintf(err, errlen,
                         "Received unlisted_choice for %s that failed validation regex.", name);
                return -EINVAL;
            }
            continue;
        }
        const json_t *choices = json_object_get(option, "choices");
        if (!json_is_string(choice) || !json_object_get(choices, json_string_value(choice))) {
            char s[200], opts[600];
            size_t n = 0;
            const char *ck;
            const json_t *ch;
            opts[0] = '\0';
            json_object_foreach((json_t *)choices, ck, ch)
            {
                int w = snprintf(opts + n, sizeof(opts) - n, "%s%s", n ? ", " : "", ck);
                if (w < 0 || (size_t)w >= sizeof(opts) - n)
                    break;
                n += (size_t)w;
            }
            value_str(choice, s, sizeof(s));
            snprintf(err, errlen, "No such choice for %s: %s. Options include: %s", name, s, opts);
            return -EINVAL;
        }
    }
    *ret = profile;
    return 0;
}

/* str.format_map(IgnoreMissing(value=@value)) on @s: "{value}" replaced, other fields
 * ("{name}") kept as they are, "{{" and "}}" single braces. What Python would fail on (a lone
 * brace, positional fields) is -EINVAL, and so are conversions and format specs, which this
 * does not implement. */
static int format_value(const char *s, const char *value, json_t **ret)
{
    struct gm_buf b;
    gm_buf_init(&b, 2 * KUBE_PROFILE_VALUE_MAX + strlen(s));
    for (size_t i = 0; s[i];) {
        if (s[i] == '{' && s[i + 1] == '{') {
            gm_buf_putc(&b, '{');
            i += 2;
        } else if (s[i] == '}' && s[i + 1] == '}') {
            gm_buf_putc(&b, '}');
            i += 2;
        } else if (s[i] == '}') {
            goto bad;
        } else if (s[i] == '{') {
            const char *end = strchr(s + i, '}');
            size_t n = end ? (size_t)(end - (s + i + 1)) : 0;
            const char *f = s + i + 1;
            if (!end || !n || (f[0] >= '0' && f[0] <= '9') || memchr(f, '{', n))
                goto bad;
            for (size_t j = 0; j < n; j++)
                if (strchr("!:.[", f[j]))
                    goto bad;
            if (n == 5 && !memcmp(f, "value", 5))
                gm_buf_puts(&b, value);
            else
                gm_buf_append(&b, s + i, n + 2);
            i += n + 2;
        } else {
            gm_buf_putc(&b, s[i++]);
        }
    }
    if (b.error) {
        int r = b.error;
        gm_buf_free(&b);
        return r;
    }
    *ret = json_string(b.data ? b.data : "");
    gm_buf_free(&b);
    return *ret ? 0 : -ENOMEM;
bad:
    gm_buf_free(&b);
    return -EINVAL;
}

/* recursive_format(@v, value=@value): strings, and dict keys, in lists and dicts. */
static int format_json(const json_t *v, const char *value, json_t **ret)
{
    if (json_is_string(v))
        return format_value(json_string_value(v), value, ret);
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        const json_t *x;
        if (!a)
            return -ENOMEM;
        json_array_foreach(v, i, x)
        {
            json_t *y;
            int r = format_json(x, value, &y);
            if (r < 0 || json_array_append_new(a, y)) {
                json_decref(a);
                return r < 0 ? r : -ENOMEM;
            }
        }
        *ret = a;
        return 0;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        const json_t *x;
        if (!o)
            return -ENOMEM;
        json_object_foreach((json_t *)v, k, x)
        {
            json_t *fk = NULL, *y = NULL;
            int r = format_value(k, value, &fk);
            if (r >= 0)
                r = format_json(x, value, &y);
            if (r >= 0 && json_object_set_new(o, json_string_value(fk), y))
                r = -ENOMEM;
            else if (r < 0)
                json_decref(y);
            json_decref(fk);
            if (r < 0) {
                json_decref(o);
                return r;
            }
        }
        *ret = o;
        return 0;
    }
    *ret = json_deep_copy(v);
    return *ret ? 0 : -ENOMEM;
}

/* Merge override @o into the merged overrides @into so that applying the result once is
 * applying both in turn: dicts into dicts recursively, anything else (null too) replacing.
 * (One case differs: a null in @into followed by a dict in @o; applied in turn the dict would
 * replace, applied merged it is merged into the setting.) */
static int merge(json_t *into, const json_t *o)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        json_t *cur = json_object_get(into, k);
        if (json_is_object(v) && json_is_object(cur)) {
            int r = merge(cur, v);
            if (r < 0)
                return r;
        } else if (json_object_set_new(into, k, json_deep_copy(v))) {
            return -ENOMEM;
        }
    }
    return 0;
}

int kube_profiles_apply(const json_t *profile_list, const char *const *groups,
                        const json_t *user_options, json_t **out, char *err, size_t errlen)
{
    if (!py_truthy(profile_list)) {
        /* KubeSpawner only warns about a "profile" given without a profile_list. */
        *out = NULL;
        return 0;
    }
    json_t *list = profiles_init(profile_list, groups, false);
    json_t *merged = json_object();
    json_t *empty = json_object();
    int r = -ENOMEM;
    if (!list || !merged || !empty)
        goto fail;
    if (!json_array_size(list)) {
        snprintf(err, errlen,
                 "None of the profiles of profile_list is open to your groups: ask an admin");
        r = -EACCES;
        goto fail;
    }
    const json_t *uo = json_is_object(user_options) ? user_options : empty;
    const json_t *profile;
    if ((r = validate(list, uo, &profile, err, errlen)) < 0)
        goto fail;
    r = -ENOMEM;
    if (merge(merged, json_object_get(profile, "kubespawner_override")) < 0)
        goto fail;
    const char *name;
    const json_t *option;
    json_object_foreach((json_t *)json_object_get(profile, "profile_options"), name, option)
    {
        char key[600];
        snprintf(key, sizeof(key), "%s--unlisted-choice", name);
        const json_t *unlisted = json_object_get(uo, key);
        const json_t *choice = json_object_get(uo, name);
        const json_t *choices = json_object_get(option, "choices");
        if (py_truthy(unlisted)) {
            json_t *o = NULL;
            r = format_json(
                json_object_get(json_object_get(option, "unlisted_choice"), "kubespawner_override"),
                json_string_value(unlisted), &o);
            if (r == -EINVAL)
                snprintf(err, errlen,
                         "profile_list: the kubespawner_override of %s's unlisted_choice has a "
                         "string that does not format with {value}",
                         name);
            if (r >= 0)
                r = merge(merged, o);
            json_decref(o);
            if (r < 0)
                goto fail;
            r = -ENOMEM;
        } else if (py_truthy(choice)) {
            const json_t *c = json_object_get(choices, json_string_value(choice));
            if (merge(merged, json_object_get(c, "kubespawner_override")) < 0)
                goto fail;
        } else {
            if (!py_truthy(choices)) {
                snprintf(err, errlen, "Unable to determine a default choice for %s.", name);
                r = -EINVAL;
                goto fail;
            }
            const char *ck;
            const json_t *c, *def = NULL;
            json_object_foreach((json_t *)choices, ck,
                                c) if (!def && py_truthy(json_object_get(c, "default"))) def = c;
            if (merge(merged, json_object_get(def, "kubespawner_override")) < 0)
                goto fail;
        }
    }
    json_decref(list);
    json_decref(empty);
    if (!json_object_size(merged)) {
        json_decref(merged);
        merged = NULL;
    }
    *out = merged;
    return 0;
fail:
    if (r == -ENOMEM)
        snprintf(err, errlen, "Out of memory");
    json_decref(list);
    json_decref(merged);
    json_decref(empty);
    return r;
}
