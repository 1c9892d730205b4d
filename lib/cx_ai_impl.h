/* cx_ai_impl: the provider table behind cx_ai (for provider implementations only). */
#ifndef CX_AI_IMPL_H
#define CX_AI_IMPL_H

#include "cx_ai.h"

/* One provider. cx_ai.c validates arguments before calling, so an operation may assume:
 * spec fields are in range, question is an object, answer is non-NULL and at most
 * CX_AI_MAX_ANSWER bytes are meant to be read, answer_type is "text"|"voice"|"code",
 * questions/feedbacks are arrays of equal length. Operations set *out only on success. */
struct cx_ai_ops {
	const char *name;
	void (*free)(void *impl);
	int (*generate)(void *impl, const struct cx_ai_spec *spec, json_object **out,
	    struct cx_error *err);
	int (*evaluate)(void *impl, json_object *question, const char *answer,
	    const char *answer_type, int allow_follow_up, json_object **out,
	    struct cx_error *err);
	int (*summarize)(void *impl, json_object *questions, json_object *feedbacks,
	    json_object **out, struct cx_error *err);
};

struct cx_ai {
	const struct cx_ai_ops *ops;
	void *impl;
};

/* Wrap impl (ownership passes to the new cx_ai, also on failure: ops->free is called). */
int cx_ai_new(const struct cx_ai_ops *ops, void *impl, struct cx_ai **out,
    struct cx_error *err);

#endif
