#!/bin/bash
# demo.sh: the README's main job: the demo guest boots, with a swap from the 4th plugin to lua.
. "$(dirname "$0")/lib.sh"
need_kvm
KVMLOAD=$1 DEMO=$2 LOADERDIR=$(dirname "$3")
"$KVMLOAD" -m 128M -d "$DEMO" --loader-dir "$LOADERDIR" demo </dev/null >"$WORK/demo.log" 2>&1; st=$?
expect_status $st 2 "demo guest"
lines_in_order "$WORK/demo.log" "miniboot/amd64 userboot 4th" "wants interpreter 'lua'" \
	"miniboot/amd64 userboot lua" "currdev=disk0p2:" "Booting [/boot/kernel/kernel]..." \
	"testkernel: module name=/boot/kernel/demo.ko" "testkernel: kenv demo.greeting=hello from the demo guest" \
	"testkernel: halt"
finish
