#!/bin/sh
# Replays every fuzz corpus through its target (a regression suite for the parsers).
set -e
srcdir=${srcdir:-.}
for t in json url user jwt anticheat ai_answer fcgi rubric; do
	case $t in user) dirs="email profile" ;; *) dirs=$t ;; esac
	for d in $dirs; do
		./tests/fuzz/fuzz_$t "$srcdir/tests/fuzz/corpus/$d"
	done
done
