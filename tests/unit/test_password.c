/* Unit tests of cx_password: policy table, bcrypt round trips, the 72-byte limit and
 * the constant work for unknown or broken hashes. */
#include "config.h"

#include <criterion/criterion.h>
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "cx_password.h"
#include "cx_time.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TEST_COST 10

/* "Aa1!" followed by filler up to n bytes. */
static void
make_password(char *buf, size_t n, char filler)
{
	memcpy(buf, "Aa1!", 4);
	memset(buf + 4, filler, n - 4);
	buf[n] = '\0';
}

Test(password_policy, table)
{
	static const struct {
		const char *pw;
		const char *reason;   /* NULL: accepted */
	} cases[] = {
		{ "", "must be at least 8 characters" },
		{ "Abcde1!", "must be at least 8 characters" },          /* 7 */
		{ "Abcdef1!", NULL },                                    /* 8 */
		{ "Ab1\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",   /* 7 chars, 15 bytes */
		  "must be at least 8 characters" },
		{ "abcdefg1!", "must contain an uppercase letter" },
		{ "ABCDEFG1!", "must contain a lowercase letter" },
		{ "Abcdefgh!", "must contain a number" },
		{ "Abcdefgh1", "must contain a symbol" },
		{ "Abcdefg1 ", NULL },                                   /* space is a symbol */
		{ "Abcdefg1~", NULL },
		{ "Abcdefg1\xc3\xa9", NULL },                            /* é is a symbol */
		{ "Abcdefg1\xf0\x9f\x94\x91", NULL },                    /* 4-byte emoji */
		{ "Abcdefg1!\t", "must not contain control characters" },
		{ "Abcdefg1!\n", "must not contain control characters" },
		{ "Abcdefg1!\x7f", "must not contain control characters" },
		{ "Abcdefg1!\xc2\x85", "must not contain control characters" }, /* C1 NEL */
		{ "Abcdefg1!\xff", "must be valid UTF-8 text" },
		{ "Abcdefg1!\xc0\xaf", "must be valid UTF-8 text" },     /* overlong '/' */
		{ "Abcdefg1!\xed\xa0\x80", "must be valid UTF-8 text" }, /* surrogate */
		{ "Abcdefg1!\xe2\x82", "must be valid UTF-8 text" },     /* truncated */
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct cx_error err = { 0 };
		int rc = cx_password_check_policy(cases[i].pw, "password", &err);

		if (cases[i].reason == NULL) {
			cr_expect_eq(rc, CX_OK, "case %zu rejected: %s", i, err.reason);
		} else {
			cr_expect_eq(rc, CX_EVALIDATION, "case %zu accepted", i);
			cr_expect_str_eq(err.reason, cases[i].reason, "case %zu", i);
			cr_expect_str_eq(err.field, "password", "case %zu", i);
		}
	}
}

Test(password_policy, byte_limit_72_73)
{
	char pw[80];
	struct cx_error err = { 0 };

	make_password(pw, 72, 'x');
	cr_assert_eq(cx_password_check_policy(pw, "password", &err), CX_OK, "%s", err.reason);
	make_password(pw, 73, 'x');
	cr_assert_eq(cx_password_check_policy(pw, "password", &err), CX_EVALIDATION);
	cr_assert_str_eq(err.reason, "must be at most 72 bytes");
}

Test(password_policy, limit_counts_bytes_not_characters)
{
	char pw[80];
	struct cx_error err = { 0 };

	/* 68 bytes + one 4-byte character = 72 bytes but only 69 characters: accepted;
	 * one more byte is over, however few characters it is. */
	make_password(pw, 68, 'x');
	memcpy(pw + 68, "\xf0\x9f\x94\x91", 5);
	cr_assert_eq(strlen(pw), 72);
	cr_assert_eq(cx_password_check_policy(pw, "password", &err), CX_OK, "%s", err.reason);
	make_password(pw, 69, 'x');
	memcpy(pw + 69, "\xf0\x9f\x94\x91", 5);
	cr_assert_eq(cx_password_check_policy(pw, "password", &err), CX_EVALIDATION);
	cr_assert_str_eq(err.reason, "must be at most 72 bytes");
}

