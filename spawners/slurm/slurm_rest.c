/* The slurmrestd backend (SlurmSpawner.slurmrestd_url): the job is submitted, queried and
 * cancelled through SLURM's REST API (OpenAPI plugin v0.0.38, auth/jwt) instead of sbatch,
 * squeue and scancel, with gm_fetch on the hub's loop.
 *
 * Each request completes as the command it stands for would have: the same struct
 * gm_command_result, with what the command prints (sbatch --parsable's job id, squeue's
 * "%T %B", scontrol's JobState=... fields, the queue's "id|partition|reason|start" lines), so
 * slurm_job.c runs one sequence for both backends and batchspawner's state_*_re read both.
 *
 * The token (SlurmSpawner.slurmrestd_token, else $SLURM_JWT) is SlurmUser's or root's: the
 * request names the user in X-SLURM-USER-NAME and slurmrestd runs the job as that user. It goes
 * in a header only, never in a log or a message. */
#include "slurm.h"

#include <errno.h>
#include <ganymede/buf.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ESLURM_INVALID_JOB_ID 2017       /* slurm_errno.h: the controller does not know the job */
#define REST_LIST_MAX         (32 << 20) /* GET /jobs of a busy cluster */

#define REST_OUT_MAX (4 << 20) /* the queue's lines */

/* A buffer's text ("" while empty). */
static const char *text(const struct gm_buf *b)
{
    return b->data ? b->data : "";
}

/* Reads an answer into what the command would have printed (@out, @err, @exit_status). */
typedef void (*translate_fn)(const struct gm_fetch_response *resp, struct gm_buf *out,
                             struct gm_buf *err, int *exit_status);

struct rest_call {
    struct slurm_server *srv;
    slurm_step_cb next;
    translate_fn translate;
};

/* The errors slurmrestd put in its answer ("Invalid job id specified (2017)"), and whether
 * one of them is @code. */
static bool rest_errors(const json_t *answer, struct gm_buf *err, int code)
{
    bool found = false;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(answer, "errors"), i, e)
    {
        const char *what = json_string_value(json_object_get(e, "error"));
        const char *desc = json_string_value(json_object_get(e, "description"));
        json_int_t num = json_integer_value(json_object_get(e, "error_number"));
        if (!num)
            num = json_integer_value(json_object_get(e, "error_code"));
        if (num == code)
            found = true;
        gm_buf_printf(err, "%s%s%s%s (%lld)", i ? "; " : "", what ? what : "error",
                      desc ? ": " : "", desc ? desc : "", (long long)num);
    }
    return found;
}

static void on_response(void *data, const struct gm_fetch_response *resp)
{
    struct rest_call *call = data;
    struct slurm_server *srv = call->srv;
    srv->fetch = NULL;
    srv->step = NULL;
    struct gm_buf out, err;
    gm_buf_init(&out, REST_OUT_MAX);
    gm_buf_init(&err, SLURM_STATUS_MAX);
    int exit_status = 1;
    char message[300] = "";
    struct gm_command_result res = {0};
    if (resp->error || resp->status == 0) {
        /* No answer: like a command that did not run to its end (the job is UNKNOWN). */
        snprintf(message, sizeof(message), "slurmrestd did not answer: %s", resp->message);
        res.error = resp->error ? resp->error : -EIO;
        gm_buf_puts(&err, message);
    } else {
        call->translate(resp, &out, &err, &exit_status);
        snprintf(message, sizeof(message), "slurmrestd answered %d", resp->status);
        if (exit_status == 0)
            message[0] = '\0';
    }
    if (out.error) {
        res.error = out.error;
        snprintf(message, sizeof(message), "the answer of slurmrestd is too large");
    }
    res.exit_status = res.error ? 127 : exit_status;
    res.out = text(&out);
    res.err = text(&err);
    res.message = message;
    slurm_step_ended(srv, &res);
    slurm_step_cb next = call->next;
    free(call);
    next(srv, &res);
    gm_buf_free(&out);
    gm_buf_free(&err);
}

