/* Reads /proc/self/smaps; madvise() on read-only, unmodified file mappings. */
#include "util/resident.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

struct mapping {
    uintptr_t start, end;
    bool candidate; /* read-only, file-backed */
    size_t rss_kb;
    size_t anon_kb;
};

static size_t release(const struct mapping *m)
{
    if (!m->candidate || m->anon_kb || !m->rss_kb)
        return 0;
    void *p = (void *)m->start;
    size_t len = m->end - m->start;
    madvise(p, len, MADV_RANDOM);
    return madvise(p, len, MADV_DONTNEED) == 0 ? m->rss_kb : 0;
}

size_t resident_release_file_pages(void)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f)
        return 0;
    char line[1024];
    struct mapping m = {0};
    bool have = false;
    size_t released = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long start, end, inode;
        char perms[8], path[512] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %511s", &start, &end, perms, &inode, path) >= 4) {
            if (have)
                released += release(&m);
            have = true;
            m = (struct mapping){
                .start = start,
                .end = end,
                .candidate = inode != 0 && path[0] == '/' && perms[1] == '-' && perms[3] == 'p',
            };
            continue;
        }
        unsigned long kb;
        if (sscanf(line, "Rss: %lu kB", &kb) == 1)
            m.rss_kb = kb;
        else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1)
            m.anon_kb = kb;
    }
    if (have)
        released += release(&m);
    fclose(f);
    return released;
}
