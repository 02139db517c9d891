/* JupyterHub's token hashing, so that tokens in a JupyterHub database keep working:
 * "sha512:<rounds>:<salt>:<hex>" where the digest is one SHA-512 over the salt (as ASCII) and
 * then the token repeated <rounds> times; rounds is 1 for tokens the hub generates and 16384 for
 * tokens users provide (config tokens). The prefix (first 4 characters) is stored in clear for
 * lookup. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define AUTH_TOKEN_PREFIX_LEN       4
#define AUTH_TOKEN_ROUNDS_GENERATED 1
#define AUTH_TOKEN_ROUNDS_PROVIDED  16384
#define AUTH_TOKEN_HASHED_MAX       200 /* "sha512:16384:<16>:<128>" and room to spare */

/** Hash @token with a new random 8-byte salt and @rounds. Returns 0 or a negative errno. */
int auth_token_hash(const char *token, unsigned rounds, char out[AUTH_TOKEN_HASHED_MAX]);

/** Hash with a given salt (tests and verification). */
int auth_token_hash_salted(const char *token, unsigned rounds, const char *salt,
                           char out[AUTH_TOKEN_HASHED_MAX]);

/** Whether @token matches @hashed (constant-time comparison). Malformed hashes and more than
 * a million rounds never match. */
bool auth_token_verify(const char *hashed, const char *token);

/** A new API token: uuid4 hex, 32 characters, as JupyterHub's new_token(). */
int auth_token_new(char out[33]);

/** SHA-256 of @token: what a token remembers once it has been verified, so that later requests
 * with the same token cost one fast hash instead of the stored hash's rounds. */
void auth_token_fingerprint(const char *token, unsigned char out[32]);
