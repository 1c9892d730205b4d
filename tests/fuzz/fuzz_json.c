/* Fuzz target: the bounded JSON parser and the typed readers on what it returns. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "cx_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cx_error err = { 0 };
	json_object *obj = NULL;
	const char *s;
	int64_t n;
	int b;

	if (cx_json_parse((const char *)data, size, &obj, &err) != CX_OK)
		return 0;
	cx_json_get_string(obj, "email", 0, 1, 100, &s, &err);
	cx_json_get_int(obj, "n", 0, 0, 10, &n, &err);
	cx_json_get_bool(obj, "b", 0, &b, &err);
	json_object_put(obj);
	return 0;
}
