/* cx_error: the one error type carried from lib/ up to the HTTP error envelope. */
#ifndef CX_ERROR_H
#define CX_ERROR_H

#include <stdarg.h>

/* Stable codes. 0 is success; every other value maps to one envelope code string
 * and one HTTP status (see cx_code_name / cx_code_status). */
enum cx_code {
	CX_OK = 0,
	CX_EVALIDATION,   /* 422 VALIDATION_ERROR (details.field, details.reason) */
	CX_EBADREQ,       /* 400 BAD_REQUEST */
	CX_EUNAUTH,       /* 401 UNAUTHORIZED */
	CX_EFORBIDDEN,    /* 403 FORBIDDEN */
	CX_ENOTFOUND,     /* 404 NOT_FOUND */
	CX_EMETHOD,       /* 405 METHOD_NOT_ALLOWED */
	CX_ECONFLICT,     /* 409 CONFLICT */
	CX_ESTATE,        /* 409 INVALID_STATE */
	CX_ETOOLARGE,     /* 413 PAYLOAD_TOO_LARGE */
	CX_EMEDIA,        /* 415 UNSUPPORTED_MEDIA_TYPE */
	CX_ERATELIMIT,    /* 429 RATE_LIMITED (retry_after seconds) */
	CX_EINTERNAL,     /* 500 INTERNAL_ERROR (message never carries internals) */
	CX_EUNAVAIL,      /* 503 SERVICE_UNAVAILABLE */
	CX_CODE_MAX
};

struct cx_error {
	enum cx_code code;       /* CX_OK until the first error is set */
	char message[256];       /* safe to show a client */
	char field[64];          /* VALIDATION_ERROR: offending field, else "" */
	char reason[192];        /* VALIDATION_ERROR: why, else "" */
	int retry_after;         /* RATE_LIMITED / SERVICE_UNAVAILABLE: seconds, 0 = none */
};

const char *cx_code_name(enum cx_code code);   /* "VALIDATION_ERROR", ... */
int cx_code_status(enum cx_code code);         /* 422, ... */

/* Set the error (first error wins: a second call keeps the first) and return code,
 * so a failure path is `return cx_error_set(err, CX_ENOTFOUND, "User not found");`.
 * err may be NULL. The message is shown to clients: never put internals in it. */
int cx_error_set(struct cx_error *err, enum cx_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cx_error_vset(struct cx_error *err, enum cx_code code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* VALIDATION_ERROR with details.field = field and details.reason = reason (formatted);
 * the message becomes "Invalid input data". Returns CX_EVALIDATION. */
int cx_error_field(struct cx_error *err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Internal failure: logs detail (with the code location) and sets a generic
 * INTERNAL_ERROR message for the client. Returns CX_EINTERNAL. */
#define cx_error_internal(err, ...) cx_error_internal_at((err), __FILE__, __LINE__, __VA_ARGS__)
int cx_error_internal_at(struct cx_error *err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Set code with its default client message ("Not found", ...). Returns code. */
int cx_error_code(struct cx_error *err, enum cx_code code);

void cx_error_clear(struct cx_error *err);

#endif
