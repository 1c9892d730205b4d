/* cx_config: the one configuration table (environment variables of spec 6.2 and ours,
 * plus an optional KEY=VALUE file), typed and validated once at start, read-only after. */
#ifndef CX_CONFIG_H
#define CX_CONFIG_H

#include <stdio.h>

#include "cx_error.h"

struct cx_config {
	/* storage */
	char *database_url;        /* DATABASE_URL; "sqlite:<data_dir>/candidatex.db" default,
	                              or built from MONGODB_URL */
	char *database_name;       /* DATABASE_NAME (candidatex) */
	char *redis_url;           /* REDIS_URL (redis://127.0.0.1:6379/0 or unix:/path) */
	char *data_dir;            /* CX_DATA_DIR (./var): keys, sqlite file, outbox, files */
	char *schema_dir;          /* CX_SCHEMA_DIR: schema/ (indexes.json, mail templates) */
	/* security */
	char *secret_key;          /* SECRET_KEY (HMAC of rate-limit/reset keys; random if unset) */
	char *jwt_private_key;     /* JWT_PRIVATE_KEY_FILE (<data_dir>/keys/jwt-private.pem) */
	char *jwt_public_key;      /* JWT_PUBLIC_KEY_FILE (<data_dir>/keys/jwt-public.pem) */
	char *jwt_issuer;          /* JWT_ISSUER (candidatex-api) */
	int access_token_minutes;  /* ACCESS_TOKEN_EXPIRE_MINUTES (30) */
	int refresh_token_days;    /* REFRESH_TOKEN_EXPIRE_DAYS (7) */
	int bcrypt_cost;           /* BCRYPT_COST (12, 10..15) */
	int login_ip_limit;        /* LOGIN_RATE_LIMIT_IP per minute (20) */
	int login_account_limit;   /* LOGIN_RATE_LIMIT_ACCOUNT failures per 15 min (5) */
	int register_ip_limit;     /* REGISTER_RATE_LIMIT_IP per hour (20) */
	int forgot_limit;          /* FORGOT_RATE_LIMIT per hour, per IP and per account (5) */
	int reset_token_minutes;   /* RESET_TOKEN_EXPIRE_MINUTES (60) */
	/* AI */
	char *ai_provider;         /* AI_PROVIDER local|openai|gemini */
	char *openai_api_key;      /* OPENAI_API_KEY */
	char *openai_base_url;     /* OPENAI_BASE_URL (https://api.openai.com/v1) */
	char *openai_model;        /* OPENAI_MODEL */
	char *gemini_api_key;      /* GEMINI_API_KEY */
	char *gemini_base_url;     /* GEMINI_BASE_URL */
	char *gemini_model;        /* GEMINI_MODEL */
	int ai_timeout_seconds;    /* AI_TIMEOUT_SECONDS (30): whole remote call, per attempt */
	int ai_connect_timeout_seconds; /* AI_CONNECT_TIMEOUT_SECONDS (5) */
	int ai_max_retries;        /* AI_MAX_RETRIES (2): extra attempts on 429/5xx/timeouts */
	int ai_cache_ttl_seconds;  /* AI_CACHE_TTL_SECONDS (604800 = 1 week): cache:ai:* */
	/* files */
	char *aws_access_key_id, *aws_secret_access_key, *aws_region, *s3_bucket_name, *s3_endpoint;
	/* mail */
	char *smtp_server;         /* SMTP_SERVER (unset = outbox folder) */
	int smtp_port;             /* SMTP_PORT (587) */
	char *smtp_username, *smtp_password;
	char *mail_from;           /* MAIL_FROM */
	char *mail_outbox_dir;     /* MAIL_OUTBOX_DIR (<data_dir>/outbox) */
	char *public_url;          /* PUBLIC_URL (https://localhost:8443): links in mails */
	/* anti-cheat */
	int anti_cheat_threshold;  /* ANTI_CHEAT_THRESHOLD (3) */
	int face_detection;        /* FACE_DETECTION_ENABLED (true) */
	int tab_switch_detection;  /* TAB_SWITCH_DETECTION (true) */
	char *anti_cheat_strikes;  /* ANTI_CHEAT_STRIKES: per-kind limits "kind=N,..." */
	int interview_create_limit; /* INTERVIEW_CREATE_RATE_LIMIT sessions per user per hour (30) */
	/* performance / process */
	int cache_ttl_seconds;     /* CACHE_TTL_SECONDS (3600) */
	int session_cache;         /* CX_SESSION_CACHE (384) interviews per interview worker */
	int workers;               /* CX_WORKERS (0 = number of cores) */
	int shard_workers;         /* CX_SHARD_WORKERS (0 = auto) */
	char *socket_dir;          /* CX_SOCKET_DIR (<data_dir>/run) */
	char *log_level;           /* CX_LOG_LEVEL (info) */
	int max_body_bytes;        /* CX_MAX_BODY_BYTES (1 MiB) default body limit */
};

/* Load: defaults, then the KEY=VALUE file (path may be NULL; CX_CONFIG_FILE is used
 * when set), then the environment (environment wins). Every value is validated; the
 * first bad one is reported as "NAME: reason". *cfg is filled only on success. */
int cx_config_load(const char *path, struct cx_config *cfg, struct cx_error *err);
void cx_config_free(struct cx_config *cfg);

/* Print every setting with its type, default and help (for `cxctl config` and README). */
void cx_config_describe(FILE *out);
/* Print config/candidatex.conf.sample: every setting commented out with its default. */
void cx_config_sample(FILE *out);

#endif
