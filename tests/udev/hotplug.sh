#!/bin/bash
# hotplug.sh: end to end with a real systemd-udevd started here: kvmload@.service's commands,
# then kvmload-hotplug --monitor: attach boots the configured guest, detach stops it and cleans
# up, the view is released before the guest runs, the view's server and QEMU run as the
# unprivileged user, a second add does nothing, coldplug, and 50
# rapid attach/detach cycles leak nothing; a read-only device boots read-only with a qcow2 disk =,
# and a FIFO disk = starts nothing.
# usage: hotplug.sh KVMLOAD-HOTPLUG KVMLOAD KVMLOAD-FS DEMO-IMG USERBOOT.SO UNIT-FILE RULES-FILE TP-DELAY.SO
. "$(dirname "$0")/lib.sh"
HOTPLUG=$1 KVMLOAD=$2 KVMLOAD_FS=$3 DEMO=$4 LOADER_DIR=$(dirname "$5") UNIT=$6 RULES=$7 TP_DELAY=$(realpath "$8")
need_root
need_tools udevadm losetup partx sgdisk
# The guest runs on QEMU (with qboot) either way: KVM where /dev/kvm is usable, so the default
# accelerator stays tested where it can run, else QEMU's emulator (TCG); the test is about
# hotplug, not the accelerator.
need_tools qemu-system-x86_64
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
udev_accel
need_fuse
[ -r "$DEMO" ] || skip "no demo guest $DEMO"
need_udevd

R=$WORK/run            # --run-dir: nothing here touches /run/kvmload
C=$WORK/conf
LOG=$WORK/hotplug.log  # every kvmload-hotplug message, in order
OPTS=(--config-dir "$C" --run-dir "$R" --kvmload "$KVMLOAD" --kvmload-fs "$KVMLOAD_FS" --stop-timeout 5)

mounted() { grep -qF " $1 " /proc/mounts; }
gone() { [ ! -e "$1" ]; }
pid_alive() { kill -0 "$1" 2>/dev/null; }
pid_dead() { ! kill -0 "$1" 2>/dev/null; }
# Our processes: every kvmload and kvmload-fs we start names a path under $R; the QEMU that
# runs a guest names none, but inherits this mark from kvmload (other tests on this machine
# run QEMU too).
export KVMLOAD_UDEV_TEST=$WORK
ours() {
	{
		pgrep -f -- "$R/"
		marked qemu-system-x86 KVMLOAD_UDEV_TEST
	} | grep -vx "$$" || true
}

# ---- four guests: "halt" (the demo guest, halts), "spin" (the same image whose kernel
# spins until stopped, so it is alive when its disk goes), "slow" (a plugin that sleeps 3 s
# with the view mounted, then quits) and "rodev" (halts; without ro =, on a read-only device,
# with a qcow2 image as a second disk), each with new GUIDs: no other copy of the demo image on
# this machine names our VMs.
guest_copies "$DEMO" halt spin slow rodev
mkdir -p "$C"
cat >"$C/guests.conf" <<EOF
# the demo guest: boots, prints, halts; not loaded again
[vm halt]
part-uuid = $(uuid "$WORK/halt.img")
memory = 128M
loader-dir = $LOADER_DIR
restart = no
cpus = 1
net = none
accel = $ACCEL
ro = yes

[vm slow]
part-uuid = $(uuid "$WORK/slow.img")
memory = 128M
loader = $TP_DELAY
accel = $ACCEL
restart = no

[vm spin]
part-uuid = $(uuid "$WORK/spin.img")
memory = 128M
loader-dir = $LOADER_DIR
env = testkernel.exit=spin
ro = yes
EOF
# spin keeps the default accelerator (kvm) where it can run.
[ "$ACCEL" = kvm ] || echo "accel = $ACCEL" >>"$C/guests.conf"
# rodev: its device is read-only (attach) and nothing says ro =; the guest sums its disks'
# first sectors.  Its second disk (the last line), a qcow2 image served by qemu-storage-daemon,
# holds a pattern.
cat >>"$C/guests.conf" <<EOF

