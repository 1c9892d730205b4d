/* cx_jwt: RS256 access tokens. libjwt 1.x signs them. Verification does not go through
 * libjwt: jwt_decode() takes the algorithm from the token (alg "none", HS256 keyed with
 * our public key PEM), checks no claim, and re-parses the PEM key on every call, which
 * costs ~0.6 ms with OpenSSL 3. We parse the header and claims ourselves and check the
 * RS256 signature with OpenSSL against a key parsed once at start-up. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jwt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "cx_crypto.h"
#include "cx_json.h"
#include "cx_jwt.h"
#include "cx_log.h"
#include "cx_perm.h"

#define PEM_MAX 16384          /* a 4096-bit RSA key in PEM is about 3.3 KiB */
#define RSA_BITS_MIN 2048
#define TOKEN_MAX 4096         /* ours are about 600 bytes */
#define HEADER_B64_MAX 256
#define IAT_LEEWAY 60          /* seconds of clock skew tolerated on iat */
#define TTL_MAX (7 * 86400)
#define ISSUER_MAX 255

/* Tokens this process has verified, so a client that sends the same access token on
 * every request pays for the RSA check once per token, not once per request. A slot
 * holds a copy of the whole token and its issuer, found by a fast hash of the token and
 * compared in full (in constant time): any changed byte is a miss and a full check. The
 * expiry is checked on every hit. (A SHA-256 of the token as the key cost about 4 % of
 * an answer's instructions; the hash only picks the slot, so it needs no strength.) */
#define VERIFIED_SLOTS 256

struct verified {
	char *token;           /* owned copy; NULL = empty slot */
	size_t len;
	uint64_t hash;
	char issuer[ISSUER_MAX + 1];
	struct cx_claims claims;
};

struct cx_jwt_keys {
	unsigned char *priv;   /* PEM for libjwt, NUL-terminated; NULL on verify-only programs */
	size_t priv_len;
	EVP_PKEY *pub;         /* the public key, parsed once */
	struct verified *verified;   /* VERIFIED_SLOTS entries, direct-mapped */
};

/* --- keys -------------------------------------------------------------------- */

static int
read_pem(const char *path, int is_private, unsigned char **buf, size_t *len,
    struct cx_error *err)
{
	struct stat st;
	unsigned char *data = NULL;
	size_t size = 0, got = 0;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return cx_error_internal(err, "cannot open JWT key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cx_error_internal(err, "JWT key %s is not a regular file", path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > PEM_MAX) {
		rc = cx_error_internal(err, "JWT key %s: size %lld outside 1..%d bytes", path,
		    (long long)st.st_size, PEM_MAX);
		goto out;
	}
	if (is_private && (st.st_mode & 077) != 0)
		cx_logf(CX_LOG_WARN, "JWT private key %s is readable by group or others "
		    "(chmod 600 it)", path);
	size = (size_t)st.st_size;
	if ((data = malloc(size + 1)) == NULL) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	while (got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = cx_error_internal(err, "cannot read JWT key %s: %s", path,
			    n < 0 ? strerror(errno) : "short read");
			goto out;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*buf = data;
	*len = got;
	data = NULL;
	rc = CX_OK;
out:
	if (data != NULL) {
		OPENSSL_cleanse(data, size + 1);
		free(data);
	}
	close(fd);
	return rc;
}

/* Never prompt on a terminal for the passphrase of an encrypted key. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static EVP_PKEY *
parse_pem(const unsigned char *pem, size_t len, int is_private)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey;

	if (bio == NULL)
		return NULL;
	pkey = is_private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
	                  : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	return pkey;
}

/* Parse the public key into k->pub; catch a wrong or mismatched key at start-up, not
 * on the first login. */
static int
check_keys(struct cx_jwt_keys *k, const unsigned char *pub_pem, size_t pub_len,
    const char *private_path, const char *public_path, struct cx_error *err)
{
	EVP_PKEY *pub = NULL, *priv = NULL;
	int rc;

	if ((pub = parse_pem(pub_pem, pub_len, 0)) == NULL) {
		rc = cx_error_internal(err, "JWT public key %s is not a PEM public key",
		    public_path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pub) < RSA_BITS_MIN) {
		rc = cx_error_internal(err, "JWT public key %s must be RSA of at least %d bits",
		    public_path, RSA_BITS_MIN);
		goto out;
	}
	if (k->priv != NULL) {
		if ((priv = parse_pem(k->priv, k->priv_len, 1)) == NULL) {
			rc = cx_error_internal(err, "JWT private key %s is not an unencrypted "
			    "PEM private key", private_path);
			goto out;
		}
		if (EVP_PKEY_eq(priv, pub) != 1) {
			rc = cx_error_internal(err, "JWT private key %s does not match public "
			    "key %s", private_path, public_path);
			goto out;
		}
	}
	k->pub = pub;
	pub = NULL;
	rc = CX_OK;
out:
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	return rc;
}

int
cx_jwt_keys_load(const char *private_path, const char *public_path,
    struct cx_jwt_keys **out, struct cx_error *err)
{
	struct cx_jwt_keys *k;
	unsigned char *pub_pem = NULL;
	size_t pub_len = 0;
	int rc;

