-- wrk script: GET /api/auth/me with a bearer token (JWT verification + user lookup).
-- Usage: BENCH_TOKEN=<access_token> wrk -s bench/me.lua http://127.0.0.1:PORT/api/auth/me
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
	io.stderr:write("me.lua: set BENCH_TOKEN to an access token\n")
	os.exit(2)
end

wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
