/* In-memory Prometheus histograms. */
#include "http/metrics.h"

#include <stdlib.h>
#include <string.h>

/* prometheus_client's default buckets, as JupyterHub's request histogram uses. */
const double metrics_bucket_bounds[METRICS_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 1e308,
};

void metrics_observe(struct http_metrics *m, const char *labels, double seconds)
{
    struct metrics_histogram *h = hmap_get(&m->index, labels);
    if (!h) {
        if (m->n >= 10000)
            return; /* label sets are bounded by routes × methods × codes; stay bounded */
        h = calloc(1, sizeof(*h));
        if (!h)
            return;
        h->labels = strdup(labels);
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 32;
            struct metrics_histogram **all = realloc(m->all, cap * sizeof(*all));
            if (!all) {
                free(h->labels);
                free(h);
                return;
            }
            m->all = all;
            m->cap = cap;
        }
        if (!h->labels || hmap_put(&m->index, h->labels, h) < 0) {
            free(h->labels);
            free(h);
            return;
        }
        m->all[m->n++] = h;
    }
    for (int i = 0; i < METRICS_BUCKETS; i++)
        if (seconds <= metrics_bucket_bounds[i]) {
            h->buckets[i]++;
            break;
        }
    h->count++;
    h->sum += seconds;
}

void metrics_write_histogram(struct gm_buf *b, const char *name, const struct metrics_histogram *h)
{
    uint64_t cum = 0;
    const char *sep = h->labels && h->labels[0] ? "," : "";
    const char *labels = h->labels ? h->labels : "";
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        cum += h->buckets[i];
        if (i == METRICS_BUCKETS - 1)
            gm_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                          (unsigned long long)cum);
        else
            gm_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                          metrics_bucket_bounds[i], (unsigned long long)cum);
    }
    if (labels[0]) {
        gm_buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
        gm_buf_printf(b, "%s_sum{%s} %.6f\n", name, labels, h->sum);
    } else {
        gm_buf_printf(b, "%s_count %llu\n", name, (unsigned long long)h->count);
        gm_buf_printf(b, "%s_sum %.6f\n", name, h->sum);
    }
}

void metrics_write_histograms(const struct http_metrics *m, struct gm_buf *b, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        metrics_write_histogram(b, name, m->all[i]);
}

void metrics_release(struct http_metrics *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->all[i]->labels);
        free(m->all[i]);
    }
    free(m->all);
    hmap_free(&m->index);
    memset(m, 0, sizeof(*m));
}
