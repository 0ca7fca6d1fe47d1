#!/bin/bash
# conformance_kernel.sh: a stock FreeBSD kernel, loaded by the real 10.2 userboot.so from a UFS2 disk kept as compressed qcow2 (as FreeBSD publishes its VM images), runs on QEMU to a single-user shell, answers, and powers off.
. "$(dirname "$0")/lib.sh"
[ -n "${KVMLOAD_FREEBSD_KERNEL:-}" ] || skip "KVMLOAD_FREEBSD_KERNEL (a stock amd64 kernel with options FFS) is not set"
[ -n "${KVMLOAD_FREEBSD_ROOT:-}" ] || skip "KVMLOAD_FREEBSD_ROOT is not set"
[ -n "${KVMLOAD_FREEBSD_MAKEFS:-}" ] || skip "KVMLOAD_FREEBSD_MAKEFS (FreeBSD's own makefs) is not set"
ROOT=$KVMLOAD_FREEBSD_ROOT
for f in "$ROOT/boot/userboot.so" "$ROOT/bin/sh" "$ROOT/sbin/init" "$KVMLOAD_FREEBSD_KERNEL"; do
	[ -f "$f" ] || skip "no $f"
done
need_tools qemu-system-x86_64 qemu-img
KVMLOAD=$1
VM=fbsd-$$
# TCG: a stock kernel's FPU set-up is an emulation failure on nested KVM hosts.
ACCEL=${KVMLOAD_TEST_ACCEL:-tcg}

# The 10.2 base and /boot with the stock kernel; FreeBSD's makefs, because a FreeBSD 13+
# kernel refuses a UFS2 superblock anywhere but 64 KiB (Debian's makefs writes it at 8 KiB).
tree=$WORK/root
mkdir -p "$tree/boot/kernel" "$tree/dev" "$tree/tmp"
for d in bin sbin lib libexec etc root; do cp -a "$ROOT/$d" "$tree/"; done
for f in "$ROOT"/boot/*; do case $f in */kernel) ;; *) cp -r "$f" "$tree/boot/" ;; esac; done
cp "$KVMLOAD_FREEBSD_KERNEL" "$tree/boot/kernel/kernel"
printf 'vfs.root.mountfrom="ufs:/dev/vtbd0"\nbeastie_disable="YES"\nautoboot_delay="0"\n' \
	>"$tree/boot/loader.conf"
"$KVMLOAD_FREEBSD_MAKEFS" -t ffs -o version=2 -s 192m "$WORK/root.img" "$tree" >/dev/null ||
	{ echo "FAIL: makefs"; exit 1; }
# The loader's disk callbacks, its view and the guest's virtio disk all read the qcow2's guest bytes.
qemu-img convert -c -O qcow2 "$WORK/root.img" "$WORK/root.qcow2" || { echo "FAIL: qemu-img"; exit 1; }

log=$WORK/console.log
mkfifo "$WORK/in"
t0=$(date +%s%N)
"$KVMLOAD" -l "$ROOT/boot/userboot.so" -d "$WORK/root.qcow2" -m 512M --accel "$ACCEL" \
	-e boot_single=YES $VM <"$WORK/in" >"$log" 2>&1 &
kpid=$!
exec 3>"$WORK/in"

STEP_LOG=$log STEP_PID=$kpid STEP_T0=$t0

console_step "Booting [/boot/kernel/kernel]..." 60
console_step "FreeBSD 15." 60
console_step "ACPI APIC Table: <BOCHS" 60
console_step "vtblk0: 192MB" 60
console_step "uart0: console" 60
console_step "Trying to mount root from ufs:/dev/vtbd0" 60
console_step "Enter full pathname of shell or RETURN for /bin/sh:" 60
printf '\n' >&3
console_step "# " 60
printf '/sbin/sysctl -n kern.osrelease\n' >&3
want=$(strings "$KVMLOAD_FREEBSD_KERNEL" | grep -m1 -oE '^FreeBSD [0-9]+\.[0-9]+-[A-Z0-9-]+' | cut -d' ' -f2)
console_step "$want" 60
printf '/sbin/halt -p\n' >&3
console_step "acpi0: Powering system off" 120
exec 3>&-
wait $kpid; st=$?
echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms: kvmload exited $st"
expect_status $st 1 "halt -p"
expect_line "$log" "kvmload: the guest powered off"
expect_text "$log" "host0: is disk0 of the view"
[ -e /run/kvmload/$VM ] && bad "runtime directory left behind" || ok
[ $FAILED -eq 0 ] || tr -d '\r' <"$log" | tail -40 >&2
lib_done
