#!/bin/bash
# confine.sh: QEMU never runs as root: started by root, it is the unprivileged user with no capability, seccomp and no_new_privs, in mount, IPC and network namespaces of its own with a read-only root, empty private directories and a /dev of five nodes, only its documented descriptors (under tcg and kvm, whatever else kvmload had open) and a memory limit; kvmload keeps CAP_KILL alone; --net user keeps the host's network, a tap is attached by kvmload; QEMU killed ends kvmload with 4 and nothing left.
. "$(dirname "$0")/lib.sh"
need_root
need_tools qemu-system-x86_64 ip pgrep
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
id kvmload >/dev/null 2>&1 || skip "no user kvmload (./setup.sh creates it)"
KVMLOAD=$1 DEMO=$2 HOSTDIR=$(dirname "$3")
VM=confine-$$
RUN=/run/kvmload/$VM
# Kept when a check fails, and said where.
D=$(mktemp -d /tmp/kvmload-confine.XXXXXX)
scratch_dir "$D"
cp "$DEMO" "$D/demo.img"
# Files kvmload has open, not close-on-exec, when it starts: at 6 (the TCG log's number, which
# QEMU gets nothing at under KVM) and at 30 (above every number QEMU gets here). Not for QEMU.
echo 6 >"$D/stray6"
echo 30 >"$D/stray30"

# spinning NAME ARGS...: the demo guest spinning, kvmload (with the stray files open) in the
# background; sets KPID.
spinning() {
	name=$1; shift
	"$KVMLOAD" -v -m 128M -d "$D/demo.img" --loader-dir "$HOSTDIR" "$@" -e testkernel.exit=spin "$VM" \
		</dev/null >"$D/$name.log" 2>"$D/$name.err" 6<"$D/stray6" 30<"$D/stray30" &
	KPID=$!
	for _ in $(seq 600); do
		tr -d '\r' <"$D/$name.log" 2>/dev/null | grep -qx 'testkernel: spin' && break
		kill -0 $KPID 2>/dev/null || break
		sleep 0.05
	done
}
# boot NAME ARGS...: the same on QEMU (TCG unless ARGS say); sets KPID and QPID.
boot() {
	spinning "$@"
	QPID=$(pgrep -P $KPID -x qemu-system-x86)
	if [ -n "$QPID" ]; then ok; else bad "$name: no QEMU under kvmload $KPID"; fi
}
# stop NAME: SIGTERM to kvmload, the guest powers off (status 1).
stop() {
	kill -TERM $KPID
	wait $KPID
	expect_status $? 1 "$1: SIGTERM"
}
# argv_fds NAME: the descriptor numbers QEMU's command line names (kvmload -v's line in NAME.err).
argv_fds() {
	grep '^kvmload: starting ' "$D/$1.err" | grep -oE 'fd=[0-9]+|/proc/self/fd/[0-9]+' | grep -oE '[0-9]+$' |
		sort -nu | tr '\n' ' ' | sed 's/ $//'
}
# qemu_fds PID: what QEMU PID holds at 0-8, "N what|...": pipes, sockets and the stub by kind; "own"
# for what QEMU made itself (an anonymous inode, /dev/kvm) or nothing, "disk" for the disk, which
# QEMU receives over QMP once the loader is done (its number is the lowest free one then).
qemu_fds() {
	for n in 0 1 2 3 4 5 6 7 8; do
		t=$(readlink /proc/$1/fd/$n)
		case $t in pipe:*) t=pipe ;; socket:*) t=socket ;; */kvmload-pvh.elf) t=kvmload-pvh.elf ;;
		"$D/demo.img") t=disk ;; anon_inode:*|/dev/kvm|"") t=own ;; esac
		printf '%s%s %s' "$([ $n = 0 ] || echo '|')" $n "$t"
	done
}
# qemu_others PID PATTERN: QEMU's descriptors above 8 other than the disk's, its own (anonymous
# inodes, /dev/kvm, a second descriptor of its RAM) and PATTERN's, as " N:what" each.
qemu_others() {
	for f in /proc/$1/fd/*; do
		n=${f##*/}
		[ "$n" -le 8 ] && continue
		t=$(readlink "$f")
		# shellcheck disable=SC2254
		case $t in
		"$D/demo.img"|anon_inode:*|/dev/kvm|"/memfd:kvmload-guest (deleted)") ;;
		$2) ;;
		*) printf ' %s:%s' "$n" "$t" ;;
		esac
	done
}
status_lines() { grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|Seccomp|NoNewPrivs):' "/proc/$1/status" | tr '\t' ' '; }

