#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# loopback-cert.sh DIR - a throwaway CA (DIR/ca.pem, ca.key) and a server
# certificate for 127.0.0.1 signed by it (DIR/srv.pem, srv.key), valid one
# day, EC P-256, for carnet-serve over HTTPS on loopback (make bench, make
# tsan-serve). openssl's output goes to DIR/openssl.log; exit 1 on failure.
set -u
D=$1
printf 'subjectAltName=IP:127.0.0.1\n' > "$D/ext.cnf"
{ openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$D/ca.key" -out "$D/ca.pem" -subj /CN=carnet-loopback-ca -days 1 &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$D/srv.key" \
	-out "$D/srv.csr" -subj /CN=127.0.0.1 &&
  openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
	-out "$D/srv.pem" -days 1 -extfile "$D/ext.cnf"; } > "$D/openssl.log" 2>&1
