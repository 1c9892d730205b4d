/* Unit tests of cx_config: defaults, the KEY=VALUE file, environment overrides, validation
 * of every type, derived defaults, the spec's MONGODB_URL, describe and the sample file. */
#include "config.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cx_config.h"

/* Every setting of the table, cleared before each test so the caller's environment
 * (a CI job's REDIS_URL, ...) never leaks into a result. */
static const char *const all_names[] = {
	"CX_CONFIG_FILE", "CX_DATA_DIR", "DATABASE_URL", "MONGODB_URL", "DATABASE_NAME",
	"REDIS_URL", "CX_SCHEMA_DIR", "SECRET_KEY", "JWT_SECRET_KEY", "JWT_PRIVATE_KEY_FILE",
	"JWT_PUBLIC_KEY_FILE", "JWT_ISSUER", "ACCESS_TOKEN_EXPIRE_MINUTES",
	"REFRESH_TOKEN_EXPIRE_DAYS", "BCRYPT_COST", "LOGIN_RATE_LIMIT_IP",
	"LOGIN_RATE_LIMIT_ACCOUNT", "REGISTER_RATE_LIMIT_IP", "FORGOT_RATE_LIMIT",
	"RESET_TOKEN_EXPIRE_MINUTES", "AI_PROVIDER", "OPENAI_API_KEY", "OPENAI_BASE_URL",
	"OPENAI_MODEL", "GEMINI_API_KEY", "GEMINI_BASE_URL", "GEMINI_MODEL",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "S3_BUCKET_NAME",
	"S3_ENDPOINT", "SMTP_SERVER", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD",
	"MAIL_FROM", "MAIL_OUTBOX_DIR", "PUBLIC_URL", "ANTI_CHEAT_THRESHOLD",
	"FACE_DETECTION_ENABLED", "TAB_SWITCH_DETECTION", "CACHE_TTL_SECONDS", "CX_WORKERS",
	"CX_SOCKET_DIR", "CX_LOG_LEVEL", "CX_MAX_BODY_BYTES", "AI_TIMEOUT_SECONDS",
	"AI_CONNECT_TIMEOUT_SECONDS", "AI_MAX_RETRIES", "AI_CACHE_TTL_SECONDS",
	"ANTI_CHEAT_STRIKES", "INTERVIEW_CREATE_RATE_LIMIT",
};

static char workdir[PATH_MAX];

/* A fresh, resolved working folder per test (each Criterion test is its own process). */
static void
setup(void)
{
	char tmpl[] = "/tmp/cx-config-XXXXXX";

	for (size_t i = 0; i < sizeof(all_names) / sizeof(all_names[0]); i++)
		unsetenv(all_names[i]);
	cr_assert_not_null(mkdtemp(tmpl));
	cr_assert_not_null(realpath(tmpl, workdir));
	cr_assert_eq(chdir(workdir), 0);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (workdir[0] == '/' && strncmp(workdir, "/tmp/cx-config-", 15) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
		(void)system(cmd);
	}
}

TestSuite(config, .init = setup, .fini = teardown);

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "cannot write %s", path);
	fputs(text, fp);
	fclose(fp);
}

static char *
joined(const char *a, const char *b)
{
	char *out = NULL;

	cr_assert_geq(asprintf(&out, "%s%s", a, b), 0);
	return out;
}

