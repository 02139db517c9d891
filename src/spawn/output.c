/* The output of a local server in a file (spawn/output.h). Not a pipe to the hub: servers keep
 * running through a hub restart, and a pipe would break under them then (SIGPIPE, or output
 * lost). The file is the server's stdout and stderr, opened O_APPEND, so the server writes at
 * its end whatever the hub does; the hub reads it with pread from its own offset when inotify
 * says it changed (small reads of a local file, a bounded amount per loop iteration), passes
 * complete lines on to its log output, and empties the file with ftruncate once it is past the
 * cap and all of it was read (the appending writer goes on at the new end). */
#include "spawn/output.h"
#include "core/log.h"
#include "util/str.h"

#include <errno.h>
#include <fcntl.h>
#include <ganymede/template.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK      16384
#define READ_BUDGET     (1 << 20) /* bytes forwarded per loop iteration and server */
#define POLL_MS         1000      /* where the file cannot be watched */
#define CARRY_MAX       4096      /* a line longer than this is passed on in pieces */
#define NAME_MAX_BYTES  200       /* of a file name before it is cut and hashed */
#define NAME_CUT_BYTES  120
#define TAIL_WINDOW_MAX (64 << 10)

struct spawn_output {
    int fd;
    int64_t offset; /* forwarded up to here */
    int64_t cap;
    uv_fs_event_t event;
    uv_timer_t timer; /* more to read at once, or the poll where there is no watch */
    bool watching;
    bool stopped; /* drained: the server ended */
    int handles;
    size_t carry_len; /* the start of a line not yet ended */
    char carry[CARRY_MAX];
};

int spawn_output_dir(const char *state_dir, char **ret, char *err, size_t errlen)
{
    char *dir = NULL;
    if (!state_dir || asprintf(&dir, "%s/%s", state_dir, SPAWN_OUTPUT_DIR) < 0) {
        snprintf(err, errlen, "no state directory");
        return -ENOMEM;
    }
    struct stat st;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
        free(dir);
        return -e;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022)) {
        snprintf(err, errlen,
                 "%s must be a directory of the hub's user that only it can write (mode 0700)",
                 dir);
        free(dir);
        return -EPERM;
    }
    *ret = dir;
    return 0;
}

/* A file name for a name too long for one: its start, then "_" (never in an escaped name) and
 * the SHA-256 of all of it. */
static char *hashed_name(const char *name)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, name, strlen(name)) && EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    if (!ok || mdlen != sizeof(md))
        return NULL;
    char hex[65];
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    char *out = NULL;
    if (asprintf(&out, "%.*s_%s", NAME_CUT_BYTES, name, hex) < 0)
        return NULL;
    return out;
}

char *spawn_output_path(const char *dir, const char *user, const char *server)
{
    char *name = NULL;
    if (gm_slug_user_server(user, server, GM_SLUG_ESCAPE, &name) < 0)
        return NULL;
    if (strlen(name) > NAME_MAX_BYTES) {
        char *h = hashed_name(name);
        free(name);
        name = h;
        if (!name)
            return NULL;
    }
    char *path = NULL;
    int r = asprintf(&path, "%s/%s.log", dir, name);
    free(name);
    return r < 0 ? NULL : path;
}

