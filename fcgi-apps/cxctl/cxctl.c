/* cxctl: the operator's command line — init, create-admin, check, config. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cx_config.h"
#include "cx_json.h"
#include "cx_jwt.h"
#include "cx_log.h"
#include "cx_password.h"
#include "cx_redis.h"
#include "cx_store.h"
#include "cx_user.h"

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[1024];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void
print_error(const char *what, const struct cx_error *err)
{
	fprintf(stderr, "cxctl: %s: %s%s%s%s\n", what, err->message,
	    err->field[0] ? " (" : "", err->field[0] ? err->field : "",
	    err->field[0] ? ")" : "");
	if (err->reason[0])
		fprintf(stderr, "       %s\n", err->reason);
}

static int
open_store(const struct cx_config *cfg, struct cx_store **store)
{
	struct cx_error err = { 0 };

	if (cx_store_open(cfg->database_url, cfg->database_name, store, &err) != CX_OK) {
		print_error("cannot open the database", &err);
		return -1;
	}
	return 0;
}

/* init: data folders, the JWT key pair, the database and its indexes. Idempotent. */
static int
cmd_init(const struct cx_config *cfg, int argc, char **argv)
{
	struct cx_error err = { 0 };
	struct cx_store *store = NULL;
	char keydir[1024], indexes[1024], *slash;
	int force = argc > 1 && strcmp(argv[1], "--rotate-keys") == 0;
	int rc = 1;

	if (mkdir_p(cfg->data_dir, 0750) != 0 || mkdir_p(cfg->socket_dir, 0755) != 0) {
		fprintf(stderr, "cxctl: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
		return 1;
	}
	snprintf(keydir, sizeof(keydir), "%s", cfg->jwt_private_key);
	if ((slash = strrchr(keydir, '/')) != NULL) {
		*slash = '\0';
		if (mkdir_p(keydir, 0700) != 0) {
			fprintf(stderr, "cxctl: cannot create %s: %s\n", keydir, strerror(errno));
			return 1;
		}
	}
	if (!force && access(cfg->jwt_private_key, R_OK) == 0 &&
	    access(cfg->jwt_public_key, R_OK) == 0) {
		printf("keys: present (%s)\n", cfg->jwt_public_key);
	} else if (cx_jwt_generate_keys(cfg->jwt_private_key, cfg->jwt_public_key, force,
	    &err) != CX_OK) {
		print_error("cannot create the JWT keys", &err);
		return 1;
	} else {
		printf("keys: created RSA-2048 key pair in %s\n", keydir);
	}
	if (open_store(cfg, &store) != 0)
		return 1;
	snprintf(indexes, sizeof(indexes), "%s/indexes.json", cfg->schema_dir);
	if (cx_store_ensure_indexes(store, indexes, &err) != CX_OK) {
		print_error("cannot create the indexes", &err);
		goto out;
	}
	printf("database: %s ready (%s), indexes from %s\n", cx_store_backend(store),
	    cfg->database_url, indexes);
	rc = 0;
out:
	cx_store_close(store);
	return rc;
}

static int
cmd_create_admin(const struct cx_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "name", required_argument, NULL, 'n' },
		{ "password-stdin", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *email_in = NULL, *name_in = "Administrator", *password;
	char email[CX_EMAIL_MAX + 1], hash[CX_BCRYPT_HASH_MAX], line[256];
	struct cx_error err = { 0 };
	struct cx_store *store = NULL;
	json_object *doc = NULL, *existing = NULL;
	char *name = NULL;
	int c, from_stdin = 0, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "e:n:s", opts, NULL)) != -1) {
		switch (c) {
		case 'e': email_in = optarg; break;
		case 'n': name_in = optarg; break;
		case 's': from_stdin = 1; break;
		default: return 2;
		}
	}
	password = getenv("CX_ADMIN_PASSWORD");
	if (from_stdin) {
		if (fgets(line, sizeof(line), stdin) == NULL) {
			fprintf(stderr, "cxctl: no password on standard input\n");
			return 2;
		}
		line[strcspn(line, "\r\n")] = '\0';
		password = line;
	}
	if (email_in == NULL || password == NULL) {
		fprintf(stderr, "usage: cxctl create-admin --email EMAIL [--name NAME] "
		    "[--password-stdin]\n       (or the password in CX_ADMIN_PASSWORD)\n");
		return 2;
	}
	if (cx_user_normalize_email(email_in, "email", email, &err) != CX_OK ||
	    cx_user_clean_name(name_in, "name", &name, &err) != CX_OK ||
	    cx_password_check_policy(password, "password", &err) != CX_OK) {
		print_error("invalid admin account", &err);
		goto out;
	}
	if (open_store(cfg, &store) != 0)
		goto out;
	if (cx_user_find_by_email(store, email, &existing, NULL) == CX_OK) {
		const char *role = cx_json_str(existing, "role");
		if (role != NULL && strcmp(role, "admin") == 0) {
			printf("admin %s already exists\n", email);
			rc = 0;
		} else {
			fprintf(stderr, "cxctl: %s exists with role %s; not changed\n", email,
			    role ? role : "?");
		}
		goto out;
	}
	if (cx_password_hash(password, cfg->bcrypt_cost, hash, &err) != CX_OK) {
		print_error("cannot hash the password", &err);
		goto out;
	}
	doc = cx_user_new_doc(email, name, "admin", hash);
	if (cx_store_insert(store, CX_USERS, doc, &err) != CX_OK) {
		print_error("cannot create the admin", &err);
		goto out;
	}
	printf("admin %s created (id %s)\n", email, cx_json_str(doc, "id"));
	rc = 0;
