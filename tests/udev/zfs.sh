#!/bin/bash
# zfs.sh: ZFS pools made with zfs-fuse, on loop devices: what libblkid reports for a pool's
# devices (zfs_member, the pool name and GUID, each device's vdev GUID), 70-kvmload.rules
# pulling in the unit for a whole-disk member and a freebsd-zfs partition, and kvmload-hotplug
# picking the VM by zpool / zpool-guid, waiting for all of a mirror's devices (zpool-members,
# zpool-wait) and handing every one's disk to kvmload (-d) and kvmload-fs (--disk) in vdev GUID
# order.  kvmload and kvmload-fs are stand-ins that record their arguments: no guest boots.
# The whole test runs in a private mount namespace: /run is a tmpfs of its own, holding the
# udev database kvmload-hotplug reads (written here from udevadm test-builtin blkid, the
# properties udev imports) and zfs-fuse's socket and lock, so neither the host's udev nor
# another zfs-fuse sees anything.
# usage: zfs.sh KVMLOAD-HOTPLUG RULES-FILE
if [ -z "${KVMLOAD_ZFS_NS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	KVMLOAD_ZFS_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
HOTPLUG=$(realpath "$1")
RULES=$(realpath "$2") # for udev_test
export RULES
ZFSD=/sbin/zfs-fuse
need_root
[ -n "${KVMLOAD_ZFS_NS:-}" ] || skip "no unshare"
need_tools zpool losetup partx sgdisk blkid udevadm
[ -x "$ZFSD" ] || skip "no $ZFSD (zfs-fuse)"
need_fuse
[ -d /etc/zfs ] || skip "no /etc/zfs"
mount -t tmpfs kvmload-zfs /run || exit 1
mount -t tmpfs kvmload-zfs /etc/zfs || exit 1
mkdir -p /run/zfs /run/lock /run/udev/data
printf 'max-arc-size = 100\n' >/etc/zfs/zfsrc
cd "$WORK" || exit 1

# ---- pools, from a zfs-fuse daemon of our own: "zm", a three-way mirror of whole images, and
# "zg", one device on a GPT freebsd-zfs partition (zfs-fuse wants 64 MiB per device).
"$ZFSD" --no-daemon --no-kstat-mount >zfs-fuse.log 2>&1 &
ZFSD_PID=$!
on_exit '[ -z "$ZFSD_PID" ] || { kill $ZFSD_PID; wait $ZFSD_PID; }'
for _ in $(seq 100); do [ -S /run/zfs/zfs_socket ] && break; sleep 0.1; done
for i in 1 2 3; do truncate -s 64M "m$i.img"; done
zpool create -m none -o version=23 zm mirror "$PWD/m1.img" "$PWD/m2.img" "$PWD/m3.img" ||
	{ cat zfs-fuse.log; exit 1; }
truncate -s 128M g.img
sgdisk -o -n 1:2048:+512K -t 1:a501 -n 2:4096:+100M -t 2:a504 -c 2:zroot g.img >/dev/null || exit 1
G=$(loop_attach g.img) || exit 1
zpool create -m none -o version=23 zg "${G}p2" || exit 1
guid() { zpool get guid "$1" | awk 'NR == 2 { print $3 }'; }
ZM=$(guid zm) ZG=$(guid zg)
zpool export zm && zpool export zg || exit 1
kill "$ZFSD_PID"
wait "$ZFSD_PID"
ZFSD_PID=
echo "zm guid $ZM, zg guid $ZG"

# ---- what libblkid reports: on an image, on a loop device, on a GPT partition
prop() { sed -n "s/^$2=//p" <<<"$1"; }
M1=$(loop_attach m1.img) M2=$(loop_attach m2.img) M3=$(loop_attach m3.img) || exit 1
img=$(blkid -p -o udev m1.img)
check "blkid on an image: zfs_member" zfs_member "$(prop "$img" ID_FS_TYPE)"
check "blkid on an image: the pool name as the label" zm "$(prop "$img" ID_FS_LABEL)"
check "blkid on an image: the pool GUID, in decimal as zpool get guid prints it" "$ZM" \
	"$(prop "$img" ID_FS_UUID)"
check "blkid on an image: the vdev GUID, decimal too" decimal \
	"$(prop "$img" ID_FS_UUID_SUB | grep -qxE '[1-9][0-9]*' && echo decimal)"
check "blkid on a loop device: the same" "$img" "$(blkid -p -o udev "$M1")"
subs=$(for m in m1 m2 m3; do blkid -p -o udev "$m.img" | sed -n 's/^ID_FS_UUID_SUB=//p'; done)
check "mirror: one pool GUID, three vdev GUIDs" "1 3" \
	"$(for m in m1 m2 m3; do blkid -p -o udev "$m.img" | sed -n 's/^ID_FS_UUID=//p'; done |
		sort -u | wc -l) $(sort -u <<<"$subs" | wc -l)"
