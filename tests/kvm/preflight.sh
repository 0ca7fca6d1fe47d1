#!/bin/bash
# preflight.sh: what QEMU would refuse is refused before anything runs (status 64, the option and the limit named, no kvmload-fs, no QEMU, nothing left): more disks than the PCI bus has slots, a missing or unusable --net tap, vCPUs KVM does not run, guest RAM QEMU's pc machine cannot hold or would move; QEMU agrees at the limits; a valid configuration at them still boots.
. "$(dirname "$0")/lib.sh"
need_tools qemu-system-x86_64
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
KVMLOAD=$(realpath "$1") KVMLOAD_FS_REAL=$(realpath "$2") MINIBOOT=$(realpath "$3") KERNEL=$(realpath "$4")
VM=preflight$$
# A private runtime directory: whatever kvmload makes for the VM shows there.
RUN=$WORK/run
mkdir -p "$RUN"
export KVMLOAD_RUN_DIR=$RUN

tree=$WORK/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' >"$tree/boot/defaults/loader.conf"

# kvmload-fs through a wrapper that writes a line whenever it starts. QEMU's starts are kvmload's
# -v lines: "starting" for the guest's, "asked QEMU" for the memory question (as root QEMU sees
# neither this directory nor any other it could write).
printf '#!/bin/sh\necho "$*" >>%s/fs.started\nexec %s "$@"\n' "$WORK" "$KVMLOAD_FS_REAL" >"$WORK/fs"
chmod +x "$WORK/fs"
export KVMLOAD_FS=$WORK/fs
STARTED='^kvmload: starting ' ASKED="^kvmload: asked QEMU whether it starts under this process's memory limit"
asan=false
ldd "$KVMLOAD" 2>/dev/null | grep -q libasan && asan=true

# nothing_ran WHAT: no kvmload-fs was started, no QEMU ran a guest (-kernel), the runtime
# directory is empty, and no process of this VM is left.
nothing_ran() {
	[ ! -e "$WORK/fs.started" ] && ok || bad "$1: kvmload-fs was started"
	if grep -q "$STARTED" "$WORK/err" 2>/dev/null; then bad "$1: QEMU was started for the guest"
	else ok; fi
	[ -z "$(ls -A "$RUN")" ] && ok || bad "$1: left in the runtime directory: $(ls -A "$RUN")"
	pgrep -f -- "$VM" >/dev/null && bad "$1: a process of $VM is left" || ok
}

# refused DESC TEXT ARGS...: kvmload -h TREE ARGS exits 64 before anything ran, with "kvmload: TEXT".
refused() {
	desc=$1 text=$2; shift 2
	rm -f "$WORK/fs.started"
	timeout 60 "$KVMLOAD" -v -l "$MINIBOOT" -h "$tree" "$@" "$VM" </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
	expect_status $st 64 "$desc"
	expect_text "$WORK/err" "kvmload: $text"
	[ -s "$WORK/out" ] && bad "$desc: the loader ran: $(head -c 200 "$WORK/out")" || ok
	nothing_ran "$desc"
}

# -- more disks than the PCI bus has slots for (2-31): 30 at most, 29 with a network device
truncate -s 1m "$WORK/blank.img"
many=()
for _ in $(seq 31); do many+=(-d "$WORK/blank.img"); done
refused "31 disks" "-d: 31 disks: QEMU's pc machine has PCI slots 2-31 for the guest's disks and network device, so at most 30 disks (29 with --net)" \
	--accel tcg "${many[@]}"
refused "30 disks and --net" "-d: 30 disks and --net: QEMU's pc machine has PCI slots 2-31" \
	--accel tcg --net user "${many[@]:2}"

# -- --net tap:NAME: an existing tap, never one QEMU would make (as root) or fail on
notap=kpf$$x
while [ -e "/sys/class/net/$notap" ]; do notap=kpf$RANDOM; done
refused "missing tap" "--net tap:$notap: no such network interface; create the tap first (ip tuntap add dev $notap mode tap)" \
	--accel tcg --net tap:$notap
