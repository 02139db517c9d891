/* gm_command_run on a real loop: stdin in, stdout and stderr out under their caps, the exit
 * status, the environment and directory, timeouts that terminate then kill, a command that
 * leaves a child holding its output, cancellation, and refusals that never call back. */
#include "test.h"

#include <ganymede/command.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

struct seen {
    int calls;
    int error;
    int exit_status;
    char out[256];
    char err[256];
    size_t out_len;
    bool out_truncated;
    char message[128];
};

static void on_done(void *data, const struct gm_command_result *res)
{
    struct seen *s = data;
    s->calls++;
    s->error = res->error;
    s->exit_status = res->exit_status;
    s->out_len = res->out_len;
    s->out_truncated = res->out_truncated;
    assert_int_eq(strlen(res->out) <= res->out_len, 1);
    snprintf(s->out, sizeof(s->out), "%s", res->out);
    snprintf(s->err, sizeof(s->err), "%s", res->err);
    snprintf(s->message, sizeof(s->message), "%s", res->message);
}

static int run(struct gm_command_request *req, struct seen *s)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    int r = gm_command_run(&loop, req, on_done, s, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_eq(uv_loop_close(&loop), 0);
    return r;
}

static void test_stdin_to_stdout(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_command_request req = {.argv = (const char *const[]){"cat", NULL},
                                     .stdin_data = "#!/bin/bash\nhello\n",
                                     .stdin_len = 18};
    assert_int_eq(run(&req, &s), 0);
    assert_int_eq(s.calls, 1);
    assert_int_eq(s.error, 0);
    assert_int_eq(s.exit_status, 0);
    assert_string_equal(s.out, "#!/bin/bash\nhello\n");
    assert_string_equal(s.err, "");
    assert_string_equal(s.message, "exited with status 0");
}

static void test_shell_line_status_and_streams(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_command_request req = {.command = "echo out; echo err >&2; exit 3"};
    assert_int_eq(run(&req, &s), 0);
    assert_int_eq(s.calls, 1);
    assert_int_eq(s.error, 0);
    assert_int_eq(s.exit_status, 3);
    assert_string_equal(s.out, "out\n");
    assert_string_equal(s.err, "err\n");
    assert_string_equal(s.message, "exited with status 3");
}

static void test_environment_and_directory(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_command_request req = {
        .command = "echo \"$FOO:$(pwd)\"",
        .env = (const char *const[]){"FOO=bar baz", "PATH=/usr/bin:/bin", NULL},
        .cwd = "/tmp",
    };
    assert_int_eq(run(&req, &s), 0);
    assert_string_equal(s.out, "bar baz:/tmp\n");
}

static void test_output_cap(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_command_request req = {.command = "head -c 300000 /dev/zero | tr '\\0' x",
                                     .max_output = 1000};
    assert_int_eq(run(&req, &s), 0);
    assert_int_eq(s.exit_status, 0);
    assert_int_eq(s.out_len, 1000);
    assert_int_eq(s.out_truncated, 1);
}

static void test_timeout_terminates(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_command_request req = {.command = "sleep 30", .timeout_ms = 100};
    assert_int_eq(run(&req, &s), 0);
    assert_int_eq(s.calls, 1);
    assert_int_eq(s.error, -ETIMEDOUT);
    assert_int_eq(s.exit_status, 128 + SIGTERM);
    assert_string_equal(s.message, "ended after 0.1 s (timeout)");
}

static void test_timeout_kills_what_ignores_sigterm(void **state)
{
    (void)state;
    struct seen s = {0};
    /* The shell and its sleep both ignore SIGTERM; the group gets SIGKILL after the grace. */
    struct gm_command_request req = {.command = "trap '' TERM; sleep 30; echo survived",
                                     .timeout_ms = 100,
                                     .kill_grace_ms = 100};
    assert_int_eq(run(&req, &s), 0);
    assert_int_eq(s.error, -ETIMEDOUT);
    assert_int_eq(s.exit_status, 128 + SIGKILL);
    assert_string_equal(s.out, "");
}

static void test_child_left_holding_the_output(void **state)
{
    (void)state;
    struct seen s = {0};
    /* The background sleep keeps stdout open after the shell exits: the run still completes,
     * with what was written before the exit. */
    struct gm_command_request req = {.command = "sleep 3 & echo started"};
    uint64_t t0 = uv_hrtime();
    assert_int_eq(run(&req, &s), 0);
    assert_int_eq(s.calls, 1);
    assert_string_equal(s.out, "started\n");
    /* Completed by the drain bound, well before the child's end (the loop itself also waits
     * for nothing else). */
    assert_int_eq((uv_hrtime() - t0) / 1000000 < 2900, 1);
}

static void test_unread_stdin(void **state)
{
    (void)state;
    struct seen s = {0};
    size_t n = 4 << 20;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'x', n);
    struct gm_command_request req = {.command = "exit 0", .stdin_data = big, .stdin_len = n};
    assert_int_eq(run(&req, &s), 0);
    free(big);
    assert_int_eq(s.calls, 1);
    assert_int_eq(s.exit_status, 0);
}

static void test_cancel(void **state)
{
    (void)state;
    struct seen s = {0};
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct gm_command *c = NULL;
    struct gm_command_request req = {.command = "sleep 30"};
    assert_int_eq(gm_command_run(&loop, &req, on_done, &s, &c), 0);
    gm_command_cancel(c);
    gm_command_cancel(NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns once the killed process was reaped */
    assert_int_eq(uv_loop_close(&loop), 0);
    assert_int_eq(s.calls, 0);
}

static void test_refusals_never_call_back(void **state)
{
    (void)state;
    struct seen s = {0};
    struct gm_command_request missing = {.argv =
                                             (const char *const[]){"/nonexistent/program", NULL}};
    assert_int_eq(run(&missing, &s), -ENOENT);
    struct gm_command_request both = {.argv = (const char *const[]){"true", NULL},
                                      .command = "true"};
    assert_int_eq(run(&both, &s), -EINVAL);
    struct gm_command_request neither = {.timeout_ms = 10};
    assert_int_eq(run(&neither, &s), -EINVAL);
    struct gm_command_request empty = {.argv = (const char *const[]){NULL}};
    assert_int_eq(run(&empty, &s), -EINVAL);
    struct gm_command_request huge = {.command = "true", .stdin_data = "", .stdin_len = 1u << 30};
    assert_int_eq(run(&huge, &s), -E2BIG);
    assert_int_eq(s.calls, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the hub does (main.c) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdin_to_stdout),
        cmocka_unit_test(test_shell_line_status_and_streams),
        cmocka_unit_test(test_environment_and_directory),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_timeout_terminates),
        cmocka_unit_test(test_timeout_kills_what_ignores_sigterm),
        cmocka_unit_test(test_child_left_holding_the_output),
        cmocka_unit_test(test_unread_stdin),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_refusals_never_call_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
