# lib.sh: helpers for the fuse suite (sourced): what a test needs to run, and its results.
# shellcheck shell=bash
set -u

need() { # need TOOL...: root, /dev/fuse and every TOOL, or the test is skipped (exit 77)
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
	[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
	for p in "$@"; do
		command -v "$p" >/dev/null || { echo "SKIP: $p not installed"; exit 77; }
	done
}

PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok; else bad "$1"; diff <(echo "$2") <(echo "$3") >&2; fi
}
finish() { # the last command: the count, and the exit status
	echo "$PASS passed, $FAIL failed"
	[ $FAIL -eq 0 ]
}
