#!/usr/bin/env bash
# CandidateX benchmark: a fresh release stack on free loopback ports, wrk against nginx
# alone, a bare FastCGI responder and the cx-auth endpoints, and one table that compares
# them with the ceilings (see bench/README.md).
#
#   bench/run.sh [--no-build] [--ceilings] [--keep]      (or ./dev.sh bench ...)
#
#   --no-build   use build/release as it is (default: ./dev.sh build first)
#   --ceilings   measure only nginx, bare FastCGI and bcrypt (no cx-auth needed)
#   --keep       keep the stack folder (logs, nginx config) after the run
#
# Environment: BENCH_SECONDS (10) per measurement, BENCH_WARMUP (2) seconds of warm-up per
# endpoint, BENCH_INTERVIEW_POOL (800 per second of warm-up and measurement: enough for
# 16,000 answers a second) interview sessions of 20 questions prepared for the answer line, BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_LOGIN_CONNECTIONS (8),
# BENCH_TIMEOUT (10) seconds before wrk counts a request as a timeout,
# CX_WORKERS (number of cores) for cx-auth and the bare responder alike, BENCH_OUT (a
# folder for the results; default a new temp folder).
#
# Exit status: 0 all targets met, 1 a target missed, 2 usage, 3 the bench could not run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SRC=$REPO/bench
BDIR=$REPO/build/release

DURATION=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
LOGIN_CONNS=${BENCH_LOGIN_CONNECTIONS:-8}
TIMEOUT=${BENCH_TIMEOUT:-10}
WORKERS=${CX_WORKERS:-$(nproc 2>/dev/null || echo 2)}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 3; }

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

build=1 ceilings=0 keep=0
for arg in "$@"; do
	case $arg in
	--no-build) build=0 ;;
	--ceilings) ceilings=1 ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

for v in DURATION WARMUP THREADS CONNS LOGIN_CONNS TIMEOUT WORKERS; do
	[[ ${!v} =~ ^[1-9][0-9]{0,3}$ ]] || die "$v must be a whole number from 1 to 9999 (got '${!v}')"
done
# The answer line takes a session's 20 questions in turn and needs a fresh session when
# one is done: it must not run out before wrk stops, however fast the machine.
POOL=${BENCH_INTERVIEW_POOL:-$((800 * (WARMUP + DURATION)))}
[[ $POOL =~ ^[1-9][0-9]{0,5}$ ]] && [ "$POOL" -ge 5 ] ||
    die "BENCH_INTERVIEW_POOL must be a whole number from 5 to 999999 (got '$POOL')"
[ "$WORKERS" -le 64 ] || die "CX_WORKERS must be at most 64"
for tool in wrk curl nginx redis-server awk sed; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (./dev.sh deps installs it)"
done

# ---------------------------------------------------------------- build

if [ "$build" = 1 ]; then
	say "./dev.sh build (release)"
	"$REPO/dev.sh" build || die "./dev.sh build failed"
fi
[ -d "$BDIR" ] || die "no release build in $BDIR: run ./dev.sh build"
AUTH_BIN=$BDIR/fcgi-apps/auth/cx-auth
if [ "$ceilings" = 0 ] && [ ! -x "$AUTH_BIN" ]; then
	die "cx-auth is not built ($AUTH_BIN): run ./dev.sh build, or bench/run.sh --ceilings to measure only nginx, bare FastCGI and bcrypt"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cx-bench.XXXXXX")
STACK=$WORK/stack
OUT=${BENCH_OUT:-$WORK}
mkdir -p "$STACK" "$OUT/wrk"
RESULTS=$OUT/latest.json

# The two helper programs come from the build (mk/bench.am); build them here if the
# build predates them.
tool_bin() {   # tool_bin NAME LIB -> path
	local name=$1 lib=$2
	if [ -x "$BDIR/bench/$name" ]; then
		printf '%s\n' "$BDIR/bench/$name"
		return 0
	fi
	say "$name is not in $BDIR/bench: compiling it into $WORK"
	"${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -o "$WORK/$name" "$BENCH_SRC/$name.c" "$lib" ||
	    die "cannot compile bench/$name.c"
	printf '%s\n' "$WORK/$name"
}
BARE_BIN=$(tool_bin bare-fcgi -lfcgi)
BCRYPT_BIN=$(tool_bin bcrypt-rate -lcrypt)

