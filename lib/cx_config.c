/* cx_config: one table of settings (tmux options-table style): defaults, then a
 * KEY=VALUE file, then the environment; every value validated once at start. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cx_config.h"

#ifndef CX_DATADIR
#define CX_DATADIR "/usr/local/share/candidatex"
#endif

#define NO_FIELD ((size_t)-1)
#define MAX_VALUE_LEN 4096
#define MAX_LINE_LEN 8192

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_ENUM, OPT_URL, OPT_PATH };

struct opt {
	const char *name;
	enum opt_type type;
	size_t offset;                 /* into struct cx_config, or NO_FIELD */
	const char *def;               /* default text; NULL = unset or derived */
	const char *shown;             /* default as described, when derived */
	long min, max;                 /* OPT_INT bounds */
	const char *const *choices;    /* OPT_ENUM values, OPT_URL accepted prefixes */
	int secret;                    /* never print a value */
	const char *help;
};

static const char *const ai_providers[] = { "local", "openai", "gemini", NULL };
static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const db_schemes[] = { "sqlite:", "mongodb://", "mongodb+srv://", NULL };
static const char *const mongo_schemes[] = { "mongodb://", "mongodb+srv://", NULL };
static const char *const redis_schemes[] = { "redis://", "rediss://", "unix:", NULL };
static const char *const http_schemes[] = { "https://", "http://", NULL };

#define F(member) offsetof(struct cx_config, member)

