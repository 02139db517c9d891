/* The one table from negative errno values to HTTP statuses, and HTTP reason phrases. Handlers
 * that fail with an errno get the status here and JupyterHub's JSON error body. */
#pragma once

/** HTTP status for a negative errno (-ENOENT → 404, -EEXIST → 409, ...); 500 when unknown. */
int errors_http_status(int err);

/** A short default message for a negative errno ("Not found"). */
const char *errors_message(int err);

/** Reason phrase for an HTTP status ("Not Found"), "Unknown" for unknown codes. */
const char *errors_http_reason(int status);
