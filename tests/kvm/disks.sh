#!/bin/bash
# disks.sh: the guest gets the disk the loader read: qcow2 (compressed, over a backing file) and vmdk images boot, names QEMU would parse are plain files, a path swapped during the load changes nothing, a read-only device is given read-only; what is not a disk is refused before the loader.
. "$(dirname "$0")/lib.sh"
need_tools qemu-system-x86_64 qemu-img qemu-storage-daemon makefs sgdisk python3
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
[ "$(id -u)" -eq 0 ] || skip "needs root (a read-only loop device)"
KVMLOAD=$(realpath "$1") MINIBOOT=$(realpath "$2") KERNEL=$3
VM=disks$$
export KVMLOAD_RUN_DIR=$WORK/run
# Exporters mount under $TMPDIR for a moment: this run's own, to tell them from other runs'.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
LOOP=
on_exit '[ -n "$LOOP" ] && losetup -d "$LOOP"'

tree=$WORK/guest
mkdir -p "$tree/boot/kernel"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' >"$tree/boot/loader.conf"
make_gpt_ufs2 "$tree" "$WORK/g.img"
# The sectors the guest sums: the GPT and the start of p1, and the file system's first ones (p2).
sum=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read(64 * 512)))' "$WORK/g.img")
SECTORS=$(( $(stat -c %s "$WORK/g.img") / 512 ))
head -c 1M /dev/urandom >"$WORK/other.img"
before=$(sha256sum "$WORK/g.img" "$WORK/other.img")

# boot LOG DISK [kvmload options...]: the test kernel on QEMU (TCG) from DISK, powering off after
# summing its first 64 sectors; stdin at EOF, console to LOG, stderr to LOG.err.
boot() {
	local log=$1 disk=$2; shift 2
	(cd "$WORK" && timeout 120 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -m 64M -v -d "$disk" "$@" \
		-e testkernel.blksum=64 -e testkernel.exit=poweroff $VM </dev/null >"$log" 2>"$log.err")
}
# booted LOG RO: the guest powered off and saw the loader's disk (the sum of g.img), read-only or not.
booted() {
	expect_status $st 1 "$1"
	expect_line "$1" "testkernel: blk0 ro=$2 sectors=$SECTORS sum=$sum"
	if grep '^kvmload: starting ' "$1.err" | grep -qF "$WORK/"; then bad "$1: a path on QEMU's command line"
	else ok; fi
}
# nothing_left WHAT: no QEMU, view or exporter of this run, no runtime directory.
export KVMLOAD_DISKS_TEST=$WORK
nothing_left() {
	if pgrep -f -- "-name $VM -nodefaults" >/dev/null || [ -e "$KVMLOAD_RUN_DIR/$VM" ] ||
		grep -q "$WORK" /proc/mounts || [ -n "$(marked qemu-storage-da KVMLOAD_DISKS_TEST)" ] ||
		[ -n "$(ls -A "$TMPDIR")" ]; then bad "$1: something was left behind"
	else ok; fi
}

# -- images in QEMU's formats: the loader and the guest read the same guest-visible bytes
qemu-img convert -c -O qcow2 "$WORK/g.img" "$WORK/g.qcow2"
boot "$WORK/qcow2.log" g.qcow2; st=$?
booted "$WORK/qcow2.log" 0
expect_text "$WORK/qcow2.log.err" 'kvmload: QMP: blockdev-add {"driver":"qcow2","node-name":"d0-l0","read-only":false,"file":{"driver":"file","node-name":"d0-f0","filename":"/dev/fdset/0","read-only":false},"backing":null}'
qemu-img check -q "$WORK/g.qcow2" && ok || bad "g.qcow2 does not check clean after the guest"
qemu-img create -q -f qcow2 -b g.img -F raw "$WORK/over.qcow2"
boot "$WORK/over.log" over.qcow2; st=$?
booted "$WORK/over.log" 0
lines_in_order "$WORK/over.log.err" \
	'kvmload: QMP: blockdev-add {"driver":"raw","node-name":"d0-l1","read-only":true,"file":{"driver":"file","node-name":"d0-f1","filename":"/dev/fdset/1","read-only":true}}' \
	'kvmload: QMP: blockdev-add {"driver":"qcow2","node-name":"d0-l0","read-only":false,"file":{"driver":"file","node-name":"d0-f0","filename":"/dev/fdset/0","read-only":false},"backing":"d0-l1"}' \
	'kvmload: QMP: device_add {"driver":"virtio-blk-pci","drive":"d0-l0","addr":"0x2"}' 'kvmload: QMP: cont'
