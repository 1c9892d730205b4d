/* cx_mail: templates from schema/mail/, RFC 5322 messages, outbox files or SMTP. */
#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cx_buf.h"
#include "cx_config.h"
#include "cx_crypto.h"
#include "cx_log.h"
#include "cx_mail.h"
#include "cx_time.h"

#define MAX_TEMPLATE_BYTES (64 * 1024)
#define MAX_TEMPLATE_NAME 64
#define MAX_VAR_NAME 64
#define MAX_ADDRESS 254
#define MAX_SUBJECT 900
#define MAX_MESSAGE_BYTES (1024 * 1024)

/* ---- addresses ------------------------------------------------------------ */

static int
atext(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* 1 if s is exactly one plain address local@domain (ASCII, no display name, no
 * whitespace, no CR/LF), so it is safe in a header and in RCPT TO. */
static int
address_valid(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len), *p, *end = s + len;
	size_t label = 0;

	if (len < 3 || len > MAX_ADDRESS || at == NULL || at == s || at == end - 1)
		return 0;
	if (s[0] == '.' || at[-1] == '.')
		return 0;
	for (p = s; p < at; p++) {
		if (*p == '.' ? p[1] == '.' : !atext((unsigned char)*p))
			return 0;
	}
	for (p = at + 1; p < end; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* The bare address of MAIL_FROM ("Name <a@b>" or "a@b") into out. */
static int
from_address(const char *from, char *out, size_t cap)
{
	const char *lt = strrchr(from, '<'), *gt;
	size_t len;

	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL)
			return -1;
		lt++;
		len = (size_t)(gt - lt);
	} else {
		lt = from;
		len = strlen(from);
	}
	if (!address_valid(lt, len) || len >= cap)
		return -1;
	memcpy(out, lt, len);
	out[len] = '\0';
	return 0;
}

/* ---- templates ------------------------------------------------------------ */

static int
template_name_valid(const char *name)
{
	size_t len = 0;

	for (; name[len] != '\0'; len++)
		if (!(name[len] >= 'a' && name[len] <= 'z') && name[len] != '_')
			return 0;
	return len > 0 && len <= MAX_TEMPLATE_NAME;
}

static const char *
lookup_var(const char *const *vars, const char *name, size_t len)
{
	for (size_t i = 0; vars != NULL && vars[i] != NULL && vars[i + 1] != NULL; i += 2)
		if (strlen(vars[i]) == len && memcmp(vars[i], name, len) == 0)
			return vars[i + 1];
	return NULL;
}

/* Replace every {{name}} of text[0..len) with its value. In headers (`header` 1) CR and
 * LF of values are dropped. A missing variable or an unclosed {{ is a template bug. */
static int
render(const char *tmpl_name, const char *text, size_t len, const char *const *vars,
    int header, struct cx_buf *out, struct cx_error *err)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *open = memmem(p, (size_t)(end - p), "{{", 2), *close, *name, *value;
		size_t nlen;

		if (open == NULL) {
			cx_buf_add(out, p, (size_t)(end - p));
			break;
		}
		cx_buf_add(out, p, (size_t)(open - p));
		close = memmem(open + 2, (size_t)(end - open - 2), "}}", 2);
		if (close == NULL)
			return cx_error_internal(err, "mail template %s: unclosed {{", tmpl_name);
		name = open + 2;
		while (name < close && *name == ' ')
			name++;
		nlen = (size_t)(close - name);
		while (nlen > 0 && name[nlen - 1] == ' ')
			nlen--;
		value = lookup_var(vars, name, nlen);
		if (value == NULL)
			return cx_error_internal(err, "mail template %s: no value for {{%.*s}}",
			    tmpl_name, (int)(nlen < MAX_VAR_NAME ? nlen : MAX_VAR_NAME), name);
		for (const char *v = value; *v != '\0'; v++)
			if (!header || (*v != '\r' && *v != '\n'))
				cx_buf_add(out, v, 1);
		p = close + 2;
	}
	return CX_OK;
}

