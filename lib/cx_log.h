/* cx_log: one JSON line per event on stderr (or a file), with request context. */
#ifndef CX_LOG_H
#define CX_LOG_H

enum cx_log_level { CX_LOG_DEBUG, CX_LOG_INFO, CX_LOG_WARN, CX_LOG_ERROR };

/* Program name goes into every line; fd is where lines go (2 = stderr). */
void cx_log_init(const char *program, enum cx_log_level min_level, int fd);
int cx_log_level_parse(const char *name, enum cx_log_level *out); /* 0 ok, -1 unknown */

/* Per-request context added to every line until cleared (NULL clears). Copied. */
void cx_log_set_request(const char *request_id, const char *remote_addr);

/* A free-form event. Text is JSON-escaped; never pass a password or a token. */
void cx_logf(enum cx_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hold info lines (the access lines of a worker's round) until cx_log_flush, which
 * writes them in one go; a warning or an error writes what is held first, then itself. */
void cx_log_hold(void);
void cx_log_flush(void);

/* The access line written once per request. */
void cx_log_access(const char *method, const char *route, const char *path, int status,
    double duration_ms, const char *user_id);

#endif
