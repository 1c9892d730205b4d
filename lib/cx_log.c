/* cx_log: JSON lines, whole lines per write(2) so concurrent workers never interleave.
 * A worker holds the access lines of a round and writes them at its end (cx_log_hold). */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cx_buf.h"
#include "cx_log.h"
#include "cx_time.h"

static char log_program[32] = "cx";
static enum cx_log_level log_min = CX_LOG_INFO;
static int log_fd = 2;
static char log_request_id[64];
static char log_remote[64];

static const char *level_names[] = { "debug", "info", "warn", "error" };

/* Lines held until cx_log_flush: whole lines only. */
static char held[32768];
static size_t held_len;
static int holding;

static void write_held(void);

void
cx_log_init(const char *program, enum cx_log_level min_level, int fd)
{
	write_held();   /* what is held goes where it was meant to */
	snprintf(log_program, sizeof(log_program), "%s", program ? program : "cx");
	log_min = min_level;
	log_fd = fd;
}

int
cx_log_level_parse(const char *name, enum cx_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum cx_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = CX_LOG_WARN;
		return 0;
	}
	return -1;
}

/* dst = src cut to fit, NUL-terminated ("" for NULL). */
static void
copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

void
cx_log_set_request(const char *request_id, const char *remote_addr)
{
	copy_cut(log_request_id, sizeof(log_request_id), request_id);
	copy_cut(log_remote, sizeof(log_remote), remote_addr);
}

static void
write_held(void)
{
	if (held_len > 0)
		(void)!write(log_fd, held, held_len);
	held_len = 0;
}

void
cx_log_hold(void)
{
	holding = 1;
}

void
cx_log_flush(void)
{
	write_held();
	holding = 0;
}

/* Append s JSON-escaped to buf at *len, never past cap - 1. */
static void
put_escaped(char *buf, size_t cap, size_t *len, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; s != NULL && *s != '\0' && *len + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[(*len)++] = '\\';
			buf[(*len)++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			buf[(*len)++] = '\\';
			buf[(*len)++] = 'u';
			buf[(*len)++] = '0';
			buf[(*len)++] = '0';
			buf[(*len)++] = hex[c >> 4];
			buf[(*len)++] = hex[c & 15];
		} else {
			buf[(*len)++] = (char)c;
		}
	}
}

static void
put_raw(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 >= cap)
		n = cap - *len - 2;
	memcpy(buf + *len, s, n);
	*len += n;
}

static void
put_field(char *buf, size_t cap, size_t *len, const char *key, const char *value)
{
	put_raw(buf, cap, len, ",\"");
	put_raw(buf, cap, len, key);
	put_raw(buf, cap, len, "\":\"");
	put_escaped(buf, cap, len, value);
	put_raw(buf, cap, len, "\"");
}

static void
line_begin(char *buf, size_t cap, size_t *len, enum cx_log_level level)
{
	char now[CX_TIME_LEN];

	cx_time_now(now);
	*len = 0;
	put_raw(buf, cap, len, "{\"time\":\"");
	put_raw(buf, cap, len, now);
	put_raw(buf, cap, len, "\",\"level\":\"");
	put_raw(buf, cap, len, level_names[level]);
	put_raw(buf, cap, len, "\"");
	put_field(buf, cap, len, "program", log_program);
	if (log_request_id[0] != '\0')
		put_field(buf, cap, len, "request_id", log_request_id);
	if (log_remote[0] != '\0')
		put_field(buf, cap, len, "remote_addr", log_remote);
}

/* Close the line and write it, or hold it (an info line while holding). A warning or
 * an error goes out at once, after what is held, so the order stays. */
static void
line_end(char *buf, size_t cap, size_t *len, enum cx_log_level level)
{
	if (*len + 2 >= cap)
		*len = cap - 3;
	buf[(*len)++] = '}';
	buf[(*len)++] = '\n';
	if (holding && level <= CX_LOG_INFO) {
		if (held_len + *len > sizeof(held))
			write_held();
		memcpy(held + held_len, buf, *len);
		held_len += *len;
		return;
	}
	write_held();
	(void)!write(log_fd, buf, *len);
}

void
cx_logf(enum cx_log_level level, const char *fmt, ...)
{
	char buf[2048], msg[1024];
	size_t len;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line_begin(buf, sizeof(buf), &len, level);
	put_field(buf, sizeof(buf), &len, "msg", msg);
	line_end(buf, sizeof(buf), &len, level);
}

void
cx_log_access(const char *method, const char *route, const char *path, int status,
    double duration_ms, const char *user_id)
{
	char buf[2048], num[64], *p = num + sizeof(num);
	size_t len;
	/* ",\"status\":%d,\"duration_ms\":%.3f" by hand: this line is written per request */
	uint64_t us = duration_ms > 0 && duration_ms < 1e15 ? (uint64_t)(duration_ms * 1000 +
	    0.5) : 0;
	unsigned st = status >= 0 && status < 1000 ? (unsigned)status : 0;

	if (CX_LOG_INFO < log_min)
		return;
	*--p = '\0';
	for (int i = 0; i < 3; i++, us /= 10)
		*--p = (char)('0' + us % 10);
	*--p = '.';
	p = cx_u64_digits(p, us);
	p -= sizeof(",\"duration_ms\":") - 1;
	memcpy(p, ",\"duration_ms\":", sizeof(",\"duration_ms\":") - 1);
	p = cx_u64_digits(p, st);
	p -= sizeof(",\"status\":") - 1;
	memcpy(p, ",\"status\":", sizeof(",\"status\":") - 1);
	line_begin(buf, sizeof(buf), &len, CX_LOG_INFO);
	put_field(buf, sizeof(buf), &len, "msg", "request");
	put_field(buf, sizeof(buf), &len, "method", method ? method : "");
	put_field(buf, sizeof(buf), &len, "route", route ? route : "");
	put_field(buf, sizeof(buf), &len, "path", path ? path : "");
	put_raw(buf, sizeof(buf), &len, p);
	if (user_id != NULL && *user_id != '\0')
		put_field(buf, sizeof(buf), &len, "user_id", user_id);
	line_end(buf, sizeof(buf), &len, CX_LOG_INFO);
}
