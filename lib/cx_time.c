/* cx_time: timestamps and ids. */
#include "config.h"

#include <bson/bson.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cx_time.h"

int64_t
cx_time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
cx_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void
cx_time_format_ms(int64_t epoch_ms, char out[CX_TIME_LEN])
{
	time_t secs = (time_t)(epoch_ms / 1000);
	int ms = (int)(epoch_ms % 1000);
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	/* Each field reduced to its width so the compiler can see the output fits. */
	snprintf(out, CX_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
	    (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)ms % 1000u);
}

void
cx_time_now(char out[CX_TIME_LEN])
{
	cx_time_format_ms(cx_time_now_ms(), out);
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int
cx_time_parse_ms(const char *text, int64_t *epoch_ms)
{
	const char *p = text;
	struct tm tm;
	int year, mon, day, hh, mm, ss, ms = 0, off = 0;
	time_t secs;

	if (text == NULL)
		return -1;
	if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) || *p++ != '-' ||
	    digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mm) || *p++ != ':' ||
	    digits(&p, 2, &ss))
		return -1;
	if (*p == '.') {
		int scale = 100;
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			ms += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return -1;
		off = sign * (oh * 60 + om) * 60;
	} else {
		return -1;
	}
	if (*p != '\0' || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 ||
	    ss > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	secs = timegm(&tm);
	*epoch_ms = ((int64_t)secs - off) * 1000 + ms;
	return 0;
}

void
cx_oid_new(char out[CX_OID_LEN])
{
	bson_oid_t oid;

	bson_oid_init(&oid, NULL);
	bson_oid_to_string(&oid, out);
}

int
cx_oid_valid(const char *text)
{
	size_t i;

	if (text == NULL)
		return 0;
	for (i = 0; i < 24; i++)
		if (!isxdigit((unsigned char)text[i]))
			return 0;
	return text[24] == '\0';
}