part=$(blkid -p -o udev "${G}p2")
check "blkid on a freebsd-zfs partition: zfs_member of zg" "zfs_member zg $ZG" \
	"$(prop "$part" ID_FS_TYPE) $(prop "$part" ID_FS_LABEL) $(prop "$part" ID_FS_UUID)"
check "blkid on the partition's disk: only the partition table" "gpt " \
	"$(blkid -p -o udev "$G" | sed -n 's/^ID_PART_TABLE_TYPE=//p') $(blkid -p -o udev "$G" |
		sed -n 's/^ID_FS_TYPE=//p')"

# ---- 70-kvmload.rules: a whole-disk member (a loop disk sends change, not add) and the
# freebsd-zfs partition pull in the unit.
K=$(basename "$M1")
check "rule: whole-disk pool member (change)" "change $K kvmload@$K.service" "$(udev_test "$M1" change)"
K=$(basename "$G")
check "rule: GPT freebsd-boot + freebsd-zfs holding a pool" "add $K 
add ${K}p1 kvmload@${K}p1.service
add ${K}p2 kvmload@${K}p2.service" "$(udev_test "$G" add)"
check "rule: the partition's properties as udev imports them" "zfs_member zg $ZG" \
	"$(for p in ID_FS_TYPE ID_FS_LABEL ID_FS_UUID; do sed -n "s/^$p=//p" "$WORK/out.${K}p2"; done |
		paste -sd' ')"
problems=$(cat "$WORK"/err.* | grep -F '70-kvmload.rules' | grep -vF 'Reading rules file')
check "rule: udev reports no problem" "" "$problems"

# ---- kvmload-hotplug
# udev_record DEV: the udev database entry for DEV, with the properties udev's blkid imports.
udev_record() {
	local ma mi
	IFS=: read -r ma mi <"/sys/class/block/$(basename "$1")/dev"
	{
		echo "I:1"
		udevadm test-builtin blkid "/sys/class/block/$(basename "$1")" 2>/dev/null | sed 's/^/E:/'
	} >"/run/udev/data/b$ma:$mi"
}
unrecord() { rm -f "/run/udev/data/b$(cat "/sys/class/block/$(basename "$1")/dev")"; }
# Stand-ins: kvmload-fs says it is ready and waits to be stopped; kvmload hands the view back
# ('R', then 'K'), as the real one does when the loader is done, and "halts" (status 2).
cat >fakefs <<'SH'
#!/bin/bash
printf '%s\n' "$@" >"$FAKE_OUT/kvmload-fs.args"
printf x >&3
exec 3>&-
exec sleep 600
SH
cat >fakekvmload <<'SH'
#!/bin/bash
printf '%s\n' "$@" >"$FAKE_OUT/kvmload.args"
printf R >&3
IFS= read -r -n 1 -u 3 k
[ "$k" = K ] || exit 4
exit 2
SH
chmod +x fakefs fakekvmload
export FAKE_OUT=$WORK
R=$WORK/run C=$WORK/conf
mkdir -p "$C"
cat >"$C/zfs.conf" <<EOF
[vm mirror]
zpool = zm
zpool-members = 3
zpool-wait = 1
restart = no
[vm gpt]
zpool-guid = $ZG
ro = yes
[vm wrongguid]
zpool = zg
zpool-guid = 1
EOF
"$HOTPLUG" --config-dir "$C" --check >/dev/null || { echo "test config rejected" >&2; exit 1; }
OPTS=(--config-dir "$C" --run-dir "$R" --kvmload "$WORK/fakekvmload" --kvmload-fs "$WORK/fakefs"
	--stop-timeout 5)
# The mirror's disks in vdev GUID order (as numbers), whatever the order of the loop devices.
BYVDEV=$(for m in "$M1" "$M2" "$M3"; do
	echo "$(blkid -p -o udev "$m" | sed -n 's/^ID_FS_UUID_SUB=//p') $m"; done | sort -n | cut -d' ' -f2)
