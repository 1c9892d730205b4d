#!/usr/bin/env bash
# CandidateX developer entry point: install, build, run and test the whole stack.
#
#   ./dev.sh deps                 install missing Debian packages and the npm packages of www/
#   ./dev.sh build [--asan]       build into build/release (-O2) or build/asan (ASan+UBSan)
#   ./dev.sh start DIR [--asan] [--persist]
#                                 start Redis (--persist: with an append-only file), the
#                                 cx-* programs and nginx, with all state in DIR
#   ./dev.sh stop DIR             stop what start started in DIR
#   ./dev.sh run                  deps + build + start in ./var + demo admin; Ctrl-C stops
#   ./dev.sh test                 deps + ASan build + unit tests + integration tests on a
#                                 fresh stack; ends with the line "N passed, N failed"
#   ./dev.sh bench [ARGS]         bench/run.sh
#
# Environment: CX_HTTPS_PORT (8443), CX_HTTP_PORT (8080), CX_LISTEN (127.0.0.1) for
# start/run; CX_STACK_BUILD_DIR: start the programs of another build folder; every CX_*/spec variable (see README) is passed on to the programs.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NPROC=$(nproc 2>/dev/null || echo 2)

# program name, path in a build folder, nginx area ("-": none), has a socket (1/0)
PROGRAMS=(
	"cx-auth fcgi-apps/auth/cx-auth auth 1"
	"cx-interview fcgi-apps/interview/cx-interview interview 1"
	"cx-resume fcgi-apps/resume/cx-resume resume 1"
	"cx-admin fcgi-apps/admin/cx-admin admin 1"
	"cx-push fcgi-apps/push/cx-push push 1"
	"cx-worker fcgi-apps/worker/cx-worker - 0"
)

DEB_PACKAGES=(
	build-essential autoconf automake libtool pkg-config autoconf-archive
	libfcgi-dev libjson-c-dev libmongoc-dev libbson-dev libhiredis-dev libjwt-dev
	libssl-dev libcurl4-openssl-dev libsqlite3-dev libcriterion-dev libcrypt-dev libmimalloc-dev
	redis-server nginx openssl curl wrk sqlite3 ca-certificates chromium fonts-dejavu-core
)

# The stack folder to stop when dev.sh exits (a failed start, Ctrl-C in run); see on_exit.
CLEANUP_DIR=

say() { printf '==> %s\n' "$*"; }
warn() { printf 'dev.sh: warning: %s\n' "$*" >&2; }
die() { printf 'dev.sh: error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root for: $* (install sudo or run as root)"
	fi
}

# ---------------------------------------------------------------- deps

deb_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

cmd_deps() {
	local missing=() p
	command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: dev.sh deps expects Debian 12"
	for p in "${DEB_PACKAGES[@]}"; do
		deb_installed "$p" || missing+=("$p")
	done
	# Node may already be on PATH (e.g. node 20 + npm from elsewhere): never install
	# Debian's nodejs over it.
	if ! command -v node >/dev/null 2>&1; then
		deb_installed nodejs || missing+=(nodejs)
	fi
	if ! command -v npm >/dev/null 2>&1; then
		deb_installed npm || missing+=(npm)
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing Debian packages: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	else
		say "Debian packages: all present"
	fi
	npm_deps
}

npm_deps() {
	local www=$REPO/www
	[ -f "$www/package.json" ] || return 0
	command -v npm >/dev/null 2>&1 || die "npm not found after installing dependencies"
	# npm ci only when node_modules is missing or older than the lock file.
	if [ -f "$www/node_modules/.package-lock.json" ] &&
	    [ ! "$www/package-lock.json" -nt "$www/node_modules/.package-lock.json" ]; then
		say "npm packages of www/: up to date"
		return 0
	fi
	say "npm ci in www/"
	(cd "$www" && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error)
}

# ---------------------------------------------------------------- build

