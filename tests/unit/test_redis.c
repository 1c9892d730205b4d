/* Unit tests of cx_redis against a real redis-server: URLs, commands, reconnecting,
 * Redis down, the rate limiter and script caching. */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cx_crypto.h"
#include "cx_redis.h"
#include "redis_fixture.h"

static struct redis_fixture fx;

static void
setup(void)
{
	if (redis_fixture_start(&fx) != 0)
		cr_assert_fail("cannot start Redis for the test: %s", fx.why);
}

static void
teardown(void)
{
	redis_fixture_stop(&fx);
}

static struct cx_redis *
client(const char *url)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = NULL;

	cr_assert_eq(cx_redis_new(url, &r, &err), CX_OK, "cx_redis_new(%s): %s", url, err.message);
	cr_assert_not_null(r);
	return r;
}

/* A unique name so tests can share an external CX_TEST_REDIS_URL server. */
static void
unique(char *buf, size_t cap, const char *prefix)
{
	char rnd[44];

	cr_assert_eq(cx_random_token(rnd), 0);
	snprintf(buf, cap, "%s-%.12s", prefix, rnd);
}

static long long
ttl_of(struct cx_redis *r, const char *key)
{
	struct cx_error err = { 0 };
	redisReply *reply = cx_redis_cmd(r, &err, "TTL %s", key);
	long long ttl;

	cr_assert_not_null(reply, "TTL failed: %s", err.message);
	cr_assert_eq(reply->type, REDIS_REPLY_INTEGER);
	ttl = reply->integer;
	freeReplyObject(reply);
	return ttl;
}

/* ---- URLs ------------------------------------------------------------------------ */

Test(redis_url, good_urls_parse_to_their_parts)
{
	static const struct {
		const char *url;
		int is_unix;
		const char *host;
		int port;
		const char *path, *user, *password;
		int db;
	} cases[] = {
		{ "redis://localhost", 0, "localhost", 6379, "", "", "", 0 },
		{ "redis://localhost:6380", 0, "localhost", 6380, "", "", "", 0 },
		{ "redis://127.0.0.1:6379/", 0, "127.0.0.1", 6379, "", "", "", 0 },
		{ "redis://127.0.0.1:6379/2", 0, "127.0.0.1", 6379, "", "", "", 2 },
		{ "redis://:s3cret@redis.internal:7000/15", 0, "redis.internal", 7000, "", "", "s3cret", 15 },
		{ "redis://:p%40ss%3Aword@h/1", 0, "h", 6379, "", "", "p@ss:word", 1 },
		{ "redis://app:pw@h", 0, "h", 6379, "", "app", "pw", 0 },
		{ "redis://[::1]:6390/4", 0, "::1", 6390, "", "", "", 4 },
		{ "REDIS://Host_1.example", 0, "Host_1.example", 6379, "", "", "", 0 },
		{ "unix:/run/redis/redis.sock", 1, "", 0, "/run/redis/redis.sock", "", "", 0 },
		{ "unix:///run/redis.sock", 1, "", 0, "/run/redis.sock", "", "", 0 },
		{ "unix:/tmp/r.sock?db=3", 1, "", 0, "/tmp/r.sock", "", "", 3 },
		{ "unix:/tmp/r.sock?db=3&password=a%26b", 1, "", 0, "/tmp/r.sock", "", "a&b", 3 },
		{ "unix:/tmp/r.sock?password=x", 1, "", 0, "/tmp/r.sock", "", "x", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };
		struct cx_redis_url u;

		memset(&u, 0x55, sizeof(u));
		cr_assert_eq(cx_redis_parse_url(cases[i].url, &u, &err), CX_OK, "%s: %s %s",
		    cases[i].url, err.message, err.reason);
		cr_expect_eq(u.is_unix, cases[i].is_unix, "%s", cases[i].url);
		cr_expect_str_eq(u.host, cases[i].host, "%s", cases[i].url);
		cr_expect_eq(u.port, cases[i].port, "%s", cases[i].url);
		cr_expect_str_eq(u.path, cases[i].path, "%s", cases[i].url);
		cr_expect_str_eq(u.user, cases[i].user, "%s", cases[i].url);
		cr_expect_str_eq(u.password, cases[i].password, "%s", cases[i].url);
		cr_expect_eq(u.db, cases[i].db, "%s", cases[i].url);
	}
}

