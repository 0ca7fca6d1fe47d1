#!/bin/bash
# cli.sh: kvmload's command-line errors: each names what is wrong and exits with bhyveload's status.
. "$(dirname "$0")/lib.sh"
KVMLOAD=$1

# --run builtin: none of these reaches a machine, and the default (QEMU with --accel kvm) would
# first refuse a host without QEMU or /dev/kvm (status 69).
check() { # check WANT_STATUS TEXT ARGS...: stderr names the problem
	want=$1 text=$2; shift 2
	"$KVMLOAD" --run builtin "$@" </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
	expect_status $st "$want" "kvmload $*"
	expect_text "$WORK/err" "$text"
}

check 64 "usage: kvmload"
check 64 "usage: kvmload" vm1 vm2
# -m: gmem_size_arg's rule and words, the same as kvmload-hotplug --check's for memory = (config.sh).
SUFFIX="invalid memory size (a number with an optional K, M, G or T suffix)"
check 64 "-m 12X: $SUFFIX" -m 12X vm
check 64 "-m 1P: $SUFFIX" -m 1P vm
check 64 "-m 1E: $SUFFIX" -m 1E vm
check 64 "-m 99E: $SUFFIX" -m 99E vm
check 64 "-m 128MB: $SUFFIX" -m 128MB vm
check 64 "-m 18446744073709551615: too large (kvmload maps at most 64T)" -m 18446744073709551615 vm
check 64 "-m 99999999999999999999999: too large (kvmload maps at most 64T)" \
	-m 99999999999999999999999 vm
check 64 "-m 65T: too large (kvmload maps at most 64T)" -m 65T vm
check 64 "-m 1K: too small (at least 2M)" -m 1K vm
check 64 "-m 2097153: not a whole number of 4 KiB pages" -m 2097153 vm
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
