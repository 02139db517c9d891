/* spawners/slurm/slurm_script.c, slurm_queue.c, slurm_form.c and slurm_sbatch.c with the
 * module's real defaults (its option tables and init): batchspawner's script and commands, what
 * squeue, sbatch and scontrol print, the queue messages, the form's limits, and the script's
 * #SBATCH directives as slurmrestd's job properties. */
#include "test.h"
#include "core/options.h"
#include "spawners/slurm/slurm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct gm_spawner spawn_slurm;

struct fixture {
    struct slurm_conf conf;
    struct slurm_state *st;
};

static void classes_init(struct slurm_conf *c)
{
    memset(c, 0, sizeof(*c));
    for (const struct gm_option_class *const *a = spawn_slurm.ancestors; *a; a++)
        assert_int_equal(options_init(*a, c), 0);
    assert_int_equal(options_init(spawn_slurm.options, c), 0);
}

static void classes_release(struct slurm_conf *c)
{
    options_release(spawn_slurm.options, c);
    for (const struct gm_option_class *const *a = spawn_slurm.ancestors; *a; a++)
        options_release(*a, c);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    classes_init(&f->conf);
    char err[512] = "";
    struct gm_host host = {0};
    void *st = NULL;
    if (spawn_slurm.init(&host, &f->conf, &st, err, sizeof(err)) != 0)
        fail_msg("init: %s", err);
    f->st = st;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    spawn_slurm.destroy(f->st);
    classes_release(&f->conf);
    free(f);
    return 0;
}

static const char *const env[] = {"PATH=/usr/bin", "JUPYTERHUB_API_TOKEN=secret",
                                  "JUPYTERHUB_SERVICE_URL=http://0.0.0.0:0/user/alice/", NULL};
static const char *const argv[] = {"jupyterhub-singleuser", "--debug", "two words", NULL};

/* batchspawner's SlurmSpawner script, rendered for the defaults: what its Jinja gives. */
static void test_default_script(void **state)
{
    struct fixture *f = *state;
    json_t *vars = slurm_vars(&f->conf, "alice", "/home/alice", env, argv);
    assert_non_null(vars);
    char *script = NULL, err[300];
    assert_int_equal(slurm_format("batch_script", f->conf.batch_script, vars, SLURM_SCRIPT_MAX,
                                  &script, err, sizeof(err)),
                     0);
    const char *want = "#!/bin/bash\n"
                       "#SBATCH --output=/home/alice/jupyterhub_slurmspawner_%j.log\n"
                       "#SBATCH --job-name=spawner-jupyterhub\n"
                       "#SBATCH --chdir=/home/alice\n"
                       "#SBATCH --export=PATH,JUPYTERHUB_API_TOKEN,JUPYTERHUB_SERVICE_URL\n"
                       "#SBATCH --get-user-env=L\n"
                       "\n"
                       "\n"
                       "set -euo pipefail\n"
                       "\n"
                       "trap 'echo SIGTERM received' TERM\n"
                       "\n"
                       "srun batchspawner-singleuser jupyterhub-singleuser --debug 'two words'\n"
                       "echo \"jupyterhub-singleuser ended gracefully\"\n";
    assert_string_equal(script, want);
    free(script);
    json_decref(vars);
}

