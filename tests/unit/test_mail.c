/* Unit tests of cx_mail: template rendering, the outbox file, header injection, and SMTP
 * against a small stand-in server forked by the test on 127.0.0.1. */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cx_config.h"
#include "cx_mail.h"

static char workdir[PATH_MAX];
static char outbox[PATH_MAX + 16];
static char schema[PATH_MAX + 16];
static struct cx_config cfg;

static void
setup(void)
{
	char tmpl[] = "/tmp/cx-mail-XXXXXX";

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(workdir, sizeof(workdir), "%s", tmpl);
	snprintf(outbox, sizeof(outbox), "%s/var/outbox", workdir);
	snprintf(schema, sizeof(schema), "%s/schema", workdir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.schema_dir = (char *)CX_TEST_SRCDIR "/schema";
	cfg.mail_from = (char *)"CandidateX <no-reply@example.com>";
	cfg.mail_outbox_dir = outbox;
	cfg.smtp_port = 587;
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (strncmp(workdir, "/tmp/cx-mail-", 13) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
		(void)system(cmd);
	}
}

TestSuite(mail, .init = setup, .fini = teardown);

/* ---- helpers -------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;

	cr_assert_not_null(fp, "cannot open %s", path);
	if (getdelim(&text, &cap, '\0', fp) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(fp);
	return text;
}

/* Number of entries in the outbox; *eml gets the content of the one .eml file. */
static size_t
outbox_files(char **eml)
{
	DIR *d = opendir(outbox);
	struct dirent *de;
	size_t n = 0;
	char path[PATH_MAX * 2];

	if (eml != NULL)
		*eml = NULL;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		n++;
		cr_expect(len > 4 && strcmp(de->d_name + len - 4, ".eml") == 0,
		    "unexpected file %s in the outbox", de->d_name);
		if (eml != NULL && *eml == NULL) {
			snprintf(path, sizeof(path), "%s/%s", outbox, de->d_name);
			*eml = slurp(path);
		}
	}
	closedir(d);
	return n;
}

/* The value of header `name` (up to its CRLF, unfolded lines not joined), or NULL. */
static char *
header(const char *msg, const char *name)
{
	size_t nlen = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n");

	for (const char *line = msg; line != NULL && line < end; ) {
		const char *crlf = strstr(line, "\r\n");
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ':' && line[nlen + 1] == ' ')
			return strndup(line + nlen + 2, (size_t)(crlf - line - nlen - 2));
		line = crlf + 2;
	}
	return NULL;
}

static const char *
body_of(const char *msg)
{
	const char *sep = strstr(msg, "\r\n\r\n");

	cr_assert_not_null(sep, "no header/body separator");
	return sep + 4;
}

static void
write_template(const char *name, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/mail", schema);
	mkdir(schema, 0700);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/mail/%s.txt", schema, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ---- templates ------------------------------------------------------------ */

Test(mail, template_rendering)
{
	static const char *const vars[] = {
		"name", "Ada", "url", "https://x.test/r?t=1&u=2", "multi", "line1\nline2",
		"evil", "Hi\r\nBcc: victim@example.com", NULL,
	};
	static const struct {
		const char *tmpl;
		const char *subject;
		const char *body;
	} cases[] = {
		{ "Subject: Hello {{name}}\n\nHi {{name}}, see {{url}}.\n",
		  "Hello Ada", "Hi Ada, see https://x.test/r?t=1&u=2.\r\n" },
		{ "Subject: Spaces\n\n{{ name }} and {{name}}{{name}}\n",
		  "Spaces", "Ada and AdaAda\r\n" },
		{ "Subject: No vars\n\nPlain {single} braces } {\n",
		  "No vars", "Plain {single} braces } {\r\n" },
		{ "Subject: Body keeps newlines\n\n{{multi}}\n",
		  "Body keeps newlines", "line1\r\nline2\r\n" },
		{ "Subject: {{evil}}\n\nx\n", "HiBcc: victim@example.com", "x\r\n" },
		{ "Subject: CRLF template\r\n\r\nline a\r\nline b",
		  "CRLF template", "line a\r\nline b\r\n" },
	};

	cfg.schema_dir = schema;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };
		char *eml, *subject;

		teardown();
		cr_assert_eq(mkdir(workdir, 0700), 0);
		write_template("case", cases[i].tmpl);
		cr_assert_eq(cx_mail_send_template(&cfg, "user@example.com", "case", vars, &err),
		    CX_OK, "case %zu: %s", i, err.message);
		cr_assert_eq(outbox_files(&eml), 1, "case %zu", i);
		subject = header(eml, "Subject");
		cr_expect_str_eq(subject, cases[i].subject, "case %zu", i);
		cr_expect_str_eq(body_of(eml), cases[i].body, "case %zu", i);
		cr_expect_null(strstr(eml, "\r\nBcc:"), "case %zu", i);
		free(subject);
		free(eml);
	}
}

