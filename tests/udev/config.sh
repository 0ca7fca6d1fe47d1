#!/bin/bash
# config.sh: kvmload-hotplug --check: every configuration error as "file:line: message" (golden
# text), exit 78 (EX_CONFIG); a good configuration passes; add refuses to act on a bad one;
# --dry-run add shows the guest settings in kvmload's argv (as root, with a loop device).
# usage: config.sh KVMLOAD-HOTPLUG
. "$(dirname "$0")/lib.sh"
HOTPLUG=$(realpath "$1")
# kvmload-fs of the same build, for the view's mount options (skipped where it is not)
KVMLOAD_FS=$(dirname "$HOTPLUG")/../../fusefs/kvmload-fs
cd "$WORK" || exit 1

# run DIR [ARGS...]: --check on DIR; output and status in $out and $st
run() {
	local dir=$1; shift
	out=$("$HOTPLUG" --config-dir "$dir" "$@" --check 2>&1)
	st=$?
}

# What --check asks of the host for a console = and a loader-dir =: a terminal (a pty of ours,
# held open by a process of ours while the test runs) and a directory.
PTY_PID= PTY=
coproc PTYC { python3 -c 'import os, sys, time; m, s = os.openpty(); print(os.ttyname(s), flush=True); sys.stdin.read()'; }
PTY_PID=$PTYC_PID
read -r PTY <&"${PTYC[0]}"
on_exit 'kill $PTY_PID 2>/dev/null'
mkdir -p "$WORK/ldir"
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
console = @PTY@
loader-dir = @LDIR@
boot-part = disk0p2
restart = no
cpus = 255
net = tap:vm_lun7.0-abcd
accel = tcg
ro = yes
user = kvmload
mac = 52:54:00:aa:bb:cc
loader-timeout = 86400
CONF
sed -i -e "s|@PTY@|$PTY|" -e "s|@LDIR@|$WORK/ldir|" good/10-usb.conf
cat >good/20-more.conf <<'CONF'
[vm web]
part-uuid = 809fc9a0-2d74-4e75-bd75-1360d5d6c0c9
fs-uuid = 6b0389406b8b4567
cpus = 1
net = none
accel = kvm
ro = off
CONF
# Every identity in each form udev prints it (kvmload.conf(5)), and the edges of memory =.
cat >good/30-forms.conf <<'CONF'
# MBR: the disk signature, and a slice's signature-number, as blkid prints them
[vm mbr]
disk-uuid = 1234abcd
part-uuid = 1234ABCD-05
memory = 2M
# the longest UFS volume name, 32 bytes; a serial with a space, as virtio's may have
[vm label32]
fs-label = abcdefghijklmnopqrstuvwxyz012345
serial = QEMU HARDDISK-0:1#+.=@_$%?,
memory = 64T
[vm fsid]
fs-uuid = 6B0389406B8B4567
memory = 2097152
[vm hex]
serial = hex
memory = 4g
loader-timeout = 1
CONF
# ZFS pools: the name, the GUID as zpool get guid and blkid print it (decimal) or in hex, the
# number of the pool's devices and how long to wait for them.
cat >good/40-zfs.conf <<'CONF'
[vm zroot]
zpool = zroot
[vm mirror]
zpool = tank:backup.2-x_y
zpool-guid = 9781390112312015140
zpool-members = 32
zpool-wait = 3600
[vm hexguid]
zpool-guid = 0x87BE7A7BADE03925
zpool-members = 1
zpool-wait = 1
[vm maxguid]
zpool-guid = 18446744073709551615
CONF
: >good/ignored.txt
run good
check "good: status" 0 "$st"
check "good: summary" "good: 11 vms, no errors" "$out"

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
bad/a.conf:8: memory '1K': too small (at least 2M)
bad/a.conf:13: unknown section [global] (expected [vm NAME])
bad/b.conf:1: key 'top' outside a [vm NAME] section
bad/b.conf:2: duplicate vm name 'demo' (first defined at bad/a.conf:1)
bad/b.conf:7: 'memory' given twice in [vm ok]
bad/b.conf:8: restart 'maybe': expected yes or no
bad/b.conf:9: env 'novalue': expected NAME=VALUE
bad/b.conf:10: vm name 'bad/name': use 1-64 of A-Z a-z 0-9 . _ -, not starting with . or -
bad/b.conf:11: syntax error (expected [vm NAME], NAME = VALUE or a comment)
bad/a.conf:10: [vm empty] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
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
guest/x.conf:10: net 'tap:': expected none, user or tap:IFNAME (1-15 of A-Z a-z 0-9 _ . -)
guest/x.conf:11: accel 'xen': expected kvm or tcg
guest/x.conf:12: ro 'maybe': expected yes or no
guest/x.conf:15: net 'tap:a/b': expected none, user or tap:IFNAME (1-15 of A-Z a-z 0-9 _ . -)
guest/x.conf:17: 'cpus' given twice in [vm n1]
guest/x.conf:20: net 'bridge': expected none, user or tap:IFNAME (1-15 of A-Z a-z 0-9 _ . -)
guest/x.conf:22: 'ro' given twice in [vm n2]
kvmload-hotplug: guest: 10 errors" "$out"
# console = and loader-dir =: what kvmload would refuse on this host (a console that is no
# terminal, a plugin directory that is not there) is an error of --check too.
mkdir hostc
printf '[vm h1]\nserial = h1\nconsole = /dev/null\n[vm h2]\nserial = h2\nloader-dir = %s\n' "$WORK/gone" >hostc/x.conf
run hostc
check "console =, loader-dir =: status (EX_CONFIG)" 78 "$st"
check "console =, loader-dir =: messages" "hostc/x.conf:1: [vm h1]: console /dev/null: not a terminal
hostc/x.conf:4: [vm h2]: loader-dir $WORK/gone: No such file or directory
kvmload-hotplug: hostc: 2 errors" "$out"
# mac =: its form on its line, and only with a network, as kvmload takes --mac.
mkdir macs
printf '[vm m1]\nserial = m1\nnet = user\nmac = 01:00:5e:00:00:01\n[vm m2]\nserial = m2\nmac = 52:54:00:00:00:02\n[vm m3]\nserial = m3\nnet = user\nmac = 52:54:00:0:0:3\n' >macs/x.conf
run macs
check "mac =: status (EX_CONFIG)" 78 "$st"
check "mac =: messages" "macs/x.conf:4: mac '01:00:5e:00:00:01': expected a unicast MAC address, six hex bytes with colons (52:54:00:ab:cd:ef)
macs/x.conf:11: mac '52:54:00:0:0:3': expected a unicast MAC address, six hex bytes with colons (52:54:00:ab:cd:ef)
macs/x.conf:5: mac 52:54:00:00:00:02 in [vm m2], which has no network (net = user or tap:IFNAME)
kvmload-hotplug: macs: 3 errors" "$out"
# loader-timeout =: kvmload --loader-timeout's rule and words (vmopt.h), once per VM.
mkdir lt
printf '[vm t1]\nserial = t1\nloader-timeout = 0\n[vm t2]\nserial = t2\nloader-timeout = 86401\n[vm t3]\nserial = t3\nloader-timeout = abc\n[vm t4]\nserial = t4\nloader-timeout = -1\n[vm t5]\nserial = t5\nloader-timeout = 30s\n[vm t6]\nserial = t6\nloader-timeout = 60\nloader-timeout = 90\n' >lt/x.conf
run lt
check "loader-timeout =: status (EX_CONFIG)" 78 "$st"
check "loader-timeout =: messages" "lt/x.conf:3: loader-timeout '0': expected a whole number of seconds from 1 to 86400
lt/x.conf:6: loader-timeout '86401': expected a whole number of seconds from 1 to 86400
lt/x.conf:9: loader-timeout 'abc': expected a whole number of seconds from 1 to 86400
lt/x.conf:12: loader-timeout '-1': expected a whole number of seconds from 1 to 86400
lt/x.conf:15: loader-timeout '30s': expected a whole number of seconds from 1 to 86400
lt/x.conf:19: 'loader-timeout' given twice in [vm t6]
kvmload-hotplug: lt: 6 errors" "$out"
# user =: its form on its line; as root, --check also asks the host, as kvmload would.
mkdir users
printf '[vm u1]\nserial = u1\nuser = -x\n[vm u2]\nserial = u2\nuser = nosuch-kvl%s\n[vm u3]\nserial = u3\nuser = root\n' \
	"$$" >users/x.conf