Test(config, defaults)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };
	char *want;

	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.access_token_minutes, 30);
	cr_expect_eq(cfg.refresh_token_days, 7);
	cr_expect_eq(cfg.bcrypt_cost, 12);
	cr_expect_eq(cfg.login_ip_limit, 20);
	cr_expect_eq(cfg.login_account_limit, 5);
	cr_expect_eq(cfg.register_ip_limit, 20);
	cr_expect_eq(cfg.forgot_limit, 5);
	cr_expect_eq(cfg.reset_token_minutes, 60);
	cr_expect_eq(cfg.smtp_port, 587);
	cr_expect_eq(cfg.anti_cheat_threshold, 3);
	cr_expect_eq(cfg.face_detection, 1);
	cr_expect_eq(cfg.tab_switch_detection, 1);
	cr_expect_eq(cfg.cache_ttl_seconds, 3600);
	cr_expect_eq(cfg.workers, 0);
	cr_expect_eq(cfg.max_body_bytes, 1048576);
	cr_expect_str_eq(cfg.database_name, "candidatex");
	cr_expect_str_eq(cfg.redis_url, "redis://127.0.0.1:6379/0");
	cr_expect_str_eq(cfg.jwt_issuer, "candidatex-api");
	cr_expect_str_eq(cfg.ai_provider, "local");
	cr_expect_str_eq(cfg.log_level, "info");
	cr_expect_str_eq(cfg.public_url, "https://localhost:8443");
	cr_expect_null(cfg.smtp_server);
	cr_expect_null(cfg.secret_key);
	cr_expect_null(cfg.openai_api_key);
	cr_expect_null(cfg.s3_bucket_name);
	/* ./var does not exist: cwd + "var". */
	want = joined(workdir, "/var");
	cr_expect_str_eq(cfg.data_dir, want);
	free(want);
	{
		char *db = joined("sqlite:", workdir);
		want = joined(db, "/var/candidatex.db");
		cr_expect_str_eq(cfg.database_url, want);
		free(db);
		free(want);
	}
	cx_config_free(&cfg);
	cr_expect_null(cfg.data_dir);
	cx_config_free(&cfg);   /* a second free is harmless */
}

Test(config, derived_defaults_follow_data_dir)
{
	static const struct { const char *got_name; size_t off; const char *suffix; } want[] = {
		{ "jwt_private_key", offsetof(struct cx_config, jwt_private_key),
		  "/keys/jwt-private.pem" },
		{ "jwt_public_key", offsetof(struct cx_config, jwt_public_key),
		  "/keys/jwt-public.pem" },
		{ "socket_dir", offsetof(struct cx_config, socket_dir), "/run" },
		{ "mail_outbox_dir", offsetof(struct cx_config, mail_outbox_dir), "/outbox" },
	};
	struct cx_config cfg;
	struct cx_error err = { 0 };
	char *dir = joined(workdir, "/state");

	setenv("CX_DATA_DIR", dir, 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.data_dir, dir);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *got = *(char **)((char *)&cfg + want[i].off);
		char *expect = joined(dir, want[i].suffix);
		cr_expect_str_eq(got, expect, "%s", want[i].got_name);
		free(expect);
	}
	{
		char *db = joined("sqlite:", dir);
		char *full = joined(db, "/candidatex.db");
		cr_expect_str_eq(cfg.database_url, full);
		free(db);
		free(full);
	}
	cx_config_free(&cfg);
	free(dir);
}

Test(config, existing_relative_data_dir_is_resolved)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };
	char *want = joined(workdir, "/data");

	cr_assert_eq(mkdir("data", 0700), 0);
	cr_assert_eq(mkdir("data/sub", 0700), 0);
	setenv("CX_DATA_DIR", "./data/sub/..", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.data_dir, want);
	cx_config_free(&cfg);
	free(want);
}

Test(config, schema_dir_default)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };
	struct stat st;
	char *want;

	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	if (stat(CX_DATADIR "/schema", &st) == 0 && S_ISDIR(st.st_mode)) {
		char real[PATH_MAX];
		cr_assert_not_null(realpath(CX_DATADIR "/schema", real));
		cr_expect_str_eq(cfg.schema_dir, real);
	} else {
		want = joined(workdir, "/schema");
		cr_expect_str_eq(cfg.schema_dir, want);
		free(want);
	}
	cx_config_free(&cfg);

	setenv("CX_SCHEMA_DIR", "/opt/cx/schema", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.schema_dir, "/opt/cx/schema");
	cx_config_free(&cfg);
}

