/* Where a pending job stands, in words a user understands, and what an ended job left. */
#include "slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SLURM 22.05's pending reasons (squeue %r, `man squeue`, JOB REASON CODES) a user meets. */
static const struct {
    const char *code;
    const char *words;
} reasons[] = {
    {"None", "the scheduler has not looked at it yet"},
    {"Resources", "the CPUs, memory or GPUs it asks for are in use by other jobs"},
    {"Priority", "jobs of higher priority are ahead of it"},
    {"Dependency", "it waits for the jobs it depends on"},
    {"DependencyNeverSatisfied", "the jobs it depends on failed: it will never start"},
    {"JobHeldUser", "it is held by its owner (scontrol release lets it start)"},
    {"JobHeldAdmin", "it is held by an administrator"},
    {"BeginTime", "its start time has not come yet"},
    {"ReqNodeNotAvail", "the nodes it needs are not available (down, drained or reserved)"},
    {"NodeDown", "a node it needs is down"},
    {"BadConstraints", "no node has the features it asks for"},
    {"PartitionDown", "its partition is down"},
    {"PartitionInactive", "its partition is inactive"},
    {"PartitionNodeLimit", "it asks for more nodes than its partition allows"},
    {"PartitionTimeLimit", "it asks for a longer run time than its partition allows"},
    {"PartitionConfig", "it asks for more than its partition allows"},
    {"Reservation", "it waits for its reservation to start"},
    {"Licenses", "it waits for licenses"},
    {"Prolog", "its node is running the prolog"},
    {"Cleaning", "its node is being cleaned after a previous job"},
    {"InvalidAccount", "its account is not valid"},
    {"InvalidQOS", "its QOS is not valid"},
    {"QOSMaxJobsPerUserLimit", "you have as many jobs running as your QOS allows"},
    {"QOSMaxSubmitJobPerUserLimit", "you have as many jobs queued as your QOS allows"},
    {"QOSMaxCpuPerUserLimit", "your running jobs use as many CPUs as your QOS allows"},
    {"QOSMaxMemoryPerUser", "your running jobs use as much memory as your QOS allows"},
    {"QOSMaxGRESPerUser", "your running jobs use as many GPUs as your QOS allows"},
    {"QOSGrpCpuLimit", "the jobs of your QOS use all the CPUs it may have"},
    {"QOSGrpMemLimit", "the jobs of your QOS use all the memory it may have"},
    {"QOSGrpNodeLimit", "the jobs of your QOS use all the nodes it may have"},
    {"QOSGrpJobsLimit", "your QOS runs as many jobs as it may"},
    {"AssocMaxJobsLimit", "your account runs as many of your jobs as it allows"},
    {"AssocGrpJobsLimit", "your account's group runs as many jobs as it may"},
    {"AssocGrpCpuLimit", "your account's group uses all the CPUs it may have"},
    {"AssocGrpMemLimit", "your account's group uses all the memory it may have"},
    {"AssocGrpSubmitJobsLimit", "your account's group has as many jobs queued as it may"},
    {"JobArrayTaskLimit", "its array runs as many tasks at once as it may"},
    {"launch failed requeued held", "its launch failed; it was requeued and held"},
};

const char *slurm_reason_words(const char *code)
{
    size_t n = strcspn(code, ",");
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (strlen(reasons[i].code) == n && strncmp(reasons[i].code, code, n) == 0)
            return reasons[i].words;
    if (strncmp(code, "QOS", 3) == 0 || strncmp(code, "Assoc", 5) == 0)
        return "a limit of your account or QOS holds it back";
    return NULL;
}

static const char *ordinal_suffix(long n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

/* One line "id|partition|reason|start" split in place; false for a line of another shape. */
static bool split_line(char *line, char *fields[4])
{
    for (int i = 0; i < 4; i++) {
        fields[i] = line;
        char *bar = strchr(line, '|');
        if (i < 3) {
            if (!bar)
                return false;
            *bar = '\0';
            line = bar + 1;
        }
    }
    return true;
}

int slurm_queue_message(const char *job_id, const char *queue_out, char *out, size_t outlen)
{
    char *copy = strdup(queue_out);
    if (!copy)
        return -ENOMEM;
    /* First pass: our job's line. */
    char partition[128] = "", reason[160] = "", start[64] = "";
    bool found = false;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && !found;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        if (split_line(line, f) && strcmp(f[0], job_id) == 0) {
            snprintf(partition, sizeof(partition), "%s", f[1]);
            snprintf(reason, sizeof(reason), "%s", f[2]);
            snprintf(start, sizeof(start), "%s", f[3]);
            found = true;
        }
    }
    free(copy);
    if (!found)
        return -ENOENT;
    /* Second pass: its place among the partition's pending jobs, in the order listed. */
    long position = 0, total = 0;
    copy = strdup(queue_out);
    if (!copy)
        return -ENOMEM;
    save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        if (!split_line(line, f) || strcmp(f[1], partition) != 0)
            continue;
        total++;
        if (strcmp(f[0], job_id) == 0)
            position = total;
    }
    free(copy);
    const char *words = slurm_reason_words(reason);
    bool held = strncmp(reason, "JobHeld", 7) == 0;
    bool has_start = start[0] && strcmp(start, "N/A") != 0 && strcmp(start, "Unknown") != 0;
    char when[96] = "";
    if (has_start && !held) {
        char *t = strchr(start, 'T');
        if (t)
            *t = ' ';
        snprintf(when, sizeof(when), " SLURM expects to start it at %s.", start);
    }
    if (held)
        snprintf(out, outlen, "Job %s is held in the queue of partition %s (%s): %s.", job_id,
                 partition, reason, words ? words : "it will not start until it is released");
    else
        snprintf(out, outlen,
                 "Job %s is waiting in the queue of partition %s: %ld%s of %ld pending there. "
                 "Why: %s (%s).%s",
                 job_id, partition, position, ordinal_suffix(position), total,
                 words ? words : "SLURM's reason", reason, when);
    return 0;
}

/* The value of "@key=" among the space-separated words of @out, into @val. */
static void field(const char *out, const char *key, char *val, size_t vallen)
{
    size_t klen = strlen(key);
    val[0] = '\0';
    for (const char *p = out; (p = strstr(p, key)) != NULL; p += klen) {
        if ((p == out || p[-1] == ' ' || p[-1] == '\n') && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, " \n");
            snprintf(val, vallen, "%.*s", (int)(n < vallen ? n : vallen - 1), v);
            return;
        }
    }
}

int slurm_parse_job_info(const char *out, struct slurm_job_info *info)
{
    field(out, "JobState", info->state, sizeof(info->state));
    field(out, "ExitCode", info->exit_code, sizeof(info->exit_code));
    field(out, "Reason", info->reason, sizeof(info->reason));
    field(out, "StdOut", info->std_out, sizeof(info->std_out));
    if (strcmp(info->reason, "None") == 0 || strcmp(info->reason, "(null)") == 0)
        info->reason[0] = '\0';
    return info->state[0] ? 0 : -ENOENT;
}
