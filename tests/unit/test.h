/* Common includes for the cmocka unit tests. Each tests/unit/<dir>/test-<file>.c tests
 * src/<dir>/<file>.c and ends with cmocka_run_group_tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

/* cmocka compares strings with assert_string_equal; these print both sides for other types. */
#define assert_int_eq(a, b) assert_int_equal((a), (b))
