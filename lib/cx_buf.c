/* cx_buf: a growing NUL-terminated byte buffer for building text. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_buf.h"

void
cx_buf_add(struct cx_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > (size_t)-1 / 2 - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
cx_buf_str(struct cx_buf *b, const char *s)
{
	cx_buf_add(b, s, strlen(s));
}

/* Whether fmt converts nothing but %s, %zu and %%: what most text built here uses
 * (SQL with table and field names, counts), copied by hand below. */
static int
plain_format(const char *fmt)
{
	for (const char *p = strchr(fmt, '%'); p != NULL; p = strchr(p, '%')) {
		if (p[1] == 's' || p[1] == '%')
			p += 2;
		else if (p[1] == 'z' && p[2] == 'u')
			p += 3;
		else
			return 0;
	}
	return 1;
}

/* cx_buf_vprintf of a plain_format: the same bytes as vsnprintf. The SQLite store builds
 * a statement on every call, where vsnprintf cost 9k instructions per stored answer. */
static void
add_plain(struct cx_buf *b, const char *fmt, va_list ap)
{
	for (const char *p = fmt; *p != '\0';) {
		const char *pct = strchr(p, '%'), *arg;
		char digits[CX_U64_DIGITS], *d;

		if (pct == NULL) {
			cx_buf_add(b, p, strlen(p));
			return;
		}
		cx_buf_add(b, p, (size_t)(pct - p));
		if (pct[1] == '%') {
			cx_buf_add(b, "%", 1);
			p = pct + 2;
		} else if (pct[1] == 's') {
			if ((arg = va_arg(ap, const char *)) == NULL)
				arg = "(null)";   /* as glibc's printf */
			cx_buf_add(b, arg, strlen(arg));
			p = pct + 2;
		} else {   /* %zu */
			d = cx_u64_digits(digits + sizeof(digits), va_arg(ap, size_t));
			cx_buf_add(b, d, (size_t)(digits + sizeof(digits) - d));
			p = pct + 3;
		}
	}
}

void
cx_buf_vprintf(struct cx_buf *b, const char *fmt, va_list ap)
{
	char tmp[512], *big;
	va_list again;
	int n;

	if (plain_format(fmt)) {
		add_plain(b, fmt, ap);
		return;
	}
	va_copy(again, ap);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0)
		b->failed = 1;
	else if ((size_t)n < sizeof(tmp))
		cx_buf_add(b, tmp, (size_t)n);
	else if ((big = malloc((size_t)n + 1)) == NULL)
		b->failed = 1;
	else {
		vsnprintf(big, (size_t)n + 1, fmt, again);
		cx_buf_add(b, big, (size_t)n);
		free(big);
	}
	va_end(again);
}

void
cx_buf_printf(struct cx_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cx_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
cx_buf_take(struct cx_buf *b)
{
	char *out = b->data;

	if (b->failed) {
		free(out);
		out = NULL;
	} else if (out == NULL)
		out = strdup("");
	memset(b, 0, sizeof(*b));
	return out;
}

void
cx_buf_free(struct cx_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

char *
cx_u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}
