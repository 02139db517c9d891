/* Static files compiled in from web/static (/hub/static/...), and the logo (/hub/logo, or
 * JupyterHub.logo_file). Versioned URLs (?v=) are cached for a year, others revalidated: the
 * ETag is the version of all static files, so a revalidation costs a 304 without a body. */
#include "core/hub.h"
#include "pages/pages.h"
#include "util/embedded.h"
#include "util/str.h"

#include <errno.h>
#include <fcntl.h>
#include <ganymede/encode.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct embedded_file embedded_static[];

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".html", "text/html; charset=utf-8"},
        {".json", "application/json"},
        {".woff2", "font/woff2"},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
        if (str_has_suffix(name, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

void page_static_version(char out[17])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned len = sizeof(md);
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (const struct embedded_file *f = embedded_static; f->name; f++)
        EVP_DigestUpdate(ctx, f->data, f->len);
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    gm_hex_encode(md, 8, out, 17);
}

/* Whether an If-None-Match list ("a", W/"b", or *) names @etag. */
static bool etag_matches(const char *header, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " ,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static int respond_cached(struct http_request *req, const char *type, const void *data, size_t len)
{
    const char *etag = arena_printf(&req->arena, "\"%s\"", req->hub->static_version);
    if (!etag)
        return -ENOMEM;
    http_set_header(req, "ETag", etag);
    if (etag_matches(http_header(req, "If-None-Match"), etag))
        return http_respond_empty(req, 304);
    return http_respond(req, 200, type, data, len);
}

int page_static(struct http_request *req)
{
    const char *raw = req->params[0];
    size_t n = strlen(raw);
    char *name = arena_alloc(&req->arena, n + 1);
    if (!name || gm_url_decode(raw, n, name, n + 1, false) < 0 || !name[0] || name[0] == '/' ||
        strstr(name, "..") || strchr(name, '\\'))
        return http_error(req, 404, "Not Found");
    const struct embedded_file *f = embedded_find(embedded_static, name);
    if (!f)
        return http_error(req, 404, "No such file: %s", name);
    if (http_query(req, "v"))
        http_set_header(req, "Cache-Control", "max-age=31536000, public, immutable");
    else
        http_set_header(req, "Cache-Control", "no-cache");
    http_set_header(req, "X-Content-Type-Options", "nosniff");
    return respond_cached(req, content_type(name), f->data, f->len);
}

/* The type of JupyterHub.logo_file: by its name, as JupyterHub's LogoHandler does, else by
 * its first bytes, since the file is sent with nosniff and a browser draws no image it was told
 * is application/octet-stream. */
static const char *logo_type(const char *name, const unsigned char *data, size_t len)
{
    const char *type = content_type(name);
    if (strcmp(type, "application/octet-stream") != 0)
        return type;
    if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (len >= 3 && memcmp(data, "\xff\xd8\xff", 3) == 0)
        return "image/jpeg";
    if (len >= 4 && memcmp(data, "GIF8", 4) == 0)
        return "image/gif";
    if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return "image/webp";
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (len - i >= 5 && (memcmp(data + i, "<svg", 4) == 0 || memcmp(data + i, "<?xml", 5) == 0))
        return "image/svg+xml";
    return type;
}

int page_logo(struct http_request *req)
{
    struct hub *hub = req->hub;
    http_set_header(req, "X-Content-Type-Options", "nosniff");
    if (hub->logo.data) {
        http_set_header(req, "Cache-Control", "no-cache");
        return http_respond(
            req, 200,
            logo_type(hub->conf.logo_file, (const unsigned char *)hub->logo.data, hub->logo.len),
            hub->logo.data, hub->logo.len);
    }
    const struct embedded_file *f = embedded_find(embedded_static, "images/logo.svg");
    if (!f)
        return http_error(req, 404, "Not Found");
    http_set_header(req, "Cache-Control", "no-cache");
    return respond_cached(req, "image/svg+xml", f->data, f->len);
}
