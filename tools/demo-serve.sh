#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# demo-serve.sh - carnet-serve over the demo index (make demo made it), on
# loopback, with a demo key: prints the page's URL for a cardiologist and an
# ophthalmologist (their tokens in the URL's fragment), and serves until
# Ctrl-C. Plain HTTP, loopback only: for a demo, never for real use.
set -eu
build=${1:-build}
port=${CARNET_DEMO_PORT:-8808}
idx=$build/demo.idx
keys=$build/demo-keys
[ -d "$idx" ] || { echo "demo-serve: no $idx: run make demo first" >&2; exit 2; }
patient="urn:oid:1.2.250.1.213.1.4.8|280096912304532"
cardio=$("$build/carnet-demo-token" "$keys" --specialty SM04 --rpps 10009999901)
ophtalmo=$("$build/carnet-demo-token" "$keys" --specialty SM38 --rpps 10009999902)
enc=$(printf '%s' "$patient" | sed 's/|/%7C/; s/:/%3A/g')
echo "The record of the sample's patient 2, as each viewer sees it (open one in a browser):"
echo "  cardiologist:    http://127.0.0.1:$port/#patient=$enc&token=$cardio"
echo "  ophthalmologist: http://127.0.0.1:$port/#patient=$enc&token=$ophtalmo"
echo "(tokens valid 8 hours; Ctrl-C stops the service)"
exec "$build/carnet-serve" --index "$idx" --listen "127.0.0.1:$port" --jwks "$keys/jwks.json" \
	--issuer carnet-demo --audience carnet --insecure-loopback