/* Start a request for @srv; @next runs with its result. Returns 0, or a negative errno and
 * @next never runs. */
static int request(struct slurm_server *srv, enum slurm_command_kind kind, const char *method,
                   const char *path, const char *body, size_t max_response, translate_fn translate,
                   slurm_step_cb next)
{
    const struct slurm_state *st = srv->st;
    const struct slurm_conf *conf = st->conf;
    for (const char *p = srv->user; *p; p++)
        if ((unsigned char)*p < 0x20)
            return -EINVAL; /* never a header of the user's making */
    struct rest_call *call = calloc(1, sizeof(*call));
    char url[2048], user_header[320], token_header[4200];
    if (!call)
        return -ENOMEM;
    *call = (struct rest_call){.srv = srv, .next = next, .translate = translate};
    snprintf(url, sizeof(url), "%s/slurm/%s/%s", st->rest_url, conf->slurmrestd_api_version, path);
    snprintf(user_header, sizeof(user_header), "X-SLURM-USER-NAME: %s", srv->user);
    snprintf(token_header, sizeof(token_header), "X-SLURM-USER-TOKEN: %s", st->rest_token);
    const char *headers[] = {user_header, token_header, "Content-Type: application/json",
                             "Accept: application/json", NULL};
    struct gm_fetch_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = (long)(conf->command_timeout * 1000),
        .max_response = max_response,
        .ca_file = conf->slurmrestd_ca_file[0] ? conf->slurmrestd_ca_file : NULL,
    };
    slurm_step_started(srv, kind);
    int r = gm_fetch_start(st->host->fetcher, &req, on_response, call, &srv->fetch);
    explicit_bzero(token_header, sizeof(token_header));
    if (r == 0)
        srv->step = call; /* freed by cancel_step when cancelled */
    if (r < 0) {
        free(call);
        struct gm_command_result res = {.error = r, .exit_status = 127, .out = "", .err = ""};
        slurm_step_ended(srv, &res);
    }
    return r;
}

static json_t *parse_answer(const struct gm_fetch_response *resp, struct gm_buf *err)
{
    json_t *answer = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (!json_is_object(answer)) {
        gm_buf_printf(err, "slurmrestd answered %d with no JSON object: %.200s", resp->status,
                      resp->body);
        json_decref(answer);
        return NULL;
    }
    return answer;
}

