#!/bin/bash
# list.sh: kvmload-hotplug list [--json] on runtime directories made here (no udev, no privilege):
# a supervisor's VM by its state record, VMs a kvmload started by hand holds (loading while its
# view is there, running after, its disk record), a retired one, a lock file alone (not listed);
# JSON with fixed keys and proper escaping of any bytes; a missing base is an empty list; bad use.
# usage: list.sh KVMLOAD-HOTPLUG
. "$(dirname "$0")/../lib.sh"
HOTPLUG=$1
need_tools python3 flock
WORK=$(mktemp -d /tmp/kvmload-list.XXXXXX)
scratch_dir "$WORK"
R=$WORK/run

# hold VM PID PROGRAM: a live holder "PID PROGRAM" of VM: this shell keeps its file locked, as a
# holder does for its life.
hold() {
	local fd
	exec {fd}>>"$R/$1/holder"
	flock -x "$fd"
	echo "$2 $3" >"$R/$1/holder"
}
json() { "$HOTPLUG" --run-dir "$R" list --json; }
# status_of WANT DESC CMD...: CMD's status is WANT; its stderr in $WORK/err
status_of() {
	local want=$1 desc=$2; shift 2
	"$@" >/dev/null 2>"$WORK/err"
	check "$desc: status" "$want" $?
}

check "a missing base: an empty JSON list" "[]" "$(json)"
check "a missing base: the text list's header alone" \
	"VM               STATE      HOLDER              PID DISK                 UPTIME         LAST EXIT" \
	"$("$HOTPLUG" --run-dir "$R" list)"

# a: a supervisor between runs; b: kvmload by hand, its view up, a disk name of awkward bytes
# (quotes, a backslash, a control byte, UTF-8, a byte that is not); c: kvmload by hand, its view
# released; d: retired; .e.lock: a VM being set up (only its lock so far).
mkdir -p "$R/a" "$R/b/view" "$R/c" "$R/d"
printf 'state: restarting\nsince: %s\nlast-exit: status 0, reset\nlast-run: 0.345 s\nwhy: quick reset 2 in a row\n' \
	"$(date -u -d '-5 seconds' +%Y-%m-%dT%H:%M:%S.000Z)" >"$R/a/state"
printf '/dev/sdz2\n/dev/sdz\n' >"$R/a/device"
hold a $$ kvmload-hotplug
printf '/srv/"q"\\b\001\303\251\377.img\n/srv/second.img\n' >"$R/b/disk"
hold b 4242 kvmload
printf '/srv/c\370\200\200.img\n' >"$R/c/disk"
hold c 4343 kvmload
printf 'state: stopped\nsince: %s\nlast-exit: status 2, halted\nlast-run: 61.000 s\nwhy: the guest exited (status 2, halted)\n' \
	"$(date -u -d '-2 minutes' +%Y-%m-%dT%H:%M:%S.000Z)" >"$R/d/state"
printf '/dev/sdy\n/dev/sdy\n' >"$R/d/device"
: >"$R/.e.lock"

status_of 0 "list --json" json
json >"$WORK/list.json"
if python3 -m json.tool "$WORK/list.json" >/dev/null; then ok; else bad "list --json is not JSON"; fi
python3 - "$WORK/list.json" >"$WORK/got" <<'PY'
import json, sys
for o in json.load(open(sys.argv[1])):
    print(list(o.keys()) == ["vm", "state", "holder", "pid", "disk", "uptime", "uptime_of", "last_exit", "last_run"],
          o["vm"], o["state"], o["holder"], o["pid"], ascii(o["disk"]), o["uptime_of"],
          o["last_exit"], o["last_run"], o["uptime"] is None or 0 <= o["uptime"] < 1000)
PY
cat >"$WORK/want" <<WANT
True a restarting kvmload-hotplug $$ '/dev/sdz2' state status 0, reset 0.345 True
True b loading kvmload 4242 '/srv/"q"\\\\b\\x01\\xe9\\ufffd.img' holder None None True
True c running kvmload 4343 '/srv/c\\ufffd\\ufffd\\ufffd.img' holder None None True
True d stopped None None '/dev/sdy' state status 2, halted 61.0 True
WANT
check "list --json: each VM, its keys in order, its values" "$(cat "$WORK/want")" "$(cat "$WORK/got")"
check "list --json: the escapes themselves" '"disk": "/srv/\"q\"\\b\u0001é\ufffd.img"' \
	"$(grep -o '"disk": "/srv/[^,]*img"' "$WORK/list.json" | head -1)"
check "list --json: a's uptime is its state's (5 s)" 1 \
	"$(python3 -c 'import json, sys; a = json.load(open(sys.argv[1]))[0]; print(int(5 <= a["uptime"] < 60))' "$WORK/list.json")"
"$HOTPLUG" --run-dir "$R" list >"$WORK/text"
check "list: a header and four VMs" 5 "$(wc -l <"$WORK/text")"
match "list: a's line" "a *restarting kvmload-hotplug *$$ /dev/sdz2 *[0-9]s (state) *status 0, reset, ran 0.345 s" \
	"$(grep '^a ' "$WORK/text")"
# For the terminal, log_esc's escapes: b's disk as /srv/"q"\\b\x01\xc3\xa9\xff.img
match "list: b's line, its disk escaped for the terminal" \
	'b *loading *kvmload *4242 /srv/"q"\\\\b\\x01\\xc3\\xa9\\xff.img *[0-9]s (holder) *-' \
	"$(grep '^b ' "$WORK/text")"
match "list: d's line" "d *stopped *- *- /dev/sdy *2m0[0-9]s (state) *status 2, halted, ran 61.000 s" \
	"$(grep '^d ' "$WORK/text")"

# Another user (nobody) may not read a holder's 0700 directory: unknown, not stopped.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	mkdir -m 0700 "$R/f"
	chmod 0755 "$WORK" "$R"
	check "another user: f's records unreadable" "f unknown None" \
		"$(setpriv --reuid=65534 --regid=65534 --clear-groups "$HOTPLUG" --run-dir "$R" list --json |
			python3 -c 'import json, sys; o = json.load(sys.stdin)[-1]; print(o["vm"], o["state"], o["holder"])')"
else
	skip_part "another user's view needs root and setpriv"
fi

# Bad use: EX_USAGE, saying what is wrong.
status_of 64 "list with an argument" "$HOTPLUG" --run-dir "$R" list extra
check "list with an argument: message" "kvmload-hotplug: list extra: list takes no argument" "$(cat "$WORK/err")"
status_of 64 "--json without list" "$HOTPLUG" --json remove /dev/null
check "--json without list: message" "kvmload-hotplug: --json goes with list" "$(cat "$WORK/err")"
lib_done
