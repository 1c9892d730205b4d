/* bare-fcgi: the FastCGI ceiling -- a libfcgi responder that does nothing but answer
 * {"ok":true}, pre-forked like the cx-* programs, for bench/run.sh to compare with.
 *
 * Usage: bare-fcgi SOCKET_PATH [WORKERS [poll]]   (WORKERS defaults to the number of cores)
 * Plain mode is libfcgi's own loop: one connection at a time per worker, fine without
 * kept connections. "poll" mode serves kept connections the way lib/cx_serve.c does:
 * each worker polls the listening socket and every connection it holds, so it is the
 * ceiling for nginx with fastcgi_keep_conn on.
 * SIGTERM or SIGINT stops the workers and removes the socket. */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 256

static const char reply[] =
    "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
serve(int sock)
{
	FCGX_Request req;

	if (FCGX_InitRequest(&req, sock, 0) != 0)
		_exit(1);
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	_exit(0);
}

#define MAX_CONNS 256

/* The ceiling for kept connections: the same event loop as cx_serve, with no work. */
static void
serve_poll(int sock)
{
	static FCGX_Request conns[MAX_CONNS];
	struct pollfd fds[MAX_CONNS + 1];
	int slot[MAX_CONNS + 1];

	for (int i = 0; i < MAX_CONNS; i++)
		FCGX_InitRequest(&conns[i], -1, 0);
	while (!stopping) {
		nfds_t n = 0;

		fds[n].fd = sock;
		fds[n].events = POLLIN;
		slot[n++] = -1;
		for (int i = 0; i < MAX_CONNS; i++) {
			if (conns[i].ipcFd < 0)
				continue;
			fds[n].fd = conns[i].ipcFd;
			fds[n].events = POLLIN;
			slot[n++] = i;
		}
		if (poll(fds, n, -1) < 0)
			continue;
		for (nfds_t k = 0; k < n; k++) {
			FCGX_Request *r;
			int i;

			if (fds[k].revents == 0)
				continue;
			if (slot[k] < 0) {
				int fd = accept(sock, NULL, NULL);
				if (fd < 0)
					continue;
				for (i = 0; i < MAX_CONNS && conns[i].ipcFd >= 0; i++)
					;
				if (i == MAX_CONNS) {
					close(fd);
					continue;
				}
				conns[i].ipcFd = fd;
			} else {
				i = slot[k];
			}
			r = &conns[i];
			r->keepConnection = 1;
			if (FCGX_Accept_r(r) < 0 || r->ipcFd < 0) {
				FCGX_Free(r, 1);
				continue;
			}
			FCGX_PutStr(reply, (int)sizeof(reply) - 1, r->out);
			FCGX_Finish_r(r);
		}
	}
	_exit(0);
}

static int
parse_count(const char *s, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_WORKERS)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	pid_t pids[MAX_WORKERS];
	struct sigaction sa;
	long workers = sysconf(_SC_NPROCESSORS_ONLN);
	long i;
	int sock, use_poll = 0;

	if (argc < 2 || argc > 4 || (argc >= 3 && parse_count(argv[2], &workers) != 0) ||
	    (argc == 4 && strcmp(argv[3], "poll") != 0)) {
		fprintf(stderr, "usage: %s SOCKET_PATH [WORKERS 1-%d [poll]]\n", argv[0], MAX_WORKERS);
		return 2;
	}
	use_poll = argc == 4;
	if (workers < 1)
		workers = 1;
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;

	if (FCGX_Init() != 0) {
		fprintf(stderr, "bare-fcgi: FCGX_Init failed\n");
		return 1;
	}
	unlink(argv[1]);
	sock = FCGX_OpenSocket(argv[1], 1024);
	if (sock < 0) {
		fprintf(stderr, "bare-fcgi: cannot listen on %s\n", argv[1]);
		return 1;
	}
	/* nginx workers may run as another user (nobody when the master is root). */
	chmod(argv[1], 0666);
	if (use_poll)
		fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("bare-fcgi: fork");
			workers = i;
			stopping = 1;
			break;
		}
		if (pids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			if (use_poll)
				serve_poll(sock);
			serve(sock);
		}
	}
	fprintf(stderr, "bare-fcgi: %ld workers on %s\n", workers, argv[1]);

	/* The master only waits; a worker that dies is a bench failure, not restarted. */
	while (!stopping) {
		if (wait(NULL) < 0 && errno == ECHILD)
			break;
	}
	for (i = 0; i < workers; i++)
		kill(pids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	unlink(argv[1]);
	return 0;
}