/* Read schema_dir/mail/<name>.txt into a buffer (CR removed). */
static int
read_template(const struct cx_config *cfg, const char *name, struct cx_buf *text,
    struct cx_error *err)
{
	char path[PATH_MAX], chunk[4096];
	FILE *fp = NULL;
	size_t n;
	int rc = CX_OK;

	if (cfg->schema_dir == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/mail/%s.txt", cfg->schema_dir, name) >=
	    sizeof(path))
		return cx_error_internal(err, "mail template %s: no schema folder", name);
	fp = fopen(path, "re");
	if (fp == NULL)
		return cx_error_internal(err, "mail template %s: cannot open %s: %s", name, path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (chunk[i] != '\r')
				cx_buf_add(text, &chunk[i], 1);
		if (text->len > MAX_TEMPLATE_BYTES) {
			rc = cx_error_internal(err, "mail template %s is too large", name);
			goto out;
		}
	}
	if (ferror(fp))
		rc = cx_error_internal(err, "mail template %s: read error", name);
	else if (text->failed)
		rc = cx_error_internal(err, "out of memory");
out:
	fclose(fp);
	return rc;
}

int
cx_mail_send_template(const struct cx_config *cfg, const char *to, const char *template_name,
    const char *const *vars, struct cx_error *err)
{
	struct cx_buf text = { 0 }, subject = { 0 }, body = { 0 };
	const char *nl, *body_start;
	int rc;

	if (template_name == NULL || !template_name_valid(template_name)) {
		rc = cx_error_internal(err, "invalid mail template name");
		goto out;
	}
	if ((rc = read_template(cfg, template_name, &text, err)) != CX_OK)
		goto out;
	nl = text.data != NULL ? strchr(text.data, '\n') : NULL;
	if (nl == NULL || strncmp(text.data, "Subject: ", 9) != 0 || nl[1] != '\n') {
		rc = cx_error_internal(err, "mail template %s: expected \"Subject: ...\", then a "
		    "blank line", template_name);
		goto out;
	}
	body_start = nl + 2;
	if ((rc = render(template_name, text.data + 9, (size_t)(nl - text.data - 9), vars, 1,
	    &subject, err)) != CX_OK)
		goto out;
	if ((rc = render(template_name, body_start, text.len - (size_t)(body_start - text.data),
	    vars, 0, &body, err)) != CX_OK)
		goto out;
	if (subject.failed || body.failed) {
		rc = cx_error_internal(err, "out of memory");
		goto out;
	}
	rc = cx_mail_send(cfg, to, subject.data ? subject.data : "", body.data ? body.data : "",
	    err);
out:
	free(text.data);
	free(subject.data);
	free(body.data);
	return rc;
}

/* ---- message -------------------------------------------------------------- */

/* Subject header value: as is when ASCII, else RFC 2047 encoded words (base64, at most
 * 39 input bytes per word so every folded line stays under 78 characters, split on
 * UTF-8 boundaries). */
static void
put_subject(struct cx_buf *msg, const char *subject)
{
	size_t len = strlen(subject), pos = 0;
	int ascii = 1;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)subject[i] >= 0x80)
			ascii = 0;
	cx_buf_str(msg, "Subject: ");
	if (ascii) {
		cx_buf_str(msg, subject);
		cx_buf_str(msg, "\r\n");
		return;
	}
	while (pos < len) {
		unsigned char enc[64];
		size_t n = len - pos > 39 ? 39 : len - pos;
		while (pos + n < len && n > 0 && ((unsigned char)subject[pos + n] & 0xc0) == 0x80)
			n--;
		if (n == 0)
			n = len - pos > 39 ? 39 : len - pos;
		EVP_EncodeBlock(enc, (const unsigned char *)subject + pos, (int)n);
		cx_buf_printf(msg, "%s=?UTF-8?B?%s?=", pos ? "\r\n " : "", (const char *)enc);
		pos += n;
	}
	cx_buf_str(msg, "\r\n");
}

