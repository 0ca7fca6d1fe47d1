#!/bin/bash
# config.sh: kvmload-hotplug --check: every configuration error as "file:line: message" (golden
# text), exit 78 (EX_CONFIG); a good configuration passes; add refuses to act on a bad one;
# --dry-run add shows the guest settings in kvmload's argv (as root, with a loop device).
# usage: config.sh KVMLOAD-HOTPLUG
. "$(dirname "$0")/lib.sh"
HOTPLUG=$(realpath "$1")
cd "$WORK" || exit 1

# run DIR [ARGS...]: --check on DIR; output and status in $out and $st
run() {
	local dir=$1; shift
	out=$("$HOTPLUG" --config-dir "$dir" "$@" --check 2>&1)
	st=$?
}

mkdir good
cat >good/10-usb.conf <<'CONF'
# a USB disk: its GPT disk GUID and the drive's serial
[vm usb1]
disk-uuid = 9B20A89E-E68F-49B2-8131-5838DD29E39F
serial = SanDisk_Ultra_4C530001230512116372
memory = 1G
env = autoboot_delay=3
env = boot_verbose=YES
restart = yes
cpus = 2
net = user

; an iSCSI LUN, found by its UFS volume name
[vm lun7]
fs-label = lun7root
memory = 512M
console = /dev/ttyS1
loader-dir = /usr/local/lib/kvmload
boot-part = disk0p2
restart = no
cpus = 255
net = tap:vm_lun7.0-abcd
accel = tcg
ro = yes
CONF
cat >good/20-more.conf <<'CONF'
[vm web]
part-uuid = 809fc9a0-2d74-4e75-bd75-1360d5d6c0c9
fs-uuid = 6b0389406b8b4567
cpus = 1
net = none
accel = kvm
ro = off
CONF
: >good/ignored.txt
run good
check "good: status" 0 "$st"
check "good: summary" "good: 3 vms, no errors" "$out"

mkdir bad
cat >bad/a.conf <<'CONF'
[vm demo]
part-uuid = 809fc9a0-2d74-4e75-bd75-1360d5d6c0c9
memroy = 128M
memory = 12Q

[vm small]
serial = s1
memory = 1K

[vm empty]
memory = 64M

[global]
memory = 1G
CONF
cat >bad/b.conf <<'CONF'
top = 1
[vm demo]
fs-label = other
[vm ok]
serial = s2
memory = 64M
memory = 128M
restart = maybe
env = novalue
[vm bad/name]
this line has no equals sign
CONF
run bad
check "bad: status (EX_CONFIG)" 78 "$st"
check "bad: messages" "bad/a.conf:3: unknown key 'memroy' in [vm demo]
bad/a.conf:4: memory '12Q': invalid memory size (a number with an optional K, M, G or T suffix)
bad/a.conf:8: memory '1K': at least 2 MiB
bad/a.conf:13: unknown section [global] (expected [vm NAME])
bad/b.conf:1: key 'top' outside a [vm NAME] section
bad/b.conf:2: duplicate vm name 'demo' (first defined at bad/a.conf:1)
bad/b.conf:7: 'memory' given twice in [vm ok]
bad/b.conf:8: restart 'maybe': expected yes or no
bad/b.conf:9: env 'novalue': expected NAME=VALUE
bad/b.conf:10: vm name 'bad/name': use 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -
bad/b.conf:11: syntax error (expected [vm NAME], NAME = VALUE or a comment)
bad/a.conf:10: [vm empty] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid or serial)
kvmload-hotplug: bad: 12 errors" "$out"

# The guest settings kvmload runs the guest with: each bad value on its line, once.
mkdir guest
cat >guest/x.conf <<'CONF'
[vm c0]
serial = c0
cpus = 0
[vm c256]
serial = c256
cpus = 256
[vm cx]
serial = cx
cpus = x
net = tap:
accel = xen
ro = maybe
[vm n1]
serial = n1
net = tap:a/b
cpus = 2
cpus = 3
[vm n2]
serial = n2
net = bridge
ro = yes
ro = no
CONF
run guest
check "guest settings: status (EX_CONFIG)" 78 "$st"
check "guest settings: messages" "guest/x.conf:3: cpus '0': expected a number of vCPUs from 1 to 255
guest/x.conf:6: cpus '256': expected a number of vCPUs from 1 to 255
guest/x.conf:9: cpus 'x': expected a number of vCPUs from 1 to 255
guest/x.conf:10: net 'tap:': tap interface name: use 1-15 of A-Z a-z 0-9 _ . -
guest/x.conf:11: accel 'xen': expected kvm or tcg
guest/x.conf:12: ro 'maybe': expected yes or no
guest/x.conf:15: net 'tap:a/b': tap interface name: use 1-15 of A-Z a-z 0-9 _ . -
guest/x.conf:17: 'cpus' given twice in [vm n1]
guest/x.conf:20: net 'bridge': expected none, user or tap:IFNAME
guest/x.conf:22: 'ro' given twice in [vm n2]
kvmload-hotplug: guest: 10 errors" "$out"
mkdir ifname
printf '[vm a]\nserial = a\nnet = tap:0123456789abcdef\n' >ifname/x.conf
run ifname
check "tap name of 16: status" 78 "$st"
check "tap name of 16: message" "ifname/x.conf:3: net 'tap:0123456789abcdef': tap interface name: use 1-15 of A-Z a-z 0-9 _ . -
kvmload-hotplug: ifname: 1 error" "$out"

