#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tsan_serve.sh - carnet-serve under ThreadSanitizer: its worker threads,
# each with its own handle on the index, the access log they write in
# turn, the tokens each thread keeps, the refusals' rate shared by all,
# under a bounded load of searches over HTTPS from 8 clients and, at the
# same time, requests with bad tokens; then SIGTERM. Fails on any report
# of ThreadSanitizer (a data race, a lock-order inversion...) or an exit
# status other than 0. The criterion suites cannot run under TSan (their
# arena is refused), so the service, the multi-threaded part, is run here.
# usage: tsan_serve.sh BUILD TSAN_BUILD   (KEEP=1 keeps its work directory)
set -eu
B=$1
T=$2
W=$(mktemp -d "${TMPDIR:-/tmp}/carnet-tsan.XXXXXX")
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $W" >&2 || rm -rf "$W"
}
trap cleanup EXIT
fail() {
	echo "tsan_serve: $*" >&2
	exit 1
}

# a corpus of 300 documents and its queries, indexed by the ordinary build
"$B/bench/gencorpus" --seed 7 --queries 200 "$W/corpus" 300 > /dev/null ||
	fail "gencorpus failed"
"$B/carnet-index" --index "$W/idx" --quiet add "$W/corpus/docs" > /dev/null 2>&1 ||
	[ $? -le 1 ] || fail "carnet-index failed"

# a certificate, keys, a token per specialty of the queries, bad tokens
sh tools/loopback-cert.sh "$W" || fail "openssl: $(cat "$W/openssl.log")"
: > "$W/tokens"
: > "$W/bad-tokens"
for sp in $(cut -f3 "$W/corpus/queries.tsv" | sort -u); do
	tok=$("$B/carnet-demo-token" "$W/keys" --specialty "$sp") || fail "carnet-demo-token failed"
	printf '%s %s\n' "$sp" "$tok" >> "$W/tokens"
	printf '%s %s\n' "$sp" "${tok%??????????}AAAAAAAAAA" >> "$W/bad-tokens"
done

TSAN_OPTIONS="log_path=$W/tsan halt_on_error=0" "$T/carnet-serve" --index "$W/idx" \
	--listen 127.0.0.1:0 --tls-cert "$W/srv.pem" --tls-key "$W/srv.key" \
	--jwks "$W/keys/jwks.json" --issuer carnet-demo --audience carnet --threads 4 \
	--refusal-log-rate 5 > "$W/out" 2> "$W/err" &
spid=$!
i=0
while [ "$i" -lt 300 ] && ! grep -q 'listening on' "$W/out"; do sleep 0.1; i=$((i + 1)); done
base=$(sed -n 's/.*listening on //p' "$W/out")
[ -n "$base" ] || fail "carnet-serve did not start: $(cat "$W/err")"

# searches from 8 clients, and bad tokens from 2 more, at once
"$B/bench/serveload" --url "$base" --cacert "$W/ca.pem" --tokens "$W/bad-tokens" \
	--clients 2 --max 200 --seconds 60 "$W/corpus/queries.tsv" > "$W/bad.out" 2>&1 &
bad=$!
"$B/bench/serveload" --url "$base" --cacert "$W/ca.pem" --tokens "$W/tokens" \
	--clients 8 --max 600 --seconds 60 "$W/corpus/queries.tsv" > "$W/load.out" 2>&1 ||
	fail "searches failed under load: $(cat "$W/load.out")"
wait "$bad" && fail "bad tokens were accepted: $(cat "$W/bad.out")"
grep -q 'requests=0 errors=200' "$W/bad.out" || fail "bad tokens: $(cat "$W/bad.out")"

kill -TERM "$spid"
rc=0
wait "$spid" || rc=$?
spid=
if ls "$W"/tsan.* > /dev/null 2>&1; then
	cat "$W"/tsan.* >&2
	fail "ThreadSanitizer reported the above"
fi
[ "$rc" = 0 ] || fail "carnet-serve exited $rc: $(cat "$W/err")"
echo "ok   carnet-serve under ThreadSanitizer: $(sed -n 's/.*summary //p' "$W/load.out"), 200 bad tokens refused, no report"
