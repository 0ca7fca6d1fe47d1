#!/bin/bash
# demo.sh: the README's demo: with only the default (4th) plugin on the host, the lua guest makes kvmload swap to its own lua plugin; with both on the host, lua is picked at once.
. "$(dirname "$0")/lib.sh"
need_machine
KVMLOAD=$1 DEMO=$2 LOADERDIR=$(dirname "$3") HOSTDIR=$(dirname "$4")
# Unique to this run: another build tree's tests may boot their demo at the same time.
VM=demo-$$

"$KVMLOAD" "${MACHINE[@]}" -m 128M -d "$DEMO" --loader-dir "$HOSTDIR" $VM \
	</dev/null >"$WORK/swap.log" 2>&1; st=$?
expect_status $st 2 "demo guest, swap"
lines_in_order "$WORK/swap.log" "using $HOSTDIR/userboot.so" "miniboot/amd64 userboot 4th" \
	"wants interpreter 'lua': swapping to /run/kvmload/$VM/view/disk0p2/boot/userboot_lua.so (the guest's own /boot: untrusted, confined by the sandbox)" \
	"miniboot/amd64 userboot lua" "currdev=disk0p2:" "Booting [/boot/kernel/kernel]..." \
	"testkernel: module name=/boot/kernel/demo.ko" \
	"testkernel: kenv demo.greeting=hello from the demo guest" "testkernel: halt"

"$KVMLOAD" "${MACHINE[@]}" -m 128M -d "$DEMO" --loader-dir "$LOADERDIR" $VM </dev/null >"$WORK/demo.log" 2>&1; st=$?
expect_status $st 2 "demo guest, lua on the host"
lines_in_order "$WORK/demo.log" "guest /boot/loader says lua: using $LOADERDIR/userboot_lua.so" \
	"miniboot/amd64 userboot lua" "testkernel: halt"
expect_no_text "$WORK/demo.log" "miniboot/amd64 userboot 4th"
lib_done
