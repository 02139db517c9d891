/* errno → HTTP status and messages. */
#include "core/errors.h"

#include <errno.h>
#include <stddef.h>

static const struct {
    int err;
    int status;
    const char *message;
} errno_table[] = {
    {EINVAL, 400, "Bad request"},
    {EBADMSG, 400, "Malformed request"},
    {EACCES, 403, "Forbidden"},
    {EPERM, 403, "Action is not permitted"},
    {ENOENT, 404, "Not found"},
    {ENOTSUP, 405, "Method not allowed"},
    {EEXIST, 409, "Already exists"},
    {EBUSY, 409, "Busy: try again later"},
    {E2BIG, 413, "Request is too large"},
    {EMSGSIZE, 413, "Request is too large"},
    {ENAMETOOLONG, 414, "URL is too long"},
    {EAGAIN, 429, "Too many requests: try again later"},
    {ENOMEM, 500, "Out of memory"},
    {EIO, 500, "Internal error"},
    {ECONNREFUSED, 502, "A service the hub needs is not answering"},
    {ENOTCONN, 503, "The hub cannot save changes right now: try again in a moment"},
    {ESHUTDOWN, 503, "The hub is shutting down"},
    {ETIMEDOUT, 504, "Timed out"},
};

int errors_http_status(int err)
{
    for (size_t i = 0; i < sizeof(errno_table) / sizeof(*errno_table); i++)
        if (errno_table[i].err == -err)
            return errno_table[i].status;
    return 500;
}

const char *errors_message(int err)
{
    for (size_t i = 0; i < sizeof(errno_table) / sizeof(*errno_table); i++)
        if (errno_table[i].err == -err)
            return errno_table[i].message;
    return "Internal error";
}

const char *errors_http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 424:
        return "Failed Dependency";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}