qemu-img convert -O vmdk "$WORK/g.img" "$WORK/g.vmdk"
boot "$WORK/vmdk.log" g.vmdk --ro; st=$?
booted "$WORK/vmdk.log" 1
nothing_left "after the image boots"

# -- names QEMU would parse are files like any other: the guest gets the file the loader read
cp "$WORK/g.img" "$WORK/vm:g.img"
boot "$WORK/prefix.log" vm:g.img; st=$?
booted "$WORK/prefix.log" 0
json='json:{"file.filename":"other.img"}'
cp "$WORK/g.img" "$WORK/$json"
boot "$WORK/json.log" "$json"; st=$?
booted "$WORK/json.log" 0

# -- --disk-fd N:PATH (how kvmload-hotplug hands its disks on): the descriptor's file, whatever PATH
# names now; a descriptor that is not open is a usage error
cp "$WORK/g.img" "$WORK/g2.img"
exec 5<"$WORK/g2.img"
boot "$WORK/diskfd.log" "$WORK/g.img" --disk-fd "5:$WORK/other.img"; st=$?
exec 5<&-
expect_status $st 1 "--disk-fd"
expect_line "$WORK/diskfd.log" "testkernel: blk1 ro=0 sectors=$SECTORS sum=$sum"
boot "$WORK/badfd.log" "$WORK/g.img" --disk-fd "9:$WORK/g.img"; st=$?
expect_status $st 64 "--disk-fd of a closed descriptor"
expect_text "$WORK/badfd.log.err" "--disk-fd 9:$WORK/g.img: expected N:PATH, N an open descriptor above 2"

# -- the path swapped while the loader waits at its prompt: the guest still gets the first file
mkfifo "$WORK/in"
(cd "$WORK" && timeout 120 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -m 64M -v -d swap.img \
	-e autoboot_delay=NO -e testkernel.blksum=64 -e testkernel.exit=poweroff $VM \
	<"$WORK/in" >"$WORK/swap.log" 2>"$WORK/swap.log.err") &
KPID=$!
cp "$WORK/g.img" "$WORK/swap.img"
exec 9>"$WORK/in"
wait_prompt "$WORK/swap.log" $KPID && ok || bad "kvmload did not reach the prompt"
mv "$WORK/swap.img" "$WORK/swapped-out.img"
cp "$WORK/other.img" "$WORK/swap.img"
echo boot >&9
exec 9>&-
wait $KPID; st=$?
booted "$WORK/swap.log" 0

# -- a read-only block device: given to the guest read-only, said once
LOOP=$(losetup -f --show -r "$WORK/g.img") || exit 1
boot "$WORK/roloop.log" "$LOOP"; st=$?
booted "$WORK/roloop.log" 1
expect_line "$WORK/roloop.log.err" "kvmload: -d $LOOP: read-only (a read-only block device): the guest gets it read-only"
losetup -d "$LOOP"; LOOP=
[ "$before" = "$(sha256sum "$WORK/g.img" "$WORK/other.img")" ] && ok || bad "a disk image changed"
nothing_left "after the boots"

# -- a raw image the guest writes keeps QEMU's probed-raw rule: no image header into block 0 (the
# next boot's probe would follow its backing file), other writes as usual. QEMU's own qemu-io on a
# second monitor writes as the guest would. As root QEMU sees no writable directory, nothing under
# /tmp, and has a network namespace of its own: the monitor is an abstract socket there (reached
# through nsenter), and the header file reaches QEMU as a descriptor of a process of its user.
cp "$WORK/g.img" "$WORK/w.img"
qemu-img create -q -u -f qcow2 -b /etc/hostname -F raw "$WORK/hdr.qcow2" 1M
hmp=kvmload-hmp-$$ hdr=$WORK/hdr.qcow2 ns=() HPID=
if [ "$(id -u)" = 0 ]; then
	setpriv --reuid=kvmload --regid=kvmload --clear-groups sleep 120 3<"$WORK/hdr.qcow2" &
	HPID=$! hdr=/proc/$!/fd/3
