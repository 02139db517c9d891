/* Prometheus metrics of the HTTP server: request-duration histograms labelled as JupyterHub's
 * (method, handler, code), kept in memory and rendered by /hub/metrics. */
#pragma once

#include <ganymede/buf.h>
#include "util/hmap.h"

#include <stdint.h>

#define METRICS_BUCKETS 15

struct metrics_histogram {
    char *labels;                      /* `code="200",handler="...",method="GET"` */
    uint64_t buckets[METRICS_BUCKETS]; /* cumulative at render time, per bucket here */
    uint64_t count;
    double sum;
};

struct http_metrics {
    struct hmap index; /* labels → histogram */
    struct metrics_histogram **all;
    size_t n, cap;
};

/** The upper bounds of the buckets (the last is +Inf). */
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

/** Count one observation of @seconds in the histogram for @labels (created on first use). */
void metrics_observe(struct http_metrics *m, const char *labels, double seconds);

/** Write every histogram as lines of @name in Prometheus text format. */
void metrics_write_histograms(const struct http_metrics *m, struct gm_buf *b, const char *name);

/** Write one histogram (for other histograms the hub keeps). */
void metrics_write_histogram(struct gm_buf *b, const char *name, const struct metrics_histogram *h);

void metrics_release(struct http_metrics *m);
