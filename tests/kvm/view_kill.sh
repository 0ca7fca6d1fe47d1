#!/bin/bash
# view_kill.sh: kvmload's view is taken down on every way out: its daemon dying mid-boot (status 4), SIGTERM/SIGINT/SIGHUP, SIGKILL; a held vm refuses a second kvmload; what a gone holder left is cleared, a view whose daemon lives never unmounted.
. "$(dirname "$0")/lib.sh"
need_machine
need_fuse
need_tools makefs sgdisk pgrep
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3
VM=viewkill-$$
RUN=/run/kvmload/$VM

# A guest whose loader.conf stops at the prompt: the loader waits on console input.
tree=$WORK/guest
prompt_tree "$KERNEL" "$tree"
make_gpt_ufs2 "$tree" "$WORK/g.img"

# Console input: a FIFO this script holds open, so the prompt never sees end of file.
mkfifo "$WORK/in"
exec 3<>"$WORK/in"

# start LOG: kvmload in the background at the prompt; sets KPID and FSPID.
start() {
	start_at_prompt "$1" kvmload-fs
	FSPID=$CHILDPID
}

# gone PID WHAT: no such process (a zombie counts as left behind).
gone() {
	if [ -z "$1" ] || [ ! -e "/proc/$1" ]; then ok; else bad "$2: process $1 remains ($(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null))"; fi
}

no_leftovers() {
	if grep -qF " $RUN/view " /proc/mounts; then bad "$1: $RUN/view still mounted"; else ok; fi
	if [ -e "$RUN" ]; then bad "$1: $RUN left behind"; else ok; fi
}

# 1. The view daemon is killed while the loader waits at the prompt.
start "$WORK/k.log"
expect_text "$WORK/k.log" "currdev=disk0p2:"
# While it runs, kvmload holds the vm: a second kvmload for the same vm is refused with its pid.
"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -d "$WORK/g.img" "$VM" </dev/null >"$WORK/lock.log" 2>"$WORK/lock.log.err"; st=$?
expect_status $st 4 "second kvmload for the same vm"
expect_text "$WORK/lock.log.err" "kvmload: vm $VM is held by kvmload (pid $KPID, $RUN/holder)"
grep -qF " $RUN/view fuse.kvmload-fs " /proc/mounts && ok || bad "the refused kvmload took the first one's view down"
kill -KILL "$FSPID"
wait $KPID; st=$?
expect_status $st 4 "view daemon killed mid-boot"
expect_text "$WORK/k.log.err" "kvmload: the view daemon kvmload-fs (pid $FSPID) was killed by signal 9 while the loader was running; ending the load"
expect_no_text "$WORK/k.log" "testkernel:"
gone "$FSPID" "daemon killed"
no_leftovers "daemon killed"

# 2. Signals to kvmload at the prompt: the status says the signal, the view is gone.
for sig in TERM INT HUP; do
	start "$WORK/$sig.log"
	kill -$sig $KPID
	wait $KPID; st=$?
	expect_status $st $((128 + $(kill -l $sig))) "SIG$sig at the prompt"
	gone "$FSPID" "SIG$sig"
	no_leftovers "SIG$sig"
done

# 3. SIGKILL leaves kvmload no chance: its daemon unmounts itself (parent-death signal), and
#    the next kvmload for the vm takes over the stale runtime directory.
start "$WORK/kill9.log"
kill -KILL $KPID
wait $KPID
for _ in $(seq 200); do [ -e "/proc/$FSPID" ] || break; sleep 0.05; done
gone "$FSPID" "kvmload SIGKILLed"
if grep -qF " $RUN/view " /proc/mounts; then bad "SIGKILL: $RUN/view still mounted"; else ok; fi
start "$WORK/after.log"
printf 'boot\n' >&3
wait $KPID; st=$?
expect_status $st 2 "boot after a SIGKILLed kvmload"
expect_text "$WORK/after.log" "testkernel: halt"
no_leftovers "boot after a SIGKILLed kvmload"

