/* KubeSpawner's template fields (_expand_user_properties) and the checks of the names they
 * make. The slugs are the toolkit's (<ganymede/template.h>, tested with kubespawner's own
 * vectors); this file only lays them out as KubeSpawner 7 does:
 *
 *   {username} {servername} {user_server}   per slug_scheme (safe, or escape)
 *   {safe_*} {escaped_*} {unescaped_*}      each scheme's value whatever slug_scheme says
 *   {userid} {hubnamespace}                 the user's id; the hub's namespace ("user" when
 *                                           that is "default")
 *   {pod_name} {pvc_name} {namespace}       once known ("<field>_unavailable!" before) */
#include "kube.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLUG_MAX 48 /* KubeSpawner's _slug_max_length */

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v ? v : "")) < 0 ? -ENOMEM : 0;
}

int kube_names_init(struct kube_names *n, const struct kube_conf *conf, const char *hub_namespace,
                    const char *user, const char *server_name, int64_t user_id)
{
    memset(n, 0, sizeof(*n));
    n->scheme = strcmp(conf->slug_scheme, "escape") == 0 ? GM_SLUG_ESCAPE : GM_SLUG_SAFE;
    const char *server = server_name ? server_name : "";
    char *safe_user = NULL, *safe_server = NULL, *safe_us = NULL, *esc_user = NULL,
         *esc_server = NULL, *esc_us = NULL;
    int r = gm_slug_safe(user, GM_SLUG_OBJECT, SLUG_MAX, &safe_user);
    if (r >= 0)
        r = server[0] ? gm_slug_safe(server, GM_SLUG_OBJECT, SLUG_MAX, &safe_server)
                      : ((safe_server = strdup("")) ? 0 : -ENOMEM);
    if (r >= 0)
        r = gm_slug_user_server(user, server, GM_SLUG_SAFE, &safe_us);
    if (r >= 0)
        r = gm_slug_escape(user, &esc_user);
    if (r >= 0)
        r = gm_slug_escape(server, &esc_server);
    if (r >= 0) {
        size_t len = strlen(esc_user) + strlen(esc_server) + 3;
        esc_us = malloc(len);
        if (esc_us)
            snprintf(esc_us, len, "%s--%s", esc_user, esc_server);
        else
            r = -ENOMEM;
    }
    json_t *f = r >= 0 ? json_object() : NULL;
    if (r >= 0 && !f)
        r = -ENOMEM;
    if (r >= 0) {
        bool safe = n->scheme == GM_SLUG_SAFE;
        const char *hubns = strcmp(hub_namespace, "default") == 0 ? "user" : hub_namespace;
        /* The escape scheme's {user_server} has no "--" for the default server. */
        const char *esc_user_server = server[0] ? esc_us : esc_user;
        struct {
            const char *k, *v;
        } fields[] = {
            {"unescaped_username", user},
            {"unescaped_servername", server},
            {"hubnamespace", hubns},
            {"username", safe ? safe_user : esc_user},
            {"servername", safe ? safe_server : esc_server},
            {"user_server", safe ? safe_us : esc_user_server},
            {"safe_username", safe_user},
            {"safe_servername", safe_server},
            {"safe_user_server", safe_us},
            {"escaped_username", esc_user},
            {"escaped_servername", esc_server},
            {"escaped_user_server", esc_us},
            {"pod_name", "pod_name_unavailable!"},
            {"pvc_name", "pvc_name_unavailable!"},
            {"namespace", "namespace_unavailable!"},
        };
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && r >= 0; i++)
            r = set_str(f, fields[i].k, fields[i].v);
        if (r >= 0 && json_object_set_new(f, "userid", json_integer(user_id)) < 0)
            r = -ENOMEM;
    }
    free(safe_user);
    free(safe_server);
    free(safe_us);
    free(esc_user);
    free(esc_server);
    free(esc_us);
    if (r < 0) {
        json_decref(f);
        return r;
    }
    n->fields = f;
    return 0;
}

void kube_names_set(struct kube_names *n, const char *field, const char *value)
{
    set_str(n->fields, field, value);
}

void kube_names_release(struct kube_names *n)
{
    json_decref(n->fields);
    n->fields = NULL;
}

int kube_expand(const struct kube_names *n, const char *tmpl, char **ret, char *err, size_t errlen)
{
    struct gm_format_options opts = {.slug = GM_SLUG_NONE, .strip_dashes = 1};
    struct gm_template_error te = {0};
    int r = gm_format(tmpl, n->fields, &opts, ret, &te);
    if (r < 0 && err)
        snprintf(err, errlen, "%s", te.message[0] ? te.message : strerror(-r));
    return r < 0 ? r : 0;
}

json_t *kube_expand_json(const struct kube_names *n, const json_t *v)
{
    if (json_is_string(v)) {
        char *s = NULL;
        if (kube_expand(n, json_string_value(v), &s, NULL, 0) < 0)
            return json_deep_copy(v); /* kept as it is, like a template that does not format */
        json_t *out = json_string(s);
        free(s);
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!out || json_array_append_new(out, kube_expand_json(n, x)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (!out || json_object_set_new(out, k, kube_expand_json(n, x)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(v);
}

/* DNS-1123: lower-case letters, digits and '-', starting and ending with a letter or digit. A
 * label has 63 at most; the parts of a subdomain only the whole's 253 (Kubernetes'
 * isDNS1123LabelExceptMaxLength). */
static bool dns_part(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

bool kube_is_dns_label(const char *s)
{
    return dns_part(s, strlen(s), KUBE_LABEL_MAX);
}

bool kube_is_dns_subdomain(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > KUBE_NAME_MAX)
        return false;
    for (const char *p = s;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!dns_part(p, n, KUBE_NAME_MAX))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}