[vm rodev]
part-uuid = $(uuid "$WORK/rodev.img")
memory = 128M
loader-dir = $LOADER_DIR
restart = no
accel = $ACCEL
env = testkernel.blksum=8
EOF
QCOW=
if command -v qemu-img >/dev/null && command -v qemu-storage-daemon >/dev/null; then
	truncate -s 8M "$WORK/pattern.img"
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(i * 7 & 255 for i in range(4096)))' |
		dd of="$WORK/pattern.img" conv=notrunc status=none
	qemu-img convert -O qcow2 "$WORK/pattern.img" "$WORK/pattern.qcow2"
	echo "disk = $WORK/pattern.qcow2" >>"$C/guests.conf"
	QCOW=$WORK/pattern.qcow2
fi
"$HOTPLUG" --config-dir "$C" --check >/dev/null || { echo "test config rejected" >&2; exit 1; }

# ---- a real udevd with our rules (from the build)
udevd_start "$RULES"

# ---- a read-only device and a qcow2 disk = line: add opens both as kvmload will, kvmload
# gives the device to the guest read-only (saying so, though the VM has no ro =) and the image
# writable, and the guest boots and reads both.
V=$(attach "$WORK/rodev.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>>"$LOG"
check "rodev: add exits once the guest halted" 0 $?
check "rodev: status" "exited: status 2, halted" "$(head -1 "$R/rodev/status" 2>&1)"
expect "rodev: kvmload gives the read-only device read-only" grep -qxF \
	"kvmload: -d $V: read-only (a read-only block device): the guest gets it read-only" "$LOG"
expect "rodev: the guest read its read-only device" has_text "$R/rodev/console.log" \
	"testkernel: blk0 ro=1 sectors=$(($(stat -c %s "$WORK/rodev.img") / 512)) sum=$(crc8 "$WORK/rodev.img")"
if [ -n "$QCOW" ]; then
	expect "rodev: the guest read the qcow2 image's bytes, writable" has_text "$R/rodev/console.log" \
		"testkernel: blk1 ro=0 sectors=16384 sum=$(crc8 "$WORK/pattern.img")"
	check "rodev: no qemu-storage-daemon left" "" "$(marked qemu-storage-da KVMLOAD_UDEV_TEST)"
else
	skip_part "rodev's qcow2 disk needs qemu-img and qemu-storage-daemon"
fi
"$HOTPLUG" "${OPTS[@]}" remove "${V}p2" 2>>"$LOG"
expect "rodev: runtime directory removed" gone "$R/rodev"
detach "$V"
# The same VM with a FIFO as its disk =: add says which disk, on which line, and starts nothing.
mkfifo "$WORK/fifo"
if [ -n "$QCOW" ]; then
	sed -i "s|^disk = .*|disk = $WORK/fifo|" "$C/guests.conf"
else
	echo "disk = $WORK/fifo" >>"$C/guests.conf"
fi
V=$(attach "$WORK/rodev.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>"$WORK/fifo.err"
check "rodev with a FIFO disk: add's status (EX_NOINPUT)" 66 $?
check "rodev with a FIFO disk: message" "kvmload-hotplug: vm rodev: disk $WORK/fifo ($C/guests.conf:$(wc -l <"$C/guests.conf")): a FIFO, not a regular file or block device; not starting" \
	"$(cat "$WORK/fifo.err")"
expect "rodev with a FIFO disk: nothing left" gone "$R/rodev"
detach "$V"
# kvmload itself refuses to run it (a plugin directory that is gone: 64): add says so by its status.
sed -i -e "/^disk = /d" -e "/^\[vm rodev\]/,\$ s|^loader-dir = .*|loader-dir = $WORK/gone|" "$C/guests.conf"
V=$(attach "$WORK/rodev.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>"$WORK/gone.err"
check "rodev, kvmload refusing: add's status is kvmload's" 64 $?
expect "rodev, kvmload refusing: its message" grep -qF "kvmload: --loader-dir $WORK/gone: No such file or directory" \
	"$WORK/gone.err"
check "rodev, kvmload refusing: status" "exited: status 64" "$(head -1 "$R/rodev/status" 2>&1)"
"$HOTPLUG" "${OPTS[@]}" remove "${V}p2" 2>>"$LOG"
expect "rodev, kvmload refusing: runtime directory removed" gone "$R/rodev"
detach "$V"

# ---- kvmload@.service without systemd: its commands, run the way systemd would
H=$(attach "$WORK/halt.img") || exit 1
wants=$(udevadm info -q property -n "${H}p2" | sed -n 's/^SYSTEMD_WANTS=//p')
check "SYSTEMD_WANTS from the real udevd" "kvmload@$(basename "$H")p2.service" "$wants"
inst=${wants#kvmload@}
inst=${inst%.service}
unit_line() { sed -n "s/^$1=//p" "$UNIT"; }
check "unit binds to the device" "dev-%i.device" "$(unit_line BindsTo)"
check "unit starts after the device" "dev-%i.device" "$(unit_line After)"
start=$(unit_line ExecStart) stop=$(unit_line ExecStop)
check "ExecStart" "add /dev/%I" "${start#*/kvmload-hotplug }"
check "ExecStop" "remove /dev/%I" "${stop#*/kvmload-hotplug }"
# unit_cmd LINE: the command with the build's binary, the test's directories and %I expanded
unit_cmd() { local args=${1#*/kvmload-hotplug }; echo "${args//%I/$inst}"; }

# What add would do, without doing it.
check "dry-run add" "vm halt: ${H}p2 matches ($C/guests.conf:2)
console server: $R/halt/console.sock, log $R/halt/console.log
mkdir $R/halt/view
$KVMLOAD_FS -f --ready-fd 3 --disk-fd 4:$H $R/halt/view
$KVMLOAD --view $R/halt/view --view-release-fd 3 --disk-fd 4:$H -m 128M --loader-dir $LOADER_DIR --cpus 1 --net none --accel $ACCEL --ro halt <>console-server
on 'R' from fd 3: stop kvmload-fs, umount $R/halt/view, answer 'K'
on exit: stop" "$("$HOTPLUG" "${OPTS[@]}" --dry-run add "${H}p2")"
expect "dry-run add started nothing" gone "$R/halt"
# The freebsd-boot partition names no VM: ignored, one debug line.
check "unknown disk" "kvmload-hotplug: ${H}p1: no vm names this disk; ignored" \
	"$("$HOTPLUG" "${OPTS[@]}" -v add "${H}p1" 2>&1)"
# shellcheck disable=SC2046
"$HOTPLUG" "${OPTS[@]}" $(unit_cmd "$start") 2>>"$LOG" &
main=$!
wait "$main"
check "ExecStart exits once the halting guest is done" 0 $?
expect "halt: console log shows the test kernel" has_text "$R/halt/console.log" "testkernel: halt"
expect "halt: console log shows the loader.conf value" has_text "$R/halt/console.log" \
	"testkernel: kenv demo.greeting=hello from the demo guest"
check "halt: status" "exited: status 2, halted" "$(head -1 "$R/halt/status" 2>&1)"
expect "halt: view unmounted after the guest ended" gone "$R/halt/view"
# shellcheck disable=SC2046
"$HOTPLUG" "${OPTS[@]}" $(unit_cmd "$stop") 2>>"$LOG"
check "ExecStop after the guest ended" 0 $?
expect "halt: runtime directory removed by ExecStop" gone "$R/halt"
detach "$H"

S=$(attach "$WORK/spin.img") || exit 1
inst=$(basename "$S")p2
# shellcheck disable=SC2046
"$HOTPLUG" "${OPTS[@]}" $(unit_cmd "$start") 2>>"$LOG" &
main=$!
expect "spin (unit): guest running" wait_for 60 has_text "$R/spin/console.log" "testkernel: spin"
gpid=$(cut -d' ' -f1 "$R/spin/kvmload.pid")
t0=$SECONDS
# shellcheck disable=SC2046
"$HOTPLUG" "${OPTS[@]}" $(unit_cmd "$stop") 2>>"$LOG"
check "ExecStop on a running guest" 0 $?
# SIGTERM is an ACPI power-down, which the spin kernel answers at once: not kvmload's 30 s kill.
expect "ExecStop: the guest powered down (in $((SECONDS - t0)) s, under 15)" [ $((SECONDS - t0)) -lt 15 ]
wait "$main"
check "ExecStart ends after ExecStop" 0 $?
expect "spin (unit): kvmload stopped" pid_dead "$gpid"
expect "spin (unit): runtime directory removed" gone "$R/spin"
detach "$S"

# ---- one holder per VM, whichever program holds it: a kvmload started by hand with the name of
# a supervised VM is refused and touches nothing, and so is a supervisor for a VM that a kvmload
# started by hand holds.  KVMLOAD_RUN_DIR puts kvmload's runtime directories where --run-dir
# puts ours.  The "slow" plugin keeps its view mounted for 3 s.
L=$(attach "$WORK/slow.img") || exit 1
BYHAND=(--accel "$ACCEL" -m 128M -l "$TP_DELAY" -d "$WORK/slow.img" slow)
"$HOTPLUG" "${OPTS[@]}" add "${L}p2" 2>>"$LOG" &
main=$!
expect "slow (supervised): its plugin runs with the view mounted" wait_for 30 eval \
	'mounted "$R/slow/view" && has_text "$R/slow/console.log" "."'
sup=$(cut -d' ' -f1 "$R/slow/holder") gpid=$(cut -d' ' -f1 "$R/slow/kvmload.pid")
# The view's daemon (kvmload-fs.pid: the mount's owner) serves from a child, unprivileged.
fsown=$(cut -d' ' -f1 "$R/slow/kvmload-fs.pid")
confined "slow (supervised): the view's server" "$(pgrep -P "$fsown" -x kvmload-fs-srv)" kvmload
KVMLOAD_RUN_DIR=$R "$KVMLOAD" "${BYHAND[@]}" </dev/null >"$WORK/byhand.out" 2>"$WORK/byhand.err"
check "kvmload on a supervised vm: status" 4 $?
check "kvmload on a supervised vm: message" \
	"kvmload: vm slow is held by kvmload-hotplug (pid $sup, $R/slow/holder)" "$(cat "$WORK/byhand.err")"
expect "kvmload on a supervised vm: the supervised view stays mounted" mounted "$R/slow/view"
expect "kvmload on a supervised vm: the supervised guest keeps running" pid_alive "$gpid"
check "kvmload on a supervised vm: the holder stays" "$sup kvmload-hotplug" "$(cat "$R/slow/holder")"
wait "$main"
check "slow (supervised): the supervisor ends with its guest" 0 $?
check "slow (supervised): the guest ran its whole plugin" "exited: status 3, triple fault" \
	"$(head -1 "$R/slow/status" 2>&1)"
"$HOTPLUG" "${OPTS[@]}" remove "${L}p2" 2>>"$LOG"
expect "slow (supervised): runtime directory removed" gone "$R/slow"

KVMLOAD_RUN_DIR=$R "$KVMLOAD" "${BYHAND[@]}" </dev/null >"$WORK/first.out" 2>"$WORK/first.err" &
kpid=$!
expect "slow (by hand): its plugin runs with the view mounted" wait_for 30 eval \
	'mounted "$R/slow/view" && has_text "$WORK/first.out" "."'
"$HOTPLUG" "${OPTS[@]}" add "${L}p2" 2>"$WORK/refused.err"
check "add on a vm kvmload holds: exit status (EX_TEMPFAIL)" 75 $?
check "add on a vm kvmload holds: message" \
	"kvmload-hotplug: vm slow: held by kvmload (pid $kpid); not starting it for ${L}p2" \
	"$(cat "$WORK/refused.err")"
expect "add on a vm kvmload holds: kvmload's view stays mounted" mounted "$R/slow/view"
expect "add on a vm kvmload holds: kvmload keeps running" pid_alive "$kpid"
check "add on a vm kvmload holds: no record of ours" "" "$(ls "$R/slow" | grep -v -x -e holder -e view -e kvmload-fs.pid -e disk)"
check "kvmload by hand records its disk" "$WORK/slow.img" "$(cat "$R/slow/disk")"
wait "$kpid"
check "slow (by hand): kvmload ends as its plugin says" 3 $?
expect "slow (by hand): runtime directory removed" gone "$R/slow"
expect "slow (by hand): view unmounted" eval '! mounted "$R/slow/view"'
detach "$L"

# ---- kvmload-hotplug --monitor
start_monitor() {
	"$HOTPLUG" "${OPTS[@]}" --monitor -v 2>>"$LOG" &
	MON=$!
	wait_for 30 grep -q "monitoring block devices" "$LOG"
}
stop_monitor() {
	local st
	kill "$MON"
	wait "$MON"
	st=$?
	MON=
	return $st
}
MON=
on_exit '[ -z "$MON" ] || { kill $MON; wait $MON; }'
start_monitor

H=$(attach "$WORK/halt.img") || exit 1
expect "monitor: halt guest boots and halts" wait_for 60 has_text "$R/halt/status" "exited: status 2, halted"
expect "monitor: halt console" has_text "$R/halt/console.log" "testkernel: halt"
expect "monitor: halt view unmounted" gone "$R/halt/view"
detach "$H"
expect "monitor: detach removes the halted guest's directory" wait_for 30 gone "$R/halt"

S=$(attach "$WORK/spin.img") || exit 1
expect "monitor: spin guest running" wait_for 60 has_text "$R/spin/console.log" "testkernel: spin"
gpid=$(cut -d' ' -f1 "$R/spin/kvmload.pid")
expect "monitor: kvmload alive" pid_alive "$gpid"
qpid=$(pgrep -P "$gpid" -x qemu-system-x86)
expect "monitor: the guest runs in QEMU, one of our processes" eval '[ -n "$qpid" ] && ours | grep -qx "$qpid"'
confined "monitor: QEMU" "$qpid" kvmload
# kvmload handed the view back before the guest ran: no view, no kvmload-fs.
expect "monitor: view released for the guest" eval '! mounted "$R/spin/view"'
expect "monitor: no kvmload-fs record once released" gone "$R/spin/kvmload-fs.pid"
expect "monitor: release logged" grep -q "vm spin: kvmload released the view" "$LOG"
check "monitor: kvmload read the view" "--view" \
	"$(tr '\0' '\n' </proc/"$gpid"/cmdline | grep -x -- --view)"
check "monitor: kvmload got its release socket as fd 3" "--view-release-fd 3" \
	"$(tr '\0' '\n' </proc/"$gpid"/cmdline | grep -x -A1 -- --view-release-fd | paste -sd' ')"
# A second add, as a second unit or a change storm would do it, is a no-op.
"$HOTPLUG" "${OPTS[@]}" add "${S}p2" 2>"$WORK/second.err"
check "second add: exit status" 0 $?
check "second add: message" "kvmload-hotplug: vm spin: already running; nothing to do for ${S}p2" \
	"$(cat "$WORK/second.err")"
check "second add: same kvmload" "$gpid" "$(cut -d' ' -f1 "$R/spin/kvmload.pid")"
# kvmload gets at least 40 s: its own ACPI power-down wait is 30 s.
check "dry-run remove" "vm spin: stop kvmload pid $gpid (SIGTERM, SIGKILL after 40 s)" \
	"$("$HOTPLUG" "${OPTS[@]}" --dry-run remove "${S}p2" | head -1)"
expect "dry-run remove changed nothing" pid_alive "$gpid"
detach "$S"
# The spin kernel answers the ACPI power button: kvmload ends well before its 30 s kill.
expect "monitor: detach stops kvmload (an ACPI power-down, within 15 s)" wait_for 15 pid_dead "$gpid"
expect "monitor: detach removes the runtime directory" wait_for 60 gone "$R/spin"
expect "monitor: view unmounted" wait_for 10 eval '! mounted "$R/spin/view"'

# Coldplug: a disk attached while no monitor runs is found when it starts.
stop_monitor
S=$(attach "$WORK/spin.img") || exit 1
start_monitor
expect "coldplug: guest running" wait_for 60 has_text "$R/spin/console.log" "testkernel: spin"
# Stopping the monitor stops the guests it started.
stop_monitor
expect "monitor exit: runtime directory removed" gone "$R/spin"
detach "$S"
start_monitor

# ---- 50 rapid attach/detach cycles, not waiting for anything in between: a removal finds
# the guest being set up, running or ended.  The halting guest, which ends by itself within
# a second: a removal that caught the spin guest still booting (QEMU up, its kernel not yet
# listening: it arms the power button when it prints "spin") would press a button nobody
# hears, and kvmload waits its 30 s before it kills QEMU, the monitor waiting with it.
before=$(grep -c 'vm halt: guest started' "$LOG") t0=$SECONDS
for i in $(seq 50); do
	dev=$(losetup -r -f --show "$WORK/halt.img") || { bad "losetup in cycle $i"; break; }
	LOOPS="$LOOPS $dev"
	partx -a "$dev" 2>/dev/null
	loop_detach "$dev"
done
udevadm settle -t 60
# The monitor takes events one at a time and logs each as it takes it; a remove may wait for a
# guest's power-down, so it lags behind udevd.  An "online" event (nothing else here sends
# one) on a device of ours queues behind all of the cycles' events: once it is logged, every
# supervisor the monitor will fork is forked.  Until they end, one may hold (and so have
# created) the VM's lock file.
truncate -s 1M "$WORK/blank.img"
mark=$(losetup -r -f --show "$WORK/blank.img") || exit 1
LOOPS="$LOOPS $mark"
udevadm settle -t 60
udevadm trigger -c online "$mark"
expect "cycles: the monitor took every event" wait_for 120 \
	grep -qF "event online /sys/devices/virtual/block/$(basename "$mark")" "$LOG"
expect "cycles: every guest stopped" wait_for 120 eval '[ -z "$(pgrep -P "$MON")" ]'
check "cycles: runtime directory empty (no VM directory, no lock file)" "" "$(ls -A "$R")"
check "cycles: no mount left" "" "$(grep -F " $R/" /proc/mounts)"
check "cycles: no kvmload, kvmload-fs or QEMU left" "" "$(ours)"
# Under the VM lock a guest starts only when none runs: in the log, starts and stops of
# each VM alternate.
for vm in halt spin; do
	pairs=$(grep -E "vm $vm: (guest started|stopped|the guest exited|not started|stopping on signal|the view daemon exited)" "$LOG" |
		awk '/guest started/ { if (up) bad++; up = 1; next } { up = 0 } END { print bad + 0 }')
	check "never two guests for vm $vm" 0 "$pairs"
done
echo "cycles: $(($(grep -c 'vm halt: guest started' "$LOG") - before)) guests started in 50 cycles, all stopped after $((SECONDS - t0)) s"
stop_monitor
check "monitor exit status" 0 $?
if [ "$FAILED" -gt 0 ]; then
	echo "--- kvmload-hotplug log"; tail -n 60 "$LOG"
fi
lib_done