# 4. What a holder that is gone left is cleared by one rule (rundir_clear_view): the daemon
#    recorded for the view is stopped first, and a view whose daemon stays alive is never
#    unmounted.  (a) a kvmload-fs mounted on the view and recorded, nobody holding the vm: the
#    next kvmload sends it SIGTERM (it unmounts as it leaves) and boots.
record() { echo "$1 $(cut -d' ' -f22 "/proc/$1/stat")" >"$RUN/kvmload-fs.pid"; }
SPID=
on_exit '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; umount -l "$RUN/view" 2>/dev/null; rm -rf "$RUN"'
mkdir -p -m 0700 "$RUN/view"
"$(dirname "$KVMLOAD")/../fusefs/kvmload-fs" -f --disk "$WORK/g.img" "$RUN/view" 2>"$WORK/stale.err" &
SPID=$!
for _ in $(seq 100); do grep -qF " $RUN/view " /proc/mounts && break; sleep 0.05; done
record $SPID
start "$WORK/stale.log"
wait $SPID; st=$?
expect_status $st 0 "the left daemon, stopped by the next kvmload"
grep -qF " $RUN/view fuse.kvmload-fs " /proc/mounts && ok || bad "the next kvmload did not mount its own view"
printf 'boot\n' >&3
wait $KPID; st=$?
expect_status $st 2 "boot after clearing a left view"
no_leftovers "boot after clearing a left view"
# (b) a recorded daemon that ignores SIGTERM: refused after the 5 s wait (status 4), the
#     record kept for whoever comes next, nothing unmounted or removed but our holder file.
mkdir -p -m 0700 "$RUN/view"
bash -c 'trap "" TERM; exec sleep 60' &
SPID=$!
# Recorded once it is what the record must name: the sleep itself, with SIGTERM ignored.
for _ in $(seq 500); do
	[ "$(cat "/proc/$SPID/comm" 2>/dev/null)" = sleep ] &&
		(( 0x$(awk '/^SigIgn:/ { print $2 }' "/proc/$SPID/status") & 0x4000 )) && break
done
record $SPID
"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -d "$WORK/g.img" "$VM" </dev/null >"$WORK/alive.log" 2>"$WORK/alive.log.err"; st=$?
expect_status $st 4 "a left daemon that does not stop"
expect_text "$WORK/alive.log.err" "kvmload: $RUN/view is still served by kvmload-fs (pid $SPID), which its holder left and which does not stop; not unmounting it"
[ -e "/proc/$SPID" ] && ok || bad "the daemon that does not stop was killed"
check "a left daemon that does not stop: its record stays" "$SPID" "$(cut -d' ' -f1 "$RUN/kvmload-fs.pid" 2>&1)"
[ -e "$RUN/holder" ] && bad "the refused kvmload left its holder file" || ok
kill -KILL $SPID
wait $SPID
SPID=
rm -rf "$RUN"
# (c) a supervised guest recorded as still running (its supervisor killed, the guest powering
#     down) keeps its disk: the next kvmload is refused at once (4), its record kept.
mkdir -p -m 0700 "$RUN"
sleep 60 &
SPID=$!
echo "$SPID $(cut -d' ' -f22 "/proc/$SPID/stat")" >"$RUN/kvmload.pid"
"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -d "$WORK/g.img" "$VM" </dev/null >"$WORK/guest.log" 2>"$WORK/guest.log.err"; st=$?
expect_status $st 4 "an orphan guest still running"
expect_text "$WORK/guest.log.err" "kvmload: vm $VM: its last guest (kvmload pid $SPID, $RUN/kvmload.pid) still runs, with nobody holding it; try again once it has stopped"
check "an orphan guest still running: its record stays" "$SPID" "$(cut -d' ' -f1 "$RUN/kvmload.pid" 2>&1)"
[ -e "$RUN/holder" ] && bad "the refused kvmload left its holder file" || ok
kill -KILL $SPID
wait $SPID
SPID=
rm -rf "$RUN"
exec 3>&-
lib_done
