#!/bin/bash
# view.sh: kvmload reads host files through a kvmload-fs view (its own or --view) and picks the plugin the guest's /boot/loader names.
. "$(dirname "$0")/lib.sh"
need_machine
need_fuse
need_tools makefs sgdisk fusermount3 python3
KVMLOAD=$1 FS=$2 DEMO=$3 UB4TH=$4 UBLUA=$5 KERNEL=$6
OWNER=$(dirname "$0")/view_owner.py
VM=viewtest-$$
RUN=/run/kvmload/$VM

# The host's plugin directory as installed: userboot.so is the 4th build.
dir=$WORK/loaders
mkdir -p "$dir" "$WORK/empty"
cp "$UB4TH" "$dir/userboot_4th.so"
cp "$UBLUA" "$dir/userboot_lua.so"
ln -s userboot_4th.so "$dir/userboot.so"
banner4="miniboot/amd64 userboot 4th, Revision 1.0"
bannerlua="miniboot/amd64 userboot lua, Revision 1.0"

# guest TREE MARKER: a /boot whose loader carries MARKER (printf format), a module reached via host0:.
guest() {
	mkdir -p "$1/boot/kernel" "$1/boot/modules"
	cp "$KERNEL" "$1/boot/kernel/kernel"
	printf "loader binary$2 more bytes" >"$1/boot/loader"
	printf 'VIEWMOD' >"$1/boot/modules/viewmod.ko"
	cat >"$1/boot/loader.conf" <<-'CONF'
	viewmod_load="YES"
	viewmod_name="host0:/boot/modules/viewmod.ko"
	view.test="yes"
	CONF
}

run() { # run LOG ARGS...: kvmload with stdin at EOF
	log=$1; shift
	"$KVMLOAD" "${MACHINE[@]}" -m 64M "$@" </dev/null >"$log" 2>"$log.err"
}

# no_leftovers WHAT: the runtime directory and the mount are gone.
no_leftovers() {
	if grep -qF " $RUN/view " /proc/mounts; then bad "$1: $RUN/view still mounted"; else ok; fi
	if [ -e "$RUN" ]; then bad "$1: $RUN left behind"; else ok; fi
}

plugin_starts() { grep -c 'Consoles: userboot' "$1"; }

# 1. The demo guest, -d only: the lua /boot/loader picks userboot_lua.so at once (one plugin
#    start), and host0: is the guest's boot partition, read through the view.
printf 'ls host0:/boot/kernel\nboot\n' >"$WORK/ls.in"
"$KVMLOAD" "${MACHINE[@]}" -m 128M -d "$DEMO" --loader-dir "$dir" -e autoboot_delay=NO "$VM" \
	<"$WORK/ls.in" >"$WORK/demo.log" 2>"$WORK/demo.log.err"; st=$?
expect_status $st 2 "demo guest through the view"
expect_text "$WORK/demo.log.err" "host0: is disk0p2 of the view ($RUN/view/disk0p2)"
expect_text "$WORK/demo.log.err" "guest /boot/loader says lua: using $dir/userboot_lua.so (host plugin directory)"
[ "$(plugin_starts "$WORK/demo.log")" -eq 1 ] && ok || bad "demo: expected one plugin start"
expect_line "$WORK/demo.log" "$bannerlua"
expect_no_text "$WORK/demo.log" "$banner4"
lines_in_order "$WORK/demo.log" "OK ls host0:/boot/kernel" "host0:/boot/kernel" "    kernel" "    demo.ko" \
	"testkernel: kenv demo.greeting=hello from the demo guest" "testkernel: halt"
no_leftovers "demo"

