#!/bin/bash
# test_fault_kvm.sh: kvmload under faults: a disk whose reads fail (faultfs), guest memory it cannot have, a console output that goes away; each ends with a message and a documented status, no hang, no mount or process left.
# usage: test_fault_kvm.sh KVMLOAD MINIBOOT KERNEL FAULTFS PIPECLOSE
. "$(dirname "$0")/../kvm/lib.sh"
need_machine
need_tools makefs sgdisk fusermount3 timeout
need_fuse
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3 FAULTFS=$4 PIPECLOSE=$5
FFS=$WORK/ffs FPID=
VM=faulttest-$$  # unique to this run: /run/kvmload is host-wide
on_exit '[ -n "$FPID" ] && kill "$FPID" 2> /dev/null'
on_exit 'grep -q " $FFS fuse" /proc/mounts && fusermount3 -u -z "$FFS"'

tree=$WORK/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults" "$FFS"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' > "$tree/boot/defaults/loader.conf"
echo 'fault.test="1"' > "$tree/boot/loader.conf"
make_gpt_ufs2 "$tree" "$WORK/gpt.img"
PART=$((4096 * 512))
# The kernel's first block: the only ELF header in the image.
KOFF=$(($(LC_ALL=C grep -obUa ELF "$WORK/gpt.img" | head -n 1 | cut -d: -f1) - 1))
[ "$(od -An -tx1 -j "$KOFF" -N4 "$WORK/gpt.img" | tr -d ' ')" = 7f454c46 ] ||
	{ echo "fixture: kernel not found in the image" >&2; exit 1; }

