/* Reading small files whole (a token, a kubeconfig, a mounted secret) without hanging the loop
 * on a FIFO in a file's place. Implemented once, in src/util/file.c. */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

/** Read the regular file @path of at most @max bytes: *@ret is NUL-terminated (caller frees),
 * *@len its length (@len may be NULL) and *@st its status (@st may be NULL). Returns 0 or a
 * negative errno: -ENOENT, -EFBIG (over @max, also when it grew while read), -EISDIR (not a
 * regular file), -ENOMEM, or what open/read said. *@ret is written only on success. */
int gm_file_read(const char *path, size_t max, char **ret, size_t *len, struct stat *st);
