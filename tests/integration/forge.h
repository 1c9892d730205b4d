/* forge: hand-made JWTs for the attack tests, signed with OpenSSL directly so that a
 * bug in the server's own JWT code cannot hide a forged token's flaw. */
#ifndef FORGE_H
#define FORGE_H

#include <stddef.h>

enum forge_alg {
	FORGE_NONE,     /* empty signature */
	FORGE_HS256,    /* key = secret bytes */
	FORGE_RS256,    /* key = PEM private key */
	FORGE_RS512,    /* key = PEM private key */
};

/* base64url(header_json) "." base64url(payload_json) "." signature, the JSON texts used
 * byte for byte. Returns a malloc'd token (caller frees) or NULL on failure. */
char *forge_jwt(const char *header_json, const char *payload_json, enum forge_alg alg,
    const void *key, size_t keylen);

/* A fresh 2048-bit RSA private key as PEM (malloc'd), or NULL. */
char *forge_new_rsa_pem(void);

/* A whole file (malloc'd, NUL-terminated, *len set when len != NULL), or NULL. */
char *forge_read_file(const char *path, size_t *len);

#endif
