#!/bin/bash
# console.sh: a hotplugged guest's console with a real systemd-udevd: kvmload-hotplug console
# attaches to the supervisor's console socket, two readers get the very bytes of console.log,
# ~. detaches and a reattach replays the scrollback, a writer types at the loader prompt and the
# guest boots; while the loader waits QEMU is there, stopped, without the disk the view reads,
# and the view is gone before QEMU gets the disk and runs the guest, which reads it; a guest
# that prints without end keeps console.log and console.log.1 under their cap (1 MiB each) and
# a late reader gets only the last 256 KiB; nothing is left behind.
# usage: console.sh KVMLOAD-HOTPLUG KVMLOAD KVMLOAD-FS DEMO-IMG USERBOOT.SO RULES-FILE
. "$(dirname "$0")/lib.sh"
HOTPLUG=$1 KVMLOAD=$2 KVMLOAD_FS=$3 DEMO=$4 LOADER_DIR=$(dirname "$5") RULES=$6
need_root
need_tools udevadm losetup partx sgdisk qemu-system-x86_64 python3
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
need_fuse
[ -r "$DEMO" ] || skip "no demo guest $DEMO"
need_udevd

R=$WORK/run
C=$WORK/conf
LOG=$WORK/hotplug.log
# kvmload -v (no VM setting makes it verbose): its QMP lines land in $LOG among the supervisor's.
printf '#!/bin/sh\nexec %q -v "$@"\n' "$KVMLOAD" >"$WORK/kvmload-v"
chmod +x "$WORK/kvmload-v"
OPTS=(--config-dir "$C" --run-dir "$R" --kvmload "$WORK/kvmload-v" --kvmload-fs "$KVMLOAD_FS" --stop-timeout 5)
PIDS=
on_exit 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null'

guest_copies "$DEMO" cons chat
mkdir -p "$C"
cat >"$C/guests.conf" <<EOF
# stops at the loader's prompt: someone must type boot; the guest sums its disk's first sectors
[vm cons]
part-uuid = $(uuid "$WORK/cons.img")
memory = 128M
loader-dir = $LOADER_DIR
restart = no
accel = tcg
env = autoboot_delay=NO
env = testkernel.blksum=8

# prints without end once booted
[vm chat]
part-uuid = $(uuid "$WORK/chat.img")
memory = 128M
loader-dir = $LOADER_DIR
restart = no
accel = tcg
env = testkernel.exit=chatter
EOF
"$HOTPLUG" --config-dir "$C" --check >/dev/null || { echo "test config rejected" >&2; exit 1; }
udevd_start "$RULES"

