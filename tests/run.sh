#!/bin/sh
# run.sh - run each criterion test binary and add up their results; under
# SANITIZE=1 also fail a suite on any sanitizer report in its output
# (LeakSanitizer reports do not fail a criterion test by themselves).
set -u
passed=0
failed=0
bad_suites=""
log=${TMPDIR:-/tmp}/carnet-check.$$
export CARNET_ROOT="$(pwd)"
if [ "${CARNET_SANITIZE:-}" = 1 ]; then
	export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
fi
for t in "$@"; do
	name=$(basename "$t")
	"$t" --jobs=2 >"$log" 2>&1
	rc=$?
	synth=$(grep -E '^\[====\] Synthesis' "$log" | sed 's/.*Synthesis: //')
	tested=$(echo "$synth" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
	passing=$(echo "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	tested=${tested:-0}
	passing=${passing:-0}
	sanitizer=0
	if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log" >/dev/null; then
		sanitizer=1
	fi
	if [ "$rc" -ne 0 ] || [ "$sanitizer" -eq 1 ] || [ "$tested" -eq 0 ]; then
		cat "$log"
		echo "FAIL $name: ${synth:-no synthesis}$( [ "$sanitizer" -eq 1 ] && echo ' + sanitizer report')"
		bad_suites="$bad_suites $name"
		# a sanitizer report fails every test of the suite it came from
		if [ "$sanitizer" -eq 1 ]; then
			passing=0
		fi
	else
		echo "ok   $name: $synth"
	fi
	passed=$((passed + passing))
	failed=$((failed + tested - passing))
	[ "$tested" -eq 0 ] && failed=$((failed + 1))
done
rm -f "$log"
[ -n "$bad_suites" ] && echo "failing suites:$bad_suites"
echo "$passed passed, $failed failed"
[ -z "$bad_suites" ]