[ ! -e "/sys/class/net/$notap" ] && ok || bad "--net tap:$notap: the interface was made"
# QEMU: "could not configure /dev/net/tun (lo): Invalid argument", after the loader.
refused "non-tap interface" "--net tap:lo: not a tap device (no /sys/class/net/lo/tun_flags); QEMU attaches only to a tap" \
	--accel tcg --net tap:lo

taps=false
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && [ -c /dev/net/tun ] &&
	ip tuntap add dev kpt$$g mode tap 2>/dev/null; then
	taps=true
	on_exit "ip link del kpt$$g 2>/dev/null"
	for t in "kpt$$t mode tun" "kpt$$m mode tap multi_queue" "kpt$$o mode tap user 0"; do
		set -- $t
		ip tuntap add dev $t && on_exit "ip link del $1 2>/dev/null"
	done
	# QEMU fails on each with EINVAL (tun, multi_queue) or EPERM (another user's tap).
	refused "tun device" "--net tap:kpt$$t: a tun (layer 3) device, not a tap" --accel tcg --net tap:kpt$$t
	refused "multi_queue tap" "--net tap:kpt$$m: a multi_queue tap; QEMU attaches one queue" \
		--accel tcg --net tap:kpt$$m
	if command -v setpriv >/dev/null; then
		# As nobody, without -h (the scratch tree is root's): the check comes before any view.
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			"$KVMLOAD" -l "$MINIBOOT" --accel tcg --net tap:kpt$$o "$VM" </dev/null >/dev/null 2>"$WORK/err"
		expect_status $? 64 "another user's tap"
		expect_text "$WORK/err" "kvmload: --net tap:kpt$$o: belongs to uid 0; kvmload, running as uid 65534 without CAP_NET_ADMIN, may not attach to it"
	else
		skip_part "another user's tap needs setpriv"
	fi
else
	skip_part "tun, multi_queue and foreign taps need root, ip and /dev/net/tun"
fi

# -- vCPUs: the pc machine's 255 (QEMU: "Invalid SMP CPUs 256. The max CPUs supported by machine
# 'pc-i440fx-7.2' is 255"); under KVM, KVM_CAP_MAX_VCPUS, asked at every start.
refused "too many vCPUs for pc" "--cpus 256: expected a number of vCPUs from 1 to 255" --accel tcg --cpus 256
if have_kvm && ! $asan && command -v cc >/dev/null; then
	# A KVM that runs 2 vCPUs at most: KVM_CHECK_EXTENSION answered by a preloaded shim.
	cat >"$WORK/fakekvm.c" <<-'EOF'
	#define _GNU_SOURCE
	#include <dlfcn.h>
	#include <linux/kvm.h>
	#include <stdarg.h>
	#include <stdlib.h>
	int ioctl(int fd, unsigned long req, ...)
	{
		static int (*real)(int, unsigned long, ...);
		const char *max = getenv("FAKE_KVM_MAX_VCPUS"), *id = getenv("FAKE_KVM_MAX_VCPU_ID");
		va_list ap;
		void *arg;

		va_start(ap, req);
		arg = va_arg(ap, void *);
		va_end(ap);
		if (req == KVM_CHECK_EXTENSION && (long)arg == KVM_CAP_MAX_VCPUS && max)
			return atoi(max);
		if (req == KVM_CHECK_EXTENSION && (long)arg == KVM_CAP_MAX_VCPU_ID && id)
			return atoi(id);
		if (!real)
			real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
		return real(fd, req, arg);
	}
	EOF
	cc -shared -fPIC -o "$WORK/fakekvm.so" "$WORK/fakekvm.c" -ldl || bad "the KVM shim does not build"
	LD_PRELOAD=$WORK/fakekvm.so FAKE_KVM_MAX_VCPUS=2 \
		refused "more vCPUs than KVM runs" "--cpus 3: KVM here runs at most 2 vCPUs in a VM (KVM_CAP_MAX_VCPUS); use fewer, or --accel tcg" \
		--accel kvm --cpus 3
	LD_PRELOAD=$WORK/fakekvm.so FAKE_KVM_MAX_VCPU_ID=4 \
		refused "vCPU ids KVM does not take" "--cpus 5: KVM here takes vCPU ids below 4 (KVM_CAP_MAX_VCPU_ID); use fewer, or --accel tcg" \
		--accel kvm --cpus 5
	# At the limit (2 of 2) the vCPUs pass; what refuses is the next check, the memory's.
	LD_PRELOAD=$WORK/fakekvm.so FAKE_KVM_MAX_VCPUS=2 "$KVMLOAD" -l "$MINIBOOT" --accel kvm --cpus 2 -m 262148K \
		"$VM" </dev/null >/dev/null 2>"$WORK/err"
	expect_text "$WORK/err" "kvmload: -m 262148K: QEMU takes guest RAM in whole 8 KiB units"
