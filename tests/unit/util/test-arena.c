#include "test.h"
#include "util/arena.h"

#include <stdint.h>

static void test_small_and_large(void **state)
{
    char initial[64];
    struct arena a;
    arena_init(&a, initial, sizeof(initial), 1 << 20);
    char *s = arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    assert_true(s >= initial && s < initial + sizeof(initial));
    /* Beyond the first block, memory comes from the heap and stays aligned. */
    for (int i = 0; i < 100; i++) {
        void *p = arena_alloc(&a, 100);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, 100);
    }
    void *big = arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    char *f = arena_printf(&a, "%d-%s", 7, "x");
    assert_string_equal(f, "7-x");
    arena_free(&a);
}

static void test_cap(void **state)
{
    struct arena a;
    arena_init(&a, NULL, 0, 1000);
    assert_non_null(arena_alloc(&a, 500));
    assert_null(arena_alloc(&a, 600));
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_small_and_large),
                                       cmocka_unit_test(test_cap)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