out:
	free(name);
	json_object_put(doc);
	json_object_put(existing);
	cx_store_close(store);
	return rc;
}

static int
check_line(const char *what, int ok, const char *detail)
{
	printf("%-10s %-4s %s\n", what, ok ? "ok" : "FAIL", detail ? detail : "");
	return ok ? 0 : 1;
}

static int
cmd_check(const struct cx_config *cfg)
{
	struct cx_error err = { 0 };
	struct cx_store *store = NULL;
	struct cx_redis *redis = NULL;
	struct cx_jwt_keys *keys = NULL;
	char path[1024];
	int failures = 0;

	failures += check_line("config", 1, "loaded and valid");
	failures += check_line("keys", cx_jwt_keys_load(cfg->jwt_private_key, cfg->jwt_public_key,
	    &keys, &err) == CX_OK, cfg->jwt_public_key);
	cx_error_clear(&err);
	if (cx_store_open(cfg->database_url, cfg->database_name, &store, &err) == CX_OK &&
	    cx_store_ping(store, &err) == CX_OK)
		failures += check_line("database", 1, cfg->database_url);
	else
		failures += check_line("database", 0, err.message);
	cx_error_clear(&err);
	if (cx_redis_new(cfg->redis_url, &redis, &err) == CX_OK && cx_redis_ping(redis, &err) == CX_OK)
		failures += check_line("redis", 1, cfg->redis_url);
	else
		failures += check_line("redis", 0, err.message);
	snprintf(path, sizeof(path), "%s/indexes.json", cfg->schema_dir);
	failures += check_line("schema", access(path, R_OK) == 0, cfg->schema_dir);
	snprintf(path, sizeof(path), "%s/mail/password_reset.txt", cfg->schema_dir);
	failures += check_line("mail", access(path, R_OK) == 0,
	    cfg->smtp_server && *cfg->smtp_server ? cfg->smtp_server : cfg->mail_outbox_dir);
	failures += check_line("sockets", access(cfg->socket_dir, W_OK) == 0, cfg->socket_dir);
	failures += check_line("ai", 1, cfg->ai_provider);
	cx_jwt_keys_free(keys);
	cx_store_close(store);
	cx_redis_free(redis);
	return failures ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: cxctl COMMAND\n"
	    "  init [--rotate-keys]   create data folders, JWT keys, database and indexes\n"
	    "  create-admin --email EMAIL [--name NAME] [--password-stdin]\n"
	    "                         create an admin (password from CX_ADMIN_PASSWORD or stdin)\n"
	    "  check                  check configuration and every dependency\n"
	    "  config                 list every setting with its default\n");
}

int
main(int argc, char **argv)
{
	struct cx_config cfg;
	struct cx_error err = { 0 };
	int rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "config") == 0) {
		cx_config_describe(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage();
		return 0;
	}
	cx_log_init("cxctl", CX_LOG_WARN, 2);
	if (cx_config_load(NULL, &cfg, &err) != CX_OK) {
		print_error("configuration error", &err);
		return 2;
	}
	if (strcmp(argv[1], "init") == 0)
		rc = cmd_init(&cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "create-admin") == 0)
		rc = cmd_create_admin(&cfg, argc - 1, argv + 1);
	else if (strcmp(argv[1], "check") == 0)
		rc = cmd_check(&cfg);
	else {
		usage();
		rc = 2;
	}
	cx_config_free(&cfg);
	return rc;
}
