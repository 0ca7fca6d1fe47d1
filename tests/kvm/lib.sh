# lib.sh: the kvm suite's helpers (sourced, not run): the machine a guest runs on, console
# expectations, guest images; counting and clean-up are tests/lib.sh's.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# have_kvm: /dev/kvm is a character device this script can open for reading and writing.
have_kvm() {
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && { : <>/dev/kvm; } 2>/dev/null
}

# need_machine: sets MACHINE, the kvmload options for the machine the guest runs on: the builtin
# machine where /dev/kvm is usable (so it stays tested where it can run), else QEMU's emulator
# (TCG); skips when neither can run. Says which on stdout.
need_machine() {
	local missing=
	if have_kvm; then
		MACHINE=(--run builtin)
	else
		command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="qemu-system-x86_64 (qemu-system-x86)"
		[ -r /usr/share/qemu/qboot.rom ] || missing="${missing:+$missing and }/usr/share/qemu/qboot.rom (qemu-system-data)"
		[ -z "$missing" ] || skip "no usable /dev/kvm for --run builtin, and no $missing for QEMU"
		MACHINE=(--accel tcg)
	fi
	echo "machine: ${MACHINE[*]}"
}
# on_qemu: the guest runs on QEMU (need_machine chose it).
on_qemu() { [ "${MACHINE[0]}" != --run ]; }

# Scratch space removed on exit; kept, and named, when a check failed (its logs say why).
WORK=$(mktemp -d /tmp/kvmload-test.XXXXXX)
scratch_dir "$WORK"

# expect_line FILE TEXT: FILE has a line equal to TEXT (console lines end in CRLF).
expect_line() {
	if tr -d '\r' <"$1" | grep -qxF -- "$2"; then ok; else bad "$1: no line '$2'"; fi
}
# expect_text FILE TEXT: TEXT occurs somewhere in FILE.
expect_text() {
	if tr -d '\r' <"$1" | grep -qF -- "$2"; then ok; else bad "$1: no text '$2'"; fi
}
expect_no_text() {
	if tr -d '\r' <"$1" | grep -qF -- "$2"; then bad "$1: unexpected text '$2'"; else ok; fi
}
expect_status() {
	if [ "$1" -eq "$2" ]; then ok; else bad "$3: exit status $1, expected $2"; fi
}
# console_step TEXT SECONDS: wait until the console log $STEP_LOG shows TEXT (giving up early when
# the process $STEP_PID is gone); one check; prints the ms since $STEP_T0 (date +%s%N) it took.
console_step() {
	for _ in $(seq $(($2 * 10))); do
		tr -d '\r' <"$STEP_LOG" | grep -qF -- "$1" && break
		kill -0 "$STEP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if tr -d '\r' <"$STEP_LOG" | grep -qF -- "$1"; then
		ok
		echo "$(( ($(date +%s%N) - STEP_T0) / 1000000 )) ms: $1"
	else
		bad "no '$1' on the console within $2 s"
	fi
}

# lines_in_order FILE A B ...: each text occurs after the previous one.
lines_in_order() {
	f=$1; shift
	if tr -d '\r' <"$f" | awk -v n=$# 'BEGIN { for (i = 1; i < ARGC; i++) want[i] = ARGV[i]; ARGC = 1; k = 1 }
		k <= n && index($0, want[k]) { k++ } END { exit !(k > n) }' "$@"; then ok
	else bad "$f: not in order: $*"; fi
}

# make_ufs2 TREE IMG: a raw UFS2 image of TREE.
make_ufs2() {
	makefs -t ffs -o version=2 -s 48m "$2" "$1" >/dev/null
}

# make_gpt_ufs2 TREE IMG: GPT disk, p1 freebsd-boot (empty), p2 freebsd-ufs at sector 4096 holding TREE.
make_gpt_ufs2() {
	make_ufs2 "$1" "$WORK/part.img"
	truncate -s 64m "$2"
	sgdisk -o -n 1:2048:+512K -t 1:a501 -n 2:4096:+48M -t 2:a503 -c 2:rootfs "$2" >/dev/null ||
		{ echo "sgdisk failed on $2" >&2; exit 1; }
	dd if="$WORK/part.img" of="$2" bs=512 seek=4096 conv=notrunc status=none
	rm -f "$WORK/part.img"
}

# make_fbsd_tree TREE KERNEL: $KVMLOAD_FREEBSD_ROOT/boot with our test kernel as boot/kernel/kernel,
# accf_data.ko as its one module and a loader.conf that loads it (ROOT itself is never written).
make_fbsd_tree() {
	mkdir -p "$1/boot/kernel"
	for f in "$KVMLOAD_FREEBSD_ROOT"/boot/*; do
		case $f in */kernel) ;; *) cp -r "$f" "$1/boot/" ;; esac
	done
	cp "$KVMLOAD_FREEBSD_ROOT/boot/kernel/accf_data.ko" "$1/boot/kernel/"
	cp "$2" "$1/boot/kernel/kernel"
	printf 'accf_data_load="YES"\nbeastie_disable="YES"\n' >"$1/boot/loader.conf"
}

# prompt_tree KERNEL DIR: a guest's root in DIR: KERNEL as its kernel, a loader.conf that stops
# at the loader's prompt (the loader then waits on console input).
prompt_tree() {
	mkdir -p "$2/boot/kernel"
	cp "$1" "$2/boot/kernel/kernel"
	printf 'autoboot_delay="NO"\n' >"$2/boot/loader.conf"
}

# wait_prompt LOG PID: until the loader's prompt ("OK ") shows in LOG, while PID lives (30 s at
# most); true when it showed.
wait_prompt() {
	for _ in $(seq 600); do
		grep -q 'OK ' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	grep -q 'OK ' "$1" 2>/dev/null
}

# start_at_prompt LOG CHILD ARGS...: kvmload (the MACHINE, miniboot, $WORK/g.img, stdin the fifo
# $WORK/in, VM $VM) in the background until its loader prompt shows; sets KPID, and CHILDPID to its child
# process named CHILD. One check: the prompt came and the child is there.
start_at_prompt() {
	log=$1 child=$2; shift 2
	"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -d "$WORK/g.img" "$@" "$VM" <"$WORK/in" >"$log" 2>"$log.err" &
	KPID=$!
	wait_prompt "$log" $KPID
	CHILDPID=$(pgrep -P $KPID -x "$child")
	if grep -q 'OK ' "$log" && [ -n "$CHILDPID" ]; then ok
	else bad "$log: kvmload did not reach the prompt with a $child child"; fi
}
