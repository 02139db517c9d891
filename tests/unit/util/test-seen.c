/* include/ganymede/seen.h: replays within the window, keys forgotten after it, the oldest
 * forgotten first when full, and keys too long. */
#include "test.h"

#include <errno.h>
#include <ganymede/seen.h>
#include <stdio.h>
#include <string.h>

static void test_replay_within_the_window(void **state)
{
    (void)state;
    struct gm_seen *s = NULL;
    assert_int_equal(gm_seen_new(8, 60, &s), 0);
    assert_int_equal(gm_seen_check_add(s, "n1", 1000), 0);
    assert_int_equal(gm_seen_check_add(s, "n1", 1000), 1);
    assert_int_equal(gm_seen_check_add(s, "n1", 1059), 1);
    assert_int_equal(gm_seen_check_add(s, "n2", 1059), 0);
    /* After the window: new again, and remembered from then on. */
    assert_int_equal(gm_seen_check_add(s, "n1", 1060), 0);
    assert_int_equal(gm_seen_check_add(s, "n1", 1100), 1);
    assert_int_equal(gm_seen_count(s), 2);
    gm_seen_free(s);
}

static void test_full_set_forgets_the_oldest(void **state)
{
    (void)state;
    struct gm_seen *s = NULL;
    assert_int_equal(gm_seen_new(3, 600, &s), 0);
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(gm_seen_check_add(s, key, 10), 0);
        assert_true(gm_seen_count(s) <= 3);
    }
    assert_int_equal(gm_seen_check_add(s, "k99", 10), 1);
    assert_int_equal(gm_seen_check_add(s, "k97", 10), 1);
    assert_int_equal(gm_seen_check_add(s, "k96", 10), 0); /* dropped when k99 came */
    gm_seen_free(s);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct gm_seen *s = NULL;
    assert_int_equal(gm_seen_new(0, 60, &s), -EINVAL);
    assert_int_equal(gm_seen_new(4, 0, &s), -EINVAL);
    assert_int_equal(gm_seen_new(4, 60, &s), 0);
    char big[GM_SEEN_KEY_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(gm_seen_check_add(s, big, 1), -E2BIG);
    big[GM_SEEN_KEY_MAX] = '\0'; /* the longest kept */
    assert_int_equal(gm_seen_check_add(s, big, 1), 0);
    assert_int_equal(gm_seen_check_add(s, big, 1), 1);
    assert_int_equal(gm_seen_check_add(s, "", 1), -EINVAL);
    gm_seen_free(s);
    gm_seen_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_within_the_window),
        cmocka_unit_test(test_full_set_forgets_the_oldest),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
