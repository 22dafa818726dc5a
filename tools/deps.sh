#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# deps.sh - install the Debian 12 packages carnet needs to build and test,
# when they are missing (scdoc builds the man pages; groff, man-db and
# mandoc check them; logrotate checks the logrotate file; nettle-dev gives
# nettle, whose SHA-256 chains the access log (GnuTLS's hashes: small and
# with nothing to initialise, where OpenSSL 3's libcrypto cost every viewer
# process some 5 ms to load and set up); libzstd-dev compresses the text
# an index keeps for snippets; libjemalloc-dev is carnet-index's allocator
# (indexer/carnet-index-alloc.c says why); python3 runs make lint's size
# check and the generators in tools/; haproxy routes requests between
# shards, and test_shard checks that it picks the shard carnet does;
# carnet-serve is built on libmicrohttpd (with GnuTLS) and libcjose (JOSE
# tokens), and its tests use libcurl and the openssl command; chromium and
# chromium-driver run the page's test, headless).
# Run as root (or: sudo sh tools/deps.sh).
set -eu
PACKAGES="build-essential pkg-config libxapian-dev libicu-dev libsqlite3-dev
libjansson-dev libxxhash-dev libxml2-dev libpoppler-glib-dev libcriterion-dev libzstd-dev
scdoc groff-base man-db mandoc logrotate nettle-dev python3 haproxy
libjemalloc-dev libmicrohttpd-dev libcjose-dev libgnutls28-dev libcurl4-gnutls-dev openssl
chromium chromium-driver"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	exit 0
fi
echo "deps.sh: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps.sh: not root; run as root: apt-get update && apt-get install -y$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
