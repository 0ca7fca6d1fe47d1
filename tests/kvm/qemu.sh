#!/bin/bash
# qemu.sh: the loaded test kernel runs on QEMU: entry state, platform (ACPI, MADT, PCI, SMAP), devices, every exit status, signals and clean-up.
. "$(dirname "$0")/lib.sh"
need_tools qemu-system-x86_64 makefs sgdisk python3
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3 DEMO=$4 HOSTDIR=$(dirname "$5")
VM=qemu-$$
# TCG everywhere: it behaves the same on every host (KVM here is nested and reports less).
ACCEL=tcg

tree=$WORK/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' >"$tree/boot/defaults/loader.conf"
printf 'guest.answer="42"\n' >"$tree/boot/loader.conf"

run() { # run LOG ARGS...: kvmload on QEMU, stdin at EOF, console to LOG, stderr to LOG.err.
	log=$1; shift
	timeout 120 "$KVMLOAD" -l "$MINIBOOT" --accel $ACCEL "$@" </dev/null >"$log" 2>"$log.err"
}

# nothing_left WHAT: no QEMU or kvmload-fs of ours, no runtime directory, no mount.
export KVMLOAD_QEMU_TEST=$WORK
nothing_left() {
	if [ -n "$(marked qemu-system-x86 KVMLOAD_QEMU_TEST)" ] || [ -e /run/kvmload/$VM ] ||
		grep -q "/run/kvmload/$VM/" /proc/mounts; then bad "$1: something was left behind"
	else ok; fi
}

# -- every way the guest ends, as bhyve(8) numbers them, with kvmload's line saying so
for c in "poweroff 1 the guest powered off" "reset 0 the guest reset" \
	"triplefault 3 the guest triple-faulted" "panic 4 the guest panicked (pvpanic)" \
	"halt 2 the guest halted (every vCPU stopped with interrupts off)"; do
	set -- $c
	action=$1 want=$2; shift 2
	run "$WORK/$action.log" -h "$tree" -e testkernel.exit=$action $VM; st=$?
	expect_status $st "$want" "guest $action"
	expect_line "$WORK/$action.log" "testkernel: $action"
	expect_line "$WORK/$action.log.err" "kvmload: $*"
done
# S5 through the FADT's PM1a_CNT and the DSDT's \_S5 (QEMU's PIIX4), not the builtin machine's port.
expect_line "$WORK/poweroff.log" "testkernel: poweroff port=0x604 slp_typ=0"
nothing_left "after the exits"

# -- the entry state is the loader's (miniboot sets it as userboot's elf64_exec does);
# CR0.ET (0x10) is hardwired to 1 on every x86 CPU since the 486, so 0x80000021 reads 0x80000031.
log=$WORK/halt.log
expect_line "$log" "testkernel: entry rsp=0x1000 rflags=0x2 cr0=0x80000031 cr3=0x2000 cr4=0x20 efer=0x500"
expect_line "$log" "testkernel: entry cs=0x8 ds=0x10 es=0x10 fs=0x10 gs=0x10 ss=0x10 tr=0x0 ldtr=0x0"
expect_line "$log" "testkernel: entry gdtr=0x5000/0x17 idtr=0x0/0x0"
expect_line "$log" "testkernel: entry rax=0x0 rbx=0x0 rcx=0x0 rdx=0x0 rsi=0x0 rdi=0x0 rbp=0x0 r8=0x0 r9=0x0 r10=0x0 r11=0x0 r12=0x0 r13=0x0 r14=0x0 r15=0x0"
expect_text "$log" "testkernel: start modulep=0x"
expect_line "$log" "testkernel: kenv guest.answer=42"
expect_text "$log" "testkernel: module name=/boot/kernel/kernel type=elf kernel addr=0x200000 size=0x"
# -- the platform: QEMU's ACPI tables, none of them in RAM the loader's SMAP hands out
expect_text "$log" "testkernel: acpi rsdp=0x"
for t in RSDT FACP APIC DSDT FACS; do expect_text "$log" "testkernel: acpi table $t addr=0x"; done
expect_no_text "$log" "bad checksum"
expect_line "$log" "testkernel: acpi smap ok"
expect_line "$log" "testkernel: madt cpus=1 ioapics=1"
expect_line "$log" "testkernel: pci virtio-blk=0"
# The base-memory entry ends at the EBDA (firmware's MP table), as QEMU's own map says.
expect_line "$log" "testkernel: smap base=0x0 len=0x9fc00 type=1"
expect_line "$log" "testkernel: smap base=0x100000 len=0xff00000 type=1"