run users
check "user =: status (EX_CONFIG)" 78 "$st"
if [ "$(id -u)" -eq 0 ]; then
	check "user =: messages" "users/x.conf:3: user '-x': expected a user name: 1-32 of A-Z a-z 0-9 . _ -, not starting with -
users/x.conf:4: [vm u2]: user nosuch-kvl$$ does not exist; create it (./setup.sh, or systemd-sysusers with kvmload's sysusers.d file) or name another with --user
users/x.conf:7: [vm u3]: user root has uid 0, gid 0: guest bytes are never handled as root; name an unprivileged user
kvmload-hotplug: users: 3 errors" "$out"
else
	skip_part "user =: whether the host has the user is asked as root"
fi
# Identity values that could never match a device: each names the format udev prints.
mkdir ids
{
	printf '[vm d1]\nserial = d1\ndisk-uuid = not-a-uuid\n'
	printf '[vm d2]\nserial = d2\ndisk-uuid = 1234abc\n'
	printf '[vm d3]\nserial = d3\ndisk-uuid = 9B20A89E-E68F-49B2-8131-5838DD29E39\n'
	printf '[vm d4]\nserial = d4\ndisk-uuid = 9B20A89E_E68F-49B2-8131-5838DD29E39F\n'
	printf '[vm p1]\nserial = p1\npart-uuid = 1234abcd\n'
	printf '[vm p2]\nserial = p2\npart-uuid = 1234abcd-1\n'
	printf '[vm p3]\nserial = p3\npart-uuid = 809fc9a0-2d74-4e75-bd75-1360d5d6c0cg\n'
	printf '[vm f1]\nserial = f1\nfs-uuid = zz\n'
	printf '[vm f2]\nserial = f2\nfs-uuid = 6b0389406b8b456\n'
	printf '[vm f3]\nserial = f3\nfs-uuid = 809fc9a0-2d74-4e75-bd75-1360d5d6c0c9\n'
	printf '[vm l1]\nserial = l1\nfs-label = abcdefghijklmnopqrstuvwxyz0123456\n'
	printf '[vm l2]\nserial = l2\nfs-label = boot/root\n'
	printf '[vm l3]\nserial = l3\nfs-label = my root\n'
	printf '[vm s1]\nfs-label = s1\nserial = bell\a\n'
} >ids/x.conf
run ids
check "identities: status (EX_CONFIG)" 78 "$st"
GUID=XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX
check "identities: messages" "ids/x.conf:3: disk-uuid 'not-a-uuid': expected a GPT disk GUID ($GUID) or an MBR disk signature (8 hex digits)
ids/x.conf:6: disk-uuid '1234abc': expected a GPT disk GUID ($GUID) or an MBR disk signature (8 hex digits)
ids/x.conf:9: disk-uuid '9B20A89E-E68F-49B2-8131-5838DD29E39': expected a GPT disk GUID ($GUID) or an MBR disk signature (8 hex digits)
ids/x.conf:12: disk-uuid '9B20A89E_E68F-49B2-8131-5838DD29E39F': expected a GPT disk GUID ($GUID) or an MBR disk signature (8 hex digits)
ids/x.conf:15: part-uuid '1234abcd': expected a GPT partition GUID ($GUID) or an MBR slice's XXXXXXXX-NN (signature-number, in hex)
ids/x.conf:18: part-uuid '1234abcd-1': expected a GPT partition GUID ($GUID) or an MBR slice's XXXXXXXX-NN (signature-number, in hex)
ids/x.conf:21: part-uuid '809fc9a0-2d74-4e75-bd75-1360d5d6c0cg': expected a GPT partition GUID ($GUID) or an MBR slice's XXXXXXXX-NN (signature-number, in hex)
ids/x.conf:24: fs-uuid 'zz': expected a UFS file system id (16 hex digits)
ids/x.conf:27: fs-uuid '6b0389406b8b456': expected a UFS file system id (16 hex digits)
ids/x.conf:30: fs-uuid '809fc9a0-2d74-4e75-bd75-1360d5d6c0c9': expected a UFS file system id (16 hex digits)
ids/x.conf:33: fs-label 'abcdefghijklmnopqrstuvwxyz0123456': expected a UFS volume name: 1 to 32 bytes, printable, no '/' or whitespace (udev shows whitespace as '_')
ids/x.conf:36: fs-label 'boot/root': expected a UFS volume name: 1 to 32 bytes, printable, no '/' or whitespace (udev shows whitespace as '_')
ids/x.conf:39: fs-label 'my root': expected a UFS volume name: 1 to 32 bytes, printable, no '/' or whitespace (udev shows whitespace as '_')
ids/x.conf:42: serial 'bell"$'\a'"': expected printable characters (udev prints no control characters)
kvmload-hotplug: ids: 14 errors" "$out"

# memory = takes exactly what kvmload -m takes, with kvmload's words (tests/kvm/cli.sh).
mkdir mem
for m in 1E 1P 128MB 65T 18446744073709551615 1K 2097153 64T; do
	printf '[vm m%s]\nserial = m%s\nmemory = %s\n' "$m" "$m" "$m"
done >mem/x.conf
run mem
check "memory: status (EX_CONFIG)" 78 "$st"
SUFFIX="invalid memory size (a number with an optional K, M, G or T suffix)"
check "memory: messages" "mem/x.conf:3: memory '1E': $SUFFIX
mem/x.conf:6: memory '1P': $SUFFIX
mem/x.conf:9: memory '128MB': $SUFFIX
mem/x.conf:12: memory '65T': too large (kvmload maps at most 64T)
mem/x.conf:15: memory '18446744073709551615': too large (kvmload maps at most 64T)
mem/x.conf:18: memory '1K': too small (at least 2M)
mem/x.conf:21: memory '2097153': not a whole number of 4 KiB pages
kvmload-hotplug: mem: 7 errors" "$out"

mkdir ifname
printf '[vm a]\nserial = a\nnet = tap:0123456789abcdef\n' >ifname/x.conf
run ifname
check "tap name of 16: status" 78 "$st"
check "tap name of 16: message" "ifname/x.conf:3: net 'tap:0123456789abcdef': expected none, user or tap:IFNAME (1-15 of A-Z a-z 0-9 _ . -)
kvmload-hotplug: ifname: 1 error" "$out"

mkdir same
printf '[vm a]\nfs-label = root\n[vm b]\nfs-label = root\n' >same/x.conf
# A pool GUID is a number: leading zeros and hex name the same pool.
printf '[vm z1]\nzpool-guid = 9781390112312015140\n[vm z2]\nzpool-guid = 0x87be7a7bade03924\n' >>same/x.conf
printf '[vm z3]\nzpool-guid = 09781390112312015140\n' >>same/x.conf
# A pool name and a UFS label are different identities, though both are ID_FS_LABEL.
printf '[vm z4]\nzpool = root\n' >>same/x.conf
run same
check "same identity: status" 78 "$st"
check "same identity: message" "same/x.conf:3: [vm b] names the same disk identity as [vm a] (same/x.conf:1)
same/x.conf:7: [vm z2] names the same disk identity as [vm z1] (same/x.conf:5)
same/x.conf:9: [vm z3] names the same disk identity as [vm z1] (same/x.conf:5)
same/x.conf:9: [vm z3] names the same disk identity as [vm z2] (same/x.conf:7)
kvmload-hotplug: same: 4 errors" "$out"

# ZFS keys: each bad value names the form, on its line; the pool keys need a pool.
mkdir zfs
cat >zfs/x.conf <<'CONF'
[vm n1]
zpool = 1tank
[vm n2]
zpool = my pool
[vm n3]
zpool = tank/root
[vm n4]
zpool = tank%
[vm g1]
zpool-guid = 0
[vm g2]
zpool-guid = 18446744073709551616
[vm g3]
zpool-guid = -1
[vm g4]
zpool-guid = 0x
[vm g5]
zpool-guid = 87be7a7bade03924
[vm g6]
zpool-guid = 0x10000000000000000
[vm g7]
zpool-guid = 809fc9a0-2d74-4e75-bd75-1360d5d6c0c9
[vm m1]
zpool = m1
zpool-members = 0
zpool-wait = 0
[vm m2]
zpool = m2
zpool-members = 33
zpool-wait = 3601
[vm m3]
zpool = m3
zpool-members = two
zpool-wait = 1s
zpool-members = 2
[vm nopool]
fs-label = nopool
memory = 64M
zpool-wait = 10
zpool-members = 2
[vm nopool2]
serial = nopool2
zpool-members = 1
CONF
run zfs
check "zfs keys: status (EX_CONFIG)" 78 "$st"
NAME="expected a ZFS pool name: a letter, then letters, digits, _ - . or : (udev shows whitespace as '_')"
GUID="expected a ZFS pool GUID, as zpool get guid and blkid print it: a decimal number from 1 to 18446744073709551615 (or 0x and hex digits)"
MEMBERS="expected the number of the pool's devices, 1 to 32 (kvmload takes 32 disks)"
check "zfs keys: messages" "zfs/x.conf:2: zpool '1tank': $NAME
zfs/x.conf:4: zpool 'my pool': $NAME
zfs/x.conf:6: zpool 'tank/root': $NAME
zfs/x.conf:8: zpool 'tank%': $NAME
zfs/x.conf:10: zpool-guid '0': $GUID
zfs/x.conf:12: zpool-guid '18446744073709551616': $GUID
zfs/x.conf:14: zpool-guid '-1': $GUID
zfs/x.conf:16: zpool-guid '0x': $GUID
zfs/x.conf:18: zpool-guid '87be7a7bade03924': $GUID
zfs/x.conf:20: zpool-guid '0x10000000000000000': $GUID
zfs/x.conf:22: zpool-guid '809fc9a0-2d74-4e75-bd75-1360d5d6c0c9': $GUID
zfs/x.conf:25: zpool-members '0': $MEMBERS
zfs/x.conf:26: zpool-wait '0': expected 1 to 3600 seconds
zfs/x.conf:29: zpool-members '33': $MEMBERS
zfs/x.conf:30: zpool-wait '3601': expected 1 to 3600 seconds
zfs/x.conf:33: zpool-members 'two': $MEMBERS
zfs/x.conf:34: zpool-wait '1s': expected 1 to 3600 seconds
zfs/x.conf:35: 'zpool-members' given twice in [vm m3]
zfs/x.conf:1: [vm n1] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:3: [vm n2] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:5: [vm n3] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:7: [vm n4] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:9: [vm g1] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:11: [vm g2] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:13: [vm g3] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:15: [vm g4] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:17: [vm g5] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:19: [vm g6] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:21: [vm g7] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
zfs/x.conf:39: 'zpool-wait' in [vm nopool], which names no pool (zpool or zpool-guid)
zfs/x.conf:43: 'zpool-members' in [vm nopool2], which names no pool (zpool or zpool-guid)
kvmload-hotplug: zfs: 31 errors" "$out"

mkdir long
{ echo '[vm a]'; printf 'fs-label = %0300d\n' 0; } >long/x.conf
run long
check "over-long line" "long/x.conf:2: line too long (at most 197 bytes)
long/x.conf:1: [vm a] names no disk identity (disk-uuid, part-uuid, fs-label, fs-uuid, serial, zpool or zpool-guid)
kvmload-hotplug: long: 2 errors" "$out"

# format = names an image format kvmload takes; disk = is an absolute path, repeatable, at most
# 31 of them (kvmload takes 32 disks, the device's first).
mkdir fmt
{
	printf '[vm f1]\nserial = f1\nformat = nosuch\n'
	printf '[vm f2]\nserial = f2\nformat = QCOW2\nformat = qcow2\n'
	printf '[vm f3]\nserial = f3\nformat = auto\ndisk = extra.img\n'
	printf '[vm f4]\nserial = f4\n'
	for i in $(seq 32); do printf 'disk = /nonexistent/%d\n' "$i"; done
} >fmt/x.conf
run fmt
check "format and disk keys: status (EX_CONFIG)" 78 "$st"
FORMATS="expected an image format kvmload takes (raw, qcow2, qcow, qed, vmdk, vpc, vhdx, vdi, parallels, bochs, cloop, dmg, or auto)"
check "format and disk keys: messages" "fmt/x.conf:7: 'format' given twice in [vm f2]
fmt/x.conf:11: disk 'extra.img': expected an absolute path
fmt/x.conf:45: disk '/nonexistent/32': more than 31 disk lines in [vm f4] (kvmload takes 32 disks, the device's first)
fmt/x.conf:3: format 'nosuch': $FORMATS
fmt/x.conf:6: format 'QCOW2': $FORMATS
$(for i in $(seq 31); do echo "fmt/x.conf:$((i + 13)): disk '/nonexistent/$i' in [vm f4]: No such file or directory"; done)
kvmload-hotplug: fmt: 36 errors" "$out"

# --check opens every disk = as kvmload would (disk_open): what kvmload refuses is an error
# on the disk's line, with disk_open's reason.
mkfifo "$WORK/fifo"
mkdir "$WORK/dir"
printf '# Disk DescriptorFile\nversion=1\n' >"$WORK/desc.vmdk"
truncate -s 4M "$WORK/extra.img"
mkdir disks
cat >disks/x.conf <<CONF
[vm fifo]
serial = fifo
disk = $WORK/extra.img
disk = $WORK/fifo
[vm others]
serial = others
disk = $WORK/missing.img
disk = $WORK/dir
disk = /dev/null
disk = $WORK/desc.vmdk
[vm raw]
serial = raw
format = raw
disk = $WORK/extra.img
disk = $WORK/desc.vmdk
CONF
run disks
check "refused disks: status (EX_CONFIG)" 78 "$st"
check "refused disks: messages" "disks/x.conf:4: disk '$WORK/fifo' in [vm fifo]: a FIFO, not a regular file or block device
disks/x.conf:7: disk '$WORK/missing.img' in [vm others]: No such file or directory
disks/x.conf:8: disk '$WORK/dir' in [vm others]: a directory, not a regular file or block device
disks/x.conf:9: disk '/dev/null' in [vm others]: a character device, not a regular file or block device
disks/x.conf:10: disk '$WORK/desc.vmdk' in [vm others]: a VMDK descriptor file, whose extents are other files: give the extent itself (a -flat.vmdk is raw) or convert it with qemu-img convert -O qcow2
kvmload-hotplug: disks: 5 errors" "$out"

# A qcow2 image is accepted (served by qemu-storage-daemon while it is open, stopped again);
# the same image forced to be raw is too, and a raw one forced to be qcow2 is not.
if command -v qemu-img >/dev/null && command -v qemu-storage-daemon >/dev/null && [ -c /dev/fuse ]; then
	export KVMLOAD_CONFIG_TEST=$WORK
	make_gpt "$WORK/gpt.img" a503
	qemu-img convert -O qcow2 "$WORK/gpt.img" "$WORK/extra.qcow2"
	mkdir qcow
	printf '[vm q]\nserial = q\ndisk = %s\n' "$WORK/extra.qcow2" >qcow/x.conf
	printf '[vm r]\nserial = r\nformat = raw\ndisk = %s\n' "$WORK/extra.qcow2" >>qcow/x.conf
	run qcow
	check "qcow2 disk: status" 0 "$st"
	check "qcow2 disk: summary" "qcow: 2 vms, no errors" "$out"
	check "qcow2 disk: no qemu-storage-daemon left" "" "$(marked qemu-storage-da KVMLOAD_CONFIG_TEST)"
	mkdir forced
	printf '[vm w]\nserial = w\nformat = qcow2\ndisk = %s\n' "$WORK/gpt.img" >forced/x.conf
	run forced
	check "raw image as qcow2: status" 78 "$st"
	match "raw image as qcow2: message" "forced/x.conf:4: disk '$WORK/gpt.img' in \[vm w\]: *qcow2*
kvmload-hotplug: forced: 1 error" "$out"
else
	skip_part "a qcow2 disk needs qemu-img, qemu-storage-daemon and /dev/fuse"
fi

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
# dry_run CONF-DIR LABEL DEV: --dry-run add DEV, its udev record carrying ID_FS_LABEL=LABEL;
# kvmload-fs is $KFS.
dry_run() {
	unshare -m --propagation private /bin/sh -s "$HOTPLUG" "$KFS" "$@" <<'SH'
set -e
hotplug=$1 kfs=$2 conf=$3 label=$4 dev=$5
mount -t tmpfs kvmload-test /run
mkdir -p /run/udev/data
IFS=: read -r ma mi <"/sys/class/block/$(basename "$dev")/dev"
printf 'I:1\nE:ID_FS_TYPE=ufs\nE:ID_FS_LABEL=%s\n' "$label" >"/run/udev/data/b$ma:$mi"
exec "$hotplug" --config-dir "$conf" --run-dir "$PWD/run" --kvmload /k --kvmload-fs "$kfs" \
	--dry-run add "$dev"
SH
}
KFS=/kfs
if [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null && command -v unshare >/dev/null; then
	truncate -s 1M disk.img
	if D=$(loop_attach disk.img); then
		check "dry-run: lun7's settings in kvmload's argv" "vm lun7: $D matches (good/10-usb.conf:13)
console server: $PWD/run/lun7/console.sock, log $PWD/run/lun7/console.log, terminal $PTY
mkdir $PWD/run/lun7/view
/kfs -f --user kvmload --ready-fd 3 --disk-fd 4:$D $PWD/run/lun7/view
/k --view $PWD/run/lun7/view --view-release-fd 3 --disk-fd 4:$D -m 512M --loader-dir $WORK/ldir --boot-part disk0p2 --cpus 255 --net tap:vm_lun7.0-abcd --accel tcg --ro --user kvmload --mac 52:54:00:aa:bb:cc --loader-timeout 86400 lun7 <>console-server
on 'R' from fd 3: stop kvmload-fs, umount $PWD/run/lun7/view, answer 'K'
on exit: stop" "$(dry_run good lun7root "$D" 2>&1)"
		mkdir plain
		printf '[vm p]\nfs-label = plain\nro = no\n' >plain/x.conf
		check "dry-run: no guest settings, none passed (ro = no passes nothing)" \
			"/k --view $PWD/run/p/view --view-release-fd 3 --disk-fd 4:$D p <>console-server" \
			"$(dry_run plain plain "$D" 2>&1 | sed -n 5p)"
		check "dry-run: nothing created" "" "$(ls run 2>/dev/null)"
		# format = goes to both, before the disks; disk = lines follow the device's disk.
		mkdir xd
		printf '[vm x]\nfs-label = xd\nformat = raw\ndisk = %s\n' "$WORK/extra.img" >xd/x.conf
		check "dry-run: format = and disk = in the view's and kvmload's argv" \
			"/kfs -f --ready-fd 3 --format raw --disk-fd 4:$D --disk-fd 5:$WORK/extra.img $PWD/run/x/view
/k --view $PWD/run/x/view --view-release-fd 3 --format raw --disk-fd 4:$D --disk-fd 5:$WORK/extra.img x <>console-server" \
			"$(dry_run xd xd "$D" 2>&1 | sed -n 4,5p)"
		# A disk kvmload would refuse: add says so and starts nothing.
		mkdir xf
		printf '[vm y]\nfs-label = xf\ndisk = %s\n' "$WORK/fifo" >xf/x.conf
		check "dry-run: a FIFO as disk = is refused" "vm y: $D matches (xf/x.conf:1)
vm y: disk $WORK/fifo (xf/x.conf:3): a FIFO, not a regular file or block device; not starting" \
			"$(dry_run xf xf "$D" 2>&1)"
		check "dry-run: still nothing created" "" "$(ls run 2>/dev/null)"
		# The view mounted as that command line mounts it (on a directory of ours): noexec
		# as well as libfuse's nosuid,nodev.  hotplug.sh mounts real views but is slow.
		if [ -x "$KVMLOAD_FS" ] && [ -c /dev/fuse ]; then
			read -ra fs <<<"$(KFS=$(realpath "$KVMLOAD_FS") dry_run good lun7root "$D" 2>&1 |
				sed -n 4p)"
			mkdir view
			fs[${#fs[@]}-1]=$PWD/view
			"${fs[@]}" 3>/dev/null 4<"$D" &
			fspid=$!
			on_exit "kill $fspid 2>/dev/null; wait $fspid; umount -l $PWD/view 2>/dev/null"
			opts=
			for _ in $(seq 50); do
				opts=$(awk -v m="$PWD/view" '$2 == m { print $4 }' /proc/mounts)
				[ -n "$opts" ] && break
				sleep 0.1
			done
			for o in ro nosuid nodev noexec; do
				case ",$opts," in
				*",$o,"*) ok ;;
				*) bad "view mount options '$opts': no $o" ;;
				esac
			done
			kill "$fspid"
			wait "$fspid"
		else
			skip_part "the view's mount options need $KVMLOAD_FS and /dev/fuse"
		fi
		loop_detach "$D"
	else
		bad "losetup on disk.img"
	fi
else
	skip_part "--dry-run argv needs root, losetup and unshare"
fi
lib_done
