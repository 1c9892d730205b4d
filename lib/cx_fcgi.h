/* cx_fcgi: the responder side of one FastCGI connection, in place of libfcgi: reads a
 * request's records into buffers the connection keeps from one request to the next,
 * finds its params by name, reads its body on demand and writes the whole response at
 * the end, in one write. One request at a time per connection (FCGI_MPXS_CONNS 0). */
#ifndef CX_FCGI_H
#define CX_FCGI_H

#include <stddef.h>
#include <sys/types.h>

/* Connections one worker keeps open (cx_serve); also what FCGI_GET_VALUES answers for
 * FCGI_MAX_CONNS and FCGI_MAX_REQS. */
#define CX_FCGI_MAX_CONNS 256
/* Seconds a read or write of an accepted socket may wait for the peer before the
 * connection is given up (SO_RCVTIMEO/SO_SNDTIMEO). */
#define CX_FCGI_TIMEOUT_S 30
/* Bytes of params one request may carry (nginx sends a few KB). */
#define CX_FCGI_MAX_PARAMS_BYTES (1024 * 1024)

struct cx_fcgi_param {
	const char *name;            /* NUL-terminated, in the connection's arena */
	const char *value;
	size_t name_len;
};

/* Zero-initialised state is not valid: start with cx_fcgi_init. Buffers are allocated
 * on the first request and kept across requests and connections (cx_fcgi_free frees
 * them). */
struct cx_fcgi {
	int fd;                      /* the connection, -1 when none */
	/* Tests and fuzz targets: params from this NULL-terminated "NAME=value" list
	 * instead of a connection. */
	char **envp;
	/* the request in progress (id 0: none) */
	unsigned id;
	int keep_conn;               /* FCGI_KEEP_CONN: the peer keeps the connection */
	int stdin_open;              /* the empty FCGI_STDIN record has not been read yet */
	int aborted;                 /* FCGI_ABORT_REQUEST arrived: no output is sent */
	int failed;                  /* the connection broke: it is closed at the end */
	struct cx_fcgi_param *params;
	size_t nparams, params_cap;
	char *arena;                 /* the PARAMS stream, then "name\0value\0" pairs */
	size_t arena_len, arena_cap;
	/* input read but not used yet, and the rest of the current record */
	unsigned char *in;
	size_t in_pos, in_len, in_cap;
	int rec_type;
	unsigned rec_id;
	size_t rec_left, pad_left;
	/* output: FCGI_STDOUT records being built; out_rec is the open record's header */
	unsigned char *out;
	size_t out_len, out_cap, out_rec;
};

void cx_fcgi_init(struct cx_fcgi *c);
/* Take an accepted socket (blocking; its reads and writes get CX_FCGI_TIMEOUT_S). */
void cx_fcgi_attach(struct cx_fcgi *c, int fd);
/* Read the next request up to the end of its params, blocking; management records and
 * requests that cannot be served on the way are answered. 0 when a request is ready; 1
 * when there is none yet and nothing more is buffered (poll the socket again); -1 once
 * the connection is closed (the peer closed it, broke the protocol, or stalled). */
int cx_fcgi_accept(struct cx_fcgi *c);
/* The request's param (borrowed until the request ends), or NULL. */
const char *cx_fcgi_param(const struct cx_fcgi *c, const char *name);
/* Read up to len bytes of the request's body (FCGI_STDIN), blocking; fewer only at the
 * end of the body. 0 at its end (or with no request), -1 when the connection broke or
 * the peer aborted the request (FCGI_ABORT_REQUEST). */
ssize_t cx_fcgi_read(struct cx_fcgi *c, void *buf, size_t len);
/* Read and discard the rest of the body. 0, or -1 when the connection broke. */
int cx_fcgi_drain(struct cx_fcgi *c);
/* Append to the response (FCGI_STDOUT); sent by cx_fcgi_finish. 0, or -1 when there is
 * no request or the connection broke. */
int cx_fcgi_write(struct cx_fcgi *c, const void *data, size_t len);
/* End the request: write the response, the empty FCGI_STDOUT and FCGI_END_REQUEST at
 * once. Returns 0 while the connection stays open (FCGI_KEEP_CONN), -1 once closed. */
int cx_fcgi_finish(struct cx_fcgi *c);
/* Bytes already read past the current request (the next one, sent early): a poll on the
 * socket does not see them. */
size_t cx_fcgi_buffered(const struct cx_fcgi *c);
/* Close the connection (the buffers are kept for the next one). */
void cx_fcgi_close(struct cx_fcgi *c);
/* Close and free everything. */
void cx_fcgi_free(struct cx_fcgi *c);

/* A unix socket listening at path (backlog 1024), or -1 with errno set. */
int cx_fcgi_listen(const char *path);

#endif
