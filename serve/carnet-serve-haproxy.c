/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-haproxy.c - `carnet-serve --haproxy-config N`: the HAProxy
 * 2.6 configuration of a router in front of N shards of replicas, routing
 * each request by its patient with the hash carnet_shard_of() computes. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

enum { HP_OK = 0, HP_USAGE = 2 };
#define HP_REPLICAS_MAX 16
#define HP_ADDR_MAX 256

typedef struct hp_shard {
	char addr[HP_REPLICAS_MAX][HP_ADDR_MAX];
	unsigned n;
} hp_shard;

typedef struct hp_config {
	unsigned shards;
	const char *listen;
	const char *tls_cert;   /* the frontend's PEM (certificate and key) */
	const char *backend_ca; /* the replicas' CA: HTTPS to them */
	int insecure_loopback;
	unsigned inter_ms;
	hp_shard *shard;
} hp_config;

static int hp_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int hp_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("carnet-serve: --haproxy-config: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'carnet-serve --help'.\n", stderr);
	return HP_USAGE;
}

/* HOST:PORT, [V6]:PORT: no character HAProxy's configuration gives a
 * meaning to, a port from 1 to 65535. 0 or -1. */
static int check_addr(const char *a)
{
	size_t n = strlen(a);
	if (n == 0 || n >= HP_ADDR_MAX || strpbrk(a, " \t\r\n#'\"\\$,;"))
		return -1;
	const char *colon = strrchr(a, ':');
	if (!colon || colon == a || (a[0] == '[' && colon[-1] != ']'))
		return -1;
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	return colon[1] && !*end && port >= 1 && port <= 65535 ? 0 : -1;
}

/* A loopback address: 127.0.0.0/8, [::1] or localhost. */
static int loopback(const char *a)
{
	return !strncmp(a, "127.", 4) || !strncmp(a, "[::1]:", 6) || !strncmp(a, "localhost:", 10);
}

/* --shard-server I=ADDR[,ADDR...] */
static int take_shard(hp_config *c, const char *arg)
{
	char *end;
	unsigned long i = strtoul(arg, &end, 10);
	if (end == arg || *end != '=' || arg[0] == '-')
		return hp_usage_error("--shard-server %s: I=HOST:PORT[,HOST:PORT...]", arg);
	if (i >= c->shards)
		return hp_usage_error("--shard-server %s: shard %lu of %u does not exist (0 to %u)",
				      arg, i, c->shards, c->shards - 1);
	hp_shard *s = &c->shard[i];
	for (const char *p = end + 1;; p += strcspn(p, ",") + 1) {
		size_t len = strcspn(p, ",");
		if (s->n == HP_REPLICAS_MAX)
			return hp_usage_error("--shard-server %s: at most %d replicas a shard",
					      arg, HP_REPLICAS_MAX);
		if (len >= HP_ADDR_MAX)
			return hp_usage_error("--shard-server %s: an address too long", arg);
		memcpy(s->addr[s->n], p, len);
		s->addr[s->n][len] = '\0';
		if (check_addr(s->addr[s->n]))
			return hp_usage_error("--shard-server %s: '%s' is not HOST:PORT", arg,
					      s->addr[s->n]);
		s->n++;
		if (!p[len])
			return 0;
	}
}

enum { H_CONFIG = 300, H_LISTEN, H_SHARD, H_CERT, H_CA, H_INSECURE, H_INTER };

static const struct option hp_opts[] = {
	{ "haproxy-config", 1, 0, H_CONFIG }, { "listen", 1, 0, H_LISTEN },
	{ "shard-server", 1, 0, H_SHARD }, { "tls-cert", 1, 0, H_CERT },
	{ "backend-ca", 1, 0, H_CA }, { "insecure-loopback", 0, 0, H_INSECURE },
	{ "check-interval", 1, 0, H_INTER }, { 0, 0, 0, 0 },
};