else
	skip_part "KVM's vCPU limit needs a usable /dev/kvm, cc and a build without ASan"
fi

# -- memory: what QEMU 7.2's pc machine takes, measured (doc/kvmload.8, -m)
refused "-m not in 8 KiB units" "-m 262148K: QEMU takes guest RAM in whole 8 KiB units (two pages); use a multiple of 8K" \
	--accel tcg -m 262148K
refused "-m 64T under tcg" "-m 64T: the guest's RAM and QEMU's 2 GiB 64-bit PCI window would end at 65539 GiB, beyond the 40-bit physical address space QEMU gives the guest under --accel tcg: at most 1021G" \
	--accel tcg -m 64T
refused "-m 1010G under tcg" "-m 1010G: with it QEMU would move the RAM above 4 GiB to 1 TiB (AMD's HyperTransport hole; the vCPU under --accel tcg is an AMD one), where kvmload's memory map does not put it: at most 1009G" \
	--accel tcg -m 1010G
if have_kvm; then
	# QEMU: "kvm_set_user_memory_region: KVM_SET_USER_MEMORY_REGION failed, slot=1, ...,
	# size=0x3fff40000000: Invalid argument", and an abort, 20 s after it started here.
	refused "-m 64T under kvm" "-m 64T: under --accel kvm QEMU hands the RAM above 3 GiB to KVM as one memory slot, and a slot holds at most 2^31-1 pages (8 TiB - 4 KiB): use less than 8195G" \
		--accel kvm -m 64T
	if grep -qm1 AuthenticAMD /proc/cpuinfo; then
		refused "-m 2T under kvm on AMD" "-m 2T: with it QEMU would move the RAM above 4 GiB to 1 TiB (AMD's HyperTransport hole; the vCPU under --accel kvm is an AMD one)" \
			--accel kvm -m 2T
	fi
else
	skip_part "the KVM memory slot limit needs a usable /dev/kvm"
fi

# QEMU itself agrees at those limits (a sparse file as its RAM, stopped, asked to quit).
qemu_ram() { # qemu_ram BYTES: QEMU's status with that much RAM under TCG; its stderr in $WORK/q.err
	truncate -s 0 "$WORK/ram" && truncate -s "$1" "$WORK/ram"
	printf '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n' |
		timeout 60 qemu-system-x86_64 -nodefaults -display none -accel tcg -cpu max \
		-object memory-backend-file,id=ram,mem-path="$WORK/ram",size="$1",share=on \
		-machine pc,memory-backend=ram,max-ram-below-4g=3G -m "${1}B" -S -qmp stdio >/dev/null 2>"$WORK/q.err"
}
qemu_ram $((1009 << 30)); expect_status $? 0 "QEMU with 1009G under tcg"
qemu_ram $((1010 << 30)); st=$?
[ $st -ne 0 ] && ok || bad "QEMU took 1010G under tcg"
expect_text "$WORK/q.err" "phys-bits too low (40)"
qemu_ram $(((256 << 20) + 4096)); st=$?
[ $st -ne 0 ] && ok || bad "QEMU took 256M + 4K"
expect_text "$WORK/q.err" "Machine memory size does not match the size of the memory backend"
rm -f "$WORK/ram"

