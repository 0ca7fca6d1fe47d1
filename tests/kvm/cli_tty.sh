#!/bin/bash
# cli_tty.sh: kvmload on a terminal and under signals: ^Z gives the terminal back and fg makes it raw again (loader and guest), --loader-timeout gives it back too, a stopped delay survives the sandbox, the loader's signal statuses, --load-only's stdout.
. "$(dirname "$0")/lib.sh"
need_machine
need_tools script stty bash ps pgrep
KVMLOAD=$1 MINIBOOT=$2 KERNEL=$3 TPDELAY=$4
VM=clitty-$$
ulimit -c 0

tree=$WORK/guest
mkdir -p "$tree/boot/kernel" "$tree/boot/defaults"
cp "$KERNEL" "$tree/boot/kernel/kernel"
printf 'kernel="kernel"\nbootfile="kernel"\n' >"$tree/boot/defaults/loader.conf"

# until SECONDS CMD...: run CMD every 50 ms until it succeeds (status 0) or SECONDS pass (status 1).
until_ok() {
	local n=$(($1 * 20)); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
	return 1
}
raw() { stty -F "$PTY" -a 2>/dev/null | grep -qE '(^| )-icanon( |$)'; }
cooked() { stty -F "$PTY" -a 2>/dev/null | grep -qE '(^| )icanon( |$)'; }
stopped() { case $(ps -o stat= -p "$1" 2>/dev/null) in T*) return 0 ;; *) return 1 ;; esac; }
count() { [ "$(wc -l 2>/dev/null <"$WORK/$JC.$1" || echo 0)" -ge "$2" ]; }
in_log() { tr -d '\r' <"$WORK/$JC.log" | grep -qxF -- "$1"; }

# jc_start NAME ARGS...: kvmload ARGS on a pty (script(1)) as the foreground job of a job-control
# shell (bash, set -m), keys from the FIFO NAME.in (fd JC_IN). On each stop the shell does what an
# interactive one does: it notes the stop in NAME.stops, waits for a line on NAME.go, puts back its
# own terminal settings, notes that in NAME.fgs and runs fg (from a function, not a loop: bash
# breaks out of a loop whose job stops). At the end NAME.end gets the terminal's settings and NAME.st
# kvmload's status. Sets JC, PTY and KP (kvmload).
jc_start() {
	JC=$1; shift
	mkfifo "$WORK/$JC.in" "$WORK/$JC.go"
	exec {JC_IN}<>"$WORK/$JC.in" {JC_GO}<>"$WORK/$JC.go"
	cat >"$WORK/$JC.sh" <<EOF
set -m
tty >$WORK/$JC.tty
saved=\$(stty -g)
stopped() {
	[ \$1 = 148 ] || { stty -a >$WORK/$JC.end; echo \$1 >$WORK/$JC.st; return; }
	echo stopped >>$WORK/$JC.stops
	read -r _ <$WORK/$JC.go
	stty "\$saved"
	echo fg >>$WORK/$JC.fgs
	fg >/dev/null
	stopped \$?
}
$(printf '%q ' "$KVMLOAD" "$@")
stopped \$?
EOF
	SHELL=/bin/bash script -qfec "bash $WORK/$JC.sh" /dev/null <&$JC_IN >"$WORK/$JC.log" 2>&1 &
	JC_SPID=$!
	until_ok 30 test -s "$WORK/$JC.tty"
	PTY=$(cat "$WORK/$JC.tty")
	KP=
	until_ok 30 eval 'KP=$(ps -o pid=,comm= -t "${PTY#/dev/}" | awk '"'"'$2 == "kvmload" { print $1 }'"'"'); [ -n "$KP" ]'
}

# jc_stop HOW WHAT N: stop kvmload (HOW: kill, the job's process group signalled as ^Z does; key, ^Z
# typed); the terminal is cooked while it is stopped (N-th stop), raw again after fg.
jc_stop() {
	case $1 in
	kill) kill -TSTP -- "-$KP" ;;
	key) printf '\032' >&$JC_IN ;;
	esac
	if until_ok 20 count stops "$3"; then ok; else bad "$2: kvmload did not stop on ^Z ($1)"; fi
	stopped "$KP" && ok || bad "$2: kvmload is not stopped"
	cooked && ok || bad "$2: the terminal is still raw while kvmload is stopped"
	[ -z "${CP:-}" ] || { stopped "$CP" && ok || bad "$2: the plugin's process is not stopped"; }
	echo go >&$JC_GO
	# The shell has made the terminal cooked again, as an interactive one does, then runs fg.
	until_ok 10 count fgs "$3"
	if until_ok 10 raw; then ok; else bad "$2: the terminal is not raw again after fg"; fi
	stopped "$KP" && bad "$2: kvmload still stopped after fg" || ok
}

# jc_end WHAT STATUS: the shell and script end, with kvmload's status STATUS and the terminal cooked.
jc_end() {
	until_ok 60 test -s "$WORK/$JC.st" || bad "$1: kvmload did not end"
	expect_status "$(cat "$WORK/$JC.st" 2>/dev/null || echo 255)" "$2" "$1"
	grep -qE '(^| )icanon( |$)' "$WORK/$JC.end" 2>/dev/null && ok || bad "$1: the terminal was left raw"
	exec {JC_IN}>&- {JC_GO}>&-
	until_ok 10 eval '! kill -0 $JC_SPID 2>/dev/null' || kill -KILL $JC_SPID
	wait $JC_SPID 2>/dev/null
}