Test(config, file_parsing)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	write_text("cx.conf",
	    "# a comment\n"
	    "\n"
	    "   # an indented comment\n"
	    "ACCESS_TOKEN_EXPIRE_MINUTES=15\n"
	    "JWT_ISSUER = \"issuer with spaces\"\n"
	    "DATABASE_NAME='single'\n"
	    "export REDIS_URL=unix:/run/redis.sock\r\n"
	    "MAIL_FROM=\"Hiring Team <jobs@example.com>\"\n"
	    "FACE_DETECTION_ENABLED=off\n"
	    "SMTP_SERVER=\n"
	    "CX_LOG_LEVEL=debug\n"
	    "CX_LOG_LEVEL=warn\n");
	cr_assert_eq(cx_config_load("cx.conf", &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.access_token_minutes, 15);
	cr_expect_str_eq(cfg.jwt_issuer, "issuer with spaces");
	cr_expect_str_eq(cfg.database_name, "single");
	cr_expect_str_eq(cfg.redis_url, "unix:/run/redis.sock");
	cr_expect_str_eq(cfg.mail_from, "Hiring Team <jobs@example.com>");
	cr_expect_eq(cfg.face_detection, 0);
	cr_expect_null(cfg.smtp_server, "an empty value keeps the default");
	cr_expect_str_eq(cfg.log_level, "warn", "the last line wins");
	cr_expect_eq(cfg.refresh_token_days, 7, "untouched settings keep their default");
	cx_config_free(&cfg);
}

Test(config, file_from_environment_variable)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	write_text("env.conf", "CX_WORKERS=3\n");
	setenv("CX_CONFIG_FILE", "env.conf", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.workers, 3);
	cx_config_free(&cfg);
}

