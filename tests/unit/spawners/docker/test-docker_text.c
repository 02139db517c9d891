/* spawners/docker/docker_text.c: command splitting and the tail of a container's log that goes
 * into failure messages. (The capped buffer and URL encoding the module used to carry are the
 * toolkit's now, tested in tests/unit/util/test-buf.c and test-url.c.) */
#include "test.h"
#include "spawners/docker/docker.h"

#include <stdio.h>
#include <stdlib.h>

static void split_is(const char *line, const char *want)
{
    json_t *words = NULL;
    assert_int_eq(docker_split_command(line, &words), 0);
    char *got = json_dumps(words, JSON_COMPACT);
    assert_string_equal(got, want);
    free(got);
    json_decref(words);
}

static void test_split(void **state)
{
    split_is("", "[]");
    split_is("  touch /tmp/x  ", "[\"touch\",\"/tmp/x\"]");
    split_is("sh -c 'echo \"hi there\"; exit 0'",
             "[\"sh\",\"-c\",\"echo \\\"hi there\\\"; exit 0\"]");
    split_is("a\\ b \"c \\\"d\\\"\" ''", "[\"a b\",\"c \\\"d\\\"\",\"\"]");
    json_t *words = NULL;
    assert_int_eq(docker_split_command("echo 'open", &words), -EINVAL);
    assert_int_eq(docker_split_command("trailing\\", &words), -EINVAL);
    assert_null(words);
}

/* One frame of the Engine's multiplexed log stream. */
static size_t frame(char *out, int stream, const char *text)
{
    size_t n = strlen(text);
    out[0] = (char)stream;
    out[1] = out[2] = out[3] = 0;
    out[4] = (char)(n >> 24);
    out[5] = (char)(n >> 16);
    out[6] = (char)(n >> 8);
    out[7] = (char)n;
    memcpy(out + 8, text, n);
    return 8 + n;
}

static void test_log_tail(void **state)
{
    char data[4096], out[512];
    size_t len = 0;
    len += frame(data + len, 1, "loading config\n");
    len += frame(data + len, 2, "Traceback (most recent call last):\n  File \"x\"\n");
    len += frame(data + len, 2, "ValueError: \x1b[31mbad\x1b[0m\tport\r\n\n");
    docker_log_tail(data, len, 12, out, sizeof(out));
    assert_string_equal(out, "loading config\nTraceback (most recent call last):\n  File \"x\"\n"
                             "ValueError: ?[31mbad?[0m port");
    /* The last lines only. */
    docker_log_tail(data, len, 2, out, sizeof(out));
    assert_string_equal(out, "  File \"x\"\nValueError: ?[31mbad?[0m port");
    /* A TTY gives raw text. */
    const char *raw = "one\ntwo\nthree\n";
    docker_log_tail(raw, strlen(raw), 2, out, sizeof(out));
    assert_string_equal(out, "two\nthree");
    /* Too long: the end is kept, marked as cut. */
    char big[2000];
    memset(big, 'x', sizeof(big) - 5);
    memcpy(big + sizeof(big) - 5, "END\n", 5);
    size_t n = docker_log_tail(big, strlen(big), 12, out, 64);
    assert_int_eq(n, 63);
    assert_int_eq(strlen(out), 63);
    assert_memory_equal(out, "...", 3);
    assert_string_equal(out + 60, "END");
    /* Truncated frames and empty logs do not crash. */
    docker_log_tail(data, 11, 12, out, sizeof(out));
    assert_string_equal(out, "loa");
    assert_int_eq(docker_log_tail("", 0, 12, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_log_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
