#!/bin/bash
# boot_miniboot.sh: kvmload boots the test kernel through miniboot from -h, a raw UFS2 image and a GPT image.
. "$(dirname "$0")/lib.sh"
need_machine
need_tools makefs sgdisk
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3
VM=miniboot-$$

tree=$WORK/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'TESTMODULE' >"$tree/boot/kernel/testmod.ko"
cat >"$tree/boot/defaults/loader.conf" <<'CONF'
kernel="kernel"
bootfile="kernel"
verbose_loading="NO"
CONF
cat >"$tree/boot/loader.conf" <<'CONF'
# the test guest's loader.conf
testmod_load="YES"
boot_verbose="YES"
guest.answer="42"
CONF

# check_boot LOG STATUS WHAT: the kernel saw the modules and the environment.
check_boot() {
	expect_status "$2" 2 "$3"
	expect_line "$1" "testkernel: halt"
	expect_text "$1" "testkernel: module name=/boot/kernel/kernel type=elf kernel"
	expect_text "$1" "testkernel: module name=/boot/kernel/testmod.ko type=elf obj module"
	expect_line "$1" "testkernel: kenv boot_serial=1"
	expect_line "$1" "testkernel: kenv smbios.bios.vendor=BHYVE"
	expect_line "$1" "testkernel: kenv guest.answer=42"
	expect_line "$1" "testkernel: kenv user.first=one"
	# bhyveload's rule: the first of duplicated -e names wins.
	expect_line "$1" "testkernel: kenv user.dup=first"
	expect_no_text "$1" "user.dup=second"
	expect_text "$1" "miniboot"
}

run() { # run LOG ARGS...: kvmload with stdin at EOF, console to LOG.
	log=$1; shift
	"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 128M -e user.first=one -e user.dup=first -e user.dup=second \
		"$@" </dev/null >"$log" 2>"$log.err"
}

run "$WORK/host.log" -h "$tree" $VM; st=$?
check_boot "$WORK/host.log" $st "boot from -h"

make_ufs2 "$tree" "$WORK/raw.img"
sum=$(sha256sum <"$WORK/raw.img")
run "$WORK/raw.log" -d "$WORK/raw.img" $VM; st=$?
check_boot "$WORK/raw.log" $st "boot from a raw UFS2 image"
[ "$sum" = "$(sha256sum <"$WORK/raw.img")" ] && ok || bad "raw image was modified"

make_gpt_ufs2 "$tree" "$WORK/gpt.img"
run "$WORK/gpt.log" -d "$WORK/gpt.img" $VM; st=$?
check_boot "$WORK/gpt.log" $st "boot from a GPT+UFS2 image"
expect_text "$WORK/gpt.log" "disk0p2"

# --load-only stops at exec and prints the entry state (the builtin machine's vCPU: /dev/kvm).
if have_kvm; then
	run "$WORK/lo.log" -h "$tree" --load-only $VM; st=$?
	expect_status $st 0 "--load-only"
	expect_no_text "$WORK/lo.log" "testkernel:"
	expect_line "$WORK/lo.log" "rsp 0x1000"
	expect_line "$WORK/lo.log" "cr3 0x2000"
	expect_line "$WORK/lo.log" "cr0 0x80000021"
	expect_line "$WORK/lo.log" "cr4 0x20"
	expect_line "$WORK/lo.log" "efer 0x500"
	entry=$(readelf -h "$KERNEL" | awk '/Entry point/ { print $4 }')
	expect_line "$WORK/lo.log" "rip $entry"
else
	skip_part "--load-only needs /dev/kvm"
fi

# bhyve(8)'s exit statuses for the ways a guest stops.
for pair in poweroff:1 reset:0 triplefault:3; do
	action=${pair%:*} want=${pair#*:}
	run "$WORK/$action.log" -h "$tree" -e testkernel.exit=$action $VM; st=$?
	expect_status $st "$want" "guest $action"
	expect_line "$WORK/$action.log" "testkernel: $action"
done
# The builtin machine dumps the vCPU's registers; QEMU's end is said in one line.
if on_qemu; then expect_line "$WORK/triplefault.log.err" "kvmload: the guest triple-faulted"
else expect_text "$WORK/triplefault.log.err" "rip "; fi

lib_done
