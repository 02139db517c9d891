/* The toolkit's whole-file reads (include/ganymede/file.h). */
#include <ganymede/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int gm_file_read(const char *path, size_t max, char **ret, size_t *len, struct stat *st)
{
    /* O_NONBLOCK: a FIFO in a file's place must not hang the hub (regular files ignore it). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    int r = 0;
    char *buf = NULL;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        r = -errno;
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        r = -EISDIR;
        goto fail;
    }
    if ((uint64_t)sb.st_size > max) {
        r = -EFBIG;
        goto fail;
    }
    /* The size may change under us: read up to one byte past the cap to tell. */
    buf = malloc(max + 2);
    if (!buf) {
        r = -ENOMEM;
        goto fail;
    }
    size_t n = 0;
    while (n <= max) {
        ssize_t k = read(fd, buf + n, max + 1 - n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto fail;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > max) {
        r = -EFBIG;
        goto fail;
    }
    buf[n] = '\0';
    close(fd);
    *ret = buf;
    if (len)
        *len = n;
    if (st)
        *st = sb;
    return 0;
fail:
    free(buf);
    close(fd);
    return r;
}
