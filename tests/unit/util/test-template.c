#include "test.h"
#include <ganymede/template.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Expected names were computed with kubespawner/slugs.py (KubeSpawner 7) and escapism. */

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    assert_non_null(v);
    return v;
}

static void test_escape(void **state)
{
    (void)state;
    char *s;
    assert_int_eq(gm_escape("string to escape", NULL, '_', &s), 0);
    assert_string_equal(s, "string_20to_20escape");
    free(s);
    /* escapism writes bytes below 0x10 with one hex digit. */
    assert_int_eq(gm_escape("a\tb", NULL, '_', &s), 0);
    assert_string_equal(s, "a_9b");
    free(s);
    /* The escape character is never safe. */
    assert_int_eq(gm_escape("a_b-c", "abc_-", '_', &s), 0);
    assert_string_equal(s, "a_5Fb-c");
    free(s);
    char *big = malloc(GM_SLUG_INPUT_MAX + 2);
    memset(big, 'a', GM_SLUG_INPUT_MAX + 1);
    big[GM_SLUG_INPUT_MAX + 1] = '\0';
    assert_int_eq(gm_escape(big, NULL, '_', &s), -ENAMETOOLONG);
    assert_int_eq(gm_slug_safe(big, GM_SLUG_OBJECT, 0, &s), -ENAMETOOLONG);
    free(big);
}