/* Every shard has a replica; HTTPS or loopback on both sides. */
static int check_config(const hp_config *c)
{
	if (!c->listen)
		return hp_usage_error("%s", "--listen ADDR:PORT is required");
	if (check_addr(c->listen))
		return hp_usage_error("--listen %s: not ADDR:PORT", c->listen);
	for (unsigned i = 0; i < c->shards; i++)
		if (!c->shard[i].n)
			return hp_usage_error("shard %u has no replica (--shard-server %u=HOST:PORT)",
					      i, i);
	if (c->insecure_loopback && (c->tls_cert || c->backend_ca))
		return hp_usage_error("%s", "--insecure-loopback is for plain HTTP, without "
				      "--tls-cert or --backend-ca");
	if (!c->insecure_loopback && (!c->tls_cert || !c->backend_ca))
		return hp_usage_error("%s", "refusing plain HTTP: give --tls-cert PEM and "
				      "--backend-ca FILE (or --insecure-loopback on loopback "
				      "addresses only)");
	if (c->insecure_loopback) {
		int ok = loopback(c->listen);
		for (unsigned i = 0; i < c->shards; i++)
			for (unsigned r = 0; r < c->shard[i].n; r++)
				ok &= loopback(c->shard[i].addr[r]);
		if (!ok)
			return hp_usage_error("%s", "--insecure-loopback: every address must be "
					      "a loopback one (127.0.0.0/8, [::1], localhost)");
	}
	if ((c->tls_cert && strpbrk(c->tls_cert, " \t\n'\"#$\\")) ||
	    (c->backend_ca && strpbrk(c->backend_ca, " \t\n'\"#$\\")))
		return hp_usage_error("%s", "a file name with a space, quote, '#', '$' or "
				      "backslash cannot be written in the configuration");
	return 0;
}

