/* Fuzz target: email normalisation, names, and PUT /me profile validation. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cx_json.h"
#include "cx_store.h"
#include "cx_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), email[CX_EMAIL_MAX + 1], *name = NULL;
	struct cx_error err = { 0 };
	json_object *body = NULL;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	cx_user_normalize_email(text, "email", email, &err);
	cx_error_clear(&err);
	if (cx_user_clean_name(text, "full_name", &name, &err) == CX_OK)
		free(name);
	cx_error_clear(&err);
	if (cx_json_parse(text, size, &body, &err) == CX_OK) {
		struct cx_update *u = cx_update_new();
		cx_error_clear(&err);
		cx_user_profile_update(body, u, &err);
		cx_update_free(u);
		json_object_put(body);
	}
	free(text);
	return 0;
}
