#!/bin/bash
# i386.sh: FreeBSD's i386 entry end to end on QEMU: tp_i386.so loads i386k as userboot's elf32_exec does (stack at 0x1000, GDT at 0x3000, cr3 0), the stub enters it in flat protected mode, i386k reports what it got and powers off.
. "$(dirname "$0")/lib.sh"
need_tools qemu-system-x86_64
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
KVMLOAD=$1 TP=$2
VM=i386-$$

# The plugin reads no files: an empty host tree.
tree=$WORK/tree
mkdir -p "$tree"
log=$WORK/i386.log
timeout 120 "$KVMLOAD" -l "$TP" --accel tcg -m 256M -h "$tree" -v $VM </dev/null >"$log" 2>"$log.err"; st=$?
echo "-- console"; tr -d '\r' <"$log"
echo "-- stderr"; cat "$log.err"

expect_status $st 1 "the i386 entry"
expect_line "$log.err" "kvmload: the guest powered off"
expect_line "$log" "tp_i386: loading i386k"
# libvmmapi's vm_setup_freebsd_registers_i386: flat code 0x08, data 0x10, TSS 0x18, EFLAGS 0x2,
# CR0 PE|NE (0x21; ET reads 1: 0x31), CR4 0, no paging; esp at elf32_exec's stack, its words intact.
expect_line "$log" "i386k: eflags=0x2 cs=0x8 ds=0x10 ss=0x10 tr=0x18 cr0=0x31 esp=0x1fdc esp0=0xbeefface modulep=0x410000"
expect_line "$log" "i386k: es=0x10 fs=0x10 gs=0x10 ldtr=0x0 cr4=0x0 gdtr=0x3000/0x1f idtr=0x0/0x0 eax=0x0 ebx=0x1386b0b howto=0x800 kernend=0x411000"
# userboot's 0-640 KiB entry, cut at the EBDA by kvmload.
expect_line "$log" "i386k: smap0 len=0x9fc00"
expect_no_text "$log" "kvmload-pvh:"
lib_done
