# lib.sh: what every shell test sources first: counting checks, skips, clean-up at exit, and
# the summary that sets the test's status.  Bash only.  tests/kvm/lib.sh and tests/udev/lib.sh
# source it and add their domain's helpers; other tests source it as "$(dirname "$0")/../lib.sh"
# (meson runs a test by its path in the source tree, so this works there and by hand).
#
#   ok                    one check passed
#   bad MSG               one check failed: "FAIL: MSG" on stderr
#   check DESC WANT GOT   passes when GOT is exactly WANT; else bad DESC and a diff of the two
#   match DESC GLOB GOT   passes when GOT matches the shell pattern GLOB
#   skip MSG              the test cannot run here: "SKIP: MSG", exit 77 (meson: skipped)
#   skip_part MSG         a part of it cannot run here: "SKIP (part): MSG", counted, the test goes on
#   need_root             skip unless run as root
#   need_fuse             skip unless /dev/fuse is there
#   need_tools TOOL...    skip unless each TOOL is installed
#   confined DESC PID USER  PID runs as USER (every Uid and Gid), with no capability (CapEff and
#                         CapPrm 0), under a seccomp filter (Seccomp: 2) and no_new_privs
#   marked COMM VAR       the pids of the processes named COMM whose environment has VAR as this
#                         shell has it (a mark a test exports, which kvmload's children inherit:
#                         other tests on this machine run the same programs)
#   on_exit CMD           run CMD in this shell when the test ends (the last one registered first)
#   console_client NAME CMD...  CMD (a kvmload-hotplug console) in the background, its input the
#                         FIFO $WORK/NAME.in held open by a sleep of ours, its output in
#                         $WORK/NAME.out and .err; sets NAME_PID, and NAME_IN to our end of its
#                         input; both processes are ended at exit
#   lib_done              the end of the test
#
# However the test ends (lib_done, exit, SIGINT or SIGTERM), the EXIT trap runs the on_exit
# commands and prints "N passed, M failed" (", K skipped" when parts were).  The status is 1 when
# a check failed or when no check ran at all (a test that checked nothing has not passed); 77 when
# the test skipped before its first check, or skipped parts and ran no check; otherwise the
# status it exited with.  A test sets no EXIT trap of its own: it registers with on_exit.
# shellcheck shell=bash
set -u

PASSED=0 FAILED=0 SKIPPED=0
LIB_CLEANUPS=

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }

check() {
	if [ "$2" = "$3" ]; then ok; else
		bad "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/  /' >&2
	fi
}

match() {
	# shellcheck disable=SC2053
	if [[ $3 == $2 ]]; then ok; else bad "$1: [$3] does not match [$2]"; fi
}

skip() { echo "SKIP: $*"; exit 77; }
skip_part() { echo "SKIP (part): $*"; SKIPPED=$((SKIPPED + 1)); }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
need_fuse() { [ -c /dev/fuse ] || skip "no /dev/fuse"; }
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
}

confined() {
	local st u g
	st=$(cat "/proc/$2/status" 2>/dev/null) || { bad "$1: no process $2"; return; }
	u=$(id -u "$3") g=$(id -g "$3")
	check "$1: Uid" "Uid:	$u	$u	$u	$u" "$(grep '^Uid:' <<<"$st")"
	check "$1: Gid" "Gid:	$g	$g	$g	$g" "$(grep '^Gid:' <<<"$st")"
	check "$1: CapEff" "CapEff:	0000000000000000" "$(grep '^CapEff:' <<<"$st")"
	check "$1: CapPrm" "CapPrm:	0000000000000000" "$(grep '^CapPrm:' <<<"$st")"
	check "$1: Seccomp" "Seccomp:	2" "$(grep '^Seccomp:' <<<"$st")"
	check "$1: NoNewPrivs" "NoNewPrivs:	1" "$(grep '^NoNewPrivs:' <<<"$st")"
}

marked() {
	local p
	pgrep -x "$1" | while read -r p; do
		grep -qsz "^$2=${!2}\$" "/proc/$p/environ" && echo "$p"
	done
}

on_exit() { LIB_CLEANUPS="$1
$LIB_CLEANUPS"; }

# scratch_dir DIR: removed at exit when the test passed or skipped; kept, and its place said on
# stderr, when a check failed or the test ended on an error, so its logs can explain why. (st is
# lib_exit's: the status the test was ending with.)
scratch_dir() {
	on_exit "if [ \"\$FAILED\" -eq 0 ] && { [ \"\$st\" -eq 0 ] || [ \"\$st\" -eq 77 ]; }; then rm -rf '$1'; else echo \"work directory kept: $1\" >&2; fi"
}

lib_done() { exit 0; }

console_client() {
	local n=$1 fd; shift
	mkfifo "$WORK/$n.in"
	sleep 600 >"$WORK/$n.in" &
	on_exit "kill $! 2>/dev/null"
	"$@" <"$WORK/$n.in" >"$WORK/$n.out" 2>"$WORK/$n.err" &
	eval "${n}_PID=$!"
	on_exit "kill $! 2>/dev/null"
	exec {fd}>"$WORK/$n.in"
	eval "${n}_IN=$fd"
}

lib_exit() {
	local st=$? c summary
	set +e
	# In this shell, not a pipeline's subshell: a clean-up's wait needs its own children.
	while IFS= read -r c; do [ -n "$c" ] && eval "$c"; done <<<"$LIB_CLEANUPS"
	[ "$PASSED" -eq 0 ] && [ "$FAILED" -eq 0 ] && [ "$SKIPPED" -eq 0 ] && [ "$st" -eq 77 ] && exit 77
	summary="$PASSED passed, $FAILED failed"
	[ "$SKIPPED" -eq 0 ] || summary="$summary, $SKIPPED skipped"
	echo "$summary"
	[ "$FAILED" -eq 0 ] || exit 1
	if [ "$PASSED" -eq 0 ]; then
		[ "$SKIPPED" -gt 0 ] && { [ "$st" -eq 0 ] || [ "$st" -eq 77 ]; } && exit 77
		echo "FAIL: no check ran" >&2
		exit 1
	fi
	exit "$st"
}
trap lib_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
