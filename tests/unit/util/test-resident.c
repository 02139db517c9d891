/* Dropping code pages keeps the program working and shrinks the resident set. */
#include "test.h"
#include "util/resident.h"

#include <stdio.h>
#include <stdlib.h>

/* Resident file-backed kilobytes, from /proc/self/status. */
static long rss_file_kb(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "RssFile: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void test_release_and_keep_working(void **state)
{
    (void)state;
    long before = rss_file_kb();
    size_t released = resident_release_file_pages();
    long after = rss_file_kb();
    assert_true(released > 0);
    assert_true(after < before);
    /* Code and constants come back on use: libc, this program and its relocated data. */
    char buf[64];
    snprintf(buf, sizeof(buf), "%d-%s", 42, "ok");
    assert_string_equal(buf, "42-ok");
    void *p = malloc(100);
    assert_non_null(p);
    free(p);
    /* Twice is fine. */
    resident_release_file_pages();
    assert_string_equal(buf, "42-ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_and_keep_working),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