# -- memory sizes: the memfd is QEMU's RAM with bhyve's 3 GiB split
run "$WORK/m512.log" -h "$tree" -m 512M -e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "-m 512M"
expect_line "$WORK/m512.log" "testkernel: smap base=0x100000 len=0x1ff00000 type=1"
expect_line "$WORK/m512.log" "testkernel: acpi smap ok"
run "$WORK/m4608.log" -h "$tree" -m 4608M -e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "-m 4608M"
expect_line "$WORK/m4608.log" "testkernel: smap base=0x100000 len=0xbff00000 type=1"
expect_line "$WORK/m4608.log" "testkernel: smap base=0x100000000 len=0x60000000 type=1"
expect_line "$WORK/m4608.log" "testkernel: acpi smap ok"

# -- SMP: the MADT lists --cpus processors; the APs wait for a SIPI that never comes: halted
run "$WORK/smp.log" -h "$tree" --cpus 2 -e testkernel.exit=halt $VM; st=$?
expect_status $st 2 "--cpus 2"
expect_line "$WORK/smp.log" "testkernel: madt cpus=2 ioapics=1"
run "$WORK/smp4.log" -h "$tree" --cpus 4 -e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "--cpus 4"
expect_line "$WORK/smp4.log" "testkernel: madt cpus=4 ioapics=1"
# Up to --cpus 255: the guest runs some seconds (the polls see a busy vCPU 0) and then ends. A poll
# asks one vCPU at a time, the next only while the last one answered halted: every vCPU's
# registers in one answer outgrew QMP's 256 KiB line at 190 vCPUs, and QEMU was killed (status 4).
for c in "200 halt 2 the guest halted (every vCPU stopped with interrupts off)" \
	"255 poweroff 1 the guest powered off"; do
	set -- $c
	n=$1 action=$2 want=$3; shift 3
	run "$WORK/smp$n.log" -h "$tree" --cpus $n -e testkernel.delay=3 -e testkernel.exit=$action $VM; st=$?
	expect_status $st "$want" "--cpus $n, $action after 3 s"
	expect_line "$WORK/smp$n.log" "testkernel: madt cpus=$n ioapics=1"
	lines_in_order "$WORK/smp$n.log" "testkernel: delay 3 s" "testkernel: delay done" "testkernel: $action"
	expect_line "$WORK/smp$n.log.err" "kvmload: $*"
	expect_no_text "$WORK/smp$n.log.err" "killed"
	expect_no_text "$WORK/smp$n.log.err" "monitor"
done

# -- disks: each -d is a virtio-blk function in order; the loader never writes them. The kernel
# reads each one's first sectors (testkernel.blksum) through legacy virtio-pci: what the disk holds.
make_gpt_ufs2 "$tree" "$WORK/d0.img"
truncate -s 8m "$WORK/d1.img"
# A fixed pattern (no 55aa at 510: no MBR), so d1's sum is neither zeros' nor d0's.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(i * 7 & 255 for i in range(4096)))' |
	dd of="$WORK/d1.img" conv=notrunc status=none
crc8() { python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read(8 * 512)))' "$1"; }
sum0=$(crc8 "$WORK/d0.img") sum1=$(crc8 "$WORK/d1.img")
sums=$(sha256sum "$WORK/d0.img" "$WORK/d1.img")
run "$WORK/disks.log" -d "$WORK/d0.img" -d "$WORK/d1.img" -v -e testkernel.blksum=8 \
	-e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "two disks"
