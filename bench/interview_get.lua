-- wrk script: an authenticated GET of one interview resource (the session, or its current
-- question): token check, one store read, the session rendered for its candidate.
-- Usage: BENCH_TOKEN=<access_token> wrk -s bench/interview_get.lua \
--            http://127.0.0.1:PORT/api/interview/sessions/ID[/next-question]
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
	io.stderr:write("interview_get.lua: set BENCH_TOKEN to an access token\n")
	os.exit(2)
end

wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