# ---------------------------------------------------------------- stack

free_port() { "$REPO/scripts/free-port.sh" || die "no free port found"; }

BARE_PID=""
BARE_POLL_PID=""
STARTED=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	local pid
	for pid in $BARE_PID $BARE_POLL_PID; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	if [ "$STARTED" = 1 ]; then
		"$REPO/dev.sh" stop "$STACK" >/dev/null 2>&1 || printf 'bench: warning: ./dev.sh stop %s failed\n' "$STACK" >&2
	fi
	if [ "$keep" = 1 ] || [ "$rc" -ge 2 ]; then
		printf 'bench: stack folder kept: %s\n' "$STACK" >&2
	elif [ "$OUT" = "$WORK" ]; then
		rm -rf "$STACK"
	else
		rm -rf "$WORK"   # the results are in BENCH_OUT
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 3' INT TERM

CX_HTTPS_PORT=$(free_port)
CX_HTTP_PORT=$(free_port)
while [ "$CX_HTTP_PORT" = "$CX_HTTPS_PORT" ]; do CX_HTTP_PORT=$(free_port); done
export CX_HTTPS_PORT CX_HTTP_PORT CX_LISTEN=127.0.0.1 CX_WORKERS=$WORKERS
# The bench logs in hundreds of times a minute from one address and one account.
export LOGIN_RATE_LIMIT_IP=${LOGIN_RATE_LIMIT_IP:-100000}
export LOGIN_RATE_LIMIT_ACCOUNT=${LOGIN_RATE_LIMIT_ACCOUNT:-1000}
export REGISTER_RATE_LIMIT_IP=${REGISTER_RATE_LIMIT_IP:-100000}
# The answer line needs thousands of interview sessions of one candidate.
export INTERVIEW_CREATE_RATE_LIMIT=${INTERVIEW_CREATE_RATE_LIMIT:-100000}
# Every worker meets every session of the pool in turn: each keeps them all parsed, as a
# deployment sizes its cache for the interviews running at once.
export CX_SESSION_CACHE=${CX_SESSION_CACHE:-$((POOL + 100))}
BASE=http://127.0.0.1:$CX_HTTP_PORT

say "starting a release stack in $STACK (http port $CX_HTTP_PORT, $WORKERS workers)"
STARTED=1
"$REPO/dev.sh" start "$STACK" >"$OUT/stack-start.log" 2>&1 || {
	tail -n 40 "$OUT/stack-start.log" >&2
	die "./dev.sh start failed (log: $OUT/stack-start.log)"
}

# Two bare responders: libfcgi's plain loop (for a connection per request) and the same
# with cx_serve's polling loop (for kept connections, as the areas are configured).
start_bare() {   # start_bare SOCKET [poll]; sets LAST_PID
	"$BARE_BIN" "$1" "$WORKERS" ${2:+"$2"} >>"$STACK/log/bench-bare.log" 2>&1 </dev/null &
	LAST_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$1" ] && break
		kill -0 "$LAST_PID" 2>/dev/null || die "bare-fcgi exited (log: $STACK/log/bench-bare.log)"
		sleep 0.1
	done
	[ -S "$1" ] || die "bare-fcgi did not create $1"
}
BARE_SOCK=$STACK/run/bench-bare.sock
BARE_POLL_SOCK=$STACK/run/bench-bare-poll.sock
start_bare "$BARE_SOCK"
BARE_PID=$LAST_PID
start_bare "$BARE_POLL_SOCK" poll
BARE_POLL_PID=$LAST_PID

# ---------------------------------------------------------------- nginx bench config

CONF=$STACK/nginx
NGINX_CONF=$CONF/nginx.conf
[ -f "$NGINX_CONF" ] || die "no $NGINX_CONF: has ./dev.sh changed where it renders nginx.conf?"
[ -f "$CONF/snippets/cx-fastcgi.conf" ] || die "no $CONF/snippets/cx-fastcgi.conf to copy the areas' FastCGI settings from"
grep -q 'bench\*\.conf' "$NGINX_CONF" || die "$NGINX_CONF does not include bench*.conf in its HTTP server"