# -- 1. at the loader's prompt: stopped with its plugin process, raw again after fg, keys reach it
jc_start ldr "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -e autoboot_delay=NO "$VM"
if until_ok 60 grep -q 'OK ' "$WORK/ldr.log"; then ok; else bad "no loader prompt on the terminal"; fi
CP=$(pgrep -P "$KP" -x kvmload-plugin)
[ -n "$CP" ] && ok || bad "no plugin process under kvmload $KP"
raw && ok || bad "the terminal is not raw at the loader's prompt"
jc_stop kill "loader, TSTP" 1
printf 'show autoboot_delay\r' >&$JC_IN
if until_ok 10 in_log NO; then ok; else bad "keys typed after fg did not reach the loader"; fi
jc_stop key "loader, typed ^Z" 2
printf 'show console\r' >&$JC_IN
if until_ok 10 in_log userboot; then ok; else bad "keys typed after the second fg did not reach the loader"; fi
printf 'quit\r' >&$JC_IN
jc_end "quit after two stops" 1
CP=

# -- 1b. --loader-timeout at the loader's prompt: the load ends as a failed one, the terminal given back
jc_start wd "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -e autoboot_delay=NO --loader-timeout 2 "$VM"
if until_ok 60 grep -q 'OK ' "$WORK/wd.log"; then ok; else bad "no loader prompt on the terminal (--loader-timeout)"; fi
raw && ok || bad "the terminal is not raw at the loader's prompt (--loader-timeout)"
jc_end "--loader-timeout at the prompt on a terminal" 1
expect_text "$WORK/wd.log" "kvmload: the loader did not finish within 2 s (--loader-timeout); stopped it"

# -- 2. while the guest runs (QEMU relays the console; or the builtin machine)
if [ -c /dev/fuse ]; then
	jc_start run "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -h "$tree" -e testkernel.exit=spin "$VM"
	if until_ok 120 grep -q 'testkernel: spin' "$WORK/run.log"; then ok; else bad "the guest did not start"; fi
	raw && ok || bad "the terminal is not raw while the guest runs"
	jc_stop kill "guest, TSTP" 1
	kill -TERM "$KP"
	# On QEMU the signal powers the guest off (1); the builtin machine dies of it (143).
	if on_qemu; then want=1; else want=143; fi
	jc_end "SIGTERM after a stop while the guest runs" $want
else
	skip_part "^Z while the guest runs needs /dev/fuse (the view of -h)"
fi

# -- 3. the plugin's process stopped in a delay (an autoboot countdown) resumes it: restart_syscall
# is in the sandbox's allowlist
"$KVMLOAD" "${MACHINE[@]}" -l "$TPDELAY" -m 64M "$VM" </dev/null >"$WORK/delay.log" 2>&1 &
kp=$!
until_ok 30 grep -q '\.\.' "$WORK/delay.log"
cp=$(pgrep -P $kp -x kvmload-plugin)
[ -n "$cp" ] && kill -STOP "$cp"
sleep 0.3
[ -n "$cp" ] && kill -CONT "$cp"
wait $kp; st=$?
expect_status $st 3 "a plugin stopped and continued in its delay"
expect_no_text "$WORK/delay.log" "SIGSYS"

# -- 4. signals at the loader's prompt: the plugin's process goes, kvmload dies of the signal (128+n)
mkfifo "$WORK/sig.in"
exec {SIG_IN}<>"$WORK/sig.in"
for c in HUP:129 INT:130 QUIT:131 TERM:143; do
	sig=${c%:*} want=${c#*:}
	"$KVMLOAD" "${MACHINE[@]}" -l "$MINIBOOT" -m 64M -e autoboot_delay=NO "$VM" \
		<"$WORK/sig.in" >"$WORK/sig.log" 2>&1 &
	kp=$!
	until_ok 60 grep -q 'OK ' "$WORK/sig.log"
	cp=$(pgrep -P $kp -x kvmload-plugin)
	kill -$sig $kp
	wait $kp 2>/dev/null; st=$?
	expect_status $st "$want" "SIG$sig at the loader's prompt"
	[ -n "$cp" ] && [ -e "/proc/$cp" ] && bad "SIG$sig: the plugin's process $cp remains" || ok
done
exec {SIG_IN}>&-

# -- 5. --load-only: stdout has the registers alone ("name value" lines); the loader's console is on stderr
if have_kvm && [ -c /dev/fuse ]; then
	"$KVMLOAD" --run builtin --load-only -l "$MINIBOOT" -m 64M -h "$tree" "$VM" \
		</dev/null >"$WORK/lo.out" 2>"$WORK/lo.err"; st=$?
	expect_status $st 0 "--load-only"
	expect_line "$WORK/lo.out" "rsp 0x1000"
	if grep -qvE '^[a-z0-9]+ [^ ]' "$WORK/lo.out"; then bad "--load-only: stdout has more than registers"
	else ok; fi
	expect_no_text "$WORK/lo.out" "miniboot"
	expect_text "$WORK/lo.err" "miniboot/amd64 userboot 4th"
else
	skip_part "--load-only needs /dev/kvm (the builtin machine's vCPU) and /dev/fuse"
fi

pgrep -f -- "$VM" >/dev/null && bad "processes of $VM left behind" || ok
lib_done
