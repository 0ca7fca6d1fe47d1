#!/bin/bash
# unprivileged.sh: kvmload started by a user without privilege (nobody): nothing to drop, the same
# confinement.  While the loader runs, its view's server and a qcow2 disk's jailed exporter run as
# that user; while the guest runs, so does QEMU; and --user, which only root may give, is refused.
# usage: unprivileged.sh KVMLOAD DEMO-IMG TP-DELAY.SO USERBOOT.SO
. "$(dirname "$0")/lib.sh"
KVMLOAD=$1 DEMO=$2 TP_DELAY=$3 USERBOOT=$4
need_root
need_fuse
need_tools setpriv qemu-system-x86_64 qemu-img qemu-storage-daemon
[ -r /usr/share/qemu/qboot.rom ] || skip "no /usr/share/qemu/qboot.rom (qemu-system-data)"
NB=$(id -un 65534)

# Everything nobody reads is nobody's; the runtime directory is under its XDG_RUNTIME_DIR.
chmod 711 "$WORK"
mkdir -p "$WORK/u/xdg" "$WORK/u/ldir"
cp "$USERBOOT" "$WORK/u/ldir/userboot.so"
cp "$DEMO" "$WORK/u/demo.img"
cp "$TP_DELAY" "$WORK/u/tp_delay.so"
qemu-img convert -O qcow2 "$DEMO" "$WORK/u/demo.qcow2"
chown -R 65534:65534 "$WORK/u"
export KVMLOAD_UNPRIV_TEST=$WORK
# nobody, with its runtime directory: setpriv and env exec, so "${AS[@]}" CMD & leaves CMD's pid in $!.
AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env "XDG_RUNTIME_DIR=$WORK/u/xdg")
VM=unpriv$$
RUN=$WORK/u/xdg/kvmload/$VM


# -- loading: the slow plugin keeps the view up for 3 s; the second disk is a qcow2 image.
"${AS[@]}" "$KVMLOAD" --accel tcg -m 128M -l "$WORK/u/tp_delay.so" -d "$WORK/u/demo.img" -d "$WORK/u/demo.qcow2" \
	"$VM" </dev/null >"$WORK/load.log" 2>&1 &
KPID=$!
for _ in $(seq 100); do [ -s "$RUN/kvmload-fs.pid" ] && grep -q '\.' "$WORK/load.log" && break; sleep 0.05; done
FSOWN=$(cut -d' ' -f1 "$RUN/kvmload-fs.pid" 2>/dev/null)
confined "view's server" "$(pgrep -P "$FSOWN" -x kvmload-fs-srv)" "$NB"
QSD=$(marked qemu-storage-da KVMLOAD_UNPRIV_TEST)
check "the exporter: uid 0 inside is nobody outside" "0 65534 1" "$(awk '{ print $1, $2, $3 }' "/proc/$QSD/uid_map" 2>&1)"
check "the exporter: nobody's" "Uid:	65534	65534	65534	65534" "$(grep '^Uid:' "/proc/$QSD/status" 2>&1)"
wait "$KPID"
expect_status $? 3 "the slow plugin's end"
check "loading: nothing left" "" "$(ls "$WORK/u/xdg/kvmload" 2>&1; marked qemu-storage-da KVMLOAD_UNPRIV_TEST)"

# -- running: the demo kernel spins until the power button, which SIGTERM presses.
"${AS[@]}" "$KVMLOAD" --accel tcg -m 128M --loader-dir "$WORK/u/ldir" -e testkernel.exit=spin -d "$WORK/u/demo.img" "$VM" </dev/null \
	>"$WORK/run.log" 2>&1 &
KPID=$!
for _ in $(seq 600); do grep -q "testkernel: spin" "$WORK/run.log" && break; sleep 0.1; done
expect_text "$WORK/run.log" "testkernel: spin"
QEMU=$(marked qemu-system-x86 KVMLOAD_UNPRIV_TEST)
confined "QEMU" "$QEMU" "$NB"
kill -TERM "$KPID"
wait "$KPID"
expect_status $? 1 "powered off"
check "running: nothing left" "" "$(ls "$WORK/u/xdg/kvmload" 2>&1; marked qemu-system-x86 KVMLOAD_UNPRIV_TEST)"

# -- only root names another user
"${AS[@]}" "$KVMLOAD" --user kvmload "$VM" </dev/null >"$WORK/user.log" 2>&1
expect_status $? 64 "--user as nobody"
expect_text "$WORK/user.log" "kvmload: --user kvmload: only root can run as another user"
lib_done
