#include "test.h"

#include <errno.h>
#include <ganymede/shell.h>
#include <stdlib.h>
#include <string.h>

static void check_quote(const char *word, const char *want)
{
    char *s = NULL;
    assert_int_equal(gm_shell_quote(word, &s), 0);
    assert_string_equal(s, want);
    free(s);
}

/* The results of Python's shlex.quote for the same words. */
static void test_quote(void **state)
{
    check_quote("jupyterhub-singleuser", "jupyterhub-singleuser");
    check_quote("--port=8888", "--port=8888");
    check_quote("a/b.c,d:e@f%g+h_i", "a/b.c,d:e@f%g+h_i");
    check_quote("", "''");
    check_quote("two words", "'two words'");
    check_quote("it's", "'it'\"'\"'s'");
    check_quote("$HOME", "'$HOME'");
    check_quote("a;rm -rf /", "'a;rm -rf /'");
    check_quote("new\nline", "'new\nline'");
}

static void test_join(void **state)
{
    char *s = NULL;
    const char *argv[] = {"python3", "-c", "print('hi')", "", NULL};
    assert_int_equal(gm_shell_join(argv, &s), 0);
    assert_string_equal(s, "python3 -c 'print('\"'\"'hi'\"'\"')' ''");
    free(s);
    const char *none[] = {NULL};
    assert_int_equal(gm_shell_join(none, &s), 0);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(gm_shell_join(NULL, &s), -EINVAL);
}

static void test_caps(void **state)
{
    char *big = malloc(GM_SHELL_MAX / 2 + 1);
    memset(big, '\'', GM_SHELL_MAX / 2);
    big[GM_SHELL_MAX / 2] = '\0';
    char *s = NULL;
    assert_int_equal(gm_shell_quote(big, &s), -E2BIG); /* each ' takes 5 bytes */
    memset(big, 'a', GM_SHELL_MAX / 2);
    const char *two[] = {big, big, big, NULL};
    assert_int_equal(gm_shell_join(two, &s), -E2BIG);
    const char *one[] = {big, NULL};
    assert_int_equal(gm_shell_join(one, &s), 0);
    assert_int_equal(strlen(s), GM_SHELL_MAX / 2);
    free(s);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_quote), cmocka_unit_test(test_join),
                                       cmocka_unit_test(test_caps)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
