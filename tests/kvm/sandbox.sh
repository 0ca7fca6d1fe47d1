#!/bin/bash
# sandbox.sh: the plugin runs in a confined child: forbidden system calls kill it (status 1, the SIGSYS message), files outside the view stay out of reach, forged or bad results are refused, and the child holds no KVM descriptor, no privilege, no capability.
. "$(dirname "$0")/lib.sh"
need_machine
need_fuse
need_tools makefs sgdisk pgrep setsid ps
KVMLOAD=$1 TP=$2 MINIBOOT=$3 KERNEL=$4
VM=sandbox-$$
RUN=/run/kvmload/$VM
SIGSYS_MSG="plugin killed by the sandbox (SIGSYS): it made a system call outside the allowlist"

# A guest whose loader.conf stops at the prompt: the loader waits on console input.
tree=$WORK/guest
prompt_tree "$KERNEL" "$tree"

no_leftovers() {
	local p left= args
	if grep -qF " $RUN/view " /proc/mounts; then bad "$1: $RUN/view still mounted"; else ok; fi
	if [ -e "$RUN" ]; then bad "$1: $RUN left behind"; else ok; fi
	# The plugin's process is a fork of kvmload: its command line names $WORK too. (Read with
	# builtins: a fork per process takes seconds on a loaded machine.)
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		mapfile -d '' args 2>/dev/null <"$p/cmdline" || continue
		[[ "${args[*]}" == *"$WORK"* ]] && left="$left ${p#/proc/}"
	done
	if [ -z "$left" ]; then ok; else bad "$1: processes left:$left"; fi
}

# tp MODE [ARGS...]: the attacking plugin through a view of the host tree, stdin at EOF.
tp() {
	local m=$1; shift
	"$KVMLOAD" "${MACHINE[@]}" -l "$TP" -m 64M -h "$tree" -e tp.mode="$m" "$@" "$VM" \
		</dev/null >"$WORK/$m.log" 2>"$WORK/$m.log.err"
	st=$?
}

# 1. System calls outside the allowlist: the kernel kills the child, kvmload says so, exits 1.
for m in socket execve open; do
	tp $m
	expect_status $st 1 "raw $m"
	expect_line "$WORK/$m.log" "tp_sandbox: $m"
	expect_line "$WORK/$m.log.err" "kvmload: $TP: $SIGSYS_MSG"
	expect_no_text "$WORK/$m.log" "still running"
	no_leftovers "raw $m"
done

# 2. openat2 is allowed (the open callback needs it), but the child (run as root) is chrooted to
#    the view directory: /etc/passwd is the view's (there is none: ENOENT), and a file of the
#    view opened for writing is EROFS (the view is mounted read-only, which the kernel checks
#    before Landlock would say EACCES; test_sandbox checks Landlock without the chroot).
#    Without the sandbox the same call reaches the host's file.
tp openat2
expect_status $st 1 "openat2"
expect_line "$WORK/openat2.log" "openat2 /etc/passwd: -2"
expect_line "$WORK/openat2.log" "openat2 /boot/loader.conf for writing: -30"
no_leftovers "openat2"
tp openat2 --no-sandbox
expect_status $st 1 "openat2 without the sandbox"
if tr -d '\r' <"$WORK/openat2.log" | grep -qE '^openat2 /etc/passwd: [0-9]+$'; then ok
else bad "--no-sandbox: the host's /etc/passwd did not open (the test cannot tell the sandbox apart)"; fi
expect_line "$WORK/openat2.log.err" "kvmload: WARNING: --no-sandbox: the userboot plugin runs with kvmload's privileges, every system call and every file; use it only to debug a plugin"
# Through the host-file callback: openat2's RESOLVE_BENEATH refuses the way out (FreeBSD EPERM).
tp hostopen
expect_status $st 1 "host open outside the view"
expect_line "$WORK/hostopen.log" "host open ../../../../etc/passwd: 1"

# 3. A child that crashes, or sends something that is not a result, is refused with a message.
tp segv
expect_status $st 1 "plugin crash"
expect_line "$WORK/segv.log.err" "kvmload: $TP: plugin process killed by signal 11 (SIGSEGV)"
no_leftovers "plugin crash"
tp short
expect_status $st 1 "short result"
expect_text "$WORK/short.log.err" "kvmload: $TP: plugin process sent a short result (5 bytes, a result is "
expect_text "$WORK/short.log.err" "); refusing it"
tp overlong
expect_status $st 1 "overlong result"
expect_text "$WORK/overlong.log.err" "kvmload: $TP: plugin process sent an overlong result (over "
tp badrip
expect_status $st 1 "exec above 4 GiB in i386 mode"
expect_line "$WORK/badrip.log.err" "kvmload: $TP: plugin process sent an invalid result: i386 entry: rip 0x123456789 or rsp 0x0 is above 4 GiB; refusing it"
tp badexit
expect_status $st 1 "exit value 300"
expect_line "$WORK/badexit.log.err" "kvmload: $TP: plugin process sent an invalid result: exit value 300 outside 0..255; refusing it"
no_leftovers "refused results"

