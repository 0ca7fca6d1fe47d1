#!/bin/bash
# conformance_zfs.sh: a root-on-ZFS guest made by FreeBSD's makefs: kvmload-fs shows every file as makefs stored it; kvmload, with no -l, boots it through the guest's own 15.1 userboot_4th.so to a 15.1 kernel with ZFS mounting zfs:zroot/ROOT/default; the guest's OpenZFS writes lz4, gzip-9, lzjb and zle datasets and powers off with the pool imported, and kvmload-fs reads back what it wrote.
# usage: conformance_zfs.sh KVMLOAD KVMLOAD_FS
. "$(dirname "$0")/lib.sh"
[ -n "${KVMLOAD_FREEBSD_ROOT:-}" ] || skip "KVMLOAD_FREEBSD_ROOT is not set"
[ -n "${KVMLOAD_FREEBSD_MAKEFS:-}" ] || skip "KVMLOAD_FREEBSD_MAKEFS (FreeBSD's own makefs, with -t zfs) is not set"
[ -n "${KVMLOAD_FREEBSD_ZFS_KERNEL:-}" ] || skip "KVMLOAD_FREEBSD_ZFS_KERNEL (a FreeBSD 15.1 amd64 kernel with options ZFS) is not set"
[ -n "${KVMLOAD_FREEBSD_USERBOOT:-}" ] || skip "KVMLOAD_FREEBSD_USERBOOT (a FreeBSD 15.1 userboot_4th.so with ZFS) is not set"
ROOT=$KVMLOAD_FREEBSD_ROOT
for f in "$ROOT/bin/sh" "$ROOT/sbin/init" "$ROOT/sbin/sha256" "$ROOT/boot/loader" "$KVMLOAD_FREEBSD_ZFS_KERNEL" \
	"$KVMLOAD_FREEBSD_USERBOOT" "$KVMLOAD_FREEBSD_MAKEFS"; do
	[ -f "$f" ] || skip "no $f"
done
need_fuse
need_tools qemu-system-x86_64 fusermount3 sha256sum cmp getfattr strings
KVMLOAD=$1 FS=$2
# TCG: a stock kernel's FPU set-up is an emulation failure on nested KVM hosts.
ACCEL=${KVMLOAD_TEST_ACCEL:-tcg}
VM=fbsdzfs-$$
# Where kvmload keeps the VM's view (include/rundir.h): the plugin's path names it.
if [ -n "${KVMLOAD_RUN_DIR:-}" ]; then RUN=$KVMLOAD_RUN_DIR/$VM
elif [ "$(id -u)" -eq 0 ]; then RUN=/run/kvmload/$VM
else RUN=${XDG_RUNTIME_DIR:-/nonexistent}/kvmload/$VM; fi
export LC_ALL=C

# A failing (or interrupted) run keeps its work directory: lib.sh's clean-up removes "$WORK",
# this one (registered later, so run first) empties the name unless the test got to its end.
DONE=0 DPID='' KPID=''
on_exit 'if [ $DONE -eq 0 ] || [ $FAILED -ne 0 ]; then echo "work directory kept: $WORK" >&2; WORK=; fi'
on_exit '[ -n "$KPID" ] && kill $KPID 2>/dev/null && wait $KPID'
on_exit '[ -n "$DPID" ] && kill $DPID 2>/dev/null && wait $DPID'
die() { bad "$*"; exit 1; }
# Times: "N ms: WHAT", N since the test started (before the boot) or since kvmload started.
T0=$(date +%s%N)
ms() { echo "$(( ($(date +%s%N) - T0) / 1000000 )) ms: $*"; }

