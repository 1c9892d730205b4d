/* Fuzz target: cx_fcgi reading a FastCGI connection whose peer sent the input and then
 * closed its side; every request found is read whole and answered, as cx_serve does. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cx_fcgi.h"

#define MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The peer reads every answer, so none of our writes waits on it. */
static void *
peer_reader(void *arg)
{
	int fd = *(int *)arg;
	char sink[65536];

	while (recv(fd, sink, sizeof(sink), 0) > 0)
		;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cx_fcgi c;   /* buffers kept from one input to the next, as per slot */
	static int ready;
	static const char head[] = "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n";
	char body[4096];
	pthread_t reader;
	int sv[2];

	if (!ready) {
		cx_fcgi_init(&c);
		signal(SIGPIPE, SIG_IGN);
		ready = 1;
	}
	if (size > MAX_INPUT || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	if (write(sv[1], data, size) != (ssize_t)size || shutdown(sv[1], SHUT_WR) != 0 ||
	    pthread_create(&reader, NULL, peer_reader, &sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	cx_fcgi_attach(&c, sv[0]);
	for (;;) {
		const char *method;
		ssize_t n;
		int r = cx_fcgi_accept(&c);

		if (r < 0)
			break;
		if (r > 0)
			continue;   /* nothing buffered: the next accept reads (or meets the end) */
		method = cx_fcgi_param(&c, "REQUEST_METHOD");
		cx_fcgi_param(&c, "HTTP_COOKIE");
		while ((n = cx_fcgi_read(&c, body, sizeof(body))) > 0)
			;
		cx_fcgi_write(&c, head, sizeof(head) - 1);
		if (method != NULL)
			cx_fcgi_write(&c, method, strlen(method));
		if (cx_fcgi_finish(&c) < 0)
			break;
	}
	cx_fcgi_close(&c);   /* the reader meets the end */
	pthread_join(reader, NULL);
	close(sv[1]);
	return 0;
}
