-- wrk script: POST /api/auth/login with JSON credentials of a registered account
-- (one bcrypt verification per request).
-- Usage: BENCH_EMAIL=... BENCH_PASSWORD=... wrk -s bench/login.lua http://127.0.0.1:PORT/api/auth/login
local email = os.getenv("BENCH_EMAIL")
local password = os.getenv("BENCH_PASSWORD")
if email == nil or email == "" or password == nil or password == "" then
	io.stderr:write("login.lua: set BENCH_EMAIL and BENCH_PASSWORD to a registered account\n")
	os.exit(2)
end

-- JSON string escaping for the characters that can appear in an e-mail or a password.
local function json_string(s)
	s = s:gsub('[%c"\\]', function(c)
		if c == '"' then return '\\"' end
		if c == "\\" then return "\\\\" end
		return string.format("\\u%04x", c:byte())
	end)
	return '"' .. s .. '"'
end

wrk.method = "POST"
wrk.headers["Accept"] = "application/json"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":' .. json_string(email) .. ',"password":' .. json_string(password) .. '}'
