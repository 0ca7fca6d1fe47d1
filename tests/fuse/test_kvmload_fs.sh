#!/bin/bash
# test_kvmload_fs.sh: kvmload-fs end to end: bare/GPT/MBR+BSD-label disks with UFS1, UFS2 and big-endian UFS2, damaged tables, host0, read-only guarantees, mount point checks.
# usage: test_kvmload_fs.sh KVMLOAD_FS MKDISKLABEL UFSPATCH
. "$(dirname "$0")/../lib.sh"
FS=$1
MKLABEL=$2
UFSPATCH=$3

need_root
need_fuse
need_tools makefs sgdisk fusermount3 sha256sum

T=$(mktemp -d /tmp/kvmload-fs-test.XXXXXX)
MNT=$T/mnt
PIDS= LOOP=
on_exit 'rm -rf "$T"'
on_exit '[ -n "$LOOP" ] && losetup -d "$LOOP"'
on_exit 'for p in $PIDS; do kill "$p" 2>/dev/null; done'
on_exit 'grep -q " $MNT fuse" /proc/mounts && fusermount3 -u -z "$MNT"'
gone() { # gone MOUNTPOINT: true once it is no longer in /proc/mounts (5 s at most)
	for _ in $(seq 50); do awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts || return 0; sleep 0.1; done
	return 1
}

# ---- the source tree every file system is made from
S=$T/src
mkdir -p $S/boot/kernel $S/etc $S/usr/home/alice $S/tmp $S/bin $S/empty
echo 'hello from the guest' > $S/etc/motd
printf 'autoboot_delay="1"\nkernel="kernel"\n' > $S/boot/loader.conf
head -c 200000 /dev/urandom > $S/boot/kernel/kernel   # past the 12 direct blocks
head -c 1 /dev/urandom > $S/boot/kernel/one
: > $S/etc/empty
echo 'root secret' > $S/etc/secret; chmod 600 $S/etc/secret
echo 'alice notes' > $S/usr/home/alice/notes
chown -R 1001:1002 $S/usr/home/alice; chmod 750 $S/usr/home/alice; chmod 640 $S/usr/home/alice/notes
cp /bin/true $S/bin/su; chmod 4755 $S/bin/su
chmod 1777 $S/tmp
ln -s loader.conf $S/boot/link
ln -s "$(printf 'x%.0s' $(seq 1 150))" $S/boot/longlink   # longer than a fast symlink holds
ln $S/etc/motd $S/etc/motd.hard
find $S -depth -exec touch -h -d '2021-03-04 05:06:07' {} +
touch -d '1999-12-31 23:59:58' $S/etc/motd

# ---- file systems and disks
mkufs() { # mkufs IMAGE VERSION [makefs args...]
	local img=$1 ver=$2; shift 2
	makefs -t ffs -o version=$ver -s 4m "$@" "$img" $S > /dev/null || exit 1
}
mkufs $T/ufs2.img 2
mkufs $T/ufs1.img 1
mkufs $T/ufs2be.img 2 -B be
# Give the bare disk a UFS volume name (fs_volname, superblock + 680).
sb=8192; [ "$(od -An -tx4 -j $((65536 + 1372)) -N4 $T/ufs2.img | tr -d ' ')" = 19540119 ] && sb=65536
printf 'bare\0' | dd of=$T/ufs2.img bs=1 seek=$((sb + 680)) conv=notrunc status=none

put() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc status=none; }  # put IMAGE DISK SECTOR
flip() { # flip DISK OFFSET: invert one byte (a fixed value would be a no-op where the byte already holds it)
	local b; b=$(od -An -tu1 -j "$2" -N1 "$1")
	printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

D0=$T/d0.img; cp $T/ufs2.img $D0

D1=$T/d1.img; truncate -s 20M $D1
sgdisk -a 1 -n 1:40:551 -t 1:a501 -c 1:gptboot0 -n 2:2048:18431 -t 2:a503 -c 2:rootfs \
	-n 3:18432:22527 -t 3:a502 -c 3:swap0 -n 4:22528:32767 -t 4:a503 -c 4:rootfs $D1 > /dev/null || { echo "fixture: sgdisk failed" >&2; exit 1; }
put $T/ufs2.img $D1 2048
put $T/ufs1.img $D1 22528

D2=$T/d2.img; truncate -s 16M $D2
$MKLABEL mbr $D2 1:0xa5:2048:16384 2:0xa5:18432:8192 || exit 1
$MKLABEL bsd $D2 2048 16384 rel a:16:8192:7 b:8208:2048:1 d:10256:4096:27 || exit 1
put $T/ufs2be.img $D2 $((2048 + 16))
cp $T/ufs1.img $T/ufs1vol.img
$UFSPATCH $T/ufs1vol.img sb volname my/vol || exit 1
put $T/ufs1vol.img $D2 18432

D3=$T/d3.img; truncate -s 8M $D3
$MKLABEL mbr $D3 1:0xa5:63:12000 || exit 1
$MKLABEL bsd $D3 63 12000 abs a:16:8192:7 || exit 1
put $T/ufs1.img $D3 $((63 + 16))

DISKS="--disk $D0 --disk $D1 --disk $D2 --disk $D3"
sha256sum $D0 $D1 $D2 $D3 > $T/sums

# ---- host tree: host0, with a sibling it must not reach
mkdir -p $T/host/tree/sub $T/host/outside
echo outside > $T/host/outside/x
echo 'host file' > $T/host/tree/sub/file
chown 1001:1002 $T/host/tree/sub/file; chmod 604 $T/host/tree/sub/file
ln -s ../outside $T/host/tree/up
ln -s /etc $T/host/tree/abs

# ---- --list
EXPECTED_LIST="NAME SCHEME TYPE START SIZE FS LABEL
disk0 none - 0 4194304 ufs2 bare
disk1p1 gpt freebsd-boot 20480 262144 none gptboot0
disk1p2 gpt freebsd-ufs 1048576 8388608 ufs2 rootfs
disk1p3 gpt freebsd-swap 9437184 2097152 none swap0
disk1p4 gpt freebsd-ufs 11534336 5242880 ufs1 rootfs
disk2s1 mbr 0xa5 1048576 8388608 none -
disk2s1a bsd freebsd-ufs 1056768 4194304 ufs2 -
disk2s1b bsd freebsd-swap 5251072 1048576 none -
disk2s1d bsd freebsd-zfs 6299648 2097152 none -
disk2s2 mbr 0xa5 9437184 4194304 ufs1 my/vol
disk3s1 mbr 0xa5 32256 6144000 none -
disk3s1a bsd freebsd-ufs 40448 4194304 ufs1 -"
out=$($FS --list $DISKS); rc=$?
check "--list exit status" 0 $rc
check "--list output" "$EXPECTED_LIST" "$(echo "$out" | tr -s ' ' | sed 's/ $//')"

# A block device reads like the image behind it (a read-only loop device of our own).
if command -v losetup > /dev/null && LOOP=$(losetup -f --show -r $D1 2> /dev/null); then
	check "--list of a block device" "$($FS --list --disk $D1)" "$($FS --list --disk $LOOP)"
	losetup -d $LOOP; LOOP=
fi

# ---- damaged partition tables: every entry listed, what is wrong with it on stderr, served where safe
list() { # list DISK: --list output, columns squeezed; stderr in $T/list.err
	$FS --list --disk "$1" 2> $T/list.err | tr -s ' ' | sed 's/ $//'
}
# Entries that cannot be served: over the GPT header, last LBA before the first, past the end.
B=$T/badent.img; cp $D1 $B
$MKLABEL gpt $B 1:1:551 3:9000:4096 4:50000:60000 || exit 1
check "bad entries: --list" "NAME SCHEME TYPE START SIZE FS LABEL
disk0p1 gpt freebsd-boot - - none gptboot0
disk0p2 gpt freebsd-ufs 1048576 8388608 ufs2 rootfs
disk0p3 gpt freebsd-swap - - none swap0
disk0p4 gpt freebsd-ufs - - none rootfs" "$(list $B)"
check "bad entries: messages" "kvmload-fs: $B: disk0p1: partition (LBAs 1..551) lies over the GPT header at LBA 1, not served
kvmload-fs: $B: disk0p3: partition ends before it starts (first LBA 9000, last LBA 4096), not served
kvmload-fs: $B: disk0p4: partition starts past the end of the disk (first LBA 50000, the disk has 40960 sectors), not served" "$(cat $T/list.err)"
cp $D1 $B; $MKLABEL gpt $B 1:20:551 4:22528:50000 || exit 1
list $B > /dev/null
check "entries over the GPT entries and the backup" "kvmload-fs: $B: disk0p1: partition (LBAs 20..551) lies over the GPT entries at LBAs 2..33, not served
kvmload-fs: $B: disk0p4: partition (LBAs 22528..50000) lies over the backup GPT header at LBA 40959 and runs past the end of the disk (40960 sectors), not served" "$(cat $T/list.err)"

# A disk cut short (FreeBSD's loader still boots it): p4's UFS2 loses its second half.
mkdir -p $T/cut/etc $T/cut/data
echo 'hello from the guest' > $T/cut/etc/motd
head -c 3000000 /dev/urandom > $T/cut/data/big
makefs -t ffs -o version=2 -s 4m $T/cut.img $T/cut > /dev/null || exit 1
C=$T/short.img; cp $D1 $C; put $T/cut.img $C 22528
truncate -s $(((22528 + 4096) * 512)) $C
check "cut short: --list" "NAME SCHEME TYPE START SIZE FS LABEL
disk0p1 gpt freebsd-boot 20480 262144 none gptboot0
disk0p2 gpt freebsd-ufs 1048576 8388608 ufs2 rootfs
disk0p3 gpt freebsd-swap 9437184 2097152 none swap0
disk0p4 gpt freebsd-ufs 11534336 2097152 ufs2 rootfs" "$(list $C)"
check "cut short: messages" "kvmload-fs: $C: the GPT header puts its backup at LBA 40959, past the end of the disk (26624 sectors): the disk is shorter than its partition table says
kvmload-fs: $C: disk0p4: partition runs past the end of the disk (LBAs 22528..32767, the disk has 26624 sectors): its first 2097152 bytes are served, reads past them fail with EIO" "$(cat $T/list.err)"

# One bad GPT header: the backup is used; both bad: a bare disk, and a line naming both.
H=$T/hdr.img; cp $D1 $H
flip $H $((512 + 16))
check "primary header bad: the backup's table" "$(list $D1)" "$(list $H)"
match "primary header bad: message" "kvmload-fs: $H: GPT header at LBA 1: header checksum 0x*, computed 0x*; using the backup GPT header at LBA 40959" "$(cat $T/list.err)"
flip $H $((40959 * 512 + 16))
check "both headers bad: --list" "NAME SCHEME TYPE START SIZE FS LABEL
disk0 none - 0 20971520 none -" "$(list $H)"
match "both headers bad: message" "kvmload-fs: $H: GPT header at LBA 1: header checksum 0x*, computed 0x*; backup GPT header at LBA 40959: header checksum 0x*, computed 0x*; no partition table read" "$(cat $T/list.err)"

# Disks too small to hold anything.
: > $T/empty.img; printf x > $T/one.img
check "empty disk: --list" "NAME SCHEME TYPE START SIZE FS LABEL
disk0 none - 0 0 none -" "$(list $T/empty.img)"
check "empty disk: message" "kvmload-fs: $T/empty.img: the disk is empty (0 bytes)" "$(cat $T/list.err)"
list $T/one.img > /dev/null
check "1-byte disk: message" "kvmload-fs: $T/one.img: the disk is too small for a partition table or a file system (1 byte)" "$(cat $T/list.err)"

# ---- usage errors and exit codes
err=$($FS --list --disk $T/nope.img 2>&1); rc=$?
check "missing disk: exit 66" 66 $rc
check "missing disk: message" "kvmload-fs: $T/nope.img: No such file or directory" "$err"
$FS > /dev/null 2>&1; check "no arguments: exit 64" 64 $?
$FS --disk $D0 $T/nomnt 2> /dev/null; check "missing mount point: exit 66" 66 $?
$FS -o rw --disk $D0 $T 2> /dev/null; check "-o rw refused: exit 64" 64 $?
$FS --ready-fd 99 --disk $D0 $T 2> /dev/null; check "closed --ready-fd: exit 64" 64 $?
$FS --bogus 2> /dev/null; check "unknown option: exit 64" 64 $?

# ---- mount in the foreground; --ready-fd says when it answers
mkdir $MNT
mkfifo $T/ready
$FS -f --ready-fd 3 $DISKS --host $T/host/tree $MNT 3> $T/ready 2> $T/daemon.err &
DPID=$!; PIDS="$DPID"
read -r -n 1 -t 30 < $T/ready; rc=$?
check "ready byte arrives" 0 $rc

check "top level" "by-label disk0 disk1p2 disk1p4 disk2s1a disk2s2 disk3s1a host0" "$(ls $MNT | tr '\n' ' ' | sed 's/ $//')"
check "by-label links" "bare -> ../disk0
my_vol -> ../disk2s2
rootfs -> ../disk1p2
rootfs_2 -> ../disk1p4" "$(cd $MNT/by-label && for l in *; do echo "$l -> $(readlink $l)"; done)"
check "by-label resolves" "hello from the guest" "$(cat $MNT/by-label/rootfs_2/etc/motd)"
check "mount entry" "kvmload $MNT fuse.kvmload-fs ro" "$(awk -v m=$MNT '$2 == m { split($4, o, ","); print $1, $2, $3, o[1] }' /proc/mounts)"

# Every entry: type, mode (with setuid/sticky), owner, links, mtime, size and link text (dirs: no size).
describe() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%p %y %m %U %G %n %T@\n' \) -o \
		-printf '%p %y %m %U %G %n %T@ %s %l\n' | sort)
}
WANT=$(describe $S)
for d in disk0 disk1p2 disk1p4 disk2s1a disk2s2 disk3s1a; do
	check "$d: tree and attributes" "$WANT" "$(describe $MNT/$d)"
	(cd $S && find . -type f) | while read -r f; do
		cmp -s "$S/$f" "$MNT/$d/$f" || echo "$d/$f differs"
	done > $T/cmp.out
	check "$d: file bytes" "" "$(cat $T/cmp.out)"
	check "$d: hard link" "$(stat -c %i $MNT/$d/etc/motd) 2" "$(stat -c '%i %h' $MNT/$d/etc/motd.hard)"