# 2. A GPT guest, -d only: a module named host0:/... comes from the disk through the view.
guest "$WORK/g" '$Interpreter:4th\0'
make_gpt_ufs2 "$WORK/g" "$WORK/g.img"
sum=$(sha256sum <"$WORK/g.img")
run "$WORK/d.log" --loader-dir "$dir" -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 2 "-d only"
expect_text "$WORK/d.log.err" "guest /boot/loader says 4th: using $dir/userboot_4th.so (host plugin directory)"
expect_line "$WORK/d.log" "$banner4"
expect_text "$WORK/d.log" "testkernel: module name=host0:/boot/modules/viewmod.ko type=elf obj module"
expect_line "$WORK/d.log" "testkernel: kenv view.test=yes"
[ "$sum" = "$(sha256sum <"$WORK/g.img")" ] && ok || bad "the guest image was modified"
no_leftovers "-d only"

# --boot-part: a label works, a missing name is refused with what the view has.
run "$WORK/bl.log" --loader-dir "$dir" -d "$WORK/g.img" --boot-part by-label/rootfs "$VM"; st=$?
expect_status $st 2 "--boot-part by-label/rootfs"
expect_text "$WORK/bl.log.err" "host0: is by-label/rootfs of the view"
run "$WORK/bp.log" --loader-dir "$dir" -d "$WORK/g.img" --boot-part disk0p9 "$VM"; st=$?
expect_status $st 1 "--boot-part disk0p9"
expect_text "$WORK/bp.log.err" "kvmload: --boot-part disk0p9: No such file or directory (the view has: disk0p2)"
no_leftovers "--boot-part disk0p9"

# The boot partition is searched disk by disk: a data disk first, the boot disk second.
mkdir -p "$WORK/data/srv"
echo data >"$WORK/data/srv/file"
make_ufs2 "$WORK/data" "$WORK/data.img"
run "$WORK/two.log" --loader-dir "$dir" -d "$WORK/data.img" -d "$WORK/g.img" "$VM"
expect_text "$WORK/two.log.err" "host0: is disk1p2 of the view ($RUN/view/disk1p2)"
expect_text "$WORK/two.log.err" "guest /boot/loader says 4th"
no_leftovers "two disks"
# No partition with /boot at all.
run "$WORK/nob.log" --loader-dir "$dir" -d "$WORK/data.img" "$VM"; st=$?
expect_status $st 1 "no bootable partition"
expect_text "$WORK/nob.log.err" "kvmload: no UFS partition or ZFS boot dataset of the disks has /boot/loader or /boot/kernel (the view has: disk0); name one with --boot-part"
expect_no_text "$WORK/nob.log" "Consoles:"
no_leftovers "no bootable partition"

# 3. -h only: host0 is the host tree, through the view; a lua tree gets userboot_lua.so.
guest "$WORK/h" '$Interpreter:lua\0'
run "$WORK/h.log" --loader-dir "$dir" -h "$WORK/h" "$VM"; st=$?
expect_status $st 2 "-h only"
expect_text "$WORK/h.log.err" "host0: is host0 of the view ($RUN/view/host0)"
expect_text "$WORK/h.log.err" "guest /boot/loader says lua: using $dir/userboot_lua.so (host plugin directory)"
[ "$(plugin_starts "$WORK/h.log")" -eq 1 ] && ok || bad "-h lua: expected one plugin start"
expect_text "$WORK/h.log" "testkernel: module name=host0:/boot/modules/viewmod.ko"
no_leftovers "-h only"

# 4. --view: a view mounted by someone else is used and left mounted.
mkdir -p "$WORK/mnt"
mkfifo "$WORK/ready"
"$FS" -f --ready-fd 3 --host "$WORK/h" --disk "$WORK/g.img" "$WORK/mnt" 3>"$WORK/ready" &
fspid=$!
read -r -n 1 <"$WORK/ready"
run "$WORK/v.log" --loader-dir "$dir" --view "$WORK/mnt" -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 2 "--view, its host0"
expect_text "$WORK/v.log.err" "host0: is host0 of the view ($WORK/mnt/host0)"
expect_text "$WORK/v.log.err" "guest /boot/loader says lua"
run "$WORK/v2.log" --loader-dir "$dir" --view "$WORK/mnt" --boot-part disk0p2 -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 2 "--view --boot-part disk0p2"
expect_text "$WORK/v2.log.err" "host0: is disk0p2 of the view ($WORK/mnt/disk0p2)"
expect_text "$WORK/v2.log.err" "guest /boot/loader says 4th"
if grep -qF " $WORK/mnt fuse.kvmload-fs " /proc/mounts; then ok; else bad "--view: the view was unmounted"; fi
kill -0 $fspid 2>/dev/null && ok || bad "--view: the view's daemon is gone"
[ -e "$RUN" ] && bad "--view made $RUN" || ok

