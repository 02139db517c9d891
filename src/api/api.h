/* REST API handlers, one file per resource; each is listed in http/routes.c. */
#pragma once

#include "http/server.h"

/* api/root.c */
int api_root_get(struct http_request *req);
int api_health_get(struct http_request *req);
int api_not_found(struct http_request *req);