Test(redis_url, bad_urls_are_refused_without_echoing_the_password)
{
	static const char *const bad[] = {
		"", "localhost:6379", "http://localhost", "redis:/localhost", "redis://",
		"redis://:6379", "redis://host:", "redis://host:0", "redis://host:65536",
		"redis://host:12ab", "redis://host:-1", "redis://host/abc", "redis://host/1/2",
		"redis://host/-1", "redis://host/99999999", "redis://host?db=1", "redis://host#x",
		"redis://pw@host", "redis://:@host", "redis://:a@b@host", "redis://:bad%zzpw@host",
		"redis://:bad%0pw@host", "redis://:nul%00pw@host", "redis://ho st", "redis://h/st:1",
		"redis://[::1", "redis://[]:6379", "redis://[::1]x", "redis://[zz::1]",
		"rediss://host", "unix:", "unix:relative.sock", "unix://host/path.sock",
		"unix:/tmp/dir/", "unix:/tmp/r.sock?", "unix:/tmp/r.sock?db=x", "unix:/tmp/r.sock?db",
		"unix:/tmp/r.sock?db=1&db=2", "unix:/tmp/r.sock?foo=1", "unix:/tmp/r.sock?db=1&",
		"unix:/tmp/r.sock?password=", "unix:/tmp/r.sock#frag",
		"unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cx_error err = { 0 };
		struct cx_redis_url u;
		struct cx_redis *r = (struct cx_redis *)&u;

		cr_expect_eq(cx_redis_parse_url(bad[i], &u, &err), CX_EVALIDATION, "accepted \"%s\"", bad[i]);
		cr_expect_str_eq(err.field, "redis_url", "%s", bad[i]);
		cr_expect_neq(err.reason[0], '\0', "%s: no reason", bad[i]);
		cr_expect_null(strstr(err.reason, "pw"), "%s: reason shows the password", bad[i]);
		cx_error_clear(&err);
		cr_expect_eq(cx_redis_new(bad[i], &r, &err), CX_EVALIDATION, "%s", bad[i]);
		cr_expect_eq(r, (struct cx_redis *)&u, "%s: out was written on failure", bad[i]);
	}
	cr_expect_eq(cx_redis_parse_url(NULL, &(struct cx_redis_url){ 0 }, NULL), CX_EVALIDATION);
}

/* ---- commands -------------------------------------------------------------------- */

Test(redis, commands_round_trip, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	static const char binary[] = { 'a', '\0', 'b', '\n', 'c' };
	const char *argv[3] = { "SET", NULL, binary };
	size_t argvlen[3] = { 3, 0, sizeof(binary) };
	char key[64];
	redisReply *reply;

	unique(key, sizeof(key), "cmd");
	argv[1] = key;
	argvlen[1] = strlen(key);
	cr_assert_eq(cx_redis_ping(r, &err), CX_OK, "%s", err.message);

	reply = cx_redis_cmdargv(r, &err, 3, argv, argvlen);
	cr_assert_not_null(reply, "%s", err.message);
	cr_expect_eq(reply->type, REDIS_REPLY_STATUS);
	freeReplyObject(reply);

	reply = cx_redis_cmd(r, &err, "GET %s", key);
	cr_assert_not_null(reply, "%s", err.message);
	cr_assert_eq(reply->type, REDIS_REPLY_STRING);
	cr_assert_eq((size_t)reply->len, sizeof(binary));
	cr_expect_eq(memcmp(reply->str, binary, sizeof(binary)), 0);
	freeReplyObject(reply);

	/* an argument with spaces stays one argument */
	reply = cx_redis_cmd(r, &err, "SET %s %s", key, "two words here");
	cr_assert_not_null(reply);
	freeReplyObject(reply);
	reply = cx_redis_cmd(r, &err, "GET %s", key);
	cr_assert_str_eq(reply->str, "two words here");
	freeReplyObject(reply);
	cr_expect_eq(err.code, CX_OK);
	cx_redis_free(r);
}

