#!/bin/bash
# conformance.sh: the real FreeBSD 10.2 userboot.so boots our test kernel from -h, a raw UFS2 image and a GPT image; --loader-timeout ends its loader.rc that never does.
. "$(dirname "$0")/lib.sh"
[ -n "${KVMLOAD_FREEBSD_ROOT:-}" ] || skip "KVMLOAD_FREEBSD_ROOT is not set"
ROOT=$KVMLOAD_FREEBSD_ROOT
[ -f "$ROOT/boot/userboot.so" ] || skip "no $ROOT/boot/userboot.so"
need_machine
need_tools makefs sgdisk
KVMLOAD=$1 KERNEL=$2
VM=fbsd102-$$
USERBOOT=$ROOT/boot/userboot.so

# The FreeBSD /boot with our test kernel as boot/kernel/kernel (never written back to ROOT).
tree=$WORK/root
make_fbsd_tree "$tree" "$KERNEL"

run() { # run LOG STDIN ARGS...
	log=$1 in=$2; shift 2
	timeout 120 "$KVMLOAD" "${MACHINE[@]}" -l "$USERBOOT" -m 256M -e LINES=1000 -e conformance.marker=yes "$@" \
		<"$in" >"$log" 2>"$log.err"
}

check_boot() { # check_boot LOG STATUS WHAT
	expect_status "$2" 2 "$3"
	expect_text "$1" "FreeBSD/amd64 User boot, Revision 1.1"
	expect_text "$1" "/boot/kernel/kernel text="
	expect_text "$1" "testkernel: module name=/boot/kernel/kernel type=elf kernel"
	expect_text "$1" "testkernel: module name=/boot/kernel/accf_data.ko type=elf obj module"
	expect_line "$1" "testkernel: kenv conformance.marker=yes"
	expect_line "$1" "testkernel: kenv smbios.bios.vendor=BHYVE"
	expect_line "$1" "testkernel: halt"
}

start=$(date +%s%N)
run "$WORK/host.log" /dev/null -h "$tree" -e autoboot_delay=0 $VM; st=$?
end=$(date +%s%N)
check_boot "$WORK/host.log" $st "real loader from -h"
# 10.x aborts on any version but 3: the generation rule must have given it 3.
expect_text "$WORK/host.log.err" "FreeBSD 10.0-11.2 (version 3, old stat, no diskwrite)"
echo "real loader, -h: $(( (end - start) / 1000000 )) ms from start to halt"

make_ufs2 "$tree" "$WORK/raw.img"
run "$WORK/raw.log" /dev/null -d "$WORK/raw.img" -e autoboot_delay=0 $VM; st=$?
check_boot "$WORK/raw.log" $st "real loader from a raw UFS2 image"

make_gpt_ufs2 "$tree" "$WORK/gpt.img"
run "$WORK/gpt.log" /dev/null -d "$WORK/gpt.img" -e autoboot_delay=0 $VM; st=$?
check_boot "$WORK/gpt.log" $st "real loader from a GPT+UFS2 image"

# Scripted input at the OK prompt: ls, show, then boot.
printf 'ls /boot\nshow\nboot\n' >"$WORK/script1"
run "$WORK/script1.log" "$WORK/script1" -h "$tree" -e autoboot_delay=NO $VM; st=$?
expect_status $st 2 "scripted ls/show/boot"
expect_text "$WORK/script1.log" "OK ls /boot"
expect_text "$WORK/script1.log" "loader.rc"
expect_line "$WORK/script1.log" "conformance.marker=yes"
expect_text "$WORK/script1.log" "testkernel: kenv conformance.marker=yes"

# quit leaves the loader with bhyveload's status 1.
printf 'quit\n' >"$WORK/script2"
run "$WORK/quit.log" "$WORK/script2" -h "$tree" -e autoboot_delay=NO $VM; st=$?
expect_status $st 1 "quit at the prompt"
expect_no_text "$WORK/quit.log" "testkernel:"

# Input at end of file at the prompt ends the load instead of spinning.
run "$WORK/eof.log" /dev/null -h "$tree" -e autoboot_delay=NO $VM; st=$?
expect_status $st 1 "stdin at EOF at the prompt"
expect_text "$WORK/eof.log.err" "console input"

# A loader.rc that never ends (the real loader spins in Forth): --loader-timeout ends it, status 1,
# its process killed, the view and the runtime directory gone.
loop=$WORK/loop
cp -r "$tree" "$loop"
printf '\\ a loader.rc that never ends\n: spin begin again ;\nspin\n' >"$loop/boot/loader.rc"
mkdir -p "$WORK/run"
export LOADER_TIMEOUT_MARK=$$.$RANDOM
KVMLOAD_RUN_DIR=$WORK/run run "$WORK/loop.log" /dev/null -h "$loop" --loader-timeout 3 fbsdloop-$$; st=$?
expect_status $st 1 "a loader.rc that never ends, --loader-timeout 3"
check "a loader.rc that never ends: the message" \
	"kvmload: the loader did not finish within 3 s (--loader-timeout); stopped it" "$(tail -n 1 "$WORK/loop.log.err")"
expect_text "$WORK/loop.log" "FreeBSD/amd64 User boot, Revision 1.1"
p=$(marked kvmload-plugin LOADER_TIMEOUT_MARK)
[ -z "$p" ] && ok || bad "a loader.rc that never ends: plugin processes left: $p"
check "a loader.rc that never ends: nothing left in the runtime directory" "" "$(ls -A "$WORK/run")"

cp "$WORK/host.log" "${KVMLOAD_TRANSCRIPT:-/dev/null}" 2>/dev/null || true
lib_done