	if (public_path == NULL)
		return cx_error_internal(err, "JWT public key path not set");
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->verified = calloc(VERIFIED_SLOTS, sizeof(*k->verified))) == NULL) {
		free(k);
		return cx_error_internal(err, "out of memory");
	}
	if (private_path != NULL &&
	    (rc = read_pem(private_path, 1, &k->priv, &k->priv_len, err)) != CX_OK)
		goto out;
	if ((rc = read_pem(public_path, 0, &pub_pem, &pub_len, err)) != CX_OK)
		goto out;
	if ((rc = check_keys(k, pub_pem, pub_len, private_path, public_path, err)) != CX_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	free(pub_pem);
	cx_jwt_keys_free(k);
	return rc;
}

void
cx_jwt_keys_free(struct cx_jwt_keys *keys)
{
	if (keys == NULL)
		return;
	if (keys->priv != NULL) {
		OPENSSL_cleanse(keys->priv, keys->priv_len);
		free(keys->priv);
	}
	EVP_PKEY_free(keys->pub);
	for (size_t i = 0; keys->verified != NULL && i < VERIFIED_SLOTS; i++)
		free(keys->verified[i].token);
	free(keys->verified);
	free(keys);
}

/* --- issue ------------------------------------------------------------------- */

/* Copy src into dst[size] when min <= strlen(src) < size. */
static int
copy_bounded(char *dst, size_t size, const char *src, size_t min)
{
	size_t n;

	if (src == NULL)
		return -1;
	n = strnlen(src, size);
	if (n < min || n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int
cx_jwt_issue(const struct cx_jwt_keys *keys, const char *issuer, const char *sub,
    const char *email, const char *role, const char *sid, int ttl_seconds, char **out,
    struct cx_claims *claims_out, struct cx_error *err)
{
	struct cx_claims c;
	uint8_t raw[16];
	char *jti = NULL, *token = NULL;
	jwt_t *jwt = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	if (keys == NULL || keys->priv == NULL)
		return cx_error_internal(err, "JWT issue without a private key");
	if (issuer == NULL || *issuer == '\0' || strlen(issuer) > ISSUER_MAX ||
	    ttl_seconds <= 0 || ttl_seconds > TTL_MAX || !cx_role_valid(role) ||
	    copy_bounded(c.sub, sizeof(c.sub), sub, 1) != 0 ||
	    copy_bounded(c.email, sizeof(c.email), email, 0) != 0 ||
	    copy_bounded(c.role, sizeof(c.role), role, 1) != 0 ||
	    copy_bounded(c.sid, sizeof(c.sid), sid, 1) != 0)
		return cx_error_internal(err, "JWT issue: bad claims (issuer, ttl %d, sub, "
		    "email, role, sid)", ttl_seconds);
	if (cx_random_bytes(raw, sizeof(raw)) != 0 ||
	    (jti = cx_base64url_encode(raw, sizeof(raw))) == NULL) {
		rc = cx_error_internal(err, "JWT issue: no random jti");
		goto out;
	}
	copy_bounded(c.jti, sizeof(c.jti), jti, 1);
	c.iat = (int64_t)time(NULL);
	c.exp = c.iat + ttl_seconds;

	if (jwt_new(&jwt) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_RS256, keys->priv, (int)keys->priv_len) != 0 ||
	    jwt_add_grant(jwt, "sub", c.sub) != 0 ||
	    jwt_add_grant(jwt, "email", c.email) != 0 ||
	    jwt_add_grant(jwt, "role", c.role) != 0 ||
	    jwt_add_grant(jwt, "sid", c.sid) != 0 ||
	    jwt_add_grant_int(jwt, "iat", (long)c.iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)c.exp) != 0 ||
	    jwt_add_grant(jwt, "iss", issuer) != 0 ||
	    jwt_add_grant(jwt, "jti", c.jti) != 0 ||
	    jwt_add_grant(jwt, "typ", "access") != 0) {
		rc = cx_error_internal(err, "JWT issue: libjwt refused a grant");
		goto out;
	}
	if ((token = jwt_encode_str(jwt)) == NULL) {
		rc = cx_error_internal(err, "JWT issue: jwt_encode_str failed (errno %d)", errno);
		goto out;
	}
	*out = token;
	if (claims_out != NULL)
		*claims_out = c;
	rc = CX_OK;
out:
	jwt_free(jwt);
	free(jti);
	return rc;
}