needs_autoreconf() {
	local f
	[ -x "$REPO/configure" ] || return 0
	[ -f "$REPO/Makefile.in" ] || return 0
	for f in "$REPO/configure.ac" "$REPO/Makefile.am" "$REPO"/mk/*.am; do
		[ "$f" -nt "$REPO/configure" ] && return 0
		[ "$f" -nt "$REPO/Makefile.in" ] && return 0
	done
	return 1
}

# build_dir release|asan -> prints the folder
build_dir() { printf '%s/build/%s\n' "$REPO" "$1"; }

cmd_build() {
	local flavor=release arg dir
	for arg in "$@"; do
		case $arg in
		--asan) flavor=asan ;;
		*) die "build: unknown option '$arg'" ;;
		esac
	done
	dir=$(build_dir "$flavor")
	if needs_autoreconf; then
		say "autoreconf -fi"
		(cd "$REPO" && autoreconf -fi) || return 1
	fi
	mkdir -p "$dir" || return 1
	if [ ! -f "$dir/Makefile" ] || [ "$REPO/configure" -nt "$dir/config.status" ]; then
		say "configure ($flavor) in $dir"
		if [ "$flavor" = asan ]; then
			(cd "$dir" && "$REPO/configure" --enable-sanitizers) || return 1
		else
			(cd "$dir" && "$REPO/configure" CFLAGS="-O2 -g") || return 1
		fi
	fi
	say "make -j$NPROC ($flavor)"
	make -C "$dir" -j"$NPROC" || return 1
}

# ---------------------------------------------------------------- processes

# pid_alive NAME PIDFILE: the pid in PIDFILE is a live (non-zombie) process whose command
# line mentions NAME (so a reused pid is never signalled).
pid_alive() {
	local name=$1 file=$2 pid state
	[ -s "$file" ] || return 1
	pid=$( { tr -dc '0-9' <"$file"; } 2>/dev/null) || return 1
	[ -n "$pid" ] || return 1
	[ -r "/proc/$pid/stat" ] || return 1
	state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ "$state" != Z ] || return 1
	{ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$name"
}

# stop_pid NAME PIDFILE: SIGTERM, wait up to 30 s (drain, sanitizer reports), then SIGKILL.
stop_pid() {
	local name=$1 file=$2 pid i
	if ! pid_alive "$name" "$file"; then
		rm -f "$file"
		return 0
	fi
	pid=$(tr -dc '0-9' <"$file")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		pid_alive "$name" "$file" || break
		sleep 0.1
	done
	if pid_alive "$name" "$file"; then
		warn "$name (pid $pid) did not stop within 30 s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	wait "$pid" 2>/dev/null || true   # reap it if it is our child
	rm -f "$file"
	say "stopped $name"
}

# wait_for TIMEOUT DESCRIPTION COMMAND...: retry COMMAND every 0.1 s.
wait_for() {
	local timeout=$1 what=$2 i
	shift 2
	for ((i = 0; i < timeout * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	warn "timed out after ${timeout} s waiting for $what"
	return 1
}

show_logs() {
	local dir=$1 f
	for f in "$dir"/log/*.log "$dir"/log/asan.* "$dir"/log/ubsan.*; do
		[ -s "$f" ] || continue
		printf -- '--- tail of %s\n' "$f" >&2
		tail -n 30 "$f" >&2
	done
}

# ---------------------------------------------------------------- start / stop

# The environment every cx-* program of the stack in $1 gets.
stack_env() {
	local dir=$1
	export CX_DATA_DIR=$dir
	export CX_SOCKET_DIR=$dir/run
	export REDIS_URL=unix:$dir/redis.sock
	export CX_SCHEMA_DIR=$REPO/schema
	export PUBLIC_URL=${PUBLIC_URL:-https://localhost:$HTTPS_PORT}
	export TZ=UTC
	if [ -f "$dir/candidatex.conf" ] && [ -z "${CX_CONFIG_FILE:-}" ]; then
		export CX_CONFIG_FILE=$dir/candidatex.conf
	fi
}

make_tls() {
	local dir=$1
	[ -s "$dir/tls/cert.pem" ] && [ -s "$dir/tls/key.pem" ] && return 0
	say "creating a self-signed TLS certificate for localhost"
	mkdir -p "$dir/tls"
	chmod 700 "$dir/tls"
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 \
	    -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" 2>/dev/null
	chmod 600 "$dir/tls/key.pem"
}

start_redis() {
	local dir=$1 persist=$2 persist_args
	if pid_alive redis-server "$dir/pids/redis.pid"; then
		say "redis already running"
		return 0
	fi
	if [ "$persist" = 1 ]; then
		persist_args=(--appendonly yes --save "3600 1 300 100")
	else
		persist_args=(--appendonly no --save "")
	fi
	rm -f "$dir/redis.sock"
	redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
	    --dir "$dir/redis" --daemonize yes --pidfile "$dir/pids/redis.pid" \
	    --logfile "$dir/log/redis.log" "${persist_args[@]}"
	wait_for 15 "redis ($dir/redis.sock)" redis-cli -s "$dir/redis.sock" ping ||
	    { show_logs "$dir"; die "redis did not start"; }
	say "redis on unix:$dir/redis.sock"
}

# The build folder start uses (asan or release), or fail.
stack_build() {
	local flavor=$1 dir
	dir=${CX_STACK_BUILD_DIR:-$(build_dir "$flavor")}
	if [ ! -d "$dir" ]; then
		warn "no build in $dir (./dev.sh build$([ "$flavor" = asan ] && echo ' --asan')): starting without programs"
	fi
	printf '%s\n' "$dir"
}

run_cxctl_init() {
	local dir=$1 bdir=$2
	if [ ! -x "$bdir/fcgi-apps/cxctl/cxctl" ]; then
		warn "cxctl is not built ($bdir/fcgi-apps/cxctl/cxctl): no keys or database created"
		return 0
	fi
	say "cxctl init"
	"$bdir/fcgi-apps/cxctl/cxctl" init >>"$dir/log/cxctl.log" 2>&1 ||
	    { tail -n 30 "$dir/log/cxctl.log" >&2; die "cxctl init failed (log: $dir/log/cxctl.log)"; }
}

# Start the programs that are built; prints the enabled nginx areas to $dir/areas.
start_programs() {
	local dir=$1 bdir=$2 entry name path area sock areas=""
	for entry in "${PROGRAMS[@]}"; do
		read -r name path area sock <<<"$entry"
		if [ ! -x "$bdir/$path" ]; then
			[ "$name" = cx-auth ] && warn "$name is not built ($bdir/$path): skipped"
			continue
		fi
		[ "$area" != - ] && areas="$areas $area"
		if pid_alive "$name" "$dir/pids/$name.pid"; then
			say "$name already running"
			continue
		fi
		[ "$sock" = 1 ] && rm -f "$dir/run/$name.sock"
		# setsid: a Ctrl-C in the terminal reaches dev.sh, which stops the programs with
		# SIGTERM (a graceful drain), not the programs directly.
		setsid "$bdir/$path" >>"$dir/log/$name.log" 2>&1 </dev/null &
		echo $! >"$dir/pids/$name.pid"
		say "started $name (pid $!)"
	done
	for entry in "${PROGRAMS[@]}"; do
		read -r name path area sock <<<"$entry"
		if [ "$sock" != 1 ] || [ ! -x "$bdir/$path" ]; then continue; fi
		if ! wait_for 30 "$name socket" test -S "$dir/run/$name.sock"; then
			show_logs "$dir"
			die "$name did not create $dir/run/$name.sock"
		fi
		pid_alive "$name" "$dir/pids/$name.pid" || { show_logs "$dir"; die "$name exited"; }
	done
	printf '%s\n' "$areas" >"$dir/areas"
}

start_nginx() {
	local dir=$1 user_line="" areas port
	areas=$(cat "$dir/areas" 2>/dev/null || true)
	# nginx started by root runs its workers as "nobody", which cannot reach the stack's
	# sockets and files: the dev stack runs them as root too (production uses www-data).
	[ "$(id -u)" -eq 0 ] && user_line="user root;"
	mkdir -p "$dir/nginx/tmp"
	"$REPO/scripts/render-nginx.sh" dev --out "$dir/nginx" --areas "$areas" \
	    DIR="$dir" SOCKETDIR="$dir/run" HTTPS_PORT="$HTTPS_PORT" HTTP_PORT="$HTTP_PORT" \
	    LISTEN="$LISTEN" USER_LINE="$user_line"
	local nginx_cmd=(nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/log/nginx-error.log")
	if ! "${nginx_cmd[@]}" -t -q 2>"$dir/log/nginx-test.log"; then
		cat "$dir/log/nginx-test.log" >&2
		die "nginx configuration test failed ($dir/nginx/nginx.conf)"
	fi
	if pid_alive nginx "$dir/pids/nginx.pid"; then
		say "nginx already running: reloading its configuration"
		kill -HUP "$(tr -dc '0-9' <"$dir/pids/nginx.pid")"
		return 0
	fi
	for port in "$HTTPS_PORT" "$HTTP_PORT"; do
		if (exec 3<>"/dev/tcp/$LISTEN/$port") 2>/dev/null; then
			die "port $port on $LISTEN is already in use (set CX_HTTPS_PORT / CX_HTTP_PORT)"
		fi
	done
	TZ=UTC "${nginx_cmd[@]}" || { show_logs "$dir"; die "nginx did not start"; }
	wait_for 10 "nginx pid file" test -s "$dir/pids/nginx.pid" || { show_logs "$dir"; die "nginx did not start"; }
	say "nginx on https://$LISTEN:$HTTPS_PORT and http://$LISTEN:$HTTP_PORT (areas:${areas:- none})"
}

wait_healthy() {
	local dir=$1 areas
	areas=$(cat "$dir/areas" 2>/dev/null || true)
	if [[ " $areas " != *" auth "* ]]; then
		warn "cx-auth is not running: /api/health cannot answer; checking nginx only"
		wait_for 30 "nginx" curl -sk -o /dev/null "https://$LISTEN:$HTTPS_PORT/" ||
		    { show_logs "$dir"; die "nginx does not answer"; }
		return 0
	fi
	if ! wait_for 30 "https://$LISTEN:$HTTPS_PORT/api/health" \
	    curl -fsk "https://$LISTEN:$HTTPS_PORT/api/health"; then
		show_logs "$dir"
		die "the stack is not healthy"
	fi
	say "healthy: https://$LISTEN:$HTTPS_PORT/api/health"
}

stack_ports() {
	HTTPS_PORT=${CX_HTTPS_PORT:-8443}
	HTTP_PORT=${CX_HTTP_PORT:-8080}
	LISTEN=${CX_LISTEN:-127.0.0.1}
}

# start DIR [--asan] [--persist]
cmd_start() {
	local dir="" flavor=release persist=0 arg bdir own_cleanup=0
	for arg in "$@"; do
		case $arg in
		--asan) flavor=asan ;;
		--persist) persist=1 ;;
		-*) die "start: unknown option '$arg'" ;;
		*) [ -z "$dir" ] || die "start: one folder only"; dir=$arg ;;
		esac
	done
	[ -n "$dir" ] || die "usage: ./dev.sh start DIR [--asan]"
	case $dir in /*) ;; *) die "start: DIR must be an absolute path" ;; esac
	bdir=$(stack_build "$flavor")
	stack_ports
	mkdir -p "$dir"/{log,pids,run,redis,nginx}
	# A start that fails stops what it started, unless it found a stack already running
	# (which it then leaves alone) or a caller already takes care of it.
	if [ -z "$CLEANUP_DIR" ] && ! stack_running "$dir"; then
		CLEANUP_DIR=$dir
		own_cleanup=1
	fi
	stack_env "$dir"
	say "starting the stack in $dir ($flavor build)"
	make_tls "$dir"
	start_redis "$dir" "$persist"
	run_cxctl_init "$dir" "$bdir"
	start_programs "$dir" "$bdir"
	start_nginx "$dir"
	wait_healthy "$dir"
	printf '%s\n' "$flavor" >"$dir/flavor"
	if [ "$own_cleanup" = 1 ]; then CLEANUP_DIR=; fi
}

# stack_running DIR: any process of the stack in DIR is alive.
stack_running() {
	local dir=$1 entry name path area sock
	pid_alive nginx "$dir/pids/nginx.pid" && return 0
	pid_alive redis-server "$dir/pids/redis.pid" && return 0
	for entry in "${PROGRAMS[@]}"; do
		read -r name path area sock <<<"$entry"
		pid_alive "$name" "$dir/pids/$name.pid" && return 0
	done
	return 1
}

on_exit() {
	local rc=$?
	if [ -n "$CLEANUP_DIR" ]; then
		cmd_stop "$CLEANUP_DIR" || true
	fi
	return $rc
}

cmd_stop() {
	local dir=${1:-} entry name path area sock i
	[ -n "$dir" ] || die "usage: ./dev.sh stop DIR"
	[ -d "$dir" ] || { say "nothing to stop in $dir"; return 0; }
	stop_pid nginx "$dir/pids/nginx.pid"
	for ((i = ${#PROGRAMS[@]} - 1; i >= 0; i--)); do
		read -r name path area sock <<<"${PROGRAMS[$i]}"
		stop_pid "$name" "$dir/pids/$name.pid"
	done
	stop_pid redis-server "$dir/pids/redis.pid"
}

# ---------------------------------------------------------------- run

cmd_run() {
	local dir=$REPO/var pwfile bdir password
	cmd_deps
	cmd_build
	bdir=$(build_dir release)
	# Whatever way dev.sh ends (Ctrl-C, a failed start), it stops what it started.
	CLEANUP_DIR=$dir
	trap 'echo; say "stopping"; exit 0' INT TERM
	cmd_start "$dir" --persist
	pwfile=$dir/demo-admin.txt
	if [ ! -s "$pwfile" ]; then
		# 20 random characters plus one of each class the password policy asks for.
		password="$(openssl rand -base64 15 | tr -d '/+=')Aa7!"
		(umask 077 && printf 'email=admin@candidatex.local\npassword=%s\n' "$password" >"$pwfile")
	fi
	chmod 600 "$pwfile"
	password=$(sed -n 's/^password=//p' "$pwfile")
	if [ -x "$bdir/fcgi-apps/cxctl/cxctl" ]; then
		CX_ADMIN_PASSWORD=$password "$bdir/fcgi-apps/cxctl/cxctl" create-admin \
		    --email admin@candidatex.local --name "Demo Admin" ||
		    warn "cxctl create-admin failed"
	else
		warn "cxctl is not built: no demo admin"
	fi
	cat <<EOF

CandidateX is running (state in $dir, logs in $dir/log).

  Web:       https://localhost:$HTTPS_PORT   (self-signed certificate: $dir/tls/cert.pem)
             http://127.0.0.1:$HTTP_PORT
  API docs:  https://localhost:$HTTPS_PORT/api/docs
  Health:    https://localhost:$HTTPS_PORT/api/health

  Demo admin: admin@candidatex.local
  Password:   $password   (also in $pwfile)

Press Ctrl-C to stop.
EOF
	while true; do
		sleep 5 &
		wait $! || true
		if ! pid_alive nginx "$dir/pids/nginx.pid"; then
			warn "nginx is no longer running; stopping"
			exit 1
		fi
	done
}

# ---------------------------------------------------------------- test

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); say "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); say "FAIL: $*"; }

free_port() { "$REPO/scripts/free-port.sh" || die "no free port found"; }

# sanitizer_reports DIR: print the report files that hold an error; true if any.
sanitizer_reports() {
	local dir=$1 f found=1
	for f in "$dir"/log/asan.* "$dir"/log/ubsan.*; do
		[ -s "$f" ] || continue
		if grep -q -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|SUMMARY: ' "$f"; then
			printf -- '--- %s\n' "$f" >&2
			head -n 60 "$f" >&2
			found=0
		fi
	done
	return $found
}

unit_tests() {
	local bdir=$1 out rc=0 n_pass n_fail n_err n_xpass n_xfail
	out=$(mktemp)
	say "unit tests: make -C build/asan -k check"
	make -C "$bdir" -k -j"$NPROC" check 2>&1 | tee "$out" || rc=$?
	n_pass=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	n_fail=$(sed -n 's/^# FAIL: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	n_err=$(sed -n 's/^# ERROR: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	n_xpass=$(sed -n 's/^# XPASS: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	n_xfail=$(sed -n 's/^# XFAIL: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	if [ -n "$n_pass" ]; then
		PASSED=$((PASSED + n_pass + ${n_xfail:-0}))
		FAILED=$((FAILED + ${n_fail:-0} + ${n_err:-0} + ${n_xpass:-0}))
		say "unit tests: $((n_pass + ${n_xfail:-0})) passed, $((${n_fail:-0} + ${n_err:-0} + ${n_xpass:-0})) failed"
		if [ -f "$bdir/test-suite.log" ] && [ $((${n_fail:-0} + ${n_err:-0})) -gt 0 ]; then
			cat "$bdir/test-suite.log"
		fi
	elif [ "$rc" -ne 0 ]; then
		fail "make check (did not get as far as running the tests)"
	else
		warn "make check ran no unit test"
	fi
	rm -f "$out"
	# Criterion reports a test as passed even when LeakSanitizer printed a leak from it:
	# read the logs.
	local f leaky=0
	for f in "$bdir"/tests/unit/*.log "$bdir"/tests/fuzz/*.log; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$f"; then
			printf -- '--- sanitizer report in %s\n' "$f" >&2
			grep -E -A30 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$f" | head -n 60 >&2
			leaky=1
		fi
	done
	if [ "$leaky" = 1 ]; then
		fail "unit tests: sanitizer reports (above)"
	else
		pass "unit tests: no sanitizer report"
	fi
}

integration_tests() {
	local dir=$1 bdir=$2 t found=0 name
	for t in "$bdir"/tests/integration/test_*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		case $t in *.o | *.log | *.trs) continue ;; esac
		found=$((found + 1))
		name=$(basename "$t")
		say "integration: $name"
		if CX_TEST_BASE_URL="https://127.0.0.1:$HTTPS_PORT" \
		    CX_TEST_HTTP_URL="http://127.0.0.1:$HTTP_PORT" \
		    CX_TEST_DATA_DIR="$dir" \
		    CX_TEST_REDIS_URL="unix:$dir/redis.sock" \
		    CX_TEST_SCHEMA_DIR="$REPO/schema" \
		    CX_TEST_CA="$dir/tls/cert.pem" \
		    CX_TEST_BUILD_DIR="$bdir" \
		    "$t" 2>&1 | tee "$dir/log/$name.out"; then
			pass "$name"
		else
			fail "$name (output: $dir/log/$name.out)"
		fi
	done
	if [ "$found" -eq 0 ]; then
		say "integration: NO test binaries found in $bdir/tests/integration (none built yet)"
	fi
}

# The API docs page renders in a real browser under the page's Content-Security-Policy:
# Swagger UI draws one block per operation of /api/openapi.json. Needs Debian's chromium;
# skipped (and said so) when it is not installed.
browser_smoke() {
	local dir=$1 browser="" dom
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
	done
	if [ -z "$browser" ]; then
		fail "browser smoke test: no chromium (./dev.sh deps installs it)"
		return 0
	fi
	say "browser smoke test: /api/docs in headless $browser"
	dom=$(timeout 90 "$browser" --headless=new --no-sandbox --disable-gpu --no-first-run \
	    --disable-background-networking --disable-component-update --disable-sync --disable-quic \
	    --user-data-dir="$dir/chromium" --ignore-certificate-errors \
	    --virtual-time-budget=10000 --dump-dom \
	    "https://127.0.0.1:$HTTPS_PORT/api/docs" 2>"$dir/log/chromium.log") || true
	if grep -q 'class="opblock ' <<<"$dom"; then
		pass "browser: /api/docs shows $(grep -o 'class="opblock ' <<<"$dom" | wc -l) operations"
	else
		fail "browser: /api/docs did not render the API operations (log: $dir/log/chromium.log)"
	fi
}

cmd_test() {
	local bdir dir started=0
	cmd_deps
	if ! cmd_build --asan; then
		fail "build (ASan)"
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
		exit 1
	fi
	bdir=$(build_dir asan)
	unit_tests "$bdir"

	dir=$(mktemp -d "${TMPDIR:-/tmp}/cx-test.XXXXXX")
	CX_HTTPS_PORT=$(free_port)
	CX_HTTP_PORT=$(free_port)
	while [ "$CX_HTTP_PORT" = "$CX_HTTPS_PORT" ]; do CX_HTTP_PORT=$(free_port); done
	export CX_HTTPS_PORT CX_HTTP_PORT
	stack_ports
	# Servers log sanitizer reports to files (checked after the graceful stop); the test
	# programs themselves report on stderr and fail.
	CLEANUP_DIR=$dir
	# A separate dev.sh process, so that set -e holds inside start.
	if LOGIN_RATE_LIMIT_IP=${LOGIN_RATE_LIMIT_IP:-1000} \
	    REGISTER_RATE_LIMIT_IP=${REGISTER_RATE_LIMIT_IP:-1000} \
	    CX_LOG_LEVEL=${CX_LOG_LEVEL:-info} \
	    ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$dir/log/asan" \
	    UBSAN_OPTIONS="print_stacktrace=1:log_path=$dir/log/ubsan" \
	    bash "$REPO/dev.sh" start "$dir" --asan; then
		started=1
		pass "stack started (https://127.0.0.1:$HTTPS_PORT, state in $dir)"
	else
		fail "stack did not start (state in $dir)"
	fi
	if [ "$started" = 1 ]; then
		integration_tests "$dir" "$bdir"
		browser_smoke "$dir"
	fi
	cmd_stop "$dir"
	CLEANUP_DIR=
	if sanitizer_reports "$dir"; then
		fail "sanitizer reports from the servers (in $dir/log)"
	else
		pass "no sanitizer report from the servers"
	fi
	if [ "$FAILED" -eq 0 ] && [ -z "${CX_KEEP_STACK:-}" ]; then
		rm -rf "$dir"
	else
		say "stack folder kept: $dir"
	fi
	printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	[ "$FAILED" -eq 0 ]
}

# ---------------------------------------------------------------- bench

cmd_bench() {
	if [ -x "$REPO/bench/run.sh" ] || [ -f "$REPO/bench/run.sh" ]; then
		exec bash "$REPO/bench/run.sh" "$@"
	fi
	die "bench/run.sh does not exist yet"
}

usage() {
	sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
	local cmd=${1:-}
	trap on_exit EXIT
	[ $# -gt 0 ] && shift
	case $cmd in
	deps) cmd_deps "$@" ;;
	build) cmd_build "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	run) cmd_run "$@" ;;
	test) cmd_test "$@" ;;
	bench) cmd_bench "$@" ;;
	-h | --help | help) usage ;;
	*) usage >&2; exit 2 ;;
	esac
}

main "$@"
