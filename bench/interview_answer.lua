-- wrk script: POST /api/interview/sessions/{id}/answer, every request a new answer (a
-- store write: evaluation by the local interviewer, the answer appended, the next question
-- made current, the Redis state and events updated).
-- BENCH_SESSIONS names a file of "SESSION_ID FIRST_QUESTION_ID" lines (active sessions of
-- the BENCH_TOKEN user). Each wrk thread takes its own share of the sessions and answers
-- them in turn; the answer's next_question_id (a follow-up or the next planned question)
-- says what to answer next in that session, and a session leaves the pool when it has no
-- question left. The pool must hold more answers than the run takes.
-- BENCH_WRK_THREADS must equal wrk's -t.
-- Usage: BENCH_TOKEN=... BENCH_SESSIONS=file BENCH_WRK_THREADS=2 wrk -s bench/interview_answer.lua http://HOST:PORT
local token = os.getenv("BENCH_TOKEN")
local file = os.getenv("BENCH_SESSIONS")
if token == nil or token == "" or file == nil or file == "" then
	io.stderr:write("interview_answer.lua: set BENCH_TOKEN and BENCH_SESSIONS\n")
	os.exit(2)
end

local threads = {}
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local ready = {}     -- queue of {id, question}
local head, tail = 1, 0
local body = '"content":"In my last project I led the migration of our order service to a ' ..
	'new database. The situation was that checkout latency had doubled. My task was to cut ' ..
	'it without downtime. I profiled the slow queries, added two indexes, introduced a ' ..
	'read replica and a cache with a five minute TTL, and rolled it out behind a feature ' ..
	'flag. As a result p99 latency dropped from 900 ms to 180 ms and we had zero incidents.",' ..
	'"type":"text"}'

function init(args)
	local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "1") or 1
	local n = 0
	for line in io.lines(file) do
		local id, q = line:match("^(%x+)%s+(%S+)$")
		if id ~= nil then
			if n % nthreads == tid then
				tail = tail + 1
				ready[tail] = { id = id, q = q }
			end
			n = n + 1
		end
	end
	wrk.method = "POST"
	wrk.headers["Accept"] = "application/json"
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Authorization"] = "Bearer " .. token
end

-- The request is built by hand, once per answer: wrk.format is a Lua loop over the
-- headers that builds several strings per call.
local head_text
local function build_head()
	local h = {}
	for k, v in pairs(wrk.headers) do
		if k ~= "Host" and k ~= "Content-Length" then
			h[#h + 1] = k .. ": " .. v .. "\r\n"
		end
	end
	head_text = "Host: " .. (wrk.headers["Host"] or wrk.host) .. "\r\n" .. table.concat(h)
end

function request()
	if head > tail then
		io.stderr:write("interview_answer.lua: the session pool ran out\n")
		os.exit(3)
	end
	local s = ready[head]
	ready[head] = nil
	head = head + 1
	if head_text == nil then
		build_head()
	end
	local payload = '{"question_id":"' .. s.q .. '",' .. body
	return "POST /api/interview/sessions/" .. s.id .. "/answer HTTP/1.1\r\n" .. head_text ..
		"Content-Length: " .. #payload .. "\r\n\r\n" .. payload
end

-- Plain finds (memchr and memcmp) and anchored matches: a pattern search from the start
-- of the 2.4 KB body tried a match at every byte, and wrk shares the cores with the
-- programs it measures.
local function field(resp, key, class)
	local i = resp:find(key, 1, true)
	if i == nil then
		return nil
	end
	return resp:match("^(" .. class .. "+)\"", i + #key)
end

function response(status, headers, resp)
	local id = field(resp, '"session_id":"', "%x")
	local nextq = field(resp, '"next_question_id":"', "[%w]")
	if id ~= nil and nextq ~= nil then
		tail = tail + 1
		ready[tail] = { id = id, q = nextq }
	end
end