/* --- verify ------------------------------------------------------------------ */

static int
is_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/* Exactly three non-empty base64url segments, nothing else. Sets the two dots. */
static int
split_token(const char *token, size_t len, size_t *dot1, size_t *dot2)
{
	size_t dots = 0;

	for (size_t i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (dots == 0)
				*dot1 = i;
			else if (dots == 1)
				*dot2 = i;
			else
				return -1;
			dots++;
		} else if (!is_b64url_char(token[i])) {
			return -1;
		}
	}
	if (dots != 2 || *dot1 == 0 || *dot2 == *dot1 + 1 || *dot2 + 1 == len)
		return -1;
	return 0;
}

static json_object *
decode_segment(const char *seg, size_t len)
{
	json_object *obj = NULL;
	uint8_t *raw;
	size_t rawlen;

	if ((raw = cx_base64url_decode(seg, len, &rawlen)) == NULL)
		return NULL;
	if (cx_json_parse((const char *)raw, rawlen, &obj, NULL) != CX_OK)
		obj = NULL;
	free(raw);
	if (obj != NULL && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* Our own reading of the header: RS256 only, and no
 * field that could point the verifier at another key (jku, jwk, x5u, x5c) or make
 * demands we do not understand (crit). */
static const char *
check_header(const char *seg, size_t len)
{
	json_object *h;
	const char *why = NULL;
	int has_alg = 0;

	if (len > HEADER_B64_MAX)
		return "header too long";
	if ((h = decode_segment(seg, len)) == NULL)
		return "header is not a JSON object";
	json_object_object_foreach(h, key, val) {
		int is_str = json_object_is_type(val, json_type_string);
		const char *s = is_str ? json_object_get_string(val) : NULL;

		if (strcmp(key, "alg") == 0) {
			if (!is_str || strcmp(s, "RS256") != 0) {
				why = "alg is not RS256";
				break;
			}
			has_alg = 1;
		} else if (strcmp(key, "typ") == 0) {
			if (!is_str || strcmp(s, "JWT") != 0) {
				why = "header typ is not JWT";
				break;
			}
		} else if (strcmp(key, "kid") == 0) {
			if (!is_str || json_object_get_string_len(val) > 64) {
				why = "bad kid";
				break;
			}
		} else {
			why = "unexpected header field";
			break;
		}
	}
	if (why == NULL && !has_alg)
		why = "no alg";
	json_object_put(h);
	return why;
}

static const char *
str_claim(json_object *p, const char *name, char *dst, size_t size, size_t min)
{
	json_object *v;
	size_t n;

	if (!json_object_object_get_ex(p, name, &v) || !json_object_is_type(v, json_type_string))
		return "missing string claim";
	n = (size_t)json_object_get_string_len(v);
	if (n < min || n >= size || strlen(json_object_get_string(v)) != n)
		return "string claim of bad length";
	memcpy(dst, json_object_get_string(v), n + 1);
	return NULL;
}

static const char *
int_claim(json_object *p, const char *name, int64_t *dst)
{
	json_object *v;

	if (!json_object_object_get_ex(p, name, &v) || !json_object_is_type(v, json_type_int))
		return "missing integer claim";
	*dst = json_object_get_int64(v);
	return NULL;
}

/* Every claim checked by hand. Sets *expired when the token is genuine and well
 * formed but past exp. */
static const char *
check_claims(json_object *p, const char *issuer, struct cx_claims *c, int *expired)
{
	const char *why, *s;
	int64_t now = (int64_t)time(NULL);

	s = cx_json_str(p, "iss");
	if (s == NULL || strcmp(s, issuer) != 0)
		return "wrong or missing iss";
	s = cx_json_str(p, "typ");
	if (s == NULL || strcmp(s, "access") != 0)
		return "typ is not access";
	if ((why = int_claim(p, "exp", &c->exp)) != NULL ||
	    (why = int_claim(p, "iat", &c->iat)) != NULL ||
	    (why = str_claim(p, "sub", c->sub, sizeof(c->sub), 1)) != NULL ||
	    (why = str_claim(p, "email", c->email, sizeof(c->email), 0)) != NULL ||
	    (why = str_claim(p, "role", c->role, sizeof(c->role), 1)) != NULL ||
	    (why = str_claim(p, "jti", c->jti, sizeof(c->jti), 1)) != NULL ||
	    (why = str_claim(p, "sid", c->sid, sizeof(c->sid), 1)) != NULL)
		return why;
	if (!cx_role_valid(c->role))
		return "unknown role";
	if (c->iat > now + IAT_LEEWAY)
		return "iat in the future";
	if (c->exp <= c->iat)
		return "exp not after iat";
	if (c->exp <= now) {
		*expired = 1;
		return "expired";
	}
	return NULL;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over "header.payload", the only algorithm we accept:
 * the token's own alg field never chooses it. */
static int
signature_ok(EVP_PKEY *pub, const char *input, size_t input_len, const char *sig_b64,
    size_t sig_b64_len)
{
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *sig;
	size_t siglen;
	int ok = 0;

	if ((sig = cx_base64url_decode(sig_b64, sig_b64_len, &siglen)) == NULL)
		return 0;
	if (siglen != (size_t)EVP_PKEY_get_size(pub))
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)input, input_len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	free(sig);
	return ok;
}

/* The slot hash of a token: eight bytes at a time, multiply and fold. */
static uint64_t
token_hash(const char *token, size_t len)
{
	const uint64_t m = 0x9e3779b97f4a7c15ULL;
	uint64_t h = len * m, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, token + i, 8);
		h = (h ^ w) * m;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, token + i, len - i);
	h = (h ^ w) * m;
	return h ^ (h >> 32);
}