static void test_script_requests(void **state)
{
    struct fixture *f = *state;
    free(f->conf.req_partition);
    f->conf.req_partition = strdup("gpu");
    free(f->conf.req_ngpus);
    f->conf.req_ngpus = strdup("2");
    free(f->conf.req_account);
    f->conf.req_account = strdup("physics");
    free(f->conf.req_keepvars_extra);
    f->conf.req_keepvars_extra = strdup("SLURM_CONF");
    json_t *vars = slurm_vars(&f->conf, "alice", "/home/alice", env, argv);
    char *script = NULL, err[300];
    assert_int_equal(slurm_format("batch_script", f->conf.batch_script, vars, SLURM_SCRIPT_MAX,
                                  &script, err, sizeof(err)),
                     0);
    assert_non_null(strstr(script, "#SBATCH --partition=gpu\n"));
    assert_non_null(strstr(script, "#SBATCH --gres=gpu:2\n"));
    assert_non_null(strstr(script, "#SBATCH --account=physics\n"));
    assert_non_null(strstr(script, "--export=PATH,JUPYTERHUB_API_TOKEN,JUPYTERHUB_SERVICE_URL,"
                                   "SLURM_CONF\n"));
    assert_null(strstr(script, "--qos"));
    free(script);
    /* An old-style script: str.format, as batchspawner keeps for scripts without Jinja. */
    assert_int_equal(slurm_format("batch_script", "#SBATCH -p {partition}\n{cmd}", vars, 4096,
                                  &script, err, sizeof(err)),
                     0);
    assert_string_equal(script, "#SBATCH -p gpu\nbatchspawner-singleuser jupyterhub-singleuser "
                                "--debug 'two words'");
    free(script);
    assert_int_equal(
        slurm_format("batch_script", "{nosuch}", vars, 4096, &script, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "nosuch"));
    json_decref(vars);
}

static void test_command_lines(void **state)
{
    struct fixture *f = *state;
    json_t *vars = slurm_vars(&f->conf, "alice", "/home/alice", env, argv);
    json_object_set_new(vars, "job_id", json_string("42"));
    char *line = NULL, err[300];
    assert_int_equal(slurm_command_line(&f->conf, "batch_submit_cmd", f->conf.batch_submit_cmd,
                                        vars, &line, err, sizeof(err)),
                     0);
    assert_string_equal(line, "sudo -E -u alice sbatch --parsable");
    free(line);
    assert_int_equal(slurm_command_line(&f->conf, "batch_query_cmd", f->conf.batch_query_cmd, vars,
                                        &line, err, sizeof(err)),
                     0);
    assert_string_equal(line, "sudo -E -u alice squeue -h -j 42 -o '%T %B'");
    free(line);
    free(f->conf.exec_prefix);
    f->conf.exec_prefix = strdup("");
    assert_int_equal(slurm_command_line(&f->conf, "batch_cancel_cmd", f->conf.batch_cancel_cmd,
                                        vars, &line, err, sizeof(err)),
                     0);
    assert_string_equal(line, "scancel 42");
    free(line);
    json_decref(vars);
    /* A user name is one word to the shell, whatever it holds. */
    free(f->conf.exec_prefix);
    f->conf.exec_prefix = strdup("sudo -E -u {username}");
    vars = slurm_vars(&f->conf, "a;touch /tmp/x", "/home/x", env, argv);
    assert_int_equal(slurm_command_line(&f->conf, "batch_submit_cmd", f->conf.batch_submit_cmd,
                                        vars, &line, err, sizeof(err)),
                     0);
    assert_string_equal(line, "sudo -E -u 'a;touch /tmp/x' sbatch --parsable");
    free(line);
    json_decref(vars);
}

static void id_is(const char *out, int want_r, const char *want)
{
    char id[SLURM_JOB_ID_MAX] = "";
    assert_int_equal(slurm_parse_job_id(out, id), want_r);
    if (want)
        assert_string_equal(id, want);
}

static void test_job_id(void **state)
{
    id_is("209\n", 0, "209");
    id_is("sbatch: warning: something\n1234;cluster1\n", 0, "1234");
    id_is("Submitted batch job 209\n", -EINVAL, NULL);
    id_is("", -EINVAL, NULL);
    id_is("12a\n", -EINVAL, NULL);
    id_is("123456789012345678901234567890123456789012345678901234567890123456789\n", -EINVAL, NULL);
}

