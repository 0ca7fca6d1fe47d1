#!/bin/bash
# memflags.sh: -S locks guest memory (VmLck), -C keeps it in core dumps (no "dd" flag on its mapping).
. "$(dirname "$0")/lib.sh"
need_machine
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3
VM=memflags-$$

tree=$WORK/guest
mkdir -p "$tree/boot/kernel"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'testkernel.exit="spin"\n' >"$tree/boot/loader.conf"

# spin FLAGS...: start a guest that spins; sets PID once the guest has printed its last line.
spin() {
	# A log left by the previous guest would satisfy the wait below before this one starts.
	rm -f "$WORK/spin.log"
	"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -h "$tree" "$@" $VM </dev/null >"$WORK/spin.log" 2>&1 &
	PID=$!
	for _ in $(seq 600); do
		grep -q "testkernel: spin" "$WORK/spin.log" 2>/dev/null && return 0
		sleep 0.1
	done
	bad "guest did not start ($*)"
	return 1
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
# guest_flags: the VmFlags of the guest-memory mapping (the memfd named kvmload-guest).
guest_flags() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { guest = index($0, "/memfd:kvmload-guest") > 0 }
	     guest && /^VmFlags:/ { print; exit }' "/proc/$PID/smaps"
}
vmlck() { awk '/^VmLck:/ { print $2 }' "/proc/$PID/status"; }

if spin; then
	[ "$(vmlck)" -eq 0 ] && ok || bad "guest memory locked without -S"
	case " $(guest_flags) " in *" dd "*) ok ;; *) bad "guest memory not excluded from core dumps by default" ;; esac
	stop
fi
# AddressSanitizer turns mlock() into a no-op, so a sanitizer build cannot show -S working.
if ldd "$KVMLOAD" | grep -q libasan; then
	skip_part "$KVMLOAD is an ASan build (mlock is a no-op there): -S not checked"
elif spin -S; then
	[ "$(vmlck)" -ge 65536 ] && ok || bad "-S: VmLck $(vmlck) kB, expected >= 65536"
	stop
fi
if spin -C; then
	flags=$(guest_flags)
	[ -n "$flags" ] && ok || bad "-C: guest mapping not found"
	case " $flags " in *" dd "*) bad "-C: guest memory still excluded from core dumps" ;; *) ok ;; esac
	stop
fi
lib_done