static void test_slugs(void **state)
{
    (void)state;
    /* name, escape_slug, safe_slug, safe_slug(max_length=48), safe_slug(is_valid_label) */
    static const char *const cases[][5] = {
        {"alice", "alice", "alice", "alice", "alice"},
        {"Alice", "-41lice", "alice---3bc51062", "alice---3bc51062", "Alice"},
        {"user@example.com", "user-40example-2ecom", "user-example-com---b4c9a289",
         "user-example-com---b4c9a289", "user-example-com---b4c9a289"},
        {"a--b", "a-2d-2db", "a-b---90827a2e", "a-b---90827a2e", "a-b---90827a2e"},
        {"x", "x", "x", "x", "x"},
        {"1user", "1user", "x-1user---b5732d84", "x-1user---b5732d84", "1user"},
        {"-lead", "-2dlead", "lead---54e05a0b", "lead---54e05a0b", "lead---54e05a0b"},
        {"trail-", "trail-2d", "trail---79258a88", "trail---79258a88", "trail---79258a88"},
        {"\xc3\x89LO\xc3\x8fSE", "-c3-89-4c-4f-c3-8f-53-45", "lo-se---9b3ea5f3", "lo-se---9b3ea5f3",
         "lo-se---9b3ea5f3"},
        {"\xe5\x90\x8d\xe5\x89\x8d", "-e5-90-8d-e5-89-8d", "x---7ec26292", "x---7ec26292",
         "x---7ec26292"},
        /* KELVIN SIGN lower-cases to "k", U+0130 to "i" and a combining dot. */
        {"\xe2\x84\xaa"
         "elvin",
         "-e2-84-aaelvin", "kelvin---4a274a98", "kelvin---4a274a98", "kelvin---4a274a98"},
        {"\xc4\xb0stanbul", "-c4-b0stanbul", "i-stanbul---24ec8f72", "i-stanbul---24ec8f72",
         "i-stanbul---24ec8f72"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa---11ee3912",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"abababababababababababababababababababababababababababababababababababababababab",
         "abababababababababababababababababababababababababababababababababababababababab",
         "ababababababababababa---a8a0b75e", "ababababababababababababababababababa---a8a0b75e",
         "ababababababababababa---a8a0b75e"},
        {"user.name+tag@example.org", "user-2ename-2btag-40example-2eorg",
         "user-name-tag-example---280eae27", "user-name-tag-example-org---280eae27",
         "user-name-tag-example---280eae27"},
        {"", "", "x---e3b0c442", "x---e3b0c442", ""},
        {"tab\there", "tab-9here", "tab-here---5b876593", "tab-here---5b876593",
         "tab-here---5b876593"},
        {"99999999999999999999999999999999999999999999999999",
         "99999999999999999999999999999999999999999999999999", "x-9999999999999999999---a9eac1cd",
         "x-99999999999999999999999999999999999---a9eac1cd",
         "99999999999999999999999999999999999999999999999999"},
        /* KubeSpawner keeps a '-' that the cut after "x-" leaves at the end. */
        {"1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b",
         "1-2daaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2db", "x-1-aaaaaaaaaaaaaaaaa---708d14e9",
         "x-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa---708d14e9",
         "1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-b"},
        /* Python's re.IGNORECASE lets U+017F through [a-z] in a label. */
        {"a\xc5\xbf"
         "b",
         "a-c5-bfb", "a-b---19a815e3", "a-b---19a815e3",
         "a\xc5\xbf"
         "b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *s;
        assert_int_eq(gm_slug_escape(cases[i][0], &s), 0);
        assert_string_equal(s, cases[i][1]);
        free(s);
        assert_int_eq(gm_slug_safe(cases[i][0], GM_SLUG_OBJECT, 0, &s), 0);
        assert_string_equal(s, cases[i][2]);
        free(s);
        assert_int_eq(gm_slug_safe(cases[i][0], GM_SLUG_OBJECT, 48, &s), 0);
        assert_string_equal(s, cases[i][3]);
        free(s);
        assert_int_eq(gm_slug_safe(cases[i][0], GM_SLUG_LABEL, 0, &s), 0);
        assert_string_equal(s, cases[i][4]);
        free(s);
    }
    char *s;
    assert_int_eq(gm_slug_safe("Alice", GM_SLUG_OBJECT, 11, &s), -EINVAL);
    assert_int_eq(gm_slug_safe("Alice", GM_SLUG_RULE_MAX, 0, &s), -EINVAL);
    const char *two[] = {"alice", "server"};
    assert_int_eq(gm_slug_multi(two, 2, 48, &s), 0);
    assert_string_equal(s, "alice--server---5f1b08a8");
    free(s);
    const char *three[] = {"a", "b", "c"};
    assert_int_eq(gm_slug_multi(three, 3, 30, &s), 0);
    assert_string_equal(s, "a--b--c---f0f5240c");
    free(s);
    assert_int_eq(gm_slug_multi(three, 3, 20, &s), -EINVAL);
    assert_int_eq(gm_slug_multi(three, 0, 48, &s), -EINVAL);
    assert_int_eq(gm_slug("", GM_SLUG_SAFE, &s), 0);
    assert_string_equal(s, "");
    free(s);
    assert_int_eq(gm_slug("x", GM_SLUG_SCHEME_MAX, &s), -EINVAL);
    assert_string_equal(gm_slug_scheme_names[GM_SLUG_SAFE], "safe");
}

/* KubeSpawner 7's pod names: "jupyter-{user_server}" and, with its trailing-'-' rule,
 * "jupyter-{username}--{servername}" for the default server. */
static void test_pod_names(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"alice", "", "safe", "jupyter-alice"},
        {"alice", "", "escape", "jupyter-alice"},
        {"alice", "gpu", "safe", "jupyter-alice--gpu"},
        {"Alice", "GPU Server", "safe", "jupyter-alice---3bc51062--gpu-server---b70b56b1"},
        {"Alice", "GPU Server", "escape", "jupyter--41lice---47-50-55-20-53erver"},
        {"user@example.com", "my-notebook", "safe",
         "jupyter-user-example-com---b4c9a289--my-notebook"},
        {"user@example.com", "my-notebook", "escape",
         "jupyter-user-40example-2ecom--my-2dnotebook"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb", "safe",
         "jupyter-aaaaaaaaaaaaaaaaa--bbbbbbbbbbbbbbbbb---e7ebee05"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb", "escape",
         "jupyter-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa--bbbbbbbbbbbbbbbbbbbb"},
        {"\xe5\x90\x8d\xe5\x89\x8d", "", "safe", "jupyter-x---7ec26292"},
        {"\xe5\x90\x8d\xe5\x89\x8d", "", "escape", "jupyter--e5-90-8d-e5-89-8d"},
        {"x", "a--b", "safe", "jupyter-x--a-b---90827a2e"},
        {"x", "a--b", "escape", "jupyter-x--a-2d-2db"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        enum gm_slug_scheme scheme =
            strcmp(cases[i][2], "safe") == 0 ? GM_SLUG_SAFE : GM_SLUG_ESCAPE;
        char *us, *name;
        assert_int_eq(gm_slug_user_server(cases[i][0], cases[i][1], scheme, &us), 0);
        json_t *ns = json_pack("{ss}", "user_server", us);
        const struct gm_format_options opts = {.strip_dashes = 1};
        assert_int_eq(gm_format("jupyter-{user_server}", ns, &opts, &name, NULL), 0);
        assert_string_equal(name, cases[i][3]);
        free(name);
        free(us);
        json_decref(ns);
    }
    /* The fields escaped by the call: "claim-{username}--" keeps its dashes. */
    json_t *ns = json_pack("{ss ss}", "username", "Alice", "servername", "");
    struct gm_format_options opts = {.slug = GM_SLUG_SAFE, .strip_dashes = 1};
    char *s;
    assert_int_eq(gm_format("claim-{username}--{servername}", ns, &opts, &s, NULL), 0);
    assert_string_equal(s, "claim-alice---3bc51062");
    free(s);
    assert_int_eq(gm_format("claim-{username}--", ns, &opts, &s, NULL), 0);
    assert_string_equal(s, "claim-alice---3bc51062--");
    free(s);
    opts.slug = GM_SLUG_ESCAPE;
    assert_int_eq(gm_format("claim-{username}", ns, &opts, &s, NULL), 0);
    assert_string_equal(s, "claim--41lice");
    free(s);
    opts.max_len = 10;
    struct gm_template_error err;
    assert_int_eq(gm_format("claim-{username}", ns, &opts, &s, &err), -E2BIG);
    assert_non_null(strstr(err.message, "longer than 10"));
    json_decref(ns);
}