int spawn_output_open(const char *path, bool start, int *ret_write, int *ret_read)
{
    int w = -1;
    if (start) {
        w = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (w < 0)
            return -errno;
    }
    int r = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (r < 0) {
        int e = errno;
        if (w >= 0)
            close(w);
        return -e;
    }
    struct stat st;
    if (fstat(r, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(r);
        if (w >= 0)
            close(w);
        return -EINVAL;
    }
    if (start)
        *ret_write = w;
    *ret_read = r;
    return 0;
}

/* Passing lines on. */

static void flush_carry(struct spawn_output *o)
{
    if (!o->carry_len)
        return;
    o->carry[o->carry_len] = '\n'; /* carry_append leaves room for it */
    log_write_output(o->carry, o->carry_len + 1);
    o->carry_len = 0;
}

static void carry_append(struct spawn_output *o, const char *p, size_t n)
{
    while (n > 0) {
        size_t room = CARRY_MAX - 1 - o->carry_len;
        size_t k = n < room ? n : room;
        memcpy(o->carry + o->carry_len, p, k);
        o->carry_len += k;
        p += k;
        n -= k;
        if (o->carry_len == CARRY_MAX - 1) {
            o->carry[o->carry_len] = '\n';
            log_write_output(o->carry, o->carry_len + 1);
            o->carry_len = 0;
        }
    }
}

/* Whole lines go on as they are; the start of an unfinished one waits in carry. */
static void forward(struct spawn_output *o, const char *p, size_t n)
{
    const char *first = memchr(p, '\n', n);
    if (!first) {
        carry_append(o, p, n);
        return;
    }
    if (o->carry_len) {
        size_t seg = (size_t)(first - p) + 1;
        if (o->carry_len + seg <= CARRY_MAX) {
            memcpy(o->carry + o->carry_len, p, seg);
            log_write_output(o->carry, o->carry_len + seg);
            o->carry_len = 0;
        } else {
            log_write_output(o->carry, o->carry_len);
            log_write_output(p, seg);
            o->carry_len = 0;
        }
        p += seg;
        n -= seg;
    }
    const char *last = n ? memrchr(p, '\n', n) : NULL;
    if (last) {
        size_t whole = (size_t)(last - p) + 1;
        log_write_output(p, whole);
        p += whole;
        n -= whole;
    }
    carry_append(o, p, n);
}

/* Forward up to @budget bytes of what is new; empty the file once past the cap. Returns whether
 * more is waiting. */
static bool read_some(struct spawn_output *o, int64_t budget)
{
    struct stat st;
    if (o->fd < 0 || fstat(o->fd, &st) < 0)
        return false;
    if (st.st_size < o->offset) {
        /* Emptied (by us before a restart, or by the server): go on from the start. */
        flush_carry(o);
        o->offset = 0;
    }
    char chunk[READ_CHUNK];
    while (o->offset < st.st_size && budget > 0) {
        int64_t want = st.st_size - o->offset;
        size_t n = want < (int64_t)sizeof(chunk) ? (size_t)want : sizeof(chunk);
        ssize_t got = pread(o->fd, chunk, n, o->offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        o->offset += got;
        budget -= got;
        forward(o, chunk, (size_t)got);
    }
    if (o->offset < st.st_size)
        return true;
    if (o->offset >= o->cap) {
        /* Only if nothing came since the fstat above; else the next round reads it first. */
        if (fstat(o->fd, &st) == 0 && st.st_size == o->offset && ftruncate(o->fd, 0) == 0) {
            flush_carry(o);
            o->offset = 0;
        }
        return st.st_size > o->offset;
    }
    return false;
}

/* Forward all there is now. A few rounds only: a server that still writes (the hub is stopping)
 * could otherwise keep the hub reading forever. */
static void catch_up(struct spawn_output *o)
{
    for (int round = 0; round < 4 && read_some(o, INT64_MAX); round++)
        ;
}

static void on_timer(uv_timer_t *t);

static void pump(struct spawn_output *o)
{
    if (o->stopped)
        return;
    bool more = read_some(o, READ_BUDGET);
    if (more)
        uv_timer_start(&o->timer, on_timer, 0, 0); /* let the loop serve others first */
    else if (!o->watching)
        uv_timer_start(&o->timer, on_timer, POLL_MS, 0);
}

static void on_timer(uv_timer_t *t)
{
    pump(t->data);
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)filename;
    struct spawn_output *o = h->data;
    if (status < 0 || (events & UV_RENAME)) {
        /* Moved or deleted: the descriptor still reads it, the watch does not follow. */
        uv_fs_event_stop(h);
        o->watching = false;
    }
    pump(o);
}

int spawn_output_follow(uv_loop_t *loop, int fd, const char *path, bool from_end, int64_t cap,
                        struct spawn_output **ret)
{
    struct spawn_output *o = calloc(1, sizeof(*o));
    if (!o) {
        close(fd);
        return -ENOMEM;
    }
    o->fd = fd;
    o->cap = cap > 0 ? cap : SPAWN_OUTPUT_CAP;
    struct stat st;
    if (from_end && fstat(fd, &st) == 0) {
        o->offset = st.st_size;
        if (o->offset >= o->cap && ftruncate(fd, 0) == 0)
            o->offset = 0;
    }
    uv_timer_init(loop, &o->timer);
    o->timer.data = o;
    o->handles++;
    uv_fs_event_init(loop, &o->event);
    o->event.data = o;
    o->handles++;
    o->watching = uv_fs_event_start(&o->event, on_event, path, 0) == 0;
    if (!o->watching)
        gm_log_debug("Cannot watch %s; reading it every %d ms", path, POLL_MS);
    pump(o);
    *ret = o;
    return 0;
}

void spawn_output_drain(struct spawn_output *o)
{
    if (!o || o->stopped)
        return;
    catch_up(o);
    flush_carry(o);
    o->stopped = true;
    uv_timer_stop(&o->timer);
    if (o->watching)
        uv_fs_event_stop(&o->event);
    o->watching = false;
}

/* The tail. */

/* The length of the UTF-8 character at @p (of @n bytes), or 0 when it is not one: no overlong
 * forms, surrogates or code points past U+10FFFF, as jansson checks. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* @data as text for a message (see spawn_output_tail_text) into @out (room for @len bytes). */
static size_t clean_text(const unsigned char *p, size_t len, bool cut, char *out)
{
    size_t i = 0, o = 0;
    while (cut && i < len && (p[i] & 0xc0) == 0x80)
        i++; /* the end of a character the window cut */
    while (i < len) {
        unsigned char c = p[i];
        if (c == 0x1b) {
            /* ESC [ parameters final (colours, cursor moves), or ESC and one byte. */
            i++;
            if (i < len && p[i] == '[') {
                i++;
                while (i < len && (p[i] < 0x40 || p[i] > 0x7e))
                    i++;
            }
            i += i < len;
            continue;
        }
        if (c == '\r') {
            if (!(i + 1 < len && p[i + 1] == '\n'))
                out[o++] = '\n';
            i++;
            continue;
        }
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            i++;
            continue;
        }
        size_t n = utf8_len(p + i, len - i);
        if (n == 0) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, p + i, n);
        o += n;
        i += n;
    }
    return o;
}