Test(redis, error_reply_is_internal_and_hides_redis_text, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	char key[64];
	redisReply *reply;

	unique(key, sizeof(key), "list");
	reply = cx_redis_cmd(r, &err, "RPUSH %s x", key);
	cr_assert_not_null(reply);
	freeReplyObject(reply);
	reply = cx_redis_cmd(r, &err, "INCR %s", key);     /* WRONGTYPE */
	cr_expect_null(reply);
	cr_expect_eq(err.code, CX_EINTERNAL);
	cr_expect_null(strstr(err.message, "WRONGTYPE"));
	cr_expect_str_eq(err.message, "Internal server error");

	/* the connection is still good afterwards */
	cx_error_clear(&err);
	cr_expect_eq(cx_redis_ping(r, &err), CX_OK);
	cx_redis_free(r);
}

/* ---- reconnecting and Redis down ------------------------------------------------- */

static void
expect_unavailable(const struct cx_error *err)
{
	cr_expect_eq(err->code, CX_EUNAVAIL);
	cr_expect_str_eq(err->message, "Cache service unavailable");
	cr_expect_eq(err->retry_after, 5);
}

Test(redis, reconnects_after_server_restart, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r;
	char key[64];
	redisReply *reply;

	if (fx.external)
		cr_skip_test("CX_TEST_REDIS_URL is set: cannot restart a shared server");
	r = client(fx.url);
	unique(key, sizeof(key), "restart");
	reply = cx_redis_cmd(r, &err, "SET %s before", key);
	cr_assert_not_null(reply, "%s", err.message);
	freeReplyObject(reply);

	cr_assert_eq(redis_fixture_kill(&fx), 0);
	cr_assert_eq(redis_fixture_restart(&fx), 0, "%s", fx.why);

	/* the old connection is dead; the very next command reconnects and succeeds */
	reply = cx_redis_cmd(r, &err, "SET %s after", key);
	cr_assert_not_null(reply, "command after restart failed: %s", err.message);
	freeReplyObject(reply);
	reply = cx_redis_cmd(r, &err, "GET %s", key);
	cr_assert_not_null(reply);
	cr_expect_str_eq(reply->str, "after");
	freeReplyObject(reply);
	cr_expect_eq(err.code, CX_OK);
	cx_redis_free(r);
}

Test(redis, down_gives_service_unavailable_then_recovers, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r;
	redisReply *reply;

	if (fx.external)
		cr_skip_test("CX_TEST_REDIS_URL is set: cannot stop a shared server");
	r = client(fx.url);
	cr_assert_eq(cx_redis_ping(r, &err), CX_OK);
	cr_assert_eq(redis_fixture_kill(&fx), 0);

	reply = cx_redis_cmd(r, &err, "PING");
	cr_expect_null(reply);
	expect_unavailable(&err);
	cr_expect_null(strstr(err.message, "refused"));
	cr_expect_null(strstr(err.message, "No such file"));

	cx_error_clear(&err);
	cr_expect_eq(cx_ratelimit_hit(r, "1.2.3.4", "login", 5, 60, &err), CX_EUNAVAIL);
	expect_unavailable(&err);
	cx_error_clear(&err);
	cr_expect_eq(cx_ratelimit_check(r, "1.2.3.4", "login", 5, &err), CX_EUNAVAIL);
	expect_unavailable(&err);
	cx_error_clear(&err);
	cr_expect_eq(cx_redis_ping(r, &err), CX_EUNAVAIL);
	cx_ratelimit_reset(r, "1.2.3.4", "login");     /* logs, must not crash */

	/* a client created while Redis is down is still returned */
	{
		struct cx_redis *late = client(fx.url);

		cr_assert_eq(redis_fixture_restart(&fx), 0, "%s", fx.why);
		cx_error_clear(&err);
		cr_expect_eq(cx_redis_ping(late, &err), CX_OK, "%s", err.message);
		cx_redis_free(late);
	}
	cx_error_clear(&err);
	cr_expect_eq(cx_redis_ping(r, &err), CX_OK, "%s", err.message);
	cx_redis_free(r);
}