# 5. --view-release-fd: once the loader is done kvmload asks the view's owner (view_owner.py,
#    as kvmload-hotplug) with 'R', and the guest runs only on its 'K'.
owner() { # owner LOG MODE: kvmload on the view, its owner answering as MODE says
	python3 "$OWNER" "$2" "$KVMLOAD" "${MACHINE[@]}" -m 64M --loader-dir "$dir" --view "$WORK/mnt" \
		-d "$WORK/g.img" "$VM" </dev/null >"$1" 2>"$1.err"
}
owner "$WORK/ra.log" answer; st=$?
expect_status $st 2 "--view-release-fd, answered"
expect_text "$WORK/ra.log" "owner: got R"
expect_text "$WORK/ra.log" "testkernel: halt"
for mode in close wrong; do
	owner "$WORK/r$mode.log" $mode; st=$?
	expect_status $st 4 "--view-release-fd, the owner's $mode"
	expect_text "$WORK/r$mode.log" "owner: got R"
	fd=$(sed -n 's/^owner: fd //p' "$WORK/r$mode.log")
	expect_text "$WORK/r$mode.log.err" \
		"kvmload: the view at $WORK/mnt was not released (no 'K' on --view-release-fd $fd within 30 s)"
	expect_no_text "$WORK/r$mode.log" "testkernel:"
done
run "$WORK/vh.log" --view "$WORK/mnt" -h "$WORK/h" "$VM"; st=$?
expect_status $st 64 "--view with -h"
expect_text "$WORK/vh.log.err" "not with --view"
fusermount3 -u "$WORK/mnt"
wait $fspid
run "$WORK/vn.log" --view "$WORK/no-such-view" "$VM"; st=$?
expect_status $st 64 "--view of a missing directory"
expect_text "$WORK/vn.log.err" "kvmload: --view $WORK/no-such-view: No such file or directory"
run "$WORK/be.log" --boot-part '' -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 64 "--boot-part ''"
expect_text "$WORK/be.log.err" "kvmload: --boot-part '': name a directory of the view"

