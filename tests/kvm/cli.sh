#!/bin/bash
# cli.sh: kvmload's command-line errors: each names what is wrong and exits with bhyveload's status.
. "$(dirname "$0")/lib.sh"
KVMLOAD=$(realpath "$1")

# --run builtin: none of these reaches a machine, and the default (QEMU with --accel kvm) would
# first refuse a host without QEMU or /dev/kvm (status 69).
usage_check() { # usage_check WANT_STATUS TEXT ARGS...: stderr names the problem
	want=$1 text=$2; shift 2
	"$KVMLOAD" --run builtin "$@" </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
	expect_status $st "$want" "kvmload $*"
	expect_text "$WORK/err" "$text"
}

usage_check 64 "usage: kvmload"
usage_check 64 "usage: kvmload" vm1 vm2
# -m: memsize_arg's rule and words, the same as kvmload-hotplug --check's for memory = (config.sh).
SUFFIX="invalid memory size (a number with an optional K, M, G or T suffix)"
usage_check 64 "-m 12X: $SUFFIX" -m 12X vm
usage_check 64 "-m 1P: $SUFFIX" -m 1P vm
usage_check 64 "-m 1E: $SUFFIX" -m 1E vm
usage_check 64 "-m 99E: $SUFFIX" -m 99E vm
usage_check 64 "-m 128MB: $SUFFIX" -m 128MB vm
usage_check 64 "-m 18446744073709551615: too large (kvmload maps at most 64T)" -m 18446744073709551615 vm
usage_check 64 "-m 99999999999999999999999: too large (kvmload maps at most 64T)" \
	-m 99999999999999999999999 vm
usage_check 64 "-m 65T: too large (kvmload maps at most 64T)" -m 65T vm
usage_check 64 "-m 1K: too small (at least 2M)" -m 1K vm
usage_check 64 "-m 2097153: not a whole number of 4 KiB pages" -m 2097153 vm
usage_check 64 "-l b: only one plugin may be given" -l a -l b vm
# --loader-timeout: vmopt_loader_timeout's rule and words, the same as --check's for loader-timeout =.
LT_RULE="expected a whole number of seconds from 1 to 86400"
for v in 0 -1 abc 86401 1.5 2s +3 ''; do
	usage_check 64 "--loader-timeout $v: $LT_RULE" --loader-timeout "$v" vm
done
usage_check 64 "option '--loader-timeout' requires an argument" vm --loader-timeout
usage_check 64 "-d /nonexistent.img: No such file or directory" -d /nonexistent.img vm
usage_check 64 "-d /tmp: a directory, not a regular file or block device" -d /tmp vm
usage_check 64 "-h /nonexistent: No such file or directory" -h /nonexistent vm
usage_check 64 "-c /etc/hostname: not a terminal" -c /etc/hostname vm
# A character device that is no terminal would swallow the console.
usage_check 64 "-c /dev/null: not a terminal" -c /dev/null vm
usage_check 64 "-e 'novalue': expected name=value" -e novalue vm
usage_check 64 "-e '=x': expected name=value" -e =x vm
usage_check 64 "vmname '../x'" ../x
usage_check 64 "unrecognized or ambiguous option '--bogus'" --bogus vm
usage_check 64 "option '--console' requires an argument" vm --console
usage_check 64 "option '--version=1' takes no argument" --version=1 vm
"$KVMLOAD" --help >"$WORK/help" 2>&1; st=$?
expect_status $st 0 "--help"
expect_text "$WORK/help" "--load-only"
# -V, as kvmload-fs and kvmload-hotplug have it: meson's project version.
for v in -V --version; do
	"$KVMLOAD" $v >"$WORK/version" 2>&1; st=$?
	expect_status $st 0 "$v"
	if grep -qxE 'kvmload [0-9]+\.[0-9]+\.[0-9]+' "$WORK/version"; then ok
	else bad "$v: printed '$(cat "$WORK/version")', not 'kvmload VERSION'"; fi
done

# -- strings from the user or the guest are escaped in messages, never sent raw to the terminal
esc_check() { # esc_check WHAT TEXT: stderr has TEXT and no ESC byte
	expect_text "$WORK/err" "$2"
	if grep -q $'\e' "$WORK/err"; then bad "$1: a raw ESC byte in the message"; else ok; fi
}
usage_check 64 "vmname 'vm\x1b[31m':" $'vm\e[31m'
esc_check vmname "vm\x1b[31m"
usage_check 64 "unrecognized or ambiguous option '--\x1b[1m'" $'--\e[1m' vm
esc_check "an option" "--\x1b[1m"
usage_check 64 "-d /nonexistent\x1b]0;x\x07: No such file or directory" -d $'/nonexistent\e]0;x\a' vm
esc_check "-d" "\x1b]0;x\x07"
usage_check 64 "-h /none\x1b[2J: No such file or directory" -h $'/none\e[2J' vm
esc_check "-h" "/none\x1b[2J"
usage_check 64 "-c /none\x1b[2J: No such file or directory" -c $'/none\e[2J' vm
esc_check "-c" "/none\x1b[2J"