size_t spawn_output_tail_text(const char *data, size_t len, bool cut, int max_lines, char *out,
                              size_t outlen)
{
    if (outlen == 0)
        return 0;
    out[0] = '\0';
    if (outlen < 8)
        return 0;
    char *t = malloc(len + 1);
    if (!t)
        return 0;
    size_t end = clean_text((const unsigned char *)data, len, cut, t);
    while (end && (t[end - 1] == '\n' || t[end - 1] == ' ' || t[end - 1] == '\t'))
        end--;
    size_t first = 0;
    while (first < end && t[first] == '\n')
        first++;
    if (first > 0)
        cut = false; /* the window started at a line break: its first line is whole */
    size_t start = end;
    int lines = 0;
    while (start > first) {
        if (t[start - 1] == '\n' && ++lines >= max_lines)
            break;
        start--;
    }
    bool dots = cut && start == first;
    size_t room = outlen - 1;
    if ((dots ? 3 : 0) + (end - start) > room) {
        dots = true;
        start = end - (room - 3);
        while (start < end && ((unsigned char)t[start] & 0xc0) == 0x80)
            start++; /* not in the middle of a character */
    }
    size_t n = 0;
    if (dots) {
        memcpy(out, "...", 3);
        n = 3;
    }
    memcpy(out + n, t + start, end - start);
    n += end - start;
    out[n] = '\0';
    free(t);
    return n;
}

int spawn_output_tail(struct spawn_output *o, int max_lines, char *out, size_t outlen)
{
    if (!o || o->fd < 0 || outlen < 8)
        return -ENOENT;
    if (!o->stopped)
        catch_up(o); /* so that the log has it all before the message that quotes it */
    struct stat st;
    if (fstat(o->fd, &st) < 0)
        return -errno;
    size_t window = outlen - 1 < TAIL_WINDOW_MAX ? outlen - 1 : TAIL_WINDOW_MAX;
    int64_t from = st.st_size > (int64_t)window ? st.st_size - (int64_t)window : 0;
    size_t want = (size_t)(st.st_size - from);
    char *buf = malloc(want + 1);
    if (!buf)
        return -ENOMEM;
    size_t have = 0;
    while (have < want) {
        ssize_t got = pread(o->fd, buf + have, want - have, from + (int64_t)have);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        have += (size_t)got;
    }
    size_t n = spawn_output_tail_text(buf, have, from > 0, max_lines, out, outlen);
    free(buf);
    return (int)n;
}

static void on_closed(uv_handle_t *h)
{
    struct spawn_output *o = h->data;
    if (--o->handles == 0)
        free(o);
}

void spawn_output_free(struct spawn_output *o)
{
    if (!o)
        return;
    spawn_output_drain(o);
    close(o->fd);
    o->fd = -1;
    uv_close((uv_handle_t *)&o->timer, on_closed);
    uv_close((uv_handle_t *)&o->event, on_closed);
}
