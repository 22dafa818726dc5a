#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# opscheck.sh BUILD - check the operations files of make ops (BUILD/ops):
# systemd-analyze verify on the services and the timer, logrotate -d on the
# logrotate file; each is skipped, said so, when its tool is not installed.
set -eu
build=$1
work=$build/opscheck
rm -rf "$work" && mkdir -p "$work"
if command -v systemd-analyze >/dev/null 2>&1; then
	# the unit as built, but running the carnet-index of this build
	# (verify checks that ExecStart's program exists); man pages are
	# checked by make mancheck
	for u in carnet-sync carnet-serve carnet-sync@ carnet-serve@; do
		sed "s|@BINDIR@|$(pwd)/$build|g" ops/$u.service.in > "$work/$u.service"
	done
	cp "$build/ops/carnet-sync.timer" "$build/ops/carnet-sync@.timer" \
	   "$build/ops/carnet-router.service" "$work/"
	# the router runs Debian's haproxy: verified where it is installed
	router=
	[ -x /usr/sbin/haproxy ] && router=carnet-router.service
	(cd "$work" && systemd-analyze verify --man=no carnet-sync.service carnet-sync.timer \
		carnet-serve.service carnet-sync@0.service carnet-sync@0.timer \
		carnet-serve@0.service $router) ||
		{ echo "opscheck: systemd-analyze verify failed" >&2; exit 1; }
else
	echo "  (systemd-analyze not installed: carnet-sync.service and .timer not verified)"
fi
if command -v logrotate >/dev/null 2>&1; then
	# the user carnet need not exist here: check the syntax as root
	sed 's/ carnet carnet$/ root root/' "$build/ops/carnet.logrotate" > "$work/carnet.logrotate"
	out=$(logrotate -d -s "$work/state" "$work/carnet.logrotate" 2>&1) ||
		{ echo "$out" >&2; exit 1; }
	if echo "$out" | grep -q '^error'; then
		echo "$out" >&2
		echo "opscheck: logrotate -d found errors in carnet.logrotate" >&2
		exit 1
	fi
else
	echo "  (logrotate not installed: carnet.logrotate not checked)"
fi