# These reach the loader: QEMU and its firmware only have to exist until a guest runs, and none
# does here (so neither /dev/kvm nor QEMU is needed).
load_check() { # load_check WANT_STATUS TEXT ARGS...: as usage_check, up to the plugin's load
	want=$1 text=$2; shift 2
	KVMLOAD_QEMU=/bin/true KVMLOAD_FIRMWARE=/dev/null "$KVMLOAD" --accel tcg "$@" </dev/null \
		>"$WORK/out" 2>"$WORK/err"; st=$?
	expect_status $st "$want" "kvmload $*"
	expect_text "$WORK/err" "$text"
}
load_check 64 "--loader-dir /nonexistent: No such file or directory" --loader-dir /nonexistent vm
load_check 64 "--loader-dir /etc/hostname: Not a directory" --loader-dir /etc/hostname vm
load_check 64 "--loader-dir /none\x1b[2J: No such file or directory" --loader-dir $'/none\e[2J' vm
esc_check "--loader-dir" "/none\x1b[2J"
# A plugin that cannot be loaded is named once.
cp /bin/ls "$WORK/ls.so"
load_check 1 "kvmload: $WORK/ls.so: PT_INTERP[" -l "$WORK/ls.so" vm
[ "$(grep -o 'ls\.so' "$WORK/err" | wc -l)" = 1 ] && ok || bad "-l: the path is named more than once: $(cat "$WORK/err")"
cp /bin/ls "$WORK/"$'ls\e[5m.so'
load_check 1 "kvmload: $WORK/ls\x1b[5m.so: PT_INTERP[" -l "$WORK/"$'ls\e[5m.so' vm
esc_check "-l" "ls\x1b[5m.so"
# -l NAME without a slash: the plugin directory first, then the current directory.
mkdir -p "$WORK/ldir" "$WORK/cwd"
cp /bin/ls "$WORK/ldir/userboot.so"
cp /bin/ls "$WORK/cwd/userboot.so"
cp /bin/ls "$WORK/cwd/only_here.so"
cd "$WORK/cwd" || exit 1
load_check 1 "kvmload: $WORK/ldir/userboot.so: PT_INTERP[" --loader-dir "$WORK/ldir" -l userboot.so vm
load_check 1 "kvmload: ./only_here.so: PT_INTERP[" --loader-dir "$WORK/ldir" -l only_here.so vm
load_check 1 "-l none.so: not in the plugin directory or the current directory: $WORK/ldir/none.so: No such file or directory; ./none.so: No such file or directory" \
	--loader-dir "$WORK/ldir" -l none.so vm
cd / || exit 1

# -- a VM's state lock is no other VM's directory: VM "lk" beside the directory of VM "lk.lock"
mkdir -p "$WORK/lockrun/lk.lock" "$WORK/lktree"
KVMLOAD_RUN_DIR=$WORK/lockrun KVMLOAD_QEMU=/bin/true KVMLOAD_FIRMWARE=/dev/null "$KVMLOAD" --accel tcg -v \
	-l "$WORK/none.so" -h "$WORK/lktree" lk </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
[ $st = 1 ] || [ $st = 4 ] && ok || bad "vm lk beside vm lk.lock: exit status $st: $(cat "$WORK/err")"
expect_no_text "$WORK/err" "Is a directory"
expect_text "$WORK/err" "$WORK/lockrun/lk/view"
check "vm lk.lock's directory untouched, nothing of lk left" "lk.lock" "$(ls -A "$WORK/lockrun")"

# -- not as root, the runtime directory is $XDG_RUNTIME_DIR/kvmload/VM (/run/kvmload is root's)
nb=$WORK/user
mkdir -p "$nb/xdg" "$nb/tree"
as=()
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null; then
		chmod 711 "$WORK"
		chmod 755 "$nb" "$nb/tree"
		chown 65534:65534 "$nb/xdg"
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
fi
if [ "$(id -u)" = 0 ] && [ ${#as[@]} = 0 ]; then
	skip_part "the runtime directory of a non-root user needs setpriv"
else
	# -v names the view's mount; a user who may not mount FUSE gets the daemon's failure, which
	# names it too. Either way the missing plugin (status 1) or the view (4) ends it.
	XDG_RUNTIME_DIR=$nb/xdg KVMLOAD_QEMU=/bin/true KVMLOAD_FIRMWARE=/dev/null "${as[@]}" \
		"$KVMLOAD" --accel tcg -v -l "$nb/none.so" -h "$nb/tree" xdgvm </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
	[ $st = 1 ] || [ $st = 4 ] && ok || bad "not as root: exit status $st: $(cat "$WORK/err")"
	expect_text "$WORK/err" "$nb/xdg/kvmload/xdgvm/view"
	expect_no_text "$WORK/err" "/run/kvmload"
	[ -e "$nb/xdg/kvmload/xdgvm" ] && bad "not as root: $nb/xdg/kvmload/xdgvm left behind" || ok
	# Without XDG_RUNTIME_DIR, /run/kvmload it is, and the message says where else it would be.
	env -u XDG_RUNTIME_DIR KVMLOAD_QEMU=/bin/true KVMLOAD_FIRMWARE=/dev/null "${as[@]}" \
		"$KVMLOAD" --accel tcg -l "$nb/none.so" -h "$nb/tree" xdgvm </dev/null >"$WORK/out" 2>"$WORK/err"; st=$?
	if "${as[@]}" sh -c '[ -w /run ] || [ -w /run/kvmload ]'; then
		skip_part "this user may write /run/kvmload"
	else
		expect_status $st 4 "not as root, no XDG_RUNTIME_DIR"
		expect_text "$WORK/err" "(not as root, the runtime directory is under \$XDG_RUNTIME_DIR, which is unset)"
	fi
fi
lib_done