static void test_classify(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(slurm_classify(f->st, "PENDING n/a"), SLURM_JOB_PENDING);
    assert_int_equal(slurm_classify(f->st, "CONFIGURING node1"), SLURM_JOB_PENDING);
    assert_int_equal(slurm_classify(f->st, "RUNNING node1"), SLURM_JOB_RUNNING);
    assert_int_equal(slurm_classify(f->st, "COMPLETING node1"), SLURM_JOB_RUNNING);
    assert_int_equal(slurm_classify(f->st, ""), SLURM_JOB_NOTFOUND);
    assert_int_equal(slurm_classify(f->st, "CANCELLED node1"), SLURM_JOB_NOTFOUND);
    assert_int_equal(slurm_classify(f->st, "slurm_load_jobs error: Invalid job id specified"),
                     SLURM_JOB_NOTFOUND);
    assert_int_equal(slurm_classify(f->st,
                                    "slurm_load_jobs error: Unable to contact slurm controller "
                                    "(connect failure)"),
                     SLURM_JOB_UNKNOWN);
    char host[SLURM_HOST_MAX + 1];
    assert_int_equal(slurm_exechost(f->st, "RUNNING node-7.cluster", host), 0);
    assert_string_equal(host, "node-7.cluster");
    assert_int_equal(slurm_exechost(f->st, "PENDING", host), -ENOENT);
    free(f->conf.state_exechost_exp);
    f->conf.state_exechost_exp = strdup("\\1.ib.cluster");
    assert_int_equal(slurm_exechost(f->st, "RUNNING node7", host), 0);
    assert_string_equal(host, "node7.ib.cluster");
}

static void test_queue_messages(void **state)
{
    char msg[SLURM_MESSAGE_MAX];
    const char *q = "7|debug|Priority|N/A\n"
                    "9|gpu|Resources|2026-12-07T10:05:00\n"
                    "8|debug|Resources|2026-12-07T10:30:00\n"
                    "12|debug|JobHeldUser|N/A\n";
    assert_int_equal(slurm_queue_message("8", q, msg, sizeof(msg)), 0);
    assert_string_equal(msg, "Job 8 is waiting in the queue of partition debug: 2nd of 3 pending "
                             "there. Why: the CPUs, memory or GPUs it asks for are in use by "
                             "other jobs (Resources). SLURM expects to start it at 2026-12-07 "
                             "10:30:00.");
    assert_int_equal(slurm_queue_message("9", q, msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "1st of 1 pending"));
    assert_int_equal(slurm_queue_message("12", q, msg, sizeof(msg)), 0);
    assert_non_null(strstr(msg, "is held"));
    assert_non_null(strstr(msg, "JobHeldUser"));
    assert_int_equal(slurm_queue_message("99", q, msg, sizeof(msg)), -ENOENT);
    assert_int_equal(slurm_queue_message("7", "garbage\n7 debug\n", msg, sizeof(msg)), -ENOENT);
    assert_string_equal(slurm_reason_words("ReqNodeNotAvail, UnavailableNodes:n[1-3]"),
                        "the nodes it needs are not available (down, drained or reserved)");
    assert_non_null(slurm_reason_words("QOSMaxWallDurationPerJobLimit"));
    assert_null(slurm_reason_words("SomethingNew"));
}

static void test_job_info(void **state)
{
    struct slurm_job_info info;
    memset(&info, 0, sizeof(info));
    const char *out = "JobId=3 JobName=wrap UserId=alice(1000) JobState=FAILED Reason="
                      "NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:01 "
                      "StdErr=/home/alice/out.log StdIn=/dev/null StdOut=/home/alice/out.log\n";
    assert_int_equal(slurm_parse_job_info(out, &info), 0);
    assert_string_equal(info.state, "FAILED");
    assert_string_equal(info.exit_code, "3:0");
    assert_string_equal(info.reason, "NonZeroExitCode");
    assert_string_equal(info.std_out, "/home/alice/out.log");
    assert_int_equal(slurm_parse_job_info("slurm_load_jobs error: Invalid job id", &info), -ENOENT);
}

static void form_check_fails(const char *json, const char *part)
{
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    char err[SLURM_MESSAGE_MAX] = "";
    assert_int_equal(slurm_form_check(o, err, sizeof(err)), -EINVAL);
    if (!strstr(err, part))
        fail_msg("%s: '%s' does not say '%s'", json, err, part);
    json_decref(o);
}

