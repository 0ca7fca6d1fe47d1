#!/bin/bash
# swap.sh: the v5 interpreter swap, exactly as bhyveload does it, driven by miniboot's 4th and lua plugins.
# kvmload reads the guest's /boot/loader first and starts the matching plugin, so a swap happens
# only when the plugin it could start disagrees with the guest (host has just userboot.so, a marker
# without its NUL, a mislabelled file).
. "$(dirname "$0")/lib.sh"
need_machine
KVMLOAD=$1 UB4TH=$2 UBLUA=$3 KERNEL=$4
VM=swap-$$

# A plugin directory the way an installation has it: userboot.so is the 4th build.
dir=$WORK/loaders
mkdir -p "$dir"
cp "$UB4TH" "$dir/userboot_4th.so"
cp "$UBLUA" "$dir/userboot_lua.so"
ln -s userboot_4th.so "$dir/userboot.so"

# guest TREE MARKER: a /boot whose loader carries MARKER (printf format; "" = none).
guest() {
	mkdir -p "$1/boot/kernel"
	cp "$KERNEL" "$1/boot/kernel/kernel"
	printf "loader binary$2 more bytes" >"$1/boot/loader"
	printf 'swap.test="yes"\n' >"$1/boot/loader.conf"
}
guest "$WORK/lua" '$Interpreter:lua\0'
guest "$WORK/forth" '$Interpreter:4th\0'
guest "$WORK/none" ''
guest "$WORK/odd" '$Interpreter:basic\0'
guest "$WORK/empty" '$Interpreter:\0'
guest "$WORK/long31" '$Interpreter:abcdefghijklmnopqrstuvwxyz01234\0'
guest "$WORK/long32" '$Interpreter:abcdefghijklmnopqrstuvwxyz012345\0'
guest "$WORK/nonul" ''
printf 'loader binary$Interpreter:lua' >"$WORK/nonul/boot/loader" # the marker ends the file

run() { # run LOG ARGS...
	log=$1; shift
	"$KVMLOAD" "${MACHINE[@]}" -m 64M -e swap.env=kept "$@" </dev/null >"$log" 2>"$log.err"
}
banner4="miniboot/amd64 userboot 4th, Revision 1.0"
bannerlua="miniboot/amd64 userboot lua, Revision 1.0"

# 4th default, lua guest: the guest's marker picks userboot_lua.so at once, no swap.
run "$WORK/1.log" --loader-dir "$dir" -h "$WORK/lua" $VM; st=$?
expect_status $st 2 "lua guest, host has userboot_lua.so"
[ "$(grep -c 'Consoles: userboot' "$WORK/1.log")" -eq 1 ] && ok || bad "lua guest: expected one plugin start"
expect_line "$WORK/1.log" "$bannerlua"
expect_text "$WORK/1.log.err" "guest /boot/loader says lua: using $dir/userboot_lua.so (host plugin directory)"
expect_line "$WORK/1.log" "testkernel: kenv swap.test=yes"

# The host has only userboot.so (4th): it starts, the guest asks for lua, and the swap finds
# userboot_lua.so in the guest's own /boot, which runs in the sandbox; the environment survives.
mkdir -p "$WORK/hostonly"
cp "$UB4TH" "$WORK/hostonly/userboot.so"
cp -r "$WORK/lua" "$WORK/lua_own"
cp "$UBLUA" "$WORK/lua_own/boot/userboot_lua.so"
run "$WORK/1b.log" --loader-dir "$WORK/hostonly" -h "$WORK/lua_own" $VM; st=$?
expect_status $st 2 "host userboot.so swaps to the guest's userboot_lua.so"
lines_in_order "$WORK/1b.log" "$banner4" "$bannerlua" "testkernel: halt"
[ "$(grep -c 'Consoles: userboot' "$WORK/1b.log")" -eq 2 ] && ok || bad "expected exactly two plugin starts"
expect_text "$WORK/1b.log.err" "guest /boot/loader says lua: using $WORK/hostonly/userboot.so (host plugin directory, which has no userboot_lua.so)"
expect_text "$WORK/1b.log.err" "wants interpreter 'lua': swapping to /run/kvmload/$VM/view/host0/boot/userboot_lua.so (the guest's own /boot: untrusted, confined by the sandbox)"
expect_line "$WORK/1b.log" "testkernel: kenv swap.env=kept"
expect_line "$WORK/1b.log" "testkernel: kenv boot_serial=1"
expect_line "$WORK/1b.log" "testkernel: kenv swap.test=yes"
# Each plugin image is mapped afresh: no state carried over.
expect_no_text "$WORK/1b.log" "state is not fresh"
# Without the sandbox the swap to the guest's plugin needs --trust-guest-loader, named with the file.
run "$WORK/1c.log" --loader-dir "$WORK/hostonly" --no-sandbox -h "$WORK/lua_own" $VM; st=$?
expect_status $st 1 "guest plugin for a swap, --no-sandbox without --trust-guest-loader"
expect_text "$WORK/1c.log.err" "guest wants interpreter 'lua': the only plugin found is the guest's own /run/kvmload/$VM/view/host0/boot/userboot_lua.so"
expect_text "$WORK/1c.log.err" "pass --trust-guest-loader to use it"
expect_no_text "$WORK/1c.log" "$bannerlua"