expect_line "$WORK/disks.log" "testkernel: pci virtio-blk=2"
expect_line "$WORK/disks.log" "testkernel: blk0 ro=0 sectors=131072 sum=$sum0"
expect_line "$WORK/disks.log" "testkernel: blk1 ro=0 sectors=16384 sum=$sum1"
lines_in_order "$WORK/disks.log" "testkernel: pci virtio-blk=2" "testkernel: blk0 " "testkernel: blk1 " \
	"testkernel: poweroff"
expect_line "$WORK/disks.log" "testkernel: kenv currdev=disk0p2:"
# QEMU gets kvmload's descriptors in fd sets, never a path it would open again.
# A raw file the guest writes is probed by QEMU too (block 0 then keeps QEMU's protection).
# Once the loader is done, over QMP: each file's read-only and writable descriptors into an fd set,
# a drive on it, its device at its slot; then the guest runs.
lines_in_order "$WORK/disks.log.err" 'kvmload: QMP: add-fd {"fdset-id":0}' 'kvmload: QMP: add-fd {"fdset-id":0}' \
	'kvmload: QMP: human-monitor-command {"command-line":"drive_add 0 file=/dev/fdset/0,if=none,id=d0-l0,readonly=off"}' \
	'kvmload: QMP: device_add {"driver":"virtio-blk-pci","drive":"d0-l0","addr":"0x2"}' \
	'kvmload: QMP: add-fd {"fdset-id":16}' 'kvmload: QMP: add-fd {"fdset-id":16}' \
	'kvmload: QMP: human-monitor-command {"command-line":"drive_add 0 file=/dev/fdset/16,if=none,id=d1-l0,readonly=off"}' \
	'kvmload: QMP: device_add {"driver":"virtio-blk-pci","drive":"d1-l0","addr":"0x3"}' \
	'kvmload: QMP: cont' 'kvmload: QEMU runs the guest'
expect_no_text "$WORK/disks.log.err" "Image format was not specified"
if grep '^kvmload: starting ' "$WORK/disks.log.err" | grep -qF "$WORK/d"; then bad "a disk path on QEMU's command line"; else ok; fi
[ "$sums" = "$(sha256sum "$WORK/d0.img" "$WORK/d1.img")" ] && ok || bad "a disk image changed"
run "$WORK/ro.log" -d "$WORK/d0.img" --ro -v -e testkernel.blksum=8 -e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "--ro"
expect_text "$WORK/ro.log.err" '"node-name":"d0-l0","read-only":true,"file":{"driver":"file","node-name":"d0-f0","filename":"/dev/fdset/0","read-only":true}}' 
expect_line "$WORK/ro.log" "testkernel: blk0 ro=1 sectors=131072 sum=$sum0"
nothing_left "after the disk runs"

# -- network: virtio-net (1af4:1000) with QEMU's user-mode NAT
run "$WORK/net.log" -v -h "$tree" --net user -e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "--net user"
if tr -d '\r' <"$WORK/net.log" | grep -qE '^testkernel: pci 0:[0-9]+\.0 1af4:1000$'; then ok
else bad "--net user: no virtio-net function"; fi
# Its MAC address: QEMU's prefix and three bytes of the VM's name (guests on one bridge differ,
# a guest keeps its own), or --mac's.
mac_of() { sed -n 's/^kvmload: starting .*virtio-net-pci,netdev=net0,mac=\([0-9a-f:]*\).*/\1/p' "$1"; }
mac1=$(mac_of "$WORK/net.log.err")
match "--net user: a MAC of QEMU's prefix" "52:54:00:??:??:??" "$mac1"
run "$WORK/net2.log" -v -h "$tree" --net user -e testkernel.exit=poweroff $VM; st=$?
check "--net user: the same VM, the same MAC" "$mac1" "$(mac_of "$WORK/net2.log.err")"
run "$WORK/net3.log" -v -h "$tree" --net user -e testkernel.exit=poweroff ${VM}b; st=$?
[ -n "$(mac_of "$WORK/net3.log.err")" ] && [ "$(mac_of "$WORK/net3.log.err")" != "$mac1" ] && ok ||
	bad "--net user: VMs $VM and ${VM}b have one MAC: $mac1"