fi
KVMLOAD_QEMU_ARGS="-monitor unix:$hmp,abstract=on,server=on,wait=off" timeout 120 "$KVMLOAD" \
	-l "$MINIBOOT" --accel tcg -m 64M -d "$WORK/w.img" -e testkernel.exit=spin $VM </dev/null \
	>"$WORK/w.log" 2>"$WORK/w.log.err" &
KPID=$!
for _ in $(seq 600); do grep -q 'testkernel: spin' "$WORK/w.log" && break; kill -0 $KPID 2>/dev/null || break; sleep 0.05; done
qpid=$(pgrep -x qemu-system-x86 -P "$(pgrep -P $KPID -x kvmload)")
[ "$(id -u)" = 0 ] && ns=(nsenter --net="/proc/$qpid/ns/net")
# The header written elsewhere too shows QEMU could read it: block 0 is spared by the rule alone.
"${ns[@]}" python3 - "$hmp" "$hdr" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect("\0" + sys.argv[1])
for cmd in ('qemu-io d0-l0 "write -s %s 0 512"' % sys.argv[2], 'qemu-io d0-l0 "write -s %s 8192 512"' % sys.argv[2],
            'qemu-io d0-l0 "write -P 0x5a 4096 512"'):
    s.sendall(cmd.encode() + b"\n")
    time.sleep(0.5)
PY
[ -n "$HPID" ] && kill $HPID
# SIGTERM to kvmload itself: timeout would also signal its whole process group, a second SIGTERM.
kill -TERM "$(pgrep -P $KPID -x kvmload)"; wait $KPID
expect_status $? 1 "the written image, powered off at SIGTERM"
cmp -s -n 512 "$WORK/g.img" "$WORK/w.img" && ok || bad "an image header reached block 0 of a probed raw image"
[ "$(od -An -tx1 -j 4096 -N1 "$WORK/w.img" | tr -d ' ')" = 5a ] && ok || bad "the guest's plain write did not land"
[ "$(od -An -tx1 -j 8192 -N4 "$WORK/w.img" | tr -d ' ')" = 514649fb ] && ok || bad "the header did not land beyond block 0"
expect_no_text "$WORK/w.log.err" "Image format was not specified"
nothing_left "after the written image"

# -- many disks, few descriptors: QEMU's standard streams and its disks stay apart (a dozen qcow2
# images read-only under ulimit -n 128: every sum right, every image unchanged, no QEMU text lost)
mkdisks=
for i in $(seq 12); do cp "$WORK/g.qcow2" "$WORK/m$i.qcow2"; mkdisks="$mkdisks -d m$i.qcow2"; done
msums=$(sha256sum "$WORK"/m*.qcow2)
(ulimit -n 128; cd "$WORK" && timeout 120 "$KVMLOAD" -l "$MINIBOOT" --accel tcg -m 64M $mkdisks --ro \
	-e testkernel.blksum=64 -e testkernel.exit=poweroff $VM </dev/null >"$WORK/many.log" 2>"$WORK/many.log.err")
expect_status $? 1 "twelve qcow2 disks under ulimit -n 128"
[ "$(grep -c "ro=1 sectors=$SECTORS sum=$sum" "$WORK/many.log")" -eq 12 ] && ok || bad "not twelve right sums: $(grep blk "$WORK/many.log")"
[ "$msums" = "$(sha256sum "$WORK"/m*.qcow2)" ] && ok || bad "a read-only disk image changed"
nothing_left "after twelve disks"

# -- not a disk: status 64 before anything is started (a FIFO must not hang the open)
mkfifo "$WORK/fifo"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$WORK/sock"
for c in "fifo:a FIFO" "sock:a socket" "/dev/null:a character device" ".:a directory"; do
	d=${c%%:*} what=${c#*:}
	[ "${d#/}" = "$d" ] && d=$WORK/$d
	boot "$WORK/bad.log" "$d"; st=$?
	expect_status $st 64 "-d $d"
	expect_line "$WORK/bad.log.err" "kvmload: -d $d: $what, not a regular file or block device"
	expect_no_text "$WORK/bad.log.err" "view of"
	nothing_left "-d $d"
done
lib_done
