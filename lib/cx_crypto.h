/* cx_crypto: random bytes, SHA-256, HMAC-SHA-256, base64url, hex, constant-time compare. */
#ifndef CX_CRYPTO_H
#define CX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Cryptographically secure random bytes (OpenSSL RAND_bytes). 0 ok, -1 failure. */
int cx_random_bytes(void *buf, size_t len);
/* 32 random bytes as base64url without padding (43 chars) into out[44]. 0 ok. */
int cx_random_token(char out[44]);

void cx_sha256(const void *data, size_t len, uint8_t out[32]);
void cx_sha256_hex(const void *data, size_t len, char out[65]);
void cx_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32]);

/* base64url (RFC 4648 §5), no padding on encode; decode accepts with or without padding.
 * Encode returns a malloc'd string (caller frees). Decode returns malloc'd bytes and
 * sets *outlen, or NULL on invalid input. */
char *cx_base64url_encode(const void *data, size_t len);
uint8_t *cx_base64url_decode(const char *text, size_t textlen, size_t *outlen);

void cx_hex_encode(const void *data, size_t len, char *out);  /* out has 2*len+1 */
/* Value of one hex digit (either case), or -1. */
int cx_hex_value(int c);

/* Constant-time equality of two buffers of the same length; 1 equal, 0 not. */
int cx_ct_equal(const void *a, const void *b, size_t len);
/* Constant-time string equality (time depends only on the lengths). */
int cx_ct_streq(const char *a, const char *b);

#endif
