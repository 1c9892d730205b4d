/* cx_time: RFC 3339 UTC timestamps with milliseconds (fixed width, sortable as text) and ObjectId ids. */
#ifndef CX_TIME_H
#define CX_TIME_H

#include <stdint.h>
#include <time.h>

#define CX_TIME_LEN 25  /* "2025-01-01T00:00:00.000Z" + NUL */
#define CX_OID_LEN 25   /* 24 hex + NUL */

void cx_time_now(char out[CX_TIME_LEN]);
void cx_time_format_ms(int64_t epoch_ms, char out[CX_TIME_LEN]);
int64_t cx_time_now_ms(void);
double cx_time_mono_ms(void);                       /* monotonic clock, for durations */
/* Parse RFC 3339 ("...Z" or "+hh:mm", optional fraction). 0 ok, -1 invalid. */
int cx_time_parse_ms(const char *text, int64_t *epoch_ms);

void cx_oid_new(char out[CX_OID_LEN]);               /* a fresh 24-hex ObjectId */
int cx_oid_valid(const char *text);                  /* 1 if exactly 24 lowercase/uppercase hex */

#endif
