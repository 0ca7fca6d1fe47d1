#!/bin/bash
# demo.sh: the README's main job: the demo guest boots; its lua /boot/loader picks userboot_lua.so at once.
. "$(dirname "$0")/lib.sh"
need_kvm
KVMLOAD=$1 DEMO=$2 LOADERDIR=$(dirname "$3")
"$KVMLOAD" -m 128M -d "$DEMO" --loader-dir "$LOADERDIR" demo </dev/null >"$WORK/demo.log" 2>&1; st=$?
expect_status $st 2 "demo guest"
lines_in_order "$WORK/demo.log" "guest /boot/loader says lua: using $LOADERDIR/userboot_lua.so" \
	"miniboot/amd64 userboot lua" "currdev=disk0p2:" "Booting [/boot/kernel/kernel]..." \
	"testkernel: module name=/boot/kernel/demo.ko" "testkernel: kenv demo.greeting=hello from the demo guest" \
	"testkernel: halt"
expect_no_text "$WORK/demo.log" "miniboot/amd64 userboot 4th"
finish
