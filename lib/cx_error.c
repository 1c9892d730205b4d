/* cx_error: one error type, one table of codes. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cx_error.h"
#include "cx_log.h"

static const struct {
	const char *name;
	int status;
	const char *default_message;
} codes[CX_CODE_MAX] = {
	[CX_OK]         = { "OK", 200, "OK" },
	[CX_EVALIDATION]= { "VALIDATION_ERROR", 422, "Invalid input data" },
	[CX_EBADREQ]    = { "BAD_REQUEST", 400, "Bad request" },
	[CX_EUNAUTH]    = { "UNAUTHORIZED", 401, "Authentication required" },
	[CX_EFORBIDDEN] = { "FORBIDDEN", 403, "You do not have permission to do this" },
	[CX_ENOTFOUND]  = { "NOT_FOUND", 404, "Not found" },
	[CX_EMETHOD]    = { "METHOD_NOT_ALLOWED", 405, "Method not allowed" },
	[CX_ECONFLICT]  = { "CONFLICT", 409, "Conflict" },
	[CX_ESTATE]     = { "INVALID_STATE", 409, "Not allowed in the current state" },
	[CX_ETOOLARGE]  = { "PAYLOAD_TOO_LARGE", 413, "Request body too large" },
	[CX_EMEDIA]     = { "UNSUPPORTED_MEDIA_TYPE", 415, "Unsupported content type" },
	[CX_ERATELIMIT] = { "RATE_LIMITED", 429, "Too many requests, try again later" },
	[CX_EINTERNAL]  = { "INTERNAL_ERROR", 500, "Internal server error" },
	[CX_EUNAVAIL]   = { "SERVICE_UNAVAILABLE", 503, "Service temporarily unavailable" },
};

const char *
cx_code_name(enum cx_code code)
{
	if (code < 0 || code >= CX_CODE_MAX)
		code = CX_EINTERNAL;
	return codes[code].name;
}

int
cx_code_status(enum cx_code code)
{
	if (code < 0 || code >= CX_CODE_MAX)
		code = CX_EINTERNAL;
	return codes[code].status;
}

int
cx_error_vset(struct cx_error *err, enum cx_code code, const char *fmt, va_list ap)
{
	if (err == NULL || err->code != CX_OK || code == CX_OK)
		return code;
	memset(err, 0, sizeof(*err));
	err->code = code;
	if (fmt != NULL && *fmt != '\0')
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
	else
		snprintf(err->message, sizeof(err->message), "%s",
		    codes[code < CX_CODE_MAX ? code : CX_EINTERNAL].default_message);
	return code;
}

int
cx_error_set(struct cx_error *err, enum cx_code code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = cx_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int
cx_error_field(struct cx_error *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->code != CX_OK)
		return CX_EVALIDATION;
	cx_error_set(err, CX_EVALIDATION, "Invalid input data");
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return CX_EVALIDATION;
}

int
cx_error_internal_at(struct cx_error *err, const char *file, int line, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	cx_logf(CX_LOG_ERROR, "internal error at %s:%d: %s", file, line, detail);
	return cx_error_set(err, CX_EINTERNAL, "Internal server error");
}

int
cx_error_code(struct cx_error *err, enum cx_code code)
{
	if (code <= CX_OK || code >= CX_CODE_MAX)
		code = CX_EINTERNAL;
	return cx_error_set(err, code, "%s", codes[code].default_message);
}

void
cx_error_clear(struct cx_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}
