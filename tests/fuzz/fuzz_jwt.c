/* Fuzz target: access-token verification (header parsing, base64url, claims) against a
 * key pair made once in a temporary folder. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cx_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cx_jwt_keys *keys;

static void
cleanup(void)
{
	cx_jwt_keys_free(keys);
}

static void
load_keys(void)
{
	char dir[] = "/tmp/cx-fuzz-jwt-XXXXXX", priv[64], pub[64];
	struct cx_error err = { 0 };

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(priv, sizeof(priv), "%s/priv.pem", dir);
	snprintf(pub, sizeof(pub), "%s/pub.pem", dir);
	if (cx_jwt_generate_keys(priv, pub, 0, &err) != CX_OK ||
	    cx_jwt_keys_load(NULL, pub, &keys, &err) != CX_OK)
		abort();
	unlink(priv);
	unlink(pub);
	rmdir(dir);
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cx_claims claims;
	struct cx_error err = { 0 };
	char *token = malloc(size + 1);

	if (keys == NULL)
		load_keys();
	if (token == NULL)
		return 0;
	memcpy(token, data, size);
	token[size] = '\0';
	if (cx_jwt_verify(keys, "candidatex-api", token, &claims, &err) == CX_OK)
		abort();   /* nothing a fuzzer makes carries a valid signature */
	free(token);
	return 0;
}
