/* cx_jwt: access tokens: issued as JWT RS256 with libjwt 1.x, verified with OpenSSL
 * against a key parsed once; RS256 pinned, every claim checked by hand. */
#ifndef CX_JWT_H
#define CX_JWT_H

#include <stdint.h>

#include "cx_error.h"

struct cx_jwt_keys;   /* loaded PEM keys (private optional: verify-only programs) */

/* Load keys from PEM files. private_path may be NULL. Errors: INTERNAL with a log line. */
int cx_jwt_keys_load(const char *private_path, const char *public_path,
    struct cx_jwt_keys **out, struct cx_error *err);
void cx_jwt_keys_free(struct cx_jwt_keys *keys);

/* What a verified access token says. */
struct cx_claims {
	char sub[32];       /* user id */
	char email[256];
	char role[16];      /* candidate | recruiter | admin */
	char jti[48];
	char sid[48];       /* session (refresh-token family) the token belongs to */
	int64_t iat, exp;   /* seconds since epoch */
};

/* Issue an RS256 access token with sub, email, role, sid, iat, exp = iat + ttl_seconds,
 * iss, jti (random), typ = "access". *out is malloc'd (caller frees); claims_out
 * (optional) receives what was signed. */
int cx_jwt_issue(const struct cx_jwt_keys *keys, const char *issuer, const char *sub,
    const char *email, const char *role, const char *sid, int ttl_seconds, char **out,
    struct cx_claims *claims_out, struct cx_error *err);

/* Verify: header alg must be RS256 and header fields only alg/typ(/kid); signature with
 * the public key; iss == issuer; typ == "access"; exp in the future, iat present and not
 * in the future (60 s leeway); sub, role, jti, sid present. UNAUTHORIZED on any failure
 * (message says "Invalid token" or "Token expired"). */
int cx_jwt_verify(const struct cx_jwt_keys *keys, const char *issuer, const char *token,
    struct cx_claims *out, struct cx_error *err);

/* Generate a 2048-bit RSA key pair into two PEM files (private 0600, public 0644),
 * written to a temp name and renamed, so a crash never leaves half a key. Refuses to
 * overwrite existing files unless force. */
int cx_jwt_generate_keys(const char *private_path, const char *public_path, int force,
    struct cx_error *err);

#endif
