#!/bin/bash
# view_kill.sh: kvmload's view is taken down on every way out: its daemon dying mid-boot (status 4), SIGTERM/SIGINT/SIGHUP, SIGKILL; the runtime directory is locked.
. "$(dirname "$0")/lib.sh"
need_machine
need_fuse
need_tools makefs sgdisk pgrep
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3
VM=viewkill-$$
RUN=/run/kvmload/$VM

# A guest whose loader.conf stops at the prompt: the loader waits on console input.
tree=$WORK/guest
mkdir -p "$tree/boot/kernel"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'autoboot_delay="NO"\n' >"$tree/boot/loader.conf"
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
exec 3>&-
lib_done