# ---- 1. The guest tree and its pool.  The 10.2 base, /boot with the 15.1 ZFS kernel and the
# 15.1 userboot_4th.so (the plugin kvmload takes from the guest: the 10.2 /boot/loader has no
# $Interpreter: marker, so 4th), an fstab with no root line (as bsdinstall writes for ZFS: the
# loader then mounts the root from its ZFS currdev, zfs:zroot/ROOT/default), and what a reader
# must show: setuid, sticky, other owners, hard links, symlinks, nanosecond mtimes.
tree=$WORK/tree
mkdir -p "$tree/boot/kernel" "$tree/dev" "$tree/tmp" "$tree/mnt" "$tree/usr/home/alice" "$tree/var"
for d in bin sbin lib libexec etc root; do cp -a "$ROOT/$d" "$tree/"; done
for f in "$ROOT"/boot/*; do case $f in */kernel) ;; *) cp -a "$f" "$tree/boot/" ;; esac; done
cp "$KVMLOAD_FREEBSD_ZFS_KERNEL" "$tree/boot/kernel/kernel"
cp "$KVMLOAD_FREEBSD_USERBOOT" "$tree/boot/userboot_4th.so"
printf 'beastie_disable="YES"\nautoboot_delay="0"\n' >"$tree/boot/loader.conf"
printf '# Device\tMountpoint\tFStype\tOptions\tDump\tPass#\n' >"$tree/etc/fstab"
chmod 1777 "$tree/tmp"
chmod 4555 "$tree/sbin/ping"
echo 'alice notes' >"$tree/usr/home/alice/notes"
chown -R 1001:1002 "$tree/usr/home/alice"; chmod 750 "$tree/usr/home/alice"; chmod 640 "$tree/usr/home/alice/notes"
chown 65534:65533 "$tree/etc/motd"
ln "$tree/etc/motd" "$tree/root/motd.hard"
ln "$tree/bin/cat" "$tree/bin/cat.hard"; ln "$tree/bin/cat" "$tree/sbin/cat.hard"
ln -s "/$(printf 'x%.0s' $(seq 1 100))" "$tree/root/longlink"
touch -h -d '2001-02-03 04:05:06.123456789' "$tree/root/longlink"
touch -d '1999-12-31 23:59:59.999999999' "$tree/etc/motd"
# The datasets the guest writes (mounted by hand: 10.2's zfs(8) cannot talk to a 15.1 kernel),
# one per codec and one without, each with a file makefs puts there.
CODECS="lz4 gzip9 lzjb zle off"
for c in $CODECS; do mkdir -p "$tree/c/$c"; echo "dataset c_$c, as makefs wrote it" >"$tree/c/$c/README"; done
# The guest's script (/root/fill.sh): mount the datasets, copy files into each, print every
# copied file's SHA-256 between two markers.  The 10.2 base has no find or sort: a shell walk.
cat >"$tree/root/fill.sh" <<'EOF'
walk() {
	for f in "$1"/* "$1"/.[!.]*; do
		if [ -L "$f" ]; then :; elif [ -d "$f" ]; then walk "$f"; elif [ -f "$f" ]; then /sbin/sha256 -r "$f"; fi
	done
}
for c in lz4 gzip9 lzjb zle off; do
	/sbin/mount -t zfs zroot/c_$c /c/$c || exit 1
	/bin/cp -Rp /etc /c/$c/ || exit 1
	/bin/cp -p /boot/*.4th /bin/sh /c/$c/ || exit 1
	(/bin/cat /bin/sh; /bin/dd if=/dev/zero bs=1k count=300 2>/dev/null; /bin/cat /etc/rc) >/c/$c/zeros || exit 1
done
/bin/sync
echo SUMS-BEGIN
for c in lz4 gzip9 lzjb zle off; do walk /c/$c/etc; for f in /c/$c/*; do [ -f "$f" ] && /sbin/sha256 -r "$f"; done; done
echo SUMS-END
/bin/ls -ls /c/*/zeros
EOF
# Nothing of the tree changes after this: every time in it is what the view must show.

IMG=$WORK/zroot.img
"$KVMLOAD_FREEBSD_MAKEFS" -t zfs -s 320m -o poolname=zroot -o bootfs=zroot/ROOT/default -o rootpath=/ \
	-o 'fs=zroot;mountpoint=none' -o 'fs=zroot/ROOT;mountpoint=none' -o 'fs=zroot/ROOT/default;mountpoint=/' \
	-o 'fs=zroot/usr;mountpoint=/usr;canmount=off' -o 'fs=zroot/usr/home' \
	-o 'fs=zroot/c_lz4;mountpoint=/c/lz4;compression=lz4' -o 'fs=zroot/c_gzip9;mountpoint=/c/gzip9;compression=gzip-9' \
	-o 'fs=zroot/c_lzjb;mountpoint=/c/lzjb;compression=lzjb' -o 'fs=zroot/c_zle;mountpoint=/c/zle;compression=zle' \
	-o 'fs=zroot/c_off;mountpoint=/c/off;compression=off' \
	"$IMG" "$tree" >"$WORK/makefs.log" 2>&1 || { cat "$WORK/makefs.log" >&2; die "makefs -t zfs failed"; }
ok
ms "makefs -t zfs: $(stat -c %s "$IMG") bytes"
# KVMLOAD_TEST_DISK_FORMAT=qcow2 (or any qemu-img output format): the whole test on the image in
# that format, as FreeBSD publishes its ZFS images: the loader reads the pool through the exporter,
# the guest writes it through QEMU, the view reads back what it wrote.
DISKSIZE=$(stat -c %s "$IMG")
RAWIMG=$IMG
if [ "${KVMLOAD_TEST_DISK_FORMAT:-raw}" != raw ]; then
	IMG=$WORK/zroot.$KVMLOAD_TEST_DISK_FORMAT
	qemu-img convert -O "$KVMLOAD_TEST_DISK_FORMAT" "$RAWIMG" "$IMG" || die "qemu-img convert"
	rm -f "$RAWIMG"
	ms "as $KVMLOAD_TEST_DISK_FORMAT: $(stat -c %s "$IMG") bytes"
fi

# ---- 2. The view of the pool makefs wrote.
MNT=$WORK/mnt
mkdir -p "$MNT"
on_exit 'grep -q " $MNT fuse" /proc/mounts && fusermount3 -u -z "$MNT"'
view_up() {
	rm -f "$WORK/ready"; mkfifo "$WORK/ready"
	"$FS" -f --ready-fd 3 --disk "$IMG" "$MNT" 3>"$WORK/ready" 2>>"$WORK/daemon.err" &
	DPID=$!
	read -r -n 1 -t 30 <"$WORK/ready" || die "kvmload-fs did not come up (see $WORK/daemon.err)"
}
view_down() {
	fusermount3 -u "$MNT"; wait $DPID; check "kvmload-fs exit status" 0 $?
	DPID=
}
# list WHEN: kvmload-fs --list of the image: one pool, ONLINE, its datasets, bootfs marked.
WANT_DATASETS="zroot
zroot/ROOT
zroot/ROOT/default (bootfs)
zroot/c_gzip9
zroot/c_lz4
zroot/c_lzjb
zroot/c_off
zroot/c_zle
zroot/usr
zroot/usr/home"
list() {
	"$FS" --list --disk "$IMG" >"$WORK/list.$1" 2>&1; check "--list $1 the guest: exit status" 0 $?
	match "--list $1 the guest: disk0" "disk0 none - 0 $DISKSIZE zfs -" \
		"$(sed -n 2p "$WORK/list.$1" | tr -s ' ' | sed 's/ $//')"
	match "--list $1 the guest: the pool" "pool zroot guid [0-9]* txg [0-9]*: ONLINE" "$(grep '^pool' "$WORK/list.$1")"
	match "--list $1 the guest: its disk" "  * (guid [0-9]*): present as disk0" "$(grep '(guid' "$WORK/list.$1")"
	check "--list $1 the guest: the datasets" "$WANT_DATASETS" "$(sed -n 's/^  dataset //p' "$WORK/list.$1")"
}
list before
# pool_state: the "state" of the first label's nvlist (XDR: name length 5, "state" and its
# padding, type 8 = uint64, one element, the value): 1 exported (makefs), 0 active (imported).
pool_state() {
	local off
	[ "$IMG" = "$RAWIMG" ] || qemu-img convert -O raw "$IMG" "$RAWIMG" || die "qemu-img convert"
	off=$(dd if="$RAWIMG" bs=1k skip=16 count=112 2>/dev/null | grep -boaP '\x00\x00\x00\x05state\x00\x00\x00\x00\x00\x00\x08' |
		head -n 1 | cut -d: -f1)
	[ -n "$off" ] && echo $(( 0x$(od -An -tx1 -j $((16384 + off + 4 + 8 + 8)) -N8 "$RAWIMG" | tr -d ' \n') ))
	[ "$IMG" = "$RAWIMG" ] || rm -f "$RAWIMG"
}
check "makefs left the pool exported" 1 "$(pool_state)"

# describe DIR: every entry (the mount points of other datasets as empty directories): path,
# type, mode (setuid and sticky too), owner, group, mtime to the nanosecond (makefs stores the
# source's st_mtim with its nanoseconds and the view shows them: checked exactly), and for all
# but directories link count, size and symlink target (a ZFS directory's size is its entry count).
describe() {
	(cd "$1" && find . \( -path ./usr/home/\* -o -path './c/*/*' \) -prune -o \
		\( -type d -printf '%p %y %m %U %G %T@\n' \) -o -printf '%p %y %m %U %G %T@ %n %s %l\n' | sort)
}
# same SRC VIEWDIR NAME: the two trees agree (describe), every regular file byte for byte.
same() {
	local files=0 bytes=0 diffs=
	check "$3: every entry, its type, mode, owner, mtime (ns), links, size, target" "$(describe "$1")" "$(describe "$2")"
	while read -r f; do
		cmp -s "$1/$f" "$2/$f" || diffs="$diffs $f"
		files=$((files + 1)); bytes=$((bytes + $(stat -c %s "$1/$f")))
	done < <(cd "$1" && find . \( -path ./usr/home/\* -o -path './c/*/*' \) -prune -o -type f -print)
	check "$3: file bytes" "" "$diffs"
	echo "$3: $files files, $bytes bytes compared"
	NFILES=$((NFILES + files)) NBYTES=$((NBYTES + bytes))
}
# hard SRC VIEWDIR NAME: the hard links of the tree share an inode in the view.
hard() {
	check "$3: hard links share an inode" "1 1" \
		"$(stat -c %i "$2/etc/motd" "$2/root/motd.hard" | sort -u | wc -l) $(stat -c %i "$2/bin/cat" "$2/bin/cat.hard" "$2/sbin/cat.hard" | sort -u | wc -l)"
	check "$3: hard links are distinct files" 2 "$(stat -c %i "$2/etc/motd" "$2/bin/cat" | sort -u | wc -l)"
}
NFILES=0 NBYTES=0
view_up
ms "kvmload-fs mounted"
check "top level" "by-label disk0 zfs" "$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
check "by-label/zroot" "../zfs/zroot" "$(readlink "$MNT/by-label/zroot")"
check "zfs/zroot" "ROOT c_gzip9 c_lz4 c_lzjb c_off c_zle usr" "$(ls "$MNT/zfs/zroot" | tr '\n' ' ' | sed 's/ $//')"
check "disk0 names its dataset" "zroot/ROOT/default" "$(getfattr --only-values -n user.kvmload.dataset "$MNT/disk0" 2>/dev/null)"
for v in zfs/zroot/ROOT/default disk0; do
	same "$tree" "$MNT/$v" "$v"
	hard "$tree" "$MNT/$v" "$v"
done
same "$tree/usr/home" "$MNT/zfs/zroot/usr/home" "zfs/zroot/usr/home"
for c in $CODECS; do same "$tree/c/$c" "$MNT/zfs/zroot/c_$c" "zfs/zroot/c_$c"; done
view_down
ms "view of the makefs pool: $NFILES files, $NBYTES bytes compared"

# ---- 3. Boot: no -l, an empty plugin directory, so the plugin is the guest's own.
mkdir -p "$WORK/noplugins"
log=$WORK/console.log
mkfifo "$WORK/in"
t0=$(date +%s%N)
"$KVMLOAD" --loader-dir "$WORK/noplugins" -d "$IMG" -m 1G --accel "$ACCEL" -e boot_single=YES "$VM" \
	<"$WORK/in" >"$log" 2>&1 &
KPID=$!
exec 3>"$WORK/in"

STEP_LOG=$log STEP_PID=$KPID STEP_T0=$t0

console_step "kvmload: host0: is disk0 of the view, ZFS dataset zroot/ROOT/default ($RUN/view/disk0)" 30
console_step "kvmload: guest /boot/loader has no \$Interpreter: marker, so 4th: using $RUN/view/disk0/boot/userboot_4th.so (the guest's own /boot: untrusted, confined by the sandbox)" 30
console_step "kvmload: plugin $RUN/view/disk0/boot/userboot_4th.so: FreeBSD 13.0+ (version 5," 30
console_step "Booting [/boot/kernel/kernel]..." 120
console_step "FreeBSD 15." 60
console_step "ZFS storage pool version: features support (5000)" 120
console_step "Trying to mount root from zfs:zroot/ROOT/default" 120
console_step "Enter full pathname of shell or RETURN for /bin/sh:" 120
printf '\n' >&3
console_step "# " 60
printf '/sbin/sysctl -n kern.osrelease\n' >&3
want=$(strings "$KVMLOAD_FREEBSD_ZFS_KERNEL" | grep -m1 -oE '^FreeBSD [0-9]+\.[0-9]+-[A-Z0-9-]+' | cut -d' ' -f2)
console_step "$want" 60

# ---- 4. The used pool: the root read-write, the datasets written by OpenZFS.
# shell CMD SECONDS: run CMD at the guest's shell and wait for its end; sets GST, its status.
n=0
shell() {
	n=$((n + 1))
	printf '%s; echo "@@$((%d+1000))=$?@@"\n' "$1" $n >&3
	console_step "@@$((n + 1000))=" "$2" >/dev/null
	GST=$(tr -d '\r' <"$log" | sed -n "s/^@@$((n + 1000))=\([0-9]*\)@@\$/\1/p")
	echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms: guest: $1 (status $GST)"
}
# The loader read the pool itself (disk callbacks) and handed the kernel its root.
shell '/bin/kenv currdev' 60
expect_line "$log" "zfs:zroot/ROOT/default:"
shell '/bin/kenv vfs.root.mountfrom' 60
expect_line "$log" "zfs:zroot/ROOT/default"
# The root comes up read-only in single-user mode; mount -u -o rw is enough (no zfs set readonly=off).
shell '/sbin/mount -u -o rw /' 60
check "mount -u -o rw / (status)" 0 "$GST"
shell 'echo written by the guest >/root/guest.txt' 60
check "the root dataset is writable" 0 "$GST"
shell '/bin/sh /root/fill.sh' 600
check "/root/fill.sh (status)" 0 "$GST"
shell '/sbin/mount -p' 60
printf '/sbin/halt -p\n' >&3
console_step "acpi0: Powering system off" 120
exec 3>&-
wait $KPID; st=$?
KPID=
echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms: kvmload exited $st"
expect_status $st 1 "halt -p"
expect_line "$log" "kvmload: the guest powered off"
[ -e "$RUN" ] && bad "runtime directory left behind" || ok

# The sums the guest printed (sha256 -r: "HASH PATH"), and the files it should have printed.
tr -d '\r' <"$log" | sed -n '/^SUMS-BEGIN$/,/^SUMS-END$/p' | grep -E '^[0-9a-f]{64} /c/' | sort -k2 >"$WORK/guest.sums"
for c in $CODECS; do
	(cd "$tree" && find etc -type f) | sed "s|^|/c/$c/|"
	printf '/c/%s/%s\n' "$c" README "$c" sh "$c" zeros
	(cd "$tree/boot" && ls ./*.4th) | sed "s|^\./|/c/$c/|"
done | sort >"$WORK/want.files"
check "the guest printed a sum for every copied file" "$(cat "$WORK/want.files")" "$(cut -d' ' -f2 "$WORK/guest.sums")"

# ---- 5. What the guest wrote, through the view: the pool was never exported.
list after
check "the guest left the pool imported (powered off, not exported)" 0 "$(pool_state)"
echo "txg: $(grep -o 'txg [0-9]*' "$WORK/list.before") by makefs, $(grep -o 'txg [0-9]*' "$WORK/list.after") after the guest"
view_up
bad_sums='' nsums=0 sumbytes=0
while read -r h p; do
	c=${p#/c/}; c=${c%%/*}; rel=${p#/c/$c/}
	got=$(sha256sum <"$MNT/zfs/zroot/c_$c/$rel" 2>/dev/null | cut -d' ' -f1)
	[ "$got" = "$h" ] || bad_sums="$bad_sums $p"
	nsums=$((nsums + 1)); sumbytes=$((sumbytes + $(stat -c %s "$MNT/zfs/zroot/c_$c/$rel")))
done <"$WORK/guest.sums"
check "every file the guest wrote: the view's SHA-256 is the guest's" "" "$bad_sums"
echo "guest-written files read back: $nsums files, $sumbytes bytes"
# ... and the copies are the tree's files (and the zeros file as the host makes it).
(cat "$tree/bin/sh"; head -c 307200 /dev/zero; cat "$tree/etc/rc") >"$WORK/zeros"
diffs=
for c in $CODECS; do
	while read -r f; do cmp -s "$tree/$f" "$MNT/zfs/zroot/c_$c/$f" || diffs="$diffs c_$c/$f"; done < <(cd "$tree" && find etc -type f)
	for f in "$tree"/boot/*.4th "$tree/bin/sh"; do cmp -s "$f" "$MNT/zfs/zroot/c_$c/${f##*/}" || diffs="$diffs c_$c/${f##*/}"; done
	cmp -s "$WORK/zeros" "$MNT/zfs/zroot/c_$c/zeros" || diffs="$diffs c_$c/zeros"
	check "c_$c: the makefs file is still there" "dataset c_$c, as makefs wrote it" "$(cat "$MNT/zfs/zroot/c_$c/README")"
	check "c_$c: copied symlinks" "$(cd "$tree" && find etc -type l -printf '%p %l\n' | sort)" \
		"$(cd "$MNT/zfs/zroot/c_$c" && find etc -type l -printf '%p %l\n' | sort)"
done
check "the copies equal the tree's files" "" "$diffs"
check "the guest's file in the root dataset" "written by the guest" "$(cat "$MNT/zfs/zroot/ROOT/default/root/guest.txt")"
# The blocks are compressed: what each file's dnode says it uses (the view's st_blocks) against
# the same files in c_off (compression=off).  zle only squeezes runs of zeros: its evidence is
# the zeros file (a 300 KiB run: one whole 128 KiB record becomes a hole, the rest shrinks).
used() { (cd "$MNT/zfs/zroot/c_$1" && find . -type f -printf '%b\n') | awk '{ s += $1 } END { print s * 512 }'; }
zused() { echo $(( $(stat -c %b "$MNT/zfs/zroot/c_$1/zeros") * 512 )); }
off=$(used off) zoff=$(zused off)
echo "c_off: the copies use $off bytes, zeros $zoff bytes (of $(stat -c %s "$WORK/zeros"))"
for c in lz4 gzip9 lzjb zle; do
	u=$(used "$c") z=$(zused "$c")
	echo "c_$c: the copies use $u bytes ($((u * 100 / off))% of c_off), zeros $z bytes"
	if [ "$c" = zle ]; then
		[ "$z" -lt $((zoff * 3 / 4)) ] && ok || bad "c_zle: zeros uses $z bytes, c_off's $zoff: not compressed"
	else
		[ "$u" -lt $((off * 3 / 4)) ] && ok || bad "c_$c: the copies use $u bytes, c_off's $off: not compressed"
	fi
done
# The root dataset after OpenZFS rewrote the pool: every file makefs wrote, byte for byte.
diffs=
while read -r f; do cmp -s "$tree/$f" "$MNT/zfs/zroot/ROOT/default/$f" || diffs="$diffs $f"; done \
	< <(cd "$tree" && find . \( -path ./usr/home/\* -o -path './c/*/*' \) -prune -o -type f -print)
check "the root dataset after the guest: every makefs file unchanged" "" "$diffs"
view_down
check "kvmload-fs said nothing" "" "$(cat "$WORK/daemon.err")"
ms "done (total)"
[ $FAILED -eq 0 ] || tr -d '\r' <"$log" | grep -v '^[0-9a-f]\{64\} ' | tail -60 >&2
# shellcheck disable=SC2034 # read by the on_exit above
DONE=1
lib_done