static const struct opt opts[] = {
	/* storage */
	{ "CX_DATA_DIR", OPT_PATH, F(data_dir), "./var", NULL, 0, 0, NULL, 0,
	  "Folder for keys, the SQLite file, the mail outbox, sockets and files" },
	{ "DATABASE_URL", OPT_URL, F(database_url), NULL, "sqlite:<CX_DATA_DIR>/candidatex.db",
	  0, 0, db_schemes, 0,
	  "Document store: sqlite:/path/file.db or mongodb://host:port" },
	{ "MONGODB_URL", OPT_URL, NO_FIELD, NULL, "(unset)", 0, 0, mongo_schemes, 0,
	  "Spec name for the MongoDB URL; used as DATABASE_URL when that is unset" },
	{ "DATABASE_NAME", OPT_STRING, F(database_name), "candidatex", NULL, 0, 0, NULL, 0,
	  "MongoDB database name" },
	{ "REDIS_URL", OPT_URL, F(redis_url), "redis://127.0.0.1:6379/0", NULL, 0, 0,
	  redis_schemes, 0, "Redis: redis://host:port/db or unix:/path/to/redis.sock" },
	{ "CX_SCHEMA_DIR", OPT_PATH, F(schema_dir), NULL,
	  "<pkgdatadir>/schema if installed, else ./schema", 0, 0, NULL, 0,
	  "Folder with indexes.json, openapi.json and mail templates" },
	/* security */
	{ "SECRET_KEY", OPT_STRING, F(secret_key), NULL, "(unset)", 0, 0, NULL, 1,
	  "Server secret for keyed hashes (at least 16 characters)" },
	{ "JWT_SECRET_KEY", OPT_STRING, NO_FIELD, NULL, "(unset)", 0, 0, NULL, 1,
	  "Accepted for compatibility and ignored: tokens are signed RS256 with the key files" },
	{ "JWT_PRIVATE_KEY_FILE", OPT_PATH, F(jwt_private_key), NULL,
	  "<CX_DATA_DIR>/keys/jwt-private.pem", 0, 0, NULL, 0,
	  "RSA private key (PEM) that signs access tokens" },
	{ "JWT_PUBLIC_KEY_FILE", OPT_PATH, F(jwt_public_key), NULL,
	  "<CX_DATA_DIR>/keys/jwt-public.pem", 0, 0, NULL, 0,
	  "RSA public key (PEM) that verifies access tokens" },
	{ "JWT_ISSUER", OPT_STRING, F(jwt_issuer), "candidatex-api", NULL, 0, 0, NULL, 0,
	  "The iss claim of access tokens" },
	{ "ACCESS_TOKEN_EXPIRE_MINUTES", OPT_INT, F(access_token_minutes), "30", NULL, 1, 1440,
	  NULL, 0, "Access token lifetime in minutes" },
	{ "REFRESH_TOKEN_EXPIRE_DAYS", OPT_INT, F(refresh_token_days), "7", NULL, 1, 90, NULL, 0,
	  "Refresh token lifetime in days" },
	{ "BCRYPT_COST", OPT_INT, F(bcrypt_cost), "12", NULL, 10, 15, NULL, 0,
	  "bcrypt work factor for password hashes" },
	{ "LOGIN_RATE_LIMIT_IP", OPT_INT, F(login_ip_limit), "20", NULL, 1, 100000, NULL, 0,
	  "Login attempts per minute from one IP address" },
	{ "LOGIN_RATE_LIMIT_ACCOUNT", OPT_INT, F(login_account_limit), "5", NULL, 1, 1000, NULL, 0,
	  "Failed logins per 15 minutes for one account before it is throttled" },
	{ "REGISTER_RATE_LIMIT_IP", OPT_INT, F(register_ip_limit), "20", NULL, 1, 100000, NULL, 0,
	  "Registrations per hour from one IP address" },
	{ "FORGOT_RATE_LIMIT", OPT_INT, F(forgot_limit), "5", NULL, 1, 1000, NULL, 0,
	  "Password reset requests per hour, per IP address and per account" },
	{ "RESET_TOKEN_EXPIRE_MINUTES", OPT_INT, F(reset_token_minutes), "60", NULL, 5, 1440,
	  NULL, 0, "Password reset link lifetime in minutes" },
	/* AI */
	{ "AI_PROVIDER", OPT_ENUM, F(ai_provider), "local", NULL, 0, 0, ai_providers, 0,
	  "AI back end for questions and scoring" },
	{ "OPENAI_API_KEY", OPT_STRING, F(openai_api_key), NULL, "(unset)", 0, 0, NULL, 1,
	  "OpenAI API key (needed when AI_PROVIDER=openai)" },
	{ "OPENAI_BASE_URL", OPT_URL, F(openai_base_url), "https://api.openai.com/v1", NULL, 0, 0,
	  http_schemes, 0, "OpenAI-compatible API base URL" },
	{ "OPENAI_MODEL", OPT_STRING, F(openai_model), "gpt-4o-mini", NULL, 0, 0, NULL, 0,
	  "OpenAI model name" },
	{ "GEMINI_API_KEY", OPT_STRING, F(gemini_api_key), NULL, "(unset)", 0, 0, NULL, 1,
	  "Google Gemini API key (needed when AI_PROVIDER=gemini)" },
	{ "GEMINI_BASE_URL", OPT_URL, F(gemini_base_url),
	  "https://generativelanguage.googleapis.com/v1beta", NULL, 0, 0, http_schemes, 0,
	  "Gemini API base URL" },
	{ "GEMINI_MODEL", OPT_STRING, F(gemini_model), "gemini-1.5-flash", NULL, 0, 0, NULL, 0,
	  "Gemini model name" },
	{ "AI_TIMEOUT_SECONDS", OPT_INT, F(ai_timeout_seconds), "15", NULL, 1, 50, NULL, 0,
	  "Longest a remote AI call may take (per attempt) before falling back to local" },
	{ "AI_CONNECT_TIMEOUT_SECONDS", OPT_INT, F(ai_connect_timeout_seconds), "5", NULL, 1, 60,
	  NULL, 0, "Longest the connection to a remote AI provider may take" },
	{ "AI_MAX_RETRIES", OPT_INT, F(ai_max_retries), "2", NULL, 0, 5, NULL, 0,
	  "Retries (with backoff) of a remote AI call answered 429 or 5xx" },
	{ "AI_CACHE_TTL_SECONDS", OPT_INT, F(ai_cache_ttl_seconds), "604800", NULL, 0, 2592000,
	  NULL, 0, "Lifetime of cached remote AI answers in Redis (0 = no cache)" },
	/* files */
	{ "AWS_ACCESS_KEY_ID", OPT_STRING, F(aws_access_key_id), NULL, "(unset)", 0, 0, NULL, 0,
	  "S3 access key id" },
	{ "AWS_SECRET_ACCESS_KEY", OPT_STRING, F(aws_secret_access_key), NULL, "(unset)", 0, 0,
	  NULL, 1, "S3 secret access key" },
	{ "AWS_REGION", OPT_STRING, F(aws_region), "us-east-1", NULL, 0, 0, NULL, 0,
	  "S3 region" },
	{ "S3_BUCKET_NAME", OPT_STRING, F(s3_bucket_name), NULL, "(unset)", 0, 0, NULL, 0,
	  "S3 bucket for uploads; unset = files under CX_DATA_DIR" },
	{ "S3_ENDPOINT", OPT_URL, F(s3_endpoint), NULL, "(unset)", 0, 0, http_schemes, 0,
	  "S3-compatible endpoint URL; unset = AWS" },
	/* mail */
	{ "SMTP_SERVER", OPT_STRING, F(smtp_server), NULL, "(unset)", 0, 0, NULL, 0,
	  "SMTP host name; unset = write mails to MAIL_OUTBOX_DIR" },
	{ "SMTP_PORT", OPT_INT, F(smtp_port), "587", NULL, 1, 65535, NULL, 0,
	  "SMTP port (465 = implicit TLS, otherwise STARTTLS when offered)" },
	{ "SMTP_USERNAME", OPT_STRING, F(smtp_username), NULL, "(unset)", 0, 0, NULL, 0,
	  "SMTP user name (TLS is then required unless the server is loopback)" },
	{ "SMTP_PASSWORD", OPT_STRING, F(smtp_password), NULL, "(unset)", 0, 0, NULL, 1,
	  "SMTP password" },
	{ "MAIL_FROM", OPT_STRING, F(mail_from), "CandidateX <no-reply@localhost>", NULL, 0, 0,
	  NULL, 0, "From address of outgoing mail: an address, optionally after a display name" },
	{ "MAIL_OUTBOX_DIR", OPT_PATH, F(mail_outbox_dir), NULL, "<CX_DATA_DIR>/outbox", 0, 0,
	  NULL, 0, "Folder where mails are written as .eml files when SMTP_SERVER is unset" },
	{ "PUBLIC_URL", OPT_URL, F(public_url), "https://localhost:8443", NULL, 0, 0,
	  http_schemes, 0, "Public address of the site, used in links in mails" },
	/* anti-cheat */
	{ "ANTI_CHEAT_THRESHOLD", OPT_INT, F(anti_cheat_threshold), "3", NULL, 1, 100, NULL, 0,
	  "Counted anti-cheat violations (all kinds together) that end an interview" },
	{ "FACE_DETECTION_ENABLED", OPT_BOOL, F(face_detection), "true", NULL, 0, 0, NULL, 0,
	  "Ask the browser to watch for face presence during interviews" },
	{ "TAB_SWITCH_DETECTION", OPT_BOOL, F(tab_switch_detection), "true", NULL, 0, 0, NULL, 0,
	  "Count tab and window switches during interviews" },
	{ "ANTI_CHEAT_STRIKES", OPT_STRING, F(anti_cheat_strikes),
	  "face_missing=3,tab_switch=2,fullscreen_exit=1,multiple_faces=1,suspicious_input=5",
	  NULL, 0, 0, NULL, 0,
	  "Strikes of one kind that end an interview (kind=N, comma separated)" },
	{ "INTERVIEW_CREATE_RATE_LIMIT", OPT_INT, F(interview_create_limit), "30", NULL, 1,
	  100000, NULL, 0, "Interview sessions one user may create per hour" },
	/* performance / process */
	{ "CACHE_TTL_SECONDS", OPT_INT, F(cache_ttl_seconds), "3600", NULL, 1, 604800, NULL, 0,
	  "Lifetime of cached entries in Redis" },
	{ "CX_SESSION_CACHE", OPT_INT, F(session_cache), "384", NULL, 0, 1000000, NULL, 0,
	  "Running interviews each interview worker keeps parsed in memory, each with its "
	  "questions (about 200 KB each; 0 = none)" },
	{ "CX_WORKERS", OPT_INT, F(workers), "0", NULL, 0, 256, NULL, 0,
	  "Worker processes per program (0 = number of cores)" },
	{ "CX_SHARD_WORKERS", OPT_INT, F(shard_workers), "0", NULL, 0, 256, NULL, 0,
	  "Workers of cx-interview that take the changes to interview sessions (0 = auto: "
	  "half the workers, at least one, on SQLite with the local interviewer, whose writes "
	  "queue for one lock anyway; all of them otherwise)" },
	{ "CX_SOCKET_DIR", OPT_PATH, F(socket_dir), NULL, "<CX_DATA_DIR>/run", 0, 0, NULL, 0,
	  "Folder of the FastCGI unix sockets" },
	{ "CX_LOG_LEVEL", OPT_ENUM, F(log_level), "info", NULL, 0, 0, log_levels, 0,
	  "Lowest level written to the log" },
	{ "CX_MAX_BODY_BYTES", OPT_INT, F(max_body_bytes), "1048576", NULL, 1024, 268435456,
	  NULL, 0, "Default request body limit in bytes" },
};

