/* Keeping the process's resident memory to what it uses. Most of a small C server's resident
 * set is not its data but the pages of shared libraries it touched once while starting
 * (libcrypto's and libc's initialisation, the dynamic loader's relocations), plus the pages
 * the kernel maps around each fault ("fault-around", 64 KiB). */
#pragma once

#include <stddef.h>

/** Stop fault-around on the read-only file mappings (code and constants of the program and
 * its libraries) and drop their pages from this process's page tables: they stay in the page
 * cache, shared, and come back one page at a time when used. Mappings with private modified
 * pages (relocated data) are left alone. Returns the kilobytes released (as counted by the
 * kernel before the call), or 0 when /proc is not readable. */
size_t resident_release_file_pages(void);