Test(mail, template_errors_are_internal)
{
	static const char *const vars[] = { "name", "Ada", NULL };
	static const struct { const char *tmpl; const char *why; } cases[] = {
		{ "Subject: Hi\n\nHello {{nobody}}\n", "variable without a value" },
		{ "Subject: Hi {{name}\n\nHello\n", "unclosed braces" },
		{ "Hello {{name}}\n\nno subject line\n", "no Subject line" },
		{ "Subject: Hi\nHello right away\n", "no blank line" },
		{ "", "empty file" },
	};

	cfg.schema_dir = schema;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };

		write_template("broken", cases[i].tmpl);
		cr_expect_eq(cx_mail_send_template(&cfg, "user@example.com", "broken", vars, &err),
		    CX_EINTERNAL, "%s", cases[i].why);
		cr_expect_str_eq(err.message, "Internal server error");
	}
	cr_expect_eq(outbox_files(NULL), 0, "nothing was sent");
}

Test(mail, template_names)
{
	static const char *const bad[] = {
		"../mail/welcome", "Welcome", "welcome.txt", "", "no-dash", "missing_template",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cx_error err = { 0 };
		cr_expect_eq(cx_mail_send_template(&cfg, "user@example.com", bad[i], NULL, &err),
		    CX_EINTERNAL, "template name '%s'", bad[i]);
	}
	cr_expect_eq(outbox_files(NULL), 0);
}

