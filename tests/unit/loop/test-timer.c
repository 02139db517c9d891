/* gm_timer on a real loop: one-shot and repeating timers, stop from inside the callback,
 * restart, self-freeing one-shots, and a loop that closes with nothing left behind. */
#include "test.h"

#include <ganymede/timer.h>

struct count {
    int fired;
    int stop_at;
    struct gm_timer *timer;
};

static void on_fire(void *data)
{
    struct count *c = data;
    c->fired++;
    if (c->stop_at && c->fired == c->stop_at) {
        gm_timer_stop(c->timer);
        c->timer = NULL;
    }
}

static void close_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_eq(uv_loop_close(loop), 0);
}

static void test_one_shot_and_repeat(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct count once = {0}, rep = {.stop_at = 3}, free_once = {0};
    assert_int_eq(gm_timer_start(&loop, 5, 0, on_fire, &once, &once.timer), 0);
    assert_int_eq(gm_timer_start(&loop, 1, 2, on_fire, &rep, &rep.timer), 0);
    assert_int_eq(gm_timer_start(&loop, 0, 0, on_fire, &free_once, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT); /* the owned one-shot keeps no reference: the loop ends */
    assert_int_eq(once.fired, 1);
    assert_int_eq(rep.fired, 3); /* stopped from its own callback */
    assert_int_eq(free_once.fired, 1);
    /* A fired one-shot can be started again, then is stopped and freed by its owner. */
    assert_int_eq(gm_timer_restart(once.timer, 1, 0), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_eq(once.fired, 2);
    gm_timer_stop(once.timer);
    gm_timer_stop(NULL);
    close_loop(&loop);
}

static void test_stopped_timer_never_fires(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct count c = {0};
    assert_int_eq(gm_timer_start(&loop, 0, 0, on_fire, &c, &c.timer), 0);
    gm_timer_stop(c.timer);
    close_loop(&loop);
    assert_int_eq(c.fired, 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct count c = {0};
    /* A repeating timer nobody could stop, and missing callback or loop. */
    assert_int_eq(gm_timer_start(&loop, 0, 10, on_fire, &c, NULL), -EINVAL);
    assert_int_eq(gm_timer_start(&loop, 0, 0, NULL, &c, &c.timer), -EINVAL);
    assert_int_eq(gm_timer_start(NULL, 0, 0, on_fire, &c, &c.timer), -EINVAL);
    assert_int_eq(gm_timer_restart(NULL, 0, 0), -EINVAL);
    close_loop(&loop);
    assert_int_eq(c.fired, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_shot_and_repeat),
        cmocka_unit_test(test_stopped_timer_never_fires),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
