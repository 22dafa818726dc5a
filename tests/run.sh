#!/bin/sh
# run.sh - run each criterion test binary; under SANITIZE=1 also fail on any
# sanitizer report in its output (LeakSanitizer reports do not fail a
# criterion test by themselves).
set -u
failed=0
total=0
log=${TMPDIR:-/tmp}/carnet-check.$$
export CARNET_ROOT="$(pwd)"
if [ "${CARNET_SANITIZE:-}" = 1 ]; then
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
fi
for t in "$@"; do
	total=$((total + 1))
	name=$(basename "$t")
	if ! "$t" --jobs=2 >"$log" 2>&1; then
		failed=$((failed + 1))
		echo "FAIL $name"
		cat "$log"
		continue
	fi
	if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log" >/dev/null; then
		failed=$((failed + 1))
		echo "FAIL $name (sanitizer report)"
		cat "$log"
		continue
	fi
	echo "ok   $name: $(grep -E '^\[====\] Synthesis' "$log" | sed 's/.*Synthesis: //')"
done
rm -f "$log"
echo "$((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
