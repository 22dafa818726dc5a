#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# installcheck.sh - check a staged install (make installcheck):
#   sh tests/installcheck.sh STAGE PREFIX WORK_DIR BUILD_DIR
# STAGE holds `make install DESTDIR=STAGE PREFIX=PREFIX` from BUILD_DIR.
# Programs are built with the installed header and pkg-config alone, and
# run with CARNET_PDFTEXT unset from a directory with no extractor beside
# them: the library must find the installed one by itself. Then make
# uninstall must leave nothing behind. Exit 0 when everything holds.
set -eu
stage=$1 prefix=$2 work=$3 build=$4
: "${CC:=cc}" "${PKG_CONFIG:=pkg-config}" "${MAKE:=make}" "${CFLAGS:=}"
root=$stage$prefix
fail() { echo "installcheck: $*" >&2; exit 1; }

[ -z "${CARNET_PDFTEXT:-}" ] || fail "CARNET_PDFTEXT must be unset"
[ ! -e "$prefix/libexec/carnet/carnet-pdftext" ] ||
	fail "$prefix/libexec/carnet/carnet-pdftext exists: the check would not show that the staged library finds its own"
rm -rf "$work" && mkdir -p "$work/bin"

# every file the install put, for the uninstall check below
for f in lib/libcarnet.a lib/libcarnet.so lib/pkgconfig/carnet.pc include/carnet.h \
	 bin/carnet-index bin/carnet-query bin/carnet-serve libexec/carnet/carnet-pdftext \
	 share/carnet/authorisations.tsv share/man/man1/carnet-index.1 \
	 share/man/man1/carnet-query.1 share/man/man1/carnet-serve.1 share/man/man3/carnet.3 \
	 lib/systemd/system/carnet-sync.service lib/systemd/system/carnet-sync.timer \
	 lib/systemd/system/carnet-serve.service lib/systemd/system/carnet-serve@.service \
	 lib/systemd/system/carnet-sync@.service lib/systemd/system/carnet-sync@.timer \
	 lib/systemd/system/carnet-router.service; do
	[ -e "$root/$f" ] || fail "make install did not install $prefix/$f"
done
[ -e "$stage/etc/logrotate.d/carnet" ] || fail "make install did not install /etc/logrotate.d/carnet"
grep -q "ExecStart=$prefix/bin/carnet-index " "$root/lib/systemd/system/carnet-sync.service" ||
	fail "carnet-sync.service does not run $prefix/bin/carnet-index"
grep -q "ExecStart=$prefix/bin/carnet-serve " "$root/lib/systemd/system/carnet-serve.service" ||
	fail "carnet-serve.service does not run $prefix/bin/carnet-serve"
grep -q "ExecStart=$prefix/bin/carnet-serve " "$root/lib/systemd/system/carnet-serve@.service" ||
	fail "carnet-serve@.service does not run $prefix/bin/carnet-serve"
grep -q "ExecStart=$prefix/bin/carnet-index .*--shard %i/" \
	"$root/lib/systemd/system/carnet-sync@.service" ||
	fail "carnet-sync@.service does not run $prefix/bin/carnet-index --shard"

# the PREFIX given to make install is the one the library was built for
grep -qF "$prefix/libexec/carnet" "$root/lib/libcarnet.so" ||
	fail "the installed library was not rebuilt for PREFIX=$prefix"

# pkg-config: only what the library needs
export PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$root/lib/pkgconfig"
cflags=$($PKG_CONFIG --cflags carnet) || fail "pkg-config --cflags carnet failed"
case " $cflags " in
*glib*|*cairo*|*poppler*) fail "pkg-config --cflags carnet drags in the PDF extractor's dependencies: $cflags" ;;
esac
case " $cflags " in
*" -I$root/include "*) ;;
*) fail "pkg-config --cflags carnet does not name the installed header's directory: $cflags" ;;
esac
requires=$($PKG_CONFIG --print-requires-private carnet | tr '\n' ' ')
case "$requires" in
*poppler*|*icu-i18n*|*glib*) fail "Requires.private has packages the library does not use: $requires" ;;
esac

# the installed library, shared: a text document and a PDF
$CC -std=c11 -Wall -Wextra -Werror $CFLAGS tests/installcheck.c -o "$work/bin/installcheck" \
	$($PKG_CONFIG --cflags --libs carnet)
export LD_LIBRARY_PATH="$root/lib"
# (test hooks are only in test builds: the installed extractor ignores the
# one that would make it crash, and the PDF is indexed)
CARNET_PDF_TEST=crash "$work/bin/installcheck" "$root/bin" corpora/sample "$work/run" \
	tests/data/pdf/echo.pdf