Test(password_policy, names_the_field)
{
	struct cx_error err = { 0 };

	cr_assert_eq(cx_password_check_policy("short", "new_password", &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "new_password");
	cx_error_clear(&err);
	cr_assert_eq(cx_password_check_policy("short", NULL, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.field, "password");
	cx_error_clear(&err);
	cr_assert_eq(cx_password_check_policy(NULL, "password", &err), CX_EVALIDATION);
	cr_assert_str_eq(err.reason, "field required");
}

/* Two passwords equal in their first 72 bytes would share a bcrypt hash: the policy
 * refuses both, so neither can be registered. */
Test(password_policy, same_72_byte_prefix_both_refused)
{
	char a[80], b[80];
	struct cx_error ea = { 0 }, eb = { 0 };

	make_password(a, 73, 'x');
	make_password(b, 73, 'x');
	b[72] = 'y';
	cr_assert_str_neq(a, b);
	cr_assert_eq(cx_password_check_policy(a, "password", &ea), CX_EVALIDATION);
	cr_assert_eq(cx_password_check_policy(b, "password", &eb), CX_EVALIDATION);
	cr_assert_str_eq(ea.reason, "must be at most 72 bytes");
	cr_assert_str_eq(eb.reason, "must be at most 72 bytes");
}

Test(password_hash, round_trip)
{
	char hash[CX_BCRYPT_HASH_MAX];
	struct cx_error err = { 0 };

	cr_assert_eq(cx_password_hash("Correct-Horse-9", TEST_COST, hash, &err), CX_OK,
	    "%s", err.message);
	cr_assert_eq(strncmp(hash, "$2b$10$", 7), 0, "%s", hash);
	cr_assert_eq(strlen(hash), 60);
	cr_assert_eq(cx_password_verify("Correct-Horse-9", hash), 1);
	cr_assert_eq(cx_password_verify("correct-Horse-9", hash), 0);
	cr_assert_eq(cx_password_verify("Correct-Horse-", hash), 0);
	cr_assert_eq(cx_password_verify("Correct-Horse-9 ", hash), 0);
	cr_assert_eq(cx_password_verify("", hash), 0);
	cr_assert_eq(cx_password_verify(NULL, hash), 0);
}

Test(password_hash, cost_12_prefix)
{
	char hash[CX_BCRYPT_HASH_MAX];
	struct cx_error err = { 0 };

	cr_assert_eq(cx_password_hash("Abcdef1!", 12, hash, &err), CX_OK, "%s", err.message);
	cr_assert_eq(strncmp(hash, "$2b$12$", 7), 0, "%s", hash);
	cr_assert_eq(cx_password_verify("Abcdef1!", hash), 1);
}

Test(password_hash, fresh_salt_each_time)
{
	char h1[CX_BCRYPT_HASH_MAX], h2[CX_BCRYPT_HASH_MAX];

	cr_assert_eq(cx_password_hash("Abcdef1!", TEST_COST, h1, NULL), CX_OK);
	cr_assert_eq(cx_password_hash("Abcdef1!", TEST_COST, h2, NULL), CX_OK);
	cr_assert_str_neq(h1, h2);
	cr_assert_eq(cx_password_verify("Abcdef1!", h1), 1);
	cr_assert_eq(cx_password_verify("Abcdef1!", h2), 1);
}

Test(password_hash, cost_out_of_range)
{
	static const int bad[] = { -1, 0, 4, 9, 16, 31 };
	char hash[CX_BCRYPT_HASH_MAX];

	for (size_t i = 0; i < N(bad); i++) {
		struct cx_error err = { 0 };
		cr_expect_eq(cx_password_hash("Abcdef1!", bad[i], hash, &err), CX_EINTERNAL,
		    "cost %d", bad[i]);
	}
}

Test(password_hash, refuses_over_72_bytes)
{
	char pw[80], hash[CX_BCRYPT_HASH_MAX];
	struct cx_error err = { 0 };

	make_password(pw, 73, 'x');
	cr_assert_eq(cx_password_hash(pw, TEST_COST, hash, &err), CX_EVALIDATION);
	cr_assert_str_eq(err.reason, "must be at most 72 bytes");
}

/* bcrypt would call these equal; verify must not. */
Test(password_hash, bytes_after_72_never_match)
{
	char pw[80], longer[80], hash[CX_BCRYPT_HASH_MAX];

	make_password(pw, 72, 'x');
	cr_assert_eq(cx_password_hash(pw, TEST_COST, hash, NULL), CX_OK);
	cr_assert_eq(cx_password_verify(pw, hash), 1);
	make_password(longer, 73, 'x');
	cr_assert_eq(cx_password_verify(longer, hash), 0);
	longer[72] = 'z';
	cr_assert_eq(cx_password_verify(longer, hash), 0);
}

Test(password_verify, bad_hashes_return_0)
{
	char good[CX_BCRYPT_HASH_MAX], h[CX_BCRYPT_HASH_MAX];
	static const char *const bad[] = {
		NULL, "", "*0", "garbage", "$2b$12$",
		"$2b$12$short",
	};

	cr_assert_eq(cx_password_hash("Abcdef1!", TEST_COST, good, NULL), CX_OK);
	for (size_t i = 0; i < N(bad); i++)
		cr_expect_eq(cx_password_verify("Abcdef1!", bad[i]), 0, "hash %zu", i);
	cr_expect_eq(cx_password_verify("", ""), 0);

	/* One character changed anywhere in a real hash: no match. */
	for (size_t pos = 7; pos < 60; pos += 13) {
		memcpy(h, good, sizeof(h));
		h[pos] = h[pos] == 'a' ? 'b' : 'a';
		cr_expect_eq(cx_password_verify("Abcdef1!", h), 0, "pos %zu", pos);
	}
	/* Same hash, other prefix: we only accept $2b$ with a cost we issue. */
	memcpy(h, good, sizeof(h));
	h[2] = 'a';
	cr_expect_eq(cx_password_verify("Abcdef1!", h), 0);
	memcpy(h, good, sizeof(h));
	h[4] = '0';
	h[5] = '4';
	cr_expect_eq(cx_password_verify("Abcdef1!", h), 0);
}

/* A correct hash from another crypt method (weaker, or not what we store) is refused. */
Test(password_verify, other_crypt_methods_refused)
{
	static const char *const prefixes[] = { "$1$", "$5$", "$6$", "$2a$", "$2y$" };
	struct crypt_data *data = calloc(1, sizeof(*data));

	cr_assert_not_null(data);
	for (size_t i = 0; i < N(prefixes); i++) {
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		const char *h;

		cr_assert_not_null(crypt_gensalt_rn(prefixes[i], 0, NULL, 0, salt, sizeof(salt)));
		h = crypt_r("Abcdef1!", salt, data);
		cr_assert(h != NULL && h[0] != '*', "%s", prefixes[i]);
		cr_expect_eq(cx_password_verify("Abcdef1!", h), 0, "%s", prefixes[i]);
	}
	free(data);
}

/* An unknown account must cost bcrypt time, not return at once. Generous bound:
 * the dummy hash is cost 12 (~100+ ms); an early return takes microseconds. */
Test(password_verify, missing_hash_still_costs_bcrypt_time)
{
	double t0 = cx_time_mono_ms();

	cr_assert_eq(cx_password_verify("Abcdef1!", NULL), 0);
	cr_assert_gt(cx_time_mono_ms() - t0, 5.0);
	t0 = cx_time_mono_ms();
	cr_assert_eq(cx_password_verify("Abcdef1!", "garbage"), 0);
	cr_assert_gt(cx_time_mono_ms() - t0, 5.0);
}