read -r D1 D2 D3 <<<"$(paste -sd" " <<<"$BYVDEV")"
list() { # list DEV...: "DEV (vdev N), ..." as kvmload-hotplug names a pool's devices
	local d out=
	for d in "$@"; do
		out="$out${out:+, }$d (vdev $(blkid -p -o udev "$d" | sed -n 's/^ID_FS_UUID_SUB=//p'))"
	done
	echo "$out"
}

udev_record "$M1"
udev_record "$M2"
udev_record "$M3"
check "dry-run add: the pool's three disks, in vdev GUID order" "vm mirror: $M2 matches ($C/zfs.conf:1)
vm mirror: pool zm (guid $ZM): 3 of 3 devices present: $(list "$D1" "$D2" "$D3")
console server: $R/mirror/console.sock, log $R/mirror/console.log
mkdir $R/mirror/view
$WORK/fakefs -f --ready-fd 3 --disk-fd 4:$D1 --disk-fd 5:$D2 --disk-fd 6:$D3 $R/mirror/view
$WORK/fakekvmload --view $R/mirror/view --view-release-fd 3 --disk-fd 4:$D1 --disk-fd 5:$D2 --disk-fd 6:$D3 mirror <>console-server
on 'R' from fd 3: stop kvmload-fs, umount $R/mirror/view, answer 'K'
on exit: stop" "$("$HOTPLUG" "${OPTS[@]}" --dry-run add "$M2" 2>&1)"

# Two of three: zpool-wait (1 s) passes, nothing starts, status 75 like other refusals.
unrecord "$D3"
out=$("$HOTPLUG" "${OPTS[@]}" add "$D1" 2>&1)
check "two of three devices: exit status (EX_TEMPFAIL)" 75 "$?"
check "two of three devices: messages" "kvmload-hotplug: vm mirror: pool zm: 2 of 3 devices present ($(list "$D1" "$D2")); waiting up to 1 s for the rest
kvmload-hotplug: vm mirror: pool zm: 2 of 3 devices present after 1 s ($(list "$D1" "$D2")), 1 missing; not starting" "$out"
check "two of three devices: nothing left in the run directory" "" "$(ls -A "$R")"
check "two of three devices: kvmload was not run" "" "$(ls kvmload.args 2>/dev/null)"
check "dry-run with two of three" "vm mirror: pool zm (guid $ZM): 2 of 3 devices present: $(list "$D1" "$D2")
wait up to 1 s for the rest; then, with all of them:" \
	"$("$HOTPLUG" "${OPTS[@]}" --dry-run add "$D1" 2>&1 | sed -n 2,3p)"

# The third device comes while the supervisor waits: it starts the guest with all three.  An
# add for another of the pool's devices meanwhile (its own unit) finds the VM held.
sed -i 's/^zpool-wait = 1$/zpool-wait = 30/' "$C/zfs.conf"
"$HOTPLUG" "${OPTS[@]}" add "$D2" 2>sup.log &
sup=$!
for _ in $(seq 50); do grep -q "waiting up to 30 s" sup.log && break; sleep 0.1; done
check "while waiting: another device's add" \
	"kvmload-hotplug: vm mirror: already running; nothing to do for $D1" \
	"$("$HOTPLUG" "${OPTS[@]}" add "$D1" 2>&1)"
udev_record "$D3"
wait "$sup"
check "the third device came: the supervisor ends with its guest" 0 "$?"
check "the third device came: messages" "kvmload-hotplug: vm mirror: pool zm: 2 of 3 devices present ($(list "$D1" "$D2")); waiting up to 30 s for the rest
kvmload-hotplug: vm mirror: pool zm: all 3 devices present ($(list "$D1" "$D2" "$D3"))" \
	"$(sed -n 1,2p sup.log)"
check "kvmload got every disk, in vdev GUID order" "--view
$R/mirror/view
--view-release-fd
3
--disk-fd
4:$D1
--disk-fd
5:$D2
--disk-fd
6:$D3
mirror" "$(cat kvmload.args 2>&1)"
check "kvmload-fs got every disk, in the same order" "-f --ready-fd 3 --disk-fd 4:$D1 --disk-fd 5:$D2 --disk-fd 6:$D3 $R/mirror/view" \
	"$(paste -sd' ' kvmload-fs.args 2>&1)"
check "the guest halted; status recorded" "exited: status 2, halted" "$(head -1 "$R/mirror/status" 2>&1)"
"$HOTPLUG" "${OPTS[@]}" remove "$D2" 2>/dev/null
check "remove: the run directory is empty" "" "$(ls -A "$R")"
rm -f kvmload.args kvmload-fs.args

