/* Files compiled into the binary by tools/embed.c (migrations, web templates and assets). */
#pragma once

#include <stddef.h>

struct embedded_file {
    const char *name;          /* path relative to its folder, e.g. "001_jupyterhub_5_schema.sql" */
    const unsigned char *data; /* NUL-terminated */
    size_t len;
};

/** Find @name in a {NULL}-terminated table. */
const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name);