# lua plugin, lua guest: no swap.
run "$WORK/2.log" -l "$dir/userboot_lua.so" -h "$WORK/lua" $VM; st=$?
expect_status $st 2 "lua plugin, lua guest"
[ "$(grep -c 'Consoles: userboot' "$WORK/2.log")" -eq 1 ] && ok || bad "lua guest swapped"
expect_no_text "$WORK/2.log" "$banner4"

# No marker means 4th: the 4th plugin boots without a swap, even when userboot.so is lua.
run "$WORK/3.log" --loader-dir "$dir" -h "$WORK/none" $VM; st=$?
expect_status $st 2 "4th plugin, guest without marker"
[ "$(grep -c 'Consoles: userboot' "$WORK/3.log")" -eq 1 ] && ok || bad "unmarked guest swapped"
ln -sf userboot_lua.so "$dir/userboot.so"
run "$WORK/4.log" --loader-dir "$dir" -h "$WORK/none" $VM; st=$?
expect_status $st 2 "lua default, guest without marker"
[ "$(grep -c 'Consoles: userboot' "$WORK/4.log")" -eq 1 ] && ok || bad "unmarked guest swapped"
expect_line "$WORK/4.log" "$banner4"
expect_text "$WORK/4.log.err" "guest /boot/loader has no \$Interpreter: marker, so 4th: using $dir/userboot_4th.so"
# A lua userboot.so that must run (no userboot_4th.so) still swaps to 4th.
mkdir -p "$WORK/lualone"
cp "$UBLUA" "$WORK/lualone/userboot.so"
cp -r "$WORK/none" "$WORK/none_own"
cp "$UB4TH" "$WORK/none_own/boot/userboot_4th.so"
run "$WORK/4b.log" --loader-dir "$WORK/lualone" -h "$WORK/none_own" $VM; st=$?
expect_status $st 2 "lua plugin, guest without marker"
lines_in_order "$WORK/4b.log" "$bannerlua" "$banner4" "testkernel: halt"
ln -sf userboot_4th.so "$dir/userboot.so"

# A marker without its NUL is no marker to kvmload (4th), but miniboot reads the name up to the
# end of the file and asks for lua: the swap still happens.
run "$WORK/5.log" --loader-dir "$dir" -h "$WORK/nonul" $VM; st=$?
expect_status $st 2 "marker without NUL"
lines_in_order "$WORK/5.log" "$banner4" "$bannerlua" "testkernel: halt"

# -l forbids swapping.
run "$WORK/6.log" -l "$dir/userboot_4th.so" -h "$WORK/lua" $VM; st=$?
expect_status $st 1 "-l 4th plugin, lua guest"
expect_text "$WORK/6.log.err" "requested loader interpreter does not match guest userboot"
expect_no_text "$WORK/6.log" "testkernel:"

# The requested plugin is missing.
mkdir -p "$WORK/only4th"
cp "$UB4TH" "$WORK/only4th/userboot.so"
run "$WORK/7.log" --loader-dir "$WORK/only4th" -h "$WORK/lua" $VM; st=$?
expect_status $st 1 "missing userboot_lua.so"
expect_text "$WORK/7.log.err" "guest wants interpreter 'lua': $WORK/only4th/userboot_lua.so: No such file or directory"
expect_no_text "$WORK/7.log" "testkernel:"

# An interpreter nobody ships, and an empty name.
run "$WORK/8.log" --loader-dir "$dir" -h "$WORK/odd" $VM; st=$?
expect_status $st 1 "unknown interpreter"
expect_text "$WORK/8.log.err" "guest wants interpreter 'basic': $dir/userboot_basic.so: No such file or directory"
run "$WORK/9.log" --loader-dir "$dir" -h "$WORK/empty" $VM; st=$?
expect_status $st 1 "empty interpreter name"
expect_text "$WORK/9.log.err" "asked for interpreter '': not a valid interpreter name"
# The longest name is 31 bytes, taken whole; one more is refused, never cut short.
run "$WORK/9a.log" --loader-dir "$dir" -h "$WORK/long31" $VM; st=$?
expect_status $st 1 "31-byte interpreter name"
expect_text "$WORK/9a.log.err" "guest wants interpreter 'abcdefghijklmnopqrstuvwxyz01234': $dir/userboot_abcdefghijklmnopqrstuvwxyz01234.so: No such file or directory"
run "$WORK/9b.log" --loader-dir "$dir" -h "$WORK/long32" $VM; st=$?
expect_status $st 1 "32-byte interpreter name"
expect_text "$WORK/9b.log.err" "asked for interpreter 'abcdefghijklmnopqrstuvwxyz012345': not a valid interpreter name"
expect_no_text "$WORK/9b.log.err" "userboot_abcdefghijklmno"


# A second swap in one boot is refused (no loop): userboot_lua.so that is really a 4th build.
mkdir -p "$WORK/loop"
cp "$UB4TH" "$WORK/loop/userboot.so"
cp "$UB4TH" "$WORK/loop/userboot_lua.so"
run "$WORK/10.log" --loader-dir "$WORK/loop" -h "$WORK/lua" $VM; st=$?
expect_status $st 1 "swap loop"
expect_text "$WORK/10.log.err" "asked to swap to 'lua' after a swap already happened"
expect_no_text "$WORK/10.log" "state is not fresh"
lib_done