static int
verified_hit(const struct verified *v, const char *issuer, const char *token, size_t len,
    uint64_t hash)
{
	return v->token != NULL && v->hash == hash && v->len == len &&
	    strcmp(v->issuer, issuer) == 0 && cx_ct_equal(v->token, token, len);
}

/* Remember a verified token (best effort: out of memory leaves the slot empty). */
static void
verified_keep(struct verified *v, const char *issuer, const char *token, size_t len,
    uint64_t hash, const struct cx_claims *c)
{
	size_t ilen = strlen(issuer);

	free(v->token);
	v->token = NULL;
	if (ilen > ISSUER_MAX || (v->token = malloc(len)) == NULL)
		return;
	memcpy(v->token, token, len);
	memcpy(v->issuer, issuer, ilen + 1);
	v->len = len;
	v->hash = hash;
	v->claims = *c;
}

int
cx_jwt_verify(const struct cx_jwt_keys *keys, const char *issuer, const char *token,
    struct cx_claims *out, struct cx_error *err)
{
	struct cx_claims c;
	json_object *payload = NULL;
	const char *why = NULL;
	size_t len, dot1 = 0, dot2 = 0;
	int expired = 0;

	struct verified *slot = NULL;
	uint64_t hash = 0;

	memset(&c, 0, sizeof(c));
	if (keys == NULL || issuer == NULL) {
		why = "verifier not configured";
		goto out;
	}
	if (token == NULL || (len = strnlen(token, TOKEN_MAX + 1)) > TOKEN_MAX) {
		why = "missing or oversized token";
		goto out;
	}
	if (keys->verified != NULL) {
		hash = token_hash(token, len);
		slot = &keys->verified[hash % VERIFIED_SLOTS];
		if (verified_hit(slot, issuer, token, len, hash)) {
			if (slot->claims.exp > (int64_t)time(NULL)) {
				if (out != NULL)
					*out = slot->claims;
				return CX_OK;
			}
			free(slot->token);   /* expired: the full check below says so */
			slot->token = NULL;
		}
	}
	if (split_token(token, len, &dot1, &dot2) != 0) {
		why = "not three base64url segments";
		goto out;
	}
	if ((why = check_header(token, dot1)) != NULL)
		goto out;
	if (!signature_ok(keys->pub, token, dot2, token + dot2 + 1, len - dot2 - 1)) {
		why = "bad signature";
		goto out;
	}
	if ((payload = decode_segment(token + dot1 + 1, dot2 - dot1 - 1)) == NULL) {
		why = "payload is not a JSON object";
		goto out;
	}
	if ((why = check_claims(payload, issuer, &c, &expired)) != NULL)
		goto out;
	if (slot != NULL)
		verified_keep(slot, issuer, token, len, hash, &c);
	if (out != NULL)
		*out = c;
out:
	json_object_put(payload);
	if (why == NULL)
		return CX_OK;
	cx_logf(CX_LOG_DEBUG, "access token rejected: %s", why);
	return cx_error_set(err, CX_EUNAUTH, "%s", expired ? "Token expired" : "Invalid token");
}