done
check "names differ across partitions" 2 "$(stat -c %i $MNT/disk0/etc/motd $MNT/disk1p2/etc/motd | sort -u | wc -l)"
check "non-UFS partitions are not directories" "" "$(ls -d $MNT/disk1p1 $MNT/disk1p3 $MNT/disk2s1b $MNT/disk2s1 2>/dev/null)"
check "partial reads" "$(tail -c +100001 $S/boot/kernel/kernel | head -c 5000 | od -An -tx1)" \
	"$(tail -c +100001 $MNT/disk2s1a/boot/kernel/kernel | head -c 5000 | od -An -tx1)"

# ---- host0: attributes pass through, symlinks are shown, never followed by the daemon
check "host0 file" "host file 604 1001 1002" "$(cat $MNT/host0/sub/file) $(stat -c '%a %u %g' $MNT/host0/sub/file)"
check "host0 symlinks" "symbolic link ../outside symbolic link /etc" \
	"$(stat -c %F $MNT/host0/up) $(readlink $MNT/host0/up) $(stat -c %F $MNT/host0/abs) $(readlink $MNT/host0/abs)"
check "host0/up resolves inside the view, not the host" "No such file or directory" \
	"$(cat $MNT/host0/up/x 2>&1 | sed 's/.*: //')"
