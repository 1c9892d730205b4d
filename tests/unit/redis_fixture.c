/* redis_fixture: start, kill, restart and stop a throwaway redis-server for tests. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_fixture.h"

#define READY_TIMEOUT_MS 10000
#define MAX_ARGS 64

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int
find_server(struct redis_fixture *f)
{
	static const char *const fallback[] = { "/usr/bin", "/usr/local/bin", "/usr/sbin" };
	const char *env = getenv("CX_TEST_REDIS_SERVER"), *path = getenv("PATH");

	if (env != NULL && *env != '\0') {
		if (!executable(env)) {
			snprintf(f->why, sizeof(f->why),
			    "CX_TEST_REDIS_SERVER=%s is not an executable file", env);
			return -1;
		}
		snprintf(f->server, sizeof(f->server), "%s", env);
		return 0;
	}
	while (path != NULL && *path != '\0') {
		size_t len = strcspn(path, ":");
		if (len > 0 && len < sizeof(f->server) - 16) {
			snprintf(f->server, sizeof(f->server), "%.*s/redis-server", (int)len, path);
			if (executable(f->server))
				return 0;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		snprintf(f->server, sizeof(f->server), "%s/redis-server", fallback[i]);
		if (executable(f->server))
			return 0;
	}
	f->server[0] = '\0';
	snprintf(f->why, sizeof(f->why),
	    "redis-server not found in PATH, /usr/bin, /usr/local/bin or /usr/sbin: these tests "
	    "need a real Redis (apt-get install redis-server, or set CX_TEST_REDIS_SERVER or "
	    "CX_TEST_REDIS_URL)");
	return -1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The last line of the server log, to explain why it did not start. */
static void
log_tail(const struct redis_fixture *f, char *out, size_t cap)
{
	char path[128], line[256];
	FILE *fp;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/redis.log", f->dir);
	fp = fopen(path, "r");
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (line[0] != '\n')
			snprintf(out, cap, "%s", line);
	fclose(fp);
	out[strcspn(out, "\n")] = '\0';
}

/* PING on the socket answers (any reply, NOAUTH included, means it is up). */
static int
answers(const struct redis_fixture *f)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	redisContext *c = redisConnectUnixWithTimeout(f->socket, tv);
	redisReply *reply = NULL;
	int ok = 0;

	if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK)
		reply = redisCommand(c, "PING");
	ok = reply != NULL;
	if (reply != NULL)
		freeReplyObject(reply);
	if (c != NULL)
		redisFree(c);
	return ok;
}

static int
spawn(struct redis_fixture *f)
{
	const char *argv[MAX_ARGS];
	char logfile[128], tail[256];
	pid_t parent = getpid(), pid;
	int n = 0, status;

	snprintf(logfile, sizeof(logfile), "%s/redis.log", f->dir);
	argv[n++] = f->server;
	argv[n++] = "--port";
	argv[n++] = "0";
	argv[n++] = "--unixsocket";
	argv[n++] = f->socket;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--daemonize";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = f->dir;
	argv[n++] = "--logfile";
	argv[n++] = logfile;
	for (size_t i = 0; f->extra != NULL && f->extra[i] != NULL && n < MAX_ARGS - 1; i++)
		argv[n++] = f->extra[i];
	argv[n] = NULL;

	pid = fork();
	if (pid < 0) {
		snprintf(f->why, sizeof(f->why), "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		/* Die with the test process, even when it crashes before its .fini. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		execv(f->server, (char *const *)argv);
		_exit(127);
	}
	f->pid = pid;
	for (int waited = 0; waited < READY_TIMEOUT_MS; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			f->pid = 0;
			log_tail(f, tail, sizeof(tail));
			snprintf(f->why, sizeof(f->why), "%s exited at start (status %d): %s",
			    f->server, WIFEXITED(status) ? WEXITSTATUS(status) : -1, tail);
			return -1;
		}
		if (answers(f))
			return 0;
		sleep_ms(10);
	}
	snprintf(f->why, sizeof(f->why), "%s did not answer PING on %s within %d ms", f->server,
	    f->socket, READY_TIMEOUT_MS);
	redis_fixture_kill(f);
	return -1;
}

int
redis_fixture_start(struct redis_fixture *f)
{
	const char *env = getenv("CX_TEST_REDIS_URL");

	f->pid = 0;
	f->external = 0;
	f->why[0] = f->dir[0] = '\0';
	if (env != NULL && *env != '\0') {
		f->external = 1;
		snprintf(f->url, sizeof(f->url), "%s", env);
		return 0;
	}
	if (find_server(f) != 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cx-redis-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		snprintf(f->why, sizeof(f->why), "mkdtemp: %s", strerror(errno));
		f->dir[0] = '\0';
		return -1;
	}
	snprintf(f->socket, sizeof(f->socket), "%s/redis.sock", f->dir);
	snprintf(f->url, sizeof(f->url), "unix:%s", f->socket);
	return spawn(f);
}

int
redis_fixture_kill(struct redis_fixture *f)
{
	int status;

	if (f->external) {
		snprintf(f->why, sizeof(f->why), "CX_TEST_REDIS_URL is set: the server is not ours to kill");
		return -1;
	}
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	f->pid = 0;
	return 0;
}

int
redis_fixture_restart(struct redis_fixture *f)
{
	if (f->external || f->dir[0] == '\0') {
		snprintf(f->why, sizeof(f->why), "no private server to restart");
		return -1;
	}
	if (f->pid > 0)
		redis_fixture_kill(f);
	return spawn(f);
}

void
redis_fixture_stop(struct redis_fixture *f)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if (f->external)
		return;
	redis_fixture_kill(f);
	if (f->dir[0] == '\0')
		return;
	d = opendir(f->dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", f->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(f->dir);
	f->dir[0] = '\0';
}