# keepalive settings of upstream cx_auth, so /bench/bare is configured like the areas
# ("none" when the areas keep no FastCGI connections open).
read -r KEEPALIVE KEEPALIVE_TIMEOUT < <(awk '
	/^[ \t]*upstream[ \t]+cx_auth[ \t]*\{/ { in_up = 1; next }
	in_up && /^[ \t]*\}/ { in_up = 0 }
	in_up && $1 == "keepalive" { ka = $2 }
	in_up && $1 == "keepalive_timeout" { kt = $2 }
	END { gsub(/;/, "", ka); gsub(/;/, "", kt); print (ka == "" ? "none" : ka), (kt == "" ? "60s" : kt) }
' "$CONF/snippets/cx-upstreams.conf" 2>/dev/null || echo "none 60s")
KEEP_CONN=$(awk '$1 == "fastcgi_keep_conn" { v = $2 } END { gsub(/;/, "", v); print (v == "" ? "off" : v) }' \
    "$CONF/snippets/cx-fastcgi.conf")

render() {   # render TEMPLATE DEST
	local drop=()
	[ "$KEEPALIVE" != none ] || drop=(-e '/@KEEPALIVE@/d' -e '/@KEEPALIVE_TIMEOUT@/d')
	sed "${drop[@]}" -e "s|@CONF@|$CONF|g" -e "s|@DIR@|$STACK|g" -e "s|@BARE_SOCK@|$BARE_SOCK|g" \
	    -e "s|@BARE_POLL_SOCK@|$BARE_POLL_SOCK|g" \
	    -e "s|@KEEPALIVE@|$KEEPALIVE|g" -e "s|@KEEPALIVE_TIMEOUT@|$KEEPALIVE_TIMEOUT|g" \
	    "$1" >"$2"
	! grep -n '@[A-Z][A-Z_]*@' "$2" >&2 || die "$1: placeholder(s) above have no value"
}
render "$BENCH_SRC/nginx-bench-http.conf.template" "$CONF/http-bench.conf"
render "$BENCH_SRC/nginx-bench.conf.template" "$CONF/bench.conf"
# An upstream belongs in the http block, which dev.conf.template does not open to the
# bench: include http-bench.conf there unless the template already does.
if ! grep -q 'http-bench' "$NGINX_CONF"; then
	sed -i -e "0,/^http[ \t]*{/s||&\n\tinclude $CONF/http-bench*.conf;|" "$NGINX_CONF"
	grep -q 'http-bench' "$NGINX_CONF" || die "could not add the bench upstream to $NGINX_CONF"
fi

NGINX=(nginx -p "$CONF" -c "$NGINX_CONF" -e "$STACK/log/nginx-error.log")
"${NGINX[@]}" -t -q || die "nginx rejects the bench configuration ($CONF/bench.conf, $CONF/http-bench.conf)"
NGINX_PID=$(tr -dc '0-9' <"$STACK/pids/nginx.pid")

# nginx_reload: new workers, and wait (at most 15 s) for the old ones to finish, so each
# measurement starts without FastCGI connections kept open by the one before.
nginx_reload() {
	local i code old
	"${NGINX[@]}" -s reload || die "nginx -s reload failed"
	for ((i = 0; i < 150; i++)); do
		sleep 0.1
		old=$(pgrep -P "$NGINX_PID" -f 'shutting down' 2>/dev/null | wc -l || true)
		code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/bench/return200" || true)
		[ "$code" = 200 ] && [ "$old" = 0 ] && return 0
	done
	[ "$code" = 200 ] || die "nginx answers $code after a reload (see $STACK/log/nginx-error.log)"
	printf 'bench: warning: old nginx workers still shutting down after 15 s\n' >&2
}
nginx_reload
for path in /bench/bare /bench/bare-nokeep; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path" || true)
	[ "$code" = 200 ] || die "GET $path answers $code"
done

# ---------------------------------------------------------------- account and token

EMAIL="" PASSWORD="" TOKEN=""
json_field() {   # json_field NAME < JSON -> the string value of the first "NAME":"..."
	sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}
if [ "$ceilings" = 0 ]; then
	code=$(curl -s -o "$OUT/health.json" -w '%{http_code}' "$BASE/api/health" || true)
	[ "$code" = 200 ] || die "GET /api/health answers $code: $(head -c 300 "$OUT/health.json" 2>/dev/null)"

	EMAIL="bench-$(date +%s)-$RANDOM@example.com"
	PASSWORD="Bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-Aa7!"
	code=$(curl -s -o "$OUT/register.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"full_name\":\"Bench User\",\"role\":\"candidate\"}" \
	    "$BASE/api/auth/register" || true)
	[ "$code" = 200 ] || [ "$code" = 201 ] ||
	    die "POST /api/auth/register answers $code: $(head -c 300 "$OUT/register.json")"
	code=$(curl -s -o "$OUT/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$BASE/api/auth/login" || true)
	TOKEN=$(json_field access_token <"$OUT/login.json")
	{ [ "$code" = 200 ] && [ -n "$TOKEN" ]; } ||
	    die "POST /api/auth/login answers $code without an access_token: $(head -c 300 "$OUT/login.json")"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/api/auth/me" || true)
	[ "$code" = 200 ] || die "GET /api/auth/me with the new token answers $code"
	rm -f "$OUT/register.json" "$OUT/login.json"   # they hold a token
	export BENCH_TOKEN=$TOKEN BENCH_EMAIL=$EMAIL BENCH_PASSWORD=$PASSWORD
fi

# The figures mean little on a busy machine: say so up front (read before the bench's
# own preparation, which loads the machine for a while).
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$WORKERS" 'BEGIN { exit !(l + 0 > 0.5) }' 2>/dev/null; then
	printf 'bench: warning: load average is %s before the bench: other work on this machine skews the figures\n' "$LOAD_BEFORE" >&2
fi
# The writing worker keeps the whole pool parsed (about 200 KB a session): a machine
# that cannot hold it swaps or kills the worker, and the answer line measures that.
MEM_AVAIL_KB=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo 2>/dev/null || true)
if [ "$ceilings" = 0 ] && [ -n "$MEM_AVAIL_KB" ] && [ "$MEM_AVAIL_KB" -lt $((POOL * 200 * 2)) ]; then
	printf 'bench: warning: %d MB of memory available; the %d-session pool wants about %d MB (set BENCH_INTERVIEW_POOL lower, with BENCH_SECONDS: 800 sessions per second of the line)\n' \
	    $((MEM_AVAIL_KB / 1024)) "$POOL" $((POOL * 400 / 1024)) >&2
