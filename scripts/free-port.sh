#!/usr/bin/env bash
# Prints a TCP port that is free on 127.0.0.1 (used by dev.sh test and bench/run.sh).
set -euo pipefail
if command -v python3 >/dev/null 2>&1 &&
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null); then
	printf '%s\n' "$p"
	exit 0
fi
for ((i = 0; i < 100; i++)); do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		printf '%s\n' "$p"
		exit 0
	fi
done
echo "free-port: no free port found" >&2
exit 1
