#!/bin/bash
# help.sh: each program's --help and usage lines (made from its option table) against its man page: the same options, both ways; a bad option is exit 64 with the usage lines on stderr.
# usage: help.sh DOC-DIR KVMLOAD KVMLOAD-FS KVMLOAD-HOTPLUG
. "$(dirname "$0")/../lib.sh"
DOC=$1; shift

# The options a man page's lines name with Fl: "-c", "--console"; "Fl CS" is -C and -S.
man_opts() {
	grep -oE 'Fl \\?-?[A-Za-z][A-Za-z0-9-]*' | sed 's/^Fl \\\?//' | while read -r o; do
		case $o in
		-*) printf '%s\n' "-$o" ;;
		*) for ((i = 0; i < ${#o}; i++)); do printf '%s\n' "-${o:i:1}"; done ;;
		esac
	done | sort -u
}

# The options --help lists, one entry a line: "  -c, --console DEV", "      --view DIR", "  -f".
help_opts() {
	sed -nE 's/^  (-[A-Za-z0-9])(, (--[a-z0-9-]+))?( .*)?$/\1\n\3/p; s/^      (--[a-z0-9-]+)( .*)?$/\1/p' |
		grep . | sort -u
}

# The options the usage lines name: "[-CSv]" is -C, -S and -v.
usage_opts() {
	sed '/^$/,$d' | grep -oE '(^|[[ ])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[[ ]//' | while read -r o; do
		case $o in
		--*) printf '%s\n' "$o" ;;
		*) o=${o#-}; for ((i = 0; i < ${#o}; i++)); do printf '%s\n' "-${o:i:1}"; done ;;
		esac
	done | sort -u
}

for prog in "$@"; do
	name=$(basename "$prog")
	man=$DOC/$name.8
	help=$("$prog" --help 2>&1); st=$?
	check "$name --help: status" 0 "$st"
	match "$name --help: the usage lines first" "usage: $name *" "$help"
	check "$name: --help lists the options the man page describes, and only those" \
		"$(grep '^\.It Fl' "$man" | man_opts)" "$(help_opts <<<"$help")"
	check "$name: the usage lines name the options of the man page's synopsis, and only those" \
		"$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$man" | man_opts)" "$(usage_opts <<<"$help")"
	err=$("$prog" --no-such-option </dev/null 2>&1 >/dev/null); st=$?
	check "$name --no-such-option: status" 64 "$st"
	check "$name --no-such-option: says so" 1 "$(grep -c -- "option '--no-such-option'" <<<"$err")"
	check "$name --no-such-option: the usage lines on stderr" "$(sed '/^$/,$d' <<<"$help")" \
		"$(sed -n '/^usage: /,$p' <<<"$err")"
done
lib_done