static void test_form(void **state)
{
    form_check_fails("{\"cmd\": {\"choices\": [\"x\"]}}", "'cmd' is not a field");
    form_check_fails("{\"nprocs\": {\"min\": 4, \"max\": 2}}", "min <= max");
    form_check_fails("{\"partition\": {\"choices\": []}}", "needs choices");
    form_check_fails("{\"partition\": {\"choices\": [\"a\"], \"default\": \"b\"}}",
                     "not one of the choices");
    json_t *opts = json_loads("{\"partition\": {\"choices\": [\"debug\", \"gpu\"]}, "
                              "\"nprocs\": {\"min\": 1, \"max\": 4, \"default\": 2}}",
                              0, NULL);
    char err[SLURM_MESSAGE_MAX] = "";
    assert_int_equal(slurm_form_check(opts, err, sizeof(err)), 0);
    json_t *vars = json_object();
    json_t *uo = json_pack("{s:s,s:i,s:s}", "partition", "gpu", "nprocs", 3, "cmd", "rm -rf /");
    assert_int_equal(slurm_form_values(opts, uo, vars, err, sizeof(err)), 0);
    assert_string_equal(json_string_value(json_object_get(vars, "partition")), "gpu");
    assert_string_equal(json_string_value(json_object_get(vars, "nprocs")), "3");
    assert_null(json_object_get(vars, "cmd")); /* only what the form offers */
    json_decref(uo);
    uo = json_pack("{s:s}", "nprocs", "9");
    assert_int_equal(slurm_form_values(opts, uo, vars, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "nprocs"));
    json_decref(uo);
    uo = json_pack("{s:s}", "partition", "debug\n#SBATCH --uid=0");
    assert_int_equal(slurm_form_values(opts, uo, vars, err, sizeof(err)), -EINVAL);
    json_decref(uo);
    json_decref(vars);
    json_decref(opts);
}

/* slurm_sbatch.c: the module's own script, as slurmrestd is given it. */
static void test_rest_job_of_default_script(void **state)
{
    struct fixture *f = *state;
    const char *set[][2] = {{"req_partition", "gpu"},
                            {"req_runtime", "1:30:00"},
                            {"req_memory", "4G"},
                            {"req_nprocs", "2"}};
    char **fields[] = {&f->conf.req_partition, &f->conf.req_runtime, &f->conf.req_memory,
                       &f->conf.req_nprocs};
    for (size_t i = 0; i < 4; i++) {
        free(*fields[i]);
        *fields[i] = strdup(set[i][1]);
    }
    const char *const job_env[] = {"PATH=/usr/bin", "JUPYTERHUB_API_TOKEN=secret",
                                   "JUPYTERHUB_SERVICE_URL=http://0.0.0.0:0/user/alice/",
                                   "HOME=/home/alice", NULL};
    const char *const kept[] = {"PATH=/usr/bin", "JUPYTERHUB_API_TOKEN=secret", NULL};
    json_t *vars = slurm_vars(&f->conf, "alice", "/home/alice", kept, argv);
    char *script = NULL, err[300] = "";
    assert_int_equal(slurm_format("batch_script", f->conf.batch_script, vars, SLURM_SCRIPT_MAX,
                                  &script, err, sizeof(err)),
                     0);
    json_t *sub = NULL;
    if (slurm_rest_job(script, job_env, &sub, err, sizeof(err)) != 0)
        fail_msg("slurm_rest_job: %s", err);
    assert_string_equal(json_string_value(json_object_get(sub, "script")), script);
    const json_t *job = json_object_get(sub, "job");
    assert_string_equal(json_string_value(json_object_get(job, "name")), "spawner-jupyterhub");
    assert_string_equal(json_string_value(json_object_get(job, "standard_output")),
                        "/home/alice/jupyterhub_slurmspawner_%j.log");
    assert_string_equal(json_string_value(json_object_get(job, "current_working_directory")),
                        "/home/alice");
    /* slurmrestd 22.05 takes sbatch's own value ("L"), not the boolean its schema says. */
    assert_string_equal(json_string_value(json_object_get(job, "get_user_environment")), "L");
    assert_string_equal(json_string_value(json_object_get(job, "partition")), "gpu");
    assert_int_equal(json_integer_value(json_object_get(job, "time_limit")), 90);
    assert_int_equal(json_integer_value(json_object_get(job, "memory_per_node")), 4096);
    assert_int_equal(json_integer_value(json_object_get(job, "cpus_per_task")), 2);
    /* --export={{keepvars}}: the names kept, from the environment the job is given. */
    const json_t *e = json_object_get(job, "environment");
    assert_int_equal(json_object_size(e), 2);
    assert_string_equal(json_string_value(json_object_get(e, "PATH")), "/usr/bin");
    assert_string_equal(json_string_value(json_object_get(e, "JUPYTERHUB_API_TOKEN")), "secret");
    json_decref(sub);
    free(script);
    json_decref(vars);
}

