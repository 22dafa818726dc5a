#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh - index the shipped sample corpus into a fresh index and show what
# carnet answers for one patient: the browsed record, then ranked searches.
set -eu
build=${1:-build}
idx=$build/demo.idx
rm -rf "$idx"
echo "== carnet-index add corpora/sample corpora/bad"
set +e
"$build/carnet-index" --index "$idx" add corpora/sample corpora/bad
rc=$?
set -e
echo "(exit status $rc: 1 means some inputs were rejected, as corpora/bad intends)"
echo
echo "== carnet-index stats"
"$build/carnet-index" --index "$idx" stats
patient=$(sed -n 's/.*"patient_id" *: *"\([^"]*\)".*/\1/p' corpora/sample/p1-*/*.meta.json | head -n 1)
echo
echo "== carnet-query --patient $patient --profession 10 --specialty SM04   (a cardiologist opens the record)"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 --specialty SM04 --limit 6
p2=$(sed -n 's/.*"patient_id" *: *"\([^"]*\)".*/\1/p' corpora/sample/p2-*/*.meta.json | head -n 1)
echo
echo "== carnet-query --patient $p2 --profession 10 --specialty SM04   (the cardiologist, another patient)"
"$build/carnet-query" --index "$idx" --patient "$p2" --profession 10 --specialty SM04 --limit 5
echo
echo "== carnet-query --patient $p2 --profession 10 --specialty SM38 --explain   (an ophthalmologist, same record)"
"$build/carnet-query" --index "$idx" --patient "$p2" --profession 10 --specialty SM38 --limit 5 --explain
echo
echo "== carnet-query --patient $patient --profession 10 --specialty SM54 HTA   (abbreviation: finds 'hypertension artérielle' too)"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 --specialty SM54 --limit 5 HTA
echo
echo "== carnet-query --patient $patient --profession 10 hemoglobine glyquee --facets   (no accents typed)"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 --facets hemoglobine glyquee
echo
echo "== carnet-query --patient $patient --profession 10 echocardiografie   (misspelt)"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 echocardiografie
echo
echo "== carnet-query --patient $patient --profession 10 --specialty SM04 --json --explain echocardiographie"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 --specialty SM04 --json --explain echocardiographie
echo
if [ -t 0 ] && [ -t 1 ]; then
	echo "== the page: carnet-serve on loopback over this index (tools/demo-serve.sh)"
	exec sh tools/demo-serve.sh "$build"
fi
echo "== to look at the page: sh tools/demo-serve.sh $build   (carnet-serve on loopback; make demo starts it when run from a terminal)"
