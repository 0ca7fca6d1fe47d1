#!/bin/bash
# prestart.sh: QEMU starts, stopped, before the loader runs and holds no disk while the loader can read it; a load that fails after that (quit at the prompt, a refused swap, SIGTERM) ends with the status and message it always had, and leaves no QEMU, no plugin process, no view and no runtime directory; KVMLOAD_QEMU_START=late still boots.
. "$(dirname "$0")/lib.sh"
need_root
need_fuse
need_tools qemu-system-x86_64 makefs sgdisk pgrep
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3 DEMO=$4 HOSTDIR=$(dirname "$5")
export KVMLOAD_RUN_DIR=$WORK/run
VM=prestart-$$
RUN=$KVMLOAD_RUN_DIR/$VM
mkdir -p "$KVMLOAD_RUN_DIR"
# The processes kvmload starts inherit its environment: this mark finds them, reparented or not.
export PRESTART_MARK=$$.$RANDOM
on_exit 'for p in $(marked qemu-system-x86 PRESTART_MARK) $(marked kvmload-plugin PRESTART_MARK); do kill -KILL $p; done'

tree=$WORK/guest
prompt_tree "$KERNEL" "$tree"
make_gpt_ufs2 "$tree" "$WORK/g.img"
cp "$DEMO" "$WORK/demo.img"
mkfifo "$WORK/in"

# nothing_left WHAT: no QEMU or plugin process of this test's, no view, no runtime directory.
nothing_left() {
	local q p
	q=$(marked qemu-system-x86 PRESTART_MARK) p=$(marked kvmload-plugin PRESTART_MARK)
	[ -z "$q" ] && ok || bad "$1: QEMU left: $q"
	[ -z "$p" ] && ok || bad "$1: plugin process left: $p"
	if grep -qF "$RUN/view" /proc/mounts; then bad "$1: $RUN/view still mounted"; else ok; fi
	[ -e "$RUN" ] && bad "$1: $RUN left behind" || ok
}

# at_prompt LOG: kvmload on QEMU (TCG) with the guest's loader at its prompt, its console the FIFO
# held open by a sleep of ours; sets KPID, HOLDER and QPID (kvmload's QEMU, started already).
at_prompt() {
	sleep 600 >"$WORK/in" &
	HOLDER=$!
	start_at_prompt "$1" kvmload-plugin --accel tcg -v
	QPID=$(pgrep -P $KPID -x qemu-system-x86)
	[ -n "$QPID" ] && ok || bad "$1: no QEMU under kvmload $KPID while the loader waits at its prompt"
}

# -- at the prompt: QEMU is there already, stopped, with no descriptor of the disk the loader reads
at_prompt "$WORK/p.log"
grep -q "^kvmload: starting .*qemu-system-x86_64 -S -name $VM " "$WORK/p.log.err" && ok ||
	bad "QEMU's command line is not a stopped one (-S) named after the VM"
