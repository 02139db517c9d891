/* A Mustache subset, rendered straight from the template text (templates are small and pages
 * are not a hot path). Overrides from template_paths are read once and kept. */
#include "pages/template.h"
#include "util/embedded.h"
#include "util/hmap.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH    32
#define MAX_TEMPLATE (1 << 20)

extern const struct embedded_file embedded_templates[];

struct loaded {
    char *name;
    char *text;
};

struct page_templates {
    char *const *dirs;
    struct hmap cache; /* name → struct loaded, for files read from dirs */
    struct loaded **all;
    size_t n;
};

int page_templates_create(char *const *dirs, struct page_templates **ret)
{
    struct page_templates *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->dirs = dirs;
    *ret = t;
    return 0;
}

void page_templates_free(struct page_templates *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->all[i]->name);
        free(t->all[i]->text);
        free(t->all[i]);
    }
    free(t->all);
    hmap_free(&t->cache);
    free(t);
}

static char *read_small_file(const char *path)
{
    char *text = NULL;
    return gm_file_read(path, MAX_TEMPLATE, &text, NULL, NULL) == 0 ? text : NULL;
}

/* The text of template @name, or NULL. Names are plain file names (no paths). */
static const char *lookup(struct page_templates *t, const char *name)
{
    if (!name[0] || strchr(name, '/') || strstr(name, ".."))
        return NULL;
    struct loaded *l = hmap_get(&t->cache, name);
    if (l)
        return l->text;
    for (char *const *d = t->dirs; d && *d; d++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", *d, name);
        char *text = read_small_file(path);
        if (!text)
            continue;
        l = calloc(1, sizeof(*l));
        struct loaded **all = realloc(t->all, (t->n + 1) * sizeof(*all));
        if (!l || !all) {
            free(l);
            free(text);
            if (all)
                t->all = all;
            return NULL;
        }
        t->all = all;
        l->name = strdup(name);
        l->text = text;
        if (!l->name || hmap_put(&t->cache, l->name, l) < 0) {
            free(l->name);
            free(l->text);
            free(l);
            return NULL;
        }
        t->all[t->n++] = l;
        return l->text;
    }
    const struct embedded_file *f = embedded_find(embedded_templates, name);
    return f ? (const char *)f->data : NULL;
}

struct render {
    struct page_templates *t;
    struct gm_buf *out;
    const json_t *stack[MAX_DEPTH];
    size_t depth;
    int includes;
    char *err;
    size_t errlen;
};

/* Look a dotted name up through the context stack (innermost first). */
static const json_t *resolve(const struct render *r, const char *name, size_t n)
{
    if (n == 1 && name[0] == '.')
        return r->stack[r->depth - 1];
    char first[128];
    size_t dot = 0;
    while (dot < n && name[dot] != '.')
        dot++;
    if (dot >= sizeof(first))
        return NULL;
    memcpy(first, name, dot);
    first[dot] = '\0';
    const json_t *v = NULL;
    for (size_t i = r->depth; i-- > 0 && !v;)
        v = json_object_get(r->stack[i], first);
    while (v && dot < n) {
        size_t start = dot + 1, end = start;
        while (end < n && name[end] != '.')
            end++;
        char part[128];
        if (end - start >= sizeof(part))
            return NULL;
        memcpy(part, name + start, end - start);
        part[end - start] = '\0';
        v = json_object_get(v, part);
        dot = end;
    }
    return v;
}

static bool truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    default:
        return false;
    }
}

static int emit_value(struct render *r, const json_t *v, bool escape)
{
    char num[64];
    const char *s = NULL;
    if (!v)
        return 0;
    switch (json_typeof(v)) {
    case JSON_STRING:
        s = json_string_value(v);
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = num;
        break;
    case JSON_REAL:
        snprintf(num, sizeof(num), "%g", json_real_value(v));
        s = num;
        break;
    case JSON_TRUE:
        s = "true";
        break;
    case JSON_FALSE:
        s = "false";
        break;
    default:
        return 0; /* missing, null, objects and lists render as nothing */
    }
    return escape ? gm_buf_html_escape(r->out, s) : gm_buf_puts(r->out, s);
}

static int render_text(struct render *r, const char *p, const char *end);

/* The end of the section opened as @name at @p: returns where {{/name}} starts and sets
 * *after past it. Nested sections of the same name are counted. */