#undef F

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const type_names[] = {
	[OPT_STRING] = "string", [OPT_INT] = "int", [OPT_BOOL] = "bool",
	[OPT_ENUM] = "enum", [OPT_URL] = "url", [OPT_PATH] = "path",
};

/* Where the raw (unvalidated) values come from while loading. */
struct raw {
	const char *value[NOPTS];      /* borrowed: default, file copy or getenv */
	char *owned[NOPTS];            /* file values, freed at the end */
};

/* VALIDATION_ERROR "NAME: reason" with details.field = NAME. First error wins. */
static int __attribute__((format(printf, 3, 4)))
bad(struct cx_error *err, const char *name, const char *fmt, ...)
{
	char reason[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (err == NULL || err->code != CX_OK)
		return CX_EVALIDATION;
	cx_error_set(err, CX_EVALIDATION, "%s: %s", name, reason);
	snprintf(err->field, sizeof(err->field), "%s", name);
	snprintf(err->reason, sizeof(err->reason), "%s", reason);
	return CX_EVALIDATION;
}

static const struct opt *
find_opt(const char *name, size_t *index)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(opts[i].name, name) == 0) {
			if (index != NULL)
				*index = i;
			return &opts[i];
		}
	}
	return NULL;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
	    end[-1] == '\n'))
		*--end = '\0';
	return s;
}