run "$WORK/net4.log" -v -h "$tree" --net user --mac 02:00:00:ab:cd:ef -e testkernel.exit=poweroff $VM; st=$?
expect_status $st 1 "--mac"
check "--mac: the MAC given" "02:00:00:ab:cd:ef" "$(mac_of "$WORK/net4.log.err")"

# -- QEMU killed under a running guest: status 4, said so, nothing left
"$KVMLOAD" -l "$MINIBOOT" --accel $ACCEL -h "$tree" -e testkernel.exit=spin $VM \
	</dev/null >"$WORK/kill.log" 2>"$WORK/kill.log.err" &
kpid=$!
for _ in $(seq 200); do grep -q 'testkernel: spin' "$WORK/kill.log" && break; sleep 0.05; done
qpid=$(pgrep -P $kpid -x qemu-system-x86)
[ -n "$qpid" ] && kill -KILL "$qpid"
wait $kpid; st=$?
expect_status $st 4 "QEMU killed"
expect_line "$WORK/kill.log.err" "kvmload: QEMU was killed by Killed"
nothing_left "QEMU killed"

# -- SIGTERM to kvmload: ACPI power button, the guest powers off (status 1), nothing left
"$KVMLOAD" -l "$MINIBOOT" --accel $ACCEL -h "$tree" -e testkernel.exit=spin $VM \
	</dev/null >"$WORK/term.log" 2>"$WORK/term.log.err" &
kpid=$!
for _ in $(seq 200); do grep -q 'testkernel: spin' "$WORK/term.log" && break; sleep 0.05; done
# While the guest runs on QEMU (the view long gone), kvmload still holds the vm: a second one is
# refused with its pid, and the running one is untouched.
"$KVMLOAD" -l "$MINIBOOT" --accel $ACCEL -h "$tree" $VM </dev/null >/dev/null 2>"$WORK/second.err"; st=$?
expect_status $st 4 "a second kvmload while the guest runs"
expect_text "$WORK/second.err" "kvmload: vm $VM is held by kvmload (pid $kpid, "
kill -0 $kpid 2>/dev/null && ok || bad "the running kvmload went with the refused one"
# Its runtime directory meanwhile: the view down since the loader was done, the holder file kept.
check "while the guest runs: the holder file" "$kpid kvmload" "$(cat /run/kvmload/$VM/holder 2>/dev/null)"
if [ -e /run/kvmload/$VM/view ] || [ -e /run/kvmload/$VM/kvmload-fs.pid ] ||
	grep -q "/run/kvmload/$VM/" /proc/mounts; then bad "while the guest runs: the view is still there"
else ok; fi
kill -TERM $kpid
wait $kpid; st=$?
expect_status $st 1 "SIGTERM"
expect_text "$WORK/term.log.err" "kvmload: Terminated: asking the guest to power off (ACPI)"
expect_line "$WORK/term.log" "testkernel: power button"
expect_line "$WORK/term.log.err" "kvmload: the guest powered off"
nothing_left "SIGTERM"

# -- a guest deaf to the power button: a second SIGTERM kills QEMU, and kvmload ends by the
#    signal after its clean-up (holder, runtime directory), QEMU gone
"$KVMLOAD" -l "$MINIBOOT" --accel $ACCEL -h "$tree" -e testkernel.exit=deaf $VM \
	</dev/null >"$WORK/deaf.log" 2>"$WORK/deaf.log.err" &
kpid=$!
for _ in $(seq 200); do grep -q 'testkernel: deaf' "$WORK/deaf.log" && break; sleep 0.05; done
kill -TERM $kpid
for _ in $(seq 100); do grep -q 'asking the guest to power off' "$WORK/deaf.log.err" && break; sleep 0.05; done
kill -TERM $kpid
wait $kpid; st=$?
expect_status $st 143 "a second SIGTERM, a deaf guest"
nothing_left "a second SIGTERM"