static void test_format(void **state)
{
    (void)state;
    json_t *f = parse("{\"username\": \"alice\", \"id\": 7, \"r\": 1.5, \"big\": 1e16,"
                      " \"small\": 0.0001, \"t\": true, \"n\": null, \"l\": [\"a\", 1],"
                      " \"d\": {\"k\": \"v\", \"q\": \"it's\"}, \"u\": \"\xc3\xa9t\xc3\xa9\"}");
    static const char *const ok[][2] = {
        {"/home/{username}", "/home/alice"},
        {"{{literal}} }} {username}", "{literal} } alice"},
        {"{id}-{r}-{big}-{small}-{t}-{n}", "7-1.5-1e+16-0.0001-True-None"},
        {"{l} {d}", "['a', 1] {'k': 'v', 'q': \"it's\"}"},
        {"{d[k]} {l[0]} {l[1]}", "v a 1"},
        {"{username!r} {username!s} {username:}", "'alice' alice alice"},
        {"{u}", "\xc3\xa9t\xc3\xa9"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        char *s = NULL;
        struct gm_template_error err = {0};
        int r = gm_format(ok[i][0], f, NULL, &s, &err);
        if (r != 0)
            fail_msg("%s: %s", ok[i][0], err.message);
        assert_string_equal(s, ok[i][1]);
        free(s);
    }
    static const struct {
        const char *tmpl;
        int r;
        const char *msg;
        unsigned column;
    } bad[] = {
        {"x-{nope}", -ENOENT, "KeyError: 'nope'", 3},
        {"{d[nope]}", -ENOENT, "no 'nope'", 1},
        {"{l[5]}", -ENOENT, "no '5'", 1},
        {"{}", -EINVAL, "positional", 1},
        {"{0}", -EINVAL, "positional", 1},
        {"{username:>10}", -EINVAL, "format specs", 1},
        {"{username!a}", -EINVAL, "conversion", 1},
        {"{d.k}", -EINVAL, "attribute", 1},
        {"a}b", -EINVAL, "Single '}'", 2},
        {"open {username", -EINVAL, "expected '}'", 6},
        {"open {", -EINVAL, "Single '{'", 6},
        {"{username[0]}", -EINVAL, "cannot be indexed", 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char *s = NULL;
        struct gm_template_error err = {0};
        assert_int_eq(gm_format(bad[i].tmpl, f, NULL, &s, &err), bad[i].r);
        assert_null(s);
        if (!strstr(err.message, bad[i].msg))
            fail_msg("%s: %s", bad[i].tmpl, err.message);
        assert_int_eq(err.column, bad[i].column);
    }
    char *s;
    assert_int_eq(gm_format("{username}", NULL, NULL, &s, NULL), -ENOENT);
    json_decref(f);
}

/* Templates rendered here and, where python3-jinja2 is installed, by Jinja itself. */
static const char slurm[] =
    "#!/bin/bash\n#SBATCH --output={{homedir}}/jupyterhub_slurmspawner_%j.log\n#SBATCH "
    "--job-name=spawner-jupyterhub\n#SBATCH --chdir={{homedir}}\n#SBATCH "
    "--export={{keepvars}}\n#SBATCH --get-user-env=L\n{% if partition  %}#SBATCH "
    "--partition={{partition}}\n{% endif %}{% if runtime    %}#SBATCH --time={{runtime}}\n{% "
    "endif %}{% if memory     %}#SBATCH --mem={{memory}}\n{% endif %}{% if gres       %}#SBATCH "
    "--gres={{gres}}\n{% endif %}{% if nprocs     %}#SBATCH --cpus-per-task={{nprocs}}\n{% endif "
    "%}{% if reservation%}#SBATCH --reservation={{reservation}}\n{% endif %}{% if options    "
    "%}#SBATCH {{options}}{% endif %}\n\nset -euo pipefail\n\ntrap 'echo SIGTERM received' "
    "TERM\n{{prologue}}\n{% if srun %}{{srun}} {% endif %}{{cmd}}\necho \"jupyterhub-singleuser "
    "ended gracefully\"\n{{epilogue}}\n";

static const char pbs[] =
    "#!/bin/sh\n{% if queue or host %}#PBS -q {% if queue  %}{{queue}}{% endif %}{% if host "
    "%}@{{host}}{% endif %}{% endif %}\n#PBS -l walltime={{runtime}}\n#PBS -l "
    "select=1:ncpus={{nprocs}}:mem={{memory}}\n#PBS -N jupyterhub-singleuser\n#PBS -o "
    "{{homedir}}/.jupyterhub.pbs.out\n#PBS -e {{homedir}}/.jupyterhub.pbs.err\n#PBS -v "
    "{{keepvars}}\n{% if options %}#PBS {{options}}{% endif %}\n\nset -eu\n\n{{prologue}}\n"
    "{{cmd}}\n{{epilogue}}\n";

static const char slurm_vars[] =
    "{\"homedir\": \"/home/alice\", \"keepvars\": \"PATH,LANG,JUPYTERHUB_API_TOKEN\","
    " \"partition\": \"gpu\", \"runtime\": \"8:00:00\", \"memory\": \"4G\", \"gres\": \"\","
    " \"nprocs\": \"2\", \"reservation\": \"\", \"options\": \"\", \"prologue\": \"module load "
    "python\", \"epilogue\": \"\", \"srun\": \"srun\", \"cmd\": \"batchspawner-singleuser "
    "jupyterhub-singleuser\", \"username\": \"alice\", \"queue\": \"\", \"host\": \"pbs01\"}";

static const char slurm_expected[] =
    "#!/bin/bash\n#SBATCH --output=/home/alice/jupyterhub_slurmspawner_%j.log\n#SBATCH "
    "--job-name=spawner-jupyterhub\n#SBATCH --chdir=/home/alice\n#SBATCH "
    "--export=PATH,LANG,JUPYTERHUB_API_TOKEN\n#SBATCH --get-user-env=L\n#SBATCH "
    "--partition=gpu\n#SBATCH --time=8:00:00\n#SBATCH --mem=4G\n#SBATCH "
    "--cpus-per-task=2\n\n\nset -euo pipefail\n\ntrap 'echo SIGTERM received' TERM\nmodule load "
    "python\nsrun batchspawner-singleuser jupyterhub-singleuser\necho \"jupyterhub-singleuser "
    "ended gracefully\"\n";

static const struct {
    const char *tmpl;
    const char *vars;
} jinja_cases[] = {
    {slurm, slurm_vars},
    {pbs, slurm_vars},
    {slurm, "{\"homedir\": \"/h\", \"cmd\": \"c\"}"},
    {"a{{ x }}b\n", "{\"x\": 1}"},
    {"{{ missing }}|{{ none }}|{{ n }}|{{ t }}|{{ f }}|{{ r }}|{{ l }}|{{ d }}",
     "{\"n\": null, \"t\": true, \"f\": false, \"r\": 2.5, \"l\": [\"a\", 1, null],"
     " \"d\": {\"k\": [true]}}"},
    {"{% if a %}A{% elif b %}B{% else %}C{% endif %}", "{\"b\": 1}"},
    {"{% if a %}A{% elif b %}B{% else %}C{% endif %}", "{\"a\": \"\", \"b\": []}"},
    {"{% if a and not b or c %}y{% else %}n{% endif %}", "{\"a\": 1, \"b\": 0}"},
    {"{{ a or 'dflt' }} {{ a and b }}", "{\"a\": \"\", \"b\": 3}"},
    {"{% for x in l %}{{ loop.index }}:{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}",
     "{\"l\": [\"a\", \"b\", \"c\"]}"},
    {"{% for k in d %}{{ k }}={{ d[k] }};{% else %}empty{% endfor %}",
     "{\"d\": {\"x\": 1, \"y\": 2}}"},
    {"{% for k in d %}{{ k }}{% else %}empty{% endfor %}", "{\"d\": []}"},
    {"{% for c in s %}[{{ c }}]{% endfor %}", "{\"s\": \"h\xc3\xa9!\"}"},
    {"{% for x in l %}{% for y in x %}{{ loop.index0 }}{{ y }}{% endfor %}/{% endfor %}",
     "{\"l\": [[1, 2], [3]]}"},
    {"  {%- if a -%}  \n  x  \n  {%- endif -%}  \nend", "{\"a\": 1}"},
    {"line\n{# a comment #}\n{{- ' tight' -}}\n  done\n\n", "{}"},
    {"{% raw %}{{ not rendered }}{% endraw %}", "{}"},
    {"{{ u.name }} {{ u['name'] }} {{ l[0] }} {{ l[-1] }} {{ u.nope }}",
     "{\"u\": {\"name\": \"al\"}, \"l\": [5, 6]}"},
    {"{{ 'a' ~ n ~ \"b\" }} {{ 1 == 1.0 }} {{ 'x' in 'xyz' }} {{ 3 not in l }}",
     "{\"n\": 2, \"l\": [1, 2]}"},
    {"{{ a < b }} {{ 's' <= 't' }} {{ x is defined }} {{ y is not none }}",
     "{\"a\": 1, \"b\": 2.5, \"y\": null}"},
    {"crlf\r\nline\r\n", "{}"},
    {"{{ \"it's\" }} {{ '\\n' == \"\\n\" }}", "{}"},
    {"\xc3\xa9{{ name }}\xe5\x90\x8d", "{\"name\": \"\xc3\xbc\"}"},
};

/* Render every case with Debian's python3-jinja2; NULL when it is not installed. */
static json_t *jinja_outputs(void)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        return NULL;
    char in[] = "/tmp/gm-jinja-in-XXXXXX", out[] = "/tmp/gm-jinja-out-XXXXXX";
    int fd_in = mkstemp(in), fd_out = mkstemp(out);
    assert_true(fd_in >= 0 && fd_out >= 0);
    json_t *cases = json_array();
    for (size_t i = 0; i < sizeof(jinja_cases) / sizeof(*jinja_cases); i++)
        json_array_append_new(cases,
                              json_pack("[so]", jinja_cases[i].tmpl, parse(jinja_cases[i].vars)));
    assert_int_eq(json_dumpfd(cases, fd_in, 0), 0);
    json_decref(cases);
    close(fd_in);
    close(fd_out);
    static const char script[] =
        "import json, sys\n"
        "try:\n    import jinja2\nexcept ImportError:\n    sys.exit(3)\n"
        "cases = json.load(open(sys.argv[1]))\n"
        "json.dump([jinja2.Template(t).render(**v) for t, v in cases], open(sys.argv[2], 'w'))\n";
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", "-c", script, in, out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    json_t *res = NULL;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        res = json_load_file(out, 0, NULL);
    unlink(in);
    unlink(out);
    return res;
}

static void test_jinja_against_jinja2(void **state)
{
    (void)state;
    char *s;
    json_t *vars = parse(slurm_vars);
    struct gm_template_error err = {0};
    assert_int_eq(gm_render(slurm, vars, 0, &s, &err), 0);
    assert_string_equal(s, slurm_expected);
    free(s);
    json_decref(vars);
    json_t *want = jinja_outputs();
    if (!want) {
        printf("# python3-jinja2 is not installed: compared with transcribed output only\n");
        return;
    }
    assert_int_eq(json_array_size(want), sizeof(jinja_cases) / sizeof(*jinja_cases));
    assert_string_equal(json_string_value(json_array_get(want, 0)), slurm_expected);
    for (size_t i = 0; i < sizeof(jinja_cases) / sizeof(*jinja_cases); i++) {
        vars = parse(jinja_cases[i].vars);
        s = NULL;
        int r = gm_render(jinja_cases[i].tmpl, vars, 0, &s, &err);
        if (r != 0)
            fail_msg("case %zu: %s", i, err.message);
        const char *j = json_string_value(json_array_get(want, i));
        if (strcmp(s, j) != 0)
            fail_msg("case %zu: we render\n%s\nJinja renders\n%s", i, s, j);
        free(s);
        json_decref(vars);
    }
    json_decref(want);
}

static void test_jinja_errors(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl;
        int r;
        const char *msg;
        unsigned line;
    } bad[] = {
        {"a\n{{ x ", -EINVAL, "not closed", 2},
        {"{% if x %}never closed", -EINVAL, "endif", 1},
        {"{% for x in l %}\n{% if x %}\n{% endfor %}", -EINVAL, "endif", 3},
        {"text\n{% endif %}", -EINVAL, "without the block", 2},
        {"{% set x = 1 %}", -EINVAL, "'set' is not supported", 1},
        {"{{ x | upper }}", -EINVAL, "filters", 1},
        {"{{ f(x) }}", -EINVAL, "calls", 1},
        {"{{ 'open }}", -EINVAL, "string is not closed", 1},
        {"{{ }}", -EINVAL, "missing", 1},
        {"{# open", -EINVAL, "comment", 1},
        {"{% raw %}x", -EINVAL, "endraw", 1},
        {"{% for a, b in d %}{% endfor %}", -EINVAL, "unpacking", 1},
        {"{{ x + 1 }}", -EINVAL, "arithmetic", 1},
        {"{{ missing.attr }}", -ENOENT, "'missing' is undefined", 1},
        {"{{ 1 < 'a' }}", -EINVAL, "'<' not supported between instances of 'int' and 'str'", 1},
        {"{% for x in 3 %}{% endfor %}", -EINVAL, "not iterable", 1},
        {"{{ 99999999999999999999 }}", -EINVAL, "too large", 1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char *s = NULL;
        struct gm_template_error err = {0};
        int r = gm_render(bad[i].tmpl, NULL, 0, &s, &err);
        if (r != bad[i].r || !strstr(err.message, bad[i].msg) || err.line != bad[i].line)
            fail_msg("%s: %d %s (line %u)", bad[i].tmpl, r, err.message, err.line);
        assert_null(s);
    }
    struct gm_template_error err = {0};
    assert_int_eq(gm_render_check("{% if a %}{{ b }}{% endif %}", &err), 0);
    assert_int_eq(gm_render_check("{% if a %}", &err), -EINVAL);
    assert_non_null(strstr(err.message, "line 1"));
}

static void test_jinja_caps(void **state)
{
    (void)state;
    char *s = NULL;
    struct gm_template_error err = {0};
    /* Nesting. */
    char deep[64 * 12 + 1] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "{% if 1 %}"); /* test code: fixed sizes */
    assert_int_eq(gm_render(deep, NULL, 0, &s, &err), -E2BIG);
    assert_non_null(strstr(err.message, "nested"));
    char parens[200] = "{{ ";
    for (int i = 0; i < 40; i++)
        strcat(parens, "(");
    strcat(parens, "1");
    for (int i = 0; i < 40; i++)
        strcat(parens, ")");
    strcat(parens, " }}");
    assert_int_eq(gm_render(parens, NULL, 0, &s, &err), -E2BIG);
    /* Output. */
    json_t *v = json_pack("{ss}", "x", "0123456789");
    assert_int_eq(gm_render("{{ x }}{{ x }}", v, 15, &s, &err), -E2BIG);
    assert_non_null(strstr(err.message, "larger than 15"));
    assert_int_eq(gm_render("{{ x }}", v, 10, &s, &err), 0);
    free(s);
    /* Loops: 1000 x 1000 iterations that print nothing. */
    json_t *l = json_array();
    for (int i = 0; i < 1000; i++)
        json_array_append_new(l, json_integer(i));
    json_object_set_new(v, "l", l);
    assert_int_eq(
        gm_render("{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}", v, 0, &s, &err),
        -E2BIG);
    assert_non_null(strstr(err.message, "loops"));
    /* format_template's choice. */
    assert_int_eq(gm_format_or_render("{x}-{{ x }}", v, 0, &s, &err), 0);
    assert_string_equal(s, "{x}-0123456789");
    free(s);
    assert_int_eq(gm_format_or_render("sudo -E -u {x}", v, 0, &s, &err), 0);
    assert_string_equal(s, "sudo -E -u 0123456789");
    free(s);
    assert_int_eq(gm_format_or_render("{nope}", v, 0, &s, &err), -ENOENT);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_slugs),
        cmocka_unit_test(test_pod_names),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_jinja_against_jinja2),
        cmocka_unit_test(test_jinja_errors),
        cmocka_unit_test(test_jinja_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