static int
valid_key(const char *key)
{
	if (*key == '\0')
		return 0;
	for (; *key != '\0'; key++)
		if (!(isupper((unsigned char)*key) || isdigit((unsigned char)*key) || *key == '_'))
			return 0;
	return 1;
}

/* Parse one "KEY=VALUE" line into raw. lineno names the line in errors. */
static int
parse_line(char *line, const char *path, unsigned lineno, struct raw *raw,
    struct cx_error *err)
{
	char *s = trim(line), *eq, *key, *value;
	const struct opt *o;
	size_t idx, len;

	if (*s == '\0' || *s == '#')
		return CX_OK;
	if (strncmp(s, "export ", 7) == 0)
		s = trim(s + 7);
	eq = strchr(s, '=');
	if (eq == NULL)
		return bad(err, "CX_CONFIG_FILE", "line %u of %s: expected KEY=VALUE", lineno,
		    path);
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (!valid_key(key))
		return bad(err, "CX_CONFIG_FILE", "line %u of %s: invalid setting name", lineno,
		    path);
	o = find_opt(key, &idx);
	if (o == NULL)
		return bad(err, key, "unknown setting (line %u of %s)", lineno, path);
	len = strlen(value);
	if (len > 0 && (value[0] == '"' || value[0] == '\'')) {
		if (len < 2 || value[len - 1] != value[0])
			return bad(err, key, "unterminated quote (line %u of %s)", lineno, path);
		value[len - 1] = '\0';
		value++;
	}
	free(raw->owned[idx]);
	raw->owned[idx] = strdup(value);
	if (raw->owned[idx] == NULL)
		return cx_error_internal(err, "out of memory reading %s", path);
	raw->value[idx] = raw->owned[idx];
	return CX_OK;
}