static int parse(hp_config *c, int argc, char **argv)
{
	int o;
	char *end;
	unsigned long n;
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", hp_opts, NULL)) != -1) {
		int rc = 0;
		switch (o) {
		case H_CONFIG: break; /* read before */
		case H_LISTEN: c->listen = optarg; break;
		case H_SHARD: rc = take_shard(c, optarg); break;
		case H_CERT: c->tls_cert = optarg; break;
		case H_CA: c->backend_ca = optarg; break;
		case H_INSECURE: c->insecure_loopback = 1; break;
		case H_INTER:
			n = strtoul(optarg, &end, 10);
			if (end == optarg || *end || optarg[0] == '-' || n < 100 || n > 60000)
				return hp_usage_error("--check-interval %s: milliseconds, "
						      "from 100 to 60000", optarg);
			c->inter_ms = (unsigned)n;
			break;
		default:
			return hp_usage_error("unknown option, or option without its "
					      "argument: %s", argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return hp_usage_error("unexpected argument %s", argv[optind]);
	return check_config(c);
}

/* An OperationOutcome in one line, for a single-quoted HAProxy string. */
static void outcome(char *out, size_t size, const char *code, const char *diagnostics)
{
	snprintf(out, size,
		 "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
		 "\"code\":\"%s\",\"diagnostics\":\"%s\"}]}", code, diagnostics);
}

static void print_head(const hp_config *c)
{
	char bad[400];
	outcome(bad, sizeof bad, "required",
		"patient.identifier (urn:oid:OID|ID) is required: it names the shard");
	printf("# HAProxy 2.6 configuration of the carnet router, written by\n"
	       "# carnet-serve --haproxy-config %u (carnet %s): %u shards, each request\n"
	       "# routed by its patient as carnet_shard_of() does; see carnet-serve(1).\n"
	       "global\n"
	       "\tmaxconn 4096\n"
	       "\tlog stderr format raw local0\n"
	       "\n"
	       "defaults\n"
	       "\tmode http\n"
	       "\tlog global\n"
	       "\t# the path only: a query string names a patient\n"
	       "\tlog-format \"%%ci:%%cp [%%tr] %%ft %%b/%%s %%TR/%%Tw/%%Tc/%%Tr/%%Ta %%ST %%B "
	       "%%tsc %%ac/%%fc/%%bc/%%sc/%%rc %%sq/%%bq %%HM %%HPO\"\n"
	       "\toption dontlognull\n"
	       "\ttimeout connect 1s\n"
	       "\ttimeout client 30s\n"
	       "\ttimeout server 30s\n"
	       "\ttimeout http-request 10s\n"
	       "\ttimeout queue 5s\n"
	       "\ttimeout check 2s\n"
	       "\t# every request is a GET: retried on another replica when one\n"
	       "\t# fails, so that a replica dying fails no request\n"
	       "\tretries 3\n"
	       "\toption redispatch 1\n"
	       "\tretry-on conn-failure empty-response junk-response response-timeout "
	       "500 502 503 504\n"
	       "\t# at most 100 connections to a replica from each backend (a\n"
	       "\t# replica is in its shard's and in any): 200, below carnet-serve's\n"
	       "\t# --max-connections 256; more requests wait in HAProxy's queue\n"
	       "\tdefault-server inter %ums fastinter %ums downinter %ums fall 2 rise 2 "
	       "maxconn 100\n"
	       "\n"
	       "frontend carnet\n",
	       c->shards, CARNET_VERSION_STRING, c->shards, c->inter_ms, c->inter_ms / 4 + 1,
	       c->inter_ms);
	if (c->tls_cert)
		printf("\tbind %s ssl crt %s alpn http/1.1\n", c->listen, c->tls_cert);
	else
		printf("\tbind %s\n", c->listen);
	printf("\t# the requests about one patient: ITI-67, ITI-68, $lastn\n"
	       "\tacl routed path /fhir/DocumentReference '/fhir/Observation/$lastn'\n"
	       "\tacl routed path_beg /fhir/Binary/\n"
	       "\t# the id of patient.identifier (system|id, or id), as carnet hashes it\n"
	       "\thttp-request set-var(txn.patient) url_param(patient.identifier),url_dec "
	       "if routed\n"
	       "\thttp-request set-var(txn.patient) var(txn.patient),field(2,|) "
	       "if routed { var(txn.patient) -m sub | }\n"
	       "\thttp-request return status 400 content-type application/fhir+json "
	       "string '%s' if routed !{ var(txn.patient) -m reg . }\n"
	       "\tuse_backend shard%%[var(txn.patient),upper,xxh32(0),mod(%u)] if routed\n"
	       "\t# what names no patient (metadata, the page, /healthz): any replica\n"
	       "\tdefault_backend any\n",
	       bad, c->shards);
}

/* One server line: its checks, and TLS to it when asked. */
static void print_server(const hp_config *c, const char *name, const char *addr,
			 const char *track)
{
	printf("\tserver %s %s", name, addr);
	if (track)
		printf(" track %s", track);
	else
		printf(" check");
	if (c->backend_ca)
		printf(" ssl verify required ca-file %s", c->backend_ca);
	putchar('\n');
}

static void print_backends(const hp_config *c)
{
	for (unsigned i = 0; i < c->shards; i++) {
		char why[200], body[400];
		snprintf(why, sizeof why, "shard %u of %u: no replica of this shard is available",
			 i, c->shards);
		outcome(body, sizeof body, "transient", why);
		printf("\nbackend shard%u\n"
		       "\tbalance roundrobin\n"
		       "\toption httpchk\n"
		       "\thttp-check send meth GET uri /healthz ver HTTP/1.1 hdr Host carnet\n"
		       "\thttp-check expect status 200\n",
		       i);
		for (unsigned status = 502; status <= 504; status++)
			printf("\thttp-error status %u content-type application/fhir+json "
			       "string '%s'\n", status, body);
		for (unsigned r = 0; r < c->shard[i].n; r++) {
			char name[32];
			snprintf(name, sizeof name, "r%u", r);
			print_server(c, name, c->shard[i].addr[r], NULL);
		}
	}
	char body[400];
	outcome(body, sizeof body, "transient", "no replica of any shard is available");
	printf("\nbackend any\n"
	       "\tbalance roundrobin\n"
	       "\thttp-error status 503 content-type application/fhir+json string '%s'\n",
	       body);
	for (unsigned i = 0; i < c->shards; i++)
		for (unsigned r = 0; r < c->shard[i].n; r++) {
			char name[32], track[48];
			snprintf(name, sizeof name, "s%ur%u", i, r);
			snprintf(track, sizeof track, "shard%u/r%u", i, r);
			print_server(c, name, c->shard[i].addr[r], track);
		}
}

int serve_haproxy_main(int argc, char **argv)
{
	const char *count = NULL;
	for (int i = 1; i < argc && !count; i++) {
		if (!strcmp(argv[i], "--haproxy-config"))
			count = i + 1 < argc ? argv[i + 1] : "";
		else if (!strncmp(argv[i], "--haproxy-config=", 17))
			count = argv[i] + 17;
	}
	char *end;
	unsigned long n = count ? strtoul(count, &end, 10) : 0;
	if (!count || end == count || *end || count[0] == '-' || n < 1 || n > CARNET_SHARD_COUNT_MAX)
		return hp_usage_error("the number of shards, from 1 to %d, follows --haproxy-config",
				      CARNET_SHARD_COUNT_MAX);
	hp_config c = { .shards = (unsigned)n, .inter_ms = 1000 };
	if (!(c.shard = calloc(n, sizeof *c.shard))) {
		fputs("carnet-serve: out of memory\n", stderr);
		return 3;
	}
	int rc = parse(&c, argc, argv);
	if (!rc) {
		print_head(&c);
		print_backends(&c);
		if (fflush(stdout) || ferror(stdout)) {
			fputs("carnet-serve: --haproxy-config: cannot write the configuration\n",
			      stderr);
			rc = 3;
		}
	}
	free(c.shard);
	return rc;
}
