#!/bin/bash
# view_fbsd.sh: the real FreeBSD 10.2 loader on a disk image, -d only: host0: is the disk's boot partition through the view, and the guest's own userboot.so boots in the sandbox (without it, only with --trust-guest-loader).
. "$(dirname "$0")/lib.sh"
[ -n "${KVMLOAD_FREEBSD_ROOT:-}" ] || skip "KVMLOAD_FREEBSD_ROOT is not set"
ROOT=$KVMLOAD_FREEBSD_ROOT
[ -f "$ROOT/boot/userboot.so" ] || skip "no $ROOT/boot/userboot.so"
need_machine
need_fuse
need_tools makefs sgdisk
KVMLOAD=$1 KERNEL=$2
VM=viewfbsd-$$
RUN=/run/kvmload/$VM

# The FreeBSD /boot (with its userboot.so) and our test kernel, in a GPT image (never written back to ROOT).
tree=$WORK/root
make_fbsd_tree "$tree" "$KERNEL"
make_gpt_ufs2 "$tree" "$WORK/gpt.img"
mkdir -p "$WORK/empty"
own=$RUN/view/disk0p2/boot/userboot.so

run() { # run LOG STDIN ARGS...
	log=$1 in=$2; shift 2
	timeout 120 "$KVMLOAD" "${MACHINE[@]}" -m 256M -e LINES=1000 -e view.marker=yes "$@" "$VM" <"$in" >"$log" 2>"$log.err"
}

no_leftovers() {
	if grep -qF " $RUN/view " /proc/mounts; then bad "$1: $RUN/view still mounted"; else ok; fi
	if [ -e "$RUN" ]; then bad "$1: $RUN left behind"; else ok; fi
}

# 1. The real loader (which loaded the kernel from disk0p2 by itself) lists host0: (the same
#    partition, through the view), unloads, and boots the kernel and its module from host0:.
printf 'ls host0:/boot/kernel\nunload\nset currdev=host0:\nboot\n' >"$WORK/script"
run "$WORK/h.log" "$WORK/script" -l "$ROOT/boot/userboot.so" -d "$WORK/gpt.img" -e autoboot_delay=NO; st=$?
expect_status $st 2 "real loader, kernel from host0: of a -d image"
expect_text "$WORK/h.log.err" "host0: is disk0p2 of the view ($RUN/view/disk0p2)"
expect_text "$WORK/h.log" "FreeBSD/amd64 User boot, Revision 1.1"
lines_in_order "$WORK/h.log" "OK ls host0:/boot/kernel" "accf_data.ko" "OK unload" "OK set currdev=host0:" \
	"/boot/kernel/kernel text=" "testkernel: module name=/boot/kernel/kernel type=elf kernel" \
	"testkernel: module name=/boot/kernel/accf_data.ko type=elf obj module" "testkernel: halt"
expect_line "$WORK/h.log" "testkernel: kenv currdev=host0:"
expect_line "$WORK/h.log" "testkernel: kenv view.marker=yes"
no_leftovers "real loader, host0:"

# 2. No -l and no host plugin: without the sandbox the guest's own userboot.so needs the option ...
run "$WORK/r.log" /dev/null --loader-dir "$WORK/empty" --no-sandbox -d "$WORK/gpt.img" -e autoboot_delay=0; st=$?
expect_status $st 1 "the guest's userboot.so with --no-sandbox, without --trust-guest-loader"
expect_text "$WORK/r.log.err" "kvmload: guest /boot/loader has no \$Interpreter: marker, so 4th: the only plugin found is the guest's own $own, untrusted code that would run with kvmload's privileges under --no-sandbox; pass --trust-guest-loader to use it"
expect_no_text "$WORK/r.log" "User boot"
no_leftovers "refused guest loader"

# ... and in the sandbox it boots the guest with no option at all.
run "$WORK/t.log" /dev/null --loader-dir "$WORK/empty" -d "$WORK/gpt.img" -e autoboot_delay=0; st=$?
expect_status $st 2 "the guest's userboot.so in the sandbox"
expect_text "$WORK/t.log.err" "kvmload: guest /boot/loader has no \$Interpreter: marker, so 4th: using $own (the guest's own /boot: untrusted, confined by the sandbox)"
expect_text "$WORK/t.log.err" "kvmload: plugin $own: FreeBSD 10.0-11.2 (version 3, old stat, no diskwrite)"
expect_text "$WORK/t.log" "FreeBSD/amd64 User boot, Revision 1.1"
expect_text "$WORK/t.log" "testkernel: module name=/boot/kernel/accf_data.ko type=elf obj module"
expect_line "$WORK/t.log" "testkernel: halt"
no_leftovers "guest loader in the sandbox"

# 3. -h only, the same way: the host tree's own userboot.so through the view.
run "$WORK/ht.log" /dev/null --loader-dir "$WORK/empty" -h "$tree" -e autoboot_delay=0; st=$?
expect_status $st 2 "-h tree's own userboot.so"
expect_text "$WORK/ht.log.err" "using $RUN/view/host0/boot/userboot.so (the guest's own /boot"
expect_line "$WORK/ht.log" "testkernel: halt"
no_leftovers "-h tree's own userboot.so"
lib_done
