/* cx_crypto: thin, careful wrappers over OpenSSL. */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cx_crypto.h"

int
cx_random_bytes(void *buf, size_t len)
{
	if (len > (size_t)INT32_MAX)
		return -1;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int
cx_random_token(char out[44])
{
	uint8_t raw[32];
	char *enc;

	if (cx_random_bytes(raw, sizeof(raw)) != 0)
		return -1;
	enc = cx_base64url_encode(raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (enc == NULL)
		return -1;
	memcpy(out, enc, 44); /* 43 chars + NUL */
	free(enc);
	return 0;
}

void
cx_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void
cx_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t d[32];

	cx_sha256(data, len, d);
	cx_hex_encode(d, sizeof(d), out);
}

void
cx_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

void
cx_hex_encode(const void *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int
cx_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *
cx_base64url_encode(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t outlen = (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0);
	char *out = malloc(outlen + 1), *o = out;
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64url[v >> 18 & 63];
		*o++ = b64url[v >> 12 & 63];
		*o++ = b64url[v >> 6 & 63];
		*o++ = b64url[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		*o++ = b64url[v >> 18 & 63];
		*o++ = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = b64url[v >> 18 & 63];
		*o++ = b64url[v >> 12 & 63];
		*o++ = b64url[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

uint8_t *
cx_base64url_decode(const char *text, size_t textlen, size_t *outlen)
{
	uint8_t *out, *o;
	uint32_t acc = 0;
	int bits = 0;

	while (textlen > 0 && text[textlen - 1] == '=')
		textlen--;
	if (textlen % 4 == 1)
		return NULL;
	out = malloc(textlen * 3 / 4 + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < textlen; i++) {
		int v = b64val(text[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one text, one decoding. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)(o - out);
	return out;
}

int
cx_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int
cx_ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	uint8_t da[32], db[32];

	/* Compare digests so the time depends only on the lengths, never the content. */
	cx_sha256(a, la, da);
	cx_sha256(b, lb, db);
	return (CRYPTO_memcmp(da, db, sizeof(da)) == 0) & (la == lb);
}
