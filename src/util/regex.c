/* Python's regular expressions on PCRE2 (include/ganymede/regex.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <ganymede/regex.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A match gives up after this many steps of the matcher (a pathological pattern on a long
 * subject), and so much backtracking memory. */
#define MATCH_LIMIT    1000000
#define MATCH_HEAP_KIB (8 * 1024)

struct gm_regex {
    pcre2_code *code;
    pcre2_match_context *ctx;
    size_t groups;
};

/* "[:" "[=" "[." inside brackets: Python reads characters where PCRE2 reads a POSIX class.
 * Returns the offset of the first, or -1. */
static long posix_class_at(const char *p)
{
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\\') {
            if (!p[++i])
                break;
            continue;
        }
        if (p[i] != '[')
            continue;
        size_t j = i + 1;
        if (p[j] == '^')
            j++;
        if (p[j] == ']')
            j++; /* a literal ']' first */
        for (; p[j] && p[j] != ']'; j++) {
            if (p[j] == '\\') {
                if (!p[++j])
                    return -1;
            } else if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.')) {
                return (long)j;
            }
        }
        if (!p[j])
            return -1; /* PCRE2 reports the unclosed bracket */
        i = j;
    }
    return -1;
}

int gm_regex_compile(const char *pattern, struct gm_regex **ret, char *err, size_t errlen)
{
    size_t n = strlen(pattern);
    if (n > GM_REGEX_MAX) {
        snprintf(err, errlen, "it is longer than %d bytes", GM_REGEX_MAX);
        return -EINVAL;
    }
    long at = posix_class_at(pattern);
    if (at >= 0) {
        snprintf(err, errlen,
                 "\"[%c\" in brackets (at %ld) means characters to Python and a POSIX class here: "
                 "write \"\\[%c\"",
                 pattern[at + 1], at, pattern[at + 1]);
        return -EINVAL;
    }
    int code;
    PCRE2_SIZE offset;
    pcre2_code *c =
        pcre2_compile((PCRE2_SPTR)pattern, n, PCRE2_UTF | PCRE2_UCP, &code, &offset, NULL);
    if (!c) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof(msg));
        snprintf(err, errlen, "%s (at %zu)", (const char *)msg, (size_t)offset);
        return code == PCRE2_ERROR_HEAPLIMIT || code == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL;
    }
    struct gm_regex *re = calloc(1, sizeof(*re));
    pcre2_match_context *ctx = re ? pcre2_match_context_create(NULL) : NULL;
    if (!ctx) {
        free(re);
        pcre2_code_free(c);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    pcre2_set_match_limit(ctx, MATCH_LIMIT);
    pcre2_set_heap_limit(ctx, MATCH_HEAP_KIB);
    uint32_t groups = 0;
    pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &groups);
    re->code = c;
    re->ctx = ctx;
    re->groups = groups;
    *ret = re;
    return 0;
}

void gm_regex_free(struct gm_regex *re)
{
    if (!re)
        return;
    pcre2_match_context_free(re->ctx);
    pcre2_code_free(re->code);
    free(re);
}

size_t gm_regex_groups(const struct gm_regex *re)
{
    return re->groups;
}

int gm_regex_group_number(const struct gm_regex *re, const char *name)
{
    int n = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);
    return n > 0 ? n : -ENOENT;
}

static int run(const struct gm_regex *re, const char *subject, uint32_t options,
               struct gm_regex_group *groups, size_t ngroups)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (!md)
        return -ENOMEM;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, strlen(subject), 0, options, md, re->ctx);
    int r;
    if (rc == PCRE2_ERROR_NOMATCH) {
        r = 0;
    } else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
               rc == PCRE2_ERROR_DEPTHLIMIT) {
        r = -E2BIG;
    } else if (rc == PCRE2_ERROR_NOMEMORY) {
        r = -ENOMEM;
    } else if (rc < 0) {
        r = -EINVAL; /* invalid UTF-8 and the like */
    } else {
        r = 1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t pairs = pcre2_get_ovector_count(md);
        for (size_t i = 0; groups && i < ngroups; i++) {
            bool set = i < (size_t)rc && i < pairs && ov[2 * i] != PCRE2_UNSET;
            groups[i].start = set ? (long)ov[2 * i] : -1;
            groups[i].end = set ? (long)ov[2 * i + 1] : -1;
        }
    }
    pcre2_match_data_free(md);
    return r;
}

int gm_regex_search(const struct gm_regex *re, const char *subject, struct gm_regex_group *groups,
                    size_t ngroups)
{
    return run(re, subject, 0, groups, ngroups);
}

int gm_regex_match(const struct gm_regex *re, const char *subject, struct gm_regex_group *groups,
                   size_t ngroups)
{
    return run(re, subject, PCRE2_ANCHORED, groups, ngroups);
}