static int
read_file(const char *path, struct raw *raw, struct cx_error *err)
{
	FILE *fp = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = CX_OK;

	fp = fopen(path, "re");
	if (fp == NULL)
		return bad(err, "CX_CONFIG_FILE", "cannot read %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if ((size_t)n > MAX_LINE_LEN) {
			rc = bad(err, "CX_CONFIG_FILE", "line %u of %s is too long", lineno, path);
			goto out;
		}
		if (memchr(line, '\0', (size_t)n) != NULL) {
			rc = bad(err, "CX_CONFIG_FILE", "line %u of %s contains a NUL byte", lineno,
			    path);
			goto out;
		}
		if ((rc = parse_line(line, path, lineno, raw, err)) != CX_OK)
			goto out;
	}
	if (ferror(fp))
		rc = bad(err, "CX_CONFIG_FILE", "cannot read %s: %s", path, strerror(errno));
out:
	free(line);
	fclose(fp);
	return rc;
}

/* An absolute form of path: realpath if it exists, else cwd + path ("./" dropped). */
static char *
absolute_path(const char *path)
{
	char resolved[PATH_MAX], cwd[PATH_MAX];
	char *out = NULL;

	if (realpath(path, resolved) != NULL)
		return strdup(resolved);
	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	if (strcmp(path, ".") == 0 || *path == '\0')
		return strdup(cwd);
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return NULL;
	return out;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void
list_choices(const char *const *choices, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; choices[i] != NULL && len < cap; i++) {
		int n = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", choices[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* The address inside "Name <addr>" or the whole value; 1 if it looks like addr@domain. */
static int
mail_from_valid(const char *v)
{
	const char *lt = strrchr(v, '<'), *at, *end;

	if (lt != NULL) {
		end = strchr(lt, '>');
		if (end == NULL || end[1] != '\0')
			return 0;
		lt++;
	} else {
		lt = v;
		end = v + strlen(v);
	}
	at = memchr(lt, '@', (size_t)(end - lt));
	if (at == NULL || at == lt || at + 1 >= end)
		return 0;
	for (const char *p = lt; p < end; p++)
		if (*p == ' ' || *p == ',' || *p == '<' || *p == '"' || *p == ';')
			return 0;
	return 1;
}

static int
host_valid(const char *v)
{
	for (; *v != '\0'; v++)
		if (!(isalnum((unsigned char)*v) || strchr(".-:[]_", *v) != NULL))
			return 0;
	return 1;
}

/* Validate one raw value and store it into cfg (strings are copied). */
static int
set_value(const struct opt *o, const char *v, struct cx_config *cfg, struct cx_error *err)
{
	char choices[160];
	char *copy = NULL;
	char *end;
	long n;
	int b;

	if (strlen(v) > MAX_VALUE_LEN)
		return bad(err, o->name, "must be at most %d characters", MAX_VALUE_LEN);
	if (has_control(v))
		return bad(err, o->name, "must not contain control characters");
	switch (o->type) {
	case OPT_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || n < o->min || n > o->max)
			return bad(err, o->name, "must be an integer between %ld and %ld",
			    o->min, o->max);
		if (o->offset != NO_FIELD)
			*(int *)((char *)cfg + o->offset) = (int)n;
		return CX_OK;
	case OPT_BOOL:
		if (parse_bool(v, &b) != 0)
			return bad(err, o->name,
			    "must be true or false (also 1/0, yes/no, on/off)");
		if (o->offset != NO_FIELD)
			*(int *)((char *)cfg + o->offset) = b;
		return CX_OK;
	case OPT_ENUM:
		for (size_t i = 0; o->choices[i] != NULL; i++) {
			if (strcmp(v, o->choices[i]) == 0)
				goto store_string;
		}
		list_choices(o->choices, choices, sizeof(choices));
		return bad(err, o->name, "must be one of %s", choices);
	case OPT_URL:
		for (size_t i = 0; o->choices[i] != NULL; i++) {
			size_t plen = strlen(o->choices[i]);
			if (strncasecmp(v, o->choices[i], plen) == 0 && v[plen] != '\0' &&
			    strchr(v, ' ') == NULL)
				goto store_string;
		}
		list_choices(o->choices, choices, sizeof(choices));
		return bad(err, o->name, "must be a URL starting with %s", choices);
	case OPT_PATH:
		if (o->offset == NO_FIELD)
			return CX_OK;
		copy = absolute_path(v);
		if (copy == NULL)
			return cx_error_internal(err, "cannot resolve %s=%s", o->name, v);
		goto store_copy;
	case OPT_STRING:
		if (strcmp(o->name, "SECRET_KEY") == 0 && strlen(v) < 16)
			return bad(err, o->name, "must be at least 16 characters");
		if (strcmp(o->name, "MAIL_FROM") == 0 && !mail_from_valid(v))
			return bad(err, o->name, "must be an address like no-reply@example.com "
			    "or Name <no-reply@example.com>");
		if (strcmp(o->name, "SMTP_SERVER") == 0 && !host_valid(v))
			return bad(err, o->name, "must be a host name or an IP address");
		goto store_string;
	}
	return cx_error_internal(err, "unknown option type for %s", o->name);
store_string:
	if (o->offset == NO_FIELD)
		return CX_OK;
	copy = strdup(v);
	if (copy == NULL)
		return cx_error_internal(err, "out of memory");
store_copy:
	free(*(char **)((char *)cfg + o->offset));
	*(char **)((char *)cfg + o->offset) = copy;
	return CX_OK;
}

static char *
join(const char *dir, const char *rest)
{
	char *out = NULL;

	if (asprintf(&out, "%s%s", dir, rest) < 0)
		return NULL;
	return out;
}

/* Fill the settings whose default depends on others. */
static int
derive(struct cx_config *cfg, const char *mongodb_url, struct cx_error *err)
{
	static const struct {
		size_t offset;
		const char *suffix;
	} under_data[] = {
		{ offsetof(struct cx_config, jwt_private_key), "/keys/jwt-private.pem" },
		{ offsetof(struct cx_config, jwt_public_key), "/keys/jwt-public.pem" },
		{ offsetof(struct cx_config, socket_dir), "/run" },
		{ offsetof(struct cx_config, mail_outbox_dir), "/outbox" },
	};

	if (cfg->database_url == NULL) {
		if (mongodb_url != NULL)
			cfg->database_url = strdup(mongodb_url);
		else
			cfg->database_url = join("sqlite:", cfg->data_dir);
		if (cfg->database_url != NULL && mongodb_url == NULL) {
			char *full = join(cfg->database_url, "/candidatex.db");
			free(cfg->database_url);
			cfg->database_url = full;
		}
		if (cfg->database_url == NULL)
			return cx_error_internal(err, "out of memory");
	}
	for (size_t i = 0; i < sizeof(under_data) / sizeof(under_data[0]); i++) {
		char **slot = (char **)((char *)cfg + under_data[i].offset);
		if (*slot == NULL && (*slot = join(cfg->data_dir, under_data[i].suffix)) == NULL)
			return cx_error_internal(err, "out of memory");
	}
	if (cfg->schema_dir == NULL) {
		/* mk/dist.am installs schema/ as $(pkgdatadir)/schema. */
		cfg->schema_dir = absolute_path(is_dir(CX_DATADIR "/schema") ? CX_DATADIR "/schema" :
		    "./schema");
		if (cfg->schema_dir == NULL)
			return cx_error_internal(err, "cannot resolve the schema folder");
	}
	if (strcmp(cfg->ai_provider, "openai") == 0 && cfg->openai_api_key == NULL)
		return bad(err, "OPENAI_API_KEY", "must be set when AI_PROVIDER is openai");
	if (strcmp(cfg->ai_provider, "gemini") == 0 && cfg->gemini_api_key == NULL)
		return bad(err, "GEMINI_API_KEY", "must be set when AI_PROVIDER is gemini");
	/* nginx gives a request 60 s (cx-fastcgi.conf); every attempt of a remote AI call
	 * must fit in it with the backoff between them, or the candidate gets a 504 while
	 * the answer is still being scored. */
	if (cfg->ai_timeout_seconds * (cfg->ai_max_retries + 1) > 50)
		return bad(err, "AI_TIMEOUT_SECONDS", "%d s x %d attempts (AI_MAX_RETRIES + 1) is "
		    "more than the 50 s a request may wait for the AI provider",
		    cfg->ai_timeout_seconds, cfg->ai_max_retries + 1);
	return CX_OK;
}

int
cx_config_load(const char *path, struct cx_config *cfg, struct cx_error *err)
{
	struct raw raw;
	struct cx_config tmp;
	const char *mongodb_url = NULL;
	int rc = CX_OK;

	memset(&raw, 0, sizeof(raw));
	memset(&tmp, 0, sizeof(tmp));
	for (size_t i = 0; i < NOPTS; i++)
		raw.value[i] = opts[i].def;
	if (path == NULL || *path == '\0')
		path = getenv("CX_CONFIG_FILE");
	if (path != NULL && *path != '\0' && (rc = read_file(path, &raw, err)) != CX_OK)
		goto out;
	for (size_t i = 0; i < NOPTS; i++) {
		const char *env = getenv(opts[i].name);
		if (env != NULL)
			raw.value[i] = env;
	}
	/* An empty value means "use the default". */
	for (size_t i = 0; i < NOPTS; i++) {
		const char *v = raw.value[i];
		if (v == NULL || *v == '\0')
			v = opts[i].def;
		if (v == NULL)
			continue;
		if ((rc = set_value(&opts[i], v, &tmp, err)) != CX_OK)
			goto out;
		if (strcmp(opts[i].name, "MONGODB_URL") == 0)
			mongodb_url = v;
	}
	if ((rc = derive(&tmp, mongodb_url, err)) != CX_OK)
		goto out;
	*cfg = tmp;
	memset(&tmp, 0, sizeof(tmp));
out:
	cx_config_free(&tmp);
	for (size_t i = 0; i < NOPTS; i++)
		free(raw.owned[i]);
	return rc;
}

void
cx_config_free(struct cx_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		if (o->offset == NO_FIELD || o->type == OPT_INT || o->type == OPT_BOOL)
			continue;
		free(*(char **)((char *)cfg + o->offset));
	}
	memset(cfg, 0, sizeof(*cfg));
}

