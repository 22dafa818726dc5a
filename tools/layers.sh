#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# layers.sh - what may include what (HACKING.md): a quoted #include in
# core/ names a header of core/ or include/; in indexer/ or query/, of its
# own folder, core/ or include/; in serve/ (a program on the public API),
# of serve/ or include/; headers generated into the build's gen/
# folder are allowed where the Makefile puts them on the path. Prints each
# crossing; exits 1 if any.
cd "$(dirname "$0")/.." || exit 2
bad=0
check() {
	dir=$1; shift
	for f in "$dir"/*.c "$dir"/*.cc "$dir"/*.h; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r inc; do
			ok=0
			for d in "$@"; do
				[ -f "$d/$inc" ] && ok=1
			done
			case $inc in
			*_default.h|*_frozen.h|carnet_paths.h|page_assets.h) ok=1 ;;  # generated (Makefile)
			esac
			[ $ok = 1 ] || { echo "$f: includes \"$inc\", outside $*"; echo x; }
		done
	done
}
out=$( { check core core include; check indexer indexer core include;
	check query query core include; check serve serve include; } )
echo "$out" | grep -v '^x$' | grep -v '^$'
echo "$out" | grep -q '^x$' && bad=1
exit $bad