/* ---- AUTH and SELECT, over TCP and the socket ------------------------------------ */

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	cr_assert_geq(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

Test(redis, auth_and_select_after_connect, .fini = teardown)
{
	static char port[8];
	static const char *extra[] = { "--port", port, "--bind", "127.0.0.1",
		"--requirepass", "s3cr@t", NULL };
	struct cx_error err = { 0 };
	struct cx_redis *tcp, *sock_db3, *sock_db0, *wrong, *user_form;
	char url[700];
	redisReply *reply;

	if (getenv("CX_TEST_REDIS_URL") != NULL)
		cr_skip_test("CX_TEST_REDIS_URL is set: this test needs its own password-protected server");
	snprintf(port, sizeof(port), "%d", free_port());
	fx.extra = extra;
	if (redis_fixture_start(&fx) != 0)
		cr_assert_fail("cannot start Redis: %s", fx.why);

	snprintf(url, sizeof(url), "redis://:s3cr%%40t@127.0.0.1:%s/3", port);
	tcp = client(url);
	reply = cx_redis_cmd(tcp, &err, "SET where db3");
	cr_assert_not_null(reply, "TCP with AUTH and SELECT failed: %s", err.message);
	freeReplyObject(reply);

	snprintf(url, sizeof(url), "%s?db=3&password=s3cr%%40t", fx.url);
	sock_db3 = client(url);
	reply = cx_redis_cmd(sock_db3, &err, "GET where");
	cr_assert_not_null(reply, "%s", err.message);
	cr_expect_eq(reply->type, REDIS_REPLY_STRING);
	cr_expect_str_eq(reply->str, "db3");
	freeReplyObject(reply);

	snprintf(url, sizeof(url), "%s?password=s3cr%%40t", fx.url);
	sock_db0 = client(url);
	reply = cx_redis_cmd(sock_db0, &err, "GET where");
	cr_assert_not_null(reply, "%s", err.message);
	cr_expect_eq(reply->type, REDIS_REPLY_NIL, "db 0 sees db 3's key");
	freeReplyObject(reply);

	snprintf(url, sizeof(url), "redis://default:s3cr%%40t@127.0.0.1:%s", port);
	user_form = client(url);
	cr_expect_eq(cx_redis_ping(user_form, &err), CX_OK, "user:password form: %s", err.message);

	snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%s", port);
	wrong = client(url);
	reply = cx_redis_cmd(wrong, &err, "GET where");
	cr_expect_null(reply);
	expect_unavailable(&err);

	cx_redis_free(tcp);
	cx_redis_free(sock_db3);
	cx_redis_free(sock_db0);
	cx_redis_free(user_form);
	cx_redis_free(wrong);
	redis_fixture_stop(&fx);
}

/* ---- rate limiter ---------------------------------------------------------------- */

Test(ratelimit, allows_limit_hits_then_refuses_until_reset, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	char who[64], key[160], expect_msg[80];
	const int limit = 3, window = 60;

	unique(who, sizeof(who), "user@example.com:10.0.0.1");
	snprintf(key, sizeof(key), "ratelimit:%s:login", who);
	for (int i = 0; i < limit; i++) {
		cr_assert_eq(cx_ratelimit_check(r, who, "login", limit, &err), CX_OK, "check %d", i);
		cr_assert_eq(cx_ratelimit_hit(r, who, "login", limit, window, &err), CX_OK,
		    "hit %d refused: %s", i + 1, err.message);
	}
	cr_expect_eq(cx_ratelimit_check(r, who, "login", limit, &err), CX_ERATELIMIT,
	    "check must refuse once the limit is used up");
	cx_error_clear(&err);

	cr_assert_eq(cx_ratelimit_hit(r, who, "login", limit, window, &err), CX_ERATELIMIT);
	cr_expect_eq(cx_code_status(err.code), 429);
	cr_expect_geq(err.retry_after, 1);
	cr_expect_leq(err.retry_after, window);
	snprintf(expect_msg, sizeof(expect_msg), "Too many requests, try again in %d seconds",
	    err.retry_after);
	cr_expect_str_eq(err.message, expect_msg);

	/* the counter has a TTL within the window */
	cr_expect_geq(ttl_of(r, key), 1);
	cr_expect_leq(ttl_of(r, key), window);

	/* other endpoints and other people are counted apart */
	cx_error_clear(&err);
	cr_expect_eq(cx_ratelimit_hit(r, who, "register", limit, window, &err), CX_OK);
	cr_expect_eq(cx_ratelimit_hit(r, "someone-else", "login", limit, window, &err), CX_OK);

	cx_ratelimit_reset(r, who, "login");
	cr_expect_eq(ttl_of(r, key), -2, "reset must delete the counter");
	cr_expect_eq(cx_ratelimit_check(r, who, "login", limit, &err), CX_OK);
	cr_expect_eq(cx_ratelimit_hit(r, who, "login", limit, window, &err), CX_OK, "%s", err.message);
	cx_ratelimit_reset(r, "someone-else", "login");
	cx_redis_free(r);
}

Test(ratelimit, long_who_is_hashed_in_the_key, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	char who[200], digest[65], key[160];
	redisReply *reply;

	unique(who, sizeof(who), "a-very-long-identifier");
	memset(who + strlen(who), 'x', 120);
	who[sizeof(who) - 1] = '\0';
	cx_sha256_hex(who, strlen(who), digest);
	snprintf(key, sizeof(key), "ratelimit:sha256:%s:login", digest);

	cr_assert_eq(cx_ratelimit_hit(r, who, "login", 1, 30, &err), CX_OK);
	cr_expect_eq(cx_ratelimit_hit(r, who, "login", 1, 30, &err), CX_ERATELIMIT);
	reply = cx_redis_cmd(r, &err, "GET %s", key);
	cr_assert_not_null(reply);
	cr_expect_eq(reply->type, REDIS_REPLY_STRING, "hashed key not found");
	freeReplyObject(reply);
	cr_expect_gt(ttl_of(r, key), 0);
	cx_redis_free(r);
}

Test(ratelimit, counter_without_ttl_is_given_one, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	char who[64], key[160];
	redisReply *reply;

	/* as if a process had died between INCR and EXPIRE with a non-atomic limiter */
	unique(who, sizeof(who), "10.1.1.1");
	snprintf(key, sizeof(key), "ratelimit:%s:login", who);
	reply = cx_redis_cmd(r, &err, "SET %s 2", key);
	cr_assert_not_null(reply);
	freeReplyObject(reply);
	cr_assert_eq(ttl_of(r, key), -1);

	cr_expect_eq(cx_ratelimit_hit(r, who, "login", 10, 45, &err), CX_OK);
	cr_expect_gt(ttl_of(r, key), 0);
	cr_expect_leq(ttl_of(r, key), 45);
	cx_redis_free(r);
}

Test(ratelimit, bad_arguments_are_internal_errors, .init = setup, .fini = teardown)
{
	struct cx_redis *r = client(fx.url);
	static const struct { const char *who, *endpoint; int limit, window; } cases[] = {
		{ NULL, "login", 1, 1 }, { "", "login", 1, 1 }, { "ip", NULL, 1, 1 },
		{ "ip", "", 1, 1 }, { "ip", "a:b", 1, 1 }, { "ip", "login", 0, 1 },
		{ "ip", "login", 1, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };

		cr_expect_eq(cx_ratelimit_hit(r, cases[i].who, cases[i].endpoint, cases[i].limit,
		    cases[i].window, &err), CX_EINTERNAL, "case %zu", i);
	}
	cx_redis_free(r);
}

/* ---- scripts --------------------------------------------------------------------- */

/* calls= of one command in INFO commandstats, 0 if absent. */
static long
calls_of(struct cx_redis *r, const char *command)
{
	struct cx_error err = { 0 };
	redisReply *reply = cx_redis_cmd(r, &err, "INFO commandstats");
	char needle[64];
	const char *p;
	long calls = 0;

	cr_assert_not_null(reply);
	snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", command);
	p = strstr(reply->str, needle);
	if (p != NULL)
		calls = strtol(p + strlen(needle), NULL, 10);
	freeReplyObject(reply);
	return calls;
}

static void
reset_stats(struct cx_redis *r)
{
	struct cx_error err = { 0 };
	redisReply *reply = cx_redis_cmd(r, &err, "CONFIG RESETSTAT");

	cr_assert_not_null(reply, "%s", err.message);
	freeReplyObject(reply);
}

static void
expect_script_result(struct cx_redis *r, const char *script)
{
	struct cx_error err = { 0 };
	const char *argv[2] = { "k1", "v1" };
	redisReply *reply = cx_redis_eval(r, &err, script, 1, 2, argv);

	cr_assert_not_null(reply, "eval failed: %s", err.message);
	cr_assert_eq(reply->type, REDIS_REPLY_STRING);
	cr_expect_str_eq(reply->str, "k1=v1");
	freeReplyObject(reply);
}

Test(redis_eval, uses_evalsha_and_survives_script_flush, .init = setup, .fini = teardown)
{
	static const char script[] = "return KEYS[1] .. '=' .. ARGV[1]";
	struct cx_error err = { 0 };
	struct cx_redis *r;
	redisReply *reply;

	if (fx.external)
		cr_skip_test("CX_TEST_REDIS_URL is set: command statistics are shared");
	r = client(fx.url);
	expect_script_result(r, script);       /* NOSCRIPT, then EVAL loads it */

	reset_stats(r);
	expect_script_result(r, script);
	cr_expect_eq(calls_of(r, "evalsha"), 1, "second call must use EVALSHA");
	cr_expect_eq(calls_of(r, "eval"), 0, "second call must not send the script again");

	reply = cx_redis_cmd(r, &err, "SCRIPT FLUSH");
	cr_assert_not_null(reply);
	freeReplyObject(reply);
	reset_stats(r);
	expect_script_result(r, script);       /* NOSCRIPT -> EVAL */
	cr_expect_eq(calls_of(r, "eval"), 1);

	reset_stats(r);
	expect_script_result(r, script);
	cr_expect_eq(calls_of(r, "eval"), 0, "the script must be loaded again after EVAL");
	cx_redis_free(r);
}

Test(redis_eval, script_error_is_internal, .init = setup, .fini = teardown)
{
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	redisReply *reply;

	reply = cx_redis_eval(r, &err, "return redis.call('NOSUCHCOMMAND')", 0, 0, NULL);
	cr_expect_null(reply);
	cr_expect_eq(err.code, CX_EINTERNAL);
	cr_expect_str_eq(err.message, "Internal server error");
	cx_redis_free(r);
}

Test(redis_eval, many_scripts_overflow_the_cache, .init = setup, .fini = teardown)
{
	struct cx_redis *r = client(fx.url);
	char script[64];

	/* more distinct scripts than cache slots, twice round: every result stays right */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 20; i++) {
			struct cx_error err = { 0 };
			redisReply *reply;

			snprintf(script, sizeof(script), "return %d", i);
			reply = cx_redis_eval(r, &err, script, 0, 0, NULL);
			cr_assert_not_null(reply, "%s", err.message);
			cr_expect_eq(reply->type, REDIS_REPLY_INTEGER);
			cr_expect_eq(reply->integer, i);
			freeReplyObject(reply);
		}
	}
	cx_redis_free(r);
}