# -- SIGTERM before the guest armed its power button: the button is pressed again until it is
"$KVMLOAD" -v -l "$MINIBOOT" --accel $ACCEL -h "$tree" -e testkernel.exit=spin $VM \
	</dev/null >"$WORK/early.log" 2>"$WORK/early.log.err" &
kpid=$!
# As soon as QEMU runs the guest: the loader is done, the guest's kernel has not started yet.
for _ in $(seq 500); do grep -q '^kvmload: QEMU runs the guest' "$WORK/early.log.err" && break; sleep 0.01; done
kill -TERM $kpid
start=$(date +%s)
wait $kpid; st=$?
expect_status $st 1 "SIGTERM before the guest armed its power button"
[ $(( $(date +%s) - start )) -lt 15 ] && ok || bad "early SIGTERM: the guest took until the kill to go"
expect_line "$WORK/early.log" "testkernel: power button"
nothing_left "early SIGTERM"

# -- on a terminal: raw while the guest runs, restored however the run ends
# tty_run NAME ACTION KILL: kvmload on a pty (script(1)); KILL: none, term (kvmload), qemu (QEMU).
tty_run() {
	rm -f "$WORK/tty.$1".*
	script -qfec "stty -g >$WORK/tty.$1.before; tty >$WORK/tty.$1.name; \
		$KVMLOAD -l $MINIBOOT --accel $ACCEL -h $tree -e testkernel.exit=$2 $VM; \
		echo \$? >$WORK/tty.$1.st; stty -g >$WORK/tty.$1.after" /dev/null \
		</dev/null >"$WORK/tty.$1.log" 2>&1 &
	spid=$!
	for _ in $(seq 200); do grep -q "testkernel: $2" "$WORK/tty.$1.log" 2>/dev/null && break; sleep 0.05; done
	# script -> sh -> kvmload (the command line alone would also match script and sh).
	kp=
	for sh in $(pgrep -P $spid); do kp=$(pgrep -x kvmload -P "$sh"); [ -n "$kp" ] && break; done
	# While the guest runs the terminal is raw (no echo, no canonical mode).
	if [ -n "$kp" ] && stty -F "$(cat "$WORK/tty.$1.name")" -a 2>/dev/null | grep -q -- '-icanon.*-echo\|-echo.*-icanon\|-icanon'; then ok
	else [ "$3" = none ] && ok || bad "tty $1: not in raw mode while the guest ran"; fi
	case $3 in
	term) [ -n "$kp" ] && kill -TERM "$kp" ;;
	qemu) [ -n "$kp" ] && kill -KILL "$(pgrep -P "$kp" -x qemu-system-x86)" ;;
	esac
	# Bounded: a kvmload that did not end is a failure, not a hung suite.
	for _ in $(seq 600); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
	kill -0 $spid 2>/dev/null && { bad "tty $1: kvmload did not end"; kill -KILL $spid $kp 2>/dev/null; }
	wait $spid
}
for c in "off poweroff none 1" "term spin term 1" "qemu spin qemu 4"; do
	set -- $c
	tty_run "$1" "$2" "$3"
	expect_status "$(cat "$WORK/tty.$1.st" 2>/dev/null || echo 255)" "$4" "on a terminal, $1"
	if [ -s "$WORK/tty.$1.before" ] && cmp -s "$WORK/tty.$1.before" "$WORK/tty.$1.after"; then ok
	else bad "on a terminal, $1: the terminal settings were not restored"; fi
done
nothing_left "on a terminal"

# -- the README's demo guest on QEMU: swap to its own lua plugin, the same kernel output as ever
timeout 120 "$KVMLOAD" -m 128M -d "$DEMO" --loader-dir "$HOSTDIR" --accel $ACCEL $VM \
	</dev/null >"$WORK/demo.log" 2>&1; st=$?
