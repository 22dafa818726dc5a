#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh - run each criterion test binary and add up their results; under
# SANITIZE=1 also fail a suite on any sanitizer report in its output
# (LeakSanitizer reports do not fail a criterion test by themselves).
#
# Skipped tests (cr_skip_test: the public ANS examples are absent, see
# th_public in tests/helpers.h) are counted apart, never as passed:
# criterion 2.4 leaves them out of its Synthesis line (Tested and Passing
# count only the tests that ran) and exits 0, so they are read from its
# TAP report, where each is "ok - suite::test  # SKIP reason".
set -u
passed=0
failed=0
skipped=0
bad_suites=""
log=${TMPDIR:-/tmp}/carnet-check.$$
tap=$log.tap
reasons=$log.reasons
: >"$reasons"
export CARNET_ROOT="$(pwd)"
if [ "${CARNET_SANITIZE:-}" = 1 ]; then
	export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
fi
for t in "$@"; do
	name=$(basename "$t")
	rm -f "$tap"
	"$t" --jobs=2 --tap="$tap" >"$log" 2>&1
	rc=$?
	synth=$(grep -E '^\[====\] Synthesis' "$log" | sed 's/.*Synthesis: //')
	tested=$(echo "$synth" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
	passing=$(echo "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	tested=${tested:-0}
	passing=${passing:-0}
	skips=0
	planned=""
	if [ -f "$tap" ]; then
		skips=$(grep -c '^ok - .*# SKIP' "$tap")
		planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | head -n 1)
		grep '^ok - .*# SKIP' "$tap" | sed 's/.*# SKIP *//' >>"$reasons"
	fi
	sanitizer=0
	if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log" >/dev/null; then
		sanitizer=1
	fi
	# every test of the plan either ran (Tested) or was skipped
	mismatch=0
	if [ "$rc" -eq 0 ] && [ "${planned:-x}" != "$((tested + skips))" ]; then
		mismatch=1
	fi
	summary="$synth$( [ "$skips" -gt 0 ] && echo "| Skipped: $skips")"
	if [ "$rc" -ne 0 ] || [ "$sanitizer" -eq 1 ] || [ "$mismatch" -eq 1 ] ||
	   [ $((tested + skips)) -eq 0 ]; then
		cat "$log"
		echo "FAIL $name: ${summary:-no synthesis}$( [ "$sanitizer" -eq 1 ] && echo ' + sanitizer report')$( [ "$mismatch" -eq 1 ] && echo " + TAP plan ${planned:-missing} is not $tested tested + $skips skipped")"
		bad_suites="$bad_suites $name"
		# a sanitizer report fails every test of the suite it came from
		if [ "$sanitizer" -eq 1 ]; then
			passing=0
		fi
	else
		echo "ok   $name: $summary"
	fi
	passed=$((passed + passing))
	failed=$((failed + tested - passing))
	skipped=$((skipped + skips))
	[ $((tested + skips)) -eq 0 ] && failed=$((failed + 1))
done
why=$(sort -u "$reasons" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')
rm -f "$log" "$tap" "$reasons"
[ -n "$bad_suites" ] && echo "failing suites:$bad_suites"
echo "$passed passed, $failed failed, $skipped skipped$( [ "$skipped" -gt 0 ] && echo " ($why)")"
[ -z "$bad_suites" ]
