#!/bin/bash
# qemu_kvm.sh: the guest on QEMU with --accel kvm: the exit statuses KVM can report, and an instruction KVM cannot emulate ending the run with 4, never a hang.
. "$(dirname "$0")/lib.sh"
[ -c /dev/kvm ] && [ -w /dev/kvm ] || skip "no usable /dev/kvm (the --accel tcg runs are in qemu.sh)"
need_tools qemu-system-x86_64
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3
VM=qemukvm-$$

tree=$WORK/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' >"$tree/boot/defaults/loader.conf"
run() { # run LOG ACTION: the test kernel on QEMU/KVM, bounded in time
	timeout 120 "$KVMLOAD" -l "$MINIBOOT" --accel kvm -h "$tree" -e testkernel.exit=$2 $VM \
		</dev/null >"$1" 2>"$1.err"
}

for c in "poweroff 1 the guest powered off" "halt 2 the guest halted (every vCPU stopped with interrupts off)" \
	"panic 4 the guest panicked (pvpanic)" \
	"triplefault 0 the guest reset (QEMU on KVM reports a triple fault as a reset too)"; do
	set -- $c
	action=$1 want=$2; shift 2
	run "$WORK/$action.log" "$action"; st=$?
	expect_status $st "$want" "--accel kvm, $action"
	expect_line "$WORK/$action.log.err" "kvmload: $*"
done

# x87 (fninit; fldcw): nested KVM hosts whose emulator lacks x87 stop the VM with an emulation
# failure, which must end the run with 4 and the advice; a KVM that runs it halts normally.
start=$(date +%s)
run "$WORK/fpu.log" fpu; st=$?
secs=$(( $(date +%s) - start ))
expect_line "$WORK/fpu.log" "testkernel: fpu"
if [ $st -eq 4 ]; then
	expect_text "$WORK/fpu.log.err" "KVM could not run or emulate one of its instructions"
	expect_text "$WORK/fpu.log.err" "try --accel tcg"
	echo "this host's KVM cannot emulate x87: status 4 after $secs s"
else
	expect_status $st 2 "--accel kvm, fpu"
	expect_line "$WORK/fpu.log" "testkernel: fpu ok"
	echo "this host's KVM runs x87: halted after $secs s"
fi
[ $st -ne 124 ] && ok || bad "--accel kvm, fpu: kvmload hung"
[ -e /run/kvmload/$VM ] && bad "runtime directory left behind" || ok
lib_done