check "host0/.. is the view's root" "$(ls $MNT)" "$(ls $MNT/host0/..)"
check "no lookup of outside" "No such file or directory" "$(stat $MNT/host0/outside 2>&1 | sed 's/.*: //')"

# ---- every write-type operation fails with EROFS
erofs() { # erofs DESCRIPTION CMD...
	local desc=$1 out; shift
	out=$("$@" 2>&1) && { bad "$desc succeeded"; return; }
	case $out in *"Read-only file system"*) ok ;; *) bad "$desc: $out" ;; esac
}
for d in disk1p2 host0 .; do
	m=$MNT/$d
	f=$m/etc/motd; [ $d = host0 ] && f=$m/sub/file; [ $d = . ] && f=$m/by-label/bare
	erofs "$d touch new" touch $m/newfile
	erofs "$d touch existing" touch -h $f
	erofs "$d mkdir" mkdir $m/newdir
	erofs "$d rm" rm -f $f
	erofs "$d mv" mv $f $m/moved
	erofs "$d ln" ln $f $m/hardlink
	erofs "$d ln -s" ln -s x $m/symlink
	erofs "$d chmod" chmod 777 $f
	erofs "$d chown" chown -h 5:5 $f
	if [ $d != . ]; then  # the view's root holds no regular file
		erofs "$d truncate" truncate -s 0 $f
		erofs "$d append" sh -c "echo x >> $f"
	fi
	erofs "$d mknod" mkfifo $m/fifo
	if command -v setfattr > /dev/null; then
		erofs "$d setfattr" setfattr -h -n user.x -v 1 $f
	fi