static void
put_date(struct cx_buf *msg, time_t now)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&now, &tm);
	cx_buf_printf(msg, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The whole RFC 5322 message with CRLF line ends. */
static int
build_message(const struct cx_config *cfg, const char *from_addr, const char *to,
    const char *subject, const char *body, struct cx_buf *msg, struct cx_error *err)
{
	unsigned char rnd[16];
	char hex[33], clean[MAX_SUBJECT + 1];
	const char *domain = strchr(from_addr, '@') + 1;
	size_t n = 0;

	for (const char *s = subject; *s != '\0' && n < MAX_SUBJECT; s++)
		clean[n++] = (*s == '\r' || *s == '\n' || *s == '\t') ? ' ' : *s;
	if (subject[n] != '\0') {
		while (n > 0 && ((unsigned char)subject[n] & 0xc0) == 0x80)
			n--;
	}
	clean[n] = '\0';
	if (cx_random_bytes(rnd, sizeof(rnd)) != 0)
		return cx_error_internal(err, "no random bytes for Message-ID");
	cx_hex_encode(rnd, sizeof(rnd), hex);
	put_date(msg, time(NULL));
	cx_buf_printf(msg, "From: %s\r\n", cfg->mail_from);
	cx_buf_printf(msg, "To: %s\r\n", to);
	put_subject(msg, clean);
	cx_buf_printf(msg, "Message-ID: <%s@%s>\r\n", hex, domain);
	cx_buf_str(msg, "MIME-Version: 1.0\r\n");
	cx_buf_str(msg, "Content-Type: text/plain; charset=UTF-8\r\n");
	cx_buf_str(msg, "Content-Transfer-Encoding: 8bit\r\n");
	cx_buf_str(msg, "\r\n");
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			cx_buf_add(msg, "\r\n", 2);
		else
			cx_buf_add(msg, p, 1);
	}
	if (msg->len < 2 || memcmp(msg->data + msg->len - 2, "\r\n", 2) != 0)
		cx_buf_add(msg, "\r\n", 2);
	if (msg->failed || msg->len > MAX_MESSAGE_BYTES)
		return cx_error_internal(err, "mail message too large or out of memory");
	return CX_OK;
}

/* ---- outbox --------------------------------------------------------------- */