fi

# ---------------------------------------------------------------- interview sessions

# curl_each CONFIG: run the requests of a curl config file (one block per request,
# separated by "next"), 8 at a time over kept connections: thousands of requests a second,
# where a curl process per request makes a hundred.
curl_each() {
	curl -s --no-progress-meter --parallel --parallel-max 8 -K "$1"
}

# post_block N PATH DATA OUTPUT: request N of such a config file, a JSON POST of DATA (as
# curl's --data takes it, quoted for the config file) to PATH as the bench user.
post_block() {
	[ "$1" = 1 ] || echo next
	printf 'url = "%s%s"\nheader = "Authorization: Bearer %s"\n' "$BASE" "$2" "$BENCH_TOKEN"
	printf 'header = "Content-Type: application/json"\ndata = "%s"\noutput = "%s"\n' "$3" "$4"
}

# prepare_pool N FILE: create N interviews of 20 questions from bench/interview.json (a
# job description and a resume of the usual length) and pass their prechecks; writes
# "ID FIRST_QUESTION_ID" lines to FILE (each session active, its first question asked).
prepare_pool() {
	local n=$1 file=$2 dir=$WORK/pool i id ok
	local precheck='{\"camera\":true,\"microphone\":true,\"speaker\":true,\"fullscreen\":true,\"single_screen\":true}'
	rm -rf "$dir" && mkdir -m 700 "$dir" || return 1
	for ((i = 1; i <= n; i++)); do
		post_block "$i" /api/interview/sessions "@$BENCH_SRC/interview.json" "$dir/c$i"
	done >"$dir/create.cfg"
	curl_each "$dir/create.cfg" || { echo "bench: creating the interviews failed" >&2; return 1; }
	seq -f "$dir/c%.0f" "$n" | xargs awk 'FNR == 1 {
		if (match($0, /^\{"success":true,[^{]*"data":\{"id":"[0-9a-f]+"/)) {
			id = substr($0, RSTART, RLENGTH); sub(/.*"id":"/, "", id); sub(/"$/, "", id); print id
		} else {
			print "bench: cannot create an interview: " substr($0, 1, 300) > "/dev/stderr"; exit 1
		}
	}' >"$dir/ids" || return 1
	[ "$(wc -l <"$dir/ids")" -eq "$n" ] || { printf 'bench: created %d of %d interviews\n' "$(wc -l <"$dir/ids")" "$n" >&2; return 1; }
	i=0
	while read -r id; do
		i=$((i + 1))
		post_block "$i" "/api/interview/sessions/$id/precheck" "$precheck" "$dir/p$i"
	done <"$dir/ids" >"$dir/precheck.cfg"
	curl_each "$dir/precheck.cfg" || { echo "bench: the prechecks failed" >&2; return 1; }
	ok=$(grep -l '^{"success":true,[^{]*"data":{"passed":true' "$dir"/p* | wc -l)
	[ "$ok" -eq "$n" ] || { printf 'bench: %d of %d prechecks passed: %s\n' "$ok" "$n" "$(head -c 300 "$dir/p1")" >&2; return 1; }
	sed 's/$/ q1/' "$dir/ids" >"$file"
	rm -rf "$dir"   # its config files hold the token
}
INTERVIEW_ID=""
if [ "$ceilings" = 0 ]; then
	say "preparing interview sessions: 1 to read, $POOL to answer"
	prepare_pool $((POOL + 1)) "$WORK/sessions.txt" || die "cannot prepare the interview sessions (see above)"
	# the first to read, a fifth of the rest to warm up on, the others measured
	INTERVIEW_ID=$(head -n 1 "$WORK/sessions.txt" | cut -d' ' -f1)
	sed -n "2,$((POOL / 5 + 1))p" "$WORK/sessions.txt" >"$WORK/sessions-warm.txt"
	tail -n +$((POOL / 5 + 2)) "$WORK/sessions.txt" >"$WORK/sessions-run.txt"
	export BENCH_SESSIONS=$WORK/sessions-run.txt BENCH_SESSIONS_WARM=$WORK/sessions-warm.txt
	export BENCH_WRK_THREADS=$THREADS
	sleep 3   # let the preparation's writes settle before the ceilings are measured
fi

# ---------------------------------------------------------------- measure

# wrk_run NAME CONNECTIONS PATH [SCRIPT]: warm up, then measure into $OUT/wrk/NAME.txt.
wrk_run() {
	local name=$1 conns=$2 path=$3 script=${4:-} args threads=$THREADS
	[ "$threads" -le "$conns" ] || threads=$conns
	# A login waits for bcrypt behind the other connections: wrk's 2 s default timeout
	# would drop those as errors instead of measuring them.
	args=(-t"$threads" -c"$conns" --timeout "$TIMEOUT"s)
	[ -n "$script" ] && args+=(-s "$BENCH_SRC/$script")
	[ "$threads" = "$THREADS" ] || [ "$script" != interview_answer.lua ] || die "interview_answer.lua needs -t$THREADS"
	case $path in *'{id}'*) path=/ ;; esac   # the script builds the path
	say "$name: warm-up ${WARMUP}s, then wrk ${args[*]} -d${DURATION}s --latency $path"
	nginx_reload
	# The answer line warms up on sessions of its own: an answer sent twice is a read.
	BENCH_SESSIONS=${BENCH_SESSIONS_WARM:-${BENCH_SESSIONS:-}} \
	    wrk "${args[@]}" -d"$WARMUP"s "$BASE$path" >/dev/null 2>&1 || true
	# The requests the warm-up left in flight still run after wrk is gone (a login's
	# bcrypt cannot be stopped: 8 of them are a second of both workers): let them finish
	# before the measured run, which would otherwise pay for them.
	sleep 2
	wrk "${args[@]}" -d"$DURATION"s --latency "$BASE$path" >"$OUT/wrk/$name.txt" 2>&1 ||
	    die "wrk failed for $path: $(tail -n 5 "$OUT/wrk/$name.txt")"
}

# parse_wrk FILE -> "rps p50_ms p99_ms requests socket_errors non_2xx"
parse_wrk() {
	awk '
	function ms(v,   n, u) {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") return n / 1000
		if (u == "ms") return n
		if (u == "s") return n * 1000
		if (u == "m") return n * 60000
		if (u == "h") return n * 3600000
		return -1
	}
	$1 == "Requests/sec:" { rps = $2 }
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	$2 == "requests" && $3 == "in" { reqs = $1 }
	$1 == "Socket" && $2 == "errors:" {
		line = $0; gsub(/[^0-9 ]/, " ", line); split(line, e, " ")
		for (k in e) errs += e[k]
	}
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	END {
		if (rps == "") { print "parse-error"; exit 1 }
		printf "%.2f %.3f %.3f %d %d %d\n", rps, p50, p99, reqs, errs, non2xx
	}' "$1"
}

declare -A RPS P50 P99 REQS ERRS NON2XX PATHS NCONN
measure() {   # measure NAME CONNECTIONS PATH [SCRIPT]
	local r
	PATHS[$1]=$3
	NCONN[$1]=$2
	wrk_run "$@"
	r=$(parse_wrk "$OUT/wrk/$1.txt") || die "cannot parse wrk's output in $OUT/wrk/$1.txt"
	read -r "RPS[$1]" "P50[$1]" "P99[$1]" "REQS[$1]" "ERRS[$1]" "NON2XX[$1]" <<<"$r"
}


measure return200 "$CONNS" /bench/return200
measure bare_nokeep "$CONNS" /bench/bare-nokeep
measure bare "$CONNS" /bench/bare
if [ "$ceilings" = 0 ]; then
	measure health "$CONNS" /api/health health.lua
	measure me "$CONNS" /api/auth/me me.lua
	measure interview_get "$CONNS" "/api/interview/sessions/$INTERVIEW_ID" interview_get.lua
	measure interview_next "$CONNS" "/api/interview/sessions/$INTERVIEW_ID/next-question" interview_get.lua
	measure interview_answer "$CONNS" "/api/interview/sessions/{id}/answer" interview_answer.lua
fi
# bcrypt-rate right before login, so that both see the same machine.
bcrypt_rate() {
	say "bcrypt-rate: $WORKERS processes for ${DURATION}s"
	nginx_reload   # and leave cx-auth idle
	sleep 1
	BCRYPT_LINE=$("$BCRYPT_BIN" "$WORKERS" "$DURATION") || die "bcrypt-rate failed"
	BCRYPT_RATE=$(sed -n 's/.*hashes_per_sec=\([0-9.]*\).*/\1/p' <<<"$BCRYPT_LINE")
	[ -n "$BCRYPT_RATE" ] || die "cannot parse bcrypt-rate's output: $BCRYPT_LINE"
}
bcrypt_rate
if [ "$ceilings" = 0 ]; then
	measure login "$LOGIN_CONNS" /api/auth/login login.lua
fi

# ---------------------------------------------------------------- report

CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
NPROC=$(nproc 2>/dev/null || echo "?")
KERNEL=$(uname -sr)
NGINX_VERSION=$(nginx -v 2>&1 | sed 's/^nginx version: //')
WHEN=$(date -u +%Y-%m-%dT%H:%M:%SZ)
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null | head -n 1)" ] && COMMIT="$COMMIT+dirty"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "0" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v < 1) printf "%.0fus", v * 1000; else if (v < 100) printf "%.2fms", v; else printf "%.0fms", v }'; }

