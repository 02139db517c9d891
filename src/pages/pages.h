/* HTML pages and redirects under the hub's prefix; each handler is listed in http/routes.c. */
#pragma once

#include "http/server.h"

/* pages/redirect.c */
int page_prefix_redirect(struct http_request *req);
int page_add_slash(struct http_request *req);
int page_not_found(struct http_request *req);
