/* Child processes on a real loop: the exec reported without blocking the loop, failures with
 * their reason and no zombie left, exits in order, release before anything was reported. */
#include "test.h"
#include "loop/process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

struct seen {
    struct loop_process *proc;
    char order[8]; /* 'e' exec ok, 'f' exec failed, 'x' exit */
    int exec_status;
    int exit_status;
    char message[512];
};

static void add(struct seen *s, char c)
{
    size_t n = strlen(s->order);
    if (n + 1 < sizeof(s->order))
        s->order[n] = c;
}

static void on_exec(void *data, int status, const char *message)
{
    struct seen *s = data;
    add(s, status == 0 ? 'e' : 'f');
    s->exec_status = status;
    if (message)
        snprintf(s->message, sizeof(s->message), "%s", message);
    if (status < 0) {
        loop_process_release(s->proc);
        s->proc = NULL;
    }
}

static void on_exit_cb(void *data, int exit_status)
{
    struct seen *s = data;
    add(s, 'x');
    s->exit_status = exit_status;
    loop_process_release(s->proc);
    s->proc = NULL;
}

static int spawn(uv_loop_t *loop, struct seen *s, const char *const *argv, const char *cwd)
{
    char err[512] = "";
    struct loop_process_options o = {.argv = argv, .cwd = cwd, .stdout_fd = -1};
    int r = loop_process_spawn(loop, &o, on_exec, on_exit_cb, s, &s->proc, err, sizeof(err));
    if (r < 0)
        snprintf(s->message, sizeof(s->message), "%s", err);
    return r;
}

static void no_zombie(void)
{
    int status;
    assert_int_eq(waitpid(-1, &status, WNOHANG), -1);
    assert_int_eq(errno, ECHILD);
}

static void test_exec_then_exit(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    const char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    assert_int_eq(spawn(&loop, &s, argv, NULL), 0);
    assert_string_equal(s.order, ""); /* nothing is reported from inside the call */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_string_equal(s.order, "ex");
    assert_int_eq(s.exec_status, 0);
    assert_int_eq(s.exit_status, 3);
    assert_int_eq(uv_loop_close(&loop), 0);
    no_zombie();
}

static void test_failed_exec_says_why(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    const char *argv[] = {"/bin/true", NULL};
    assert_int_eq(spawn(&loop, &s, argv, "/nonexistent/ganymede-test"), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_string_equal(s.order, "f"); /* and no exit report */
    assert_int_eq(s.exec_status, -ENOENT);
    assert_non_null(strstr(s.message, "enter the directory"));
    assert_non_null(strstr(s.message, "/nonexistent/ganymede-test"));
    assert_int_eq(uv_loop_close(&loop), 0);
    no_zombie();
}

static void test_command_not_found(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    const char *argv[] = {"ganymede-no-such-command", NULL};
    assert_int_eq(spawn(&loop, &s, argv, NULL), -ENOENT);
    assert_non_null(strstr(s.message, "command not found"));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_string_equal(s.order, "");
    assert_int_eq(uv_loop_close(&loop), 0);
}

static void test_release_before_the_exec_report(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    const char *argv[] = {"/bin/sleep", "10", NULL};
    assert_int_eq(spawn(&loop, &s, argv, NULL), 0);
    pid_t pid = loop_process_pid(s.proc);
    loop_process_release(s.proc);
    uv_run(&loop, UV_RUN_DEFAULT); /* the handles close; no callback */
    assert_string_equal(s.order, "");
    assert_int_eq(kill(pid, SIGKILL), 0); /* still running: released, not killed */
    assert_int_eq(waitpid(pid, NULL, 0), pid);
    assert_int_eq(uv_loop_close(&loop), 0);
}

static void test_blocking_start_reports_the_failure(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct loop_process *p = NULL;
    char err[512] = "";
    const char *argv[] = {"/bin/true", NULL};
    struct loop_process_options o = {.argv = argv, .cwd = "/nonexistent/x", .stdout_fd = -1};
    assert_int_eq(loop_process_start(&loop, &o, NULL, NULL, &p, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "enter the directory"));
    assert_non_null(strstr(err, "/nonexistent/x"));
    assert_int_eq(uv_loop_close(&loop), 0);
    no_zombie();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_then_exit),
        cmocka_unit_test(test_failed_exec_says_why),
        cmocka_unit_test(test_command_not_found),
        cmocka_unit_test(test_release_before_the_exec_report),
        cmocka_unit_test(test_blocking_start_reports_the_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
