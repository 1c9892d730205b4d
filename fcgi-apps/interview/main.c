/* cx-interview: route table of the interview area. */
#include "config.h"

#include "cx_ai.h"
#include "cx_serve.h"
#include "interview.h"

#define BODY_LIMIT (128 * 1024)   /* an answer is at most 64 KiB of text */
#define S "/api/interview/sessions"

static const struct cx_route routes[] = {
	{ "POST", S, "create_interview", CX_BODY_JSON, BODY_LIMIT, interview_create },
	{ "GET", S, CX_AUTHENTICATED, CX_BODY_NONE, 0, interview_list },
	{ "GET", S "/{id}", CX_AUTHENTICATED, CX_BODY_NONE, 0, interview_get },
	{ "POST", S "/{id}/precheck", "create_interview", CX_BODY_JSON, BODY_LIMIT,
	    interview_precheck },
	{ "GET", S "/{id}/next-question", "create_interview", CX_BODY_NONE, 0,
	    interview_next_question },
	{ "POST", S "/{id}/answer", "create_interview", CX_BODY_JSON, BODY_LIMIT,
	    interview_answer },
	{ "POST", S "/{id}/pause", "create_interview", CX_BODY_JSON, BODY_LIMIT, interview_pause },
	{ "POST", S "/{id}/resume", "create_interview", CX_BODY_JSON, BODY_LIMIT,
	    interview_resume },
	{ "POST", S "/{id}/finalize", "create_interview", CX_BODY_JSON, BODY_LIMIT,
	    interview_finalize },
	{ "GET", S "/{id}/summary", CX_AUTHENTICATED, CX_BODY_NONE, 0, interview_summary },
	{ "POST", S "/{id}/events", "create_interview", CX_BODY_JSON, BODY_LIMIT,
	    interview_events },
};

static const struct cx_program program = {
	.name = "cx-interview",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.needs = CX_NEED_STORE | CX_NEED_REDIS,
	.sharded = 1,   /* by session: nginx/snippets/cx-upstreams.conf */
	.worker_init = interview_worker_init,
	.worker_fini = interview_worker_fini,
	.batch_commit = interview_batch_commit,
	.batch_release = interview_batch_release,
};

int
main(int argc, char **argv)
{
	return cx_serve_main(argc, argv, &program);
}