mkdir same
printf '[vm a]\nfs-label = root\n[vm b]\nfs-label = root\n' >same/x.conf
run same
check "same identity: status" 78 "$st"
check "same identity: message" "same/x.conf:3: [vm b] names the same disk identity as [vm a] (same/x.conf:1)
kvmload-hotplug: same: 1 error" "$out"

mkdir long
{ echo '[vm a]'; printf 'fs-label = %0300d\n' 0; } >long/x.conf
run long
check "over-long line" "long/x.conf:2: line too long (at most 197 bytes)
long/x.conf:1: [vm a] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid or serial)
kvmload-hotplug: long: 2 errors" "$out"

run missing
check "missing directory: status" 78 "$st"
check "missing directory: message" "kvmload-hotplug: missing: No such file or directory" "$out"

# add acts on no configuration with errors, whatever the device.
out=$("$HOTPLUG" --config-dir bad add /dev/null 2>&1)
check "add with a bad configuration: status" 78 "$?"
check "add with a bad configuration: last line" \
	"kvmload-hotplug: bad: 12 errors in the configuration; nothing done (see --check)" \
	"$(echo "$out" | tail -n 1)"

out=$("$HOTPLUG" --check add /dev/sda 2>&1)
check "usage error" 64 "$?"

# --dry-run add needs a block device udev has a record of: a loop device, and a hand-made udev
# database entry for it in a private mount namespace whose /run is a tmpfs, so neither the
# host's udev database nor its /run sees anything.
# dry_run CONF-DIR LABEL DEV: --dry-run add DEV, its udev record carrying ID_FS_LABEL=LABEL.
dry_run() {
	unshare -m --propagation private /bin/sh -s "$HOTPLUG" "$@" <<'SH'
set -e
hotplug=$1 conf=$2 label=$3 dev=$4
mount -t tmpfs kvmload-test /run
mkdir -p /run/udev/data
IFS=: read -r ma mi <"/sys/class/block/$(basename "$dev")/dev"
printf 'I:1\nE:ID_FS_TYPE=ufs\nE:ID_FS_LABEL=%s\n' "$label" >"/run/udev/data/b$ma:$mi"
exec "$hotplug" --config-dir "$conf" --run-dir "$PWD/run" --kvmload /k --kvmload-fs /kfs \
	--dry-run add "$dev"
SH
}
if [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null && command -v unshare >/dev/null; then
	truncate -s 1M disk.img
	if D=$(loop_attach disk.img); then
		check "dry-run: lun7's settings in kvmload's argv" "vm lun7: $D matches (good/10-usb.conf:13)
mkdir $PWD/run/lun7/view
/kfs -f --disk $D --ready-fd 3 $PWD/run/lun7/view
/k --view $PWD/run/lun7/view --view-release-fd 3 -d $D -m 512M -c /dev/ttyS1 --loader-dir /usr/local/lib/kvmload --boot-part disk0p2 --cpus 255 --net tap:vm_lun7.0-abcd --accel tcg --ro lun7
on 'R' from fd 3: stop kvmload-fs, umount $PWD/run/lun7/view, answer 'K'
on exit: stop" "$(dry_run good lun7root "$D" 2>&1)"
		mkdir plain
		printf '[vm p]\nfs-label = plain\nro = no\n' >plain/x.conf
		check "dry-run: no guest settings, none passed (ro = no passes nothing)" \
			"/k --view $PWD/run/p/view --view-release-fd 3 -d $D p >>$PWD/run/p/console.log" \
			"$(dry_run plain plain "$D" 2>&1 | sed -n 4p)"
		check "dry-run: nothing created" "" "$(ls run 2>/dev/null)"
		loop_detach "$D"
	else
		fail "losetup on disk.img"
	fi
else
	echo "SKIP (part): --dry-run argv needs root, losetup and unshare"
fi
finish