done
erofs "rmdir" rmdir $MNT/disk0/empty
erofs "mv dir" mv $MNT/disk0/etc $MNT/disk0/etc2
check "still intact" "hello from the guest" "$(cat $MNT/disk1p2/etc/motd)"

# ---- a second kvmload-fs on the mount point is refused, however the point is spelt
for m in $MNT $MNT/ $T/./mnt; do
	$FS --disk $D0 $m 2> $T/second.err; rc=$?  # a file: a daemon that did start keeps its stderr
	check "second mount on $m: exit 64" 64 $rc
	check "second mount on $m: message" "kvmload-fs: $m: already a kvmload-fs mount point (fuse.kvmload-fs); unmount it first: fusermount3 -u $m" "$(cat $T/second.err)"
done
check "second mount: nothing stacked" 1 "$(awk -v m=$MNT '$2 == m' /proc/mounts | wc -l)"
while [ "$(awk -v m=$MNT '$2 == m' /proc/mounts | wc -l)" -gt 1 ]; do umount $MNT || break; done
# ... without asking the mount: a stopped server (the mount owner's child) would hang a stat() of it.
SPID=$(pgrep -P $DPID -x kvmload-fs-srv)
kill -STOP $SPID
timeout -s KILL 10 $FS --disk $D0 $MNT 2> /dev/null; rc=$?
kill -CONT $SPID
check "second mount on a stuck mount: refused at once" 64 $rc
while [ "$(awk -v m=$MNT '$2 == m' /proc/mounts | wc -l)" -gt 1 ]; do umount $MNT || break; done

