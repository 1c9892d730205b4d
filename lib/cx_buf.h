/* cx_buf: a growing NUL-terminated byte buffer for building text. */
#ifndef CX_BUF_H
#define CX_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Zero-initialise ({ 0 }). On an allocation failure `failed` is set and further appends
 * do nothing, so a builder checks once at the end. data is NULL until the first append,
 * else NUL-terminated at len. */
struct cx_buf {
	char *data;
	size_t len, cap;
	int failed;
};

void cx_buf_add(struct cx_buf *b, const char *s, size_t n);
void cx_buf_str(struct cx_buf *b, const char *s);
void cx_buf_printf(struct cx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cx_buf_vprintf(struct cx_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The text (caller's; "" when nothing was added), or NULL when an append failed; the
 * buffer is empty afterwards either way. */
char *cx_buf_take(struct cx_buf *b);
void cx_buf_free(struct cx_buf *b);

/* The decimal digits of v, written backwards so they end just before end (they take at
 * most CX_U64_DIGITS bytes); returns where they start. For text built by hand on hot
 * paths, where snprintf costs several times as much. */
#define CX_U64_DIGITS 20
char *cx_u64_digits(char *end, uint64_t v);

#endif