# client NAME VM ARGS...: kvmload-hotplug console ARGS VM on our run directory, a console_client
# (tests/lib.sh).
client() {
	local n=$1 vm=$2; shift 2
	console_client "$n" "$HOTPLUG" --run-dir "$R" console "$@" "$vm"
}
gone() { [ ! -e "$1" ]; }
pid_dead() { ! kill -0 "$1" 2>/dev/null; }
mounted() { grep -qF " $1 " /proc/mounts; }
# qemu_of VM: the QEMU that VM's kvmload started.
qemu_of() { pgrep -P "$(cut -d' ' -f1 "$R/$1/kvmload.pid")" -x qemu-system-x86; }
# disk_fds PID DISK: the descriptors PID holds of DISK or of one of its partitions (by device
# number: QEMU's own mount namespace names /dev differently).
disk_fds() {
	local devs f
	devs=$(stat -L -c %t:%T "$2" "$2"p* 2>/dev/null)
	for f in /proc/"$1"/fd/*; do
		[ -b "$f" ] && grep -qxF "$(stat -L -c %t:%T "$f")" <<<"$devs" && echo "$f"
	done
}
# first_at FILE TEXT: the number of FILE's first line holding TEXT; 0 when none does.
first_at() { grep -nF -m1 -- "$2" "$1" | cut -d: -f1 | grep . || echo 0; }

# ---- cons: watch, detach, reattach, type at the prompt
V=$(attach "$WORK/cons.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>>"$LOG" &
SUP=$!
PIDS="$PIDS $SUP"
expect "cons: the console socket is there" wait_for 60 test -S "$R/cons/console.sock"
SRV=$(pgrep -P $SUP -x kvmload-console)
expect "cons: the supervisor's console server" test -n "$SRV"
client r1 cons --read-only
client r2 cons --read-only
expect "cons: reader 1 sees the loader's prompt" wait_for 60 has_text "$WORK/r1.out" "OK "
# The loader waits, reading the view: QEMU, kvmload's child already, holds nothing of the disk.
QPID=$(qemu_of cons)
expect "cons: QEMU is kvmload's child while the loader waits" test -n "$QPID"
expect "cons: QEMU was started stopped (-S)" eval 'tr "\0" "\n" </proc/"$QPID"/cmdline | grep -qx -- -S'
expect "cons: the view is mounted while the loader waits" mounted "$R/cons/view"
check "cons: QEMU's descriptors of the disk while the loader waits" "" "$(disk_fds "$QPID" "$V")"
expect "cons: reader 2 sees the loader's prompt" wait_for 10 has_text "$WORK/r2.out" "OK "
expect "cons: console.log has it too" has_text "$R/cons/console.log" "OK "
client r3 cons --read-only
expect "cons: reader 3 attached" wait_for 10 has_text "$WORK/r3.out" "OK "
printf '~.' >&"$r3_IN"
expect "cons: ~. detaches" wait_for 10 has_text "$WORK/r3.err" "detached from vm cons's console"
expect "cons: the detached client ended" wait_for 10 pid_dead "$r3_PID"
client r4 cons --read-only
expect "cons: a reattached reader gets the scrollback" wait_for 10 has_text "$WORK/r4.out" \
	"miniboot/amd64 userboot lua"
client w cons
expect "cons: the writer attached" wait_for 10 has_text "$WORK/w.err" "attached to vm cons's console; ~. detaches"
printf 'boot\r' >&"$w_IN"
wait $SUP
check "cons: add ends with the guest (halted)" 0 $?
for c in r1 r2 w; do wait_for 10 pid_dead "$(eval echo \$${c}_PID)"; done
expect "cons: the guest booted from the writer's keys" has_text "$WORK/r1.out" "testkernel: halt"
lines_ok() { tr -d '\r' <"$1" | awk '/OK boot/ { b = 1 } b && /Booting \[/ { k = 1 } k && /testkernel: halt/ { h = 1 } END { exit !h }'; }
expect "cons: prompt, boot, kernel, in that order" lines_ok "$R/cons/console.log"
cmp -s "$R/cons/console.log" "$WORK/r1.out" && ok || bad "reader 1's bytes are not console.log's"
cmp -s "$WORK/r1.out" "$WORK/r2.out" && ok || bad "the two readers got different bytes"
expect "cons: readers told the console closed" has_text "$WORK/r1.err" "vm cons's console closed"
check "cons: status" "exited: status 2, halted" "$(head -1 "$R/cons/status" 2>&1)"
# The view went before QEMU got the disk and before the guest's first instruction ("cont"), and
# the guest then read what the view had held.
rel=$(first_at "$LOG" "kvmload-hotplug: vm cons: kvmload released the view; it is unmounted and the guest starts")
for l in "kvmload: QMP: add-fd" "kvmload: QMP: device_add" "kvmload: QMP: cont" "kvmload: QEMU runs the guest"; do
	at=$(first_at "$LOG" "$l")
	expect "cons: the view released (log line $rel) before '$l' (line $at)" eval '[ "$rel" -gt 0 ] && [ "$at" -gt "$rel" ]'
done
expect "cons: the guest read its disk's bytes" has_text "$R/cons/console.log" \
	"testkernel: blk0 ro=1 sectors=$(($(stat -c %s "$WORK/cons.img") / 512)) sum=$(crc8 "$WORK/cons.img")"
expect "cons: the socket went with the guest" gone "$R/cons/console.sock"
expect "cons: the console server ended" pid_dead "$SRV"
# A console = that is no terminal: add refuses it (78), as --check does, and starts nothing.
mkdir -p "$WORK/conf2"
: >"$WORK/notatty"
printf '[vm badc]\npart-uuid = %s\nconsole = %s\nloader-dir = %s\naccel = tcg\n' \
	"$(uuid "$WORK/cons.img")" "$WORK/notatty" "$LOADER_DIR" >"$WORK/conf2/x.conf"
"$HOTPLUG" --config-dir "$WORK/conf2" --run-dir "$R" --kvmload "$KVMLOAD" --kvmload-fs "$KVMLOAD_FS" \
	add "${V}p2" 2>"$WORK/badc.err"
check "badc: add's status for a console that is no terminal" 78 $?
expect "badc: said why" has_text "$WORK/badc.err" "vm badc: console $WORK/notatty: not a terminal; not starting"
expect "badc: nothing left" gone "$R/badc"
check "badc: the file is untouched" 0 "$(stat -c %s "$WORK/notatty")"
detach "$V"

# ---- chat: a guest that prints without end
V=$(attach "$WORK/chat.img") || exit 1
"$HOTPLUG" "${OPTS[@]}" add "${V}p2" 2>>"$LOG" &
SUP=$!
PIDS="$PIDS $SUP"
expect "chat: the log was rotated" wait_for 120 test -e "$R/chat/console.log.1"
# Once the view is gone QEMU holds the disk: what disk_fds finds (cons: nothing, as it should).
expect "chat: the view is gone while the guest runs" eval '! mounted "$R/chat/view"'
expect "chat: QEMU holds the disk while the guest runs" eval '[ -n "$(disk_fds "$(qemu_of chat)" "$V")" ]'
client late chat --read-only
expect "chat: a late reader gets output" wait_for 10 has_text "$WORK/late.out" "chatter line"
kill "$late_PID"
first=$(tr -d '\r' <"$WORK/late.out" | grep -m1 -o 'chatter line [0-9]*' | grep -o '[0-9]*$')
# A line is 62 bytes: 256 KiB of scrollback holds some 4200 of them, and the rotation came after 1 MiB.
match "chat: the late reader's scrollback starts late, not at line 0 ($first)" "[1-9]*" "$first"
# While it prints: neither file ever passes the cap, and the rotation goes on.
ino=$(stat -c %i "$R/chat/console.log.1")
over=
for _ in $(seq 20); do
	for f in console.log console.log.1; do
		size=$(stat -c %s "$R/chat/$f" 2>/dev/null || echo 0)
		[ "$size" -le 1048576 ] || over="$over $f=$size"
	done
	sleep 0.25
done
check "chat: console.log and console.log.1 stay within 1 MiB" "" "$over"
rotated() { [ "$(stat -c %i "$R/chat/console.log.1")" != "$ino" ]; }
expect "chat: rotated again" wait_for 120 rotated
kill -TERM "$SUP"
wait "$SUP"
expect "chat: a supervisor stopped by SIGTERM removes everything" gone "$R/chat"
detach "$V"
lib_done
