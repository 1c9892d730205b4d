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
	/* Written by hand, days to a civil date as Howard Hinnant's civil_from_days: the
	 * programs stamp several times per request, and gmtime_r with snprintf cost
	 * several times this. */
	int64_t secs = epoch_ms / 1000, days, z, era, doe, yoe, doy, mp;
	int ms = (int)(epoch_ms % 1000), sod, year, mon, day;
	unsigned v[7];
	static const unsigned width[7] = { 4, 2, 2, 2, 2, 2, 3 };
	static const char sep[7] = { '-', '-', 'T', ':', ':', '.', 'Z' };
	char *p = out;

	if (ms < 0) {
		ms += 1000;
		secs -= 1;
	}
	days = secs / 86400;
	sod = (int)(secs % 86400);
	if (sod < 0) {
		sod += 86400;
		days -= 1;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	day = (int)(doy - (153 * mp + 2) / 5 + 1);
	mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	year = (int)(yoe + era * 400 + (mon <= 2));
	/* Each field reduced to its width, as the format always was. */
	v[0] = (unsigned)year % 10000u;
	v[1] = (unsigned)mon;
	v[2] = (unsigned)day;
	v[3] = (unsigned)(sod / 3600);
	v[4] = (unsigned)(sod / 60 % 60);
	v[5] = (unsigned)(sod % 60);
	v[6] = (unsigned)ms;
	for (int i = 0; i < 7; i++) {
		for (unsigned w = width[i], x = v[i]; w > 0; w--, x /= 10)
			p[w - 1] = (char)('0' + x % 10);
		p += width[i];
		*p++ = sep[i];
	}
	*p = '\0';
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
