#!/bin/bash
# console_socket.sh: kvmload --console-socket and kvmload-hotplug console: two readers see the
# very bytes kvmload's own stdout got; one writer at a time (a second is refused with who holds it,
# --force takes it); a writer types at the loader prompt and the boot goes on; ~. detaches and a
# new client gets the scrollback; nothing is left when kvmload ends; bad uses are refused.
# usage: console_socket.sh KVMLOAD KVMLOAD-HOTPLUG DEMO-IMG HOST-LOADER-DIR-FILE
. "$(dirname "$0")/lib.sh"
need_machine
KVMLOAD=$1 HOTPLUG=$2 DEMO=$3 LOADERDIR=$(dirname "$4")
export KVMLOAD_RUN_DIR=$WORK/run
VM=cons$$
SOCK=$KVMLOAD_RUN_DIR/$VM/console.sock
PIDS=
on_exit 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null'

# attach NAME ARGS...: kvmload-hotplug console ARGS VM, a console_client (tests/lib.sh).
attach() {
	local n=$1; shift
	console_client "$n" "$HOTPLUG" console "$@" "$VM"
}
# until_text FILE TEXT: wait up to 60 s for TEXT in FILE; one check.
until_text() {
	for _ in $(seq 600); do
		tr -d '\r' <"$1" 2>/dev/null | grep -qF -- "$2" && { ok; return; }
		sleep 0.1
	done
	bad "$1: no '$2' within 60 s"
}

# -- usage
"$KVMLOAD" --console-socket --view "$WORK" "$VM" >"$WORK/u1" 2>&1
check "--console-socket with --view" "64 kvmload: --console-socket: not with --view (the view's owner serves the console)" "$? $(cat "$WORK/u1")"
"$KVMLOAD" --console-socket "$VM" >"$WORK/u2" 2>&1
check "--console-socket without disks" "64 kvmload: --console-socket: needs -d or -h (the socket is in the VM's runtime directory, which kvmload holds with its view)" "$? $(cat "$WORK/u2")"
"$HOTPLUG" console "$VM" </dev/null >"$WORK/u3" 2>&1
check "console of a VM that is not running" "69 kvmload-hotplug: vm $VM: no console at $SOCK (the VM is not running, or kvmload runs it without --console-socket)" "$? $(cat "$WORK/u3")"
"$HOTPLUG" console --read-only --force "$VM" </dev/null >"$WORK/u4" 2>&1
check "--read-only and --force" "64 kvmload-hotplug: --read-only and --force exclude each other" "$? $(cat "$WORK/u4")"

# -- stdout and stderr one file (>log 2>&1): the console server writes to it at kvmload's offset,
# so kvmload's own lines and the console's are all there, in order.
"$KVMLOAD" "${MACHINE[@]}" -m 128M -d "$DEMO" --loader-dir "$LOADERDIR" --console-socket "$VM" \
	</dev/null >"$WORK/both.log" 2>&1
expect_status $? 2 "the demo guest with --console-socket, its output and messages in one file"
lines_in_order "$WORK/both.log" "kvmload: host0: is disk0p2 of the view" "kvmload: guest /boot/loader says lua" \
	"miniboot/amd64 userboot lua" "Booting [/boot/kernel/kernel]" "testkernel: halt"

# -- kvmload at its loader's prompt, its own stdin open but silent
mkfifo "$WORK/k.in"
sleep 600 >"$WORK/k.in" &
PIDS="$PIDS $!"
"$KVMLOAD" "${MACHINE[@]}" -m 128M -d "$DEMO" --loader-dir "$LOADERDIR" -e autoboot_delay=NO \
	--console-socket "$VM" <"$WORK/k.in" >"$WORK/k.out" 2>"$WORK/k.err" &
KPID=$!
PIDS="$PIDS $KPID"
until_text "$WORK/k.out" "OK "
check "the socket is the owner's alone" "srw-------" "$(stat -c %A "$SOCK" 2>&1)"
SRV=$(pgrep -P $KPID -x kvmload-console)
if [ -n "$SRV" ]; then
	check "console server: no capability" "CapEff:	0000000000000000" "$(grep '^CapEff:' /proc/$SRV/status)"
	check "console server: no_new_privs" "NoNewPrivs:	1" "$(grep '^NoNewPrivs:' /proc/$SRV/status)"
else
	bad "no kvmload-console child of kvmload $KPID"
fi

# A client that does not speak the protocol gets an error line and nothing else.
check "a stranger's hello" "error not a kvmload console client" \
	"$(python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"GET / HTTP/1.0\n"); print(s.recv(100).decode().strip())' "$SOCK")"

attach r1 --read-only
attach r2 --read-only
until_text "$WORK/r1.out" "OK "
until_text "$WORK/r2.out" "OK "
check "a reader gets the scrollback from the start" "$(head -c 200 "$WORK/k.out")" "$(head -c 200 "$WORK/r1.out")"

# One writer: the second is refused with who holds the input, --force takes it.
attach w1
until_text "$WORK/w1.err" "attached to vm $VM's console; ~. detaches"
"$HOTPLUG" console "$VM" </dev/null >"$WORK/w2.out" 2>"$WORK/w2.err"
check "a second writer" "75" "$?"
match "a second writer is told who writes" "*vm $VM: its console input is held by pid $w1_PID (root); --read-only watches, --force takes the input" "$(cat "$WORK/w2.err")"
attach w3 --force
until_text "$WORK/w3.err" "attached to vm $VM's console"
until_text "$WORK/w1.out" "[kvmload: console input taken by pid $w3_PID]"

# A reader detaches with ~. and a new one gets the scrollback again.
attach r3 --read-only
until_text "$WORK/r3.out" "OK "
printf '\r~.' >&"$r3_IN"
until_text "$WORK/r3.err" "detached from vm $VM's console"
for _ in $(seq 50); do kill -0 "$r3_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$r3_PID" 2>/dev/null && bad "~. did not end the client" || ok
attach r4 --read-only
until_text "$WORK/r4.out" "miniboot/amd64 userboot lua"

# The old writer's keys go nowhere now; the new writer's reach the loader, and it boots.
printf 'show nothing-from-w1\r' >&"$w1_IN"
printf 'show autoboot_delay\rboot\r' >&"$w3_IN"
wait $KPID
expect_status $? 2 "the guest booted from the writer's keys and halted"
lines_in_order "$WORK/k.out" "OK show autoboot_delay" "NO" "OK boot" "Booting [/boot/kernel/kernel]" "testkernel: halt"
expect_no_text "$WORK/k.out" "nothing-from-w1"
for c in r1 r2 w3; do
	for _ in $(seq 50); do kill -0 "$(eval echo \$${c}_PID)" 2>/dev/null || break; sleep 0.1; done
done
cmp -s "$WORK/k.out" "$WORK/r1.out" && ok || bad "reader 1 did not get kvmload's console bytes"
cmp -s "$WORK/r1.out" "$WORK/r2.out" && ok || bad "the two readers got different bytes"
until_text "$WORK/r1.err" "vm $VM's console closed"
check "the runtime directory is gone" "" "$(ls -A "$KVMLOAD_RUN_DIR" 2>&1)"
[ -n "$SRV" ] && kill -0 "$SRV" 2>/dev/null && bad "the console server $SRV outlived kvmload" || ok
lib_done
