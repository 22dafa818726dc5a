/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve.c - the service: one patient's documents, ranked for the
 * professional asking, over FHIR R4 (IHE MHD ITI-67 and ITI-68) and HTTPS,
 * the caller named by a bearer JWT. Uses the public API only. This file:
 * options, startup checks, signals and the drain. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "serve.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_FAILURE_ = 3 };

static void usage(FILE *f)
{
	fputs("usage: carnet-serve --index DIR --listen ADDR:PORT --jwks FILE --issuer ISS\n"
	      "                    --audience AUD (--tls-cert FILE --tls-key FILE\n"
	      "                    [--client-ca FILE] | --insecure-loopback) [OPTIONS]\n"
	      "  --index DIR         index home\n"
	      "  --listen ADDR:PORT  numeric address and port ([::1]:PORT for IPv6;\n"
	      "                      port 0: any free port, printed on stdout)\n"
	      "  --jwks FILE         the keys tokens are signed with (RS256, ES256)\n"
	      "  --issuer ISS --audience AUD  what the token's iss and aud must be\n"
	      "  --tls-cert FILE --tls-key FILE  HTTPS certificate and key (PEM)\n"
	      "  --client-ca FILE    require a client certificate signed by this CA\n"
	      "  --insecure-loopback plain HTTP, only on a loopback address\n"
	      "  --threads N         worker threads (default 4)\n"
	      "  --max-connections N (default 256)  --timeout SECONDS (default 30)\n"
	      "  --memory-limit BYTES per connection, bounding URL and headers\n"
	      "                      (default 65536)\n"
	      "  --base-url URL      the public URL of the service (default from --listen)\n"
	      "  --refusal-log-rate N  access-log rows a second for refusals before a\n"
	      "                      token is verified (default 20; 0: every one); the\n"
	      "                      others are counted in one row\n"
	      "  --claim-viewer PATH --claim-profession PATH --claim-specialty PATH\n"
	      "  --claim-role PATH --claim-patient PATH  where the token's claims are\n"
	      "                      (defaults: Pro Santé Connect's, see carnet-serve(1))\n"
	      "   or: carnet-serve --haproxy-config N --listen ADDR:PORT\n"
	      "                    --shard-server I=HOST:PORT[,HOST:PORT...] (each shard)\n"
	      "                    (--tls-cert PEM --backend-ca FILE | --insecure-loopback)\n"
	      "                    [--check-interval MS]\n"
	      "                      print the HAProxy configuration of a router in front\n"
	      "                      of N shards of replicas (see carnet-serve(1))\n"
	      "exit status: 0 after SIGTERM or SIGINT, 2 usage error (including plain\n"
	      "HTTP refused), 3 failure (index, keys, certificate, address)\n",
	      f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("carnet-serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'carnet-serve --help'.\n", stderr);
	return EXIT_USAGE;
}

static int number(const char *arg, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);
	if (!*arg || *end || arg[0] == '-' || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

enum { O_INDEX = 256, O_LISTEN, O_JWKS, O_ISSUER, O_AUDIENCE, O_CERT, O_KEY, O_CA,
       O_INSECURE, O_THREADS, O_MAXCONN, O_TIMEOUT, O_MEMORY, O_BASE, O_C_VIEWER,
       O_C_PROFESSION, O_C_SPECIALTY, O_C_ROLE, O_C_PATIENT, O_REFUSALS };

static const struct option longopts[] = {
	{ "index", 1, 0, O_INDEX }, { "listen", 1, 0, O_LISTEN }, { "jwks", 1, 0, O_JWKS },
	{ "issuer", 1, 0, O_ISSUER }, { "audience", 1, 0, O_AUDIENCE },
	{ "tls-cert", 1, 0, O_CERT }, { "tls-key", 1, 0, O_KEY }, { "client-ca", 1, 0, O_CA },
	{ "insecure-loopback", 0, 0, O_INSECURE }, { "threads", 1, 0, O_THREADS },
	{ "max-connections", 1, 0, O_MAXCONN }, { "timeout", 1, 0, O_TIMEOUT },
	{ "memory-limit", 1, 0, O_MEMORY }, { "base-url", 1, 0, O_BASE },
	{ "claim-viewer", 1, 0, O_C_VIEWER }, { "claim-profession", 1, 0, O_C_PROFESSION },
	{ "claim-specialty", 1, 0, O_C_SPECIALTY }, { "claim-role", 1, 0, O_C_ROLE },
	{ "claim-patient", 1, 0, O_C_PATIENT }, { "refusal-log-rate", 1, 0, O_REFUSALS },
	{ "help", 0, 0, 'h' }, { "version", 0, 0, 'V' },
	{ 0, 0, 0, 0 },
};

/* One option into cfg; returns 0 or a usage error's exit status. */
static int take_option(serve_config *cfg, int c, const char *arg)
{
	unsigned long n;
	switch (c) {
	case O_INDEX: cfg->index = arg; return 0;
	case O_LISTEN: cfg->listen = arg; return 0;
	case O_JWKS: cfg->jwks = arg; return 0;
	case O_ISSUER: cfg->issuer = arg; return 0;
	case O_AUDIENCE: cfg->audience = arg; return 0;
	case O_CERT: cfg->tls_cert = arg; return 0;
	case O_KEY: cfg->tls_key = arg; return 0;
	case O_CA: cfg->client_ca = arg; return 0;
	case O_INSECURE: cfg->insecure_loopback = 1; return 0;
	case O_BASE: cfg->base_url = arg; return 0;
	case O_C_VIEWER: cfg->claims.viewer_id = arg; return 0;
	case O_C_PROFESSION: cfg->claims.profession = arg; return 0;
	case O_C_SPECIALTY: cfg->claims.specialty = arg; return 0;
	case O_C_ROLE: cfg->claims.role = arg; return 0;
	case O_C_PATIENT: cfg->claims.patient = arg; return 0;
	case O_THREADS:
		if (number(arg, 1, 256, &n))
			return usage_error("--threads %s: a number from 1 to 256", arg);
		cfg->threads = (unsigned)n;
		return 0;
	case O_MAXCONN:
		if (number(arg, 1, 100000, &n))
			return usage_error("--max-connections %s: a number from 1 to 100000", arg);
		cfg->max_connections = (unsigned)n;
		return 0;
	case O_TIMEOUT:
		if (number(arg, 1, 3600, &n))
			return usage_error("--timeout %s: seconds, from 1 to 3600", arg);
		cfg->timeout_seconds = (unsigned)n;
		return 0;
	case O_MEMORY:
		if (number(arg, 8192, 16 << 20, &n))
			return usage_error("--memory-limit %s: bytes, from 8192 to 16777216", arg);
		cfg->memory_limit = n;
		return 0;
	case O_REFUSALS:
		if (number(arg, 0, 100000, &n))
			return usage_error("--refusal-log-rate %s: rows a second, from 0 to 100000",
					   arg);
		cfg->refusal_log_rate = (unsigned)n;
		return 0;
	}
	return EXIT_USAGE;
}

static int parse_options(serve_config *cfg, int argc, char **argv)
{
	int c, rc;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(EXIT_OK);
		}
		if (c == 'V') {
			printf("carnet-serve %s\n", CARNET_VERSION_STRING);
			exit(EXIT_OK);
		}
		if (c == '?' || c == ':')
			return usage_error("unknown option, or option without its argument: %s",
					   argv[optind - 1]);
		if ((rc = take_option(cfg, c, optarg)))
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument %s", argv[optind]);
	const char *missing = !cfg->index ? "--index" : !cfg->listen ? "--listen"
			      : !cfg->jwks ? "--jwks" : !cfg->issuer ? "--issuer"
			      : !cfg->audience ? "--audience" : NULL;
	if (missing)
		return usage_error("%s is required", missing);
	if (!cfg->tls_cert != !cfg->tls_key)
		return usage_error("%s", "--tls-cert and --tls-key go together");
	if (cfg->tls_cert && cfg->insecure_loopback)
		return usage_error("%s", "--insecure-loopback is for plain HTTP, without --tls-cert");
	if (cfg->client_ca && !cfg->tls_cert)
		return usage_error("%s", "--client-ca needs --tls-cert and --tls-key");
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strncmp(argv[i], "--haproxy-config", 16) &&
		    (argv[i][16] == '\0' || argv[i][16] == '='))
			return serve_haproxy_main(argc, argv);
	serve_config cfg = {
		.threads = 4, .max_connections = 256, .timeout_seconds = 30,
		.memory_limit = 64 * 1024, .refusal_log_rate = 20,
		.claims = { "SubjectNameID", "SubjectRefPro.exercices[0].codeProfession",
			    "SubjectRefPro.exercices[0].codeSavoirFaire", "role",
			    "patient_identifier" },
	};
	int rc = parse_options(&cfg, argc, argv);
	if (rc)
		return rc;
	char why[600];
	carnet_error err;
	carnet_index *idx;
	if (carnet_index_open(&idx, cfg.index, &err)) {
		fprintf(stderr, "carnet-serve: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	carnet_index_close(idx);
	serve_keys *keys;
	if (serve_keys_load(&keys, cfg.jwks, why, sizeof why)) {
		fprintf(stderr, "carnet-serve: %s\n", why);
		return EXIT_FAILURE_;
	}
	/* the workers inherit this mask: the signals come to sigwait alone */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	serve_server *srv;
	if (serve_start(&srv, &cfg, keys, why, sizeof why)) {
		fprintf(stderr, "carnet-serve: %s\n", why);
		serve_keys_free(keys);
		return strncmp(why, "refusing plain HTTP", 19) == 0 ? EXIT_USAGE : EXIT_FAILURE_;
	}
	int sig = 0;
	sigwait(&stop, &sig);
	fprintf(stderr, "carnet-serve: %s: finishing the requests in flight\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
	serve_stop(srv, 10);
	serve_keys_free(keys);
	return EXIT_OK;
}
