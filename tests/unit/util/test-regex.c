#include "test.h"

#include <errno.h>
#include <ganymede/regex.h>
#include <stdlib.h>
#include <string.h>

/* re.search(@pattern, @subject) is @want (1 match, 0 none), as Python answers it. */
static void search_is(const char *pattern, const char *subject, int want)
{
    struct gm_regex *re = NULL;
    char err[200] = "";
    assert_int_equal(gm_regex_compile(pattern, &re, err, sizeof(err)), 0);
    int r = gm_regex_search(re, subject, NULL, 0);
    if (r != want)
        fail_msg("re.search(%s, %s) gave %d, not %d", pattern, subject, r, want);
    gm_regex_free(re);
}

/* batchspawner's SlurmSpawner defaults on squeue's output. */
static void test_batchspawner_defaults(void **state)
{
    search_is("^(?:PENDING|CONFIGURING)", "PENDING n/a", 1);
    search_is("^(?:PENDING|CONFIGURING)", "RUNNING node1", 0);
    search_is("^(?:RUNNING|COMPLETING)", "COMPLETING node1", 1);
    search_is("^slurm_load_jobs error: (?:Socket timed out on send/recv|Unable to contact slurm "
              "controller)",
              "slurm_load_jobs error: Unable to contact slurm controller (connect failure)", 1);
    struct gm_regex *re = NULL;
    char err[200];
    assert_int_equal(gm_regex_compile("\\s+((?:[\\w_-]+\\.?)+)$", &re, err, sizeof(err)), 0);
    assert_int_equal(gm_regex_groups(re), 1);
    struct gm_regex_group g[2];
    const char *s = "RUNNING node-7.cluster.example.org";
    assert_int_equal(gm_regex_search(re, s, g, 2), 1);
    assert_int_equal(g[1].start, 8);
    assert_int_equal(g[1].end, (long)strlen(s));
    assert_int_equal(gm_regex_search(re, "PENDING", g, 2), 0);
    gm_regex_free(re);
}

static void test_python_syntax(void **state)
{
    search_is("(?i)^jupyter", "JupyterLab", 1);
    search_is("^a+?b$", "aaab", 1);
    search_is("(?P<state>RUNNING) (?P=state)", "RUNNING RUNNING", 1);
    search_is("^\\d{3}$", "123", 1);
    search_is("^\\d{3}$", "12a", 0);
    search_is("foo(?=bar)", "foobar", 1);
    search_is("^\\w+$", "jos\xc3\xa9", 1); /* Unicode words, as Python 3's str patterns */
    search_is("^.$", "\xc3\xa9", 1);       /* one character, two bytes */
    search_is("end$", "the end\n", 1);     /* $ before a final newline, as Python's */
}

static void test_match_anchored(void **state)
{
    struct gm_regex *re = NULL;
    char err[200];
    assert_int_equal(gm_regex_compile("b", &re, err, sizeof(err)), 0);
    assert_int_equal(gm_regex_match(re, "abc", NULL, 0), 0);
    assert_int_equal(gm_regex_match(re, "bc", NULL, 0), 1);
    assert_int_equal(gm_regex_search(re, "abc", NULL, 0), 1);
    gm_regex_free(re);
}

static void compile_fails(const char *pattern, const char *part)
{
    struct gm_regex *re = NULL;
    char err[300] = "";
    assert_int_equal(gm_regex_compile(pattern, &re, err, sizeof(err)), -EINVAL);
    assert_null(re);
    if (!strstr(err, part))
        fail_msg("compiling '%s': '%s' does not say '%s'", pattern, err, part);
}

static void test_bad_patterns(void **state)
{
    compile_fails("^(open", "missing closing parenthesis");
    compile_fails("[a-", "missing terminating ]");
    compile_fails("a{2,1}", "out of order");
    compile_fails("^[[:alpha:]]$", "means characters to Python");
    compile_fails("x[^a[=b]", "[=");
    char *big = malloc(GM_REGEX_MAX + 2);
    memset(big, 'a', GM_REGEX_MAX + 1);
    big[GM_REGEX_MAX + 1] = '\0';
    compile_fails(big, "longer than");
    free(big);
    /* Escaped, "[:" is the same characters to both. */
    search_is("^[\\[:a]+$", "[:a", 1);
}

/* A pattern that backtracks exponentially gives up instead of hanging the loop; a subject
 * that is not UTF-8 is refused. */
static void test_limits(void **state)
{
    struct gm_regex *re = NULL;
    char err[200];
    assert_int_equal(gm_regex_compile("^(a+)+$", &re, err, sizeof(err)), 0);
    char subject[64];
    memset(subject, 'a', 40);
    strcpy(subject + 40, "!");
    assert_int_equal(gm_regex_search(re, subject, NULL, 0), -E2BIG);
    assert_int_equal(gm_regex_search(re, "a\xff", NULL, 0), -EINVAL);
    gm_regex_free(re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batchspawner_defaults),
        cmocka_unit_test(test_python_syntax),
        cmocka_unit_test(test_match_anchored),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