static const char *find_close(const char *p, const char *end, const char *name, size_t n,
                              const char **after)
{
    int level = 1;
    while (p < end) {
        const char *tag = strstr(p, "{{");
        if (!tag || tag >= end)
            return NULL;
        const char *close = strstr(tag + 2, "}}");
        if (!close || close > end)
            return NULL;
        const char *in = tag + 2;
        while (in < close && *in == ' ')
            in++;
        char kind = *in;
        if (kind == '#' || kind == '^' || kind == '/') {
            const char *nm = in + 1;
            while (nm < close && *nm == ' ')
                nm++;
            const char *nme = close;
            while (nme > nm && nme[-1] == ' ')
                nme--;
            if ((size_t)(nme - nm) == n && memcmp(nm, name, n) == 0) {
                if (kind == '/') {
                    if (--level == 0) {
                        *after = close + 2;
                        return tag;
                    }
                } else {
                    level++;
                }
            }
        }
        p = close + 2;
    }
    return NULL;
}

static int render_text(struct render *r, const char *p, const char *end)
{
    while (p < end) {
        const char *tag = strstr(p, "{{");
        if (!tag || tag >= end)
            return gm_buf_append(r->out, p, (size_t)(end - p)) < 0 ? -E2BIG : 0;
        if (gm_buf_append(r->out, p, (size_t)(tag - p)) < 0)
            return -E2BIG;
        bool triple = tag + 2 < end && tag[2] == '{';
        const char *close = strstr(tag + (triple ? 3 : 2), triple ? "}}}" : "}}");
        if (!close || close >= end) {
            snprintf(r->err, r->errlen, "a {{ tag is not closed");
            return -EINVAL;
        }
        const char *in = tag + (triple ? 3 : 2);
        const char *after = close + (triple ? 3 : 2);
        while (in < close && *in == ' ')
            in++;
        char kind = triple ? '&' : *in;
        if (!triple && strchr("#^/!>&", kind))
            in++;
        while (in < close && *in == ' ')
            in++;
        const char *ne = close;
        while (ne > in && ne[-1] == ' ')
            ne--;
        size_t n = (size_t)(ne - in);
        int rc = 0;
        switch (kind) {
        case '!':
            break;
        case '/':
            snprintf(r->err, r->errlen, "{{/%.*s}} closes nothing", (int)n, in);
            return -EINVAL;
        case '>': {
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(n < 255 ? n : 255), in);
            const char *text = lookup(r->t, name);
            if (!text) {
                snprintf(r->err, r->errlen, "{{> %s}}: there is no template of that name", name);
                return -ENOENT;
            }
            if (++r->includes > 64 || r->depth >= MAX_DEPTH) {
                snprintf(r->err, r->errlen, "templates include each other too deeply");
                return -E2BIG;
            }
            rc = render_text(r, text, text + strlen(text));
            break;
        }
        case '#':
        case '^': {
            const char *body_end_after;
            const char *body_end = find_close(after, end, in, n, &body_end_after);
            if (!body_end) {
                snprintf(r->err, r->errlen, "section {{%c%.*s}} is not closed", kind, (int)n, in);
                return -EINVAL;
            }
            const json_t *v = resolve(r, in, n);
            if (kind == '^') {
                if (!truthy(v))
                    rc = render_text(r, after, body_end);
            } else if (truthy(v)) {
                if (r->depth >= MAX_DEPTH) {
                    snprintf(r->err, r->errlen, "sections are nested too deeply");
                    return -E2BIG;
                }
                if (json_is_array(v)) {
                    size_t i;
                    json_t *item;
                    json_array_foreach(v, i, item)
                    {
                        r->stack[r->depth++] = item;
                        rc = render_text(r, after, body_end);
                        r->depth--;
                        if (rc < 0)
                            break;
                    }
                } else {
                    const json_t *scope = json_is_object(v) ? v : r->stack[r->depth - 1];
                    r->stack[r->depth++] = scope;
                    rc = render_text(r, after, body_end);
                    r->depth--;
                }
            }
            after = body_end_after;
            break;
        }
        default:
            rc = emit_value(r, resolve(r, in, n), kind != '&');
            if (rc < 0)
                rc = -E2BIG;
        }
        if (rc < 0)
            return rc;
        p = after;
    }
    return 0;
}

int page_render(struct page_templates *t, const char *name, const json_t *ctx, struct gm_buf *out,
                char *err, size_t errlen)
{
    const char *text = lookup(t, name);
    if (!text) {
        snprintf(err, errlen, "no template named %s", name);
        return -ENOENT;
    }
    struct render r = {.t = t, .out = out, .depth = 1, .err = err, .errlen = errlen};
    r.stack[0] = ctx;
    int rc = render_text(&r, text, text + strlen(text));
    if (rc == -E2BIG && !err[0])
        snprintf(err, errlen, "the page is larger than allowed");
    return rc;
}