/* --- key generation ---------------------------------------------------------- */

static int
path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

static int
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Write one PEM to tmp with mode, flushed to disk. The caller renames it. */
static int
write_pem(const char *tmp, mode_t mode, EVP_PKEY *pkey, int is_private, struct cx_error *err)
{
	FILE *fp = NULL;
	int fd, ok, rc;

	if (unlink(tmp) != 0 && errno != ENOENT)
		return cx_error_internal(err, "cannot remove stale %s: %s", tmp, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return cx_error_internal(err, "cannot create %s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) != 0 || (fp = fdopen(fd, "w")) == NULL) {
		rc = cx_error_internal(err, "cannot prepare %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	ok = is_private ? PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL)
	                : PEM_write_PUBKEY(fp, pkey);
	if (!ok || fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		rc = cx_error_internal(err, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = CX_OK;
out:
	if (fp != NULL && fclose(fp) != 0 && rc == CX_OK)
		rc = cx_error_internal(err, "cannot close %s: %s", tmp, strerror(errno));
	return rc;
}

int
cx_jwt_generate_keys(const char *private_path, const char *public_path, int force,
    struct cx_error *err)
{
	char priv_tmp[PATH_MAX], pub_tmp[PATH_MAX];
	EVP_PKEY *pkey = NULL;
	int rc, made_tmp = 0;

	if (private_path == NULL || public_path == NULL ||
	    strcmp(private_path, public_path) == 0)
		return cx_error_internal(err, "JWT key paths missing or identical");
	if ((size_t)snprintf(priv_tmp, sizeof(priv_tmp), "%s.tmp", private_path) >=
	    sizeof(priv_tmp) ||
	    (size_t)snprintf(pub_tmp, sizeof(pub_tmp), "%s.tmp", public_path) >=
	    sizeof(pub_tmp))
		return cx_error_internal(err, "JWT key path too long");
	if (!force && (path_exists(private_path) || path_exists(public_path)))
		return cx_error_set(err, CX_ECONFLICT, "keys already exist");
	if ((pkey = EVP_RSA_gen(RSA_BITS_MIN)) == NULL)
		return cx_error_internal(err, "RSA key generation failed");
	made_tmp = 1;
	if ((rc = write_pem(priv_tmp, 0600, pkey, 1, err)) != CX_OK ||
	    (rc = write_pem(pub_tmp, 0644, pkey, 0, err)) != CX_OK)
		goto out;
	if (rename(priv_tmp, private_path) != 0 || rename(pub_tmp, public_path) != 0) {
		rc = cx_error_internal(err, "cannot rename JWT key into place: %s",
		    strerror(errno));
		goto out;
	}
	made_tmp = 0;
	if (fsync_parent(private_path) != 0 || fsync_parent(public_path) != 0) {
		rc = cx_error_internal(err, "cannot sync the JWT key directory: %s",
		    strerror(errno));
		goto out;
	}
	rc = CX_OK;
out:
	if (made_tmp) {
		unlink(priv_tmp);
		unlink(pub_tmp);
	}
	EVP_PKEY_free(pkey);
	return rc;
}