# A remove of the device that started it, while the supervisor waits: it ends, starting nothing.
unrecord "$D3"
"$HOTPLUG" "${OPTS[@]}" add "$D2" 2>sup.log &
sup=$!
for _ in $(seq 50); do grep -q "waiting up to 30 s" sup.log && break; sleep 0.1; done
"$HOTPLUG" "${OPTS[@]}" remove "$D2" 2>/dev/null
wait "$sup"
check "removed while waiting: exit status" 0 "$?"
check "removed while waiting: message" "kvmload-hotplug: vm mirror: stopped while waiting for the pool's devices" \
	"$(sed -n 2p sup.log)"
check "removed while waiting: nothing run, nothing left" " " "$(ls kvmload.args 2>/dev/null) $(ls -A "$R")"
# SIGTERM (systemd stopping the unit) while it waits: the same.
"$HOTPLUG" "${OPTS[@]}" add "$D2" 2>sup.log &
sup=$!
for _ in $(seq 50); do grep -q "waiting up to 30 s" sup.log && break; sleep 0.1; done
kill -TERM "$sup"
wait "$sup"
check "SIGTERM while waiting: exit status" 0 "$?"
check "SIGTERM while waiting: message" "kvmload-hotplug: vm mirror: stopping on signal 15 while waiting for the pool" \
	"$(sed -n 2p sup.log)"
check "SIGTERM while waiting: nothing run, nothing left" " " "$(ls kvmload.args 2>/dev/null) $(ls -A "$R")"

# A device copied with dd carries another's vdev GUID: which one is the pool's is not guessed.
cp m1.img copy.img
C1=$(loop_attach copy.img) || exit 1
udev_record "$D3"
udev_record "$C1"
out=$("$HOTPLUG" "${OPTS[@]}" add "$D3" 2>&1)
check "a copied device: exit status" 70 "$?"
match "a copied device: message" "kvmload-hotplug: vm mirror: pool zm: /dev/loop* and /dev/loop* carry the same vdev GUID $(blkid -p -o udev m1.img | sed -n 's/^ID_FS_UUID_SUB=//p') (a copied disk?); not starting" "$out"
check "a copied device: nothing left" "" "$(ls -A "$R")"
unrecord "$C1"

# The GPT pool, named by its GUID: the partition's whole disk goes to kvmload; a definition
# whose GUID is another pool's does not match though the name does.
udev_record "$G"
udev_record "${G}p2"
check "GPT partition: dry-run" "vm gpt: ${G}p2 matches ($C/zfs.conf:6)
vm gpt: pool zg (guid $ZG): 1 of 1 devices present: $(list "${G}p2")
console server: $R/gpt/console.sock, log $R/gpt/console.log
mkdir $R/gpt/view
$WORK/fakefs -f --ready-fd 3 --disk-fd 4:$G $R/gpt/view
$WORK/fakekvmload --view $R/gpt/view --view-release-fd 3 --disk-fd 4:$G --ro gpt <>console-server" \
	"$("$HOTPLUG" "${OPTS[@]}" --dry-run add "${G}p2" 2>&1 | sed -n 1,6p)"
"$HOTPLUG" "${OPTS[@]}" add "${G}p2" 2>sup.log
check "GPT partition: add runs the guest" 0 "$?"
check "GPT partition: kvmload's disk is the whole disk" "--disk-fd 4:$G" \
	"$(grep -x -A1 -- --disk-fd kvmload.args | paste -sd' ')"
"$HOTPLUG" "${OPTS[@]}" remove "${G}p2" 2>/dev/null
check "GPT partition: nothing left" "" "$(ls -A "$R")"

# zpool and zpool-guid need a zfs_member: a UFS whose label is a pool's name is not it.
truncate -s 1M ufs.img
U=$(loop_attach ufs.img) || exit 1
IFS=: read -r ma mi <"/sys/class/block/$(basename "$U")/dev"
printf 'I:1\nE:ID_FS_TYPE=ufs\nE:ID_FS_LABEL=zm\nE:ID_FS_UUID=%s\n' "$ZG" >"/run/udev/data/b$ma:$mi"
check "a UFS labelled like a pool matches no zpool vm" "kvmload-hotplug: $U: no vm names this disk; ignored" \
	"$("$HOTPLUG" "${OPTS[@]}" -v --dry-run add "$U" 2>&1)"
lib_done
