/* Text templates for plugins: the `{username}` fields of JupyterHub's spawners (Python's
 * str.format, as DockerSpawner's name_template and KubeSpawner's pod_name_template use it), the
 * escaping and DNS-safe slugs that KubeSpawner and DockerSpawner apply to names, and the Jinja
 * subset of batchspawner's batch scripts. Implemented once, in src/util/template.c.
 *
 * Every function returns >= 0 on success or a negative errno: -EINVAL (a template that does not
 * parse, a value that cannot be used), -ENOENT (a field the values do not have: Python's
 * KeyError), -E2BIG (over a cap) or -ENOMEM. Results are written to *ret only on success and
 * the caller frees them. Every other pointer parameter is borrowed. When @err is not NULL it
 * receives a message and the position of the problem on failure.
 *
 * The page templates of the hub (web/templates) are not rendered here: they are Mustache-like
 * ({{#section}}, {{^inverted}}, {{> include}}), HTML-escaped, and overridable by
 * JupyterHub.template_paths; see src/pages/template.h. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/** The largest template accepted and the default cap on a result (1 MiB). */
#define GM_TEMPLATE_MAX (1 << 20)

/** The longest name given to the escape and slug functions (bytes). */
#define GM_SLUG_INPUT_MAX 4096

/** Where and why a template failed. */
struct gm_template_error {
    char message[256]; /* one sentence, naming the field or tag */
    size_t offset;     /* bytes from the start of the template */
    unsigned line;     /* 1-based */
    unsigned column;   /* 1-based, in bytes */
};

/* Names. */

/** How a field value is turned into a name, as KubeSpawner's slug_scheme. */
enum gm_slug_scheme {
    GM_SLUG_NONE,   /* the value as it is */
    GM_SLUG_ESCAPE, /* gm_slug_escape: KubeSpawner < 7 ("escape"), DockerSpawner */
    GM_SLUG_SAFE,   /* gm_slug_safe(value, GM_SLUG_OBJECT, 48), "" kept: KubeSpawner 7 ("safe") */
    GM_SLUG_SCHEME_MAX,
};

/** "none", "escape", "safe", indexed by enum gm_slug_scheme. */
extern const char *const gm_slug_scheme_names[GM_SLUG_SCHEME_MAX];

/** Which names gm_slug_safe keeps unchanged, as kubespawner.slugs' is_valid functions. */
enum gm_slug_rule {
    GM_SLUG_OBJECT, /* is_valid_object_name: [a-z0-9-], starts with a letter, 1..63 */
    GM_SLUG_LABEL,  /* is_valid_label: label values, "" included */
    GM_SLUG_RULE_MAX,
};

/** escapism.escape(@text, safe=@safe, escape_char=@escape_char): every UTF-8 byte of a character
 * outside @safe (NULL: ASCII letters and digits; @escape_char is never safe) becomes
 * @escape_char and its value in upper-case hex, unpadded as escapism writes it ("\t" → "_9").
 * Returns 0, -ENAMETOOLONG (@text over GM_SLUG_INPUT_MAX) or -ENOMEM. */
int gm_escape(const char *text, const char *safe, char escape_char, char **ret);

/** KubeSpawner's escape_slug and DockerSpawner's default escape: [a-z0-9] kept, everything
 * else as "-XX", then lower case ("Alice" → "-41lice"). */
int gm_slug_escape(const char *text, char **ret);

/** kubespawner.slugs.safe_slug(@text, is_valid, max_length=@max_length or None): @text itself
 * when it is valid under @rule, fits @max_length and has no "--"; otherwise its lower-cased
 * letters and digits with "-" between runs, cut to fit, then "---" and the first 8 hex digits of
 * its SHA-256 ("Alice" → "alice---<hash>"). @max_length 0 means None (63 for valid names, 32
 * for hashed ones). -EINVAL when @max_length is under 12 (no room for the hash). */
int gm_slug_safe(const char *text, enum gm_slug_rule rule, size_t max_length, char **ret);

