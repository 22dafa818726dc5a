#!/bin/sh
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
echo "== carnet-query --patient $patient --profession 10   (browse: the record, newest first)"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 --limit 8
echo
echo "== carnet-query --patient $patient --profession 10 hemoglobine glyquee   (no accents typed)"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 hemoglobine glyquee
echo
echo "== carnet-query --patient $patient --profession 10 --json echocardiographie"
"$build/carnet-query" --index "$idx" --patient "$patient" --profession 10 --json echocardiographie
