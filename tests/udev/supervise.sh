#!/bin/bash
# supervise.sh: the supervisor's restarts and the VM list, end to end with a real systemd-udevd
# started here: list --json shows each VM's state as it comes (loading, running, restarting,
# stopped; kvmload started by hand too, loading and running); a guest that resets at once is
# loaded again after 1, 2, 4, 8 and 16 s and retired at its 6th quick reset, as the status
# history's times show, with the guest's last console lines kept for each exit; a remove and a
# SIGTERM during the back-off end it at once.
# usage: supervise.sh KVMLOAD-HOTPLUG KVMLOAD KVMLOAD-FS DEMO-IMG USERBOOT.SO RULES-FILE TP-DELAY.SO
. "$(dirname "$0")/lib.sh"
HOTPLUG=$1 KVMLOAD=$2 KVMLOAD_FS=$3 DEMO=$4 LOADER_DIR=$(dirname "$5") RULES=$6 TP_DELAY=$(realpath "$7")
need_root
need_tools udevadm losetup partx sgdisk python3 qemu-system-x86_64
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
udev_accel
need_fuse
[ -r "$DEMO" ] || skip "no demo guest $DEMO"
need_udevd

R=$WORK/run            # --run-dir: nothing here touches /run/kvmload
C=$WORK/conf
LOG=$WORK/hotplug.log  # every kvmload-hotplug message, in order
OPTS=(--config-dir "$C" --run-dir "$R" --kvmload "$KVMLOAD" --kvmload-fs "$KVMLOAD_FS" --stop-timeout 5)
# Our processes: kvmload and kvmload-fs name a path under $R, QEMU inherits this mark.
export KVMLOAD_UDEV_TEST=$WORK
ours() {
	{
		pgrep -f -- "$R/"
		marked qemu-system-x86 KVMLOAD_UDEV_TEST
	} | grep -vx "$$" || true
}
mounted() { grep -qF " $1 " /proc/mounts; }
gone() { [ ! -e "$1" ]; }
pid_dead() { ! kill -0 "$1" 2>/dev/null; }
# listed VM KEY...: each KEY of VM's object in list --json, one a line ("-" for null; "absent"
# when VM is not listed).  The whole list must be JSON.
listed() {
	"$HOTPLUG" --run-dir "$R" list --json | python3 -c '
import json, sys
vms = {o["vm"]: o for o in json.load(sys.stdin)}
for k in sys.argv[2:]:
    v = vms[sys.argv[1]][k] if sys.argv[1] in vms else "absent"
    print("-" if v is None else v)' "$@"
}
in_state() { [ "$(listed "$1" state)" = "$2" ]; }

# ---- three guests of the test kernel, each on a copy of the demo image with new GUIDs (no
# other copy on this machine names our VMs), named for this run: one that resets at once, one
# that spins until stopped, one whose plugin sleeps 3 s with the view mounted, then quits.
RST=reset$$ SPIN=spin$$ SLOW=slow$$
guest_copies "$DEMO" "$RST" "$SPIN" "$SLOW"
mkdir -p "$C"
cat >"$C/guests.conf" <<EOF
[vm $RST]
part-uuid = $(uuid "$WORK/$RST.img")
memory = 128M
loader-dir = $LOADER_DIR
env = testkernel.exit=reset
net = none
accel = $ACCEL
ro = yes

[vm $SPIN]
part-uuid = $(uuid "$WORK/$SPIN.img")
memory = 128M
loader-dir = $LOADER_DIR
env = testkernel.exit=spin
net = none
accel = $ACCEL
ro = yes

[vm $SLOW]
part-uuid = $(uuid "$WORK/$SLOW.img")
memory = 128M
loader = $TP_DELAY
accel = $ACCEL
restart = no
EOF
"$HOTPLUG" --config-dir "$C" --check >/dev/null || { echo "test config rejected" >&2; exit 1; }
udevd_start "$RULES"
# A supervisor or kvmload still running when the test ends (a failed wait) is stopped first.
BG=
on_exit 'for p in $BG; do kill "$p" 2>/dev/null && wait "$p"; done'
# reap PID: wait for a child of ours and forget it (its pid may be another's later); its status.
reap() {
	local st
	wait "$1"
	st=$?
	BG=" $BG "
	BG=${BG/ $1 / }
	return $st
}

check "list: a base that is not there is an empty list" "[]" "$("$HOTPLUG" --run-dir "$R" list --json)"