/* A job id fit for a URL: what sbatch and slurmrestd give are digits. */
static bool url_job_id(const char *id)
{
    if (!id[0])
        return false;
    for (const char *p = id; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* A request about the server's job: job/ID. */
static int job_request(struct slurm_server *srv, enum slurm_command_kind kind, const char *method,
                       translate_fn translate, slurm_step_cb next)
{
    char path[SLURM_JOB_ID_MAX + 8];
    if (!url_job_id(srv->job_id))
        return -EINVAL;
    snprintf(path, sizeof(path), "job/%s", srv->job_id);
    return request(srv, kind, method, path, NULL, 0, translate, next);
}

/* Submitting: the script, its directives as the job's properties. */

static void translate_submit(const struct gm_fetch_response *resp, struct gm_buf *out,
                             struct gm_buf *err, int *exit_status)
{
    json_t *answer = parse_answer(resp, err);
    if (!answer)
        return;
    const json_t *id = json_object_get(answer, "job_id");
    if (resp->status == 200 && json_is_integer(id)) {
        gm_buf_printf(out, "%lld\n", (long long)json_integer_value(id));
        const char *msg = json_string_value(json_object_get(answer, "job_submit_user_msg"));
        if (msg && msg[0])
            gm_log_info("slurmrestd: %s", msg);
        *exit_status = 0;
    } else {
        rest_errors(answer, err, 0);
        if (resp->status == 401 || resp->status == 403 || strstr(text(err), "(5005)"))
            gm_buf_puts(err, " (is SlurmSpawner.slurmrestd_token a valid JWT of root or "
                             "SlurmUser?)");
    }
    json_decref(answer);
}

int slurm_rest_submit(struct slurm_server *srv, const char *script, const char *const *env,
                      slurm_step_cb next, char *err, size_t errlen)
{
    json_t *job = NULL;
    int r = slurm_rest_job(script, env, &job, err, errlen);
    if (r < 0)
        return r;
    char *body = json_dumps(job, JSON_COMPACT);
    json_decref(job);
    if (!body) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r = request(srv, SLURM_CMD_SUBMIT, "POST", "job/submit", body, 0, translate_submit, next);
    free(body);
    if (r < 0)
        snprintf(err, errlen, "cannot reach slurmrestd: %s", strerror(-r));
    return r;
}

/* The job: its state and host (squeue -o '%T %B'), or what it left (scontrol show job). */

static const json_t *the_job(const json_t *answer)
{
    const json_t *job = json_array_get(json_object_get(answer, "jobs"), 0);
    return json_is_object(job) ? job : NULL;
}

static const char *job_str(const json_t *job, const char *key)
{
    const char *s = json_string_value(json_object_get(job, key));
    return s ? s : "";
}

/* The job the answer is about, or NULL with slurmrestd's errors in @err and *@gone set when
 * they say the controller does not know the job. */
static const json_t *job_or_errors(const json_t *answer, const struct gm_fetch_response *resp,
                                   struct gm_buf *err, bool *gone)
{
    const json_t *job = resp->status == 200 ? the_job(answer) : NULL;
    *gone = false;
    if (job)
        return job;
    if (rest_errors(answer, err, ESLURM_INVALID_JOB_ID)) {
        /* squeue's words: no state_*_re matches them, so the job is gone. */
        gm_buf_reset(err);
        gm_buf_puts(err, "slurm_load_jobs error: Invalid job id specified");
        *gone = true;
    }
    return NULL;
}

static void translate_query(const struct gm_fetch_response *resp, struct gm_buf *out,
                            struct gm_buf *err, int *exit_status)
{
    json_t *answer = parse_answer(resp, err);
    bool gone = false;
    const json_t *job = answer ? job_or_errors(answer, resp, err, &gone) : NULL;
    if (job) {
        const char *state = job_str(job, "job_state");
        const char *host = job_str(job, "batch_host");
        if (!host[0])
            host = job_str(job, "nodes");
        gm_buf_printf(out, "%s%s%s\n", state[0] ? state : "UNKNOWN", host[0] ? " " : "", host);
        *exit_status = 0;
    } else if (!gone) {
        /* Not an answer about the job (the controller is away, the token refused, a proxy's
         * HTML page): UNKNOWN, never gone. */
        gm_buf_reset(err);
        gm_buf_printf(err,
                      "slurm_load_jobs error: Unable to contact slurm controller (slurmrestd "
                      "answered %d)",
                      resp->status);
    }
    json_decref(answer);
}

int slurm_rest_query(struct slurm_server *srv, slurm_step_cb next)
{
    return job_request(srv, SLURM_CMD_QUERY, "GET", translate_query, next);
}

/* The output file's name with sbatch's replacements that matter here (man sbatch, filename
 * pattern): %j, %u, %x and %%. */
static void expand_output(const char *pattern, const json_t *job, struct gm_buf *out)
{
    for (const char *p = pattern; *p; p++) {
        if (*p != '%' || !p[1]) {
            gm_buf_putc(out, *p);
            continue;
        }
        switch (*++p) {
        case 'j':
        case 'A':
            gm_buf_printf(out, "%lld",
                          (long long)json_integer_value(json_object_get(job, "job_id")));
            break;
        case 'u':
            gm_buf_puts(out, job_str(job, "user_name"));
            break;
        case 'x':
            gm_buf_puts(out, job_str(job, "name"));
            break;
        case '%':
            gm_buf_putc(out, '%');
            break;
        default:
            gm_buf_putc(out, '%');
            gm_buf_putc(out, *p);
            break;
        }
    }
}

static void translate_info(const struct gm_fetch_response *resp, struct gm_buf *out,
                           struct gm_buf *err, int *exit_status)
{
    json_t *answer = parse_answer(resp, err);
    if (!answer)
        return;
    bool gone;
    const json_t *job = job_or_errors(answer, resp, err, &gone);
    if (job) {
        /* exit_code is the wait status: scontrol prints it as exit:signal. */
        long long status = json_integer_value(json_object_get(job, "exit_code"));
        gm_buf_printf(out,
                      "JobState=%s ExitCode=%lld:%lld Reason=%s StdOut=", job_str(job, "job_state"),
                      (status >> 8) & 0xff, status & 0x7f, job_str(job, "state_reason"));
        const char *std_out = job_str(job, "standard_output");
        if (std_out[0]) {
            expand_output(std_out, job, out);
        } else { /* sbatch's default: slurm-%j.out in the working directory */
            gm_buf_printf(out, "%s/slurm-%lld.out", job_str(job, "current_working_directory"),
                          (long long)json_integer_value(json_object_get(job, "job_id")));
        }
        gm_buf_putc(out, '\n');
        *exit_status = 0;
    }
    json_decref(answer);
}

int slurm_rest_job_info(struct slurm_server *srv, slurm_step_cb next)
{
    return job_request(srv, SLURM_CMD_OTHER, "GET", translate_info, next);
}

/* Cancelling (scancel). */

static void translate_cancel(const struct gm_fetch_response *resp, struct gm_buf *out,
                             struct gm_buf *err, int *exit_status)
{
    (void)out;
    json_t *answer = parse_answer(resp, err);
    if (!answer)
        return;
    if (resp->status == 200)
        *exit_status = 0;
    else
        rest_errors(answer, err, 0);
    json_decref(answer);
}

int slurm_rest_cancel(struct slurm_server *srv, slurm_step_cb next)
{
    return job_request(srv, SLURM_CMD_CANCEL, "DELETE", translate_cancel, next);
}

/* The queue: the pending jobs in the order SLURM will start them (squeue -t PENDING -S -p,i:
 * priority first, then job id). */

struct pending {
    json_int_t id;
    json_int_t priority;
    const json_t *job;
};

static int by_start_order(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void translate_queue(const struct gm_fetch_response *resp, struct gm_buf *out,
                            struct gm_buf *err, int *exit_status)
{
    json_t *answer = parse_answer(resp, err);
    if (!answer)
        return;
    const json_t *jobs = json_object_get(answer, "jobs");
    if (resp->status != 200 || !json_is_array(jobs)) {
        rest_errors(answer, err, 0);
        json_decref(answer);
        return;
    }
    size_t n = 0, i;
    const json_t *job;
    struct pending *list = calloc(json_array_size(jobs) + 1, sizeof(*list));
    if (!list) {
        gm_buf_puts(err, "out of memory");
        json_decref(answer);
        return;
    }
    json_array_foreach(jobs, i, job)
    {
        if (strcmp(job_str(job, "job_state"), "PENDING") != 0)
            continue;
        list[n++] = (struct pending){
            .id = json_integer_value(json_object_get(job, "job_id")),
            .priority = json_integer_value(json_object_get(job, "priority")),
            .job = job,
        };
    }
    qsort(list, n, sizeof(*list), by_start_order);
    for (i = 0; i < n; i++) {
        json_int_t start = json_integer_value(json_object_get(list[i].job, "start_time"));
        char when[32] = "N/A";
        time_t t = (time_t)start;
        struct tm tm;
        if (start > 0 && localtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        gm_buf_printf(out, "%lld|%s|%s|%s\n", (long long)list[i].id,
                      job_str(list[i].job, "partition"), job_str(list[i].job, "state_reason"),
                      when);
    }
    free(list);
    *exit_status = 0;
    json_decref(answer);
}

int slurm_rest_queue(struct slurm_server *srv, slurm_step_cb next)
{
    return request(srv, SLURM_CMD_QUERY, "GET", "jobs", NULL, REST_LIST_MAX, translate_queue, next);
}
