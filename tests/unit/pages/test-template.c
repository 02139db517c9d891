#include "test.h"
#include "pages/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/gm-templates-XXXXXX";
static struct page_templates *t;
static char *dirs[2];

static void write_template(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    if (!mkdtemp(dir))
        return -1;
    dirs[0] = dir;
    write_template("t.html", "Hi {{name}}! {{{raw}}} {{missing}}|{{user.name}}|"
                             "{{#items}}<{{.}}>{{/items}}{{^items}}none{{/items}}|"
                             "{{#user}}{{name}}/{{top}}{{/user}}|{{!comment}}"
                             "{{#flag}}yes{{/flag}}{{^flag}}no{{/flag}}|{{> part.html}}|{{n}}");
    write_template("part.html", "[{{name}}]");
    write_template("loop.html", "{{> loop.html}}");
    write_template("open.html", "{{#a}}never closed");
    return page_templates_create(dirs, &t);
}

static int teardown(void **state)
{
    page_templates_free(t);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd);
}

static char *render(const char *name, const char *ctx_json, int expect)
{
    json_t *ctx = json_loads(ctx_json, 0, NULL);
    assert_non_null(ctx);
    struct gm_buf b;
    gm_buf_init(&b, 1 << 20);
    char err[256] = "";
    assert_int_equal(page_render(t, name, ctx, &b, err, sizeof(err)), expect);
    json_decref(ctx);
    return gm_buf_steal(&b);
}

static void test_variables_sections_partials(void **state)
{
    char *out = render("t.html",
                       "{\"name\": \"<b>\", \"raw\": \"<i>x</i>\", \"user\": {\"name\": \"ann\"}, "
                       "\"top\": \"T\", \"items\": [\"a\", \"b\"], \"flag\": false, \"n\": 3}",
                       0);
    assert_string_equal(out, "Hi &lt;b&gt;! <i>x</i> |ann|<a><b>|ann/T|no|[&lt;b&gt;]|3");
    free(out);
    out = render("t.html", "{\"items\": [], \"flag\": true}", 0);
    assert_string_equal(out, "Hi !  ||none||yes|[]|");
    free(out);
}

static void test_errors_never_crash(void **state)
{
    free(render("loop.html", "{}", -E2BIG));
    free(render("open.html", "{\"a\": 1}", -EINVAL));
    free(render("nope.html", "{}", -ENOENT));
    free(render("../t.html", "{}", -ENOENT));
}

static void test_embedded_templates(void **state)
{
    /* The compiled-in templates render with an empty context. */
    static const char *const names[] = {"page.html",  "login.html", "home.html",
                                        "token.html", "error.html", "logout.html"};
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
        char *out = render(names[i], "{}", 0);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variables_sections_partials),
        cmocka_unit_test(test_errors_never_crash),
        cmocka_unit_test(test_embedded_templates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