# The FastCGI ceiling: the faster of the two ways nginx can talk to a bare responder.
BARE_RPS=$(awk -v a="${RPS[bare]}" -v b="${RPS[bare_nokeep]}" 'BEGIN { print (a > b ? a : b) }')
ROWS=()   # endpoint|rps|p50|p99|pct|target|verdict
JSON_ROWS=()

# row KEY LABEL TARGET-TEXT VERDICT: one line of the table and of the JSON.
row() {
	local key=$1 label=$2 target=$3 verdict=$4 p
	p=$(pct "${RPS[$key]}" "$BARE_RPS")
	[ "$key" != login ] || p="-"   # login is compared with bcrypt, not with FastCGI
	if [ $((ERRS[$key] + NON2XX[$key])) -gt 0 ]; then
		verdict="$verdict, ${ERRS[$key]} socket errors, ${NON2XX[$key]} non-2xx"
	fi
	ROWS+=("$label|${RPS[$key]}|$(fmt_ms "${P50[$key]}")|$(fmt_ms "${P99[$key]}")|$p %|$target|$verdict")
	JSON_ROWS+=("$(printf '{"name":"%s","label":"%s","method":"%s","path":"%s","connections":%s,"requests_per_sec":%s,"p50_ms":%s,"p99_ms":%s,"requests":%s,"socket_errors":%s,"non_2xx":%s,"pct_of_bare_fcgi":%s,"target":"%s","verdict":"%s"}' \
	    "$key" "$label" "$(case $key in login | interview_answer) echo POST ;; *) echo GET ;; esac)" "${PATHS[$key]}" "${NCONN[$key]}" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "${REQS[$key]}" \
	    "${ERRS[$key]}" "${NON2XX[$key]}" "$([ "$p" = - ] && echo null || echo "$p")" "$target" \
	    "$verdict")")
}