/* ---- transactions ------------------------------------------------------------------ */

Test(redis_multi, runs_every_command_in_one_transaction, .init = setup, .fini = teardown)
{
	static const char *const set[] = { "SET", "cx-test:multi:a", "1" };
	static const char *const incr[] = { "INCRBY", "cx-test:multi:a", "41" };
	static const char *const get[] = { "GET", "cx-test:multi:a" };
	const char **const argv[] = { (const char **)set, (const char **)incr, (const char **)get };
	const int argc[] = { 3, 3, 2 };
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	redisReply *reply = cx_redis_multi(r, &err, 3, argc, argv);

	cr_assert_not_null(reply, "%s", err.message);
	cr_assert_eq(reply->type, REDIS_REPLY_ARRAY);
	cr_assert_eq(reply->elements, 3);
	cr_expect_eq(reply->element[1]->integer, 42);
	cr_expect_str_eq(reply->element[2]->str, "42");
	freeReplyObject(reply);
	/* the connection is in step afterwards: the next command gets its own reply */
	reply = cx_redis_cmd(r, &err, "DEL cx-test:multi:a");
	cr_assert_not_null(reply, "%s", err.message);
	cr_expect_eq(reply->integer, 1);
	freeReplyObject(reply);
	cx_redis_free(r);
}