Test(config, bad_file_lines_name_the_line)
{
	static const struct {
		const char *text;
		const char *field;
		const char *message;
	} cases[] = {
		{ "# ok\nNOT A SETTING\n", "CX_CONFIG_FILE",
		  "CX_CONFIG_FILE: line 2 of bad.conf: expected KEY=VALUE" },
		{ "CX_WORKERS=2\n\nFOO_BAR=1\n", "FOO_BAR",
		  "FOO_BAR: unknown setting (line 3 of bad.conf)" },
		{ "JWT_ISSUER=\"open\n", "JWT_ISSUER",
		  "JWT_ISSUER: unterminated quote (line 1 of bad.conf)" },
		{ "jwt_issuer=x\n", "CX_CONFIG_FILE",
		  "CX_CONFIG_FILE: line 1 of bad.conf: invalid setting name" },
		{ "CX_WORKERS=999\n", "CX_WORKERS",
		  "CX_WORKERS: must be an integer between 0 and 256" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_config cfg;
		struct cx_error err = { 0 };

		memset(&cfg, 0x5a, sizeof(cfg));
		write_text("bad.conf", cases[i].text);
		cr_expect_eq(cx_config_load("bad.conf", &cfg, &err), CX_EVALIDATION, "case %zu", i);
		cr_expect_eq(err.code, CX_EVALIDATION);
		cr_expect_str_eq(err.field, cases[i].field, "case %zu", i);
		cr_expect_str_eq(err.message, cases[i].message, "case %zu", i);
		cr_expect_eq(cfg.workers, 0x5a5a5a5a, "cfg untouched on failure (case %zu)", i);
	}
}

Test(config, missing_file_is_an_error)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	cr_assert_eq(cx_config_load("does-not-exist.conf", &cfg, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "CX_CONFIG_FILE");
	cr_expect_not_null(strstr(err.message, "does-not-exist.conf"));
}

Test(config, environment_overrides_file)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	write_text("cx.conf", "ACCESS_TOKEN_EXPIRE_MINUTES=15\nAI_PROVIDER=local\n"
	    "SMTP_PORT=2525\n");
	setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "45", 1);
	setenv("SMTP_PORT", "", 1);
	cr_assert_eq(cx_config_load("cx.conf", &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.access_token_minutes, 45);
	cr_expect_eq(cfg.smtp_port, 587, "an empty variable means the default");
	cx_config_free(&cfg);

	/* A bad file value overridden by a good variable is never looked at. */
	write_text("cx.conf", "BCRYPT_COST=99\n");
	setenv("BCRYPT_COST", "11", 1);
	cr_assert_eq(cx_config_load("cx.conf", &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.bcrypt_cost, 11);
	cx_config_free(&cfg);
}

Test(config, validation_errors)
{
	static const struct {
		const char *name;
		const char *value;
		const char *message;
	} cases[] = {
		{ "ACCESS_TOKEN_EXPIRE_MINUTES", "0",
		  "ACCESS_TOKEN_EXPIRE_MINUTES: must be an integer between 1 and 1440" },
		{ "ACCESS_TOKEN_EXPIRE_MINUTES", "1441",
		  "ACCESS_TOKEN_EXPIRE_MINUTES: must be an integer between 1 and 1440" },
		{ "ACCESS_TOKEN_EXPIRE_MINUTES", "30min",
		  "ACCESS_TOKEN_EXPIRE_MINUTES: must be an integer between 1 and 1440" },
		{ "ACCESS_TOKEN_EXPIRE_MINUTES", "99999999999999999999",
		  "ACCESS_TOKEN_EXPIRE_MINUTES: must be an integer between 1 and 1440" },
		{ "BCRYPT_COST", "9", "BCRYPT_COST: must be an integer between 10 and 15" },
		{ "SMTP_PORT", "65536", "SMTP_PORT: must be an integer between 1 and 65535" },
		{ "CX_WORKERS", "-1", "CX_WORKERS: must be an integer between 0 and 256" },
		{ "FACE_DETECTION_ENABLED", "maybe",
		  "FACE_DETECTION_ENABLED: must be true or false (also 1/0, yes/no, on/off)" },
		{ "TAB_SWITCH_DETECTION", "2",
		  "TAB_SWITCH_DETECTION: must be true or false (also 1/0, yes/no, on/off)" },
		{ "AI_PROVIDER", "claude", "AI_PROVIDER: must be one of local, openai, gemini" },
		{ "AI_PROVIDER", "LOCAL", "AI_PROVIDER: must be one of local, openai, gemini" },
		{ "CX_LOG_LEVEL", "verbose",
		  "CX_LOG_LEVEL: must be one of debug, info, warn, error" },
		{ "REDIS_URL", "http://127.0.0.1:6379",
		  "REDIS_URL: must be a URL starting with redis://, rediss://, unix:" },
		{ "REDIS_URL", "redis://",
		  "REDIS_URL: must be a URL starting with redis://, rediss://, unix:" },
		{ "DATABASE_URL", "postgres://db/cx",
		  "DATABASE_URL: must be a URL starting with sqlite:, mongodb://, mongodb+srv://" },
		{ "MONGODB_URL", "sqlite:/x.db",
		  "MONGODB_URL: must be a URL starting with mongodb://, mongodb+srv://" },
		{ "PUBLIC_URL", "ftp://example.com",
		  "PUBLIC_URL: must be a URL starting with https://, http://" },
		{ "OPENAI_BASE_URL", "https://api example.com",
		  "OPENAI_BASE_URL: must be a URL starting with https://, http://" },
		{ "SECRET_KEY", "short", "SECRET_KEY: must be at least 16 characters" },
		{ "MAIL_FROM", "nobody",
		  "MAIL_FROM: must be an address like no-reply@example.com or "
		  "Name <no-reply@example.com>" },
		{ "MAIL_FROM", "Team <a@b.com> extra",
		  "MAIL_FROM: must be an address like no-reply@example.com or "
		  "Name <no-reply@example.com>" },
		{ "SMTP_SERVER", "smtp.example.com;rm",
		  "SMTP_SERVER: must be a host name or an IP address" },
		{ "JWT_ISSUER", "bad\x01issuer",
		  "JWT_ISSUER: must not contain control characters" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_config cfg;
		struct cx_error err = { 0 };

		setenv(cases[i].name, cases[i].value, 1);
		cr_expect_eq(cx_config_load(NULL, &cfg, &err), CX_EVALIDATION, "%s=%s",
		    cases[i].name, cases[i].value);
		cr_expect_str_eq(err.field, cases[i].name);
		cr_expect_str_eq(err.message, cases[i].message);
		unsetenv(cases[i].name);
	}
}

Test(config, bool_spellings)
{
	static const struct { const char *value; int want; } cases[] = {
		{ "true", 1 }, { "TRUE", 1 }, { "1", 1 }, { "yes", 1 }, { "On", 1 },
		{ "false", 0 }, { "False", 0 }, { "0", 0 }, { "no", 0 }, { "OFF", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_config cfg;
		struct cx_error err = { 0 };

		setenv("TAB_SWITCH_DETECTION", cases[i].value, 1);
		cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", cases[i].value);
		cr_expect_eq(cfg.tab_switch_detection, cases[i].want, "%s", cases[i].value);
		cx_config_free(&cfg);
	}
}

Test(config, mongodb_url_maps_to_database_url)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	setenv("MONGODB_URL", "mongodb://db.internal:27017", 1);
	setenv("DATABASE_NAME", "cx_prod", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.database_url, "mongodb://db.internal:27017");
	cr_expect_str_eq(cfg.database_name, "cx_prod");
	cx_config_free(&cfg);

	/* DATABASE_URL, when set, wins over MONGODB_URL. */
	setenv("DATABASE_URL", "sqlite:/srv/cx.db", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.database_url, "sqlite:/srv/cx.db");
	cx_config_free(&cfg);
}

Test(config, ai_provider_needs_its_key)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	setenv("AI_PROVIDER", "openai", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "OPENAI_API_KEY");
	cx_error_clear(&err);
	setenv("OPENAI_API_KEY", "sk-test-0123456789", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.ai_provider, "openai");
	cr_expect_str_eq(cfg.openai_api_key, "sk-test-0123456789");
	cx_config_free(&cfg);
}

/* A remote AI call with all its retries must end before nginx gives up on the request. */
Test(config, ai_attempts_fit_in_a_request)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.ai_timeout_seconds * (cfg.ai_max_retries + 1) <= 50, 1,
	    "the defaults must fit");
	cx_config_free(&cfg);
	setenv("AI_TIMEOUT_SECONDS", "20", 1);
	setenv("AI_MAX_RETRIES", "2", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_EVALIDATION);
	cr_expect_str_eq(err.field, "AI_TIMEOUT_SECONDS");
	cr_expect(strstr(err.reason, "3 attempts") != NULL, "reason: %s", err.reason);
	cx_error_clear(&err);
	setenv("AI_MAX_RETRIES", "1", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.ai_timeout_seconds, 20);
	cx_config_free(&cfg);
}