# 4. miniboot waits at its prompt (console input from a FIFO we hold open): look at its process.
make_gpt_ufs2 "$tree" "$WORK/g.img"
mkfifo "$WORK/in"
exec 3<>"$WORK/in"
start() {
	start_at_prompt "$WORK/p.log" kvmload-plugin "$@"
	CPID=$CHILDPID
}
start
status=/proc/$CPID/status
expect_line "$status" "NoNewPrivs:	1"
expect_line "$status" "Seccomp:	2"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do expect_line "$status" "$c:	0000000000000000"; done
# kvmload itself holds the VM (so looking for it can find it); on QEMU, which starts only after
# the loader, the guest memory QEMU will get ...
if on_qemu; then vmfd='/memfd:kvmload-guest' childfds='/dev/kvm|anon_inode:kvm|/memfd:kvmload-guest'
else vmfd='anon_inode:kvm-vm' childfds='/dev/kvm|anon_inode:kvm'; fi
if ls -l /proc/$KPID/fd | grep -qF "$vmfd"; then ok; else bad "kvmload has no $vmfd descriptor"; fi
# ... the child has no KVM (or guest-memory) descriptor or KVM mapping, only the console, the disk,
# the view directory and its result pipe.
if ls -l /proc/$CPID/fd | grep -qE "$childfds"; then bad "the plugin's process holds a KVM descriptor"; else ok; fi
if grep -qE '/dev/kvm|anon_inode:kvm' /proc/$CPID/maps; then bad "the plugin's process maps KVM memory"; else ok; fi
ls -l /proc/$CPID/fd | grep -qF "$WORK/g.img" && ok || bad "the plugin's process lost its disk"
[ "$(readlink /proc/$CPID/root)" = "$RUN/view/disk0p2" ] && ok || bad "the plugin's root is $(readlink /proc/$CPID/root), not the view directory"
# SIGTERM to kvmload takes the child and the view with it.
kill -TERM $KPID
wait $KPID; st=$?
expect_status $st 143 "SIGTERM at the prompt"
[ -e "/proc/$CPID" ] && bad "SIGTERM: the plugin's process $CPID remains" || ok
no_leftovers "SIGTERM at the prompt"
# A terminal's Ctrl-C reaches the whole foreground process group (kvmload and its plugin child,
# which stays in it to read the terminal): everything goes, status 130.
start_group() {
	setsid "$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -d "$WORK/g.img" "$VM" <"$WORK/in" >"$WORK/p.log" 2>"$WORK/p.log.err" &
	KPID=$!
	for _ in $(seq 600); do grep -q 'OK ' "$WORK/p.log" 2>/dev/null && break; sleep 0.05; done
	CPID=$(pgrep -P $KPID -x kvmload-plugin)
	[ -n "$CPID" ] && [ "$(ps -o pgid= -p "$CPID" | tr -d ' ')" = "$KPID" ] && ok ||
		bad "the plugin's process is not in kvmload's process group"
}
start_group
kill -INT -- -$KPID
wait $KPID; st=$?
expect_status $st 130 "SIGINT to the process group at the prompt"
[ -e "/proc/$CPID" ] && bad "SIGINT: the plugin's process $CPID remains" || ok
no_leftovers "SIGINT to the process group"
# SIGKILL leaves kvmload no chance: the child dies by its parent-death signal.
start
kill -KILL $KPID
wait $KPID
for _ in $(seq 200); do [ -e "/proc/$CPID" ] || break; sleep 0.05; done
[ -e "/proc/$CPID" ] && bad "SIGKILL: the plugin's process $CPID remains" || ok
for _ in $(seq 200); do grep -qF " $RUN/view " /proc/mounts || break; sleep 0.05; done
# The boot itself goes on as before: the guest runs once the child has sent exec.
start -v
expect_text "$WORK/p.log.err" "kvmload: plugin sandbox: seccomp allowlist of "
printf 'boot\n' >&3
wait $KPID; st=$?
expect_status $st 2 "boot from the sandboxed miniboot"
expect_line "$WORK/p.log" "testkernel: halt"
no_leftovers "boot from the sandboxed miniboot"
exec 3>&-
lib_done