# -- this process's address-space limit: kvmload and QEMU each map all of the RAM; what QEMU needs
# beyond it (TCG's 1 GiB code buffer, ...) is asked of QEMU itself, stopped, only under such a limit
if $asan; then
	skip_part "ulimit -v: an ASan build cannot run under it"
else
	(f0=$FAILED; ulimit -v 200000; refused "-m at RLIMIT_AS" "-m 256M: not below this process's address-space limit (RLIMIT_AS, ulimit -v: 200000K); kvmload and QEMU each map all of the guest's RAM" \
		--accel tcg -m 256M; exit $((FAILED > f0)))
	expect_status $? 0 "ulimit -v 200000, -m 256M"
	(f0=$FAILED; ulimit -v 1200000; refused "-m under RLIMIT_AS, QEMU's own need above it" "-m 256M --cpus 1 --accel tcg: QEMU does not start under this process's memory limit (ulimit -v 1200000K): qemu-system-x86_64: unable to map backing store for guest RAM" \
		--accel tcg -m 256M; exit $((FAILED > f0)))
	expect_status $? 0 "ulimit -v 1200000, -m 256M"
	(f0=$FAILED; ulimit -d 100000; refused "TCG's code buffer over RLIMIT_DATA" "-m 256M --cpus 1 --accel tcg: QEMU does not start under this process's memory limit (ulimit -d 100000K): qemu-system-x86_64: " \
		--accel tcg -m 256M; exit $((FAILED > f0)))
	expect_status $? 0 "ulimit -d 100000, -m 256M"
	# QEMU was asked (stopped, no guest), once.
	check "QEMU asked once under the limit" 1 "$(grep -c "$ASKED" "$WORK/err" 2>/dev/null)"
fi

# -- a valid configuration at those limits still boots: 1009G, 2 vCPUs, an existing tap
rm -f "$WORK/fs.started"
net=() netdesc=
$taps && net=(--net tap:kpt$$g) netdesc=", --net tap:kpt$$g"
timeout 120 "$KVMLOAD" -v -l "$MINIBOOT" --accel tcg -m 1009G --cpus 2 "${net[@]}" -h "$tree" \
	-e testkernel.exit=poweroff "$VM" </dev/null >"$WORK/boot.log" 2>"$WORK/boot.err"; st=$?
expect_status $st 1 "1009G, 2 vCPUs$netdesc"
expect_line "$WORK/boot.log" "testkernel: smap base=0x100000000 len=0xfb80000000 type=1"
expect_line "$WORK/boot.log" "testkernel: madt cpus=2 ioapics=1"
if $taps; then
	if tr -d '\r' <"$WORK/boot.log" | grep -qE '^testkernel: pci 0:[0-9]+\.0 1af4:1000$'; then ok
	else bad "--net tap:kpt$$g: no virtio-net function"; fi
fi
expect_line "$WORK/boot.err" "kvmload: the guest powered off"
# The wrappers saw the view and the guest's QEMU: their silence above means something.
[ -s "$WORK/fs.started" ] && ok || bad "the boot: kvmload-fs was not seen starting"
grep -q "$STARTED" "$WORK/boot.err" && ok || bad "the boot: QEMU was not seen starting"
[ -z "$(ls -A "$RUN")" ] && ok || bad "after the boot: left in the runtime directory: $(ls -A "$RUN")"
# Under an address-space limit QEMU can live with, it is asked, says yes, and the guest boots.
if ! $asan; then
	(ulimit -v 4000000; timeout 120 "$KVMLOAD" -v -l "$MINIBOOT" --accel tcg -m 256M -h "$tree" \
		-e testkernel.exit=poweroff "$VM" </dev/null >"$WORK/lim.log" 2>"$WORK/lim.err"); st=$?
	expect_status $st 1 "ulimit -v 4000000, -m 256M"
	expect_line "$WORK/lim.log" "testkernel: poweroff port=0x604 slp_typ=0"
	check "QEMU under ulimit -v 4000000: asked, then run" "1 1" \
		"$(grep -c "$ASKED" "$WORK/lim.err") $(grep -c "$STARTED" "$WORK/lim.err")"
fi
lib_done