lines_in_order "$WORK/p.log.err" "kvmload: starting " "kvmload: host0: is disk0p2 of the view"
if [ -n "$QPID" ]; then
	held=$(for f in /proc/$QPID/fd/*; do readlink "$f"; done | grep -cF "$WORK/g.img")
	check "QEMU's descriptors of the disk while the loader reads it" 0 "$held"
fi
expect_no_text "$WORK/p.log.err" "kvmload: QMP: add-fd"
# -- quit at the prompt: bhyveload's status 1 for the loader's quit, QEMU gone with the rest
echo quit >"$WORK/in"
wait $KPID; st=$?
kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null
expect_status $st 1 "quit at the loader's prompt"
[ -n "$QPID" ] && [ -e "/proc/$QPID" ] && bad "quit: QEMU $QPID remains" || ok
nothing_left "quit at the prompt"

# reaped NAME: kvmload on QEMU at its loader's prompt as in at_prompt, but under a child
# subreaper (python) that, once kvmload has ended, says in NAME.left which of kvmload's processes
# were left to it: whatever kvmload did not kill and reap itself (a QEMU left to its parent-death
# signal comes there). Sets RPID (the subreaper), KPID, QPID.
cat >"$WORK/reaper.py" <<'PY'
import ctypes, os, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
open(sys.argv[1] + ".pid", "w").write(str(pid))
st = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
time.sleep(0.5)  # what the kernel's parent-death signal kills reaches us meanwhile
left = []
while True:
    try:
        p = os.waitpid(-1, os.WNOHANG)[0]
    except ChildProcessError:
        break
    left.append(str(p) if p else "a process still running")
    if not p:
        break
open(sys.argv[1], "w").write(" ".join(left))
sys.exit(st if st >= 0 else 128 - st)
PY
reaped() {
	sleep 600 >"$WORK/in" &
	HOLDER=$!
	timeout -k 10 120 python3 "$WORK/reaper.py" "$WORK/$1.left" "$KVMLOAD" --accel tcg -v -l "$MINIBOOT" \
		-m 64M -d "$WORK/g.img" "$VM" <"$WORK/in" >"$WORK/$1.log" 2>"$WORK/$1.log.err" &
	RPID=$!
	wait_prompt "$WORK/$1.log" $RPID
	KPID=$(cat "$WORK/$1.left.pid" 2>/dev/null) QPID=
	[ -n "$KPID" ] && QPID=$(pgrep -P "$KPID" -x qemu-system-x86)
	[ -n "$QPID" ] && ok || bad "$1: no QEMU under kvmload ${KPID:-?} at the loader's prompt"
}

# -- SIGTERM while the loader waits: kvmload ends by it, as it always did; QEMU goes too, killed
# and reaped by kvmload (not left to its parent-death signal)
reaped term
kill -TERM "$KPID"
wait $RPID; st=$?
kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null
expect_status $st 143 "SIGTERM at the loader's prompt"
check "SIGTERM at the prompt: processes kvmload left behind" "" "$(cat "$WORK/term.left")"
nothing_left "SIGTERM at the prompt"

# -- the view's daemon dies while the loader waits: status 4, the view gone, and QEMU with it
reaped view
vpid=$(cut -d' ' -f1 "$RUN/kvmload-fs.pid" 2>/dev/null)
[ -n "$vpid" ] && kill -KILL "$vpid"
wait $RPID; st=$?
kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null
expect_status $st 4 "the view's daemon killed at the loader's prompt"
# (The daemon's own server, orphaned by the SIGKILL of its owner, may reach the subreaper: not QEMU.)
case " $(cat "$WORK/view.left") " in
*" $QPID "*) bad "view killed: QEMU $QPID was left to its parent-death signal" ;;
*) ok ;;
esac
nothing_left "the view's daemon killed"

# -- a refused swap (-l with a guest that wants lua): the loader's own error, status 1
timeout -k 10 120 "$KVMLOAD" -v --accel tcg -m 128M -d "$WORK/demo.img" -l "$HOSTDIR/userboot.so" $VM </dev/null \
	>"$WORK/swap.log" 2>"$WORK/swap.log.err"; st=$?
expect_status $st 1 "a refused swap"
expect_line "$WORK/swap.log.err" "kvmload: requested loader interpreter does not match guest userboot (guest wants 'lua'; -l $HOSTDIR/userboot.so forbids swapping)"
grep -q '^kvmload: starting ' "$WORK/swap.log.err" && ok || bad "refused swap: QEMU was not started before the loader"
nothing_left "a refused swap"

# -- KVMLOAD_QEMU_START=late: QEMU starts once the loader is done; the guest boots the same
KVMLOAD_QEMU_START=late timeout -k 10 120 "$KVMLOAD" -v --accel tcg -m 128M -d "$WORK/demo.img" --loader-dir "$HOSTDIR" $VM \
	</dev/null >"$WORK/late.log" 2>"$WORK/late.log.err"; st=$?
expect_status $st 2 "KVMLOAD_QEMU_START=late"
lines_in_order "$WORK/late.log.err" "kvmload: host0: is disk0p2 of the view" "kvmload: starting " "kvmload: QMP: cont"
expect_line "$WORK/late.log" "testkernel: halt"
KVMLOAD_QEMU_START=soon timeout -k 10 60 "$KVMLOAD" --accel tcg -d "$WORK/demo.img" $VM </dev/null >"$WORK/soon.log" 2>&1; st=$?
expect_status $st 64 "KVMLOAD_QEMU_START=soon"
expect_line "$WORK/soon.log" "kvmload: KVMLOAD_QEMU_START=soon: early (the default) or late"
nothing_left "the end"
lib_done