# faults RANGE...: serve gpt.img at $FFS/disk.img, reads touching a RANGE (START:LENGTH) fail with EIO.
faults() {
	"$FAULTFS" "$WORK/gpt.img" "$FFS" "$@" 2> "$WORK/faultfs.err" &
	FPID=$!
	for _ in $(seq 100); do [ -f "$FFS/disk.img" ] && return; sleep 0.1; done
	echo "faultfs did not come up: $(cat "$WORK/faultfs.err")" >&2
	exit 1
}
unfault() {
	fusermount3 -u "$FFS" && wait "$FPID"
	expect_status $? 0 "faultfs"
	FPID=
}
no_view_mount() {
	if grep -q " /run/kvmload/$VM/" /proc/mounts; then bad "a view mount left behind"; else ok; fi
}
check_mounts() {
	if grep -q " $FFS fuse" /proc/mounts; then bad "faultfs mount left behind"; else ok; fi
	no_view_mount
}
# leftovers WHAT: no process still runs with our scratch directory in its arguments but faultfs.
# (Read with builtins: a fork per process takes seconds on a loaded machine.)
leftovers() {
	local p left= args
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$FPID" ] || [ "${p#/proc/}" = $$ ] && continue
		mapfile -d '' args 2> /dev/null < "$p/cmdline" || continue
		[[ "${args[*]}" == *"$WORK"* ]] && left="$left ${p#/proc/}"
	done
	if [ -z "$left" ]; then ok; else bad "$1: processes left:$left"; fi
}

# run NAME WANT-STATUS ARGS...: kvmload with stdin at EOF, bounded to 120 s.
run() {
	local name=$1 want=$2; shift 2
	timeout 120 "$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" "$@" "$VM" < /dev/null > "$WORK/$name.out" 2> "$WORK/$name.err"
	st=$?
	[ $st -eq 124 ] && bad "$name: kvmload hung"
	expect_status $st "$want" "$name"
	leftovers "$name"
}

# ---- a disk that fails
# The first sectors, where the image format is read: refused before anything starts (74).
faults 512:512
run gpt-header 74 -m 128M -d "$FFS/disk.img"
expect_line "$WORK/gpt-header.err" "kvmload: -d $FFS/disk.img: reading its first bytes: Input/output error"
no_view_mount
unfault
# The partition entries: the view (kvmload-fs) cannot be made: status 4, both say why.
faults 1024:512
run gpt-entries 4 -m 128M -d "$FFS/disk.img"
expect_line "$WORK/gpt-entries.err" "kvmload-fs: $FFS/disk.img: cannot read its partitions: Input/output error"
expect_text "$WORK/gpt-entries.err" "exited with status 74 before its mount at"
no_view_mount
unfault
# The file system or the kernel: the loader reports it, kvmload exits 1 (bhyveload's status for a failed load).

faults $((PART + 65536)):8192
run superblock 1 -m 128M -d "$FFS/disk.img"
expect_text "$WORK/superblock.out" "miniboot: disk0p2: no usable UFS file system: input/output error"
expect_text "$WORK/superblock.err" "bytes at $((PART + 65536)): Input/output error"
unfault

faults "$KOFF:4096"
run kernel 1 -m 128M -d "$FFS/disk.img"
expect_text "$WORK/kernel.out" "Loading /boot/loader.conf"
expect_text "$WORK/kernel.out" "miniboot: /boot/kernel/kernel: reading the ELF header: input/output error"
expect_no_text "$WORK/kernel.out" "testkernel:"
unfault
# The same image boots when nothing fails: the faults above were the only difference.
# (QEMU opens the disks for writing unless --ro, and faultfs serves them read-only.)
ro=()
on_qemu && ro=(--ro)
faults
run no-fault 2 -m 128M "${ro[@]}" -d "$FFS/disk.img"
expect_line "$WORK/no-fault.out" "testkernel: halt"
expect_line "$WORK/no-fault.out" "testkernel: kenv fault.test=1"
unfault
check_mounts

# ---- guest memory
if on_qemu; then
	# The memfd is made; QEMU (TCG: 40 physical address bits) refuses it when it starts.
	# Refused before the load: TCG's guest has 40 physical address bits.
	run mem-kvm-limit 64 -m 10T -h "$tree"
	expect_text "$WORK/mem-kvm-limit.err" "beyond the 40-bit physical address space QEMU gives the guest"
else
	run mem-kvm-limit 71 -m 10T -h "$tree"
	expect_text "$WORK/mem-kvm-limit.err" "guest memory: KVM refuses 10482688 MiB at guest-physical 0x100000000, more than it can map"
fi
run mem-too-small 1 -m 2M -h "$tree"
expect_text "$WORK/mem-too-small.out" "miniboot: /boot/kernel/kernel: [0x200000, +"
expect_text "$WORK/mem-too-small.out" ") does not fit in guest memory (0x200000 bytes usable)"

# ---- console output gone: no SIGPIPE death, a message, the loader's or the guest's status
timeout 120 "$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -h "$tree" "$VM" < /dev/null >&- 2> "$WORK/stdout-closed.err"
st=$?
expect_status $st 1 "stdout closed"
[ $st -eq 1 ] || sed 's/^/  kvmload stderr: /' "$WORK/stdout-closed.err" >&2
expect_line "$WORK/stdout-closed.err" "kvmload: console output closed (Bad file descriptor); leaving the loader"
leftovers "stdout closed"
# Closed stdin and stderr take nothing from the run (fds 0-2 are held, so no file lands on them).
timeout 120 "$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -h "$tree" "$VM" <&- > "$WORK/stdin-stderr-closed.out" 2>&-
expect_status $? 2 "stdin and stderr closed"
expect_line "$WORK/stdin-stderr-closed.out" "testkernel: kenv fault.test=1"
expect_line "$WORK/stdin-stderr-closed.out" "testkernel: halt"
timeout 120 "$PIPECLOSE" - "$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -h "$tree" "$VM" < /dev/null 2> "$WORK/pipe-early.err"
expect_status $? 1 "pipe without reader"
expect_line "$WORK/pipe-early.err" "kvmload: console output closed (Broken pipe); leaving the loader"
leftovers "pipe without reader"
# The reader leaves once the kernel runs (its first line); it prints 30 KiB of kenv after that.
big=$(head -c 3000 /dev/zero | tr '\0' v)
envs=()
for i in $(seq 10); do envs+=(-e "big$i=$big"); done
timeout 120 "$PIPECLOSE" "testkernel: start" "$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -h "$tree" "${envs[@]}" "$VM" \
	< /dev/null > "$WORK/pipe-late.out" 2> "$WORK/pipe-late.err"
expect_status $? 4 "reader gone while the guest runs"
if on_qemu; then expect_line "$WORK/pipe-late.err" "kvmload: console output closed (Broken pipe): powering the guest down"
else expect_line "$WORK/pipe-late.err" "kvmload: console output closed (Broken pipe): stopping the guest"; fi
expect_text "$WORK/pipe-late.out" "testkernel: start"
leftovers "reader gone while the guest runs"

lib_done
