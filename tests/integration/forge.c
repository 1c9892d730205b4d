/* forge: hand-made JWTs (OpenSSL signatures) for the attack tests. */
#include "config.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_crypto.h"
#include "forge.h"

char *
forge_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

/* RSA PKCS#1 v1.5 signature of data with the PEM private key; malloc'd. */
static unsigned char *
rsa_sign(const EVP_MD *md, const void *pem, size_t pemlen, const char *data, size_t len,
    size_t *siglen)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;

	bio = BIO_new_mem_buf(pem, (int)pemlen);
	if (bio == NULL)
		goto out;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ctx = EVP_MD_CTX_new();
	if (pkey == NULL || ctx == NULL)
		goto out;
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)data, len) != 1)
		goto out;
	sig = malloc(*siglen);
	if (sig != NULL && EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)data,
	    len) != 1) {
		free(sig);
		sig = NULL;
	}
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return sig;
}

char *
forge_jwt(const char *header_json, const char *payload_json, enum forge_alg alg,
    const void *key, size_t keylen)
{
	char *h = NULL, *p = NULL, *s = NULL, *input = NULL, *token = NULL;
	unsigned char *sig = NULL, mac[32];
	size_t siglen = 0, len;

	h = cx_base64url_encode(header_json, strlen(header_json));
	p = cx_base64url_encode(payload_json, strlen(payload_json));
	if (h == NULL || p == NULL)
		goto out;
	len = strlen(h) + strlen(p) + 2;
	input = malloc(len);
	if (input == NULL)
		goto out;
	snprintf(input, len, "%s.%s", h, p);
	switch (alg) {
	case FORGE_NONE:
		s = strdup("");
		break;
	case FORGE_HS256:
		cx_hmac_sha256(key, keylen, input, strlen(input), mac);
		s = cx_base64url_encode(mac, sizeof(mac));
		break;
	case FORGE_RS256:
	case FORGE_RS512:
		sig = rsa_sign(alg == FORGE_RS256 ? EVP_sha256() : EVP_sha512(), key, keylen,
		    input, strlen(input), &siglen);
		if (sig != NULL)
			s = cx_base64url_encode(sig, siglen);
		break;
	}
	if (s == NULL)
		goto out;
	len = strlen(input) + strlen(s) + 2;
	token = malloc(len);
	if (token != NULL)
		snprintf(token, len, "%s.%s", input, s);
out:
	free(h);
	free(p);
	free(s);
	free(sig);
	free(input);
	return token;
}

char *
forge_new_rsa_pem(void)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *pem = NULL, *data;
	long n;

	pkey = EVP_RSA_gen(2048);
	bio = BIO_new(BIO_s_mem());
	if (pkey == NULL || bio == NULL)
		goto out;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n > 0)
		pem = strndup(data, (size_t)n);
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return pem;
}