clean() { [ $((ERRS[$1] + NON2XX[$1])) -eq 0 ]; }
verdict() { if clean "$1" && [ "$2" = 1 ]; then echo PASS; else echo FAIL; fi; }
# A responder that does nothing never takes a second: if it did, connections stalled.
ceiling() {
	if ! clean "$1"; then
		echo "${2:-ceiling} (UNRELIABLE)"
	elif ! lt "${P99[$1]}" 1000; then
		echo "${2:-ceiling} (UNRELIABLE: p99 over 1 s, stalled connections)"
	else
		echo "${2:-ceiling}"
	fi
}

row return200 "nginx return 200" "ceiling" "$(ceiling return200)"
row bare "bare fcgi, kept connections" "ceiling (best of two)" "$(ceiling bare)"
row bare_nokeep "bare fcgi, connection per request" "ceiling (best of two)" "$(ceiling bare_nokeep)"
if [ "$ceilings" = 0 ]; then
	ok=0
	ge "$(pct "${RPS[health]}" "$BARE_RPS")" 80 && ok=1
	row health "GET /api/health" ">= 80 %" "$(verdict health $ok)"
	ok=0
	ge "$(pct "${RPS[me]}" "$BARE_RPS")" 50 && lt "${P99[me]}" 10 && ok=1
	row me "GET /api/auth/me" ">= 50 %, p99 < 10 ms" "$(verdict me $ok)"
	LOGIN_PCT=$(pct "${RPS[login]}" "$BCRYPT_RATE")
	for key in interview_get interview_next; do
		ok=0
		ge "$(pct "${RPS[$key]}" "$BARE_RPS")" 40 && lt "${P99[$key]}" 20 && ok=1
		row "$key" "GET ${PATHS[$key]/$INTERVIEW_ID/\{id\}}" ">= 40 %, p99 < 20 ms" "$(verdict "$key" $ok)"
	done
	ok=0
	ge "$(pct "${RPS[interview_answer]}" "$BARE_RPS")" 20 && lt "${P99[interview_answer]}" 20 && ok=1
	row interview_answer "POST /api/interview/sessions/{id}/answer" ">= 20 %, p99 < 20 ms" "$(verdict interview_answer $ok)"
	ok=0
	ge "$LOGIN_PCT" 90 && ok=1
	row login "POST /api/auth/login" ">= 90 % of bcrypt" "$(verdict login $ok) ($LOGIN_PCT % of bcrypt)"
