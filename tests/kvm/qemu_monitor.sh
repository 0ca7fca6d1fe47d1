#!/bin/bash
# qemu_monitor.sh: a QEMU whose monitor stops reading, or sends a line kvmload cannot read, is taken for gone: one line says so, QEMU is killed, status 4; one that ends while the loader runs stops the loader, one that refuses a disk never runs the guest (status 4, its words said); one that stays after reporting the guest's end is killed, with the status reported; never a hang (fake_qemu.py as QEMU).
. "$(dirname "$0")/lib.sh"
need_tools python3 makefs sgdisk
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3
VM=qemumon-$$
# QEMU runs in a mount namespace of its own where /tmp, /var/tmp, /run, /home and /root are
# empty (kvmload(8), SECURITY): the fake must be where it can see it, whatever the checkout's place.
FAKEDIR=$(mktemp -d /var/cache/kvmload-fakeqemu.XXXXXX) || exit 1
on_exit 'rm -rf "$FAKEDIR"'
chmod 755 "$FAKEDIR"
FAKE=$FAKEDIR/fake_qemu.py
install -m 755 "$4" "$FAKE"
# The fake runs as QEMU would: as root, as the unprivileged user, which must reach it.
if [ "$(id -u)" -eq 0 ] && id kvmload >/dev/null 2>&1 && ! runuser -u kvmload -- test -x "$FAKE"; then
	skip "the user kvmload cannot run $FAKE"
fi
# Kept when a check fails, and said where.
D=$(mktemp -d /tmp/kvmload-qemumon.XXXXXX)
scratch_dir "$D"
export KVMLOAD_RUN_DIR=$D/run

tree=$D/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults" "$KVMLOAD_RUN_DIR"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' >"$tree/boot/defaults/loader.conf"

for c in "deaf took no command for 2 s" \
	"long sent a message kvmload cannot read (malformed, or over 256 KiB)"; do
	set -- $c
	mode=$1; shift
	# Bounded: timeout(1)'s SIGTERM cannot end a kvmload stuck in a write, its -k can.
	FAKE_QEMU=$mode KVMLOAD_QEMU=$FAKE timeout -k 10 60 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -h "$tree" $VM \
		</dev/null >"$D/$mode.log" 2>"$D/$mode.err"; st=$?
	expect_status $st 4 "a QEMU whose monitor is $mode"
	expect_line "$D/$mode.err" "fake_qemu: $mode"
	expect_line "$D/$mode.err" "kvmload: QEMU's monitor $*: killing QEMU in 5 s"
	expect_line "$D/$mode.err" "kvmload: QEMU was killed by Killed"
	[ -e "$KVMLOAD_RUN_DIR/$VM" ] && bad "$mode: runtime directory left behind" || ok
done

# A QEMU that ends while the loader waits at its prompt (QEMU starts before the loader runs): the
# loader is stopped, QEMU's own words and its status said, status 4, nothing left behind.
ptree=$D/prompt
mkdir -p "$ptree/boot/kernel"
cp "$KERNEL" "$ptree/boot/kernel/kernel"
printf 'autoboot_delay="NO"\n' >"$ptree/boot/loader.conf"
mkfifo "$D/in"
sleep 600 >"$D/in" &
holder=$!
on_exit "kill $holder 2>/dev/null"
FAKE_QEMU=die KVMLOAD_QEMU=$FAKE timeout -k 10 60 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -h "$ptree" $VM \
	<"$D/in" >"$D/die.log" 2>"$D/die.err"; st=$?
expect_status $st 4 "a QEMU that ends while the loader runs"
lines_in_order "$D/die.err" "kvmload: QEMU ended before the loader was done: stopped the loader" \
	"fake_qemu: die" "kvmload: QEMU exited with status 1 before the guest started"
[ -e "$KVMLOAD_RUN_DIR/$VM" ] && bad "die: runtime directory left behind" || ok
grep -qF "$KVMLOAD_RUN_DIR/$VM/view" /proc/mounts && bad "die: the view is still mounted" || ok
# One that cannot open a disk it is handed: QEMU's words, status 4, the guest never runs.
make_gpt_ufs2 "$tree" "$D/g.img"
FAKE_QEMU=refuse KVMLOAD_QEMU=$FAKE timeout -k 10 60 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -d "$D/g.img" $VM \
	</dev/null >"$D/refuse.log" 2>"$D/refuse.err"; st=$?
expect_status $st 4 "a QEMU that refuses the disk"
expect_line "$D/refuse.err" "kvmload: QEMU refused the disk $D/g.img (drive_add): Could not open '/dev/fdset/0': Permission denied"
expect_no_text "$D/refuse.log" "testkernel:"
[ -e "$KVMLOAD_RUN_DIR/$VM" ] && bad "refuse: runtime directory left behind" || ok
# Read-only, the disk is a blockdev-add node: a QMP error says why the same way.
FAKE_QEMU=refuse KVMLOAD_QEMU=$FAKE timeout -k 10 60 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -d "$D/g.img" --ro $VM \
	</dev/null >"$D/refuse-ro.log" 2>"$D/refuse-ro.err"; st=$?
expect_status $st 4 "a QEMU that refuses the read-only disk"
expect_line "$D/refuse-ro.err" "kvmload: QEMU refused the disk $D/g.img (blockdev-add): Could not open '/dev/fdset/0': Permission denied"
[ -e "$KVMLOAD_RUN_DIR/$VM" ] && bad "refuse --ro: runtime directory left behind" || ok

# A QEMU that reported the guest's end with a question under way and stays (QEMU 7.2 can hang in
# its clean-up then): killed 5 s later, said so, the status the one reported.
t0=$SECONDS
FAKE_QEMU=hang KVMLOAD_QEMU=$FAKE timeout -k 10 60 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -h "$tree" $VM \
	</dev/null >"$D/hang.log" 2>"$D/hang.err"; st=$?
expect_status $st 1 "a QEMU that stays after the guest powered off"
expect_line "$D/hang.err" "kvmload: QEMU did not exit after the guest's end: killing it"
expect_line "$D/hang.err" "kvmload: the guest powered off"
[ $((SECONDS - t0)) -lt 20 ] && ok || bad "the hanging QEMU was killed after $((SECONDS - t0)) s, not 5"
# One with no question under way is given its time to close its disks: 8 s here, not killed.
FAKE_QEMU=slow KVMLOAD_QEMU=$FAKE timeout -k 10 60 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -h "$tree" $VM \
	</dev/null >"$D/slow.log" 2>"$D/slow.err"; st=$?
expect_status $st 1 "a QEMU slow to exit after the guest powered off"
expect_line "$D/slow.err" "fake_qemu: slow: disks closed"
expect_line "$D/slow.err" "kvmload: the guest powered off"
expect_no_text "$D/slow.err" "killing"
lib_done