static int
mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -1;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		path[i] = i < len ? '/' : '\0';
	}
	return 0;
}

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
outbox_write(const struct cx_config *cfg, const struct cx_buf *msg, struct cx_error *err)
{
	char tmp[PATH_MAX], final[PATH_MAX], hex[17];
	unsigned char rnd[8];
	int64_t ms = cx_time_now_ms();
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	int fd = -1, dfd = -1, rc = CX_OK;
	const char *dir = cfg->mail_outbox_dir;

	if (dir == NULL || *dir == '\0' || mkdir_p(dir) != 0)
		return cx_error_internal(err, "mail outbox %s: %s", dir ? dir : "(unset)",
		    strerror(errno));
	if (cx_random_bytes(rnd, sizeof(rnd)) != 0)
		return cx_error_internal(err, "no random bytes for the outbox file name");
	cx_hex_encode(rnd, sizeof(rnd), hex);
	gmtime_r(&secs, &tm);
	if ((size_t)snprintf(final, sizeof(final), "%s/%04d%02d%02dT%02d%02d%02d%03dZ-%s.eml",
	    dir, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(ms % 1000), hex) >= sizeof(final) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", final) >= sizeof(tmp))
		return cx_error_internal(err, "mail outbox path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = cx_error_internal(err, "mail outbox: cannot create %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (write_all(fd, msg->data, msg->len) != 0 || fsync(fd) != 0) {
		rc = cx_error_internal(err, "mail outbox: cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = cx_error_internal(err, "mail outbox: cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, final) != 0) {
		rc = cx_error_internal(err, "mail outbox: cannot rename %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	/* Make the rename itself durable. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	cx_logf(CX_LOG_INFO, "mail: written to outbox %s", final);
out:
	if (fd >= 0)
		close(fd);
	if (rc != CX_OK)
		unlink(tmp);
	return rc;
}

/* ---- SMTP ----------------------------------------------------------------- */

struct reader {
	const char *data;
	size_t len, pos;
};

static size_t
read_message(char *dst, size_t size, size_t nitems, void *userdata)
{
	struct reader *r = userdata;
	size_t n = size * nitems;

	if (n > r->len - r->pos)
		n = r->len - r->pos;
	memcpy(dst, r->data + r->pos, n);
	r->pos += n;
	return n;
}

static int
is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	    strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

static int
smtp_send(const struct cx_config *cfg, const char *from_addr, const char *to,
    const struct cx_buf *msg, struct cx_error *err)
{
	CURL *curl = NULL;
	struct curl_slist *rcpt = NULL;
	struct reader reader = { msg->data, msg->len, 0 };
	char url[512], envelope_from[MAX_ADDRESS + 3], envelope_to[MAX_ADDRESS + 3];
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *host = cfg->smtp_server;
	int v6 = strchr(host, ':') != NULL && host[0] != '[';
	int port = cfg->smtp_port > 0 ? cfg->smtp_port : 587;
	int auth = cfg->smtp_username != NULL && *cfg->smtp_username != '\0';
	CURLcode res;
	int rc = CX_OK;

	snprintf(url, sizeof(url), "%s://%s%s%s:%d", port == 465 ? "smtps" : "smtp",
	    v6 ? "[" : "", host, v6 ? "]" : "", port);
	snprintf(envelope_from, sizeof(envelope_from), "<%s>", from_addr);
	snprintf(envelope_to, sizeof(envelope_to), "<%s>", to);
	if ((curl = curl_easy_init()) == NULL ||
	    (rcpt = curl_slist_append(NULL, envelope_to)) == NULL) {
		rc = cx_error_internal(err, "mail: cannot initialise libcurl");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope_from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
	curl_easy_setopt(curl, CURLOPT_USE_SSL,
	    (long)(auth && !is_loopback(host) ? CURLUSESSL_ALL : CURLUSESSL_TRY));
	if (auth) {
		curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_username);
		curl_easy_setopt(curl, CURLOPT_PASSWORD,
		    cfg->smtp_password != NULL ? cfg->smtp_password : "");
	}
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	res = curl_easy_perform(curl);
	if (res != CURLE_OK) {
		cx_logf(CX_LOG_WARN, "mail: SMTP via %s:%d failed: %s%s%s", host, port,
		    curl_easy_strerror(res), *errbuf ? ": " : "", errbuf);
		rc = cx_error_set(err, CX_EUNAVAIL, "Mail service unavailable");
		goto out;
	}
	cx_logf(CX_LOG_INFO, "mail: sent via SMTP %s:%d", host, port);
out:
	curl_slist_free_all(rcpt);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return rc;
}

int
cx_mail_send(const struct cx_config *cfg, const char *to, const char *subject,
    const char *body, struct cx_error *err)
{
	struct cx_buf msg = { 0 };
	char from_addr[MAX_ADDRESS + 1];
	int rc;

	if (to == NULL || !address_valid(to, strlen(to))) {
		rc = cx_error_field(err, "to", "must be a single email address");
		goto out;
	}
	if (cfg->mail_from == NULL || strpbrk(cfg->mail_from, "\r\n") != NULL ||
	    from_address(cfg->mail_from, from_addr, sizeof(from_addr)) != 0) {
		rc = cx_error_internal(err, "mail: MAIL_FROM is not a valid address");
		goto out;
	}
	if ((rc = build_message(cfg, from_addr, to, subject ? subject : "", body ? body : "",
	    &msg, err)) != CX_OK)
		goto out;
	if (cfg->smtp_server != NULL && *cfg->smtp_server != '\0')
		rc = smtp_send(cfg, from_addr, to, &msg, err);
	else
		rc = outbox_write(cfg, &msg, err);
out:
	free(msg.data);
	return rc;
}
