/* Python's regular expressions (the `re` module's syntax), for settings that hold one: a
 * profile's validation_regex, Authenticator.username_pattern, batchspawner's state_*_re.
 * Backed by PCRE2, whose syntax is Python's for everything these settings use: (?:...),
 * (?P<name>...), (?i), lazy quantifiers, lookaround, \d \w \s \b, Unicode text (UTF-8).
 * Implemented once, in src/util/regex.c.
 *
 *     struct gm_regex *re;
 *     char err[200];
 *     if (gm_regex_compile(conf->state_running_re, &re, err, sizeof(err)) < 0)
 *         ... "SlurmSpawner.state_running_re is not a valid regular expression: <err>"
 *     if (gm_regex_search(re, status, NULL, 0) > 0) ...       (re.search)
 *     gm_regex_free(re);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct gm_regex;

/** The longest pattern accepted (bytes). */
#define GM_REGEX_MAX 4096

/** Compile @pattern. Returns 0 and *@ret (free with gm_regex_free), or -EINVAL with the reason
 * and its position in @err: a pattern that does not compile, one over GM_REGEX_MAX, or a
 * bracket holding "[:", "[=" or "[." (a POSIX class to PCRE2, characters to Python: written
 * "\[:" it means the same to both). -ENOMEM without memory. */
int gm_regex_compile(const char *pattern, struct gm_regex **ret, char *err, size_t errlen);

void gm_regex_free(struct gm_regex *re);

/** A captured group: its byte offsets in the subject, or -1 and -1 when it did not take
 * part in the match. */
struct gm_regex_group {
    long start;
    long end;
};

/** re.search(@re, @subject): 1 when it matches somewhere, 0 when not, or a negative errno
 * (-EINVAL for a subject that is not UTF-8, -E2BIG when the match gives up over its limits).
 * Group 0 (the whole match) and the next @ngroups - 1 groups are written to @groups when it
 * is not NULL. */
int gm_regex_search(const struct gm_regex *re, const char *subject, struct gm_regex_group *groups,
                    size_t ngroups);

/** re.match: the same, anchored at the start of @subject. */
int gm_regex_match(const struct gm_regex *re, const char *subject, struct gm_regex_group *groups,
                   size_t ngroups);

/** How many capturing groups @re has. */
size_t gm_regex_groups(const struct gm_regex *re);

/** The number of the group named @name ((?P<name>...)), or -ENOENT. */
int gm_regex_group_number(const struct gm_regex *re, const char *name);