static json_t *job_of(const char *script, const char *const *job_env)
{
    json_t *sub = NULL;
    char err[300] = "";
    if (slurm_rest_job(script, job_env, &sub, err, sizeof(err)) != 0)
        fail_msg("slurm_rest_job(%s): %s", script, err);
    json_t *job = json_incref(json_object_get(sub, "job"));
    json_decref(sub);
    return job;
}

static void test_rest_job_directive_forms(void **state)
{
    (void)state;
    const char *const none[] = {NULL};
    const char *const env2[] = {"A=1", "B=2", NULL};
    json_t *job = job_of("#!/bin/sh\n"
                         "# a comment\n"
                         "\n"
                         "#SBATCH -p debug -t 2-12 --mem=512K -c4\n"
                         "#SBATCH -N 1-2 --hold --job-name \"my job\" # not an option\n"
                         "#SBATCH --nodes=3\n"
                         "  #SBATCH --qos=long\n"
                         "echo hi\n"
                         "#SBATCH --account=late\n",
                         env2);
    assert_string_equal(json_string_value(json_object_get(job, "partition")), "debug");
    assert_int_equal(json_integer_value(json_object_get(job, "time_limit")), 2 * 1440 + 12 * 60);
    assert_int_equal(json_integer_value(json_object_get(job, "memory_per_node")), 1);
    assert_int_equal(json_integer_value(json_object_get(job, "cpus_per_task")), 4);
    assert_int_equal(json_array_size(json_object_get(job, "nodes")), 1); /* the last one */
    assert_int_equal(json_integer_value(json_array_get(json_object_get(job, "nodes"), 0)), 3);
    assert_true(json_is_true(json_object_get(job, "hold")));
    assert_string_equal(json_string_value(json_object_get(job, "name")), "my job");
    assert_string_equal(json_string_value(json_object_get(job, "qos")), "long");
    assert_null(json_object_get(job, "account")); /* after the first command: sbatch ignores it */
    /* No --export: ALL. */
    assert_int_equal(json_object_size(json_object_get(job, "environment")), 2);
    json_decref(job);

    job = job_of("#SBATCH --export=NONE\nrun\n", env2);
    assert_string_equal(json_string_value(json_object_get(job, "get_user_environment")), "0");
    const json_t *e = json_object_get(job, "environment");
    assert_int_equal(json_object_size(e), 1); /* slurmrestd wants one */
    assert_string_equal(json_string_value(json_object_get(e, "SLURM_EXPORT_ENV")), "NONE");
    json_decref(job);

    job = job_of("#SBATCH --export=ALL,C=3,B=x\nrun\n", env2);
    e = json_object_get(job, "environment");
    assert_int_equal(json_object_size(e), 3);
    assert_string_equal(json_string_value(json_object_get(e, "B")), "x");
    assert_string_equal(json_string_value(json_object_get(e, "C")), "3");
    json_decref(job);

    job = job_of("#SBATCH --export=B,NOSUCH\nrun\n", env2);
    e = json_object_get(job, "environment");
    assert_int_equal(json_object_size(e), 1);
    assert_string_equal(json_string_value(json_object_get(e, "B")), "2");
    json_decref(job);

    job = job_of("#SBATCH --no-requeue --get-user-env -Jshort\n", none);
    assert_string_equal(json_string_value(json_object_get(job, "get_user_environment")), "0");
    assert_true(json_is_false(json_object_get(job, "requeue")));
    assert_string_equal(json_string_value(json_object_get(job, "name")), "short");
    json_decref(job);
}