# the example, against the shared and (with --static) the static library,
# on the sample corpus indexed by the installed CLI
$CC -std=c11 -Wall -Wextra -Werror $CFLAGS examples/viewer.c -o "$work/bin/viewer" \
	$($PKG_CONFIG --cflags --libs carnet)
static_libs=$($PKG_CONFIG --static --libs carnet | sed 's/-lcarnet\( \|$\)/-l:libcarnet.a /')
$CC -std=c11 -Wall -Wextra -Werror $CFLAGS examples/viewer.c -o "$work/bin/viewer-static" \
	$($PKG_CONFIG --cflags carnet) $static_libs ||
	fail "the example does not link with pkg-config --static --libs carnet: $static_libs"
# (and the installed carnet-index ignores the crash point of the tests)
CARNET_CRASH_AT=between-index-and-registry-commits \
	"$root/bin/carnet-index" --quiet --index "$work/idx" add corpora/sample ||
	fail "the installed carnet-index failed on corpora/sample (with CARNET_CRASH_AT set: exit $?)"
for v in viewer viewer-static; do
	"$work/bin/$v" "$work/idx" 158047511203495 10 SM04 hemoglobine > "$work/$v.out" ||
		fail "examples/viewer.c ($v) failed"
	for id in 1.2.250.1.999.2.1^CDA-P1-0001 DOC-P1-0002 DOC-P1-0008-v2 DOC-P1-0003; do
		grep -qF "[$id]" "$work/$v.out" || { cat "$work/$v.out"; fail "$v did not list $id"; }
	done
	grep -q '^4 of 4 document(s)$' "$work/$v.out" || { cat "$work/$v.out"; fail "$v: not 4 hits"; }
	grep -q '<b>Hémoglobine</b>' "$work/$v.out" || fail "$v printed no snippet"
done
# errors: the message and a nonzero status
if "$work/bin/viewer" "$work/idx" 158047511203495 "" SM04 2> "$work/denied.err"; then
	fail "the example succeeded without a profession"
fi
grep -q "needs a profession" "$work/denied.err" || fail "the example did not say why it failed"
if "$work/bin/viewer" "$work/nowhere" 158047511203495 10 SM04 2> "$work/missing.err"; then
	fail "the example succeeded without an index"
fi
grep -qF "no carnet index at $work/nowhere" "$work/missing.err" || fail "the example did not name the missing index"

# the README's C example is examples/viewer.c between its README markers
sed -n '/README: begin/,/README: end/p' examples/viewer.c | sed '1d;$d' | sed 's/^\t//' > "$work/excerpt.c"
awk '/^<!-- quoted from examples\/viewer.c/ { q = 1; next }
     q && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' README.md > "$work/readme.c"
[ -s "$work/readme.c" ] || fail "README.md has no C example quoted from examples/viewer.c"
diff -u "$work/excerpt.c" "$work/readme.c" >&2 || fail "README.md's C example differs from examples/viewer.c"

# carnet(3)'s example compiles as it stands
{ printf '#include <stdio.h>\n#include <carnet.h>\nint main(void)\n{\n'
  sed -n '/^# EXAMPLES/,/^# SEE ALSO/p' man/carnet.3.scd | sed -n '/^```$/,/^```$/p' | sed '1d;$d' | sed 's/\\\\/\\/g'
  printf 'return 0;\n}\n'; } > "$work/man3-example.c"
$CC -std=c11 -Wall -Wextra -Werror $CFLAGS -c "$work/man3-example.c" -o "$work/man3-example.o" \
	$($PKG_CONFIG --cflags carnet) || fail "the example of carnet(3) does not compile"

# the installed man pages open
for m in man1/carnet-index.1 man1/carnet-query.1 man1/carnet-serve.1 man3/carnet.3; do
	MANWIDTH=80 man -l "$root/share/man/$m" 2>/dev/null | grep -q 'NAME' ||
		fail "man -l cannot format the installed $m"
done

# uninstall removes everything install put
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH LD_LIBRARY_PATH
$MAKE --no-print-directory BUILD="$build" PREFIX="$prefix" DESTDIR="$stage" uninstall >/dev/null ||
	fail "make uninstall failed"
left=$(find "$stage" \( -type f -o -type l \) -print; find "$root" -mindepth 1 -name '*carnet*' -print)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "installcheck: install to $prefix (DESTDIR), pkg-config, the library finding its PDF extractor, the example, man pages, uninstall: ok"