Test(config, spec_names_accepted_in_file)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };

	/* The .env of spec 6.2 loads as is (JWT_SECRET_KEY is accepted and unused). */
	write_text("spec.env",
	    "MONGODB_URL=mongodb://localhost:27017\nDATABASE_NAME=candidatex\n"
	    "SECRET_KEY=your-secret-key-here\nJWT_SECRET_KEY=your-jwt-secret\n"
	    "ACCESS_TOKEN_EXPIRE_MINUTES=30\nGEMINI_API_KEY=your-gemini-key\n"
	    "OPENAI_API_KEY=your-openai-key\nAWS_ACCESS_KEY_ID=your-aws-key\n"
	    "AWS_SECRET_ACCESS_KEY=your-aws-secret\nS3_BUCKET_NAME=candidatex-media\n"
	    "SMTP_SERVER=smtp.gmail.com\nSMTP_PORT=587\nSMTP_USERNAME=your-email@gmail.com\n"
	    "SMTP_PASSWORD=your-app-password\nANTI_CHEAT_THRESHOLD=3\n"
	    "FACE_DETECTION_ENABLED=true\nTAB_SWITCH_DETECTION=true\n"
	    "REDIS_URL=redis://localhost:6379\nCACHE_TTL_SECONDS=3600\n");
	cr_assert_eq(cx_config_load("spec.env", &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_str_eq(cfg.database_url, "mongodb://localhost:27017");
	cr_expect_str_eq(cfg.smtp_server, "smtp.gmail.com");
	cr_expect_str_eq(cfg.smtp_password, "your-app-password");
	cr_expect_str_eq(cfg.s3_bucket_name, "candidatex-media");
	cr_expect_str_eq(cfg.secret_key, "your-secret-key-here");
	cx_config_free(&cfg);
}

static char *
capture(void (*print)(FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	cr_assert_not_null(fp);
	print(fp);
	fclose(fp);
	return text;
}

Test(config, describe_lists_every_setting_without_secrets)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };
	static const char *const secrets[] = {
		"SECRET_KEY", "SMTP_PASSWORD", "OPENAI_API_KEY", "GEMINI_API_KEY",
		"AWS_SECRET_ACCESS_KEY", "JWT_SECRET_KEY",
	};
	char *text;

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		setenv(secrets[i], "s3cr3t-value-never-shown", 1);
	cr_assert_eq(cx_config_load(NULL, &cfg, &err), CX_OK, "%s", err.message);
	text = capture(cx_config_describe);
	cr_expect_null(strstr(text, "s3cr3t"));
	for (size_t i = 1; i < sizeof(all_names) / sizeof(all_names[0]); i++) {
		char needle[80];
		snprintf(needle, sizeof(needle), "| `%s` |", all_names[i]);
		cr_expect_not_null(strstr(text, needle), "%s missing", all_names[i]);
	}
	cr_expect_not_null(strstr(text,
	    "| `ACCESS_TOKEN_EXPIRE_MINUTES` | int 1..1440 | `30` |"));
	cr_expect_not_null(strstr(text,
	    "| `AI_PROVIDER` | enum: local, openai, gemini | `local` |"));
	free(text);
	cx_config_free(&cfg);
}