static const char *
default_text(const struct opt *o)
{
	if (o->secret)
		return "(secret, unset)";
	if (o->def != NULL)
		return o->def;
	return o->shown != NULL ? o->shown : "(unset)";
}

static void
type_text(const struct opt *o, char *buf, size_t cap)
{
	char choices[160];

	if (o->type == OPT_ENUM) {
		list_choices(o->choices, choices, sizeof(choices));
		snprintf(buf, cap, "enum: %s", choices);
	} else if (o->type == OPT_INT) {
		snprintf(buf, cap, "int %ld..%ld", o->min, o->max);
	} else {
		snprintf(buf, cap, "%s", type_names[o->type]);
	}
}

/* A Markdown table (the README's configuration section is this output). */
void
cx_config_describe(FILE *out)
{
	char type[192];

	fprintf(out, "| Name | Type | Default | Description |\n");
	fprintf(out, "|---|---|---|---|\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *def = default_text(o);
		const char *tick = !o->secret && (o->def != NULL || strchr(def, '<') != NULL) ?
		    "`" : "";

		type_text(o, type, sizeof(type));
		fprintf(out, "| `%s` | %s | %s%s%s | %s |\n", o->name, type, tick, def, tick,
		    o->help);
	}
}

void
cx_config_sample(FILE *out)
{
	char type[192];

	fprintf(out,
	    "# CandidateX configuration (KEY=VALUE). Generated from lib/cx_config.c by\n"
	    "# cx_config_sample(); every setting is shown commented out with its default.\n"
	    "# Load order: defaults, then this file (CX_CONFIG_FILE=/path), then the\n"
	    "# environment, which wins. Values may be quoted; an empty value means the default.\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		type_text(o, type, sizeof(type));
		fprintf(out, "\n# %s (%s)\n", o->help, type);
		if (o->def != NULL && !o->secret) {
			fprintf(out, "#%s=%s\n", o->name, o->def);
		} else {
			fprintf(out, "# Default: %s\n", default_text(o));
			fprintf(out, "#%s=\n", o->name);
		}
	}
}
