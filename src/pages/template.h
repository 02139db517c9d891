/* The page template renderer: a small Mustache-like language over a JSON context.
 *
 *     {{name}} {{user.name}}   the value, HTML-escaped (missing values render as nothing)
 *     {{{name}}}               the value unescaped (for HTML prepared by the hub)
 *     {{#name}}...{{/name}}    a section: repeated for each item of a list, entered for an
 *                              object, shown once for other true values
 *     {{^name}}...{{/name}}    shown when the value is missing, false, empty or zero
 *     {{> other.html}}         another template inserted here
 *     {{! comment }}
 *
 * Templates are looked up by file name in JupyterHub.template_paths first, then in the set
 * compiled into the binary (web/templates). Rendering never fails on unknown variables;
 * nesting, includes and output size are capped. */
#pragma once

#include <ganymede/buf.h>

#include <jansson.h>
#include <stddef.h>

struct page_templates;

/** Create a renderer reading overrides from @dirs (NULL-terminated, may be NULL; borrowed). */
int page_templates_create(char *const *dirs, struct page_templates **ret);

void page_templates_free(struct page_templates *t);

/** Render template @name with @ctx into @out. Returns 0, or -ENOENT (no such template), -E2BIG
 * (output or nesting over the caps) or -EINVAL (an unclosed section), with a message. */
int page_render(struct page_templates *t, const char *name, const json_t *ctx, struct gm_buf *out,
                char *err, size_t errlen);