/* Values the interview state sends: an empty one (no deadline while paused), one of
 * thousands of bytes with line breaks (an event), and a command of a dozen words. */
Test(redis_multi, empty_long_and_many_arguments_arrive_as_sent, .init = setup,
    .fini = teardown)
{
	static char big[12345];
	static const char *const hset[] = { "HSET", "cx-test:multi:h", "a", "", "b", "1",
		"c", "x y", "d", "\r\n", "e", big };
	static const char *const get_a[] = { "HGET", "cx-test:multi:h", "a" };
	static const char *const get_d[] = { "HGET", "cx-test:multi:h", "d" };
	static const char *const get_e[] = { "HGET", "cx-test:multi:h", "e" };
	const char **const argv[] = { (const char **)hset, (const char **)get_a,
		(const char **)get_d, (const char **)get_e };
	const int argc[] = { 12, 3, 3, 3 };
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	redisReply *reply;

	for (size_t i = 0; i + 1 < sizeof(big); i++)
		big[i] = i % 100 == 99 ? '\n' : (char)('a' + i % 26);
	reply = cx_redis_multi(r, &err, 4, argc, argv);
	cr_assert_not_null(reply, "%s", err.message);
	cr_assert_eq(reply->elements, 4);
	cr_expect_eq(reply->element[0]->integer, 5);
	cr_expect_str_eq(reply->element[1]->str, "");
	cr_expect_str_eq(reply->element[2]->str, "\r\n");
	cr_expect_eq(reply->element[3]->len, sizeof(big) - 1);
	cr_expect_str_eq(reply->element[3]->str, big);
	freeReplyObject(reply);
	reply = cx_redis_cmd(r, &err, "DEL cx-test:multi:h");
	cr_assert_not_null(reply, "%s", err.message);
	freeReplyObject(reply);
	cx_redis_free(r);
}

