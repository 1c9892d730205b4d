/* cx_password: bcrypt through libcrypt, and the password policy of spec 4.1. */
#include "config.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cx_crypto.h"
#include "cx_log.h"
#include "cx_password.h"

#define MIN_CHARS 8
#define COST_MIN 10
#define COST_MAX 15
#define BCRYPT_LEN 60         /* "$2b$" + 2 cost digits + "$" + 22 salt + 31 hash */

/* A valid bcrypt hash of a throwaway string. When the account has no usable hash we
 * still run bcrypt against this so the response takes as long as a wrong password. */
static const char dummy_hash[] =
    "$2b$12$q424AZj5gd/PjjAlvJD2pOzQMshh5j0FAL0KSztpGAosgSjQiapji";

/* --- policy ----------------------------------------------------------------- */

struct scan {
	size_t chars;
	int lower, upper, digit, symbol, control, bad_utf8;
};

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is malformed (stray
 * continuation byte, overlong form, surrogate, beyond U+10FFFF, truncated). */
static size_t
utf8_seq_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)   /* also stops at the NUL terminator */
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

static void
scan_password(const char *password, struct scan *s)
{
	const unsigned char *p = (const unsigned char *)password;

	memset(s, 0, sizeof(*s));
	while (*p != '\0') {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			s->bad_utf8 = 1;
			return;
		}
		if (n == 1) {
			unsigned char c = *p;
			if (c < 0x20 || c == 0x7f)
				s->control = 1;
			else if (c >= 'a' && c <= 'z')
				s->lower = 1;
			else if (c >= 'A' && c <= 'Z')
				s->upper = 1;
			else if (c >= '0' && c <= '9')
				s->digit = 1;
			else
				s->symbol = 1;     /* ASCII punctuation and space */
		} else if (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f) {
			s->control = 1;            /* C1 controls U+0080..U+009F */
		} else {
			s->symbol = 1;             /* any other non-ASCII character */
		}
		s->chars++;
		p += n;
	}
}

int
cx_password_check_policy(const char *password, const char *field, struct cx_error *err)
{
	struct scan s;

	if (field == NULL)
		field = "password";
	if (password == NULL)
		return cx_error_field(err, field, "field required");
	scan_password(password, &s);
	if (s.bad_utf8)
		return cx_error_field(err, field, "must be valid UTF-8 text");
	if (s.control)
		return cx_error_field(err, field, "must not contain control characters");
	if (s.chars < MIN_CHARS)
		return cx_error_field(err, field, "must be at least %d characters", MIN_CHARS);
	if (strlen(password) > CX_PASSWORD_MAX_BYTES)
		return cx_error_field(err, field, "must be at most %d bytes", CX_PASSWORD_MAX_BYTES);
	if (!s.lower)
		return cx_error_field(err, field, "must contain a lowercase letter");
	if (!s.upper)
		return cx_error_field(err, field, "must contain an uppercase letter");
	if (!s.digit)
		return cx_error_field(err, field, "must contain a number");
	if (!s.symbol)
		return cx_error_field(err, field, "must contain a symbol");
	return CX_OK;
}

/* --- hashing ---------------------------------------------------------------- */

static int
is_bcrypt_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '/';
}

/* Only what we produce: "$2b$", a cost we accept, 53 bcrypt-alphabet chars. Anything
 * else (other crypt methods included) never reaches crypt_r as a setting. */
static int
well_formed(const char *hash)
{
	int cost;

	if (hash == NULL || strnlen(hash, BCRYPT_LEN + 1) != BCRYPT_LEN)
		return 0;
	if (memcmp(hash, "$2b$", 4) != 0 || hash[6] != '$')
		return 0;
	if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9')
		return 0;
	cost = (hash[4] - '0') * 10 + (hash[5] - '0');
	if (cost < COST_MIN || cost > COST_MAX)
		return 0;
	for (size_t i = 7; i < BCRYPT_LEN; i++)
		if (!is_bcrypt_char(hash[i]))
			return 0;
	return 1;
}

int
cx_password_hash(const char *password, int cost, char out[CX_BCRYPT_HASH_MAX],
    struct cx_error *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = NULL;
	const char *h;
	int rc;

	if (cost < COST_MIN || cost > COST_MAX)
		return cx_error_internal(err, "bcrypt cost %d outside %d..%d", cost, COST_MIN,
		    COST_MAX);
	if (password == NULL)
		return cx_error_field(err, "password", "field required");
	/* bcrypt ignores bytes after 72: hashing them would let a prefix log in. */
	if (strlen(password) > CX_PASSWORD_MAX_BYTES)
		return cx_error_field(err, "password", "must be at most %d bytes",
		    CX_PASSWORD_MAX_BYTES);
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof(salt)) == NULL)
		return cx_error_internal(err, "crypt_gensalt_rn failed");
	if ((data = calloc(1, sizeof(*data))) == NULL) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	h = crypt_r(password, salt, data);
	if (h == NULL || h[0] == '*' || !well_formed(h)) {
		rc = cx_error_internal(err, "crypt_r failed to hash");
		goto out;
	}
	memcpy(out, h, BCRYPT_LEN + 1);
	rc = CX_OK;
out:
	if (data != NULL) {
		OPENSSL_cleanse(data, sizeof(*data));
		free(data);
	}
	return rc;
}

int
cx_password_verify(const char *password, const char *hash)
{
	struct crypt_data *data;
	const char *h;
	int usable = 1, ok = 0;

	if ((data = calloc(1, sizeof(*data))) == NULL) {
		cx_logf(CX_LOG_ERROR, "password verify: out of memory");
		return 0;
	}
	if (!well_formed(hash)) {
		usable = 0;
		hash = dummy_hash;
	}
	/* Over 72 bytes cannot be a registered password; hash the prefix anyway so the
	 * time is the same, but never call it a match. */
	if (password == NULL || strnlen(password, CX_PASSWORD_MAX_BYTES + 1) >
	    CX_PASSWORD_MAX_BYTES) {
		usable = 0;
		password = "";
	}
	h = crypt_r(password, hash, data);
	if (h == NULL || h[0] == '*') {
		/* libcrypt refused a setting that looked right: still spend the work. */
		usable = 0;
		h = crypt_r(password, dummy_hash, data);
	}
	if (h != NULL && strnlen(h, BCRYPT_LEN + 1) == BCRYPT_LEN)
		ok = cx_ct_equal(h, hash, BCRYPT_LEN);
	OPENSSL_cleanse(data, sizeof(*data));
	free(data);
	return usable && ok;
}