Test(mail, project_templates_render_completely)
{
	static const struct {
		const char *name;
		const char *const vars[12];
		const char *must[4];
	} cases[] = {
		{ "password_reset",
		  { "full_name", "Ada Lovelace", "reset_url",
		    "https://localhost:8443/reset-password?token=abc123", "expires_minutes", "60",
		    NULL },
		  { "Ada Lovelace", "https://localhost:8443/reset-password?token=abc123",
		    "60 minutes", "once" } },
		{ "welcome",
		  { "full_name", "Grace Hopper", "login_url", "https://localhost:8443/login",
		    NULL },
		  { "Grace Hopper", "https://localhost:8443/login", NULL } },
		{ "password_changed",
		  { "full_name", "Alan Turing", "changed_at", "2025-01-01T10:00:00.000Z",
		    "forgot_url", "https://localhost:8443/forgot-password", NULL },
		  { "Alan Turing", "2025-01-01T10:00:00.000Z",
		    "https://localhost:8443/forgot-password", "wasn't you" } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cx_error err = { 0 };
		char *eml, *subject;

		teardown();
		cr_assert_eq(mkdir(workdir, 0700), 0);
		cr_assert_eq(cx_mail_send_template(&cfg, "user@example.com", cases[i].name,
		    cases[i].vars, &err), CX_OK, "%s: %s", cases[i].name, err.message);
		cr_assert_eq(outbox_files(&eml), 1);
		subject = header(eml, "Subject");
		cr_expect(subject != NULL && strlen(subject) > 5, "%s has a subject",
		    cases[i].name);
		cr_expect_null(strstr(eml, "{{"), "%s left a placeholder", cases[i].name);
		for (size_t j = 0; j < 4 && cases[i].must[j] != NULL; j++)
			cr_expect_not_null(strstr(body_of(eml), cases[i].must[j]), "%s lacks '%s'",
			    cases[i].name, cases[i].must[j]);
		free(subject);
		free(eml);
	}
}

Test(mail, reset_mail_says_to_ignore_if_not_requested)
{
	static const char *const vars[] = { "full_name", "Ada", "reset_url", "https://x/r",
		"expires_minutes", "15", NULL };
	struct cx_error err = { 0 };
	char *eml;

	cr_assert_eq(cx_mail_send_template(&cfg, "ada@example.com", "password_reset", vars, &err),
	    CX_OK, "%s", err.message);
	cr_assert_eq(outbox_files(&eml), 1);
	cr_expect_not_null(strstr(eml, "ignore"));
	cr_expect_not_null(strstr(eml, "15 minutes"));
	free(eml);
}

/* ---- outbox --------------------------------------------------------------- */

Test(mail, outbox_message_is_complete_rfc5322)
{
	struct cx_error err = { 0 };
	struct stat st;
	char *eml, *v;

	cr_assert_eq(cx_mail_send(&cfg, "candidate@example.org", "Your interview",
	    "Line one\nLine two\n\n.leading dot\n", &err), CX_OK, "%s", err.message);
	cr_assert_eq(stat(outbox, &st), 0, "outbox created");
	cr_expect_eq(st.st_mode & 0777, 0700);
	cr_assert_eq(outbox_files(&eml), 1, "one .eml, no .tmp left");

	v = header(eml, "Date");
	cr_assert_not_null(v);
	cr_expect_eq(strlen(v), strlen("Tue, 25 Nov 2025 19:04:00 +0000"), "Date: %s", v);
	cr_expect_str_eq(v + strlen(v) - 5, "+0000");
	free(v);
	v = header(eml, "From");
	cr_expect_str_eq(v, "CandidateX <no-reply@example.com>");
	free(v);
	v = header(eml, "To");
	cr_expect_str_eq(v, "candidate@example.org");
	free(v);
	v = header(eml, "Subject");
	cr_expect_str_eq(v, "Your interview");
	free(v);
	v = header(eml, "Message-ID");
	cr_assert_not_null(v);
	cr_expect_eq(v[0], '<');
	cr_expect_not_null(strstr(v, "@example.com>"));
	free(v);
	v = header(eml, "MIME-Version");
	cr_expect_str_eq(v, "1.0");
	free(v);
	v = header(eml, "Content-Type");
	cr_expect_str_eq(v, "text/plain; charset=UTF-8");
	free(v);
	v = header(eml, "Content-Transfer-Encoding");
	cr_expect_str_eq(v, "8bit");
	free(v);
	cr_expect_str_eq(body_of(eml), "Line one\r\nLine two\r\n\r\n.leading dot\r\n");
	for (const char *p = eml; *p != '\0'; p++)
		if (*p == '\n')
			cr_assert(p > eml && p[-1] == '\r', "bare LF at offset %td", p - eml);
	free(eml);
}

Test(mail, two_messages_two_files)
{
	struct cx_error err = { 0 };

	cr_assert_eq(cx_mail_send(&cfg, "a@example.com", "One", "1", &err), CX_OK);
	cr_assert_eq(cx_mail_send(&cfg, "a@example.com", "Two", "2", &err), CX_OK);
	cr_expect_eq(outbox_files(NULL), 2);
}

Test(mail, non_ascii_subject_is_encoded)
{
	struct cx_error err = { 0 };
	char *eml, *v;
	const char *p, *end;
	char subject[300];

	cr_assert_eq(cx_mail_send(&cfg, "a@example.com", "Résumé prêt", "Bonjour", &err), CX_OK);
	cr_assert_eq(outbox_files(&eml), 1);
	v = header(eml, "Subject");
	cr_expect_str_eq(v, "=?UTF-8?B?UsOpc3Vtw6kgcHLDqnQ=?=");
	free(v);
	free(eml);
	teardown();
	cr_assert_eq(mkdir(workdir, 0700), 0);

	/* A long one is split into several encoded words on folded lines of < 78 chars. */
	for (size_t i = 0, len = 0; i < 20; i++)
		len += (size_t)snprintf(subject + len, sizeof(subject) - len, "Entretien é ");
	cr_assert_eq(cx_mail_send(&cfg, "a@example.com", subject, "x", &err), CX_OK);
	cr_assert_eq(outbox_files(&eml), 1);
	p = strstr(eml, "\r\nSubject: ") + 2;
	end = strstr(p, "\r\nMessage-ID:");
	cr_assert_not_null(end);
	for (const char *line = p; line < end; ) {
		const char *crlf = strstr(line, "\r\n");
		cr_expect_lt(crlf - line, 78, "line too long: %.*s", (int)(crlf - line), line);
		cr_expect_not_null(strstr(line, "=?UTF-8?B?"));
		line = crlf + 2;
		if (line < end)
			cr_expect_eq(line[0], ' ', "continuation lines are folded");
	}
	free(eml);
}

Test(mail, header_injection_refused)
{
	static const char *const bad[] = {
		"a@example.com\r\nBcc: victim@example.com",
		"a@example.com\nBcc: victim@example.com",
		"a@example.com\r",
		"a@example.com, b@example.com",
		"a@example.com b@example.com",
		"a@example.com;b@example.com",
		"Alice <a@example.com>",
		"<a@example.com>",
		"\"a\"@example.com",
		"",
		"plainaddress",
		"a@",
		"@example.com",
		"a@@example.com",
		"a@example..com",
		".a@example.com",
		"a.@example.com",
		"a@exa_mple.com",
		"á@example.com",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cx_error err = { 0 };
		cr_expect_eq(cx_mail_send(&cfg, bad[i], "Hello", "body", &err), CX_EVALIDATION,
		    "to '%s' accepted", bad[i]);
		cr_expect_str_eq(err.field, "to");
	}
	{
		struct cx_error err = { 0 };
		cr_expect_eq(cx_mail_send(&cfg, NULL, "Hello", "body", &err), CX_EVALIDATION);
	}
	cr_expect_eq(outbox_files(NULL), 0, "nothing written for a refused recipient");
}

Test(mail, subject_cannot_add_headers)
{
	struct cx_error err = { 0 };
	char *eml, *v;

	cr_assert_eq(cx_mail_send(&cfg, "a@example.com", "Hi\r\nBcc: victim@example.com\n",
	    "body", &err), CX_OK);
	cr_assert_eq(outbox_files(&eml), 1);
	cr_expect_null(strstr(eml, "\r\nBcc:"));
	v = header(eml, "Subject");
	cr_expect_str_eq(v, "Hi  Bcc: victim@example.com ");
	free(v);
	free(eml);
}

Test(mail, unwritable_outbox_is_internal)
{
	struct cx_error err = { 0 };
	char file[PATH_MAX * 2];

	/* The outbox path is a regular file, so it cannot be created as a folder. */
	snprintf(file, sizeof(file), "%s/not-a-dir", workdir);
	fclose(fopen(file, "w"));
	cfg.mail_outbox_dir = file;
	cr_expect_eq(cx_mail_send(&cfg, "a@example.com", "x", "y", &err), CX_EINTERNAL);
}

/* ---- SMTP stand-in -------------------------------------------------------- */

struct stub {
	pid_t pid;
	int port;
	char transcript[PATH_MAX * 2];
};

static void
say(int fd, const char *line)
{
	size_t len = strlen(line);

	if (write(fd, line, len) != (ssize_t)len)
		_exit(3);
}

/* Serve one SMTP session: `rcpt_reply` answers RCPT TO; `auth` advertises AUTH PLAIN. */
static void
stub_serve(int lfd, const char *transcript, const char *rcpt_reply, int auth)
{
	char line[2048];
	int fd;
	FILE *in, *log;

	alarm(20);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	in = fdopen(dup(fd), "r");
	log = fopen(transcript, "w");
	if (in == NULL || log == NULL)
		_exit(2);
	say(fd, "220 stub ESMTP ready\r\n");
	while (fgets(line, sizeof(line), in) != NULL) {
		fputs(line, log);
		if (strncasecmp(line, "EHLO", 4) == 0) {
			say(fd, "250-stub greets you\r\n");
			if (auth)
				say(fd, "250-AUTH PLAIN LOGIN\r\n");
			say(fd, "250 8BITMIME\r\n");
		} else if (strncasecmp(line, "HELO", 4) == 0) {
			say(fd, "250 stub\r\n");
		} else if (strncasecmp(line, "AUTH", 4) == 0) {
			/* "AUTH PLAIN" alone: ask for the credentials on the next line. */
			if (strcasecmp(line, "AUTH PLAIN\r\n") == 0) {
				say(fd, "334 \r\n");
				if (fgets(line, sizeof(line), in) == NULL)
					break;
				fputs(line, log);
			}
			say(fd, "235 2.7.0 Authentication successful\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			say(fd, "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			say(fd, rcpt_reply);
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			say(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
			while (fgets(line, sizeof(line), in) != NULL) {
				fputs(line, log);
				if (strcmp(line, ".\r\n") == 0)
					break;
			}
			say(fd, "250 2.0.0 Ok: queued\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(fd, "221 2.0.0 Bye\r\n");
			break;
		} else if (strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0) {
			say(fd, "250 Ok\r\n");
		} else {
			say(fd, "502 5.5.2 Command not recognized\r\n");
		}
		fflush(log);
	}
	fclose(log);
	fclose(in);
	close(fd);
	_exit(0);
}

static void
stub_start(struct stub *s, const char *rcpt_reply, int auth)
{
	struct sockaddr_in addr = { 0 };
	socklen_t alen = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(lfd, 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	cr_assert_eq(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
	s->port = ntohs(addr.sin_port);
	snprintf(s->transcript, sizeof(s->transcript), "%s/smtp-transcript.txt", workdir);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0)
		stub_serve(lfd, s->transcript, rcpt_reply, auth);
	close(lfd);
}

static char *
stub_finish(struct stub *s)
{
	int status = 0;

	cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "stub exit status %d", status);
	return slurp(s->transcript);
}

Test(mail, smtp_delivers_message)
{
	struct stub s;
	struct cx_error err = { 0 };
	char *got;

	stub_start(&s, "250 2.1.5 Ok\r\n", 0);
	cfg.smtp_server = (char *)"127.0.0.1";
	cfg.smtp_port = s.port;
	cr_assert_eq(cx_mail_send(&cfg, "candidate@example.org", "Interview scheduled",
	    "Hello,\nsee you tomorrow.\n.\nBye\n", &err), CX_OK, "%s", err.message);
	got = stub_finish(&s);
	cr_expect_not_null(strstr(got, "MAIL FROM:<no-reply@example.com>"), "%s", got);
	cr_expect_not_null(strstr(got, "RCPT TO:<candidate@example.org>"), "%s", got);
	cr_expect_not_null(strstr(got, "\r\nSubject: Interview scheduled\r\n"), "%s", got);
	cr_expect_not_null(strstr(got, "\r\nTo: candidate@example.org\r\n"), "%s", got);
	cr_expect_not_null(strstr(got, "\r\n\r\nHello,\r\nsee you tomorrow.\r\n"), "%s", got);
	/* A body line of a single dot is escaped so it does not end the message. */
	cr_expect_not_null(strstr(got, "tomorrow.\r\n..\r\nBye\r\n.\r\n"), "%s", got);
	cr_expect_null(strstr(got, "AUTH"), "no credentials configured");
	cr_expect_eq(outbox_files(NULL), 0, "SMTP mode does not write the outbox");
	free(got);
}

Test(mail, smtp_authenticates_on_loopback_without_tls)
{
	struct stub s;
	struct cx_error err = { 0 };
	char *got;

	stub_start(&s, "250 2.1.5 Ok\r\n", 1);
	cfg.smtp_server = (char *)"127.0.0.1";
	cfg.smtp_port = s.port;
	cfg.smtp_username = (char *)"mailer";
	cfg.smtp_password = (char *)"pw";
	cr_assert_eq(cx_mail_send_template(&cfg, "grace@example.org", "welcome",
	    (const char *const[]){ "full_name", "Grace", "login_url", "https://l/login", NULL },
	    &err), CX_OK, "%s", err.message);
	got = stub_finish(&s);
	cr_expect_not_null(strstr(got, "AUTH PLAIN"), "%s", got);
	cr_expect_not_null(strstr(got, "RCPT TO:<grace@example.org>"), "%s", got);
	cr_expect_not_null(strstr(got, "Hello Grace,"), "%s", got);
	free(got);
}

Test(mail, smtp_rejection_is_service_unavailable)
{
	struct stub s;
	struct cx_error err = { 0 };
	char *got;

	stub_start(&s, "554 5.7.1 Relay access denied\r\n", 0);
	cfg.smtp_server = (char *)"127.0.0.1";
	cfg.smtp_port = s.port;
	cr_expect_eq(cx_mail_send(&cfg, "a@example.com", "x", "y", &err), CX_EUNAVAIL);
	cr_expect_str_eq(err.message, "Mail service unavailable");
	got = stub_finish(&s);
	cr_expect_null(strstr(got, "DATA"), "no DATA after a refused recipient: %s", got);
	free(got);
}

Test(mail, smtp_unreachable_is_service_unavailable)
{
	struct sockaddr_in addr = { 0 };
	socklen_t alen = sizeof(addr);
	struct cx_error err = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* A port that was just free and has no listener. */
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
	close(fd);
	cfg.smtp_server = (char *)"127.0.0.1";
	cfg.smtp_port = ntohs(addr.sin_port);
	cr_expect_eq(cx_mail_send(&cfg, "a@example.com", "x", "y", &err), CX_EUNAVAIL);
	cr_expect_str_eq(err.message, "Mail service unavailable");
}