Test(config, sample_file_is_current_and_loads)
{
	struct cx_config cfg, defaults;
	struct cx_error err = { 0 };
	char *text = capture(cx_config_sample), *file = NULL;
	const char *path = CX_TEST_SRCDIR "/config/candidatex.conf.sample";
	FILE *fp = fopen(path, "r");
	size_t len = 0;

	cr_assert_not_null(fp, "missing %s", path);
	cr_assert_eq(getdelim(&file, &len, '\0', fp) > 0, 1);
	fclose(fp);
	cr_expect_str_eq(file, text, "config/candidatex.conf.sample is out of date: "
	    "regenerate it with cx_config_sample()");
	cr_assert_eq(cx_config_load(path, &cfg, &err), CX_OK, "%s", err.message);
	cr_assert_eq(cx_config_load(NULL, &defaults, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.access_token_minutes, defaults.access_token_minutes);
	cr_expect_str_eq(cfg.database_url, defaults.database_url);
	cx_config_free(&cfg);
	cx_config_free(&defaults);
	free(text);
	free(file);
}

Test(config, sample_uncommented_loads)
{
	/* Every line of the sample, uncommented, is a valid file. */
	struct cx_config cfg;
	struct cx_error err = { 0 };
	char *text = capture(cx_config_sample);
	FILE *fp = fopen("uncommented.conf", "w");

	cr_assert_not_null(fp);
	for (char *line = text, *nl; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl);
		if (line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z' && strchr(line, '=') < nl)
			fprintf(fp, "%.*s\n", (int)(nl - line - 1), line + 1);
	}
	fclose(fp);
	cr_assert_eq(cx_config_load("uncommented.conf", &cfg, &err), CX_OK, "%s", err.message);
	cr_expect_eq(cfg.bcrypt_cost, 12);
	cx_config_free(&cfg);
	free(text);
}
