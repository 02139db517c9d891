/* A server's output file: its name, the tail made fit for a message (lines, bytes, characters),
 * and the following on a real loop: whole lines passed on to the log output as they come, an
 * unfinished line kept until it ends, the file emptied past the cap while the writer goes on,
 * and a follower that starts at the end of the file (a server taken over after a restart). */
#include "test.h"
#include "core/log.h"
#include "spawn/output.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t tail(const char *data, bool cut, int lines, char *out, size_t outlen)
{
    return spawn_output_tail_text(data, strlen(data), cut, lines, out, outlen);
}

static void test_tail_lines(void **state)
{
    (void)state;
    char out[256];
    assert_int_eq(tail("a\nb\nc\nd\n\n\n", false, 2, out, sizeof(out)), 3);
    assert_string_equal(out, "c\nd");
    tail("\n\nonly\n", false, 20, out, sizeof(out));
    assert_string_equal(out, "only");
    assert_int_eq(tail("", false, 20, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    /* The window starts inside the file: its first line is not whole. */
    tail("rtial\nnext\n", true, 20, out, sizeof(out));
    assert_string_equal(out, "...rtial\nnext");
    tail("rtial\nnext\n", true, 1, out, sizeof(out));
    assert_string_equal(out, "next");
    /* A window that starts at a line break has only whole lines. */
    tail("\nwhole\n", true, 20, out, sizeof(out));
    assert_string_equal(out, "whole");
}

static void test_tail_bytes(void **state)
{
    (void)state;
    char out[12];
    /* 11 bytes of room: "..." and the last 8. */
    assert_int_eq(tail("0123456789abcdef\n", false, 20, out, sizeof(out)), 11);
    assert_string_equal(out, "...89abcdef");
    /* Never half a character: "é" is two bytes. */
    tail("xxxxxx\xc3\xa9zzzzzzz", false, 20, out, sizeof(out));
    assert_string_equal(out, "...zzzzzzz");
    tail("xxxxxxx\xc3\xa9zzzzzz", false, 20, out, sizeof(out));
    assert_string_equal(out, "...\xc3\xa9zzzzzz");
}

static void test_tail_text(void **state)
{
    (void)state;
    char out[256];
    /* Colours and other escapes dropped, carriage returns as line breaks, tabs kept. */
    tail("\x1b[31mred\x1b[0m\tend\r\nbar 10%\rbar 100%\n", false, 20, out, sizeof(out));
    assert_string_equal(out, "red\tend\nbar 10%\nbar 100%");
    /* Not UTF-8: '?' for each bad byte (an overlong slash, a surrogate, a lone continuation). */
    tail("a\xc0\xaf b\xed\xa0\x80 c\x80 \xf0\x9f\x98\x80", false, 20, out, sizeof(out));
    assert_string_equal(out, "a?? b??? c? \xf0\x9f\x98\x80");
    /* A window that cut a character keeps no piece of it. */
    tail("\xa9x\ny", true, 20, out, sizeof(out));
    assert_string_equal(out, "...x\ny");
    /* Other control characters go. */
    tail("a\x01\x07\x7f"
         "b",
         false, 20, out, sizeof(out));
    assert_string_equal(out, "ab");
}

static void test_paths(void **state)
{
    (void)state;
    char *p = spawn_output_path("/d", "alice", "");
    assert_string_equal(p, "/d/alice.log");
    free(p);
    p = spawn_output_path("/d", "Alice", "my lab");
    assert_string_equal(p, "/d/-41lice--my-20lab.log");
    free(p);
    /* No name can make another's: "-" is escaped too, so "--" only joins the two. */
    p = spawn_output_path("/d", "a--b", "");
    assert_string_equal(p, "/d/a-2d-2db.log");
    free(p);
    p = spawn_output_path("/d", "../x", "");
    assert_string_equal(p, "/d/-2e-2e-2fx.log");
    free(p);
    /* Too long for a file name: cut, then a hash of all of it. */
    char big[256];
    memset(big, 'A', sizeof(big) - 1);
    big[255] = '\0';
    char *a = spawn_output_path("/d", big, "");
    big[254] = 'B';
    char *b = spawn_output_path("/d", big, "");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(strcmp(a, b) != 0);
    assert_true(strlen(strrchr(a, '/') + 1) <= 200);
    assert_non_null(strchr(a, '_'));
    free(a);
    free(b);
}

struct fixture {
    char dir[64];
    char file[128];
    char logpath[128];
    int logfd;
};

static void setup(struct fixture *f)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/gm-output-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->logpath, sizeof(f->logpath), "%s/hub.log", f->dir);
    f->logfd = open(f->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->logfd >= 0);
    log_set_fd(f->logfd);
    char why[256];
    char *out = NULL;
    assert_int_eq(spawn_output_dir(f->dir, &out, why, sizeof(why)), 0);
    struct stat st;
    assert_int_eq(stat(out, &st), 0);
    assert_int_eq(st.st_mode & 0777, 0700);
    snprintf(f->file, sizeof(f->file), "%s/alice.log", out);
    free(out);
}

