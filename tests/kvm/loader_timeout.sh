#!/bin/bash
# loader_timeout.sh: --loader-timeout ends a load whose loader does not finish (miniboot at its prompt on input that never comes, a plugin in a CPU loop, one that closed its result pipe and runs on, a swapped-to plugin at its prompt) with one line and status 1, its process killed and reaped, the view and the runtime directory gone; a loader that finishes in time boots as before.
. "$(dirname "$0")/lib.sh"
need_machine
need_fuse
need_tools makefs sgdisk pgrep
KVMLOAD=$1 TP=$2 MINIBOOT=$3 MINIBOOT_LUA=$4 KERNEL=$5
export KVMLOAD_RUN_DIR=$WORK/run
VM=ltimeout-$$
RUN=$KVMLOAD_RUN_DIR/$VM
mkdir -p "$KVMLOAD_RUN_DIR"
# The plugin's processes inherit kvmload's environment: this mark finds them, reparented or not.
export LOADER_TIMEOUT_MARK=$$.$RANDOM

# A guest whose loader.conf stops at the prompt: the loader waits on console input.
tree=$WORK/guest
prompt_tree "$KERNEL" "$tree"
make_gpt_ufs2 "$tree" "$WORK/g.img"

# Console input that never ends and never sends a byte: a FIFO a sleep of ours holds open.
mkfifo "$WORK/in"
sleep 600 >"$WORK/in" &
HOLDER=$!
on_exit 'kill $HOLDER 2>/dev/null'

# timed LOG SECONDS ARGS...: kvmload --loader-timeout SECONDS on the console FIFO; sets st, MS (how
# long it ran) and CPID (its plugin process, looked for while it runs).
timed() {
	local log=$1 secs=$2 t0 kpid
	shift 2
	t0=$(date +%s%N)
	"$KVMLOAD" "${MACHINE[@]}" -m 64M --loader-timeout "$secs" "$@" "$VM" <"$WORK/in" >"$log" 2>"$log.err" &
	kpid=$!
	CPID=
	for _ in $(seq 250); do
		CPID=$(pgrep -P $kpid -x kvmload-plugin) && break
		kill -0 $kpid 2>/dev/null || break
		sleep 0.02
	done
	wait $kpid; st=$?
	MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

# ended LOG SECONDS WHAT: the watchdog ended the load after SECONDS (and no more than the start-up
# later), said in one line as the last of standard error; nothing is left.
ended() {
	local p
	expect_status $st 1 "$3"
	check "$3: the message" "kvmload: the loader did not finish within $2 s (--loader-timeout); stopped it" \
		"$(tail -n 1 "$1.err")"
	[ "$(grep -c 'loader-timeout' "$1.err")" = 1 ] && ok || bad "$3: the message is not said once"
	if [ "$MS" -ge $(($2 * 1000)) ] && [ "$MS" -lt $(($2 * 1000 + 15000)) ]; then ok
	else bad "$3: kvmload ended after $MS ms"; fi
	if [ -n "$CPID" ]; then ok; else bad "$3: no plugin process seen while kvmload ran"; fi
	if [ -n "$CPID" ] && [ -e "/proc/$CPID" ]; then
		bad "$3: the plugin's process $CPID remains ($(cut -d' ' -f3 "/proc/$CPID/stat" 2>/dev/null))"
	else ok; fi
	p=$(marked kvmload-plugin LOADER_TIMEOUT_MARK)
	[ -z "$p" ] && ok || bad "$3: plugin processes left: $p"
	if grep -qF " $RUN/view " /proc/mounts; then bad "$3: $RUN/view still mounted"; else ok; fi
	if [ -e "$RUN" ]; then bad "$3: $RUN left behind"; else ok; fi
}

# 1. miniboot at its prompt, blocked in a console read that never returns.
timed "$WORK/p.log" 2 -l "$MINIBOOT" -d "$WORK/g.img"
expect_text "$WORK/p.log" "OK "
ended "$WORK/p.log" 2 "at the prompt"

# 2. A plugin in a CPU loop, and one that closed its result pipe and loops on (only its end says
#    it is not done).
for m in spin hide; do
	timed "$WORK/$m.log" 1 -l "$TP" -h "$tree" -e tp.mode=$m
	expect_line "$WORK/$m.log" "tp_sandbox: $m"
	ended "$WORK/$m.log" 1 "plugin mode $m"
done

# 3. One clock for the whole load: the host's userboot.so (4th) swaps to the guest's lua plugin,
#    which waits at its prompt; the watchdog ends that second plugin.
mkdir -p "$WORK/hostonly" "$WORK/lua/boot/kernel"
cp "$MINIBOOT" "$WORK/hostonly/userboot.so"
cp "$KERNEL" "$WORK/lua/boot/kernel/kernel"
cp "$MINIBOOT_LUA" "$WORK/lua/boot/userboot_lua.so"
printf 'loader binary$Interpreter:lua\0 more bytes' >"$WORK/lua/boot/loader"
printf 'autoboot_delay="NO"\n' >"$WORK/lua/boot/loader.conf"
timed "$WORK/swap.log" 2 --loader-dir "$WORK/hostonly" -h "$WORK/lua"
expect_text "$WORK/swap.log.err" "wants interpreter 'lua': swapping to $RUN/view/host0/boot/userboot_lua.so"
expect_text "$WORK/swap.log" "miniboot/amd64 userboot lua"
ended "$WORK/swap.log" 2 "after a swap"

# 4. A loader that finishes in time boots as before.
printf 'autoboot_delay="0"\n' >"$tree/boot/loader.conf"
timed "$WORK/boot.log" 30 -l "$MINIBOOT" -h "$tree"
expect_status $st 2 "a boot within --loader-timeout"
expect_line "$WORK/boot.log" "testkernel: halt"
expect_no_text "$WORK/boot.log.err" "loader-timeout"
if [ -e "$RUN" ]; then bad "a boot within --loader-timeout: $RUN left behind"; else ok; fi
lib_done