# 5. A plugin from the guest's own /boot runs in the sandbox with no option; --trust-guest-loader
#    is accepted and changes nothing; only --no-sandbox needs it again.
guest "$WORK/own" ''
cp "$UB4TH" "$WORK/own/boot/userboot.so"
make_gpt_ufs2 "$WORK/own" "$WORK/own.img"
own=$RUN/view/disk0p2/boot/userboot.so
run "$WORK/o1.log" --loader-dir "$WORK/empty" -d "$WORK/own.img" "$VM"; st=$?
expect_status $st 2 "guest plugin in the sandbox"
expect_text "$WORK/o1.log.err" "kvmload: guest /boot/loader has no \$Interpreter: marker, so 4th: using $own (the guest's own /boot: untrusted, confined by the sandbox)"
expect_text "$WORK/o1.log" "testkernel: module name=host0:/boot/modules/viewmod.ko type=elf obj module"
expect_line "$WORK/o1.log" "testkernel: halt"
no_leftovers "guest plugin in the sandbox"
run "$WORK/o2.log" --loader-dir "$WORK/empty" --trust-guest-loader -d "$WORK/own.img" "$VM"; st=$?
expect_status $st 2 "guest plugin with the no-op --trust-guest-loader"
expect_text "$WORK/o2.log.err" "using $own (the guest's own /boot: untrusted, confined by the sandbox)"
expect_line "$WORK/o2.log" "testkernel: halt"
run "$WORK/o4.log" --loader-dir "$WORK/empty" --no-sandbox -d "$WORK/own.img" "$VM"; st=$?
expect_status $st 1 "guest plugin with --no-sandbox alone"
expect_line "$WORK/o4.log.err" "kvmload: WARNING: --no-sandbox: the userboot plugin runs with kvmload's privileges, every system call and every file; use it only to debug a plugin"
expect_text "$WORK/o4.log.err" "kvmload: guest /boot/loader has no \$Interpreter: marker, so 4th: the only plugin found is the guest's own $own, untrusted code that would run with kvmload's privileges under --no-sandbox; pass --trust-guest-loader to use it"
expect_no_text "$WORK/o4.log" "Consoles:"
no_leftovers "guest plugin with --no-sandbox alone"
run "$WORK/o5.log" --loader-dir "$WORK/empty" --no-sandbox --trust-guest-loader -d "$WORK/own.img" "$VM"; st=$?
expect_status $st 2 "guest plugin with --no-sandbox --trust-guest-loader"
expect_text "$WORK/o5.log.err" "using $own (the guest's own /boot: untrusted, allowed without the sandbox by --trust-guest-loader)"
expect_line "$WORK/o5.log" "testkernel: halt"
no_leftovers "guest plugin without the sandbox"
# The host's plugin wins over the guest's.
run "$WORK/o3.log" --loader-dir "$dir" -d "$WORK/own.img" "$VM"; st=$?
expect_status $st 2 "host plugin before the guest's"
expect_text "$WORK/o3.log.err" "using $dir/userboot_4th.so (host plugin directory)"

# 6. No plugin anywhere: every place looked is named.
run "$WORK/none.log" --loader-dir "$WORK/empty" -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 1 "no plugin found"
expect_text "$WORK/none.log.err" "kvmload: guest /boot/loader says 4th: $WORK/empty/userboot_4th.so: No such file or directory; $WORK/empty/userboot.so: No such file or directory; $RUN/view/disk0p2/boot/userboot_4th.so: No such file or directory; $RUN/view/disk0p2/boot/userboot.so: No such file or directory"
no_leftovers "no plugin found"

# 7. The view daemon cannot start: status 4, nothing left behind.
KVMLOAD_FS=/bin/false run "$WORK/f1.log" --loader-dir "$dir" -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 4 "view daemon exits at once"
expect_text "$WORK/f1.log.err" "kvmload: the view daemon /bin/false exited with status 1 before its mount at $RUN/view was ready"
no_leftovers "view daemon exits at once"
KVMLOAD_FS=$WORK/no-such-fs run "$WORK/f2.log" --loader-dir "$dir" -d "$WORK/g.img" "$VM"; st=$?
expect_status $st 4 "no view daemon"
expect_text "$WORK/f2.log.err" "kvmload: the view daemon $WORK/no-such-fs: No such file or directory (set KVMLOAD_FS to its path)"
no_leftovers "no view daemon"
# A disk with nothing the view can show: no bootable partition; with -l, host0: stays empty.
head -c 1048576 /dev/zero >"$WORK/zero.img"
run "$WORK/z1.log" --loader-dir "$dir" -d "$WORK/zero.img" "$VM"; st=$?
expect_status $st 1 "a blank disk"
expect_text "$WORK/z1.log.err" "kvmload: no UFS partition or ZFS boot dataset of the disks has /boot/loader or /boot/kernel (the view has: nothing); name one with --boot-part"
no_leftovers "a blank disk"
run "$WORK/z2.log" -l "$UB4TH" -d "$WORK/zero.img" "$VM"; st=$?
expect_status $st 1 "a blank disk with -l"
expect_text "$WORK/z2.log.err" "(the view has: nothing); name one with --boot-part; host0: stays empty"
expect_text "$WORK/z2.log" "miniboot: disk0: no usable UFS file system"
no_leftovers "a blank disk with -l"
lib_done