# ---- mount -o remount,rw: mount.fuse3 runs kvmload-fs (the subtype), which refuses; the mount stays ro
err=$($FS kvmload $MNT -o rw,nosuid,nodev,relatime,remount 2>&1); rc=$?
check "remount helper: exit 64" 64 $rc
check "remount helper: message" "kvmload-fs: $MNT: cannot remount read-write: Read-only file system (a kvmload-fs view is always read-only)" "$err"
err=$($FS kvmload $MNT -o ro,noexec,remount 2>&1); rc=$?
check "remount ro helper: exit 64" 64 $rc
check "remount ro helper: message" "kvmload-fs: $MNT: cannot remount a kvmload-fs view: unmount it and start kvmload-fs again" "$err"
# mount(8) clears PATH: mount.fuse3's shell finds kvmload-fs in /usr/local/sbin, a private one here.
if [ -d /usr/local/sbin ] && command -v unshare > /dev/null && unshare -m --propagation private true 2> /dev/null; then
	mkdir -p $T/helper; ln -s "$(realpath $FS)" $T/helper/kvmload-fs
	out=$(unshare -m --propagation private sh -c "mount --bind $T/helper /usr/local/sbin &&
		mount -o remount,rw $MNT 2>&1; echo \"status \$?\"; awk -v m=$MNT '\$2 == m { split(\$4, o, \",\"); print o[1] }' /proc/mounts")
	check "mount -o remount,rw" "kvmload-fs: $MNT: cannot remount read-write: Read-only file system (a kvmload-fs view is always read-only)
status 64
ro" "$out"
else
	echo "unshare -m unavailable: mount -o remount,rw through mount(8) not tried"
fi
check "remount: still ro" "ro" "$(awk -v m=$MNT '$2 == m { split($4, o, ","); print o[1] }' /proc/mounts)"
check "remount: still answers" "hello from the guest" "$(cat $MNT/disk1p2/etc/motd)"

# ---- unmount: the daemon exits 0 and the mount is gone
fusermount3 -u $MNT; check "fusermount3 -u" 0 $?
wait $DPID; check "daemon exit status" 0 $?
PIDS=
check "no mount left" "" "$(awk -v m=$MNT '$2 == m' /proc/mounts)"
check "daemon stderr" "" "$(cat $T/daemon.err)"

# The background daemon's pid: the one kvmload-fs whose arguments end in $MNT (not fusermount3's).
daemon_pid() {
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = kvmload-fs ] &&
			[ "$({ tr '\0' '\n' < $p/cmdline; } 2>/dev/null | tail -n 1)" = "$MNT" ] && echo ${p#/proc/}
	done
}

# ---- background mode: returns once the mount answers, with the right status
$FS --disk $D1 $MNT; check "background start exit status" 0 $?
check "background mount answers" "hello from the guest" "$(cat $MNT/disk0p2/etc/motd)"
BPID=$(daemon_pid); PIDS="$BPID"
check "background daemon found" 1 "$(echo $BPID | wc -w)"
fusermount3 -u $MNT; check "background unmount" 0 $?
check "no mount left (background)" "" "$(awk -v m=$MNT '$2 == m' /proc/mounts)"
for _ in $(seq 100); do [ -d /proc/$BPID ] || break; sleep 0.1; done
check "background daemon exits after unmount" "" "$(daemon_pid)"
PIDS=
touch $T/file
$FS --disk $D1 $T/file 2>/dev/null; check "background, mount point is a file: exit 66" 66 $?

# ---- a disk cut short: its last partition is served up to the end; reads past it fail with EIO
$FS -f --ready-fd 3 --disk $C $MNT 3> $T/ready 2> $T/daemon.err &
DPID=$!; PIDS="$DPID"
read -r -n 1 -t 30 < $T/ready
check "cut short: partitions shown" "by-label disk0p2 disk0p4" "$(ls $MNT | tr '\n' ' ' | sed 's/ $//')"
check "cut short: a file inside the disk" "hello from the guest" "$(cat $MNT/disk0p4/etc/motd)"
check "cut short: the start of a file running past the end" "$(head -c 100000 $T/cut/data/big | od -An -tx1)" \
	"$(head -c 100000 $MNT/disk0p4/data/big | od -An -tx1)"