# ---- loading, then stopped: the slow plugin keeps kvmload loading for 3 s.
L=$(attach "$WORK/$SLOW.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${L}p2" 2>>"$LOG" &
sup=$! BG="$BG $!"
expect "slow: listed as loading" wait_for 30 in_state "$SLOW" loading
check "slow: holder, pid, disk, uptime of the state" "kvmload-hotplug
$sup
${L}p2
state" "$(listed "$SLOW" holder pid disk uptime_of)"
"$HOTPLUG" --run-dir "$R" list --json >"$WORK/list.json"
expect "list --json is JSON" python3 -m json.tool "$WORK/list.json" /dev/null
match "slow: a line of the text list" "$SLOW *loading *kvmload-hotplug *$sup ${L}p2 *[0-9]s (state) *-" \
	"$("$HOTPLUG" --run-dir "$R" list | grep "^$SLOW ")"
reap "$sup"
check "slow: add ends with the guest" 0 $?
check "slow: stopped, nobody holds it, its last exit" "stopped
-
-
status 3, triple fault" "$(listed "$SLOW" state holder pid last_exit)"
check "slow: the state record says why" "why: the guest exited (status 3, triple fault)" \
	"$(grep '^why: ' "$R/$SLOW/state")"
"$HOTPLUG" "${OPTS[@]}" remove "${L}p2" 2>>"$LOG"
check "slow: gone from the list after remove" absent "$(listed "$SLOW" state)"
# By hand: kvmload holds the VM itself, loading while its view is mounted, and records its disk.
KVMLOAD_RUN_DIR=$R "$KVMLOAD" --accel "$ACCEL" -m 128M -l "$TP_DELAY" -d "$WORK/$SLOW.img" "$SLOW" \
	</dev/null >"$WORK/byhand.out" 2>"$WORK/byhand.err" &
kpid=$! BG="$BG $!"
expect "by hand: listed as loading" wait_for 30 in_state "$SLOW" loading
check "by hand: holder kvmload, its pid, its disk" "kvmload
$kpid
$WORK/$SLOW.img
holder" "$(listed "$SLOW" holder pid disk uptime_of)"
reap "$kpid"
check "by hand: gone from the list with kvmload" absent "$(listed "$SLOW" state)"
detach "$L"

# ---- running: the spin guest, once kvmload released the view.
S=$(attach "$WORK/$SPIN.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${S}p2" 2>>"$LOG" &
sup=$! BG="$BG $!"
expect "spin: listed as running" wait_for 60 in_state "$SPIN" running
expect "spin: running means the view is released" eval '! mounted "$R/$SPIN/view"'
"$HOTPLUG" "${OPTS[@]}" remove "${S}p2" 2>>"$LOG"
reap "$sup"
check "spin: gone from the list after remove" absent "$(listed "$SPIN" state)"
detach "$S"
# By hand: running once kvmload released its own view.
HAND=hand$$
KVMLOAD_RUN_DIR=$R "$KVMLOAD" --accel "$ACCEL" -m 128M --loader-dir "$LOADER_DIR" --net none --ro \
	-e testkernel.exit=spin -d "$WORK/$SPIN.img" "$HAND" </dev/null >"$WORK/hand.out" 2>"$WORK/hand.err" &
kpid=$! BG="$BG $!"
expect "by hand: listed as running" wait_for 60 in_state "$HAND" running
check "by hand, running: holder kvmload, its pid, its disk" "kvmload
$kpid
$WORK/$SPIN.img" "$(listed "$HAND" holder pid disk)"
expect "by hand, running: its view is gone" gone "$R/$HAND/view"
kill -TERM "$kpid" # an ACPI power-down, which the spin kernel answers
reap "$kpid"
check "by hand, running: gone from the list with kvmload" absent "$(listed "$HAND" state)"

# ---- a guest that resets at once: restarting between runs (the view mounted again for the
# next load, no kvmload), then stopped at the 6th quick reset.
V=$(attach "$WORK/$RST.img") || exit 1
t0=$SECONDS
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>>"$LOG" &
sup=$! BG="$BG $!"
expect "reset: listed as restarting" wait_for 60 in_state "$RST" restarting
expect "reset: the view is mounted during the wait" mounted "$R/$RST/view"
expect "reset: no kvmload during the wait" eval '! pgrep -f -- "--view $R/$RST/view" >/dev/null'
expect "reset: the supervisor gives up within 100 s" wait_for 100 pid_dead "$sup"
reap "$sup"
check "reset: add ends (0) after the loop" 0 $?
echo "reset: supervisor ended after $((SECONDS - t0)) s"
check "reset: the loop logged" \
	"kvmload-hotplug: vm $RST: the guest reset 6 times in a row within 60 s of its start (a reset loop); not loading it again" \
	"$(grep -F "vm $RST: the guest reset 6 times" "$LOG")"
check "reset: stopped, its last exit a reset" "stopped
-
status 0, reset" "$(listed "$RST" state holder last_exit)"
check "reset: the state record says why" "why: a reset loop: 6 resets in a row, each within 60 s of its start" \
	"$(grep '^why: ' "$R/$RST/state")"
expect "reset: the view unmounted" gone "$R/$RST/view"
# The history, oldest first: each exit a reset with the guest's last console line; the gap from
# each exit to the next kvmload's start (its time less its run) grows 1, 2, 4, 8, 16 s.
python3 - "$R/$RST/status" >"$WORK/history" <<'PY'
import sys
from datetime import datetime
entries = [e for e in open(sys.argv[1]).read().split("\n\n") if e]
exits = []
for e in reversed(entries):
    lines = e.split("\n")
    f = {l.split(": ", 1)[0]: l.split(": ", 1)[1] for l in lines[:3]}
    at = datetime.fromisoformat(f["at"].replace("Z", "+00:00")).timestamp()
    exits.append((f["exited"], at, float(f["ran"].split()[0]), lines[-1]))
print("exits:", len(exits))
for status, at, ran, last in exits:
    print("exit:", status, "/", last)
for prev, nxt in zip(exits, exits[1:]):
    print("gap: %.1f" % (nxt[1] - nxt[2] - prev[1]))
PY
check "reset: six exits, each a reset after the guest's last line" "exits: 6
exit: status 0, reset / | testkernel: reset
exit: status 0, reset / | testkernel: reset
exit: status 0, reset / | testkernel: reset
exit: status 0, reset / | testkernel: reset
exit: status 0, reset / | testkernel: reset
exit: status 0, reset / | testkernel: reset" "$(grep -v '^gap' "$WORK/history")"
want=1
for gap in $(sed -n 's/^gap: //p' "$WORK/history"); do
	# At least the back-off, at most a second more (the next kvmload's start).
	expect "reset: a gap of $gap s after a back-off of $want s" \
		python3 -c "import sys; sys.exit(not $want - 0.05 <= $gap < $want + 1)"
	want=$((want * 2))
done
echo "reset: gaps $(sed -n 's/^gap: //p' "$WORK/history" | paste -sd' ') s"
check "reset: five gaps" 32 "$want"

# ---- a remove during the back-off ends it at once, the view unmounted, nothing left.
"$HOTPLUG" "${OPTS[@]}" remove "${V}p2" 2>>"$LOG"
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>>"$LOG" &
sup=$! BG="$BG $!"
expect "remove in the wait: restarting" wait_for 60 in_state "$RST" restarting
t0=$SECONDS
"$HOTPLUG" "${OPTS[@]}" remove "${V}p2" 2>>"$LOG"
check "remove in the wait: status" 0 $?
expect "remove in the wait: the supervisor ends" wait_for 10 pid_dead "$sup"
reap "$sup"
check "remove in the wait: add's status" 0 $?
expect "remove in the wait: done within 5 s ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -le 5 ]
expect "remove in the wait: runtime directory removed" gone "$R/$RST"
check "remove in the wait: no mount left" "" "$(grep -F " $R/" /proc/mounts)"

# ---- SIGTERM during the back-off: the same.
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>>"$LOG" &
sup=$! BG="$BG $!"
expect "SIGTERM in the wait: restarting" wait_for 60 in_state "$RST" restarting
t0=$SECONDS
kill -TERM "$sup"
expect "SIGTERM in the wait: the supervisor ends within 5 s" wait_for 5 pid_dead "$sup"
reap "$sup"
check "SIGTERM in the wait: add's status" 0 $?
expect "SIGTERM in the wait: runtime directory removed" gone "$R/$RST"
check "SIGTERM in the wait: no mount left" "" "$(grep -F " $R/" /proc/mounts)"
detach "$V"
check "nothing of ours left running" "" "$(ours)"
check "list: empty again" "[]" "$("$HOTPLUG" --run-dir "$R" list --json)"
if [ "$FAILED" -gt 0 ]; then
	echo "--- kvmload-hotplug log"; tail -n 60 "$LOG"
fi
lib_done