/** kubespawner.slugs.multi_slug(@names, max_length): each name shortened to an equal share,
 * joined by "--", then "---" and one hash over all of them. -EINVAL when the share is under 2
 * characters or @n is 0. */
int gm_slug_multi(const char *const *names, size_t n, size_t max_length, char **ret);

/** @text as field @scheme makes it (KubeSpawner's {username} and {servername}). */
int gm_slug(const char *text, enum gm_slug_scheme scheme, char **ret);

/** KubeSpawner's {user_server} for @user and @server ("" for the default server): the two
 * slugs joined by "--", or a multi_slug of both when that would exceed 48 characters (safe);
 * escaped names joined by "--" (escape); the raw names so joined (none). */
int gm_slug_user_server(const char *user, const char *server, enum gm_slug_scheme scheme,
                        char **ret);

/* Python's str.format. */

struct gm_format_options {
    enum gm_slug_scheme slug; /* applied to every string value substituted (not to the text) */
    size_t max_len;           /* the longest result in bytes; 0: GM_TEMPLATE_MAX */
    /** KubeSpawner's rule: drop trailing '-' from the result unless the template itself ends
     * in '-' (a "{username}--{servername}" template for the default server). */
    int strip_dashes;
};

/** @tmpl.format(**@fields) as Python does it: "{name}" is replaced by the field of that name
 * (strings as they are, numbers as Python writes them, true/false/null as True/False/None),
 * "{name.key}" and "{name[key]}" look into objects, "{name[0]}" into lists, "{{" and "}}" are
 * braces. A field @fields does not have is -ENOENT ("KeyError: 'name'"); positional fields
 * ("{}", "{0}"), conversions ("!r") and format specs (":>10") are -EINVAL, and so are a lone
 * "{" or "}", as Python's ValueError. @fields is a JSON object (NULL: no fields); @opts may be
 * NULL (no escaping, GM_TEMPLATE_MAX). */
int gm_format(const char *tmpl, const json_t *fields, const struct gm_format_options *opts,
              char **ret, struct gm_template_error *err);

/* Jinja. */

/** Render @tmpl as Jinja2's Template(tmpl).render(**@vars) does with its default settings
 * (no autoescape, no trim_blocks or lstrip_blocks, one trailing newline dropped, undefined
 * variables render as "" and are false), for the subset batch scripts use:
 *
 *     {{ expr }}                                   the value (None, True, 3.5, ['a'] as Python)
 *     {% if expr %}..{% elif expr %}..{% else %}..{% endif %}
 *     {% for x in expr %}..{% else %}..{% endfor %}   lists, objects (their keys), strings;
 *                                                  loop.index, loop.index0, loop.first,
 *                                                  loop.last, loop.length
 *     {% raw %}..{% endraw %}   {# comment #}   {%- -%} {{- -}} strip whitespace
 *
 * Expressions: names, a.b, a['b'], a[0], 'strings', numbers, true/false/none, ( ), not, and, or
 * (with Python's values), == != < <= > >=, in, not in, ~ (concatenation), is [not]
 * defined/none. Anything else (filters, {% set %}, macros) is -EINVAL with its position.
 * @vars is a JSON object (NULL: none); the result is capped at @max bytes (0:
 * GM_TEMPLATE_MAX), nesting at 32 blocks and loops at 100000 iterations in all. */
int gm_render(const char *tmpl, const json_t *vars, size_t max, char **ret,
              struct gm_template_error *err);

/** Check that @tmpl parses as gm_render's Jinja, without rendering it. Returns 0 or -EINVAL. */
int gm_render_check(const char *tmpl, struct gm_template_error *err);

/** batchspawner's format_template: gm_render when @tmpl contains "{{" or "{%", otherwise
 * gm_format with @vars (no escaping). */
int gm_format_or_render(const char *tmpl, const json_t *vars, size_t max, char **ret,
                        struct gm_template_error *err);
