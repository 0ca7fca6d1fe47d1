#!/bin/sh
# sysusers-apply.sh: meson install's step that creates the kvmload user from its sysusers.d file.
set -eu
[ -z "${DESTDIR:-}" ] || exit 0
[ "$(id -u)" -eq 0 ] || { echo "kvmload: not root: create the kvmload user with: systemd-sysusers $1" >&2; exit 0; }
if command -v systemd-sysusers >/dev/null 2>&1; then
	exec systemd-sysusers "$1"
fi
getent passwd kvmload >/dev/null ||
	useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group kvmload
