/* Fuzz target: URL decoding and the query/form/cookie parsers of cx_http. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cx_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *dec, query[4200], cookie[4200];
	char *envp[5] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/", query, cookie, NULL };
	struct cx_request req;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	dec = cx_url_decode(text, size, 1);
	free(dec);
	snprintf(query, sizeof(query), "QUERY_STRING=%.4096s", text);
	snprintf(cookie, sizeof(cookie), "HTTP_COOKIE=%.4096s", text);
	cx_request_init(&req, NULL);
	req.fcgi.envp = envp;
	cx_request_read_params(&req);
	cx_http_query(&req, "a");
	cx_http_query(&req, "page");
	cx_http_cookie(&req, "session");
	cx_request_reset(&req);
	free(text);
	return 0;
}
