-- wrk script: GET /api/health (no authentication, no store access).
-- Usage: wrk -s bench/health.lua http://127.0.0.1:PORT/api/health
wrk.method = "GET"
wrk.headers["Accept"] = "application/json"