Test(redis_multi, a_refused_command_aborts_them_all, .init = setup, .fini = teardown)
{
	static const char *const set[] = { "SET", "cx-test:multi:b", "1" };
	static const char *const bad[] = { "GET" };   /* wrong number of arguments */
	const char **const argv[] = { (const char **)set, (const char **)bad };
	const int argc[] = { 3, 1 };
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	redisReply *reply = cx_redis_multi(r, &err, 2, argc, argv);

	cr_expect_null(reply);
	cr_expect_eq(err.code, CX_EINTERNAL);
	cx_error_clear(&err);
	reply = cx_redis_cmd(r, &err, "EXISTS cx-test:multi:b");
	cr_assert_not_null(reply, "%s", err.message);
	cr_expect_eq(reply->integer, 0, "the SET before the refused command ran");
	freeReplyObject(reply);
	cx_redis_free(r);
}

/* Sent without waiting: the effect is there for the next command, whose reply is its
 * own (the transaction's replies are read and dropped first), and a failed command in
 * it costs nothing but a log line. */
Test(redis_multi, sent_without_waiting_then_the_next_command_gets_its_own_reply,
    .init = setup, .fini = teardown)
{
	static const char *const set[] = { "SET", "cx-test:multi:c", "7" };
	static const char *const bad[] = { "INCR", "cx-test:multi:c", "extra" };
	const char **const argv[] = { (const char **)set };
	const char **const argv_bad[] = { (const char **)bad };
	const int argc[] = { 3 }, argc_bad[] = { 3 };
	struct cx_error err = { 0 };
	struct cx_redis *r = client(fx.url);
	redisReply *reply;

	cr_assert_eq(cx_redis_multi_nowait(r, &err, 1, argc, argv), CX_OK, "%s", err.message);
	cr_assert_eq(cx_redis_multi_nowait(r, &err, 1, argc_bad, argv_bad), CX_OK, "%s",
	    err.message);
	reply = cx_redis_cmd(r, &err, "GET cx-test:multi:c");
	cr_assert_not_null(reply, "%s", err.message);
	cr_assert_eq(reply->type, REDIS_REPLY_STRING);
	cr_expect_str_eq(reply->str, "7");
	freeReplyObject(reply);
	reply = cx_redis_cmd(r, &err, "DEL cx-test:multi:c");
	cr_assert_not_null(reply, "%s", err.message);
	cr_expect_eq(reply->integer, 1);
	freeReplyObject(reply);
	cx_redis_free(r);
}