fi
PASSED=0 FAILED=0
for r in "${ROWS[@]}"; do
	case ${r##*|} in
	PASS*) PASSED=$((PASSED + 1)) ;;
	FAIL*) FAILED=$((FAILED + 1)) ;;
	esac
done

{
	printf 'CandidateX bench  %s  commit %s\n' "$WHEN" "$COMMIT"
	printf 'machine: %s cores, %s, %s; %s, wrk %s\n' "$NPROC" "${CPU:-unknown CPU}" "$KERNEL" \
	    "$NGINX_VERSION" "$(wrk -v 2>&1 | head -n 1 | awk '{print $2}')"
	printf 'setup: %s workers per program, wrk -t%s -c%s (login -c%s) -d%ss --latency over plain HTTP on 127.0.0.1;\n' \
	    "$WORKERS" "$THREADS" "$CONNS" "$LOGIN_CONNS" "$DURATION"
	printf '       /bench/bare as the areas: upstream keepalive %s (timeout %s), fastcgi_keep_conn %s;\n' \
	    "$KEEPALIVE" "$KEEPALIVE_TIMEOUT" "$KEEP_CONN"
	printf '       wrk, nginx and the programs share the same cores; load average before: %s\n\n' "$LOAD_BEFORE"
	{
		printf 'endpoint|req/s|p50|p99|%% of bare fcgi|target|verdict\n'
		printf '%s\n' "${ROWS[@]}"
		printf 'bcrypt-rate (%s procs, cost 12)|%s|-|-|-|ceiling for login|%s\n' "$WORKERS" "$BCRYPT_RATE" "hashes/s"
	} | awk -F'|' '
		{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
		END {
			for (r = 1; r <= n; r++) {
				line = ""
				for (i = 1; i <= nf; i++)
					line = line sprintf(i == 1 || i >= 6 ? "%-*s" : "%*s", w[i], cell[r, i]) (i < nf ? " | " : "")
				print line
				if (r == 1) { sep = line; gsub(/[^|]/, "-", sep); gsub(/\|/, "+", sep); print sep }
			}
		}'
	printf '\n'
	if [ "$ceilings" = 0 ]; then
		printf 'targets: %d passed, %d failed\n' "$PASSED" "$FAILED"
	else
		printf 'targets: not checked (--ceilings)\n'
	fi
} | tee "$OUT/table.txt"

# JSON: one object, figures as numbers.
{
	printf '{\n  "time": "%s",\n  "commit": "%s",\n' "$WHEN" "$COMMIT"
	printf '  "machine": {"nproc": %s, "cpu": "%s", "kernel": "%s", "nginx": "%s"},\n' \
	    "$NPROC" "${CPU//\"/}" "$KERNEL" "$NGINX_VERSION"
	printf '  "setup": {"workers": %s, "threads": %s, "connections": %s, "login_connections": %s, "seconds": %s, "upstream_keepalive": "%s", "upstream_keepalive_timeout": "%s", "fastcgi_keep_conn": "%s", "load_average_before": "%s"},\n' \
	    "$WORKERS" "$THREADS" "$CONNS" "$LOGIN_CONNS" "$DURATION" "$KEEPALIVE" "$KEEPALIVE_TIMEOUT" "$KEEP_CONN" "$LOAD_BEFORE"
	printf '  "bcrypt": {"procs": %s, "cost": 12, "hashes_per_sec": %s},\n' "$WORKERS" "$BCRYPT_RATE"
	printf '  "results": [\n'
	for ((i = 0; i < ${#JSON_ROWS[@]}; i++)); do
		printf '    %s%s\n' "${JSON_ROWS[$i]}" "$([ $((i + 1)) -lt ${#JSON_ROWS[@]} ] && echo ,)"
	done
	printf '  ],\n  "targets": {"checked": %s, "passed": %d, "failed": %d}\n}\n' \
	    "$([ "$ceilings" = 0 ] && echo true || echo false)" "$PASSED" "$FAILED"
} >"$RESULTS"
if command -v python3 >/dev/null 2>&1 && ! python3 -m json.tool "$RESULTS" >/dev/null; then
	echo "bench: $RESULTS is not valid JSON" >&2
	exit 3
fi

printf '\nresults: %s (wrk output in %s/wrk)\n' "$RESULTS" "$OUT"
[ "$FAILED" -eq 0 ] || exit 1
exit 0
