#!/bin/bash
# cli.sh: kvmload's command-line errors: each names what is wrong and exits with bhyveload's status.
. "$(dirname "$0")/lib.sh"
KVMLOAD=$1

check() { # check WANT_STATUS TEXT ARGS...: stderr names the problem
	want=$1 text=$2; shift 2
	"$KVMLOAD" "$@" </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
	expect_status $st "$want" "kvmload $*"
	expect_text "$WORK/err" "$text"
}

check 64 "usage: kvmload"
check 64 "usage: kvmload" vm1 vm2
check 64 "-m 12X: invalid memory size" -m 12X vm
check 64 "-m 99E: size too large" -m 99E vm
check 64 "-l b: only one loader may be given" -l a -l b vm
check 64 "-d /nonexistent.img: No such file or directory" -d /nonexistent.img vm
check 64 "-d /tmp: not a regular file or block device" -d /tmp vm
check 64 "-h /nonexistent: No such file or directory" -h /nonexistent vm
check 64 "-c /etc/hostname: not a character device" -c /etc/hostname vm
check 64 "-e 'novalue': expected name=value" -e novalue vm
check 64 "-e '=x': expected name=value" -e =x vm
check 64 "vmname '../x'" ../x
check 64 "unrecognized option '--bogus'" --bogus vm
"$KVMLOAD" --help >"$WORK/help" 2>&1; st=$?
expect_status $st 0 "--help"
expect_text "$WORK/help" "--load-only"
finish