expect_status $st 2 "demo guest on QEMU"
lines_in_order "$WORK/demo.log" "miniboot/amd64 userboot 4th" "miniboot/amd64 userboot lua" \
	"Booting [/boot/kernel/kernel]..." "testkernel: module name=/boot/kernel/demo.ko" \
	"testkernel: kenv demo.greeting=hello from the demo guest" "testkernel: pci virtio-blk=1" \
	"testkernel: halt" "kvmload: the guest halted"

# Where the builtin machine can run (/dev/kvm), the kernel sees the same load on both: modules,
# howto, environment; the SMAP differs only in its first entry (cut at the EBDA for QEMU).
if [ -w /dev/kvm ]; then
	timeout 120 "$KVMLOAD" -m 128M -d "$DEMO" --loader-dir "$HOSTDIR" --run builtin $VM \
		</dev/null >"$WORK/demo-builtin.log" 2>&1
	same() { tr -d '\r' <"$1" | grep -E '^testkernel: (module|howto|kenv|smap base=0x[1-9])'; }
	if [ "$(same "$WORK/demo.log")" = "$(same "$WORK/demo-builtin.log")" ] && [ -n "$(same "$WORK/demo.log")" ]
	then ok; else bad "the demo kernel saw a different load on QEMU and on the builtin machine"; fi
else
	skip_part "builtin comparison of the demo needs /dev/kvm"
fi

# -- what is missing is named, with what to install (EX_UNAVAILABLE)
KVMLOAD_QEMU=/nonexistent/qemu run "$WORK/noqemu.log" -h "$tree" $VM; st=$?
expect_status $st 69 "no QEMU"
expect_text "$WORK/noqemu.log.err" "/nonexistent/qemu: not found; the guest runs on QEMU: install Debian's qemu-system-x86"
KVMLOAD_FIRMWARE=/nonexistent/qboot.rom run "$WORK/nofw.log" -h "$tree" $VM; st=$?
expect_status $st 69 "no firmware"
expect_text "$WORK/nofw.log.err" "qemu-system-data"
expect_no_text "$WORK/nofw.log" "Booting"

# -- without a usable /dev/kvm, the default --accel kvm is refused before anything is loaded
if [ ! -w /dev/kvm ]; then
	"$KVMLOAD" -l "$MINIBOOT" -h "$tree" $VM </dev/null >"$WORK/nokvm.log" 2>"$WORK/nokvm.log.err"; st=$?
	expect_status $st 69 "--accel kvm without /dev/kvm"
	expect_text "$WORK/nokvm.log.err" "kvmload: --accel kvm: /dev/kvm: "
	expect_text "$WORK/nokvm.log.err" "use --accel tcg"
	expect_no_text "$WORK/nokvm.log" "Booting"
fi

# -- bad options are usage errors naming themselves
for c in "--accel xen|--accel xen: expected kvm or tcg" "--cpus 0|--cpus 0: expected a number of vCPUs from 1 to 255" \
	"--cpus 256|--cpus 256: expected a number of vCPUs from 1 to 255" "--net bridge|--net bridge: expected none, user or tap:IFNAME" \
	"--net tap:a/b|--net tap:a/b: expected none" "--run vmm|--run vmm: expected qemu or builtin" \
	"--mac 01:00:00:00:00:01 --net user|--mac 01:00:00:00:00:01: expected a unicast MAC address" \
	"--mac 52:54:00:00:00:0g --net user|--mac 52:54:00:00:00:0g: expected a unicast MAC address" \
	"--mac 02:00:00:00:00:01|--mac 02:00:00:00:00:01: only with --net user or tap:IFNAME"; do
	opt=${c%%|*} msg=${c#*|}
	"$KVMLOAD" $opt -h "$tree" $VM </dev/null >/dev/null 2>"$WORK/opt.err"; st=$?
	expect_status $st 64 "$opt"
	expect_text "$WORK/opt.err" "kvmload: $msg"
done
"$KVMLOAD" --run builtin --cpus 2 -h "$tree" $VM </dev/null >/dev/null 2>"$WORK/opt.err"; st=$?
expect_status $st 64 "--run builtin --cpus 2"
expect_text "$WORK/opt.err" "QEMU's: not with --run builtin"
nothing_left "at the end"
lib_done
