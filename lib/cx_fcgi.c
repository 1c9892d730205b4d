/* cx_fcgi: a FastCGI responder connection (FastCGI 1.0 specification), read and written
 * with as few system calls and allocations as we can: a request usually arrives whole
 * in one read into the connection's input buffer, its params are copied once into the
 * connection's arena and terminated there, and its response goes out in one write. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "cx_fcgi.h"

/* Record types and constants of the specification. */
enum {
	FCGI_VERSION_1 = 1,
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11,
	FCGI_KEEP_CONN = 1,
	FCGI_RESPONDER = 1,
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_UNKNOWN_ROLE = 3,
};

#define HEADER_LEN 8
#define MAX_CONTENT 65535
#define IN_SIZE (16 * 1024)       /* one read holds a usual request whole */
#define OUT_SIZE (16 * 1024)
#define ARENA_SIZE (4 * 1024)
#define NPARAMS 64
/* Buffers a large request or response grew are given back past these sizes. */
#define OUT_KEEP (256 * 1024)
#define ARENA_KEEP (64 * 1024)
/* A body read at least this large goes straight into the caller's buffer. */
#define DIRECT_READ 4096
/* Management records longer than this are skipped unread. */
#define MGMT_MAX 1024

void
cx_fcgi_init(struct cx_fcgi *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
new_request(struct cx_fcgi *c)
{
	c->id = 0;
	c->keep_conn = 0;
	c->stdin_open = 0;
	c->aborted = 0;
	c->nparams = 0;
	c->arena_len = 0;
	c->out_len = 0;
	c->out_rec = 0;
}

void
cx_fcgi_attach(struct cx_fcgi *c, int fd)
{
	struct timeval tv = { CX_FCGI_TIMEOUT_S, 0 };

	c->fd = fd;
	c->failed = 0;
	c->in_pos = c->in_len = 0;
	c->rec_left = c->pad_left = 0;
	new_request(c);
	/* A peer that stalls mid-request must not hold the worker forever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void
cx_fcgi_close(struct cx_fcgi *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_pos = c->in_len = 0;
	c->rec_left = c->pad_left = 0;
	new_request(c);
}

void
cx_fcgi_free(struct cx_fcgi *c)
{
	cx_fcgi_close(c);
	free(c->in);
	free(c->out);
	free(c->arena);
	free(c->params);
	cx_fcgi_init(c);
}

static int
alloc_buffers(struct cx_fcgi *c)
{
	if (c->in == NULL && (c->in = malloc(IN_SIZE)) != NULL)
		c->in_cap = IN_SIZE;
	if (c->out == NULL && (c->out = malloc(OUT_SIZE)) != NULL)
		c->out_cap = OUT_SIZE;
	if (c->arena == NULL && (c->arena = malloc(ARENA_SIZE)) != NULL)
		c->arena_cap = ARENA_SIZE;
	if (c->params == NULL && (c->params = malloc(NPARAMS * sizeof(*c->params))) != NULL)
		c->params_cap = NPARAMS;
	return c->in && c->out && c->arena && c->params ? 0 : -1;
}

/* ---- reading -------------------------------------------------------------------- */

/* Read into the iovecs. EAGAIN on this blocking socket means SO_RCVTIMEO passed. */
static ssize_t
read_some(struct cx_fcgi *c, struct iovec *iov, int n)
{
	ssize_t r;

	do
		r = readv(c->fd, iov, n);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		c->failed = 1;
		return -1;
	}
	return r;
}

/* More input after what is buffered (of which less than a header is left). */
static int
fill(struct cx_fcgi *c)
{
	size_t left = c->in_len - c->in_pos;
	struct iovec iov;
	ssize_t r;

	memmove(c->in, c->in + c->in_pos, left);
	c->in_pos = 0;
	c->in_len = left;
	iov.iov_base = c->in + left;
	iov.iov_len = c->in_cap - left;
	if ((r = read_some(c, &iov, 1)) < 0)
		return -1;
	c->in_len += (size_t)r;
	return 0;
}

/* The next n bytes of the stream into dst (NULL: skipped). */
static int
take(struct cx_fcgi *c, unsigned char *dst, size_t n)
{
	while (n > 0) {
		size_t avail = c->in_len - c->in_pos, k;

		if (avail == 0 && dst != NULL && n >= DIRECT_READ) {
			/* a large body: straight into dst, and what follows into the buffer */
			struct iovec iov[2] = { { dst, n }, { c->in, c->in_cap } };
			ssize_t r = read_some(c, iov, 2);

			if (r < 0)
				return -1;
			c->in_pos = 0;
			c->in_len = (size_t)r > n ? (size_t)r - n : 0;
			k = (size_t)r < n ? (size_t)r : n;
			dst += k;
			n -= k;
			continue;
		}
		if (avail == 0) {
			if (fill(c) != 0)
				return -1;
			continue;
		}
		k = avail < n ? avail : n;
		if (dst != NULL) {
			memcpy(dst, c->in + c->in_pos, k);
			dst += k;
		}
		c->in_pos += k;
		n -= k;
	}
	return 0;
}

static int
read_header(struct cx_fcgi *c)
{
	const unsigned char *h;

	while (c->in_len - c->in_pos < HEADER_LEN)
		if (fill(c) != 0)
			return -1;
	h = c->in + c->in_pos;
	if (h[0] != FCGI_VERSION_1) {
		c->failed = 1;
		return -1;
	}
	c->rec_type = h[1];
	c->rec_id = (unsigned)h[2] << 8 | h[3];
	c->rec_left = (size_t)h[4] << 8 | h[5];
	c->pad_left = h[6];
	c->in_pos += HEADER_LEN;
	return 0;
}

/* ---- writing -------------------------------------------------------------------- */

/* EAGAIN on this blocking socket means SO_SNDTIMEO passed. */
static int
write_all(struct cx_fcgi *c, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t r = send(c->fd, p, len, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			c->failed = 1;
			return -1;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static void
header(unsigned char *h, int type, unsigned id, size_t len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;
	h[7] = 0;
}

static void
end_request_record(unsigned char *r, unsigned id, int protocol_status)
{
	header(r, FCGI_END_REQUEST, id, 8);
	memset(r + HEADER_LEN, 0, 8);   /* appStatus 0 */
	r[HEADER_LEN + 4] = (unsigned char)protocol_status;
}

/* END_REQUEST for a request not served (sent at once: records are whole). */
static int
end_request(struct cx_fcgi *c, unsigned id, int protocol_status)
{
	unsigned char r[16];

	end_request_record(r, id, protocol_status);
	return write_all(c, r, sizeof(r));
}

/* ---- management records (request id 0) ---------------------------------------------- */

/* Name-value pair length: 1 byte below 128, else 4 bytes with the high bit set. */
static int
pair_len(const unsigned char *p, size_t end, size_t *i, size_t *len)
{
	if (*i >= end)
		return -1;
	if (p[*i] < 0x80) {
		*len = p[(*i)++];
		return 0;
	}
	if (end - *i < 4)
		return -1;
	*len = (size_t)(p[*i] & 0x7f) << 24 | (size_t)p[*i + 1] << 16 |
	    (size_t)p[*i + 2] << 8 | p[*i + 3];
	*i += 4;
	return 0;
}

static size_t
put_pair(unsigned char *p, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	p[0] = (unsigned char)n;
	p[1] = (unsigned char)v;
	memcpy(p + 2, name, n);
	memcpy(p + 2 + n, value, v);
	return 2 + n + v;
}

static int
get_values(struct cx_fcgi *c, const unsigned char *q, size_t qlen)
{
	static const char *const known[][2] = {
		{ "FCGI_MAX_CONNS", NULL }, { "FCGI_MAX_REQS", NULL }, { "FCGI_MPXS_CONNS", "0" },
	};
	unsigned char r[HEADER_LEN + 128];
	char max[16];
	size_t i = 0, n = HEADER_LEN;

	snprintf(max, sizeof(max), "%d", CX_FCGI_MAX_CONNS);
	while (i < qlen) {
		size_t nl, vl;

		if (pair_len(q, qlen, &i, &nl) != 0 || pair_len(q, qlen, &i, &vl) != 0 ||
		    nl > qlen - i || vl > qlen - i - nl)
			break;   /* a malformed query is answered as far as it could be read */
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strlen(known[k][0]) == nl && memcmp(known[k][0], q + i, nl) == 0 &&
			    n + 2 + nl + 16 <= sizeof(r))
				n += put_pair(r + n, known[k][0], known[k][1] ? known[k][1] : max);
		i += nl + vl;
	}
	header(r, FCGI_GET_VALUES_RESULT, 0, n - HEADER_LEN);
	return write_all(c, r, n);
}

static int
management(struct cx_fcgi *c)
{
	unsigned char body[MGMT_MAX], r[16];
	size_t len = c->rec_left;

	if (c->rec_type != FCGI_GET_VALUES) {
		header(r, FCGI_UNKNOWN_TYPE, 0, 8);
		memset(r + HEADER_LEN, 0, 8);
		r[HEADER_LEN] = (unsigned char)c->rec_type;
		return write_all(c, r, sizeof(r));
	}
	if (len > sizeof(body))
		len = 0;   /* too long to be a real query: skipped, answered empty */
	if (take(c, body, len) != 0)
		return -1;
	c->rec_left -= len;
	return get_values(c, body, len);
}

/* The next record of the request in progress, or a BEGIN_REQUEST when there is none,
 * with its content still to read (rec_left): 0. The rest of the previous record is
 * skipped first; management records on the way are answered, a BEGIN_REQUEST for a
 * second request refused, records of other requests skipped. Between requests, once
 * nothing more is buffered: 1 (the caller goes back to its poll instead of blocking). */
static int
next_record(struct cx_fcgi *c)
{
	for (;;) {
		if (take(c, NULL, c->rec_left + c->pad_left) != 0)
			return -1;
		c->rec_left = c->pad_left = 0;
		if (read_header(c) != 0)
			return -1;
		if (c->rec_id == 0) {
			if (management(c) != 0)
				return -1;
		} else if (c->rec_type == FCGI_BEGIN_REQUEST) {
			if (c->id == 0)
				return 0;
			if (c->rec_id == c->id) {   /* the same request begun twice */
				c->failed = 1;
				return -1;
			}
			if (end_request(c, c->rec_id, FCGI_CANT_MPX_CONN) != 0)
				return -1;
		} else if (c->id != 0 && c->rec_id == c->id)
			return 0;
		if (c->id == 0 && cx_fcgi_buffered(c) == 0)
			return 1;
	}
}

/* ---- the request ---------------------------------------------------------------- */

/* Decode the PARAMS stream in the arena into "name\0value\0" pairs in place: each pair
 * loses at least two bytes of lengths and gains two NULs, so the output never passes the
 * input still to decode. */
static int
parse_params(struct cx_fcgi *c)
{
	unsigned char *a = (unsigned char *)c->arena;
	size_t i = 0, o = 0, end = c->arena_len;

	c->nparams = 0;
	while (i < end) {
		size_t nl, vl;
		struct cx_fcgi_param *p;

		if (pair_len(a, end, &i, &nl) != 0 || pair_len(a, end, &i, &vl) != 0 ||
		    nl > end - i || vl > end - i - nl)
			return -1;
		if (c->nparams == c->params_cap) {
			size_t cap = c->params_cap * 2;
			struct cx_fcgi_param *np = realloc(c->params, cap * sizeof(*np));

			if (np == NULL)
				return -1;
			c->params = np;
			c->params_cap = cap;
		}
		memmove(a + o, a + i, nl);
		a[o + nl] = '\0';
		memmove(a + o + nl + 1, a + i + nl, vl);
		a[o + nl + 1 + vl] = '\0';
		p = &c->params[c->nparams++];
		p->name = (const char *)a + o;
		p->name_len = nl;
		p->value = (const char *)a + o + nl + 1;
		o += nl + vl + 2;
		i += nl + vl;
	}
	return 0;
}

/* Append the current PARAMS record's content to the arena. */
static int
add_params(struct cx_fcgi *c)
{
	size_t need = c->arena_len + c->rec_left;

	if (need > CX_FCGI_MAX_PARAMS_BYTES) {
		c->failed = 1;
		return -1;
	}
	if (need > c->arena_cap) {
		size_t cap = c->arena_cap * 2;
		char *na;

		while (cap < need)
			cap *= 2;
		if ((na = realloc(c->arena, cap)) == NULL)
			return -1;
		c->arena = na;
		c->arena_cap = cap;
	}
	if (take(c, (unsigned char *)c->arena + c->arena_len, c->rec_left) != 0)
		return -1;
	c->arena_len = need;
	c->rec_left = 0;
	return 0;
}

/* A BEGIN_REQUEST: 1 when it begins our request, 0 when it was refused, -1 on error. */
static int
begin_request(struct cx_fcgi *c)
{
	unsigned char b[8];
	int role;

	if (c->rec_left != sizeof(b)) {
		c->failed = 1;
		return -1;
	}
	if (take(c, b, sizeof(b)) != 0)
		return -1;
	c->rec_left = 0;
	role = b[0] << 8 | b[1];
	if (role != FCGI_RESPONDER) {
		if (end_request(c, c->rec_id, FCGI_UNKNOWN_ROLE) != 0)
			return -1;
		return (b[2] & FCGI_KEEP_CONN) ? 0 : -1;
	}
	c->id = c->rec_id;
	c->keep_conn = (b[2] & FCGI_KEEP_CONN) != 0;
	return 1;
}

int
cx_fcgi_accept(struct cx_fcgi *c)
{
	int r;

	new_request(c);
	if (c->fd < 0 || alloc_buffers(c) != 0)
		goto fail;
	for (;;) {
		if ((r = next_record(c)) < 0)
			goto fail;
		if (r > 0)
			return 1;
		if (c->id == 0) {
			if ((r = begin_request(c)) < 0)
				goto fail;
			if (r == 0 && cx_fcgi_buffered(c) == 0)
				return 1;
			continue;
		}
		switch (c->rec_type) {
		case FCGI_PARAMS:
			if (c->rec_left > 0) {
				if (add_params(c) != 0)
					goto fail;
				continue;
			}
			if (parse_params(c) != 0) {
				c->failed = 1;
				goto fail;
			}
			c->stdin_open = 1;
			c->out_len = HEADER_LEN;   /* the first STDOUT record's header */
			c->out_rec = 0;
			return 0;
		case FCGI_ABORT_REQUEST:   /* before it even began: just ended */
			if (end_request(c, c->id, FCGI_REQUEST_COMPLETE) != 0 || !c->keep_conn)
				goto fail;
			new_request(c);
			if (cx_fcgi_buffered(c) == 0)
				return 1;
			continue;
		case FCGI_STDIN:   /* before the end of the params */
			c->failed = 1;
			goto fail;
		default:   /* FCGI_DATA and others a responder does not read */
			continue;
		}
	}
fail:
	cx_fcgi_close(c);
	return -1;
}

const char *
cx_fcgi_param(const struct cx_fcgi *c, const char *name)
{
	size_t n = strlen(name);

	if (c->envp != NULL) {
		for (char **e = c->envp; *e != NULL; e++)
			if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
				return *e + n + 1;
		return NULL;
	}
	for (size_t i = 0; i < c->nparams; i++)
		if (c->params[i].name_len == n && memcmp(c->params[i].name, name, n) == 0)
			return c->params[i].value;
	return NULL;
}

/* Body bytes into dst (NULL: skipped) until len or the end of the body. */
static ssize_t
read_stdin(struct cx_fcgi *c, unsigned char *dst, size_t len)
{
	size_t got = 0;

	while (got < len && c->stdin_open && !c->failed) {
		if (c->rec_type == FCGI_STDIN && c->rec_left > 0) {
			size_t k = c->rec_left < len - got ? c->rec_left : len - got;

			if (take(c, dst != NULL ? dst + got : NULL, k) != 0)
				break;
			c->rec_left -= k;
			got += k;
			continue;
		}
		if (next_record(c) != 0)
			break;
		if (c->rec_type == FCGI_STDIN && c->rec_left == 0)
			c->stdin_open = 0;
		else if (c->rec_type == FCGI_ABORT_REQUEST) {
			c->aborted = 1;
			c->stdin_open = 0;
		}
		/* other records of the request (params again, data) are skipped */
	}
	if (c->failed || c->aborted) {   /* a body cut short is not handled as a whole */
		c->stdin_open = 0;
		return -1;
	}
	return (ssize_t)got;
}

ssize_t
cx_fcgi_read(struct cx_fcgi *c, void *buf, size_t len)
{
	return read_stdin(c, buf, len);
}

int
cx_fcgi_drain(struct cx_fcgi *c)
{
	while (c->stdin_open)
		if (read_stdin(c, NULL, SIZE_MAX) < 0)
			return -1;
	return c->failed ? -1 : 0;
}

/* Set the open STDOUT record's length from what was written into it. */
static void
close_record(struct cx_fcgi *c)
{
	header(c->out + c->out_rec, FCGI_STDOUT, c->id, c->out_len - c->out_rec - HEADER_LEN);
}

static int
out_reserve(struct cx_fcgi *c, size_t n)
{
	size_t cap = c->out_cap ? c->out_cap : OUT_SIZE;
	unsigned char *p;

	if (c->out_cap - c->out_len >= n)
		return 0;
	while (cap - c->out_len < n)
		cap *= 2;
	if ((p = realloc(c->out, cap)) == NULL)
		return -1;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Out of memory for a larger response: send the records built so far, and go on in the
 * buffer we have. */
static int
out_flush(struct cx_fcgi *c)
{
	size_t n = c->out_rec;   /* the records before the open one */

	if (c->out_len > c->out_rec + HEADER_LEN) {
		close_record(c);
		n = c->out_len;
	}
	if (n > 0 && write_all(c, c->out, n) != 0)
		return -1;
	c->out_rec = 0;
	c->out_len = HEADER_LEN;
	return 0;
}

int
cx_fcgi_write(struct cx_fcgi *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (c->id == 0 || c->fd < 0 || c->failed)
		return -1;
	while (len > 0) {
		size_t room = MAX_CONTENT - (c->out_len - c->out_rec - HEADER_LEN), k;

		if (room == 0) {   /* the record is full: the next one begins */
			if (out_reserve(c, HEADER_LEN) == 0) {
				close_record(c);
				c->out_rec = c->out_len;
				c->out_len += HEADER_LEN;
			} else if (out_flush(c) != 0)
				return -1;
			continue;
		}
		k = room < len ? room : len;
		if (out_reserve(c, k) != 0) {
			if (out_flush(c) != 0)
				return -1;
			if (c->out_cap - c->out_len < k)
				k = c->out_cap - c->out_len;
		}
		memcpy(c->out + c->out_len, p, k);
		c->out_len += k;
		p += k;
		len -= k;
	}
	return 0;
}

/* The response's last records after its content: the empty STDOUT and END_REQUEST. */
static int
end_response(struct cx_fcgi *c)
{
	if (c->aborted) {   /* no output for a request the peer gave up */
		c->out_rec = 0;
		c->out_len = HEADER_LEN;
	}
	if (out_reserve(c, 2 * HEADER_LEN + 8) != 0 && out_flush(c) != 0)
		return -1;   /* (the flushed buffer has room) */
	if (c->out_len > c->out_rec + HEADER_LEN) {
		close_record(c);
		c->out_rec = c->out_len;
		c->out_len += HEADER_LEN;
	}
	if (c->aborted)
		c->out_len = 0;
	else
		header(c->out + c->out_rec, FCGI_STDOUT, c->id, 0);
	end_request_record(c->out + c->out_len, c->id, FCGI_REQUEST_COMPLETE);
	c->out_len += 16;
	return write_all(c, c->out, c->out_len);
}

/* Buffers a large request or response grew are not kept for every later one. */
static void
shrink(struct cx_fcgi *c)
{
	if (c->out_cap > OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (c->arena_cap > ARENA_KEEP) {
		free(c->arena);
		c->arena = NULL;
		c->arena_cap = 0;
	}
}

int
cx_fcgi_finish(struct cx_fcgi *c)
{
	int keep = c->fd >= 0 && c->id != 0 && !c->failed && c->keep_conn;

	/* a kept connection must be in step for the next request */
	if (keep && cx_fcgi_drain(c) != 0)
		keep = 0;
	if (c->fd >= 0 && c->id != 0 && !c->failed && end_response(c) != 0)
		keep = 0;
	new_request(c);
	shrink(c);
	if (!keep) {
		cx_fcgi_close(c);
		return -1;
	}
	return 0;
}

size_t
cx_fcgi_buffered(const struct cx_fcgi *c)
{
	size_t avail = c->in_len - c->in_pos, rest = c->rec_left + c->pad_left;

	if (c->fd < 0 || c->id != 0)
		return 0;
	return avail > rest ? avail - rest : 0;
}

/* ---- listening ------------------------------------------------------------------ */

int
cx_fcgi_listen(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