static void teardown(struct fixture *f)
{
    log_set_fd(2);
    close(f->logfd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "%s/hub.log", f->dir);
    unlink(cmd);
    unlink(f->file);
    snprintf(cmd, sizeof(cmd), "%s/%s", f->dir, SPAWN_OUTPUT_DIR);
    rmdir(cmd);
    rmdir(f->dir);
}

static char *read_all(const char *path)
{
    static char text[1 << 16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0)
        close(fd);
    text[n > 0 ? n : 0] = '\0';
    return text;
}

static void on_guard(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Run @loop until the log holds @want (or 10 s passed). */
static bool wait_log(uv_loop_t *loop, struct fixture *f, const char *want)
{
    bool late = false;
    uv_timer_t guard;
    uv_timer_init(loop, &guard);
    guard.data = &late;
    uv_timer_start(&guard, on_guard, 10000, 0);
    while (!late && strcmp(read_all(f->logpath), want) != 0)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return !late;
}

static void put(int fd, const char *text)
{
    assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void test_follow(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    uv_loop_t loop;
    uv_loop_init(&loop);
    int w = -1, r = -1;
    assert_int_eq(spawn_output_open(f.file, true, &w, &r), 0);
    struct stat st;
    assert_int_eq(stat(f.file, &st), 0);
    assert_int_eq(st.st_mode & 0777, 0600);
    struct spawn_output *o = NULL;
    assert_int_eq(spawn_output_follow(&loop, r, f.file, false, 64, &o), 0);

    put(w, "one\ntw");
    assert_true(wait_log(&loop, &f, "one\n")); /* "tw" waits for its line's end */
    put(w, "o\n");
    assert_true(wait_log(&loop, &f, "one\ntwo\n"));
    /* Past the cap (64 bytes) the file is emptied once read; the writer goes on at 0. */
    put(w, "a line that takes the file past its cap of sixty-four bytes\n");
    assert_true(wait_log(
        &loop, &f, "one\ntwo\na line that takes the file past its cap of sixty-four bytes\n"));
    assert_int_eq(stat(f.file, &st), 0);
    assert_int_eq(st.st_size, 0);
    put(w, "after\nlast words");
    assert_true(wait_log(&loop, &f,
                         "one\ntwo\na line that takes the file past its cap of sixty-four bytes\n"
                         "after\n"));
    assert_int_eq(stat(f.file, &st), 0);
    assert_int_eq(st.st_size, 16);
    /* The server ended: the unfinished line goes too, and the tail has the last lines. */
    close(w);
    spawn_output_drain(o);
    assert_string_equal(read_all(f.logpath),
                        "one\ntwo\na line that takes the file past its cap of sixty-four bytes\n"
                        "after\nlast words\n");
    char out[64];
    assert_int_eq(spawn_output_tail(o, 20, out, sizeof(out)), 16);
    assert_string_equal(out, "after\nlast words");
    spawn_output_free(o);
    assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_eq(uv_loop_close(&loop), 0);
    teardown(&f);
}

static void test_follow_from_the_end(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f);
    uv_loop_t loop;
    uv_loop_init(&loop);
    int w = -1, r = -1;
    assert_int_eq(spawn_output_open(f.file, true, &w, &r), 0);
    close(r);
    put(w, "before the restart\n");
    /* A new hub opens the file that is there and reads on from its end. */
    assert_int_eq(spawn_output_open(f.file, false, NULL, &r), 0);
    struct spawn_output *o = NULL;
    assert_int_eq(spawn_output_follow(&loop, r, f.file, true, SPAWN_OUTPUT_CAP, &o), 0);
    put(w, "after it\n");
    assert_true(wait_log(&loop, &f, "after it\n"));
    char out[64];
    spawn_output_tail(o, 20, out, sizeof(out));
    assert_string_equal(out, "before the restart\nafter it");
    close(w);
    spawn_output_free(o);
    assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_eq(uv_loop_close(&loop), 0);
    /* No file, nothing to follow. */
    unlink(f.file);
    assert_int_eq(spawn_output_open(f.file, false, NULL, &r), -ENOENT);
    teardown(&f);
}

static void test_dir_must_be_private(void **state)
{
    (void)state;
    char dir[] = "/tmp/gm-output-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof(sub), "%s/%s", dir, SPAWN_OUTPUT_DIR);
    assert_int_eq(mkdir(sub, 0700), 0);
    assert_int_eq(chmod(sub, 0777), 0);
    char why[256] = "";
    char *out = NULL;
    assert_int_eq(spawn_output_dir(dir, &out, why, sizeof(why)), -EPERM);
    assert_non_null(strstr(why, "mode 0700"));
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tail_lines),
        cmocka_unit_test(test_tail_bytes),
        cmocka_unit_test(test_tail_text),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_follow),
        cmocka_unit_test(test_follow_from_the_end),
        cmocka_unit_test(test_dir_must_be_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
