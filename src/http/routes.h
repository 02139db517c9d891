/* The hub's route table. */
#pragma once

#include "http/server.h"

/** Every route of the hub, in match order (first match wins), NULL-terminated. */
extern const struct http_route http_routes[];