# -- the default: --net none under TCG
boot tcg --accel tcg
echo "QEMU (pid $QPID):"; status_lines $QPID
echo "kvmload (pid $KPID):"; status_lines $KPID
confined "QEMU" $QPID kvmload
check "QEMU: no supplementary group under tcg" "Groups:	" "$(grep '^Groups:' /proc/$QPID/status | sed 's/ *$//')"
check "kvmload keeps CAP_KILL alone" "CapEff:	0000000000000020" "$(grep '^CapEff:' /proc/$KPID/status)"
check "kvmload: permitted CAP_KILL alone" "CapPrm:	0000000000000020" "$(grep '^CapPrm:' /proc/$KPID/status)"
for ns in mnt ipc net; do
	[ "$(readlink /proc/$QPID/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] && ok ||
		bad "QEMU shares the host's $ns namespace"
done
# Its view of the host: nothing under the private directories, a /dev of five nodes, / read-only.
for d in /tmp /var/tmp /run /home /root; do
	[ -d "$d" ] || continue
	check "QEMU's $d is empty" "" "$(ls -A "/proc/$QPID/root$d")"
done
check "QEMU's /dev" "full null random urandom zero" "$(ls "/proc/$QPID/root/dev" | tr '\n' ' ' | sed 's/ $//')"
if awk '$4 !~ /^ro(,|$)/' "/proc/$QPID/mounts" | grep -q .; then
	bad "QEMU has writable mounts: $(awk '$4 !~ /^ro(,|$)/ { print $2 }' "/proc/$QPID/mounts" | tr '\n' ' ')"
else ok; fi
# Its memory limit: the guest's 128 MiB, TCG's 2 GiB, 64 MiB for its one vCPU (qemu_confine.c).
check "QEMU's RLIMIT_AS" "$(( (128 << 20) + (2048 << 20) + (64 << 20) ))" \
	"$(awk '/^Max address space/ { print $4 }' /proc/$QPID/limits)"

# Its descriptors: the documented ones (doc/kvmload.8, SECURITY) where the argv names them, the
# disk's (QEMU moves -add-fd's into its fd sets and opens them from there), QEMU's own reopenings
# of its RAM and log, and anonymous inodes (eventfd, signalfd, ...); no other file.
check "QEMU's command line: its descriptors" "3 4 5 6 7 8" "$(argv_fds tcg)"
check "QEMU's descriptors 0-8" "0 /dev/null|1 /dev/null|2 pipe|3 /memfd:kvmload-guest (deleted)|4 socket|5 socket|6 pipe|7 /usr/share/qemu/qboot.rom|8 kvmload-pvh.elf" \
	"$(qemu_fds $QPID)"
[ "$(readlink /proc/$QPID/fd/9)" = /dev/net/tun ] && bad "QEMU has a tap at 9 without --net tap" || ok
# QEMU's second descriptor of its log is a pipe too.
check "QEMU's other descriptors: the disk's and its own" "" "$(qemu_others $QPID 'pipe:*')"
disk=$(for f in /proc/$QPID/fd/*; do readlink "$f"; done | grep -cxF "$D/demo.img")
[ "$disk" -ge 2 ] && ok || bad "QEMU holds the disk $disk times, not its read-only and writable descriptors"
if ls -l /proc/$QPID/fd/ | grep -qE '/run/kvmload|/home/|/root/'; then bad "QEMU holds a private path"; else ok; fi

# -- QEMU killed outright: status 4, said so, no QEMU, no runtime directory
kill -KILL $QPID
wait $KPID
expect_status $? 4 "QEMU killed"
expect_line "$D/tcg.err" "kvmload: QEMU was killed by Killed"
[ -e /proc/$QPID ] && bad "QEMU $QPID is left" || ok
[ -e "$RUN" ] && bad "$RUN left behind" || ok

# -- --net user: QEMU's NAT needs the host's network namespace, the others stay its own
boot user --accel tcg --net user
[ "$(readlink /proc/$QPID/ns/net)" = "$(readlink /proc/self/ns/net)" ] && ok || bad "--net user: another network namespace"
[ "$(readlink /proc/$QPID/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] && ok || bad "--net user: the host's mount namespace"
confined "QEMU, --net user" $QPID kvmload
stop "--net user"
expect_line "$D/user.err" "kvmload: the guest powered off"

# -- --net tap:NAME: kvmload attaches to the tap, QEMU gets the descriptor in its own network namespace
tap=kvlc$$
while [ -e "/sys/class/net/$tap" ]; do tap=kvlc$RANDOM; done
if ip tuntap add dev $tap mode tap 2>/dev/null; then
	on_exit "ip link del $tap 2>/dev/null"
	boot tap --accel tcg --net tap:$tap
	check "--net tap: QEMU's descriptor 9" /dev/net/tun "$(readlink /proc/$QPID/fd/9)"
	[ "$(readlink /proc/$QPID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && ok || bad "--net tap: the host's network namespace"
	expect_text "$D/tap.err" " -netdev tap,id=net0,fd=9 -device virtio-net-pci,netdev=net0"
	if tr -d '\r' <"$D/tap.log" | grep -qE '^testkernel: pci 0:[0-9]+\.0 1af4:1000$'; then ok
	else bad "--net tap: no virtio-net function"; fi
	confined "QEMU, --net tap" $QPID kvmload
	stop "--net tap"
	ip link del $tap && ok || bad "the tap $tap did not outlive the guest"
else
	skip_part "--net tap needs ip tuntap and /dev/net/tun"
fi

# -- --accel kvm: the one supplementary group is /dev/kvm's, and /dev/kvm is in QEMU's /dev
if have_kvm; then
	boot kvm --accel kvm
	confined "QEMU, --accel kvm" $QPID kvmload
	check "QEMU: /dev/kvm's group alone" "Groups:	$(stat -c %g /dev/kvm)" "$(grep '^Groups:' /proc/$QPID/status | sed 's/ *$//')"
	check "QEMU's /dev under kvm" "full kvm null random urandom zero" "$(ls "/proc/$QPID/root/dev" | tr '\n' ' ' | sed 's/ $//')"
	check "QEMU's RLIMIT_AS under kvm" "$(( (128 << 20) + (1024 << 20) + (64 << 20) ))" \
		"$(awk '/^Max address space/ { print $4 }' /proc/$QPID/limits)"
	# No TCG log: the command line names nothing at 6, and QEMU has nothing there from kvmload (its
	# own first descriptors, or the disk it receives later, may take the number); kvmload's stray
	# files reach it at no number.
	check "QEMU's command line under kvm: its descriptors" "3 4 5 7 8" "$(argv_fds kvm)"
	check "QEMU's descriptors 0-8 under kvm" "0 /dev/null|1 /dev/null|2 pipe|3 /memfd:kvmload-guest (deleted)|4 socket|5 socket|6 own|7 /usr/share/qemu/qboot.rom|8 kvmload-pvh.elf" \
		"$(qemu_fds $QPID | sed 's/|6 disk|/|6 own|/')"
	check "QEMU's other descriptors under kvm: the disk's and its own" "" "$(qemu_others $QPID '')"
	stop "--accel kvm"
else
	skip_part "--accel kvm needs a usable /dev/kvm"
fi

# -- --run builtin: the guest runs in kvmload itself, which has no capability left by then
if have_kvm; then
	spinning builtin --run builtin
	check "builtin: no capability while the guest runs" "CapPrm:	0000000000000000
CapEff:	0000000000000000
NoNewPrivs:	1" "$(grep -E '^(CapEff|CapPrm|NoNewPrivs):' /proc/$KPID/status)"
	# Its clean-up needs none: SIGTERM, and the runtime directory goes.
	kill -TERM $KPID
	wait $KPID
	expect_status $? 143 "builtin: SIGTERM"
else
	skip_part "--run builtin needs a usable /dev/kvm"
fi
[ -e "$RUN" ] && bad "$RUN left behind at the end" || ok
lib_done