check "cut short: past the end of the disk: EIO" "Input/output error" \
	"$(cat $MNT/disk0p4/data/big 2>&1 > /dev/null | sed 's/.*: //')"
fusermount3 -u $MNT
wait $DPID; check "cut short: daemon exit status" 0 $?
PIDS=

# ---- a killed server: its owner removes the mount; a killed owner takes its server along (parent-death
# signal) and leaves a dead mount, on which a second start is refused
$FS --disk $D1 $MNT 2> $T/killed.err; check "killed server: background start" 0 $?
BPID=$(daemon_pid); PIDS="$BPID"
check "killed server: mounted" "hello from the guest" "$(cat $MNT/disk0p2/etc/motd)"
SPID=$(pgrep -P $BPID -x kvmload-fs-srv)
kill -KILL $SPID
if gone $MNT; then ok; else bad "the mount outlived a SIGKILLed server"; fusermount3 -u -z $MNT; fi
for _ in $(seq 100); do [ -d /proc/$BPID ] || break; sleep 0.1; done
check "killed server: its owner is gone" "" "$(daemon_pid)"
check "killed server: the owner says so" "kvmload-fs: the server (pid $SPID) was killed by signal 9 (Killed); unmounting $MNT" "$(cat $T/killed.err)"
PIDS=
$FS --disk $D1 $MNT; check "killed owner: background start" 0 $?
BPID=$(daemon_pid)
SPID=$(pgrep -P $BPID -x kvmload-fs-srv)
kill -KILL $BPID
for _ in $(seq 100); do [ -d /proc/$SPID ] || break; sleep 0.1; done
check "killed owner: its server is gone" "" "$(ls -d /proc/$SPID 2>/dev/null)"
check "killed owner: the dead mount stays" "Transport endpoint is not connected" "$(ls $MNT 2>&1 | sed 's/.*: //')"
timeout 10 $FS --disk $D1 $MNT 2> $T/second.err; rc=$?
check "dead mount: second start refused" 64 $rc
check "dead mount: message" "kvmload-fs: $MNT: already a kvmload-fs mount point (fuse.kvmload-fs); unmount it first: fusermount3 -u $MNT" "$(cat $T/second.err)"
while awk -v m=$MNT '$2 == m { f = 1 } END { exit !f }' /proc/mounts; do fusermount3 -u -z $MNT || break; done

# ---- corrupt metadata: EIO for that file, one log line naming the field, the rest still readable
cp $T/ufs2.img $T/bad.img
$UFSPATCH $T/bad.img inode /boot/kernel/kernel db0 99999999 || exit 1
sha256sum $T/bad.img >> $T/sums
$FS -f --ready-fd 3 --disk $T/bad.img $MNT 3> $T/ready 2> $T/daemon.err &
DPID=$!; PIDS="$DPID"
read -r -n 1 -t 30 < $T/ready
check "corrupt block pointer: EIO" "Input/output error" "$(cat $MNT/disk0/boot/kernel/kernel 2>&1 >/dev/null | sed 's/.*: //')"
check "corrupt block pointer: other files" "hello from the guest" "$(cat $MNT/disk0/etc/motd)"
check "corrupt block pointer: size still shown" 200000 "$(stat -c %s $MNT/disk0/boot/kernel/kernel)"
fusermount3 -u $MNT
wait $DPID; check "daemon exit status after EIO" 0 $?
PIDS=
case $(cat $T/daemon.err) in *"di_db[0]"*) ok ;; *) bad "no log line names di_db[0]: $(cat $T/daemon.err)" ;; esac

check "disk images unchanged" "" "$(sha256sum --quiet -c $T/sums 2>&1)"
lib_done