static void test_rest_job_refusals(void **state)
{
    (void)state;
    const char *const none[] = {NULL};
    static const struct {
        const char *script, *says;
    } bad[] = {
        {"#SBATCH --clusters=other\n", "--clusters=other"},
        {"#SBATCH -M other\n", "-M"},
        {"#SBATCH --time=soon\n", "--time=soon"},
        {"#SBATCH --time=1:2:3:4\n", "--time"},
        {"#SBATCH --mem=4Q\n", "--mem=4Q"},
        {"#SBATCH --cpus-per-task=-1\n", "--cpus-per-task"},
        {"#SBATCH --cpus-per-task\n", "needs a value"},
        {"#SBATCH --hold=yes\n", "takes no value"},
        {"#SBATCH --nodes=3-1\n", "--nodes"},
        {"#SBATCH --export=A,=x\n", "without a name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *sub = NULL;
        char err[300] = "";
        assert_int_equal(slurm_rest_job(bad[i].script, none, &sub, err, sizeof(err)), -EINVAL);
        assert_null(sub);
        if (!strstr(err, bad[i].says))
            fail_msg("%s: '%s' does not say %s", bad[i].script, err, bad[i].says);
    }
}

static void test_slurm_times_and_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        long minutes;
    } times[] = {{"30", 30},       {"30:01", 31},     {"1:30:00", 90}, {"2-12", 3600},
                 {"1-0:30", 1470}, {"1-0:0:1", 1441}, {"0", 0}};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        long m = -1;
        assert_int_equal(slurm_parse_minutes(times[i].in, &m), 0);
        assert_int_equal(m, times[i].minutes);
    }
    const char *bad_times[] = {"", "x", "1:", "-1", "1-", "1:2:3:4", "1-2-3", "1:-2", "INFINITE"};
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        long m;
        if (slurm_parse_minutes(bad_times[i], &m) == 0)
            fail_msg("'%s' read as %ld minutes", bad_times[i], m);
    }
    static const struct {
        const char *in;
        long mb;
    } sizes[] = {{"4000", 4000},  {"512M", 512}, {"4G", 4096},  {"4g", 4096},
                 {"1T", 1048576}, {"1025K", 2},  {"2GB", 2048}, {"0", 0}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        long mb = -1;
        assert_int_equal(slurm_parse_megabytes(sizes[i].in, &mb), 0);
        assert_int_equal(mb, sizes[i].mb);
    }
    const char *bad_sizes[] = {"", "G", "4X", "4GiB", "-1", "99999999999999T"};
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        long mb;
        if (slurm_parse_megabytes(bad_sizes[i], &mb) == 0)
            fail_msg("'%s' read as %ld MB", bad_sizes[i], mb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_script, setup, teardown),
        cmocka_unit_test_setup_teardown(test_script_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_lines, setup, teardown),
        cmocka_unit_test(test_job_id),
        cmocka_unit_test_setup_teardown(test_classify, setup, teardown),
        cmocka_unit_test(test_queue_messages),
        cmocka_unit_test(test_job_info),
        cmocka_unit_test(test_form),
        cmocka_unit_test_setup_teardown(test_rest_job_of_default_script, setup, teardown),
        cmocka_unit_test(test_rest_job_directive_forms),
        cmocka_unit_test(test_rest_job_refusals),
        cmocka_unit_test(test_slurm_times_and_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
